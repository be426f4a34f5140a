//! Database access shared by every service: one database per service, on SQLite (default),
//! PostgreSQL or MariaDB/MySQL, through sqlx's `Any` driver, with portable versioned migrations.
//!
//! SQL is written once with `?` placeholders and portable types (BIGINT for integers,
//! times in epoch microseconds, booleans as 0/1, VARCHAR for indexed text); [`Database::sql`]
//! rewrites placeholders for PostgreSQL.

mod connect;
mod migrate;

pub use connect::{service_url, Backend};
pub use migrate::Migration;
pub use sqlx;

pub mod row;
pub use row::RowExt;

use std::borrow::Cow;

/// A service's database.
#[derive(Clone, Debug)]
pub struct Database {
    pub pool: sqlx::AnyPool,
    pub backend: Backend,
}

impl Database {
    /// Rewrites `?` placeholders to `$1, $2…` on PostgreSQL. `?` inside quotes is left alone.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        if self.backend != Backend::Postgres || !sql.contains('?') {
            return Cow::Borrowed(sql);
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        let mut in_quote = false;
        for c in sql.chars() {
            match c {
                '\'' => {
                    in_quote = !in_quote;
                    out.push(c);
                }
                '?' if !in_quote => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => out.push(c),
            }
        }
        Cow::Owned(out)
    }

    /// Applies `migrations` not yet applied, each in its own transaction where the backend allows.
    pub async fn migrate(&self, migrations: &[Migration]) -> anyhow::Result<usize> {
        migrate::run(self, migrations).await
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// SQLITE_BUSY_SNAPSHOT whenever another writer committed in between, and no busy timeout
    /// can wait that out.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            _ => self.pool.begin().await,
        }
    }

    /// Closes the pool, waiting for connections to return.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Generic boolean stored as 0/1.
pub fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn placeholders_rewrite_only_for_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(None, dir.path(), "t", 1).await.unwrap();
        assert_eq!(db.sql("a = ? and b = '?'"), "a = ? and b = '?'");
        let pg = Database { pool: db.pool.clone(), backend: Backend::Postgres };
        assert_eq!(pg.sql("a = ? and b = '?' and c = ?"), "a = $1 and b = '?' and c = $2");
    }
}
