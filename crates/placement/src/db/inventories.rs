//! Inventory rows: what each provider offers of each resource class.

use super::{fetch_all, Bind, Tx};
use crate::error::PlacementResult;
use crate::types::Inventory;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

pub const COLUMNS: &str = "provider_uuid, resource_class, total, reserved, min_unit, max_unit, step_size, allocation_ratio";

pub fn from_row(row: &AnyRow) -> PlacementResult<Inventory> {
    Ok(Inventory {
        total: row.int("total")?,
        reserved: row.int("reserved")?,
        min_unit: row.int("min_unit")?,
        max_unit: row.int("max_unit")?,
        step_size: row.int("step_size")?,
        allocation_ratio: row.try_get::<f64, _>("allocation_ratio")?,
    })
}

pub async fn of_provider(db: &Database, uuid: &str) -> PlacementResult<BTreeMap<String, Inventory>> {
    let rows = fetch_all(db, &format!("SELECT {COLUMNS} FROM inventories WHERE provider_uuid = ?"), &[Bind::Text(uuid)]).await?;
    rows.iter().map(|r| Ok((r.text("resource_class")?, from_row(r)?))).collect()
}

pub async fn of_provider_in(tx: &mut Tx, uuid: &str) -> PlacementResult<BTreeMap<String, Inventory>> {
    let rows = tx.fetch_all(&format!("SELECT {COLUMNS} FROM inventories WHERE provider_uuid = ?"), &[Bind::Text(uuid)]).await?;
    rows.iter().map(|r| Ok((r.text("resource_class")?, from_row(r)?))).collect()
}

pub async fn insert(tx: &mut Tx, uuid: &str, rc: &str, inv: &Inventory) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec(
        &format!("INSERT INTO inventories ({COLUMNS}, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        &[Bind::Text(uuid), Bind::Text(rc), Bind::Int(inv.total), Bind::Int(inv.reserved), Bind::Int(inv.min_unit), Bind::Int(inv.max_unit),
            Bind::Int(inv.step_size), Bind::Float(inv.allocation_ratio), Bind::Int(now), Bind::Int(now)],
    )
    .await?;
    Ok(())
}

pub async fn update(tx: &mut Tx, uuid: &str, rc: &str, inv: &Inventory) -> PlacementResult<u64> {
    tx.exec(
        "UPDATE inventories SET total = ?, reserved = ?, min_unit = ?, max_unit = ?, step_size = ?, allocation_ratio = ?, updated_at = ? WHERE provider_uuid = ? AND resource_class = ?",
        &[Bind::Int(inv.total), Bind::Int(inv.reserved), Bind::Int(inv.min_unit), Bind::Int(inv.max_unit), Bind::Int(inv.step_size),
            Bind::Float(inv.allocation_ratio), Bind::Int(now_micros()), Bind::Text(uuid), Bind::Text(rc)],
    )
    .await
}

pub async fn delete(tx: &mut Tx, uuid: &str, rc: &str) -> PlacementResult<u64> {
    tx.exec("DELETE FROM inventories WHERE provider_uuid = ? AND resource_class = ?", &[Bind::Text(uuid), Bind::Text(rc)]).await
}
