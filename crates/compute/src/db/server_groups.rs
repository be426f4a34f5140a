//! Server groups (Nova's instance groups): a scheduling policy, its rules, and the servers in
//! the group. The servers API adds members at create time through [`add_members`], which
//! enforces the `server_group_members` quota.

use super::ids::insert_with_next_id;
use crate::quota::{self, UNLIMITED};
use crate::ComputeService;
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct ServerGroup {
    pub id: i64,
    pub uuid: String,
    pub name: Option<String>,
    pub project_id: String,
    pub user_id: String,
    /// affinity, anti-affinity, soft-affinity or soft-anti-affinity.
    pub policy: String,
    /// `{"max_server_per_host": n}` for anti-affinity groups, else empty.
    pub rules: Map<String, Value>,
    pub created_at: i64,
    /// Every instance uuid recorded as a member (deleted servers included; see [`live_members`]).
    pub members: Vec<String>,
}

const COLUMNS: &str = "id, uuid, name, project_id, user_id, policy, rules, created_at";

fn from_row(row: &AnyRow) -> Result<ServerGroup, ApiError> {
    Ok(ServerGroup {
        id: row.int("id")?,
        uuid: row.text("uuid")?,
        name: row.opt_text("name")?,
        project_id: row.text("project_id")?,
        user_id: row.text("user_id")?,
        policy: row.text("policy")?,
        rules: row.json("rules")?,
        created_at: row.int("created_at")?,
        members: Vec::new(),
    })
}

async fn load_members(db: &Database, groups: &mut [ServerGroup]) -> Result<(), ApiError> {
    if groups.is_empty() {
        return Ok(());
    }
    let index: BTreeMap<i64, usize> = groups.iter().enumerate().map(|(i, g)| (g.id, i)).collect();
    let rows = sqlx::query("SELECT group_id, instance_uuid FROM instance_group_members ORDER BY instance_uuid").fetch_all(&db.pool).await?;
    for row in rows {
        if let Some(&i) = index.get(&row.int("group_id")?) {
            groups[i].members.push(row.text("instance_uuid")?);
        }
    }
    Ok(())
}

/// Creates a group; returns it.
pub async fn create(db: &Database, name: Option<&str>, project_id: &str, user_id: &str, policy: &str, rules: &Map<String, Value>) -> Result<ServerGroup, ApiError> {
    let uuid = uuid::Uuid::new_v4().to_string();
    let now = now_micros();
    let rules_text = Value::Object(rules.clone()).to_string();
    let sql = db.sql("INSERT INTO instance_groups (id, uuid, name, project_id, user_id, policy, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    let id = insert_with_next_id(db, "instance_groups", |id| {
        let q = sqlx::query(&sql)
            .bind(id)
            .bind(uuid.clone())
            .bind(name.map(str::to_string))
            .bind(project_id.to_string())
            .bind(user_id.to_string())
            .bind(policy.to_string())
            .bind(rules_text.clone())
            .bind(now);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await?;
    Ok(ServerGroup {
        id,
        uuid,
        name: name.map(str::to_string),
        project_id: project_id.into(),
        user_id: user_id.into(),
        policy: policy.into(),
        rules: rules.clone(),
        created_at: now,
        members: Vec::new(),
    })
}

pub async fn get(db: &Database, uuid: &str) -> Result<Option<ServerGroup>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM instance_groups WHERE uuid = ?");
    let Some(row) = sqlx::query(&db.sql(&sql)).bind(uuid.to_string()).fetch_optional(&db.pool).await? else { return Ok(None) };
    let mut one = vec![from_row(&row)?];
    load_members(db, &mut one).await?;
    Ok(one.pop())
}

/// The groups of a project (every group when None), by id.
pub async fn list(db: &Database, project_id: Option<&str>) -> Result<Vec<ServerGroup>, ApiError> {
    let mut groups = match project_id {
        Some(p) => {
            let sql = format!("SELECT {COLUMNS} FROM instance_groups WHERE project_id = ? ORDER BY id");
            sqlx::query(&db.sql(&sql)).bind(p.to_string()).fetch_all(&db.pool).await?
        }
        None => sqlx::query(&format!("SELECT {COLUMNS} FROM instance_groups ORDER BY id")).fetch_all(&db.pool).await?,
    }
    .iter()
    .map(from_row)
    .collect::<Result<Vec<_>, _>>()?;
    load_members(db, &mut groups).await?;
    Ok(groups)
}

