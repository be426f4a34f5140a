//! Tags of any resource (`/v2.0/<resources>/{id}/tags`), kept in one table keyed by the
//! resource's type (`networks`, `subnets`, `ports`, …) and id.

use super::{fetch_all, placeholders, row_err, Bind, Tx};
use crate::error::NeutronResult;
use monostack_db::{Database, RowExt};
use std::collections::HashMap;

/// The tags of each of `ids`, sorted (resources without tags are absent).
pub async fn for_resources(
    db: &Database,
    resource_type: &str,
    ids: &[String],
) -> NeutronResult<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT resource_id, tag FROM tags WHERE resource_type = ? AND resource_id IN {} ORDER BY tag", placeholders(chunk.len()));
        let mut binds = vec![Bind::Text(resource_type)];
        binds.extend(chunk.iter().map(|i| Bind::Text(i)));
        for row in fetch_all(db, &sql, &binds).await? {
            out.entry(row.text("resource_id").map_err(row_err)?)
                .or_default()
                .push(row.text("tag").map_err(row_err)?);
        }
    }
    Ok(out)
}

/// The tags of one resource inside a transaction.
pub async fn of(tx: &mut Tx, resource_type: &str, id: &str) -> NeutronResult<Vec<String>> {
    let rows = tx
        .fetch_all(
            "SELECT tag FROM tags WHERE resource_type = ? AND resource_id = ? ORDER BY tag",
            &[Bind::Text(resource_type), Bind::Text(id)],
        )
        .await?;
    rows.iter()
        .map(|r| r.text("tag").map_err(row_err))
        .collect()
}

pub async fn add(tx: &mut Tx, resource_type: &str, id: &str, tag: &str) -> NeutronResult<bool> {
    let exists = tx
        .fetch_optional(
            "SELECT tag FROM tags WHERE resource_type = ? AND resource_id = ? AND tag = ?",
            &[Bind::Text(resource_type), Bind::Text(id), Bind::Text(tag)],
        )
        .await?
        .is_some();
    if !exists {
        tx.exec(
            "INSERT INTO tags (resource_type, resource_id, tag) VALUES (?, ?, ?)",
            &[Bind::Text(resource_type), Bind::Text(id), Bind::Text(tag)],
        )
        .await?;
    }
    Ok(!exists)
}

pub async fn remove(tx: &mut Tx, resource_type: &str, id: &str, tag: &str) -> NeutronResult<bool> {
    let n = tx
        .exec(
            "DELETE FROM tags WHERE resource_type = ? AND resource_id = ? AND tag = ?",
            &[Bind::Text(resource_type), Bind::Text(id), Bind::Text(tag)],
        )
        .await?;
    Ok(n > 0)
}

pub async fn remove_all(tx: &mut Tx, resource_type: &str, id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM tags WHERE resource_type = ? AND resource_id = ?",
        &[Bind::Text(resource_type), Bind::Text(id)],
    )
    .await?;
    Ok(())
}

/// Replaces every tag of the resource with `tags`.
pub async fn replace(
    tx: &mut Tx,
    resource_type: &str,
    id: &str,
    tags: &[String],
) -> NeutronResult<()> {
    remove_all(tx, resource_type, id).await?;
    let mut seen = std::collections::BTreeSet::new();
    for t in tags {
        if seen.insert(t.as_str()) {
            tx.exec(
                "INSERT INTO tags (resource_type, resource_id, tag) VALUES (?, ?, ?)",
                &[Bind::Text(resource_type), Bind::Text(id), Bind::Text(t)],
            )
            .await?;
        }
    }
    Ok(())
}
