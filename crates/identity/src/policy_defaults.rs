//! Default policy rules of the Identity (Keystone) API.
//!
//! # Provenance
//!
//! This table reproduces the in-code defaults that upstream Keystone registers
//! with oslo.policy (the modules under `keystone/common/policies/` in the
//! `openstack/keystone` repository, master as of mid-2026, i.e. the
//! "secure RBAC" defaults: system / domain / project scope crossed with the
//! `admin` / `manager` / `member` / `reader` roles, plus the `service` role).
//! Only rule *names* and *check strings* are carried over, because those are
//! what decide the API's observable behaviour.  For each policy the current
//! default is used, never the deprecated fallback.  The Python sources build
//! many strings from shared module constants by concatenation; every such
//! string appears here fully resolved, so apart from the handful of named
//! base rules at the top (which other rules reach with `rule:NAME`) each
//! entry is the final string oslo.policy would see.
//!
//! The strings use oslo.policy's language unchanged: `role:X`, `rule:X`,
//! generic `key:value` checks, `%(dotted.key)s` substitutions taken from the
//! target, quoted literals on the left (`'manager':%(target.role.name)s`),
//! the literal `None` on either side (`None:%(target.role.domain_id)s`,
//! `not domain_id:None`), `and` / `or` / `not` and parentheses.  An empty
//! string means "always allowed" (oslo.policy treats `""` like `@`).
//!
//! # Credentials referenced (left-hand side of checks)
//!
//! * `roles`               - via `role:X` (effective role names of the token,
//!   compared case-insensitively by oslo.policy)
//! * `user_id`             - id of the authenticated user
//! * `project_id`          - project the token is scoped to (if any)
//! * `domain_id`           - domain the token is scoped to; must be present
//!   and `None` for non-domain-scoped tokens because
//!   of `not domain_id:None` in `identity:list_roles`
//! * `system_scope`        - `"all"` for system-scoped tokens
//! * `is_admin`            - legacy flag, used only by `admin_required`
//! * `token.domain.id`     - domain of a domain-scoped token (Keystone puts
//!   the rendered token body under `token` in creds)
//! * `token.project.domain.id` - owning domain of a project-scoped token's
//!   project
//!
//! # Target keys referenced (`%(...)s` substitutions)
//!
//! Keystone flattens the target dictionary into dotted keys before
//! enforcement, so the server must provide exactly these flat keys (a key
//! that is missing makes its check evaluate to false):
//!
//! * `user_id`                      - top level: the `{user_id}` URL path
//!   parameter (used by `owner`)
//! * `target.credential.user_id`
//! * `target.domain.id`
//! * `target.domain_id`             - for list calls Keystone fills this with
//!   the caller's own domain scope
//! * `target.group.domain_id`
//! * `target.limit.domain.id`
//! * `target.limit.project.domain_id`
//! * `target.limit.project_id`
//! * `target.project.domain_id`
//! * `target.project.id`
//! * `target.role.domain_id`
//! * `target.role.name`
//! * `target.token.user_id`         - owner of the X-Subject-Token
//! * `target.trust.trustee_user_id`
//! * `target.trust.trustor_user_id`
//! * `target.user.domain_id`
//! * `target.user.id`
//!
//! A companion table, [`DEFAULT_SCOPE_TYPES`], records the token scopes
//! each policy accepts when scope enforcement is turned on.

