//! The monostack configuration: one TOML file with one section per service.
//!
//! Every option has a default and a doc string (`monostack config` prints them), so
//! `monostack all-in-one` works with no file at all. Any option can be overridden from the
//! environment as `MONOSTACK__<SECTION>__<OPTION>` (e.g. `MONOSTACK__DATABASE__CONNECTION`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One documented option, as printed by `monostack config`.
#[derive(Debug, Clone)]
pub struct OptionDoc {
    pub name: &'static str,
    pub default: String,
    pub doc: &'static str,
}

/// Declares a config section: a struct whose fields each have a default and a doc comment.
macro_rules! section {
    ($(#[doc = $sdoc:literal])* $name:ident ($key:literal) {
        $( $(#[doc = $doc:literal])+ $field:ident : $ty:ty = $default:expr, )*
    }) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name { $( $(#[doc = $doc])+ pub $field: $ty, )* }

        impl Default for $name {
            fn default() -> Self { Self { $( $field: $default, )* } }
        }

        impl $name {
            /// The section's name in the TOML file.
            pub const SECTION: &'static str = $key;
            /// Every option of this section with its default and doc.
            pub fn describe() -> Vec<OptionDoc> {
                let defaults = Self::default();
                vec![$( OptionDoc {
                    name: stringify!($field),
                    default: render_default(&defaults.$field),
                    doc: concat!($($doc, "\n"),+),
                }, )*]
            }
        }
    };
}

fn render_default<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Null) => "<unset>".into(),
        Ok(v) => v.to_string(),
        Err(_) => "<unprintable>".into(),
    }
}

section! {
    /// Options shared by every service.
    DefaultSection ("DEFAULT") {
        /// Directory holding databases, keys, images and generated credentials. Unset means
        /// /var/lib/monostack when running as root, ./.monostack otherwise.
        state_dir: Option<PathBuf> = None,
        /// Address every API listens on.
        bind_host: String = "127.0.0.1".into(),
        /// Host name put in catalog URLs. Unset means bind_host (or 127.0.0.1 when bind_host
        /// is a wildcard address).
        public_host: Option<String> = None,
        /// The region this deployment registers its endpoints in.
        region: String = "RegionOne".into(),
        /// Log at DEBUG level.
        debug: bool = false,
        /// Write logs to this file instead of standard error.
        log_file: Option<PathBuf> = None,
        /// Largest request body accepted by any API, in bytes (oslo's max_request_body_size).
        max_request_body_size: usize = 114_688,
    }
}

section! {
    /// Database connection used by every service.
    DatabaseSection ("database") {
        /// SQL connection URL. Unset means one SQLite file per service in the state directory.
        /// `postgresql://user@host/NAME` or `mysql://user@host/NAME` use one database per service
        /// named NAME_<service> (created when missing); put `{service}` in the URL to choose
        /// the database name yourself.
        connection: Option<String> = None,
        /// Connections per service pool.
        max_pool_size: u32 = 8,
    }
}

section! {
    /// The message bus between services.
    BusSection ("bus") {
        /// Transport URL; unset means the in-process bus (all-in-one only).
        /// `rabbit://user:pass@host:5672/` selects RabbitMQ.
        transport_url: Option<String> = None,
        /// Default timeout of an RPC call, in seconds (oslo's rpc_response_timeout).
        rpc_response_timeout: u64 = 60,
    }
}

section! {
    /// Identity service (Keystone v3).
    IdentitySection ("identity") {
        /// Port of the identity API.
        port: u16 = 5000,
        /// Password of the bootstrap admin user; unset means a random one is generated on the
        /// first start and written to clouds.yaml and openrc in the state directory.
        admin_password: Option<String> = None,
        /// Name of the bootstrap admin user.
        admin_username: String = "admin".into(),
        /// Name of the bootstrap admin project.
        admin_project_name: String = "admin".into(),
        /// Lifetime of a token, in seconds.
        token_expiration: i64 = 86_400,
        /// How long after expiry a token may still be validated with allow_expired, in seconds.
        allow_expired_window: i64 = 172_800,
        /// bcrypt cost for stored passwords (Keystone's password_hash_rounds).
        password_hash_rounds: u32 = 12,
        /// Fernet key repository; unset means <state_dir>/fernet-keys.
        key_repository: Option<PathBuf> = None,
        /// Keys kept by rotation: one staged, one primary, the rest secondary.
        max_active_keys: usize = 3,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/identity.yaml if it exists.
        policy_file: Option<PathBuf> = None,
        /// Most entities a list call returns (Keystone's list_limit); 0 means no limit.
        list_limit: usize = 0,
    }
}

section! {
    /// Token validation for services that are not co-located with identity
    /// (keystonemiddleware's [keystone_authtoken]).
    AuthTokenSection ("keystone_authtoken") {
        /// Identity endpoint used to validate tokens remotely; unset means validate in-process.
        auth_url: Option<String> = None,
        /// Seconds a remotely validated token is cached (revocations are also pushed on the bus).
        token_cache_time: u64 = 300,
    }
}

section! {
    /// Image service (Glance v2).
    ImageSection ("image") {
        /// Port of the image API.
        port: u16 = 9292,
        /// Directory of the filesystem store: one file per image, named by its id. Unset means
        /// <state_dir>/images.
        filesystem_store_datadir: Option<PathBuf> = None,
        /// Directory where `PUT /v2/images/{id}/stage` keeps data until it is imported (Glance's
        /// node_staging_uri). Unset means <state_dir>/image-staging.
        staging_dir: Option<PathBuf> = None,
        /// Largest image accepted, in bytes (Glance's image_size_cap).
        image_size_cap: u64 = 1_099_511_627_776,
        /// Enforce the per-project image quotas registered in identity as unified limits
        /// (image_count_total, image_count_uploading, image_size_total and image_stage_total,
        /// sizes in MiB). A resource without a registered limit is not limited.
        use_keystone_limits: bool = true,
        /// Import methods offered by /v2/info/import.
        enabled_import_methods: Vec<String> = vec!["glance-direct".into(), "web-download".into(), "copy-image".into()],
        /// Page size of image lists when the request gives no limit.
        limit_param_default: usize = 25,
        /// Largest page an image list returns.
        api_limit_max: usize = 1000,
        /// Most members an image may have.
        image_member_quota: usize = 128,
        /// Most custom properties an image may have.
        image_property_quota: usize = 128,
        /// Most tags an image may have.
        image_tag_quota: usize = 128,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/image.yaml if it exists.
        policy_file: Option<PathBuf> = None,
    }
}

section! {
    /// The placement service (Placement API): resource providers, inventories, allocations.
    PlacementSection ("placement") {
        /// Port of the placement API.
        port: u16 = 8778,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/placement.yaml if it exists.
        policy_file: Option<PathBuf> = None,
    }
}

section! {
    /// The compute service (Nova): API, conductor and compute agents, and the hosts' resources.
    ComputeSection ("compute") {
        /// Port of the compute API, served at /v2.1.
        port: u16 = 8774,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/compute.yaml if it exists.
        policy_file: Option<PathBuf> = None,
        /// The virt driver of this node's compute agent: `fake` (simulated hypervisors).
        compute_driver: String = "fake".into(),
        /// Virtual CPU to physical CPU allocation ratio (Nova's cpu_allocation_ratio).
        cpu_allocation_ratio: f64 = 16.0,
        /// Virtual RAM to physical RAM allocation ratio (Nova's ram_allocation_ratio).
        ram_allocation_ratio: f64 = 1.5,
        /// Virtual disk to physical disk allocation ratio (Nova's disk_allocation_ratio).
        disk_allocation_ratio: f64 = 1.0,
        /// The availability zone of compute hosts that no aggregate puts in a zone (Nova's
        /// default_availability_zone).
        default_availability_zone: String = "nova".into(),
        /// The availability zone shown for non-compute services (conductor, scheduler); never
        /// listed to users (Nova's internal_service_availability_zone).
        internal_service_availability_zone: String = "internal".into(),
        /// Seconds between two heartbeats of a service (Nova's report_interval).
        report_interval: u64 = 10,
        /// A service whose last heartbeat is older than this many seconds is down (Nova's
        /// service_down_time).
        service_down_time: u64 = 60,
        /// Seconds a deleted server is kept (SOFT_DELETED, restorable) before it is reclaimed;
        /// 0 deletes at once (Nova's reclaim_instance_interval).
        reclaim_instance_interval: u64 = 0,
        /// Allow a resize to pick the server's current host (Nova's allow_resize_to_same_host;
        /// useful on single-host clouds).
        allow_resize_to_same_host: bool = false,
        /// Name this node's compute service registers under (Nova's [DEFAULT] host); unset
        /// means the machine's host name.
        host: Option<String> = None,
        /// Seconds a SHELVED server keeps its host before it is offloaded: 0 offloads at once,
        /// a negative value never (Nova's shelved_offload_time).
        shelved_offload_time: i64 = 0,
        /// Seconds between two checks for shelved servers due for offloading (Nova's
        /// shelved_poll_interval).
        shelved_poll_interval: u64 = 3600,
        /// Seconds after which a resized server is confirmed automatically; 0 never (Nova's
        /// resize_confirm_window).
        resize_confirm_window: u64 = 0,
        /// Seconds between two resource tracker reports of every node (Nova's
        /// update_resources_interval, which runs every periodic tick, 60 s, when 0).
        update_resources_interval: u64 = 60,
        /// Seconds between two comparisons of the hypervisor's power states with the database;
        /// a negative value disables it (Nova's sync_power_state_interval).
        sync_power_state_interval: i64 = 600,
    }
}

section! {
    /// Default compute quotas per project (Nova's [quota]); -1 means unlimited. The quota
    /// class `default` and per-project or per-user limits set through the API override them.
    QuotaSection ("quota") {
        /// Instances per project.
        instances: i64 = 10,
        /// Instance cores (vCPUs) per project.
        cores: i64 = 20,
        /// Megabytes of instance RAM per project.
        ram: i64 = 51_200,
        /// Metadata items per instance.
        metadata_items: i64 = 128,
        /// Injected files per instance.
        injected_files: i64 = 5,
        /// Bytes of content per injected file.
        injected_file_content_bytes: i64 = 10_240,
        /// Characters in an injected file's path.
        injected_file_path_length: i64 = 255,
        /// Key pairs per user.
        key_pairs: i64 = 100,
        /// Server groups per project.
        server_groups: i64 = 10,
        /// Servers per server group.
        server_group_members: i64 = 10,
    }
}

section! {
    /// The compute scheduler: how placement candidates are filtered and weighed.
    SchedulerSection ("scheduler") {
        /// How many hosts a build may try before it ends in ERROR (Nova's max_attempts).
        max_attempts: u32 = 3,
    }
}

section! {
    /// The filter scheduler: the filters every host must pass and the weighers that rank the
    /// survivors (Nova's [filter_scheduler]).
    FilterSchedulerSection ("filter_scheduler") {
        /// Filters applied in this order; each one's survivors feed the next (Nova's
        /// enabled_filters). Also known: CoreFilter, AggregateInstanceExtraSpecsFilter,
        /// AggregateMultiTenancyIsolation, AggregateImagePropertiesIsolation, SameHostFilter,
        /// DifferentHostFilter, IsolatedHostsFilter, NumInstancesFilter,
        /// AggregateNumInstancesFilter, AggregateRamFilter, AggregateDiskFilter,
        /// AggregateCoreFilter, AllHostsFilter. An unknown name stops the start-up.
        enabled_filters: Vec<String> = [
            "RetryFilter", "AvailabilityZoneFilter", "RamFilter", "DiskFilter", "ComputeFilter",
            "ComputeCapabilitiesFilter", "ImagePropertiesFilter", "ServerGroupAntiAffinityFilter",
            "ServerGroupAffinityFilter",
        ].map(String::from).to_vec(),
        /// Weighers that rank the hosts left after filtering (Nova's weight_classes): RAMWeigher,
        /// CPUWeigher, DiskWeigher, ServerGroupSoftAffinityWeigher,
        /// ServerGroupSoftAntiAffinityWeigher.
        weight_classes: Vec<String> = [
            "RAMWeigher", "CPUWeigher", "DiskWeigher", "ServerGroupSoftAffinityWeigher",
            "ServerGroupSoftAntiAffinityWeigher",
        ].map(String::from).to_vec(),
        /// Weight of free RAM; positive spreads instances, negative stacks them. Aggregate
        /// metadata `ram_weight_multiplier` overrides it per host.
        ram_weight_multiplier: f64 = 1.0,
        /// Weight of free vCPUs; positive spreads, negative stacks.
        cpu_weight_multiplier: f64 = 1.0,
        /// Weight of free disk; positive spreads, negative stacks.
        disk_weight_multiplier: f64 = 1.0,
        /// Weight of a soft-affinity group's members already on a host.
        soft_affinity_weight_multiplier: f64 = 1.0,
        /// Weight against a soft-anti-affinity group's members already on a host.
        soft_anti_affinity_weight_multiplier: f64 = 1.0,
        /// The host is picked at random among this many best-weighed hosts (1: always the best).
        host_subset_size: u32 = 1,
        /// Shuffle the hosts that share the best weight before picking.
        shuffle_best_same_weighed_hosts: bool = false,
        /// Architecture ImagePropertiesFilter assumes for images without hw_architecture.
        image_properties_default_architecture: Option<String> = None,
        /// AggregateImagePropertiesIsolation compares only aggregate metadata keys in this
        /// namespace; unset compares every key.
        aggregate_image_properties_isolation_namespace: Option<String> = None,
        /// Separator between that namespace and the key.
        aggregate_image_properties_isolation_separator: String = ".".into(),
        /// IsolatedHostsFilter: images that may only run on isolated_hosts.
        isolated_images: Vec<String> = Vec::new(),
        /// IsolatedHostsFilter: hosts reserved for isolated_images.
        isolated_hosts: Vec<String> = Vec::new(),
        /// IsolatedHostsFilter: isolated hosts refuse every other image.
        restrict_isolated_hosts_to_isolated_images: bool = true,
        /// NumInstancesFilter: most instances a host may run.
        max_instances_per_host: u32 = 50,
    }
}

section! {
    /// The fake virt driver (compute_driver = "fake"): hypervisors simulated in memory, for
    /// tests and scale simulations. Durable state stays in the database.
    FakeDriverSection ("fake_driver") {
        /// How many hypervisor nodes this compute agent simulates.
        node_count: u32 = 1,
        /// Node names are this prefix followed by 1..node_count (fake-1, fake-2, ...).
        node_name_prefix: String = "fake-".into(),
        /// vCPUs of each node.
        vcpus: u32 = 32,
        /// RAM of each node, in MiB.
        memory_mb: u64 = 65_536,
        /// Local disk of each node, in GiB.
        local_gb: u64 = 1_000,
        /// Hypervisor type each node reports (what ImagePropertiesFilter matches img_hv_type to).
        hypervisor_type: String = "fake".into(),
        /// Hypervisor version each node reports, as Nova encodes it (1000 = 1.0, 6002000 = 6.2.0).
        hypervisor_version: u64 = 1_000,
        /// CPU architecture each node reports.
        cpu_arch: String = "x86_64".into(),
        /// Simulated duration of a spawn, in milliseconds.
        spawn_delay_ms: u64 = 0,
        /// Simulated duration of every other instance operation, in milliseconds.
        action_delay_ms: u64 = 0,
        /// Spawns on these nodes fail (to exercise rescheduling).
        fail_spawn_on_nodes: Vec<String> = Vec::new(),
        /// Spawns of instances whose display name or instance name matches this regular
        /// expression fail.
        fail_spawn_name_regex: Option<String> = None,
        /// Run each simulated node as its own compute host `<host>-<i>` (one compute service
        /// per node, for scale tests) instead of all nodes under one host.
        host_per_node: bool = false,
    }
}

section! {
    /// Catalog ports of services that are registered from day one.
    CatalogSection ("catalog") {
        /// Unused: the catalog registers [volume] port since the block storage service exists
        /// (kept so existing files still load).
        volume_port: u16 = 8776,
        /// Unused: the catalog registers [network] port since the networking service exists
        /// (kept so existing files still load).
        network_port: u16 = 9696,
    }
}

section! {
    /// The block storage service (Cinder v3): its API, scheduler and volume managers.
    VolumeSection ("volume") {
        /// Port of the block storage API, served at /v3 (and /v3/<project_id>).
        port: u16 = 8776,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/volume.yaml if it exists.
        policy_file: Option<PathBuf> = None,
        /// Name this node's volume services register under (Cinder's [DEFAULT] host); unset
        /// means the machine's host name. Backends are `<host>@<backend>`, pools
        /// `<host>@<backend>#<pool>`.
        host: Option<String> = None,
        /// Backends this node's volume manager serves, each configured in a
        /// [volume_backends.<name>] section (Cinder's enabled_backends). Empty runs no volume
        /// manager on this node.
        enabled_backends: Vec<String> = vec!["file-1".into()],
        /// Volume type of volumes created without one (Cinder's default_volume_type). It is
        /// created at start-up when missing.
        default_volume_type: String = "__DEFAULT__".into(),
        /// Availability zone of this node's volume services (Cinder's storage_availability_zone);
        /// a backend may override it with backend_availability_zone.
        storage_availability_zone: String = "nova".into(),
        /// Availability zone of volumes created without one; unset means
        /// storage_availability_zone (Cinder's default_availability_zone).
        default_availability_zone: Option<String> = None,
        /// Create the volume in default_availability_zone when the requested zone does not
        /// exist, instead of refusing the request (Cinder's allow_availability_zone_fallback).
        allow_availability_zone_fallback: bool = false,
        /// Seconds between two heartbeats of a volume service (Cinder's report_interval).
        report_interval: u64 = 10,
        /// A service whose last heartbeat is older than this many seconds is down (Cinder's
        /// service_down_time).
        service_down_time: u64 = 60,
        /// Seconds between two capacity reports of each backend to the schedulers (Cinder's
        /// periodic_interval for update_service_capabilities).
        periodic_interval: u64 = 60,
        /// Filters every backend pool must pass, in this order (Cinder's
        /// scheduler_default_filters): AvailabilityZoneFilter, CapacityFilter,
        /// CapabilitiesFilter. An unknown name stops the start-up.
        scheduler_default_filters: Vec<String> = vec!["AvailabilityZoneFilter".into(), "CapacityFilter".into(), "CapabilitiesFilter".into()],
        /// Weighers ranking the pools left (Cinder's scheduler_default_weighers): CapacityWeigher.
        scheduler_default_weighers: Vec<String> = vec!["CapacityWeigher".into()],
        /// Weight of free capacity; positive spreads volumes, negative stacks them (Cinder's
        /// capacity_weight_multiplier).
        capacity_weight_multiplier: f64 = 1.0,
        /// Largest page a list returns (Cinder's osapi_max_limit).
        osapi_max_limit: usize = 1000,
        /// Volumes per project (Cinder's quota_volumes); -1 is unlimited. Per-project values
        /// set through os-quota-sets override these defaults.
        quota_volumes: i64 = 10,
        /// Snapshots per project (Cinder's quota_snapshots).
        quota_snapshots: i64 = 10,
        /// GiB of volumes and snapshots per project (Cinder's quota_gigabytes).
        quota_gigabytes: i64 = 1000,
        /// Backups per project (Cinder's quota_backups).
        quota_backups: i64 = 10,
        /// GiB of backups per project (Cinder's quota_backup_gigabytes).
        quota_backup_gigabytes: i64 = 1000,
        /// Groups per project (Cinder's quota_groups).
        quota_groups: i64 = 10,
        /// Largest volume, in GiB (Cinder's per_volume_size_limit); -1 is unlimited.
        per_volume_size_limit: i64 = -1,
        /// Directory the backup service (cinder-backup) keeps backups in (Cinder's
        /// backup_posix_path); unset means <state_dir>/backups. An NFS mount shares it.
        backup_posix_path: Option<PathBuf> = None,
        /// Largest chunk of a backup, in bytes of volume data (Cinder's backup_file_size),
        /// rounded down to whole 32 KiB blocks.
        backup_file_size: u64 = 1999994880,
        /// How backup chunks are compressed (Cinder's backup_compression_algorithm): `zlib`
        /// (also `gzip`), or `none` (also `off`, `no`) for data that does not compress, where
        /// zlib costs most of a backup's time. Restores read either.
        backup_compression_algorithm: String = "zlib".into(),
    }
}

section! {
    /// One volume backend: a [volume_backends.<name>] section per name in
    /// [volume] enabled_backends (Cinder's per-backend configuration group).
    VolumeBackendSection ("volume_backends.file-1") {
        /// The driver: `file` (raw or qcow2 files in a directory, made with qemu-img, as
        /// Cinder's NFS driver), `lvm` (logical volumes of volume_group) or `fake` (simulated,
        /// for tests and scale simulations).
        volume_driver: String = "file".into(),
        /// The name volume types select with the extra spec volume_backend_name; unset means
        /// the section's name.
        volume_backend_name: Option<String> = None,
        /// Availability zone of this backend; unset means [volume] storage_availability_zone
        /// (Cinder's backend_availability_zone).
        backend_availability_zone: Option<String> = None,
        /// file: directory holding the volume files; unset means <state_dir>/volumes/<name>.
        file_volume_dir: Option<PathBuf> = None,
        /// file: format of new volume files, `raw` or `qcow2` (Cinder's nfs_qcow2_volumes).
        file_volume_format: String = "raw".into(),
        /// file: create raw files sparse (Cinder's nfs_sparsed_volumes); false preallocates.
        file_sparsed_volumes: bool = true,
        /// file and fake: capacity reported, in GiB; unset means the file system's size (fake:
        /// 1000).
        capacity_gb: Option<u64> = None,
        /// lvm: the volume group holding the volumes (Cinder's volume_group).
        volume_group: String = "cinder-volumes".into(),
        /// How a deleted volume's data is wiped: `zero` (overwrite with zeros) or `none`
        /// (Cinder's volume_clear).
        volume_clear: String = "zero".into(),
        /// MiB wiped from the start of a deleted volume; 0 wipes all of it (Cinder's
        /// volume_clear_size).
        volume_clear_size: u64 = 0,
        /// Percentage of the backend kept free by the scheduler (Cinder's reserved_percentage).
        reserved_percentage: u32 = 0,
        /// Provisioned-to-real capacity ratio allowed on thin-provisioned backends (Cinder's
        /// max_over_subscription_ratio).
        max_over_subscription_ratio: f64 = 20.0,
    }
}

section! {
    /// The networking service (Neutron v2.0) server.
    NetworkSection ("network") {
        /// Port of the networking API, served at /v2.0.
        port: u16 = 9696,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/network.yaml if it exists.
        policy_file: Option<PathBuf> = None,
        /// MTU of the underlying physical network; overlay networks get it minus their
        /// encapsulation overhead (Neutron's global_physnet_mtu).
        global_physnet_mtu: u32 = 1500,
        /// Availability zones of networks whose availability_zone_hints are empty (Neutron's
        /// default_availability_zones); the DHCP agents' zone when no agent reports one.
        default_availability_zones: Vec<String> = Vec::new(),
        /// The availability zone network agents report (Neutron's [AGENT] availability_zone).
        availability_zone: String = "nova".into(),
        /// Domain appended to port dns_name values (Neutron's dns_domain).
        dns_domain: String = "openstacklocal.".into(),
        /// Most DNS name servers per subnet (Neutron's max_dns_nameservers).
        max_dns_nameservers: u32 = 5,
        /// Most host routes per subnet (Neutron's max_subnet_host_routes).
        max_subnet_host_routes: u32 = 20,
        /// Most allowed address pairs per port (Neutron's max_allowed_address_pair).
        max_allowed_address_pair: u32 = 10,
        /// SNAT on router gateways whose external_gateway_info leaves enable_snat out
        /// (Neutron's enable_snat_by_default).
        enable_snat_by_default: bool = true,
        /// Most static routes per router (Neutron's max_routes).
        max_routes: u32 = 30,
        /// Seconds without a heartbeat after which an agent is shown dead (Neutron's
        /// agent_down_time).
        agent_down_time: u32 = 75,
        /// DHCP agents a network with DHCP-enabled subnets is scheduled to (Neutron's
        /// dhcp_agents_per_network); 0 leaves scheduling to the admin.
        dhcp_agents_per_network: u32 = 1,
        /// Networks per project; -1 is unlimited (Neutron's [QUOTAS] quota_network).
        quota_network: i64 = 100,
        /// Subnets per project (quota_subnet).
        quota_subnet: i64 = 100,
        /// Ports per project (quota_port).
        quota_port: i64 = 500,
        /// Routers per project (quota_router).
        quota_router: i64 = 10,
        /// Floating IPs per project (quota_floatingip).
        quota_floatingip: i64 = 50,
        /// Security groups per project, the default group included (quota_security_group).
        quota_security_group: i64 = 10,
        /// Security group rules per project (quota_security_group_rule).
        quota_security_group_rule: i64 = 100,
        /// Tell compute (os-server-external-events, as the `neutron` service user) when the
        /// status of a port of a server changes: network-vif-plugged / network-vif-unplugged
        /// (Neutron's notify_nova_on_port_status_changes).
        notify_nova_on_port_status_changes: bool = true,
        /// Tell compute when a server's port is deleted or its addresses or floating IPs change
        /// (network-vif-deleted, network-changed; Neutron's notify_nova_on_port_data_changes).
        notify_nova_on_port_data_changes: bool = true,
        /// All-in-one only: run a stand-in for the L3 agent until the Linux data plane exists.
        /// It registers as an L3 agent of this host and, through the agents' RPC calls,
        /// reports router gateway and interface ports up (ACTIVE) without building anything
        /// (no qrouter- namespace, no SNAT); see crates/network/src/simulated_l3_agent.rs.
        simulated_l3_agent: bool = true,
    }
}

section! {
    /// The ML2 core plugin (Neutron's [ml2]).
    Ml2Section ("ml2") {
        /// Network type drivers to load: local, flat, vlan, vxlan, gre.
        type_drivers: Vec<String> = vec!["local".into(), "flat".into(), "vlan".into(), "vxlan".into(), "gre".into()],
        /// Network types of project (non-provider) networks, in order of preference: when the
        /// first has no segment left, the next is tried.
        tenant_network_types: Vec<String> = vec!["vxlan".into(), "local".into()],
        /// Mechanism drivers binding ports (the data plane's agents).
        mechanism_drivers: Vec<String> = vec!["linuxbridge".into()],
        /// Extension drivers (port_security, dns).
        extension_drivers: Vec<String> = vec!["port_security".into()],
        /// MTU of the overlay's underlay path; 0 means [network] global_physnet_mtu.
        path_mtu: u32 = 0,
    }
}

section! {
    /// ML2 flat type driver (Neutron's [ml2_type_flat]).
    Ml2TypeFlatSection ("ml2_type_flat") {
        /// Physical networks on which flat networks may be created; `*` allows any.
        flat_networks: Vec<String> = vec!["*".into()],
    }
}

section! {
    /// ML2 VLAN type driver (Neutron's [ml2_type_vlan]).
    Ml2TypeVlanSection ("ml2_type_vlan") {
        /// `physnet:min:max` (project VLANs allocated from that range, in order) or `physnet`
        /// (provider VLANs only).
        network_vlan_ranges: Vec<String> = vec!["physnet1:1000:2999".into()],
    }
}

section! {
    /// ML2 VXLAN type driver (Neutron's [ml2_type_vxlan]).
    Ml2TypeVxlanSection ("ml2_type_vxlan") {
        /// `min:max` ranges of VNIs allocated, in order, to project networks.
        vni_ranges: Vec<String> = vec!["1:1000".into()],
    }
}

section! {
    /// ML2 GRE type driver (Neutron's [ml2_type_gre]).
    Ml2TypeGreSection ("ml2_type_gre") {
        /// `min:max` ranges of GRE tunnel ids allocated, in order, to project networks.
        tunnel_id_ranges: Vec<String> = vec!["1:1000".into()],
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(rename = "DEFAULT")]
    pub default: DefaultSection,
    pub database: DatabaseSection,
    pub bus: BusSection,
    pub identity: IdentitySection,
    pub keystone_authtoken: AuthTokenSection,
    pub image: ImageSection,
    pub placement: PlacementSection,
    pub compute: ComputeSection,
    pub quota: QuotaSection,
    pub scheduler: SchedulerSection,
    pub filter_scheduler: FilterSchedulerSection,
    pub fake_driver: FakeDriverSection,
    pub catalog: CatalogSection,
    pub volume: VolumeSection,
    /// The backends of [volume] enabled_backends, by name.
    pub volume_backends: std::collections::BTreeMap<String, VolumeBackendSection>,
    pub network: NetworkSection,
    pub ml2: Ml2Section,
    pub ml2_type_flat: Ml2TypeFlatSection,
    pub ml2_type_vlan: Ml2TypeVlanSection,
    pub ml2_type_vxlan: Ml2TypeVxlanSection,
    pub ml2_type_gre: Ml2TypeGreSection,
}

/// Config loading failures, with the offending place named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config: {0}")]
    Parse(String),
    #[error("environment override {var}: unknown section or option")]
    UnknownEnv { var: String },
}

