//! The networking database: the schema, one file of queries per resource, and the write
//! transaction every change goes through.
//!
//! # How concurrent writers stay correct
//!
//! Every write runs in one [`Tx`] through [`write`]. On SQLite the transaction begins
//! IMMEDIATE, so it holds the database's single write lock from its first statement. On
//! PostgreSQL and MariaDB, writers that hand out something scarce first lock one row that
//! stands for the pool they draw from, by bumping a counter on it (`UPDATE … SET
//! alloc_generation = alloc_generation + 1`): the subnet's row before choosing IP addresses,
//! the type's row in `segment_locks` before choosing a VLAN or VNI. Allocators of the same pool
//! therefore run one after the other and always see each other's choices. Unique keys
//! (address per subnet, MAC per network, segment per type and physical network) are the last
//! line: a violation aborts the transaction and [`write`] runs it again from the start, where
//! the explicit checks answer the client with Neutron's 409.

pub mod agents;
pub mod floatingips;
pub mod ip_ranges;
pub mod networks;
pub mod ports;
pub mod routers;
pub mod schema;
pub mod security_groups;
pub mod segments;
pub mod subnets;
pub mod tags;

use crate::error::{NeutronError, NeutronResult};
use futures::future::BoxFuture;
use monostack_db::{Backend, Database};
use sqlx::any::AnyRow;
use sqlx::Any;
use std::borrow::Cow;

/// Ties the borrows of a [`write`] closure (`'a`) to outlive its transaction (`'c`).
pub type Scope<'c, 'a> = std::marker::PhantomData<&'c &'a ()>;

/// How many times a write transaction is run before a retryable failure reaches the client.
const WRITE_ATTEMPTS: usize = 8;

/// A write transaction and the backend it runs on.
pub struct Tx {
    pub inner: sqlx::Transaction<'static, Any>,
    pub backend: Backend,
}

/// One bound parameter.
#[derive(Debug, Clone)]
pub enum Bind<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
    OptInt(Option<i64>),
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
            Bind::OptInt(i) => q.bind(i),
        }
    }
}

/// `sql` with `?` placeholders rewritten to `$n` on PostgreSQL.
pub fn sql_for(backend: Backend, sql: &str) -> Cow<'_, str> {
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

impl Tx {
    /// `sql` as a locking read on MariaDB/MySQL, where a plain read inside a transaction sees
    /// the snapshot of its first read (REPEATABLE READ) and would miss what a writer that held
    /// the lock before us committed; a locking read sees the latest committed rows. PostgreSQL
    /// (READ COMMITTED) and SQLite (one writer) see them anyway.
    pub fn latest(&self, sql: &str) -> String {
        if self.backend == Backend::MySql {
            format!("{sql} FOR UPDATE")
        } else {
            sql.to_string()
        }
    }

