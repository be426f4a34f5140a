//! The identity schema. Portable across SQLite, PostgreSQL and MariaDB: BIGINT integers,
//! times in epoch microseconds, booleans as 0/1, JSON documents in TEXT.
//! Domains live in `projects` with `is_domain = 1` and `domain_id = ROOT_DOMAIN`, as in
//! Keystone; global roles have `domain_id = NULL_DOMAIN`, so uniqueness works without NULLs.

use monostack_db::Migration;

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "identity initial schema",
    statements: &[
        "CREATE TABLE projects (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL, parent_id VARCHAR(64), is_domain BIGINT NOT NULL, enabled BIGINT NOT NULL, description TEXT, extra TEXT, created_at BIGINT NOT NULL, UNIQUE (domain_id, name))",
        "CREATE INDEX projects_parent ON projects (parent_id)",
        "CREATE TABLE project_tags (project_id VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL, PRIMARY KEY (project_id, name))",
        "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, domain_id VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL, enabled BIGINT NOT NULL, password_hash VARCHAR(255), password_created_at BIGINT, password_expires_at BIGINT, default_project_id VARCHAR(64), options TEXT, extra TEXT, created_at BIGINT NOT NULL, last_active_at BIGINT, UNIQUE (domain_id, name))",
        "CREATE TABLE user_groups (id VARCHAR(64) PRIMARY KEY, domain_id VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL, description TEXT, extra TEXT, UNIQUE (domain_id, name))",
        "CREATE TABLE group_memberships (user_id VARCHAR(64) NOT NULL, group_id VARCHAR(64) NOT NULL, PRIMARY KEY (user_id, group_id))",
        "CREATE INDEX group_memberships_group ON group_memberships (group_id)",
        "CREATE TABLE roles (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, domain_id VARCHAR(64) NOT NULL, description TEXT, options TEXT, extra TEXT, UNIQUE (name, domain_id))",
        "CREATE TABLE implied_roles (prior_role_id VARCHAR(64) NOT NULL, implied_role_id VARCHAR(64) NOT NULL, PRIMARY KEY (prior_role_id, implied_role_id))",
        "CREATE TABLE assignments (kind VARCHAR(16) NOT NULL, actor_id VARCHAR(64) NOT NULL, target_id VARCHAR(64) NOT NULL, role_id VARCHAR(64) NOT NULL, inherited BIGINT NOT NULL, PRIMARY KEY (kind, actor_id, target_id, role_id, inherited))",
        "CREATE INDEX assignments_actor ON assignments (actor_id)",
        "CREATE INDEX assignments_target ON assignments (target_id)",
        "CREATE INDEX assignments_role ON assignments (role_id)",
        "CREATE TABLE regions (id VARCHAR(255) PRIMARY KEY, description TEXT, parent_region_id VARCHAR(255), extra TEXT)",
        "CREATE TABLE services (id VARCHAR(64) PRIMARY KEY, service_type VARCHAR(255) NOT NULL, name VARCHAR(255), description TEXT, enabled BIGINT NOT NULL, extra TEXT)",
        "CREATE TABLE endpoints (id VARCHAR(64) PRIMARY KEY, service_id VARCHAR(64) NOT NULL, interface VARCHAR(16) NOT NULL, region_id VARCHAR(255), url TEXT NOT NULL, enabled BIGINT NOT NULL, extra TEXT)",
        "CREATE TABLE application_credentials (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, secret_hash VARCHAR(255) NOT NULL, description TEXT, user_id VARCHAR(64) NOT NULL, project_id VARCHAR(64), expires_at BIGINT, system_scope VARCHAR(16), unrestricted BIGINT NOT NULL, created_at BIGINT NOT NULL, UNIQUE (user_id, name))",
        "CREATE TABLE application_credential_roles (application_credential_id VARCHAR(64) NOT NULL, role_id VARCHAR(64) NOT NULL, PRIMARY KEY (application_credential_id, role_id))",
        "CREATE TABLE access_rules (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, service VARCHAR(64) NOT NULL, path VARCHAR(255) NOT NULL, method VARCHAR(16) NOT NULL)",
        "CREATE TABLE application_credential_access_rules (application_credential_id VARCHAR(64) NOT NULL, access_rule_id VARCHAR(64) NOT NULL, PRIMARY KEY (application_credential_id, access_rule_id))",
        "CREATE TABLE credentials (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64) NOT NULL, project_id VARCHAR(64), credential_type VARCHAR(255) NOT NULL, encrypted_blob TEXT NOT NULL, extra TEXT)",
        "CREATE TABLE registered_limits (id VARCHAR(64) PRIMARY KEY, service_id VARCHAR(64) NOT NULL, region_id VARCHAR(255), resource_name VARCHAR(255) NOT NULL, default_limit BIGINT NOT NULL, description TEXT)",
        "CREATE TABLE limits (id VARCHAR(64) PRIMARY KEY, project_id VARCHAR(64), domain_id VARCHAR(64), service_id VARCHAR(64) NOT NULL, region_id VARCHAR(255), resource_name VARCHAR(255) NOT NULL, resource_limit BIGINT NOT NULL, description TEXT)",
        "CREATE TABLE revocation_events (id VARCHAR(64) PRIMARY KEY, user_id VARCHAR(64), project_id VARCHAR(64), domain_id VARCHAR(64), audit_id VARCHAR(64), app_cred_id VARCHAR(64), issued_before BIGINT NOT NULL, revoked_at BIGINT NOT NULL)",
    ],
}, Migration {
    version: 2,
    name: "trusts, policies, oauth1 consumers, endpoint groups, domain configs",
    statements: &[
        "CREATE TABLE trusts (id VARCHAR(64) PRIMARY KEY, trustor_user_id VARCHAR(64) NOT NULL, trustee_user_id VARCHAR(64) NOT NULL, project_id VARCHAR(64), impersonation BIGINT NOT NULL, expires_at BIGINT, remaining_uses BIGINT, redelegated_trust_id VARCHAR(64), redelegation_count BIGINT, extra TEXT, created_at BIGINT NOT NULL)",
        "CREATE TABLE trust_roles (trust_id VARCHAR(64) NOT NULL, role_id VARCHAR(64) NOT NULL, PRIMARY KEY (trust_id, role_id))",
        "CREATE TABLE policies (id VARCHAR(64) PRIMARY KEY, policy_type VARCHAR(255) NOT NULL, blob_text TEXT NOT NULL, extra TEXT)",
        "CREATE TABLE oauth1_consumers (id VARCHAR(64) PRIMARY KEY, description TEXT, secret VARCHAR(255) NOT NULL, extra TEXT)",
        "CREATE TABLE endpoint_groups (id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL, description TEXT, filters TEXT NOT NULL)",
        "CREATE TABLE project_endpoint_groups (endpoint_group_id VARCHAR(64) NOT NULL, project_id VARCHAR(64) NOT NULL, PRIMARY KEY (endpoint_group_id, project_id))",
        "CREATE TABLE project_endpoints (endpoint_id VARCHAR(64) NOT NULL, project_id VARCHAR(64) NOT NULL, PRIMARY KEY (endpoint_id, project_id))",
        "CREATE TABLE domain_configs (domain_id VARCHAR(64) NOT NULL, group_name VARCHAR(255) NOT NULL, option_name VARCHAR(255) NOT NULL, option_value TEXT NOT NULL, is_sensitive BIGINT NOT NULL, PRIMARY KEY (domain_id, group_name, option_name))",
        "ALTER TABLE revocation_events ADD trust_id VARCHAR(64)",
    ],
}];
