//! The placement schema, portable across SQLite, PostgreSQL and MariaDB (BIGINT integers,
//! times in epoch microseconds, booleans as 0/1).
//!
//! Rows are keyed by their external names (provider and consumer UUIDs, resource class and
//! trait names) rather than internal integer ids: the tables stay small and portable, and no
//! lookup cache has to be kept in step across processes. Generations live on providers and
//! consumers; every write that changes what a provider offers or what is allocated from it
//! bumps the provider's generation inside the same transaction (see [`super::Tx`]).

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "placement initial schema",
    statements: &[
        "CREATE TABLE resource_classes (name VARCHAR(255) PRIMARY KEY, standard BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE TABLE traits (name VARCHAR(255) PRIMARY KEY, standard BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE TABLE resource_providers (uuid VARCHAR(36) PRIMARY KEY, name VARCHAR(200) NOT NULL, generation BIGINT NOT NULL, parent_uuid VARCHAR(36), root_uuid VARCHAR(36) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX resource_providers_name ON resource_providers (name)",
        "CREATE INDEX resource_providers_root ON resource_providers (root_uuid)",
        "CREATE INDEX resource_providers_parent ON resource_providers (parent_uuid)",
        "CREATE TABLE inventories (provider_uuid VARCHAR(36) NOT NULL, resource_class VARCHAR(255) NOT NULL, total BIGINT NOT NULL, reserved BIGINT NOT NULL, min_unit BIGINT NOT NULL, max_unit BIGINT NOT NULL, step_size BIGINT NOT NULL, allocation_ratio DOUBLE PRECISION NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (provider_uuid, resource_class))",
        "CREATE INDEX inventories_class ON inventories (resource_class)",
        "CREATE TABLE consumers (uuid VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, consumer_type VARCHAR(255), generation BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE INDEX consumers_project_user ON consumers (project_id, user_id)",
        "CREATE TABLE allocations (consumer_uuid VARCHAR(36) NOT NULL, provider_uuid VARCHAR(36) NOT NULL, resource_class VARCHAR(255) NOT NULL, used BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (consumer_uuid, provider_uuid, resource_class))",
        "CREATE INDEX allocations_provider_class ON allocations (provider_uuid, resource_class)",
        "CREATE INDEX allocations_class ON allocations (resource_class)",
        "CREATE TABLE provider_traits (provider_uuid VARCHAR(36) NOT NULL, trait VARCHAR(255) NOT NULL, PRIMARY KEY (provider_uuid, trait))",
        "CREATE INDEX provider_traits_trait ON provider_traits (trait)",
        "CREATE TABLE provider_aggregates (provider_uuid VARCHAR(36) NOT NULL, aggregate_uuid VARCHAR(36) NOT NULL, PRIMARY KEY (provider_uuid, aggregate_uuid))",
        "CREATE INDEX provider_aggregates_aggregate ON provider_aggregates (aggregate_uuid)",
    ],
}];
