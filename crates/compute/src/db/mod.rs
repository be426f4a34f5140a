//! The compute database: schema and queries, one file per resource family.

pub mod block_device_mappings;
pub mod by_uuids;
pub mod flavor_snapshot;
pub mod aggregates;
pub mod compute_nodes;
pub mod flavors;
pub mod ids;
pub mod info_caches;
pub mod instance_actions;
pub mod instance_faults;
pub mod instance_list;
pub mod instance_metadata;
pub mod instance_tags;
pub mod instances;
pub mod keypairs;
pub mod quotas;
pub mod request_specs;
pub mod schema;
pub mod server_groups;
pub mod services;

use monostack_db::{Backend, Database};

/// Tables whose integer id [`next_id`] may assign.
const ID_TABLES: &[&str] = &[
    "flavors",
    "aggregates",
    "services",
    "compute_nodes",
    "instances",
    "instance_faults",
    "instance_actions",
    "instance_action_events",
    "block_device_mappings",
    "instance_groups",
    "migrations",
    "key_pairs",
];

/// The next integer id of `table`, for an insert in the caller's transaction.
///
/// - SQLite: `MAX(id) + 1`; write transactions begin IMMEDIATE, so no one else writes until
///   the caller commits.
/// - PostgreSQL: the table's sequence (see [`prepare_id_sequences`]): concurrent transactions
///   never get the same id, whatever they commit.
/// - MySQL/MariaDB: `MAX(id) + 1 … FOR UPDATE`, whose next-key lock holds off other inserts
///   until the caller commits.
///
/// Outside a transaction (`executor` the pool) two writers may still race on SQLite and
/// MySQL; [`ids::insert_with_next_id`] retries those inserts.
pub async fn next_id<'c, E>(db: &Database, executor: E, table: &str) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if !ID_TABLES.contains(&table) {
        return Err(sqlx::Error::Protocol(format!("next_id: {table} has no assigned ids")));
    }
    let sql = match db.backend {
        Backend::Postgres => format!("SELECT nextval('{table}_id_seq')"),
        Backend::MySql => format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table} FOR UPDATE"),
        Backend::Sqlite => format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"),
    };
    let (id,): (i64,) = sqlx::query_as(&sql).fetch_one(executor).await?;
    Ok(id)
}

/// On PostgreSQL, makes sure every id table has its sequence, ahead of the ids in use (rows
/// may have been written before the sequences existed, or restored from a dump).
pub async fn prepare_id_sequences(db: &Database) -> Result<(), sqlx::Error> {
    if db.backend != Backend::Postgres {
        return Ok(());
    }
    for table in ID_TABLES {
        sqlx::query(&format!("CREATE SEQUENCE IF NOT EXISTS {table}_id_seq")).execute(&db.pool).await?;
        let advance = format!(
            "SELECT setval('{table}_id_seq', GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), (SELECT last_value FROM {table}_id_seq)))"
        );
        sqlx::query(&advance).execute(&db.pool).await?;
    }
    Ok(())
}
