//! The compute schema, portable across SQLite, PostgreSQL and MariaDB (BIGINT integers, times
//! in epoch microseconds, booleans as 0/1, JSON documents in TEXT). Rows that Nova soft-deletes
//! keep `deleted` (0, or the row's own id/1 once deleted) so uniqueness holds among live rows
//! only, as in Nova.
//!
//! Integer ids that the API exposes (services, hypervisors, aggregates, migrations, instance
//! actions) are assigned by [`super::next_id`], not by the database, so the statements stay
//! portable.
//!
//! Version ranges: 1–99 the initial schema and its fixes; later migrations take the next
//! free number in this list.

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "compute initial schema",
    statements: &[
        // Flavors: `flavorid` is the API id; `id` orders them and names them internally.
        "CREATE TABLE flavors (id BIGINT PRIMARY KEY, flavorid VARCHAR(255) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL UNIQUE, memory_mb BIGINT NOT NULL, vcpus BIGINT NOT NULL, root_gb BIGINT NOT NULL, ephemeral_gb BIGINT NOT NULL, swap BIGINT NOT NULL, rxtx_factor DOUBLE PRECISION NOT NULL, vcpu_weight BIGINT, disabled BIGINT NOT NULL, is_public BIGINT NOT NULL, description TEXT, created_at BIGINT NOT NULL, updated_at BIGINT)",
        "CREATE TABLE flavor_extra_specs (flavor_id BIGINT NOT NULL, spec_key VARCHAR(255) NOT NULL, spec_value VARCHAR(255) NOT NULL, PRIMARY KEY (flavor_id, spec_key))",
        "CREATE TABLE flavor_projects (flavor_id BIGINT NOT NULL, project_id VARCHAR(255) NOT NULL, PRIMARY KEY (flavor_id, project_id))",
        // Key pairs belong to users.
        "CREATE TABLE key_pairs (user_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, key_type VARCHAR(10) NOT NULL, fingerprint VARCHAR(255) NOT NULL, public_key TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (user_id, name))",
        // Quotas: project-wide rows have user_id ''.
        "CREATE TABLE quotas (project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, hard_limit BIGINT NOT NULL, PRIMARY KEY (project_id, user_id, resource))",
        "CREATE TABLE quota_classes (class_name VARCHAR(255) NOT NULL, resource VARCHAR(255) NOT NULL, hard_limit BIGINT NOT NULL, PRIMARY KEY (class_name, resource))",
        // Host aggregates; an availability zone is an aggregate's `availability_zone` metadata.
        "CREATE TABLE aggregates (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE TABLE aggregate_hosts (aggregate_id BIGINT NOT NULL, host VARCHAR(255) NOT NULL, PRIMARY KEY (aggregate_id, host))",
        "CREATE TABLE aggregate_metadata (aggregate_id BIGINT NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value VARCHAR(255) NOT NULL, PRIMARY KEY (aggregate_id, meta_key))",
        // Services (nova-compute, nova-conductor, nova-scheduler) and their heartbeats.
        "CREATE TABLE services (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, host VARCHAR(255) NOT NULL, binary_name VARCHAR(255) NOT NULL, topic VARCHAR(255), report_count BIGINT NOT NULL, disabled BIGINT NOT NULL, disabled_reason VARCHAR(255), forced_down BIGINT NOT NULL, last_seen_up BIGINT, version BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX services_host_binary ON services (host, binary_name)",
        // Hypervisors as the resource tracker reports them.
        "CREATE TABLE compute_nodes (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, service_id BIGINT, host VARCHAR(255) NOT NULL, hypervisor_hostname VARCHAR(255) NOT NULL, hypervisor_type VARCHAR(255) NOT NULL, hypervisor_version BIGINT NOT NULL, host_ip VARCHAR(64), vcpus BIGINT NOT NULL, memory_mb BIGINT NOT NULL, local_gb BIGINT NOT NULL, vcpus_used BIGINT NOT NULL, memory_mb_used BIGINT NOT NULL, local_gb_used BIGINT NOT NULL, free_ram_mb BIGINT NOT NULL, free_disk_gb BIGINT NOT NULL, running_vms BIGINT NOT NULL, current_workload BIGINT NOT NULL, disk_available_least BIGINT, cpu_info TEXT NOT NULL, cpu_allocation_ratio DOUBLE PRECISION NOT NULL, ram_allocation_ratio DOUBLE PRECISION NOT NULL, disk_allocation_ratio DOUBLE PRECISION NOT NULL, mapped BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX compute_nodes_host ON compute_nodes (host)",
        // Servers. `flavor` holds the flavor as it was at build time (JSON, with extra specs);
        // `old_flavor`/`new_flavor` are set during a resize.
        "CREATE TABLE instances (uuid VARCHAR(36) PRIMARY KEY, id BIGINT NOT NULL UNIQUE, display_name VARCHAR(255), display_description TEXT, hostname VARCHAR(255), project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, image_ref VARCHAR(255), flavor TEXT NOT NULL, old_flavor TEXT, new_flavor TEXT, instance_type_id BIGINT, vm_state VARCHAR(255) NOT NULL, task_state VARCHAR(255), power_state BIGINT NOT NULL, host VARCHAR(255), node VARCHAR(255), launched_on VARCHAR(255), availability_zone VARCHAR(255), key_name VARCHAR(255), key_data TEXT, user_data TEXT, config_drive VARCHAR(255), locked BIGINT NOT NULL, locked_by VARCHAR(255), locked_reason TEXT, access_ip_v4 VARCHAR(64), access_ip_v6 VARCHAR(64), progress BIGINT, launch_index BIGINT, reservation_id VARCHAR(255), root_device_name VARCHAR(255), hidden BIGINT NOT NULL, trusted_certs TEXT, created_at BIGINT NOT NULL, updated_at BIGINT, launched_at BIGINT, terminated_at BIGINT, deleted BIGINT NOT NULL, deleted_at BIGINT)",
        "CREATE INDEX instances_project ON instances (project_id, deleted)",
        "CREATE INDEX instances_host ON instances (host, deleted)",
        "CREATE INDEX instances_created ON instances (created_at)",
        "CREATE INDEX instances_updated ON instances (updated_at)",
        "CREATE TABLE instance_metadata (instance_uuid VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value VARCHAR(255) NOT NULL, PRIMARY KEY (instance_uuid, meta_key))",
        "CREATE TABLE instance_system_metadata (instance_uuid VARCHAR(36) NOT NULL, meta_key VARCHAR(255) NOT NULL, meta_value TEXT, PRIMARY KEY (instance_uuid, meta_key))",
        "CREATE TABLE instance_tags (instance_uuid VARCHAR(36) NOT NULL, tag VARCHAR(60) NOT NULL, PRIMARY KEY (instance_uuid, tag))",
        "CREATE TABLE instance_faults (id BIGINT PRIMARY KEY, instance_uuid VARCHAR(36) NOT NULL, code BIGINT NOT NULL, message VARCHAR(255) NOT NULL, details TEXT, host VARCHAR(255), created_at BIGINT NOT NULL)",
        "CREATE INDEX instance_faults_instance ON instance_faults (instance_uuid)",
        // The network info cache (the `addresses` of a server) and the build request spec.
        "CREATE TABLE instance_info_caches (instance_uuid VARCHAR(36) PRIMARY KEY, network_info TEXT NOT NULL, updated_at BIGINT)",
        "CREATE TABLE request_specs (instance_uuid VARCHAR(36) PRIMARY KEY, spec TEXT NOT NULL, updated_at BIGINT)",
        // Instance actions and their events: what `openstack server event list` shows.
        "CREATE TABLE instance_actions (id BIGINT PRIMARY KEY, request_id VARCHAR(255) NOT NULL, instance_uuid VARCHAR(36) NOT NULL, action VARCHAR(255) NOT NULL, project_id VARCHAR(255), user_id VARCHAR(255), message VARCHAR(255), start_time BIGINT NOT NULL, finish_time BIGINT, updated_at BIGINT)",
        "CREATE INDEX instance_actions_instance ON instance_actions (instance_uuid, request_id)",
        "CREATE TABLE instance_action_events (id BIGINT PRIMARY KEY, action_id BIGINT NOT NULL, event VARCHAR(255) NOT NULL, result VARCHAR(255), traceback TEXT, host VARCHAR(255), details TEXT, start_time BIGINT NOT NULL, finish_time BIGINT)",
        "CREATE INDEX instance_action_events_action ON instance_action_events (action_id)",
        // Block devices of a server (image, volume, snapshot, blank sources).
        "CREATE TABLE block_device_mappings (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, instance_uuid VARCHAR(36) NOT NULL, boot_index BIGINT, source_type VARCHAR(255) NOT NULL, destination_type VARCHAR(255) NOT NULL, device_name VARCHAR(255), device_type VARCHAR(255), disk_bus VARCHAR(255), guest_format VARCHAR(255), image_id VARCHAR(36), volume_id VARCHAR(36), snapshot_id VARCHAR(36), volume_size BIGINT, volume_type VARCHAR(255), delete_on_termination BIGINT NOT NULL, no_device BIGINT NOT NULL, tag VARCHAR(255), attachment_id VARCHAR(36), connection_info TEXT, created_at BIGINT NOT NULL, updated_at BIGINT, deleted BIGINT NOT NULL)",
        "CREATE INDEX block_device_mappings_instance ON block_device_mappings (instance_uuid)",
        // Server groups and their members.
        "CREATE TABLE instance_groups (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, name VARCHAR(255), project_id VARCHAR(255) NOT NULL, user_id VARCHAR(255) NOT NULL, policy VARCHAR(255) NOT NULL, rules TEXT, created_at BIGINT NOT NULL, updated_at BIGINT)",
        "CREATE TABLE instance_group_members (group_id BIGINT NOT NULL, instance_uuid VARCHAR(36) NOT NULL, PRIMARY KEY (group_id, instance_uuid))",
        // Migrations: cold, live, resize and evacuation records.
        "CREATE TABLE migrations (id BIGINT PRIMARY KEY, uuid VARCHAR(36) NOT NULL UNIQUE, instance_uuid VARCHAR(36) NOT NULL, source_compute VARCHAR(255), dest_compute VARCHAR(255), source_node VARCHAR(255), dest_node VARCHAR(255), dest_host VARCHAR(255), old_instance_type_id BIGINT, new_instance_type_id BIGINT, status VARCHAR(255) NOT NULL, migration_type VARCHAR(255) NOT NULL, hidden BIGINT NOT NULL, memory_total BIGINT, memory_processed BIGINT, memory_remaining BIGINT, disk_total BIGINT, disk_processed BIGINT, disk_remaining BIGINT, project_id VARCHAR(255), user_id VARCHAR(255), created_at BIGINT NOT NULL, updated_at BIGINT, deleted BIGINT NOT NULL)",
        "CREATE INDEX migrations_instance ON migrations (instance_uuid)",
    ],
}, Migration {
    version: 2,
    name: "key pair ids, compute node stats, live service and node uniqueness",
    statements: &[
        // Nova shows a key pair's integer id (assigned by next_id).
        "ALTER TABLE key_pairs ADD COLUMN id BIGINT NOT NULL DEFAULT 0",
        "CREATE UNIQUE INDEX key_pairs_id ON key_pairs (id)",
        // What the resource tracker reports beyond the columns (JSON, e.g. `uptime`).
        "ALTER TABLE compute_nodes ADD COLUMN stats TEXT",
        // One live service per host and binary, one live node per host and hypervisor name:
        // concurrent registrations then meet on the constraint instead of duplicating rows.
        "CREATE UNIQUE INDEX services_host_binary_live ON services (host, binary_name, deleted)",
        "CREATE UNIQUE INDEX compute_nodes_host_node_live ON compute_nodes (host, hypervisor_hostname, deleted)",
        "CREATE UNIQUE INDEX aggregates_name_live ON aggregates (name, deleted)",
    ],
}, Migration {
    version: 3,
    name: "instance auto disk config",
    statements: &[
        // OS-DCF:diskConfig: AUTO (1) resizes the root partition to the flavor's disk.
        "ALTER TABLE instances ADD COLUMN auto_disk_config BIGINT NOT NULL DEFAULT 0",
    ],
}];
