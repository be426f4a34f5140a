//! Host aggregates with their hosts and metadata. An aggregate's `availability_zone` metadata
//! puts its hosts in that zone.

use super::ids::{insert_with_next_id, is_duplicate};
use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};

/// The metadata key that makes an aggregate an availability zone.
pub const AZ_KEY: &str = "availability_zone";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub hosts: BTreeSet<String>,
    pub metadata: BTreeMap<String, String>,
}

impl Aggregate {
    pub fn availability_zone(&self) -> Option<&str> {
        self.metadata.get(AZ_KEY).map(String::as_str)
    }
}

const COLUMNS: &str = "id, uuid, name, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Aggregate, ApiError> {
    Ok(Aggregate {
        id: row.int("id")?,
        uuid: row.text("uuid")?,
        name: row.text("name")?,
        created_at: row.int("created_at")?,
        updated_at: row.opt_int("updated_at")?,
        hosts: BTreeSet::new(),
        metadata: BTreeMap::new(),
    })
}

/// Fills in hosts and metadata.
async fn load_details(db: &Database, aggregates: &mut [Aggregate]) -> Result<(), ApiError> {
    if aggregates.is_empty() {
        return Ok(());
    }
    let index: BTreeMap<i64, usize> = aggregates.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    for row in sqlx::query("SELECT aggregate_id, host FROM aggregate_hosts").fetch_all(&db.pool).await? {
        if let Some(&i) = index.get(&row.int("aggregate_id")?) {
            aggregates[i].hosts.insert(row.text("host")?);
        }
    }
    for row in sqlx::query("SELECT aggregate_id, meta_key, meta_value FROM aggregate_metadata").fetch_all(&db.pool).await? {
        if let Some(&i) = index.get(&row.int("aggregate_id")?) {
            aggregates[i].metadata.insert(row.text("meta_key")?, row.text("meta_value")?);
        }
    }
    Ok(())
}

/// Every live aggregate, by id.
pub async fn list(db: &Database) -> Result<Vec<Aggregate>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM aggregates WHERE deleted = 0 ORDER BY id");
    let mut all = sqlx::query(&sql).fetch_all(&db.pool).await?.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    load_details(db, &mut all).await?;
    Ok(all)
}

pub async fn get(db: &Database, id: i64) -> Result<Option<Aggregate>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM aggregates WHERE id = ? AND deleted = 0");
    let Some(row) = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await? else { return Ok(None) };
    let mut one = vec![from_row(&row)?];
    load_details(db, &mut one).await?;
    Ok(one.pop())
}

/// The live aggregates `host` belongs to.
pub async fn by_host(db: &Database, host: &str) -> Result<Vec<Aggregate>, ApiError> {
    Ok(list(db).await?.into_iter().filter(|a| a.hosts.contains(host)).collect())
}

/// Creates an aggregate (with an availability zone when given); None when the name is taken.
pub async fn create(db: &Database, name: &str, availability_zone: Option<&str>) -> Result<Option<Aggregate>, ApiError> {
    if name_taken(db, name, None).await? {
        return Ok(None);
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    let sql = db.sql("INSERT INTO aggregates (id, uuid, name, created_at, deleted) VALUES (?, ?, ?, ?, 0)");
    let now = now_micros();
    let inserted = insert_with_next_id(db, "aggregates", |id| {
        let q = sqlx::query(&sql).bind(id).bind(uuid.clone()).bind(name.to_string()).bind(now);
        async move { q.execute(&db.pool).await.map(|_| ()) }
    })
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if is_duplicate(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if let Some(az) = availability_zone {
        set_metadata(db, id, &[(AZ_KEY.to_string(), Some(az.to_string()))]).await?;
    }
    get(db, id).await
}

async fn name_taken(db: &Database, name: &str, except: Option<i64>) -> Result<bool, ApiError> {
    let row = sqlx::query(&db.sql("SELECT id FROM aggregates WHERE name = ? AND deleted = 0")).bind(name.to_string()).fetch_optional(&db.pool).await?;
    Ok(match row {
        Some(r) => Some(r.int("id")?) != except,
        None => false,
    })
}

/// Renames an aggregate; false when another aggregate has that name.
pub async fn rename(db: &Database, id: i64, name: &str) -> Result<bool, ApiError> {
    if name_taken(db, name, Some(id)).await? {
        return Ok(false);
    }
    let done = sqlx::query(&db.sql("UPDATE aggregates SET name = ?, updated_at = ? WHERE id = ?")).bind(name.to_string()).bind(now_micros()).bind(id).execute(&db.pool).await;
    match done {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Sets (Some) or removes (None) metadata keys, in one transaction.
pub async fn set_metadata(db: &Database, id: i64, changes: &[(String, Option<String>)]) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for (key, value) in changes {
        sqlx::query(&db.sql("DELETE FROM aggregate_metadata WHERE aggregate_id = ? AND meta_key = ?")).bind(id).bind(key.clone()).execute(&mut *tx).await?;
        if let Some(v) = value {
            sqlx::query(&db.sql("INSERT INTO aggregate_metadata (aggregate_id, meta_key, meta_value) VALUES (?, ?, ?)"))
                .bind(id)
                .bind(key.clone())
                .bind(v.clone())
                .execute(&mut *tx)
                .await?;
        }
    }
    sqlx::query(&db.sql("UPDATE aggregates SET updated_at = ? WHERE id = ?")).bind(now_micros()).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a host; false when it was already there.
pub async fn add_host(db: &Database, id: i64, host: &str) -> Result<bool, ApiError> {
    let inserted = sqlx::query(&db.sql("INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)")).bind(id).bind(host.to_string()).execute(&db.pool).await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes a host; false when it was not there.
pub async fn remove_host(db: &Database, id: i64, host: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?")).bind(id).bind(host.to_string()).execute(&db.pool).await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes an aggregate with its metadata (the caller checked it has no hosts).
pub async fn delete(db: &Database, id: i64) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("DELETE FROM aggregate_metadata WHERE aggregate_id = ?")).bind(id).execute(&mut *tx).await?;
    sqlx::query(&db.sql("DELETE FROM aggregate_hosts WHERE aggregate_id = ?")).bind(id).execute(&mut *tx).await?;
    sqlx::query(&db.sql("UPDATE aggregates SET deleted = id, deleted_at = ? WHERE id = ?")).bind(now_micros()).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The availability zones each host is in through its aggregates (hosts in none are absent).
pub async fn host_zones(db: &Database) -> Result<BTreeMap<String, BTreeSet<String>>, ApiError> {
    let mut zones: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for agg in list(db).await? {
        if let Some(az) = agg.availability_zone() {
            for host in &agg.hosts {
                zones.entry(host.clone()).or_default().insert(az.to_string());
            }
        }
    }
    Ok(zones)
}
