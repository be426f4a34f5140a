//! Seeds the standard resource classes and traits on every start, so a newer trait list
//! reaches an existing database; rows another process inserted meanwhile are left alone.

use super::{fetch_all, sql_for};
use crate::error::PlacementResult;
use crate::standard;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};
use std::collections::HashSet;

pub async fn standard_names(db: &Database) -> PlacementResult<()> {
    let classes: Vec<&str> = standard::RESOURCE_CLASSES.to_vec();
    insert_missing(db, "resource_classes", &classes).await?;
    let traits: Vec<&str> = standard::traits().collect();
    insert_missing(db, "traits", &traits).await
}

async fn insert_missing(db: &Database, table: &str, names: &[&str]) -> PlacementResult<()> {
    let rows = fetch_all(db, &format!("SELECT name FROM {table}"), &[]).await?;
    let have: HashSet<String> = rows.iter().map(|r| r.text("name")).collect::<Result<_, _>>()?;
    let now = now_micros();
    let sql = format!("INSERT INTO {table} (name, standard, created_at, updated_at) VALUES (?, 1, ?, ?)");
    let sql = sql_for(db.backend, &sql);
    for name in names.iter().filter(|n| !have.contains(**n)) {
        let inserted = sqlx::query(&sql).bind(name.to_string()).bind(now).bind(now).execute(&db.pool).await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
