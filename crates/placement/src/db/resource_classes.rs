//! Resource classes: the standard ones and CUSTOM_ ones operators add.

use super::{fetch_all, fetch_optional, Bind, Tx};
use crate::error::PlacementResult;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceClassRow {
    pub name: String,
    pub standard: bool,
}

pub async fn get(db: &Database, name: &str) -> PlacementResult<Option<ResourceClassRow>> {
    let row = fetch_optional(db, "SELECT name, standard FROM resource_classes WHERE name = ?", &[Bind::Text(name)]).await?;
    row.map(|r| Ok(ResourceClassRow { name: r.text("name")?, standard: r.flag("standard")? })).transpose()
}

pub async fn get_in(tx: &mut Tx, name: &str) -> PlacementResult<Option<ResourceClassRow>> {
    let row = tx.fetch_optional("SELECT name, standard FROM resource_classes WHERE name = ?", &[Bind::Text(name)]).await?;
    row.map(|r| Ok(ResourceClassRow { name: r.text("name")?, standard: r.flag("standard")? })).transpose()
}

/// All classes: standard ones first in their canonical order, then custom ones by name.
pub async fn list(db: &Database) -> PlacementResult<Vec<ResourceClassRow>> {
    let rows = fetch_all(db, "SELECT name, standard FROM resource_classes", &[]).await?;
    let mut all: Vec<ResourceClassRow> =
        rows.iter().map(|r| Ok(ResourceClassRow { name: r.text("name")?, standard: r.flag("standard")? })).collect::<PlacementResult<_>>()?;
    let order = |c: &ResourceClassRow| crate::standard::RESOURCE_CLASSES.iter().position(|s| *s == c.name).unwrap_or(usize::MAX);
    all.sort_by(|a, b| order(a).cmp(&order(b)).then_with(|| a.name.cmp(&b.name)));
    Ok(all)
}

pub async fn insert(tx: &mut Tx, name: &str) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec("INSERT INTO resource_classes (name, standard, created_at, updated_at) VALUES (?, 0, ?, ?)", &[Bind::Text(name), Bind::Int(now), Bind::Int(now)])
        .await?;
    Ok(())
}

pub async fn rename(tx: &mut Tx, from: &str, to: &str) -> PlacementResult<()> {
    tx.exec("UPDATE resource_classes SET name = ?, updated_at = ? WHERE name = ?", &[Bind::Text(to), Bind::Int(now_micros()), Bind::Text(from)]).await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, name: &str) -> PlacementResult<()> {
    tx.exec("DELETE FROM resource_classes WHERE name = ?", &[Bind::Text(name)]).await?;
    Ok(())
}

/// Whether any inventory or allocation refers to the class.
pub async fn in_use(tx: &mut Tx, name: &str) -> PlacementResult<bool> {
    let inv = tx.fetch_optional("SELECT provider_uuid FROM inventories WHERE resource_class = ? LIMIT 1", &[Bind::Text(name)]).await?;
    let alloc = tx.fetch_optional("SELECT provider_uuid FROM allocations WHERE resource_class = ? LIMIT 1", &[Bind::Text(name)]).await?;
    Ok(inv.is_some() || alloc.is_some())
}
