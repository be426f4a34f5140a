//! Block storage API tests: an in-process identity and volume service on temporary SQLite
//! databases, driven over the router as clients drive it. One module per resource family.

// Shared with the identity tests; formatted there, not here.
#[rustfmt::skip]
#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;
mod support;

mod attachments;
mod authz;
mod backups;
mod backends;
mod cinder_shapes;
mod data_integrity;
mod file_backend;
mod images;
mod qos_specs;
mod recovery;
mod services;
mod snapshots;
mod transfers;
mod types;
mod versions;
mod volumes;
