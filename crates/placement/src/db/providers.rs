//! Resource provider rows and their tree links (`parent_uuid`, `root_uuid`).

use super::{fetch_all, fetch_optional, Bind, Tx};
use crate::error::{PlacementError, PlacementResult};
use crate::types::ResourceProvider;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

pub const COLUMNS: &str = "uuid, name, generation, parent_uuid, root_uuid, updated_at";

pub fn from_row(row: &AnyRow) -> PlacementResult<ResourceProvider> {
    Ok(ResourceProvider {
        uuid: row.text("uuid")?,
        name: row.text("name")?,
        generation: row.int("generation")?,
        parent_provider_uuid: row.opt_text("parent_uuid")?,
        root_provider_uuid: row.text("root_uuid")?,
        updated_at: row.int("updated_at")?,
    })
}

pub async fn get(db: &Database, uuid: &str) -> PlacementResult<Option<ResourceProvider>> {
    let row = fetch_optional(db, &format!("SELECT {COLUMNS} FROM resource_providers WHERE uuid = ?"), &[Bind::Text(uuid)]).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get_in(tx: &mut Tx, uuid: &str) -> PlacementResult<Option<ResourceProvider>> {
    let row = tx.fetch_optional(&format!("SELECT {COLUMNS} FROM resource_providers WHERE uuid = ?"), &[Bind::Text(uuid)]).await?;
    row.as_ref().map(from_row).transpose()
}

/// The provider, or placement's 404.
pub async fn require_in(tx: &mut Tx, uuid: &str) -> PlacementResult<ResourceProvider> {
    get_in(tx, uuid).await?.ok_or_else(|| not_found(uuid))
}

pub fn not_found(uuid: &str) -> PlacementError {
    PlacementError::not_found(format!("No resource provider with uuid {uuid} found"))
}

pub async fn all(db: &Database) -> PlacementResult<Vec<ResourceProvider>> {
    let rows = fetch_all(db, &format!("SELECT {COLUMNS} FROM resource_providers ORDER BY created_at, uuid"), &[]).await?;
    rows.iter().map(from_row).collect()
}

pub async fn tree_in(tx: &mut Tx, root_uuid: &str) -> PlacementResult<Vec<ResourceProvider>> {
    let rows = tx.fetch_all(&format!("SELECT {COLUMNS} FROM resource_providers WHERE root_uuid = ?"), &[Bind::Text(root_uuid)]).await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(tx: &mut Tx, rp: &ResourceProvider) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec(
        "INSERT INTO resource_providers (uuid, name, generation, parent_uuid, root_uuid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[Bind::Text(&rp.uuid), Bind::Text(&rp.name), Bind::Int(rp.generation), Bind::OptText(rp.parent_provider_uuid.as_deref()),
            Bind::Text(&rp.root_provider_uuid), Bind::Int(now), Bind::Int(now)],
    )
    .await?;
    Ok(())
}

/// Locks the provider's row by bumping its generation, only if it is still `expected` when
/// given. Returns the new generation, or None when the provider is gone or its generation moved.
pub async fn bump_generation(tx: &mut Tx, uuid: &str, expected: Option<i64>) -> PlacementResult<Option<i64>> {
    let now = now_micros();
    let changed = match expected {
        Some(g) => {
            tx.exec(
                "UPDATE resource_providers SET generation = generation + 1, updated_at = ? WHERE uuid = ? AND generation = ?",
                &[Bind::Int(now), Bind::Text(uuid), Bind::Int(g)],
            )
            .await?
        }
        None => {
            tx.exec("UPDATE resource_providers SET generation = generation + 1, updated_at = ? WHERE uuid = ?", &[Bind::Int(now), Bind::Text(uuid)])
                .await?
        }
    };
    if changed == 0 {
        return Ok(None);
    }
    let row = tx.fetch_optional("SELECT generation FROM resource_providers WHERE uuid = ?", &[Bind::Text(uuid)]).await?;
    Ok(row.map(|r| r.int("generation")).transpose()?)
}

/// Locks the provider's row without changing what it shows (used before adding a child).
pub async fn touch(tx: &mut Tx, uuid: &str) -> PlacementResult<bool> {
    let n = tx.exec("UPDATE resource_providers SET updated_at = ? WHERE uuid = ?", &[Bind::Int(now_micros()), Bind::Text(uuid)]).await?;
    Ok(n > 0)
}

pub async fn rename(tx: &mut Tx, uuid: &str, name: &str) -> PlacementResult<()> {
    tx.exec("UPDATE resource_providers SET name = ?, updated_at = ? WHERE uuid = ?", &[Bind::Text(name), Bind::Int(now_micros()), Bind::Text(uuid)])
        .await?;
    Ok(())
}

pub async fn set_parent(tx: &mut Tx, uuid: &str, parent: Option<&str>) -> PlacementResult<()> {
    tx.exec("UPDATE resource_providers SET parent_uuid = ?, updated_at = ? WHERE uuid = ?", &[Bind::OptText(parent), Bind::Int(now_micros()), Bind::Text(uuid)])
        .await?;
    Ok(())
}

pub async fn set_root(tx: &mut Tx, uuids: &[String], root: &str) -> PlacementResult<()> {
    for uuid in uuids {
        tx.exec("UPDATE resource_providers SET root_uuid = ? WHERE uuid = ?", &[Bind::Text(root), Bind::Text(uuid)]).await?;
    }
    Ok(())
}

pub async fn has_children(tx: &mut Tx, uuid: &str) -> PlacementResult<bool> {
    Ok(tx.fetch_optional("SELECT uuid FROM resource_providers WHERE parent_uuid = ? LIMIT 1", &[Bind::Text(uuid)]).await?.is_some())
}

pub async fn name_taken(tx: &mut Tx, name: &str, except: Option<&str>) -> PlacementResult<bool> {
    let row = tx.fetch_optional("SELECT uuid FROM resource_providers WHERE name = ?", &[Bind::Text(name)]).await?;
    Ok(match row {
        Some(r) => Some(r.text("uuid")?.as_str()) != except,
        None => false,
    })
}

/// Deletes the provider row with its inventories, traits and aggregate links.
pub async fn delete(tx: &mut Tx, uuid: &str) -> PlacementResult<()> {
    for sql in [
        "DELETE FROM inventories WHERE provider_uuid = ?",
        "DELETE FROM provider_traits WHERE provider_uuid = ?",
        "DELETE FROM provider_aggregates WHERE provider_uuid = ?",
        "DELETE FROM resource_providers WHERE uuid = ?",
    ] {
        tx.exec(sql, &[Bind::Text(uuid)]).await?;
    }
    Ok(())
}
