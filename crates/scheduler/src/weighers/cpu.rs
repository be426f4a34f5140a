//! CPUWeigher: more free vCPUs (`total × cpu_allocation_ratio − used`) weigh more; a
//! negative `cpu_weight_multiplier` stacks instead of spreading.

use super::Weigher;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct CpuWeigher {
    pub multiplier: f64,
}

impl Weigher for CpuWeigher {
    fn name(&self) -> &'static str {
        "CPUWeigher"
    }

    fn raw_weight(&self, host: &HostState, _spec: &RequestSpec) -> f64 {
        host.vcpus_total as f64 * host.cpu_allocation_ratio - host.vcpus_used as f64
    }

    fn multiplier(&self, host: &HostState) -> f64 {
        host.aggregate_min_f64("cpu_weight_multiplier", self.multiplier)
    }

    fn minval(&self) -> Option<f64> {
        Some(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{host, spec};

    #[test]
    fn free_vcpus_count_the_allocation_ratio() {
        let mut h = host("a", 1024, 10, 8);
        h.vcpus_used = 28;
        assert_eq!(
            CpuWeigher { multiplier: 1.0 }.raw_weight(&h, &spec(1, 1, 1)),
            100.0
        );
    }
}
