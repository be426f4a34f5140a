//! The block storage schema, portable across SQLite, PostgreSQL and MariaDB (BIGINT integers,
//! times in epoch microseconds, booleans as 0/1; `binary`, `key` and `value` are reserved
//! words on MariaDB, hence `service_binary`, `meta_key`, `spec_key`…). Volumes, snapshots and
//! attachments are soft-deleted as in Cinder (`deleted = 1`), so their ids are never reused
//! and an admin can still see what was there.

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "volume initial schema",
    statements: &[
        "CREATE TABLE volume_types (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT, is_public BIGINT NOT NULL, qos_specs_id VARCHAR(36), created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, CONSTRAINT volume_types_name UNIQUE (name))",
        "CREATE TABLE volume_type_extra_specs (volume_type_id VARCHAR(36) NOT NULL, spec_key VARCHAR(255) NOT NULL, spec_value TEXT NOT NULL, PRIMARY KEY (volume_type_id, spec_key))",
        "CREATE TABLE volume_type_projects (volume_type_id VARCHAR(36) NOT NULL, project_id VARCHAR(255) NOT NULL, PRIMARY KEY (volume_type_id, project_id))",
        "CREATE TABLE volumes (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, display_name VARCHAR(255), display_description TEXT, size BIGINT NOT NULL, status VARCHAR(32) NOT NULL, previous_status VARCHAR(32), attach_status VARCHAR(32) NOT NULL, migration_status VARCHAR(32), availability_zone VARCHAR(255), volume_type_id VARCHAR(36) NOT NULL, host VARCHAR(255), snapshot_id VARCHAR(36), source_volid VARCHAR(36), bootable BIGINT NOT NULL, multiattach BIGINT NOT NULL, provider_location TEXT, provider_id VARCHAR(255), replication_status VARCHAR(32), group_id VARCHAR(36), encryption_key_id VARCHAR(36), service_uuid VARCHAR(36), use_quota BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, launched_at BIGINT, terminated_at BIGINT, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX volumes_project ON volumes (project_id)",
        "CREATE INDEX volumes_host ON volumes (host)",
        "CREATE INDEX volumes_status ON volumes (status)",
        "CREATE TABLE volume_metadata (volume_id VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value TEXT NOT NULL, PRIMARY KEY (volume_id, meta_key))",
        "CREATE TABLE volume_admin_metadata (volume_id VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value TEXT NOT NULL, PRIMARY KEY (volume_id, meta_key))",
        "CREATE TABLE volume_glance_metadata (volume_id VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value TEXT NOT NULL, PRIMARY KEY (volume_id, meta_key))",
        "CREATE TABLE snapshots (id VARCHAR(36) PRIMARY KEY, volume_id VARCHAR(36) NOT NULL, project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, display_name VARCHAR(255), display_description TEXT, status VARCHAR(32) NOT NULL, progress VARCHAR(255), volume_size BIGINT NOT NULL, volume_type_id VARCHAR(36), provider_location TEXT, group_snapshot_id VARCHAR(36), use_quota BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX snapshots_volume ON snapshots (volume_id)",
        "CREATE INDEX snapshots_project ON snapshots (project_id)",
        "CREATE TABLE snapshot_metadata (snapshot_id VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value TEXT NOT NULL, PRIMARY KEY (snapshot_id, meta_key))",
        "CREATE TABLE volume_attachment (id VARCHAR(36) PRIMARY KEY, volume_id VARCHAR(36) NOT NULL, instance_uuid VARCHAR(36), attached_host VARCHAR(255), mountpoint VARCHAR(255), attach_time BIGINT, detach_time BIGINT, attach_mode VARCHAR(36), attach_status VARCHAR(255) NOT NULL, connector TEXT, connection_info TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX volume_attachment_volume ON volume_attachment (volume_id)",
        "CREATE TABLE services (id BIGINT PRIMARY KEY, host VARCHAR(255) NOT NULL, service_binary VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, availability_zone VARCHAR(255) NOT NULL, disabled BIGINT NOT NULL, disabled_reason VARCHAR(255), report_count BIGINT NOT NULL, frozen BIGINT NOT NULL, replication_status VARCHAR(36), active_backend_id VARCHAR(255), created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, CONSTRAINT services_host_binary UNIQUE (host, service_binary))",
        "CREATE TABLE volume_pools (name VARCHAR(255) PRIMARY KEY, backend VARCHAR(255) NOT NULL, capabilities TEXT NOT NULL, updated_at BIGINT NOT NULL)",
        "CREATE TABLE quotas (project_id VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, hard_limit BIGINT NOT NULL, PRIMARY KEY (project_id, resource))",
        "CREATE TABLE quota_classes (class_name VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, hard_limit BIGINT NOT NULL, PRIMARY KEY (class_name, resource))",
    ],
}, Migration {
    version: 2,
    name: "qos specs",
    statements: &[
        "CREATE TABLE qos_specs (id VARCHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, consumer VARCHAR(32) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, CONSTRAINT qos_specs_name UNIQUE (name))",
        "CREATE TABLE qos_specs_keys (qos_specs_id VARCHAR(36) NOT NULL, spec_key VARCHAR(255) NOT NULL, spec_value TEXT NOT NULL, PRIMARY KEY (qos_specs_id, spec_key))",
    ],
}, Migration {
    version: 3,
    // MySQL gets TEXT as VARCHAR(4000) (see monostack_db::migrate), and a row's VARCHARs must fit
    // in 64 KiB: three such columns do, four did not, so service_metadata (a short file prefix) is
    // a VARCHAR(255).
    name: "backups",
    statements: &[
        "CREATE TABLE backups (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, volume_id VARCHAR(36) NOT NULL, display_name VARCHAR(255), display_description TEXT, status VARCHAR(32) NOT NULL, fail_reason TEXT, size BIGINT NOT NULL, object_count BIGINT NOT NULL, availability_zone VARCHAR(255), container VARCHAR(255), service VARCHAR(255), host VARCHAR(255), parent_id VARCHAR(36), snapshot_id VARCHAR(36), data_timestamp BIGINT, restore_volume_id VARCHAR(36), num_dependent_backups BIGINT NOT NULL, service_metadata VARCHAR(255), metadata TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX backups_project ON backups (project_id)",
        "CREATE INDEX backups_volume ON backups (volume_id)",
    ],
}, Migration {
    version: 4,
    name: "encryption",
    statements: &[
        "CREATE TABLE encryption (volume_type_id VARCHAR(36) PRIMARY KEY, encryption_id VARCHAR(36) NOT NULL, provider VARCHAR(255) NOT NULL, cipher VARCHAR(255), key_size BIGINT, control_location VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    ],
}, Migration {
    version: 5,
    name: "transfers",
    statements: &[
        "CREATE TABLE transfers (id VARCHAR(36) PRIMARY KEY, volume_id VARCHAR(36) NOT NULL, display_name VARCHAR(255), salt VARCHAR(255) NOT NULL, crypt_hash VARCHAR(255) NOT NULL, source_project_id VARCHAR(255) NOT NULL, destination_project_id VARCHAR(255), accepted BIGINT NOT NULL, no_snapshots BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX transfers_volume ON transfers (volume_id)",
    ],
}];

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn migrations_apply_once_and_twice_is_a_no_op() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = monostack_db::Database::connect(None, dir.path(), "volume", 1)
            .await
            .expect("connect");
        assert_eq!(
            db.migrate(super::MIGRATIONS).await.expect("migrate"),
            super::MIGRATIONS.len()
        );
        assert_eq!(db.migrate(super::MIGRATIONS).await.expect("again"), 0);
    }
}
