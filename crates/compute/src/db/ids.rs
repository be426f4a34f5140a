//! Inserting rows whose integer id comes from [`super::next_id`].

use monostack_db::{Backend, Database};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// Attempts before giving up on a table whose ids keep being taken by concurrent writers.
/// Twenty concurrent deletes each recording an action once exhausted eight.
const ATTEMPTS: usize = 64;

/// On SQLite one process is the only writer, so taking the id and inserting under this lock
/// means no two inserts of this process ever race for the same id; retries are then only
/// for writers that hold their own transaction.
static SQLITE_ID_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `insert` with a fresh id of `table`, again with the next id when a concurrent writer
/// took that id first. Any other failure (including a duplicate on another unique column) is
/// returned as it is, for the caller to interpret.
pub async fn insert_with_next_id<F, Fut>(db: &Database, table: &str, insert: F) -> Result<i64, sqlx::Error>
where
    F: Fn(i64) -> Fut,
    Fut: Future<Output = Result<(), sqlx::Error>>,
{
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // Concurrent writers that collided once would collide again in lock step.
            let jitter_us = rand::thread_rng().gen_range(0..1_000 * attempt.min(10) as u64);
            tokio::time::sleep(Duration::from_micros(jitter_us)).await;
        }
        let guard = match db.backend {
            Backend::Sqlite => Some(SQLITE_ID_LOCK.lock().await),
            Backend::Postgres | Backend::MySql => None,
        };
        let id = super::next_id(db, &db.pool, table).await?;
        let inserted = insert(id).await;
        drop(guard);
        match inserted {
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

