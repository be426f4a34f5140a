//! Versioned, portable schema migrations recorded in `schema_migrations`.

use crate::{Backend, Database};
use sqlx::Executor;

/// One schema step. Statements must be portable across SQLite, PostgreSQL and MySQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

/// Adapts a portable statement to the backend. On MySQL, `TEXT` becomes `VARCHAR(4000)`:
/// sqlx's `Any` driver reports MySQL TEXT columns as BLOB and refuses to decode them as strings.
fn dialect(backend: Backend, stmt: &str) -> std::borrow::Cow<'_, str> {
    if backend == Backend::MySql && stmt.contains(" TEXT") {
        return std::borrow::Cow::Owned(stmt.replace(" TEXT", " VARCHAR(4000)"));
    }
    std::borrow::Cow::Borrowed(stmt)
}

pub(crate) async fn run(db: &Database, migrations: &[Migration]) -> anyhow::Result<usize> {
    db.pool
        .execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .await?;
    let mut applied = 0;
    for m in migrations {
        let done = sqlx::query(&db.sql("SELECT version FROM schema_migrations WHERE version = ?"))
            .bind(m.version)
            .fetch_optional(&db.pool)
            .await?
            .is_some();
        if done {
            continue;
        }
        // MySQL commits DDL implicitly, so a transaction there only protects the bookkeeping.
        let mut tx = db.begin_write().await?;
        for stmt in m.statements {
            let stmt = dialect(db.backend, stmt);
            tx.execute(stmt.as_ref())
                .await
                .map_err(|e| anyhow::anyhow!("migration {} ({}) failed on `{stmt}`: {e}", m.version, m.name))?;
        }
        let recorded = sqlx::query(&db.sql("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"))
            .bind(m.version)
            .bind(m.name)
            .bind(monostack_common::time::now_micros())
            .execute(&mut *tx)
            .await;
        if let Err(e) = recorded {
            // Another process migrated concurrently; its record wins.
            let duplicate = matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation());
            if db.backend == Backend::Sqlite || !duplicate {
                anyhow::bail!("recording migration {} failed", m.version);
            }
        }
        tx.commit().await?;
        applied += 1;
    }
    Ok(applied)
}
