//! The service layer: the logic of each resource, called by the API, running every change in
//! one database write transaction.

pub mod address_scopes;
pub mod agents;
pub mod auto_allocate;
pub mod floatingips;
pub mod networks;
pub mod ports;
pub mod quotas;
pub mod routers;
pub mod security_groups;
pub mod subnetpools;
pub mod subnets;
