//! RAMWeigher: more free RAM weighs more, so instances spread; a negative
//! `ram_weight_multiplier` stacks them. Aggregate metadata `ram_weight_multiplier` overrides
//! the configured multiplier per host.

use super::Weigher;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone, Copy)]
pub struct RamWeigher {
    pub multiplier: f64,
}

impl Weigher for RamWeigher {
    fn name(&self) -> &'static str {
        "RAMWeigher"
    }

    fn raw_weight(&self, host: &HostState, _spec: &RequestSpec) -> f64 {
        host.free_ram_mb as f64
    }

    fn multiplier(&self, host: &HostState) -> f64 {
        host.aggregate_min_f64("ram_weight_multiplier", self.multiplier)
    }

    fn minval(&self) -> Option<f64> {
        Some(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_state::Aggregate;
    use crate::testing::host;
    use std::collections::BTreeMap;

    #[test]
    fn aggregate_metadata_overrides_the_multiplier() {
        let mut h = host("a", 1024, 10, 1);
        let w = RamWeigher { multiplier: 1.0 };
        assert_eq!(w.multiplier(&h), 1.0);
        h.aggregates.push(Aggregate {
            id: 1,
            name: "stack".into(),
            metadata: BTreeMap::from([("ram_weight_multiplier".into(), "-2".into())]),
        });
        assert_eq!(w.multiplier(&h), -2.0);
    }
}