    pub async fn exec(&mut self, sql: &str, binds: &[Bind<'_>]) -> NeutronResult<u64> {
        let sql = sql_for(self.backend, sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.clone().bind(q);
        }
        Ok(q.execute(&mut *self.inner).await?.rows_affected())
    }

    pub async fn fetch_all(&mut self, sql: &str, binds: &[Bind<'_>]) -> NeutronResult<Vec<AnyRow>> {
        let sql = sql_for(self.backend, sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.clone().bind(q);
        }
        Ok(q.fetch_all(&mut *self.inner).await?)
    }

    pub async fn fetch_optional(
        &mut self,
        sql: &str,
        binds: &[Bind<'_>],
    ) -> NeutronResult<Option<AnyRow>> {
        let sql = sql_for(self.backend, sql);
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = b.clone().bind(q);
        }
        Ok(q.fetch_optional(&mut *self.inner).await?)
    }
}

/// A read-only transaction: every read of one request sees one snapshot.
pub async fn read(db: &Database) -> NeutronResult<Tx> {
    Ok(Tx {
        inner: db.pool.begin().await?,
        backend: db.backend,
    })
}

/// Typed column access with our errors; lists and maps stored as JSON text.
pub trait Cols {
    fn s(&self, col: &str) -> NeutronResult<String>;
    fn os(&self, col: &str) -> NeutronResult<Option<String>>;
    fn i(&self, col: &str) -> NeutronResult<i64>;
    fn oi(&self, col: &str) -> NeutronResult<Option<i64>>;
    fn b(&self, col: &str) -> NeutronResult<bool>;
    /// A JSON document stored as text (`[]` when empty).
    fn doc(&self, col: &str) -> NeutronResult<serde_json::Value>;
}

impl Cols for AnyRow {
    fn s(&self, col: &str) -> NeutronResult<String> {
        monostack_db::RowExt::text(self, col).map_err(row_err)
    }
    fn os(&self, col: &str) -> NeutronResult<Option<String>> {
        monostack_db::RowExt::opt_text(self, col).map_err(row_err)
    }
    fn i(&self, col: &str) -> NeutronResult<i64> {
        monostack_db::RowExt::int(self, col).map_err(row_err)
    }
    fn oi(&self, col: &str) -> NeutronResult<Option<i64>> {
        monostack_db::RowExt::opt_int(self, col).map_err(row_err)
    }
    fn b(&self, col: &str) -> NeutronResult<bool> {
        monostack_db::RowExt::flag(self, col).map_err(row_err)
    }
    fn doc(&self, col: &str) -> NeutronResult<serde_json::Value> {
        match self.os(col)? {
            Some(t) if !t.is_empty() => serde_json::from_str(&t).map_err(NeutronError::internal),
            _ => Ok(serde_json::Value::Array(Vec::new())),
        }
    }
}

/// Runs a read query outside any transaction.
pub async fn fetch_all(db: &Database, sql: &str, binds: &[Bind<'_>]) -> NeutronResult<Vec<AnyRow>> {
    let sql = sql_for(db.backend, sql);
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = b.clone().bind(q);
    }
    Ok(q.fetch_all(&db.pool).await?)
}

pub async fn fetch_optional(
    db: &Database,
    sql: &str,
    binds: &[Bind<'_>],
) -> NeutronResult<Option<AnyRow>> {
    let sql = sql_for(db.backend, sql);
    let mut q = sqlx::query(&sql);
    for b in binds {
        q = b.clone().bind(q);
    }
    Ok(q.fetch_optional(&db.pool).await?)
}

/// Runs `op` in a write transaction and commits it; rolls back on error. Deadlocks,
/// serialization failures and unique keys taken by a concurrent writer run it again from the
/// start with a fresh transaction.
///
/// The closure gets a [`Scope`] beside the transaction: its type says that what the closure
/// borrows (`'a`) outlives the transaction's borrow, so the future may use the caller's
/// references without cloning them.
pub async fn write<'a, T, F>(db: &Database, mut op: F) -> NeutronResult<T>
where
    F: for<'c> FnMut(&'c mut Tx, Scope<'c, 'a>) -> BoxFuture<'c, NeutronResult<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        // MariaDB/MySQL write transactions run READ COMMITTED, as PostgreSQL's do: once a
        // writer holds the row lock it waited for, its reads see what the previous holder
        // committed (REPEATABLE READ would keep showing the snapshot of its first read).
        let inner = match db.backend {
            Backend::MySql => {
                db.pool
                    .begin_with("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION")
                    .await?
            }
            _ => db.begin_write().await?,
        };
        let mut tx = Tx {
            inner,
            backend: db.backend,
        };
        let outcome = match op(&mut tx, std::marker::PhantomData).await {
            Ok(v) => tx
                .inner
                .commit()
                .await
                .map(|_| v)
                .map_err(NeutronError::from),
            Err(e) => Err(e),
        };
        match outcome {
            Err(e) if e.retry && attempt < WRITE_ATTEMPTS => {
                tracing::debug!("retrying a network write after: {}", e.message);
                tokio::time::sleep(std::time::Duration::from_millis(2 * attempt as u64)).await;
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

/// 400 unless `text` fits the column it is stored in (`max` characters).
pub fn fit(attr: &str, text: &str, max: usize) -> NeutronResult<()> {
    if text.chars().count() > max {
        return Err(NeutronError::http_bad_request(format!("Invalid input for {attr}. Reason: the value takes more than {max} characters once stored.")));
    }
    Ok(())
}

/// Maps an [`monostack_common::ApiError`] from row decoding into ours.
pub fn row_err(e: monostack_common::ApiError) -> NeutronError {
    NeutronError::internal(e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_rewriting() {
        assert_eq!(placeholders(2), "(?, ?)");
        assert_eq!(
            sql_for(Backend::Postgres, "a = ? AND b IN (?, ?)"),
            "a = $1 AND b IN ($2, $3)"
        );
        assert_eq!(sql_for(Backend::Sqlite, "a = ?"), "a = ?");
    }
}
