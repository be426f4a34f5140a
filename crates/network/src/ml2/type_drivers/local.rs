//! `local`: a network that exists only on one host; no id, any number of them.

use super::TypeDriver;
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{NetworkType, Segment};

pub struct LocalDriver;

impl TypeDriver for LocalDriver {
    fn network_type(&self) -> NetworkType {
        NetworkType::Local
    }
    fn validate_provider_segment(&self, segment: &Segment) -> NeutronResult<()> {
        if segment.physical_network.is_some() {
            return Err(NeutronError::invalid_input(
                "provider:physical_network prohibited for local provider network",
            ));
        }
        if segment.segmentation_id.is_some() {
            return Err(NeutronError::invalid_input(
                "provider:segmentation_id prohibited for local provider network",
            ));
        }
        Ok(())
    }
    fn mtu(&self, _: Option<&str>) -> i64 {
        1500
    }
}
