//! DiskWeigher: more free local disk weighs more; a negative `disk_weight_multiplier` stacks
//! instead of spreading.

use super::Weigher;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct DiskWeigher {
    pub multiplier: f64,
}

impl Weigher for DiskWeigher {
    fn name(&self) -> &'static str {
        "DiskWeigher"
    }

    fn raw_weight(&self, host: &HostState, _spec: &RequestSpec) -> f64 {
        host.free_disk_mb as f64
    }

    fn multiplier(&self, host: &HostState) -> f64 {
        host.aggregate_min_f64("disk_weight_multiplier", self.multiplier)
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
    fn raw_weight_is_free_disk() {
        let h = host("a", 1024, 10, 8);
        assert_eq!(
            DiskWeigher { multiplier: 1.0 }.raw_weight(&h, &spec(1, 1, 1)),
            10240.0
        );
    }
}
