//! Quotas (Neutron's quota API and its checks): a limit per project and resource, the
//! configured default unless set; creates count the project's resources inside their write
//! transaction and are refused with 409 OverQuota past the limit.

use crate::db::{Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::NetworkService;
use std::collections::BTreeMap;

/// The resources quotas cover, in Neutron's names.
pub const RESOURCES: &[&str] = &[
    "network",
    "subnet",
    "port",
    "router",
    "floatingip",
    "security_group",
    "security_group_rule",
];

/// The configured default limit of `resource`.
pub fn default_limit(svc: &NetworkService, resource: &str) -> i64 {
    let n = &svc.config.network;
    match resource {
        "network" => n.quota_network,
        "subnet" => n.quota_subnet,
        "port" => n.quota_port,
        "router" => n.quota_router,
        "floatingip" => n.quota_floatingip,
        "security_group" => n.quota_security_group,
        "security_group_rule" => n.quota_security_group_rule,
        _ => -1,
    }
}

/// The defaults of every resource.
pub fn defaults(svc: &NetworkService) -> BTreeMap<String, i64> {
    RESOURCES
        .iter()
        .map(|r| (r.to_string(), default_limit(svc, r)))
        .collect()
}

/// The limits of a project: its own where set, the defaults elsewhere.
pub async fn limits(
    svc: &NetworkService,
    tx: &mut Tx,
    project_id: &str,
) -> NeutronResult<BTreeMap<String, i64>> {
    let mut out = defaults(svc);
    for row in tx
        .fetch_all(
            "SELECT resource, hard_limit FROM quotas WHERE project_id = ?",
            &[Bind::Text(project_id)],
        )
        .await?
    {
        out.insert(row.s("resource")?, row.i("hard_limit")?);
    }
    Ok(out)
}

/// Projects with limits of their own.
pub async fn projects_with_limits(tx: &mut Tx) -> NeutronResult<Vec<String>> {
    let rows = tx
        .fetch_all(
            "SELECT DISTINCT project_id FROM quotas ORDER BY project_id",
            &[],
        )
        .await?;
    rows.iter().map(|r| r.s("project_id")).collect()
}

pub async fn set(tx: &mut Tx, project_id: &str, resource: &str, limit: i64) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM quotas WHERE project_id = ? AND resource = ?",
        &[Bind::Text(project_id), Bind::Text(resource)],
    )
    .await?;
    tx.exec(
        "INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)",
        &[
            Bind::Text(project_id),
            Bind::Text(resource),
            Bind::Int(limit),
        ],
    )
    .await?;
    Ok(())
}

pub async fn reset(tx: &mut Tx, project_id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM quotas WHERE project_id = ?",
        &[Bind::Text(project_id)],
    )
    .await?;
    Ok(())
}

/// How many of `resource` the project has.
pub async fn usage(tx: &mut Tx, project_id: &str, resource: &str) -> NeutronResult<i64> {
    let table = match resource {
        "network" => "networks",
        "subnet" => "subnets",
        "port" => "ports",
        "router" => "routers",
        "floatingip" => "floatingips",
        "security_group" => "security_groups",
        "security_group_rule" => "security_group_rules",
        _ => return Ok(0),
    };
    let row = tx
        .fetch_optional(
            &tx.latest(&format!(
                "SELECT COUNT(*) AS n FROM {table} WHERE project_id = ?"
            )),
            &[Bind::Text(project_id)],
        )
        .await?;
    match row {
        Some(r) => r.i("n"),
        None => Ok(0),
    }
}

/// 409 OverQuota unless the project may have `adding` more of `resource`.
pub async fn check(
    svc: &NetworkService,
    tx: &mut Tx,
    project_id: &str,
    resource: &str,
    adding: i64,
) -> NeutronResult<()> {
    let limit = match tx
        .fetch_optional(
            "SELECT hard_limit FROM quotas WHERE project_id = ? AND resource = ?",
            &[Bind::Text(project_id), Bind::Text(resource)],
        )
        .await?
    {
        Some(r) => r.i("hard_limit")?,
        None => default_limit(svc, resource),
    };
    if limit < 0 {
        return Ok(());
    }
    if usage(tx, project_id, resource).await? + adding > limit {
        return Err(NeutronError::conflict(
            "OverQuota",
            format!("Quota exceeded for resources: ['{resource}']."),
        ));
    }
    Ok(())
}
