//! Allocation rows: what each consumer uses of each provider's resource classes.

use super::{fetch_all, Bind, Tx};
use crate::error::PlacementResult;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

/// One allocation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationRow {
    pub consumer_uuid: String,
    pub provider_uuid: String,
    pub resource_class: String,
    pub used: i64,
}

fn rows_to_allocations(rows: Vec<sqlx::any::AnyRow>) -> PlacementResult<Vec<AllocationRow>> {
    rows.iter()
        .map(|r| {
            Ok(AllocationRow {
                consumer_uuid: r.text("consumer_uuid")?,
                provider_uuid: r.text("provider_uuid")?,
                resource_class: r.text("resource_class")?,
                used: r.int("used")?,
            })
        })
        .collect()
}

const COLUMNS: &str = "consumer_uuid, provider_uuid, resource_class, used";

pub async fn of_consumer(db: &Database, consumer: &str) -> PlacementResult<Vec<AllocationRow>> {
    rows_to_allocations(fetch_all(db, &format!("SELECT {COLUMNS} FROM allocations WHERE consumer_uuid = ?"), &[Bind::Text(consumer)]).await?)
}

pub async fn of_consumer_in(tx: &mut Tx, consumer: &str) -> PlacementResult<Vec<AllocationRow>> {
    rows_to_allocations(tx.fetch_all(&format!("SELECT {COLUMNS} FROM allocations WHERE consumer_uuid = ?"), &[Bind::Text(consumer)]).await?)
}

pub async fn of_provider(db: &Database, provider: &str) -> PlacementResult<Vec<AllocationRow>> {
    rows_to_allocations(fetch_all(db, &format!("SELECT {COLUMNS} FROM allocations WHERE provider_uuid = ?"), &[Bind::Text(provider)]).await?)
}

pub async fn provider_has_any(tx: &mut Tx, provider: &str) -> PlacementResult<bool> {
    Ok(tx.fetch_optional("SELECT consumer_uuid FROM allocations WHERE provider_uuid = ? LIMIT 1", &[Bind::Text(provider)]).await?.is_some())
}

/// The classes among `classes` that `provider` has allocations of.
pub async fn classes_in_use(tx: &mut Tx, provider: &str) -> PlacementResult<Vec<String>> {
    let rows = tx.fetch_all("SELECT DISTINCT resource_class FROM allocations WHERE provider_uuid = ?", &[Bind::Text(provider)]).await?;
    rows.iter().map(|r| Ok(r.text("resource_class")?)).collect()
}

pub async fn delete_of_consumer(tx: &mut Tx, consumer: &str) -> PlacementResult<()> {
    tx.exec("DELETE FROM allocations WHERE consumer_uuid = ?", &[Bind::Text(consumer)]).await?;
    Ok(())
}

pub async fn insert(tx: &mut Tx, consumer: &str, provider: &str, rc: &str, used: i64) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec(
        "INSERT INTO allocations (consumer_uuid, provider_uuid, resource_class, used, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        &[Bind::Text(consumer), Bind::Text(provider), Bind::Text(rc), Bind::Int(used), Bind::Int(now), Bind::Int(now)],
    )
    .await?;
    Ok(())
}

/// Consumer details for a set of consumers (generation, project, user, type).
pub async fn consumer_details(db: &Database, consumers: &[String]) -> PlacementResult<BTreeMap<String, super::consumers::Consumer>> {
    let mut out = BTreeMap::new();
    for chunk in consumers.chunks(500) {
        let sql = format!("SELECT uuid, project_id, user_id, consumer_type, generation FROM consumers WHERE uuid IN {}", super::placeholders(chunk.len()));
        let binds: Vec<Bind> = chunk.iter().map(|c| Bind::Text(c)).collect();
        for r in fetch_all(db, &sql, &binds).await? {
            let c = super::consumers::Consumer {
                uuid: r.text("uuid")?,
                project_id: r.text("project_id")?,
                user_id: r.text("user_id")?,
                consumer_type: r.opt_text("consumer_type")?,
                generation: r.int("generation")?,
            };
            out.insert(c.uuid.clone(), c);
        }
    }
    Ok(out)
}
