//! Aggregate membership of providers (aggregates are only UUIDs in placement).

use super::{fetch_all, Bind, Tx};
use crate::error::PlacementResult;
use monostack_db::{Database, RowExt};
use std::collections::BTreeSet;

pub async fn of_provider(db: &Database, uuid: &str) -> PlacementResult<BTreeSet<String>> {
    let rows = fetch_all(db, "SELECT aggregate_uuid FROM provider_aggregates WHERE provider_uuid = ?", &[Bind::Text(uuid)]).await?;
    rows.iter().map(|r| Ok(r.text("aggregate_uuid")?)).collect()
}

pub async fn set_of_provider(tx: &mut Tx, uuid: &str, aggregates: &BTreeSet<String>) -> PlacementResult<()> {
    tx.exec("DELETE FROM provider_aggregates WHERE provider_uuid = ?", &[Bind::Text(uuid)]).await?;
    for a in aggregates {
        tx.exec("INSERT INTO provider_aggregates (provider_uuid, aggregate_uuid) VALUES (?, ?)", &[Bind::Text(uuid), Bind::Text(a)]).await?;
    }
    Ok(())
}
