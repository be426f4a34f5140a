//! AllHostsFilter: passes every host (useful to disable filtering explicitly).

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct AllHostsFilter;

impl Filter for AllHostsFilter {
    fn name(&self) -> &'static str {
        "AllHostsFilter"
    }

    fn host_passes(&self, _host: &HostState, _spec: &RequestSpec) -> bool {
        true
    }

    fn run_once_per_request(&self) -> bool {
        true
    }

    fn run_on_rebuild(&self) -> bool {
        true
    }
}
