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

use monostack_db::Database;

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

/// The next integer id of `table`, assigned inside the caller's transaction. Two writers racing
/// for the same id make one insert fail on the primary key; callers retry that insert.
pub async fn next_id<'c, E>(db: &Database, executor: E, table: &str) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if !ID_TABLES.contains(&table) {
        return Err(sqlx::Error::Protocol(format!("next_id: {table} has no assigned ids")));
    }
    let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
    let (id,): (i64,) = sqlx::query_as(&db.sql(&sql)).fetch_one(executor).await?;
    Ok(id)
}
