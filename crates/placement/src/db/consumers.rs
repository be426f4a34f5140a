//! Consumer rows: who holds allocations, their project/user/type, and their generation.

use super::{Bind, Tx};
use crate::error::PlacementResult;
use monostack_common::time::now_micros;
use monostack_db::RowExt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub uuid: String,
    pub project_id: String,
    pub user_id: String,
    pub consumer_type: Option<String>,
    pub generation: i64,
}

pub async fn get_in(tx: &mut Tx, uuid: &str) -> PlacementResult<Option<Consumer>> {
    let row = tx
        .fetch_optional("SELECT uuid, project_id, user_id, consumer_type, generation FROM consumers WHERE uuid = ?", &[Bind::Text(uuid)])
        .await?;
    row.map(|r| {
        Ok(Consumer {
            uuid: r.text("uuid")?,
            project_id: r.text("project_id")?,
            user_id: r.text("user_id")?,
            consumer_type: r.opt_text("consumer_type")?,
            generation: r.int("generation")?,
        })
    })
    .transpose()
}

/// Inserts a consumer at generation 1 (created, then written once).
pub async fn insert(tx: &mut Tx, c: &Consumer) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec(
        "INSERT INTO consumers (uuid, project_id, user_id, consumer_type, generation, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[Bind::Text(&c.uuid), Bind::Text(&c.project_id), Bind::Text(&c.user_id), Bind::OptText(c.consumer_type.as_deref()),
            Bind::Int(c.generation), Bind::Int(now), Bind::Int(now)],
    )
    .await?;
    Ok(())
}

/// Records `c`'s project, user and type and bumps its generation, only if the stored
/// generation is still `seen`. False when another writer got there first.
pub async fn update_if_generation(tx: &mut Tx, c: &Consumer, seen: i64) -> PlacementResult<bool> {
    let n = tx
        .exec(
            "UPDATE consumers SET project_id = ?, user_id = ?, consumer_type = ?, generation = generation + 1, updated_at = ? WHERE uuid = ? AND generation = ?",
            &[Bind::Text(&c.project_id), Bind::Text(&c.user_id), Bind::OptText(c.consumer_type.as_deref()), Bind::Int(now_micros()),
                Bind::Text(&c.uuid), Bind::Int(seen)],
        )
        .await?;
    Ok(n == 1)
}

pub async fn delete(tx: &mut Tx, uuid: &str) -> PlacementResult<()> {
    tx.exec("DELETE FROM consumers WHERE uuid = ?", &[Bind::Text(uuid)]).await?;
    Ok(())
}
