//! The networking schema, portable across SQLite, PostgreSQL and MariaDB (BIGINT integers,
//! times in epoch microseconds, booleans as 0/1, lists and maps as JSON text). Every text
//! column is a bounded VARCHAR rather than TEXT: MariaDB counts each VARCHAR(4000) that TEXT
//! becomes there against its 64 KiB row limit, and the API checks the bounds (400, never a
//! database error).
//!
//! Standard attributes (`description`, `created_at`, `updated_at`, `revision_number`) are
//! columns of every resource table; tags of every resource live in one `tags` table keyed by
//! resource type and id, so new resources (routers, security groups…) get tags for free.
//!
//! `network_segments.alloc_key` is what the type drivers allocate: the VLAN id or tunnel id,
//! 0 for a flat network (one per physical network), NULL for local networks (unlimited).
//! The unique key on (network_type, physical_network, alloc_key) means no id is ever handed
//! out twice, whatever the concurrency; `physical_network` is '' when there is none so that
//! the key compares it.

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "networks, segments, subnets, ports, IP allocations, tags",
    statements: &[
        "CREATE TABLE networks (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL, admin_state_up BIGINT NOT NULL, shared BIGINT NOT NULL, router_external BIGINT NOT NULL, is_default BIGINT NOT NULL, port_security_enabled BIGINT NOT NULL, mtu BIGINT NOT NULL, availability_zone_hints VARCHAR(255) NOT NULL, dns_domain VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX networks_project ON networks (project_id)",
        "CREATE TABLE network_segments (id VARCHAR(36) PRIMARY KEY, network_id VARCHAR(36) NOT NULL, network_type VARCHAR(32) NOT NULL, physical_network VARCHAR(64) NOT NULL, segmentation_id BIGINT, alloc_key BIGINT, segment_index BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX network_segments_alloc ON network_segments (network_type, physical_network, alloc_key)",
        "CREATE INDEX network_segments_network ON network_segments (network_id)",
        "CREATE TABLE segment_locks (network_type VARCHAR(32) PRIMARY KEY, alloc_generation BIGINT NOT NULL)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('local', 0)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('flat', 0)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('vlan', 0)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('vxlan', 0)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('gre', 0)",
        "INSERT INTO segment_locks (network_type, alloc_generation) VALUES ('geneve', 0)",
        "CREATE TABLE subnets (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, network_id VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, ip_version BIGINT NOT NULL, cidr VARCHAR(64) NOT NULL, gateway_ip VARCHAR(64), enable_dhcp BIGINT NOT NULL, ipv6_ra_mode VARCHAR(16), ipv6_address_mode VARCHAR(16), subnetpool_id VARCHAR(36), segment_id VARCHAR(36), allocation_pools VARCHAR(2000) NOT NULL, dns_nameservers VARCHAR(1024) NOT NULL, host_routes VARCHAR(4000) NOT NULL, service_types VARCHAR(1024) NOT NULL, dns_publish_fixed_ip BIGINT NOT NULL, alloc_generation BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX subnets_network ON subnets (network_id)",
        "CREATE INDEX subnets_project ON subnets (project_id)",
        "CREATE TABLE ports (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, network_id VARCHAR(36) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, mac_address VARCHAR(32) NOT NULL, admin_state_up BIGINT NOT NULL, status VARCHAR(16) NOT NULL, device_id VARCHAR(255) NOT NULL, device_owner VARCHAR(255) NOT NULL, port_security_enabled BIGINT NOT NULL, dns_name VARCHAR(255) NOT NULL, binding_host_id VARCHAR(255) NOT NULL, binding_vif_type VARCHAR(64) NOT NULL, binding_vnic_type VARCHAR(64) NOT NULL, binding_profile VARCHAR(4000) NOT NULL, binding_vif_details VARCHAR(1024) NOT NULL, allowed_address_pairs VARCHAR(2000) NOT NULL, extra_dhcp_opts VARCHAR(2000) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX ports_network_mac ON ports (network_id, mac_address)",
        "CREATE INDEX ports_project ON ports (project_id)",
        "CREATE INDEX ports_device ON ports (device_id)",
        "CREATE TABLE ipallocations (subnet_id VARCHAR(36) NOT NULL, ip_address VARCHAR(64) NOT NULL, port_id VARCHAR(36) NOT NULL, network_id VARCHAR(36) NOT NULL, PRIMARY KEY (subnet_id, ip_address))",
        "CREATE INDEX ipallocations_port ON ipallocations (port_id)",
        "CREATE INDEX ipallocations_network ON ipallocations (network_id)",
        "CREATE TABLE port_security_groups (port_id VARCHAR(36) NOT NULL, security_group_id VARCHAR(36) NOT NULL, PRIMARY KEY (port_id, security_group_id))",
        "CREATE INDEX port_security_groups_group ON port_security_groups (security_group_id)",
        "CREATE TABLE tags (resource_type VARCHAR(32) NOT NULL, resource_id VARCHAR(36) NOT NULL, tag VARCHAR(255) NOT NULL, PRIMARY KEY (resource_type, resource_id, tag))",
    ],
}, Migration {
    version: 2,
    name: "security groups and rules, default groups",
    statements: &[
        "CREATE TABLE security_groups (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, stateful BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX security_groups_project ON security_groups (project_id)",
        "CREATE TABLE default_security_groups (project_id VARCHAR(255) PRIMARY KEY, security_group_id VARCHAR(36) NOT NULL)",
        "CREATE TABLE security_group_rules (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, security_group_id VARCHAR(36) NOT NULL, direction VARCHAR(16) NOT NULL, ethertype VARCHAR(8) NOT NULL, protocol VARCHAR(40), port_range_min BIGINT, port_range_max BIGINT, remote_ip_prefix VARCHAR(64), remote_group_id VARCHAR(36), description VARCHAR(255) NOT NULL, rule_key VARCHAR(400) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX security_group_rules_key ON security_group_rules (security_group_id, rule_key)",
        "CREATE INDEX security_group_rules_remote ON security_group_rules (remote_group_id)",
    ],
}, Migration {
    version: 3,
    name: "per-project quota limits",
    statements: &["CREATE TABLE quotas (project_id VARCHAR(255) NOT NULL, resource VARCHAR(64) NOT NULL, hard_limit BIGINT NOT NULL, PRIMARY KEY (project_id, resource))"],
}, Migration {
    version: 4,
    name: "routers and floating IPs",
    statements: &[
        "CREATE TABLE routers (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, status VARCHAR(16) NOT NULL, admin_state_up BIGINT NOT NULL, gw_network_id VARCHAR(36), gw_port_id VARCHAR(36), enable_snat BIGINT NOT NULL, routes VARCHAR(4000) NOT NULL, availability_zone_hints VARCHAR(255) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX routers_project ON routers (project_id)",
        "CREATE INDEX routers_gw_network ON routers (gw_network_id)",
        "CREATE TABLE floatingips (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, floating_ip_address VARCHAR(64) NOT NULL, floating_network_id VARCHAR(36) NOT NULL, floating_port_id VARCHAR(36) NOT NULL, fixed_port_id VARCHAR(36), fixed_ip_address VARCHAR(64), router_id VARCHAR(36), status VARCHAR(16) NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX floatingips_project ON floatingips (project_id)",
        "CREATE INDEX floatingips_router ON floatingips (router_id)",
        "CREATE UNIQUE INDEX floatingips_fixed ON floatingips (floating_network_id, fixed_port_id, fixed_ip_address)",
    ],
}, Migration {
    version: 5,
    name: "subnet pools",
    statements: &[
        "CREATE TABLE subnetpools (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, description VARCHAR(255) NOT NULL, ip_version BIGINT NOT NULL, prefixes VARCHAR(4000) NOT NULL, default_prefixlen BIGINT NOT NULL, min_prefixlen BIGINT NOT NULL, max_prefixlen BIGINT NOT NULL, shared BIGINT NOT NULL, is_default BIGINT NOT NULL, default_quota BIGINT, alloc_generation BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, revision_number BIGINT NOT NULL)",
        "CREATE INDEX subnetpools_project ON subnetpools (project_id)",
        "CREATE INDEX subnets_subnetpool ON subnets (subnetpool_id)",
    ],
}, Migration {
    version: 6,
    name: "agents and their DHCP network and L3 router bindings",
    statements: &[
        "CREATE TABLE agents (id VARCHAR(36) PRIMARY KEY, agent_type VARCHAR(255) NOT NULL, agent_binary VARCHAR(255) NOT NULL, topic VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL, availability_zone VARCHAR(255), admin_state_up BIGINT NOT NULL, description VARCHAR(255) NOT NULL, configurations VARCHAR(4000) NOT NULL, created_at BIGINT NOT NULL, started_at BIGINT NOT NULL, heartbeat_timestamp BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX agents_type_host ON agents (agent_type, host)",
        "CREATE TABLE network_dhcp_agent_bindings (network_id VARCHAR(36) NOT NULL, agent_id VARCHAR(36) NOT NULL, PRIMARY KEY (network_id, agent_id))",
        "CREATE INDEX network_dhcp_agent_bindings_agent ON network_dhcp_agent_bindings (agent_id)",
        "CREATE TABLE router_l3_agent_bindings (router_id VARCHAR(36) NOT NULL, agent_id VARCHAR(36) NOT NULL, PRIMARY KEY (router_id, agent_id))",
        "CREATE INDEX router_l3_agent_bindings_agent ON router_l3_agent_bindings (agent_id)",
    ],
}, Migration {
    version: 7,
    name: "auto-allocated topologies",
    statements: &["CREATE TABLE auto_allocated_topologies (project_id VARCHAR(255) PRIMARY KEY, network_id VARCHAR(36) NOT NULL, router_id VARCHAR(36))"],
}, Migration {
    version: 8,
    name: "address scopes and the subnet pools' address_scope_id",
    statements: &[
        "CREATE TABLE address_scopes (id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, ip_version BIGINT NOT NULL, shared BIGINT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE INDEX address_scopes_project ON address_scopes (project_id)",
        "ALTER TABLE subnetpools ADD COLUMN address_scope_id VARCHAR(36)",
        "CREATE INDEX subnetpools_address_scope ON subnetpools (address_scope_id)",
    ],
}, Migration {
    version: 9,
    name: "IPAM availability ranges (the free addresses of each subnet's pools)",
    statements: &[
        "CREATE TABLE ipam_availability_ranges (subnet_id VARCHAR(36) NOT NULL, first_ip VARCHAR(39) NOT NULL, last_ip VARCHAR(39) NOT NULL, PRIMARY KEY (subnet_id, first_ip))",
        "CREATE UNIQUE INDEX ipam_availability_ranges_last ON ipam_availability_ranges (subnet_id, last_ip)",
        "ALTER TABLE subnets ADD COLUMN ipam_ranges_ready BIGINT NOT NULL DEFAULT 0",
    ],
}];

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    /// Two steps with one version would silently skip the second on a fresh database.
    #[test]
    fn versions_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for m in MIGRATIONS {
            assert!(
                seen.insert(m.version),
                "migration version {} ({}) is used twice",
                m.version,
                m.name
            );
        }
    }
}