/// `(rule name, oslo.policy check string)` pairs, base rules first, then one
/// block per upstream policy module.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    // ---- base.py ----
    ("admin_required", "role:admin or is_admin:1"),
    ("service_role", "role:service"),
    ("service_or_admin", "rule:admin_required or rule:service_role"),
    ("owner", "user_id:%(user_id)s"),
    ("admin_or_owner", "rule:admin_required or rule:owner"),
    ("token_subject", "user_id:%(target.token.user_id)s"),
    ("admin_or_token_subject", "rule:admin_required or rule:token_subject"),
    ("service_admin_or_token_subject", "rule:service_or_admin or rule:token_subject"),
    ("domain_managed_target_role", "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s"),
    // ---- access_rule.py ----
    ("identity:get_access_rule", "(role:reader and system_scope:all) or user_id:%(target.user.id)s"),
    ("identity:list_access_rules", "(role:reader and system_scope:all) or user_id:%(target.user.id)s"),
    ("identity:delete_access_rule", "(role:admin and system_scope:all) or user_id:%(target.user.id)s"),
    // ---- access_token.py ----
    ("identity:authorize_request_token", "rule:admin_required"),
    ("identity:get_access_token", "rule:admin_required"),
    ("identity:get_access_token_role", "rule:admin_required"),
    ("identity:list_access_tokens", "rule:admin_required"),
    ("identity:list_access_token_roles", "rule:admin_required"),
    ("identity:delete_access_token", "rule:admin_required"),
    // ---- application_credential.py ----
    ("identity:get_application_credential", "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner"),
    ("identity:list_application_credentials", "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner"),
    ("identity:create_application_credential", "user_id:%(user_id)s"),
    ("identity:delete_application_credential", "rule:admin_or_owner"),
    // ---- auth.py ----
    ("identity:get_auth_catalog", ""),
    ("identity:get_auth_projects", ""),
    ("identity:get_auth_domains", ""),
    ("identity:get_auth_system", ""),
    // ---- consumer.py ----
    ("identity:get_consumer", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_consumers", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_consumer", "rule:admin_required"),
    ("identity:update_consumer", "rule:admin_required"),
    ("identity:delete_consumer", "rule:admin_required"),
    // ---- credential.py ----
    ("identity:get_credential", "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s"),
    ("identity:list_credentials", "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s"),
    ("identity:create_credential", "(rule:admin_required) or user_id:%(target.credential.user_id)s"),
    ("identity:update_credential", "(rule:admin_required) or user_id:%(target.credential.user_id)s"),
    ("identity:delete_credential", "(rule:admin_required) or user_id:%(target.credential.user_id)s"),
    // ---- domain.py ----
    ("identity:get_domain", "rule:admin_required or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s"),
    ("identity:list_domains", "rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)"),
    ("identity:create_domain", "rule:admin_required"),
    ("identity:update_domain", "rule:admin_required"),
    ("identity:delete_domain", "rule:admin_required"),
    // ---- domain_config.py ----
    ("identity:create_domain_config", "rule:admin_required"),
    ("identity:get_domain_config", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:get_security_compliance_domain_config", ""),
    ("identity:update_domain_config", "rule:admin_required"),
    ("identity:delete_domain_config", "rule:admin_required"),
    ("identity:get_domain_config_default", "rule:admin_required or (role:reader and system_scope:all)"),
    // ---- ec2_credential.py ----
    ("identity:ec2_get_credential", "(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s"),
    ("identity:ec2_list_credentials", "(rule:admin_required) or (role:reader and system_scope:all) or rule:owner"),
    ("identity:ec2_create_credential", "(rule:admin_required) or (role:member and user_id:%(target.credential.user_id)s)"),
    ("identity:ec2_delete_credential", "(rule:admin_required) or (role:member and user_id:%(target.credential.user_id)s)"),
    // ---- endpoint.py ----
    ("identity:get_endpoint", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_endpoints", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_endpoint", "rule:admin_required"),
    ("identity:update_endpoint", "rule:admin_required"),
    ("identity:delete_endpoint", "rule:admin_required"),
    // ---- endpoint_group.py ----
    ("identity:create_endpoint_group", "rule:admin_required"),
    ("identity:list_endpoint_groups", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:get_endpoint_group", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:update_endpoint_group", "rule:admin_required"),
    ("identity:delete_endpoint_group", "rule:admin_required"),
    ("identity:list_projects_associated_with_endpoint_group", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_endpoints_associated_with_endpoint_group", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:get_endpoint_group_in_project", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_endpoint_groups_for_project", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:add_endpoint_group_to_project", "rule:admin_required"),
    ("identity:remove_endpoint_group_from_project", "rule:admin_required"),
    // ---- grant.py ----
    ("identity:check_grant", "(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s))"),
    ("identity:list_grants", "(rule:admin_required) or ((role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s))"),
    ("identity:create_grant", "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role"),
    ("identity:revoke_grant", "(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role"),
    ("identity:list_system_grants_for_user", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:check_system_grant_for_user", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_system_grant_for_user", "rule:admin_required"),
    ("identity:revoke_system_grant_for_user", "rule:admin_required"),
    ("identity:list_system_grants_for_group", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:check_system_grant_for_group", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_system_grant_for_group", "rule:admin_required"),
    ("identity:revoke_system_grant_for_group", "rule:admin_required"),
    // ---- group.py ----
    ("identity:get_group", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)"),
    ("identity:list_groups", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)"),
    ("identity:list_groups_for_user", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s"),
    ("identity:create_group", "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)"),
    ("identity:update_group", "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)"),
    ("identity:delete_group", "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)"),
    ("identity:list_users_in_group", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)"),
    ("identity:remove_user_from_group", "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)"),
    ("identity:check_user_in_group", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)"),
    ("identity:add_user_to_group", "(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)"),
    // ---- identity_provider.py ----
    ("identity:create_identity_provider", "rule:admin_required"),
    ("identity:list_identity_providers", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:get_identity_provider", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:update_identity_provider", "rule:admin_required"),
    ("identity:delete_identity_provider", "rule:admin_required"),
    // ---- implied_role.py ----
    ("identity:get_implied_role", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_implied_roles", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_implied_role", "rule:admin_required"),
    ("identity:delete_implied_role", "rule:admin_required"),
    ("identity:list_role_inference_rules", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:check_implied_role", "rule:admin_required or (role:reader and system_scope:all)"),
    // ---- limit.py ----
    ("identity:get_limit_model", ""),
    ("identity:get_limit", "rule:admin_required or (role:reader and system_scope:all) or (domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)"),
    ("identity:list_limits", ""),
    ("identity:create_limits", "rule:admin_required"),
    ("identity:update_limit", "rule:admin_required"),
    ("identity:delete_limit", "rule:admin_required"),
    // ---- mapping.py ----
    ("identity:create_mapping", "rule:admin_required"),
    ("identity:get_mapping", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_mappings", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:delete_mapping", "rule:admin_required"),
    ("identity:update_mapping", "rule:admin_required"),
    // ---- policy.py ----
    ("identity:get_policy", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_policies", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_policy", "rule:admin_required"),
    ("identity:update_policy", "rule:admin_required"),
    ("identity:delete_policy", "rule:admin_required"),
    // ---- policy_association.py ----
    ("identity:create_policy_association_for_endpoint", "rule:admin_required"),
    ("identity:check_policy_association_for_endpoint", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:delete_policy_association_for_endpoint", "rule:admin_required"),
    ("identity:create_policy_association_for_service", "rule:admin_required"),
    ("identity:check_policy_association_for_service", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:delete_policy_association_for_service", "rule:admin_required"),
    ("identity:create_policy_association_for_region_and_service", "rule:admin_required"),
    ("identity:check_policy_association_for_region_and_service", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:delete_policy_association_for_region_and_service", "rule:admin_required"),
    ("identity:get_policy_for_endpoint", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_endpoints_for_policy", "rule:admin_required or (role:reader and system_scope:all)"),
    // ---- project.py ----
    ("identity:get_project", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s"),
    ("identity:list_projects", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)"),
    ("identity:list_user_projects", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s"),
    ("identity:create_project", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:update_project", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:delete_project", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:list_project_tags", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s"),
    ("identity:get_project_tag", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s"),
    ("identity:update_project_tags", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:create_project_tag", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:delete_project_tags", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    ("identity:delete_project_tag", "(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)"),
    // ---- project_endpoint.py ----
    ("identity:list_projects_for_endpoint", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:add_endpoint_to_project", "rule:admin_required"),
    ("identity:check_endpoint_in_project", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_endpoints_for_project", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:remove_endpoint_from_project", "rule:admin_required"),
    // ---- protocol.py ----
    ("identity:create_protocol", "rule:admin_required"),
    ("identity:update_protocol", "rule:admin_required"),
    ("identity:get_protocol", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_protocols", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:delete_protocol", "rule:admin_required"),
    // ---- region.py ----
    ("identity:get_region", ""),
    ("identity:list_regions", ""),
    ("identity:create_region", "rule:admin_required"),
    ("identity:update_region", "rule:admin_required"),
    ("identity:delete_region", "rule:admin_required"),
    // ---- registered_limit.py ----
    ("identity:get_registered_limit", ""),
    ("identity:list_registered_limits", ""),
    ("identity:create_registered_limits", "rule:admin_required"),
    ("identity:update_registered_limit", "rule:admin_required"),
    ("identity:delete_registered_limit", "rule:admin_required"),
    // ---- revoke_event.py ----
    ("identity:list_revoke_events", "rule:service_or_admin"),
    // ---- role.py ----
    ("identity:get_role", "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and rule:domain_managed_target_role)"),
    ("identity:list_roles", "(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and not domain_id:None)"),
    ("identity:create_role", "rule:admin_required"),
    ("identity:update_role", "rule:admin_required"),
    ("identity:delete_role", "rule:admin_required"),
    ("identity:get_domain_role", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_domain_roles", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_domain_role", "rule:admin_required"),
    ("identity:update_domain_role", "rule:admin_required"),
    ("identity:delete_domain_role", "rule:admin_required"),
    // ---- role_assignment.py ----
    ("identity:list_role_assignments", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)"),
    ("identity:list_role_assignments_for_tree", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)"),
    // ---- s3tokens.py ----
    ("identity:s3tokens_validate", "rule:service_or_admin"),
    // ---- ec2tokens.py ----
    ("identity:ec2tokens_validate", "rule:service_or_admin"),
    // ---- service.py ----
    ("identity:get_service", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_services", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:create_service", "rule:admin_required"),
    ("identity:update_service", "rule:admin_required"),
    ("identity:delete_service", "rule:admin_required"),
    // ---- service_provider.py ----
    ("identity:create_service_provider", "rule:admin_required"),
    ("identity:list_service_providers", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:get_service_provider", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:update_service_provider", "rule:admin_required"),
    ("identity:delete_service_provider", "rule:admin_required"),
    // ---- token_revocation.py ----
    ("identity:revocation_list", "rule:service_or_admin"),
    // ---- token.py ----
    ("identity:check_token", "rule:admin_required or (role:reader and system_scope:all) or rule:token_subject"),
    ("identity:validate_token", "rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject"),
    ("identity:revoke_token", "rule:admin_required or rule:token_subject"),
    // ---- trust.py ----
    ("identity:create_trust", "user_id:%(target.trust.trustor_user_id)s"),
    ("identity:list_trusts", "rule:admin_required or (role:reader and system_scope:all)"),
    ("identity:list_trusts_for_trustor", "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s)"),
    ("identity:list_trusts_for_trustee", "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustee_user_id)s)"),
    ("identity:list_roles_for_trust", "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)"),
    ("identity:get_role_for_trust", "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)"),
    ("identity:delete_trust", "rule:admin_required or user_id:%(target.trust.trustor_user_id)s"),
    ("identity:get_trust", "(rule:admin_required) or (role:reader and system_scope:all or user_id:%(target.trust.trustor_user_id)s or user_id:%(target.trust.trustee_user_id)s)"),
    // ---- user.py ----
    ("identity:get_user", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s"),
    ("identity:list_users", "(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)"),
    ("identity:list_projects_for_user", ""),
    ("identity:list_domains_for_user", ""),
    ("identity:create_user", "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)"),
    ("identity:update_user", "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)"),
    ("identity:delete_user", "(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)"),
];

/// Scope types declared for each policy (`"system"`, `"domain"`,
/// `"project"`).  With scope enforcement on, a token whose scope is not
/// listed is refused before the check string is evaluated.  Rules absent
/// from this table (the base rules and a few `identity:*` policies such as
/// `get_auth_*`) declare no scope restriction.
pub const DEFAULT_SCOPE_TYPES: &[(&str, &[&str])] = &[
    ("identity:get_access_rule", &["system", "project"]),
    ("identity:list_access_rules", &["system", "project"]),
    ("identity:delete_access_rule", &["system", "project"]),
    ("identity:authorize_request_token", &["project"]),
    ("identity:get_access_token", &["project"]),
    ("identity:get_access_token_role", &["project"]),
    ("identity:list_access_tokens", &["project"]),
    ("identity:list_access_token_roles", &["project"]),
    ("identity:delete_access_token", &["project"]),
    ("identity:get_application_credential", &["system", "project"]),
    ("identity:list_application_credentials", &["system", "project"]),
    ("identity:create_application_credential", &["project"]),
    ("identity:delete_application_credential", &["system", "project"]),
    ("identity:get_consumer", &["system", "project"]),
    ("identity:list_consumers", &["system", "project"]),
    ("identity:create_consumer", &["system", "project"]),
    ("identity:update_consumer", &["system", "project"]),
    ("identity:delete_consumer", &["system", "project"]),
    ("identity:get_credential", &["system", "domain", "project"]),
    ("identity:list_credentials", &["system", "domain", "project"]),
    ("identity:create_credential", &["system", "domain", "project"]),
    ("identity:update_credential", &["system", "domain", "project"]),
    ("identity:delete_credential", &["system", "domain", "project"]),
    ("identity:get_domain", &["system", "domain", "project"]),
    ("identity:list_domains", &["system", "domain", "project"]),
    ("identity:create_domain", &["system", "project"]),
    ("identity:update_domain", &["system", "project"]),
    ("identity:delete_domain", &["system", "project"]),
    ("identity:create_domain_config", &["system", "project"]),
    ("identity:get_domain_config", &["system", "project"]),
    ("identity:get_security_compliance_domain_config", &["system", "domain", "project"]),
    ("identity:update_domain_config", &["system", "project"]),
    ("identity:delete_domain_config", &["system", "project"]),
    ("identity:get_domain_config_default", &["system", "project"]),
    ("identity:ec2_get_credential", &["system", "project"]),
    ("identity:ec2_list_credentials", &["system", "project"]),
    ("identity:ec2_create_credential", &["system", "project"]),
    ("identity:ec2_delete_credential", &["system", "project"]),
    ("identity:get_endpoint", &["system", "project"]),
    ("identity:list_endpoints", &["system", "project"]),
    ("identity:create_endpoint", &["system", "project"]),
    ("identity:update_endpoint", &["system", "project"]),
    ("identity:delete_endpoint", &["system", "project"]),
    ("identity:create_endpoint_group", &["system", "project"]),
    ("identity:list_endpoint_groups", &["system", "project"]),
    ("identity:get_endpoint_group", &["system", "project"]),
    ("identity:update_endpoint_group", &["system", "project"]),
    ("identity:delete_endpoint_group", &["system", "project"]),
    ("identity:list_projects_associated_with_endpoint_group", &["system", "project"]),
    ("identity:list_endpoints_associated_with_endpoint_group", &["system", "project"]),
    ("identity:get_endpoint_group_in_project", &["system", "project"]),
    ("identity:list_endpoint_groups_for_project", &["system", "project"]),
    ("identity:add_endpoint_group_to_project", &["system", "project"]),
    ("identity:remove_endpoint_group_from_project", &["system", "project"]),
    ("identity:check_grant", &["system", "domain", "project"]),
    ("identity:list_grants", &["system", "domain", "project"]),
    ("identity:create_grant", &["system", "domain", "project"]),
    ("identity:revoke_grant", &["system", "domain", "project"]),
    ("identity:list_system_grants_for_user", &["system", "project"]),
    ("identity:check_system_grant_for_user", &["system", "project"]),
    ("identity:create_system_grant_for_user", &["system", "project"]),
    ("identity:revoke_system_grant_for_user", &["system", "project"]),
    ("identity:list_system_grants_for_group", &["system", "project"]),
    ("identity:check_system_grant_for_group", &["system", "project"]),
    ("identity:create_system_grant_for_group", &["system", "project"]),
    ("identity:revoke_system_grant_for_group", &["system", "project"]),
    ("identity:get_group", &["system", "domain", "project"]),
    ("identity:list_groups", &["system", "domain", "project"]),
    ("identity:list_groups_for_user", &["system", "domain", "project"]),
    ("identity:create_group", &["system", "domain", "project"]),
    ("identity:update_group", &["system", "domain", "project"]),
    ("identity:delete_group", &["system", "domain", "project"]),
    ("identity:list_users_in_group", &["system", "domain", "project"]),
    ("identity:remove_user_from_group", &["system", "domain", "project"]),
    ("identity:check_user_in_group", &["system", "domain", "project"]),
    ("identity:add_user_to_group", &["system", "domain", "project"]),
    ("identity:create_identity_provider", &["system", "project"]),
    ("identity:list_identity_providers", &["system", "project"]),
    ("identity:get_identity_provider", &["system", "project"]),
    ("identity:update_identity_provider", &["system", "project"]),
    ("identity:delete_identity_provider", &["system", "project"]),
    ("identity:get_implied_role", &["system", "project"]),
    ("identity:list_implied_roles", &["system", "project"]),
    ("identity:create_implied_role", &["system", "project"]),
    ("identity:delete_implied_role", &["system", "project"]),
    ("identity:list_role_inference_rules", &["system", "project"]),
    ("identity:check_implied_role", &["system", "project"]),
    ("identity:get_limit_model", &["system", "domain", "project"]),
    ("identity:get_limit", &["system", "domain", "project"]),
    ("identity:list_limits", &["system", "domain", "project"]),
    ("identity:create_limits", &["system", "project"]),
    ("identity:update_limit", &["system", "project"]),
    ("identity:delete_limit", &["system", "project"]),
    ("identity:create_mapping", &["system", "project"]),
    ("identity:get_mapping", &["system", "project"]),
    ("identity:list_mappings", &["system", "project"]),
    ("identity:delete_mapping", &["system", "project"]),
    ("identity:update_mapping", &["system", "project"]),
    ("identity:get_policy", &["system", "project"]),
    ("identity:list_policies", &["system", "project"]),
    ("identity:create_policy", &["system", "project"]),
    ("identity:update_policy", &["system", "project"]),
    ("identity:delete_policy", &["system", "project"]),
    ("identity:create_policy_association_for_endpoint", &["system", "project"]),
    ("identity:check_policy_association_for_endpoint", &["system", "project"]),
    ("identity:delete_policy_association_for_endpoint", &["system", "project"]),
    ("identity:create_policy_association_for_service", &["system", "project"]),
    ("identity:check_policy_association_for_service", &["system", "project"]),
    ("identity:delete_policy_association_for_service", &["system", "project"]),
    ("identity:create_policy_association_for_region_and_service", &["system", "project"]),
    ("identity:check_policy_association_for_region_and_service", &["system", "project"]),
    ("identity:delete_policy_association_for_region_and_service", &["system", "project"]),
    ("identity:get_policy_for_endpoint", &["system", "project"]),
    ("identity:list_endpoints_for_policy", &["system", "project"]),
    ("identity:get_project", &["system", "domain", "project"]),
    ("identity:list_projects", &["system", "domain", "project"]),
    ("identity:list_user_projects", &["system", "domain", "project"]),
    ("identity:create_project", &["system", "domain", "project"]),
    ("identity:update_project", &["system", "domain", "project"]),
    ("identity:delete_project", &["system", "domain", "project"]),
    ("identity:list_project_tags", &["system", "domain", "project"]),
    ("identity:get_project_tag", &["system", "domain", "project"]),
    ("identity:update_project_tags", &["system", "domain", "project"]),
    ("identity:create_project_tag", &["system", "domain", "project"]),
    ("identity:delete_project_tags", &["system", "domain", "project"]),
    ("identity:delete_project_tag", &["system", "domain", "project"]),
    ("identity:list_projects_for_endpoint", &["system", "project"]),
    ("identity:add_endpoint_to_project", &["system", "project"]),
    ("identity:check_endpoint_in_project", &["system", "project"]),
    ("identity:list_endpoints_for_project", &["system", "project"]),
    ("identity:remove_endpoint_from_project", &["system", "project"]),
    ("identity:create_protocol", &["system", "project"]),
    ("identity:update_protocol", &["system", "project"]),
    ("identity:get_protocol", &["system", "project"]),
    ("identity:list_protocols", &["system", "project"]),
    ("identity:delete_protocol", &["system", "project"]),
    ("identity:get_region", &["system", "domain", "project"]),
    ("identity:list_regions", &["system", "domain", "project"]),
    ("identity:create_region", &["system", "project"]),
    ("identity:update_region", &["system", "project"]),
    ("identity:delete_region", &["system", "project"]),
    ("identity:get_registered_limit", &["system", "domain", "project"]),
    ("identity:list_registered_limits", &["system", "domain", "project"]),
    ("identity:create_registered_limits", &["system", "project"]),
    ("identity:update_registered_limit", &["system", "project"]),
    ("identity:delete_registered_limit", &["system", "project"]),
    ("identity:list_revoke_events", &["system", "project"]),
    ("identity:get_role", &["system", "domain", "project"]),
    ("identity:list_roles", &["system", "domain", "project"]),
    ("identity:create_role", &["system", "project"]),
    ("identity:update_role", &["system", "project"]),
    ("identity:delete_role", &["system", "project"]),
    ("identity:get_domain_role", &["system", "project"]),
    ("identity:list_domain_roles", &["system", "project"]),
    ("identity:create_domain_role", &["system", "project"]),
    ("identity:update_domain_role", &["system", "project"]),
    ("identity:delete_domain_role", &["system", "project"]),
    ("identity:list_role_assignments", &["system", "domain", "project"]),
    ("identity:list_role_assignments_for_tree", &["system", "domain", "project"]),
    ("identity:s3tokens_validate", &["system", "domain", "project"]),
    ("identity:ec2tokens_validate", &["system", "domain", "project"]),
    ("identity:get_service", &["system", "project"]),
    ("identity:list_services", &["system", "project"]),
    ("identity:create_service", &["system", "project"]),
    ("identity:update_service", &["system", "project"]),
    ("identity:delete_service", &["system", "project"]),
    ("identity:create_service_provider", &["system", "project"]),
    ("identity:list_service_providers", &["system", "project"]),
    ("identity:get_service_provider", &["system", "project"]),
    ("identity:update_service_provider", &["system", "project"]),
    ("identity:delete_service_provider", &["system", "project"]),
    ("identity:revocation_list", &["system", "project"]),
    ("identity:check_token", &["system", "domain", "project"]),
    ("identity:validate_token", &["system", "domain", "project"]),
    ("identity:revoke_token", &["system", "domain", "project"]),
    ("identity:create_trust", &["project"]),
    ("identity:list_trusts", &["system", "project"]),
    ("identity:list_trusts_for_trustor", &["system", "project"]),
    ("identity:list_trusts_for_trustee", &["system", "project"]),
    ("identity:list_roles_for_trust", &["system", "project"]),
    ("identity:get_role_for_trust", &["system", "project"]),
    ("identity:delete_trust", &["system", "project"]),
    ("identity:get_trust", &["system", "project"]),
    ("identity:get_user", &["system", "domain", "project"]),
    ("identity:list_users", &["system", "domain", "project"]),
    ("identity:create_user", &["system", "domain", "project"]),
    ("identity:update_user", &["system", "domain", "project"]),
    ("identity:delete_user", &["system", "domain", "project"]),
];
