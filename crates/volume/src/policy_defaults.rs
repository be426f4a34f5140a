//! Cinder's default policy rules: the rule names and check strings Cinder ships (its Xena
//! defaults, which recognise the admin, member and reader roles), so operators' policy files
//! keep working. Cinder's `is_admin` credential is the `context_is_admin` rule's answer.

const ADMIN_API: &str = "rule:admin_api";
const READER: &str = "rule:xena_system_admin_or_project_reader";
const MEMBER: &str = "rule:xena_system_admin_or_project_member";

/// Every default rule.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    // Base rules.
    ("context_is_admin", "role:admin"),
    ("admin_api", "is_admin:True or (role:admin and is_admin_project:True)"),
    ("admin_or_owner", "is_admin:True or (role:admin and is_admin_project:True) or project_id:%(project_id)s"),
    (
        "system_or_domain_or_project_admin",
        "(role:admin and system_scope:all) or (role:admin and domain_id:%(domain_id)s) or (role:admin and project_id:%(project_id)s)",
    ),
    ("xena_system_admin_or_project_reader", "(role:admin) or (role:reader and project_id:%(project_id)s)"),
    ("xena_system_admin_or_project_member", "(role:admin) or (role:member and project_id:%(project_id)s)"),
    ("system_reader_or_project_reader", "(role:reader and system_scope:all) or (role:reader and project_id:%(project_id)s)"),
    ("system_admin_or_project_member", "(role:admin and system_scope:all) or (role:member and project_id:%(project_id)s)"),
    ("system_admin_or_project_admin", "(role:admin and system_scope:all) or (role:admin and project_id:%(project_id)s)"),
    ("system_admin_only", "(role:admin and system_scope:all)"),
    // Volumes.
    ("volume:create", MEMBER),
    ("volume:create_from_image", MEMBER),
    ("volume:get", READER),
    ("volume:get_all", READER),
    ("volume:update", MEMBER),
    ("volume:delete", MEMBER),
    ("volume:force_delete", ADMIN_API),
    ("volume_extension:volume_host_attribute", ADMIN_API),
    ("volume_extension:volume_tenant_attribute", READER),
    ("volume_extension:volume_mig_status_attribute", ADMIN_API),
    ("volume_extension:volume_encryption_metadata", READER),
    ("volume:multiattach", MEMBER),
    // Volume actions.
    ("volume:extend", MEMBER),
    ("volume:extend_attached_volume", MEMBER),
    ("volume:extend_volume_completion", ADMIN_API),
    ("volume:revert_to_snapshot", MEMBER),
    ("volume_extension:volume_admin_actions:reset_status", ADMIN_API),
    ("volume:retype", MEMBER),
    ("volume:update_readonly_flag", MEMBER),
    ("volume_extension:volume_admin_actions:force_delete", ADMIN_API),
    ("volume_extension:volume_actions:upload_public", ADMIN_API),
    ("volume_extension:volume_actions:upload_image", MEMBER),
    ("volume_extension:volume_admin_actions:force_detach", ADMIN_API),
    ("volume_extension:volume_admin_actions:migrate_volume", ADMIN_API),
    ("volume_extension:volume_admin_actions:migrate_volume_completion", ADMIN_API),
    ("volume_extension:volume_actions:initialize_connection", MEMBER),
    ("volume_extension:volume_actions:terminate_connection", MEMBER),
    ("volume_extension:volume_actions:roll_detaching", MEMBER),
    ("volume_extension:volume_actions:reserve", MEMBER),
    ("volume_extension:volume_actions:unreserve", MEMBER),
    ("volume_extension:volume_actions:begin_detaching", MEMBER),
    ("volume_extension:volume_actions:attach", MEMBER),
    ("volume_extension:volume_actions:detach", MEMBER),
    ("volume:reimage", MEMBER),
    ("volume:reimage_reserved", MEMBER),
    // Volume metadata.
    ("volume:get_volume_metadata", READER),
    ("volume:create_volume_metadata", MEMBER),
    ("volume:update_volume_metadata", MEMBER),
    ("volume:delete_volume_metadata", MEMBER),
    ("volume_extension:volume_image_metadata:show", READER),
    ("volume_extension:volume_image_metadata:set", MEMBER),
    ("volume_extension:volume_image_metadata:remove", MEMBER),
    // Attachments (v3 API, 3.27+).
    ("volume:attachment_create", MEMBER),
    ("volume:attachment_update", MEMBER),
    ("volume:attachment_delete", MEMBER),
    ("volume:attachment_complete", MEMBER),
    ("volume:multiattach_bootable_volume", MEMBER),
    // Snapshots.
    ("volume:get_all_snapshots", READER),
    ("volume_extension:extended_snapshot_attributes", READER),
    ("volume:create_snapshot", MEMBER),
    ("volume:get_snapshot", READER),
    ("volume:update_snapshot", MEMBER),
    ("volume:delete_snapshot", MEMBER),
    ("volume:get_snapshot_metadata", READER),
    ("volume:update_snapshot_metadata", MEMBER),
    ("volume:delete_snapshot_metadata", MEMBER),
    ("volume_extension:snapshot_admin_actions:reset_status", ADMIN_API),
    ("snapshot_extension:snapshot_actions:update_snapshot_status", MEMBER),
    ("volume_extension:snapshot_admin_actions:force_delete", ADMIN_API),
    // Volume types, extra specs and access.
    ("volume_extension:type_create", ADMIN_API),
    ("volume_extension:type_update", ADMIN_API),
    ("volume_extension:type_delete", ADMIN_API),
    ("volume_extension:type_get", READER),
    ("volume_extension:type_get_all", READER),
    ("volume_extension:access_types_extra_specs", READER),
    ("volume_extension:access_types_qos_specs_id", ADMIN_API),
    ("volume_extension:types_extra_specs:index", READER),
    ("volume_extension:types_extra_specs:create", ADMIN_API),
    ("volume_extension:types_extra_specs:show", READER),
    ("volume_extension:types_extra_specs:read_sensitive", ADMIN_API),
    ("volume_extension:types_extra_specs:update", ADMIN_API),
    ("volume_extension:types_extra_specs:delete", ADMIN_API),
    ("volume_extension:volume_type_encryption:create", ADMIN_API),
    ("volume_extension:volume_type_encryption:get", ADMIN_API),
    ("volume_extension:volume_type_encryption:update", ADMIN_API),
    ("volume_extension:volume_type_encryption:delete", ADMIN_API),
    ("volume_extension:volume_type_access", MEMBER),
    ("volume_extension:volume_type_access:addProjectAccess", ADMIN_API),
    ("volume_extension:volume_type_access:removeProjectAccess", ADMIN_API),
    ("volume_extension:volume_type_access:get_all_for_type", ADMIN_API),
    ("volume_extension:default_set_or_update", ADMIN_API),
    ("volume_extension:default_get", ADMIN_API),
    ("volume_extension:default_get_all", ADMIN_API),
    ("volume_extension:default_unset", ADMIN_API),
    // QoS specs.
    ("volume_extension:qos_specs_manage:get_all", ADMIN_API),
    ("volume_extension:qos_specs_manage:get", ADMIN_API),
    ("volume_extension:qos_specs_manage:create", ADMIN_API),
    ("volume_extension:qos_specs_manage:update", ADMIN_API),
    ("volume_extension:qos_specs_manage:delete", ADMIN_API),
    // Quotas and limits.
    ("volume_extension:quotas:show", READER),
    ("volume_extension:quotas:update", ADMIN_API),
    ("volume_extension:quotas:delete", ADMIN_API),
    ("volume_extension:quota_classes:get", ADMIN_API),
    ("volume_extension:quota_classes:update", ADMIN_API),
    ("limits_extension:used_limits", READER),
    // Services, hosts, pools, capabilities.
    ("volume_extension:services:index", ADMIN_API),
    ("volume_extension:services:update", ADMIN_API),
    ("volume:freeze_host", ADMIN_API),
    ("volume:thaw_host", ADMIN_API),
    ("volume:failover_host", ADMIN_API),
    ("volume_extension:hosts", ADMIN_API),
    ("scheduler_extension:scheduler_stats:get_pools", ADMIN_API),
    ("volume_extension:capabilities", ADMIN_API),
    ("clusters:get_all", ADMIN_API),
    ("clusters:get", ADMIN_API),
    ("clusters:update", ADMIN_API),
    ("workers:cleanup", ADMIN_API),
    // Backups.
    ("backup:get_all", READER),
    ("backup:backup_project_attribute", ADMIN_API),
    ("backup:create", MEMBER),
    ("backup:get", READER),
    ("backup:update", MEMBER),
    ("backup:delete", MEMBER),
    ("backup:restore", MEMBER),
    ("backup:backup-import", ADMIN_API),
    ("backup:export-import", ADMIN_API),
    ("volume_extension:backup_admin_actions:reset_status", ADMIN_API),
    ("volume_extension:backup_admin_actions:force_delete", ADMIN_API),
    // Messages and transfers.
    ("message:get_all", READER),
    ("message:get", READER),
    ("message:delete", MEMBER),
    ("volume:get_all_transfers", READER),
    ("volume:create_transfer", MEMBER),
    ("volume:get_transfer", READER),
    ("volume:accept_transfer", MEMBER),
    ("volume:delete_transfer", MEMBER),
];

