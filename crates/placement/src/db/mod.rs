//! The placement database: one file per table family, plus the write transaction every change
//! goes through.
//!
//! # How concurrent writes stay correct
//!
//! Every write runs in one [`Tx`]. On SQLite the transaction starts with `BEGIN IMMEDIATE`, so
//! it holds the database's single write lock from its first statement and everything it reads
//! is current. On PostgreSQL (and MariaDB) a write transaction locks the provider rows it
//! depends on *first* — by bumping their generation (`UPDATE … SET generation = generation +
//! 1`, conditional on the caller's generation where the API takes one) — and only then reads
//! inventories and usages. Every writer that touches a provider's inventory or allocations
//! takes that row lock, so capacity checks never see a stale usage and two writers can never
//! both squeeze into the last free unit. Deadlocks between writers locking several providers
//! are retried by [`write`].

pub mod aggregates;
pub mod allocations;
pub mod consumers;
pub mod inventories;
pub mod providers;
pub mod resource_classes;
pub mod schema;
pub mod seed;
pub mod snapshot;
pub mod traits;
pub mod usages;

use crate::error::{PlacementError, PlacementResult};
use futures::future::BoxFuture;
use monostack_db::{Backend, Database};
use sqlx::any::AnyRow;
use sqlx::Any;
use std::borrow::Cow;

/// How many times a write transaction is retried after a deadlock or serialization failure.
const WRITE_ATTEMPTS: usize = 5;

/// A write transaction and the backend it runs on.
pub struct Tx {
    pub inner: sqlx::Transaction<'static, Any>,
    pub backend: Backend,
}

impl Tx {
    /// `sql` with placeholders rewritten for the backend.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        sql_for(self.backend, sql)
    }

    /// Runs a statement with text/integer binds; returns the rows affected.
    pub async fn exec(&mut self, sql: &str, binds: &[Bind<'_>]) -> PlacementResult<u64> {
        let sql = self.sql(sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.bind(q);
        }
        Ok(q.execute(&mut *self.inner).await?.rows_affected())
    }

    pub async fn fetch_all(&mut self, sql: &str, binds: &[Bind<'_>]) -> PlacementResult<Vec<AnyRow>> {
        let sql = self.sql(sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.bind(q);
        }
        Ok(q.fetch_all(&mut *self.inner).await?)
    }

    pub async fn fetch_optional(&mut self, sql: &str, binds: &[Bind<'_>]) -> PlacementResult<Option<AnyRow>> {
        let sql = self.sql(sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.bind(q);
        }
        Ok(q.fetch_optional(&mut *self.inner).await?)
    }
}

/// One bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    Float(f64),
}

impl Bind<'_> {
    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        match self {
            Bind::Text(s) => q.bind(s.to_string()),
            Bind::OptText(s) => q.bind(s.map(str::to_string)),
            Bind::Int(i) => q.bind(i),
            Bind::Float(f) => q.bind(f),
        }
    }
}

/// `sql` for `backend`: `?` placeholders become `$n` on PostgreSQL, and `CAST(… AS BIGINT)`
/// (which turns PostgreSQL's NUMERIC sums back into integers) is spelled `AS SIGNED` on MySQL.
pub fn sql_for(backend: Backend, sql: &str) -> Cow<'_, str> {
    if backend == Backend::MySql && sql.contains(" AS BIGINT)") {
        return Cow::Owned(sql.replace(" AS BIGINT)", " AS SIGNED)"));
    }
    if backend != Backend::Postgres || !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Runs a read query outside any transaction.
pub async fn fetch_all(db: &Database, sql: &str, binds: &[Bind<'_>]) -> PlacementResult<Vec<AnyRow>> {
    let sql = sql_for(db.backend, sql);
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = b.bind(q);
    }
    Ok(q.fetch_all(&db.pool).await?)
}

pub async fn fetch_optional(db: &Database, sql: &str, binds: &[Bind<'_>]) -> PlacementResult<Option<AnyRow>> {
    let sql = sql_for(db.backend, sql);
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = b.bind(q);
    }
    Ok(q.fetch_optional(&db.pool).await?)
}

async fn begin(db: &Database) -> PlacementResult<Tx> {
    let inner = db.begin_write().await?;
    Ok(Tx { inner, backend: db.backend })
}

/// Runs `op` in a write transaction and commits it; rolls back on error. Deadlocks and
/// serialization failures are retried from the start with a fresh transaction.
pub async fn write<T, F>(db: &Database, mut op: F) -> PlacementResult<T>
where
    F: for<'c> FnMut(&'c mut Tx) -> BoxFuture<'c, PlacementResult<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut tx = begin(db).await?;
        let outcome = match op(&mut tx).await {
            Ok(v) => tx.inner.commit().await.map(|_| v).map_err(PlacementError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Err(PlacementError::Retry(why)) if attempt < WRITE_ATTEMPTS => {
                tracing::debug!("retrying a placement write after: {why}");
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
            }
            Err(PlacementError::Retry(why)) => {
                return Err(PlacementError::conflict(
                    crate::error::ConflictKind::Generation,
                    format!("Another thread concurrently updated the data. Please retry your update ({why})"),
                ))
            }
            other => return other,
        }
    }
}

/// `(?, ?, …)` with `n` placeholders, for IN lists.
pub fn placeholders(n: usize) -> String {
    let mut s = String::from("(");
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s.push(')');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_rewriting() {
        assert_eq!(placeholders(3), "(?, ?, ?)");
        assert_eq!(sql_for(Backend::Postgres, "a = ? AND b IN (?, ?)"), "a = $1 AND b IN ($2, $3)");
        assert_eq!(sql_for(Backend::Sqlite, "a = ?"), "a = ?");
    }
}
