//! Compute API tests: an in-process identity and compute service on temporary SQLite
//! databases, driven over the router as clients drive it. One module per resource family.

#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;
mod images;
mod support;

mod aggregates;
mod audit_log;
mod diagnostics;
mod flavors;
mod hosts;
mod hypervisors;
mod image_proxy;
mod keypairs;
mod quotas;
mod server_groups;
mod services;
mod usage;
mod servers;
mod servers_actions;
mod servers_list;
mod servers_subresources;
mod networking;
mod volumes;
mod versions;