#[cfg(test)]
mod tests {
    use super::DEFAULT_RULES;
    use monostack_auth::policy::Enforcer;
    use serde_json::json;

    #[test]
    fn every_default_parses() {
        assert!(Enforcer::try_new(DEFAULT_RULES).is_ok());
    }

    #[test]
    fn readers_read_members_write_admins_administer() {
        let e = Enforcer::try_new(DEFAULT_RULES).expect("rules");
        let target = json!({"project_id": "p1"});
        let reader = json!({"roles": ["reader"], "project_id": "p1", "is_admin": false});
        let member = json!({"roles": ["member", "reader"], "project_id": "p1", "is_admin": false});
        let other = json!({"roles": ["member", "reader"], "project_id": "p2", "is_admin": false});
        let admin =
            json!({"roles": ["admin", "member", "reader"], "project_id": "p2", "is_admin": true});
        assert!(e.enforce("volume:get", &target, &reader));
        assert!(!e.enforce("volume:create", &target, &reader));
        assert!(e.enforce("volume:create", &target, &member));
        assert!(!e.enforce("volume:get", &target, &other));
        assert!(!e.enforce("volume:force_delete", &target, &member));
        assert!(e.enforce("volume:force_delete", &target, &admin));
        assert!(e.enforce("volume:get", &target, &admin));
    }
}
