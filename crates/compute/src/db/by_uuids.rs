//! Queries over a list of instance uuids (`... IN (?, ?, ...)`), the shape every batched load
//! of a page of servers takes.

use monostack_common::ApiError;
use monostack_db::Database;
use sqlx::any::AnyRow;

/// The rows of `sql`, whose `{uuids}` stands for the placeholders of `uuids`.
pub async fn fetch(db: &Database, sql: &str, uuids: &[String]) -> Result<Vec<AnyRow>, ApiError> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sql.replace("{uuids}", &vec!["?"; uuids.len()].join(", "));
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for u in uuids {
        q = q.bind(u.clone());
    }
    Ok(q.fetch_all(&db.pool).await?)
}