const ENV_PREFIX: &str = "MONOSTACK__";

impl Config {
    /// Every section's documentation, in file order.
    pub fn describe() -> Vec<(&'static str, Vec<OptionDoc>)> {
        vec![
            (DefaultSection::SECTION, DefaultSection::describe()),
            (DatabaseSection::SECTION, DatabaseSection::describe()),
            (BusSection::SECTION, BusSection::describe()),
            (IdentitySection::SECTION, IdentitySection::describe()),
            (AuthTokenSection::SECTION, AuthTokenSection::describe()),
            (ImageSection::SECTION, ImageSection::describe()),
            (PlacementSection::SECTION, PlacementSection::describe()),
            (ComputeSection::SECTION, ComputeSection::describe()),
            (QuotaSection::SECTION, QuotaSection::describe()),
            (SchedulerSection::SECTION, SchedulerSection::describe()),
            (FilterSchedulerSection::SECTION, FilterSchedulerSection::describe()),
            (FakeDriverSection::SECTION, FakeDriverSection::describe()),
            (CatalogSection::SECTION, CatalogSection::describe()),
            (VolumeSection::SECTION, VolumeSection::describe()),
            (VolumeBackendSection::SECTION, VolumeBackendSection::describe()),
            (NetworkSection::SECTION, NetworkSection::describe()),
            (Ml2Section::SECTION, Ml2Section::describe()),
            (Ml2TypeFlatSection::SECTION, Ml2TypeFlatSection::describe()),
            (Ml2TypeVlanSection::SECTION, Ml2TypeVlanSection::describe()),
            (Ml2TypeVxlanSection::SECTION, Ml2TypeVxlanSection::describe()),
            (Ml2TypeGreSection::SECTION, Ml2TypeGreSection::describe()),
        ]
    }

