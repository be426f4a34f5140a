//! Default policy rules of the placement service, as placement registers them in code: nearly
//! everything is for admins and the `service` role (other services such as compute call
//! placement with a service token); project readers may read their own project's usages;
//! the reshaper is for the service role only. Rule names and check strings match upstream, so
//! operators' policy files keep working.
//!
//! Targets: every rule is checked with `{"project_id": <caller's project>, "user_id": <caller>}`
//! except `placement:usages`, which gets `{"project_id": <the project_id asked about>}`.

const ADMIN_OR_SERVICE: &str = "rule:admin_or_service_api";

/// The rules, as (name, check string) pairs in oslo.policy syntax.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    ("admin_api", "role:admin"),
    ("service_api", "role:service"),
    ("admin_or_service_api", "role:admin or role:service"),
    ("project_reader_api", "role:reader and project_id:%(project_id)s"),
    ("admin_or_project_reader_or_service_api", "role:admin or rule:project_reader_api or role:service"),
    ("placement:resource_providers:list", ADMIN_OR_SERVICE),
    ("placement:resource_providers:create", ADMIN_OR_SERVICE),
    ("placement:resource_providers:show", ADMIN_OR_SERVICE),
    ("placement:resource_providers:update", ADMIN_OR_SERVICE),
    ("placement:resource_providers:delete", ADMIN_OR_SERVICE),
    ("placement:resource_providers:inventories:list", ADMIN_OR_SERVICE),
    ("placement:resource_providers:inventories:create", ADMIN_OR_SERVICE),
    ("placement:resource_providers:inventories:show", ADMIN_OR_SERVICE),
    ("placement:resource_providers:inventories:update", ADMIN_OR_SERVICE),
    ("placement:resource_providers:inventories:delete", ADMIN_OR_SERVICE),
    ("placement:resource_providers:aggregates:list", ADMIN_OR_SERVICE),
    ("placement:resource_providers:aggregates:update", ADMIN_OR_SERVICE),
    ("placement:resource_providers:usages", ADMIN_OR_SERVICE),
    ("placement:resource_providers:allocations:list", ADMIN_OR_SERVICE),
    ("placement:resource_providers:traits:list", ADMIN_OR_SERVICE),
    ("placement:resource_providers:traits:update", ADMIN_OR_SERVICE),
    ("placement:resource_providers:traits:delete", ADMIN_OR_SERVICE),
    ("placement:allocations:manage", ADMIN_OR_SERVICE),
    ("placement:allocations:list", ADMIN_OR_SERVICE),
    ("placement:allocations:update", ADMIN_OR_SERVICE),
    ("placement:allocations:delete", ADMIN_OR_SERVICE),
    ("placement:allocation_candidates:list", ADMIN_OR_SERVICE),
    ("placement:resource_classes:list", ADMIN_OR_SERVICE),
    ("placement:resource_classes:create", ADMIN_OR_SERVICE),
    ("placement:resource_classes:show", ADMIN_OR_SERVICE),
    ("placement:resource_classes:update", ADMIN_OR_SERVICE),
    ("placement:resource_classes:delete", ADMIN_OR_SERVICE),
    ("placement:traits:list", ADMIN_OR_SERVICE),
    ("placement:traits:show", ADMIN_OR_SERVICE),
    ("placement:traits:update", ADMIN_OR_SERVICE),
    ("placement:traits:delete", ADMIN_OR_SERVICE),
    ("placement:usages", "rule:admin_or_project_reader_or_service_api"),
    ("placement:reshaper:reshape", "rule:service_api"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_auth::policy::Enforcer;
    use serde_json::json;

    #[test]
    fn admin_and_service_may_readers_only_their_usages() {
        let e = Enforcer::try_new(DEFAULT_RULES).expect("rules parse");
        let admin = json!({"roles": ["admin"], "project_id": "p"});
        let service = json!({"roles": ["service"], "project_id": "s"});
        let reader = json!({"roles": ["reader", "member"], "project_id": "p"});
        let target = json!({"project_id": "p"});
        assert!(e.enforce("placement:resource_providers:create", &target, &admin));
        assert!(e.enforce("placement:allocations:update", &target, &service));
        assert!(!e.enforce("placement:resource_providers:list", &target, &reader));
        assert!(e.enforce("placement:usages", &target, &reader));
        assert!(!e.enforce("placement:usages", &json!({"project_id": "other"}), &reader));
        assert!(e.enforce("placement:reshaper:reshape", &target, &service));
        assert!(!e.enforce("placement:reshaper:reshape", &target, &admin));
    }
}
