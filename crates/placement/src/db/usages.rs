//! Usage sums over allocations: per provider, and per project/user/consumer type.

use super::{fetch_all, Bind, Tx};
use crate::error::PlacementResult;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

/// Sum of allocations on `uuid` per resource class, within a write transaction.
pub async fn of_provider_in(tx: &mut Tx, uuid: &str) -> PlacementResult<BTreeMap<String, i64>> {
    let rows = tx.fetch_all("SELECT resource_class, CAST(SUM(used) AS BIGINT) AS used FROM allocations WHERE provider_uuid = ? GROUP BY resource_class", &[Bind::Text(uuid)]).await?;
    rows.iter().map(|r| Ok((r.text("resource_class")?, r.int("used")?))).collect()
}

/// Usage of `uuid`: every class it has inventory of (0 when unused) and any class still
/// allocated without inventory.
pub async fn of_provider(db: &Database, uuid: &str) -> PlacementResult<BTreeMap<String, i64>> {
    let mut usages: BTreeMap<String, i64> = BTreeMap::new();
    for r in fetch_all(db, "SELECT resource_class FROM inventories WHERE provider_uuid = ?", &[Bind::Text(uuid)]).await? {
        usages.insert(r.text("resource_class")?, 0);
    }
    let rows = fetch_all(db, "SELECT resource_class, CAST(SUM(used) AS BIGINT) AS used FROM allocations WHERE provider_uuid = ? GROUP BY resource_class", &[Bind::Text(uuid)]).await?;
    for r in rows {
        usages.insert(r.text("resource_class")?, r.int("used")?);
    }
    Ok(usages)
}

/// One row of project usage: consumer type (None = unknown), class, sum, consumers.
pub struct ProjectUsage {
    pub consumer_type: Option<String>,
    pub resource_class: String,
    pub used: i64,
    pub consumers: i64,
}

/// Usage of a project (and user), grouped by consumer type and class.
pub async fn of_project(db: &Database, project_id: &str, user_id: Option<&str>) -> PlacementResult<Vec<ProjectUsage>> {
    let mut sql = String::from(
        "SELECT c.consumer_type AS consumer_type, a.resource_class AS resource_class, CAST(SUM(a.used) AS BIGINT) AS used, COUNT(DISTINCT a.consumer_uuid) AS consumers \
         FROM allocations a JOIN consumers c ON c.uuid = a.consumer_uuid WHERE c.project_id = ?",
    );
    let mut binds = vec![Bind::Text(project_id)];
    if let Some(u) = user_id {
        sql.push_str(" AND c.user_id = ?");
        binds.push(Bind::Text(u));
    }
    sql.push_str(" GROUP BY c.consumer_type, a.resource_class");
    let rows = fetch_all(db, &sql, &binds).await?;
    rows.iter()
        .map(|r| {
            Ok(ProjectUsage {
                consumer_type: r.opt_text("consumer_type")?,
                resource_class: r.text("resource_class")?,
                used: r.int("used")?,
                consumers: r.int("consumers")?,
            })
        })
        .collect()
}

/// How many consumers of the project (and user) have allocations, per consumer type.
pub async fn consumer_counts(db: &Database, project_id: &str, user_id: Option<&str>) -> PlacementResult<Vec<(Option<String>, i64)>> {
    let mut sql = String::from(
        "SELECT c.consumer_type AS consumer_type, COUNT(DISTINCT c.uuid) AS consumers FROM consumers c \
         WHERE c.project_id = ? AND EXISTS (SELECT 1 FROM allocations a WHERE a.consumer_uuid = c.uuid)",
    );
    let mut binds = vec![Bind::Text(project_id)];
    if let Some(u) = user_id {
        sql.push_str(" AND c.user_id = ?");
        binds.push(Bind::Text(u));
    }
    sql.push_str(" GROUP BY c.consumer_type");
    let rows = fetch_all(db, &sql, &binds).await?;
    rows.iter().map(|r| Ok((r.opt_text("consumer_type")?, r.int("consumers")?))).collect()
}