    /// Loads the file (if any), applies environment overrides, and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?,
            None => String::new(),
        };
        Self::from_toml_and_env(&text, std::env::vars())
    }

    /// Parses TOML text and overlays `MONOSTACK__SECTION__OPTION` variables.
    pub fn from_toml_and_env(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let sections = Self::describe();
        for (var, value) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else { continue };
            let Some((section, option)) = rest.split_once("__") else {
                return Err(ConfigError::UnknownEnv { var });
            };
            let Some((section_name, docs)) =
                sections.iter().find(|(name, _)| name.eq_ignore_ascii_case(section))
            else {
                return Err(ConfigError::UnknownEnv { var });
            };
            let option = option.to_ascii_lowercase();
            let Some(doc) = docs.iter().find(|d| d.name == option) else {
                return Err(ConfigError::UnknownEnv { var });
            };
            let wants_float = doc.default.contains('.') && doc.default.parse::<f64>().is_ok();
            let entry = table
                .entry(section_name.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.insert(option, env_value(&value, wants_float));
            }
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.identity.max_active_keys < 2 {
            return Err(ConfigError::Parse("identity.max_active_keys must be at least 2".into()));
        }
        if !(4..=31).contains(&self.identity.password_hash_rounds) {
            return Err(ConfigError::Parse("identity.password_hash_rounds must be 4..=31".into()));
        }
        if self.identity.token_expiration <= 0 {
            return Err(ConfigError::Parse("identity.token_expiration must be positive".into()));
        }
        self.validate_volume()?;
        Ok(())
    }

    fn validate_volume(&self) -> Result<(), ConfigError> {
        for (name, backend) in &self.volume_backends {
            if !matches!(backend.volume_driver.as_str(), "file" | "lvm" | "fake") {
                return Err(ConfigError::Parse(format!("volume_backends.{name}.volume_driver must be file, lvm or fake")));
            }
            if !matches!(backend.file_volume_format.as_str(), "raw" | "qcow2") {
                return Err(ConfigError::Parse(format!("volume_backends.{name}.file_volume_format must be raw or qcow2")));
            }
            if !matches!(backend.volume_clear.as_str(), "zero" | "none") {
                return Err(ConfigError::Parse(format!("volume_backends.{name}.volume_clear must be zero or none")));
            }
        }
        if !matches!(self.volume.backup_compression_algorithm.as_str(), "zlib" | "gzip" | "none" | "off" | "no") {
            return Err(ConfigError::Parse("volume.backup_compression_algorithm must be zlib or none".into()));
        }
        for name in &self.volume.enabled_backends {
            if name.is_empty() || name.contains(['@', '#', '.']) {
                return Err(ConfigError::Parse(format!("volume.enabled_backends: '{name}' is not a valid backend name")));
            }
        }
        Ok(())
    }

    /// The settings of backend `name`: its [volume_backends.<name>] section, or the defaults.
    pub fn volume_backend(&self, name: &str) -> VolumeBackendSection {
        self.volume_backends.get(name).cloned().unwrap_or_default()
    }

    /// The state directory, resolved as documented on `state_dir`.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.default.state_dir {
            return dir.clone();
        }
        if is_root() {
            PathBuf::from("/var/lib/monostack")
        } else {
            PathBuf::from(".monostack")
        }
    }

    /// Host name used in catalog URLs.
    pub fn public_host(&self) -> String {
        if let Some(h) = &self.default.public_host {
            return h.clone();
        }
        match self.default.bind_host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".into(),
            h => h.into(),
        }
    }

    /// Renders the documented defaults as a commented TOML file.
    pub fn render_documented() -> String {
        let mut out = String::new();
        for (section, options) in Self::describe() {
            out.push_str(&format!("[{section}]\n"));
            for opt in options {
                for line in opt.doc.lines() {
                    out.push_str(&format!("# {}\n", line.trim()));
                }
                out.push_str(&format!("# {} = {}\n\n", opt.name, opt.default));
            }
        }
        out
    }
}