/// Deletes a group and its membership records; false when there was none.
pub async fn delete(db: &Database, uuid: &str) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    let Some(row) = sqlx::query(&db.sql("SELECT id FROM instance_groups WHERE uuid = ?")).bind(uuid.to_string()).fetch_optional(&mut *tx).await? else {
        return Ok(false);
    };
    let id = row.int("id")?;
    sqlx::query(&db.sql("DELETE FROM instance_group_members WHERE group_id = ?")).bind(id).execute(&mut *tx).await?;
    sqlx::query(&db.sql("DELETE FROM instance_groups WHERE id = ?")).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// Of `uuids`, the instances that exist and are not deleted (what Nova shows as members).
pub async fn live_members(db: &Database, uuids: &[String]) -> Result<Vec<String>, ApiError> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; uuids.len()].join(", ");
    let sql = format!("SELECT uuid FROM instances WHERE deleted = 0 AND uuid IN ({marks})");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for u in uuids {
        q = q.bind(u.clone());
    }
    let live: std::collections::BTreeSet<String> = q.fetch_all(&db.pool).await?.iter().map(|r| r.text("uuid")).collect::<Result<_, _>>()?;
    Ok(uuids.iter().filter(|u| live.contains(*u)).cloned().collect())
}

/// How many of the group's members belong to `user_id` and are not deleted. Members whose
/// instance row does not exist yet (being created) count too.
async fn members_of_user(db: &Database, group_id: i64, user_id: &str) -> Result<i64, ApiError> {
    let sql = "SELECT COUNT(*) FROM instance_group_members m LEFT JOIN instances i ON i.uuid = m.instance_uuid \
               WHERE m.group_id = ? AND (i.uuid IS NULL OR (i.deleted = 0 AND i.user_id = ?))";
    let (n,): (i64,) = sqlx::query_as(&db.sql(sql)).bind(group_id).bind(user_id.to_string()).fetch_one(&db.pool).await?;
    Ok(n)
}

/// Adds servers of `user_id` (in `project_id`) to the group `group_uuid`, refusing with Nova's
/// 403 when the group would hold more of the user's servers than the `server_group_members`
/// quota allows. Concurrent additions to one group are serialised, so two creates cannot
/// both take the last place.
pub async fn add_members(svc: &ComputeService, group_uuid: &str, instance_uuids: &[String], project_id: &str, user_id: &str) -> Result<(), ApiError> {
    let _lock = svc.quota_locks.lock(&format!("server-group:{group_uuid}")).await;
    let group = get(&svc.db, group_uuid).await?.ok_or_else(|| ApiError::not_found(format!("Instance group {group_uuid} could not be found.")))?;
    let new: Vec<&String> = instance_uuids.iter().filter(|u| !group.members.contains(u)).collect();
    let limit = quota::user_limits(svc, project_id, user_id).await?["server_group_members"];
    let count = members_of_user(&svc.db, group.id, user_id).await?;
    if limit != UNLIMITED && count + i64::try_from(new.len()).unwrap_or(i64::MAX) > limit {
        return Err(ApiError::forbidden("Quota exceeded, too many servers in group"));
    }
    let mut tx = svc.db.begin_write().await?;
    for uuid in new {
        sqlx::query(&svc.db.sql("INSERT INTO instance_group_members (group_id, instance_uuid) VALUES (?, ?)"))
            .bind(group.id)
            .bind(uuid.clone())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Forgets a server's memberships (it was deleted, or its create failed).
pub async fn remove_instance(db: &Database, instance_uuid: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("DELETE FROM instance_group_members WHERE instance_uuid = ?")).bind(instance_uuid.to_string()).execute(&db.pool).await?;
    Ok(())
}

/// The group a server belongs to, if any.
pub async fn of_instance(db: &Database, instance_uuid: &str) -> Result<Option<ServerGroup>, ApiError> {
    let sql = "SELECT g.uuid FROM instance_groups g JOIN instance_group_members m ON m.group_id = g.id WHERE m.instance_uuid = ?";
    let Some(row) = sqlx::query(&db.sql(sql)).bind(instance_uuid.to_string()).fetch_optional(&db.pool).await? else { return Ok(None) };
    get(db, &row.text("uuid")?).await
}
