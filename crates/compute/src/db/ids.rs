//! Inserting rows whose integer id comes from [`super::next_id`].

use monostack_db::Database;
use std::future::Future;

/// Attempts before giving up on a table whose ids keep being taken by concurrent writers.
const ATTEMPTS: usize = 8;

/// Runs `insert` with a fresh id of `table`, again with the next id when a concurrent writer
/// took that id first. Any other failure (including a duplicate on another unique column) is
/// returned as it is, for the caller to interpret.
pub async fn insert_with_next_id<F, Fut>(db: &Database, table: &str, insert: F) -> Result<i64, sqlx::Error>
where
    F: Fn(i64) -> Fut,
    Fut: Future<Output = Result<(), sqlx::Error>>,
{
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let id = super::next_id(db, &db.pool, table).await?;
        match insert(id).await {
            Ok(()) => return Ok(id),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && id_taken(db, table, id).await? => {
                last_error = Some(sqlx::Error::Database(e));
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| sqlx::Error::Protocol(format!("{table}: no free id"))))
}

async fn id_taken(db: &Database, table: &str, id: i64) -> Result<bool, sqlx::Error> {
    // `table` comes from the fixed list next_id accepts, never from a request.
    let sql = format!("SELECT id FROM {table} WHERE id = ?");
    Ok(sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await?.is_some())
}

/// Whether `e` is a unique-constraint violation.
pub fn is_duplicate(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

