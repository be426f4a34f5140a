//! Nova's filter scheduler as a library: given what a request needs ([`RequestSpec`]) and the
//! candidate hosts ([`HostState`]), pick a host (plus alternates) for every instance.
//!
//! The algorithm is the one operators know from Nova: hosts go through the enabled filters in
//! order (each filter's survivors feed the next), the survivors are weighed (each weigher's
//! raw values normalized to 0..1, times its multiplier, summed), and the best is chosen (at
//! random among the best `host_subset_size`). In a multi-create the chosen host's resources
//! are consumed before the next instance is placed, so 20 instances spread or stack as the
//! weighers dictate, and server-group policies hold across the instances of one request.
//!
//! This crate knows nothing of placement or the compute database: the conductor turns its
//! records and placement's allocation candidates into these plain types.

pub mod allocation;
pub mod config;
pub mod error;
pub mod extra_specs_ops;
pub mod filters;
pub mod host_state;
pub mod request_spec;
pub mod scheduler;
pub mod selection;
pub mod version_predicate;
pub mod weighers;

#[cfg(test)]
pub(crate) mod testing;

pub use allocation::{allocation_requests_by_provider, AllocationClaimer, AllocationRequest};
pub use config::SchedulerConfig;
pub use error::{ConfigError, FilterOutcome, NoValidHost};
pub use filters::Filter;
pub use host_state::{Aggregate, HostState, InstanceSet, Limits, ServiceState, SupportedInstance};
pub use request_spec::{
    Destination, Flavor, GroupPolicy, ImageMeta, RequestSpec, RetryInfo, ServerGroup, TriedHost,
};
pub use scheduler::FilterScheduler;
pub use selection::{HostChoice, Selection};
pub use weighers::Weigher;
