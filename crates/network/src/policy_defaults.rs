//! Default policy rules of the networking service, as Neutron registers them in code (the
//! new secure-RBAC defaults): admins everywhere; project members write their own resources
//! and project readers read them; everyone reads shared and external networks; the network's
//! owner manages subnets and ports on it; binding attributes are for admins and the
//! `service` role (compute binds ports with a service token). Rule names and check strings
//! match upstream so operators' policy files keep working.
//!
//! Targets: every rule is checked against the resource's attributes (`project_id`, `shared`,
//! `router:external`, `device_owner`…) plus `network:project_id` (the owner of the network a
//! subnet or port is on). Attribute rules such as `create_network:shared` are checked for
//! every attribute present in a create or update body. Neutron's `field:networks:shared=True`
//! checks are written `'True':%(shared)s` for our engine, which reads the same target.

const ADMIN: &str = "rule:admin_only";
const ADMIN_OR_MEMBER: &str = "rule:admin_only or (role:member and project_id:%(project_id)s)";
const ADMIN_OR_SERVICE: &str = "rule:admin_only or rule:service_api";
const ADMIN_OR_NET_OWNER_MEMBER: &str = "(rule:admin_only) or (role:member and rule:network_owner)";

/// The rules, as (name, check string) pairs in oslo.policy syntax.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("context_is_admin", "role:admin"),
    ("service_api", "role:service"),
    ("owner", "project_id:%(project_id)s"),
    ("admin_or_owner", "rule:context_is_admin or rule:owner"),
    ("admin_or_network_owner", "rule:context_is_admin or project_id:%(network:project_id)s"),
    ("network_owner", "project_id:%(network:project_id)s"),
    ("admin_only", "rule:context_is_admin"),
    ("regular_user", ""),
    ("shared", "'True':%(shared)s"),
    ("external", "'True':%(router:external)s"),
    ("external_network", "'True':%(router:external)s"),
    ("network_device", "'network:':%(device_owner_prefix)s"),
    // Networks.
    ("create_network", ADMIN_OR_MEMBER),
    ("create_network:shared", ADMIN),
    ("create_network:is_default", ADMIN),
    ("update_network:is_default", ADMIN),
    ("create_network:router:external", ADMIN),
    ("create_network:is_default", ADMIN),
    ("create_network:port_security_enabled", ADMIN_OR_MEMBER),
    ("create_network:segments", ADMIN),
    ("create_network:provider:network_type", ADMIN),
    ("create_network:provider:physical_network", ADMIN),
    ("create_network:provider:segmentation_id", ADMIN),
    ("create_network:tags", ADMIN_OR_MEMBER),
    ("get_network", "rule:admin_only or (role:reader and project_id:%(project_id)s) or rule:service_api or rule:shared or rule:external"),
    ("get_network:segments", ADMIN),
    ("get_network:provider:network_type", ADMIN),
    ("get_network:provider:physical_network", ADMIN),
    ("get_network:provider:segmentation_id", ADMIN),
    ("get_network:tags", "rule:admin_only or (role:reader and project_id:%(project_id)s) or rule:shared or rule:external"),
    ("update_network", ADMIN_OR_MEMBER),
    ("update_network:segments", ADMIN),
    ("update_network:shared", ADMIN),
    ("update_network:provider:network_type", ADMIN),
    ("update_network:provider:physical_network", ADMIN),
    ("update_network:provider:segmentation_id", ADMIN),
    ("update_network:router:external", ADMIN),
    ("update_network:is_default", ADMIN),
    ("update_network:port_security_enabled", ADMIN_OR_MEMBER),
    ("update_network:tags", ADMIN_OR_MEMBER),
    ("delete_network", ADMIN_OR_MEMBER),
    ("delete_network:tags", ADMIN_OR_MEMBER),
    // Subnets.
    ("create_subnet", ADMIN_OR_NET_OWNER_MEMBER),
    ("create_subnet:segment_id", ADMIN),
    ("create_subnet:service_types", ADMIN),
    ("create_subnet:tags", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    ("get_subnet", "(role:reader and project_id:%(project_id)s) or rule:shared or rule:external_network or (rule:admin_only) or (role:reader and rule:network_owner) or rule:service_api"),
    ("get_subnet:segment_id", ADMIN),
    ("get_subnet:tags", "(role:reader and project_id:%(project_id)s) or rule:shared or rule:external_network or (rule:admin_only) or (role:reader and rule:network_owner)"),
    ("update_subnet", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    ("update_subnet:segment_id", ADMIN),
    ("update_subnet:service_types", ADMIN),
    ("update_subnet:tags", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    ("delete_subnet", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    ("delete_subnet:tags", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    // Ports.
    ("create_port", "rule:admin_only or rule:service_api or (role:member and rule:network_owner) or rule:shared"),
    ("create_port:device_id", "rule:admin_only or (role:member and project_id:%(project_id)s) or rule:service_api"),
    ("create_port:device_owner", "not rule:network_device or rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("create_port:mac_address", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("create_port:fixed_ips", "rule:admin_only or rule:service_api or (role:member and rule:network_owner) or rule:shared"),
    ("create_port:fixed_ips:ip_address", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("create_port:fixed_ips:subnet_id", "rule:admin_only or rule:service_api or (role:member and rule:network_owner) or rule:shared"),
    ("create_port:port_security_enabled", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("create_port:binding:host_id", ADMIN_OR_SERVICE),
    ("create_port:binding:profile", "rule:service_api"),
    ("create_port:binding:vnic_type", "rule:admin_only or (role:member and project_id:%(project_id)s) or rule:service_api"),
    ("create_port:allowed_address_pairs", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("create_port:allowed_address_pairs:mac_address", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("create_port:allowed_address_pairs:ip_address", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("create_port:tags", ADMIN_OR_MEMBER),
    ("get_port", "rule:admin_only or rule:service_api or (role:reader and rule:network_owner) or (role:reader and project_id:%(project_id)s)"),
    ("get_port:binding:vif_type", ADMIN_OR_SERVICE),
    ("get_port:binding:vif_details", ADMIN_OR_SERVICE),
    ("get_port:binding:host_id", ADMIN_OR_SERVICE),
    ("get_port:binding:profile", ADMIN_OR_SERVICE),
    ("get_port:tags", "(rule:admin_only) or (role:reader and rule:network_owner) or (role:reader and project_id:%(project_id)s)"),
    ("update_port", "rule:admin_only or rule:service_api or (role:member and project_id:%(project_id)s)"),
    ("update_port:device_id", "rule:admin_only or (role:member and project_id:%(project_id)s) or rule:service_api"),
    ("update_port:device_owner", "not rule:network_device or rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("update_port:mac_address", "rule:admin_only or rule:service_api or (role:manager and rule:network_owner)"),
    ("update_port:fixed_ips", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("update_port:fixed_ips:ip_address", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("update_port:fixed_ips:subnet_id", "rule:admin_only or rule:service_api or (role:member and rule:network_owner) or rule:shared"),
    ("update_port:port_security_enabled", "rule:admin_only or rule:service_api or (role:member and rule:network_owner)"),
    ("update_port:binding:host_id", ADMIN_OR_SERVICE),
    ("update_port:binding:profile", "rule:service_api"),
    ("update_port:binding:vnic_type", "rule:admin_only or rule:service_api or (role:member and project_id:%(project_id)s)"),
    ("update_port:allowed_address_pairs", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("update_port:allowed_address_pairs:mac_address", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("update_port:allowed_address_pairs:ip_address", "(rule:admin_only) or (role:member and rule:network_owner) or rule:service_api"),
    ("update_port:tags", ADMIN_OR_MEMBER),
    ("delete_port", "rule:admin_only or rule:service_api or (role:member and rule:network_owner) or (role:member and project_id:%(project_id)s)"),
    ("delete_port:tags", "(role:member and project_id:%(project_id)s) or (rule:admin_only) or (role:member and rule:network_owner)"),
    // Security groups.
    ("sg_owner", "project_id:%(security_group:project_id)s"),
    ("shared_security_group", "'True':%(shared)s"),
    ("create_security_group", ADMIN_OR_MEMBER),
    ("create_security_group:tags", ADMIN_OR_MEMBER),
    ("get_security_group", "rule:admin_only or (role:reader and project_id:%(project_id)s) or rule:shared_security_group"),
    ("update_security_group", ADMIN_OR_MEMBER),
    ("delete_security_group", ADMIN_OR_MEMBER),
    ("create_security_group_rule", "(rule:admin_only) or (role:member and rule:sg_owner)"),
    ("get_security_group_rule", "(rule:admin_only) or (role:reader and rule:sg_owner)"),
    ("delete_security_group_rule", "(rule:admin_only) or (role:member and rule:sg_owner)"),
    // Subnet pools.
    ("shared_address_scopes", "'True':%(shared)s"),
    ("create_address_scope", ADMIN_OR_MEMBER),
    ("create_address_scope:shared", ADMIN),
    ("get_address_scope", "rule:admin_only or (role:reader and project_id:%(project_id)s) or rule:shared_address_scopes"),
    ("update_address_scope", ADMIN_OR_MEMBER),
    ("update_address_scope:shared", ADMIN),
    ("delete_address_scope", ADMIN_OR_MEMBER),
    ("shared_subnetpools", "'True':%(shared)s"),
    ("create_subnetpool", ADMIN_OR_MEMBER),
    ("create_subnetpool:shared", ADMIN),
    ("create_subnetpool:is_default", ADMIN),
    ("get_subnetpool", "rule:admin_only or (role:reader and project_id:%(project_id)s) or rule:shared_subnetpools"),
    ("update_subnetpool", ADMIN_OR_MEMBER),
    ("update_subnetpool:is_default", ADMIN),
    ("delete_subnetpool", ADMIN_OR_MEMBER),
    // Quotas.
    ("get_quota", "rule:admin_only or (role:reader and project_id:%(project_id)s)"),
    ("update_quota", ADMIN),
    ("delete_quota", ADMIN),
    ("get_network_ip_availability", ADMIN),
    // Extensions and availability zones.
    ("get_availability_zone", "rule:regular_user"),
    // Routers.
    ("create_router", ADMIN_OR_MEMBER),
    ("create_router:external_gateway_info", ADMIN_OR_MEMBER),
    ("create_router:external_gateway_info:network_id", ADMIN_OR_MEMBER),
    ("create_router:external_gateway_info:enable_snat", ADMIN),
    ("create_router:external_gateway_info:external_fixed_ips", ADMIN),
    ("create_router:distributed", ADMIN),
    ("create_router:ha", ADMIN),
    ("get_router", "rule:admin_only or (role:reader and project_id:%(project_id)s)"),
    ("get_router:distributed", ADMIN),
    ("get_router:ha", ADMIN),
    ("update_router", ADMIN_OR_MEMBER),
    ("update_router:external_gateway_info", ADMIN_OR_MEMBER),
    ("update_router:external_gateway_info:network_id", ADMIN_OR_MEMBER),
    ("update_router:external_gateway_info:enable_snat", ADMIN),
    ("update_router:external_gateway_info:external_fixed_ips", ADMIN),
    ("update_router:distributed", ADMIN),
    ("update_router:ha", ADMIN),
    ("delete_router", ADMIN_OR_MEMBER),
    ("add_router_interface", ADMIN_OR_MEMBER),
    ("remove_router_interface", ADMIN_OR_MEMBER),
    ("add_extraroutes", ADMIN_OR_MEMBER),
    ("remove_extraroutes", ADMIN_OR_MEMBER),
    // Floating IPs.
    ("create_floatingip", ADMIN_OR_MEMBER),
    ("create_floatingip:floating_ip_address", ADMIN),
    ("get_floatingip", "rule:admin_only or (role:reader and project_id:%(project_id)s)"),
    ("update_floatingip", ADMIN_OR_MEMBER),
    ("delete_floatingip", ADMIN_OR_MEMBER),
    // Auto-allocated topologies.
    ("get_auto_allocated_topology", "rule:admin_only or (role:reader and project_id:%(project_id)s)"),
    ("delete_auto_allocated_topology", ADMIN_OR_MEMBER),
    // Agents and their schedulers.
    ("get_agent", ADMIN),
    ("update_agent", ADMIN),
    ("delete_agent", ADMIN),
    ("create_dhcp-network", ADMIN),
    ("get_dhcp-networks", ADMIN),
    ("delete_dhcp-network", ADMIN),
    ("get_dhcp-agents", ADMIN),
    ("create_l3-router", ADMIN),
    ("get_l3-routers", ADMIN),
    ("delete_l3-router", ADMIN),
    ("get_l3-agents", ADMIN),
];

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_auth::policy::Enforcer;
    use serde_json::json;

    #[test]
    fn owners_members_readers_and_shared_networks() {
        let e = Enforcer::try_new(DEFAULT_RULES).expect("rules parse");
        let admin = json!({"roles": ["admin", "member", "reader"], "project_id": "a"});
        let member = json!({"roles": ["member", "reader"], "project_id": "p"});
        let other = json!({"roles": ["member", "reader"], "project_id": "q"});
        let own = json!({"project_id": "p", "shared": false, "router:external": false});
        let shared = json!({"project_id": "a", "shared": true, "router:external": false});
        assert!(e.enforce("create_network", &own, &member));
        assert!(!e.enforce("create_network:shared", &own, &member));
        assert!(e.enforce("create_network:shared", &own, &admin));
        assert!(e.enforce("get_network", &own, &member));
        assert!(!e.enforce("get_network", &own, &other));
        assert!(e.enforce("get_network", &shared, &other));
        assert!(!e.enforce("update_network", &shared, &other));
        let port_on_shared = json!({"project_id": "q", "network:project_id": "a", "shared": true, "device_owner_prefix": ""});
        assert!(e.enforce("create_port", &port_on_shared, &other));
        assert!(!e.enforce("create_port:fixed_ips:ip_address", &port_on_shared, &other));
        let dhcp_port = json!({"project_id": "q", "network:project_id": "a", "shared": true, "device_owner_prefix": "network:"});
        assert!(!e.enforce("create_port:device_owner", &dhcp_port, &other));
        assert!(e.enforce("create_port:device_owner", &port_on_shared, &other));
        let subnet = json!({"project_id": "q", "network:project_id": "p", "shared": false, "router:external": false});
        assert!(
            e.enforce("create_subnet", &subnet, &member),
            "the network owner adds subnets"
        );
        assert!(!e.enforce("get_port:binding:host_id", &own, &member));
    }
}
