//! ML2 type drivers: one per network type.

mod flat;
mod local;
mod tunnel;
mod vlan;

pub use flat::FlatDriver;
pub use local::LocalDriver;
pub use tunnel::TunnelDriver;
pub use vlan::VlanDriver;

use super::{IdRange, NetworkType, Segment};
use crate::error::NeutronResult;

/// What ML2 asks of a network type.
pub trait TypeDriver: Send + Sync {
    fn network_type(&self) -> NetworkType;
    /// Refuses a provider segment this type cannot have, with Neutron's InvalidInput.
    fn validate_provider_segment(&self, segment: &Segment) -> NeutronResult<()>;
    /// Whether the segment still needs an id from [`Self::tenant_ranges`].
    fn is_partial(&self, segment: &Segment) -> bool {
        let _ = segment;
        false
    }
    /// Whether this type allocates segmentation ids at all (vlan, vxlan, gre).
    fn allocates_ids(&self) -> bool {
        false
    }
    /// The ranges project segments are allocated from, in order; `physical_network` narrows
    /// them when given.
    fn tenant_ranges(&self, physical_network: Option<&str>) -> Vec<IdRange> {
        let _ = physical_network;
        Vec::new()
    }
    /// The MTU a segment of this type carries (0 when unknown).
    fn mtu(&self, physical_network: Option<&str>) -> i64;
}