/// Environment values are TOML scalars when they parse as one (numbers, booleans), else strings.
/// An environment string as the TOML value it stands for; `wants_float` when the option is a
/// number with a fraction, so that `2` and `-1.0` both set it.
fn env_value(raw: &str, wants_float: bool) -> toml::Value {
    if wants_float {
        if let Ok(v) = raw.parse::<f64>() {
            return toml::Value::Float(v);
        }
    }
    if let Ok(v) = raw.parse::<i64>() {
        return toml::Value::Integer(v);
    }
    match raw {
        "true" | "True" => toml::Value::Boolean(true),
        "false" | "False" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

#[allow(unsafe_code)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml_and_env("", std::iter::empty()).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.identity.port, 5000);
    }

    #[test]
    fn env_overrides_file() {
        let env = vec![
            ("MONOSTACK__DATABASE__CONNECTION".to_string(), "postgresql://x/y".to_string()),
            ("MONOSTACK__IDENTITY__PORT".to_string(), "5001".to_string()),
            ("MONOSTACK__default__DEBUG".to_string(), "true".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let c = Config::from_toml_and_env("[identity]\nport = 7000\n", env.into_iter()).unwrap();
        assert_eq!(c.database.connection.as_deref(), Some("postgresql://x/y"));
        assert_eq!(c.identity.port, 5001);
        assert!(c.default.debug);
    }

    #[test]
    fn env_sets_fractional_options_with_or_without_a_fraction() {
        let env = vec![
            ("MONOSTACK__COMPUTE__RAM_ALLOCATION_RATIO".to_string(), "2".to_string()),
            ("MONOSTACK__COMPUTE__CPU_ALLOCATION_RATIO".to_string(), "-1.5".to_string()),
        ];
        let c = Config::from_toml_and_env("", env.into_iter()).unwrap();
        assert_eq!(c.compute.ram_allocation_ratio, 2.0);
        assert_eq!(c.compute.cpu_allocation_ratio, -1.5);
    }

    #[test]
    fn unknown_options_are_refused() {
        assert!(Config::from_toml_and_env("[identity]\nbogus = 1\n", std::iter::empty()).is_err());
        let env = vec![("MONOSTACK__IDENTITY__BOGUS".to_string(), "1".to_string())];
        assert!(Config::from_toml_and_env("", env.into_iter()).is_err());
    }

    #[test]
    fn every_option_is_documented() {
        let text = Config::render_documented();
        assert!(text.contains("# connection = <unset>"));
        assert!(text.contains("# port = 5000"));
        for (_, opts) in Config::describe() {
            assert!(opts.iter().all(|o| !o.doc.trim().is_empty()));
        }
    }
}
