//! Identity API tests against an in-process service (one test binary: one link, not ten).
#![allow(clippy::unwrap_used)]

mod support;

mod backends;
mod bad_input;
mod catalog_appcreds_limits;
mod ec2_policies_consumers;
mod endpoint_groups_domain_configs;
mod remote_validation;
mod roles_assignments;
mod tokens;
mod trusts;
mod users_groups;
