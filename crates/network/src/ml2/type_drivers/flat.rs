//! `flat`: untagged traffic on a physical network; one flat network per physical network.

use super::TypeDriver;
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{NetworkType, Segment};

pub struct FlatDriver {
    /// None allows any physical network (`*`); empty disables flat networks.
    flat_networks: Option<Vec<String>>,
    mtu: i64,
}

impl FlatDriver {
    pub fn new(flat_networks: &[String], mtu: i64) -> Self {
        let names: Vec<String> = flat_networks
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let flat_networks = if names.iter().any(|n| n == "*") {
            None
        } else {
            Some(names)
        };
        FlatDriver { flat_networks, mtu }
    }
}

impl TypeDriver for FlatDriver {
    fn network_type(&self) -> NetworkType {
        NetworkType::Flat
    }
    fn validate_provider_segment(&self, segment: &Segment) -> NeutronResult<()> {
        let Some(physnet) = segment.physical_network.as_deref() else {
            return Err(NeutronError::invalid_input(
                "physical_network required for flat provider network",
            ));
        };
        match &self.flat_networks {
            Some(names) if names.is_empty() => {
                return Err(NeutronError::invalid_input(
                    "Flat provider networks are disabled",
                ))
            }
            Some(names) if !names.iter().any(|n| n == physnet) => {
                return Err(NeutronError::invalid_input(format!(
                    "physical_network '{physnet}' unknown for flat provider network"
                )))
            }
            _ => {}
        }
        if segment.segmentation_id.is_some() {
            return Err(NeutronError::invalid_input(
                "provider:segmentation_id prohibited for flat provider network",
            ));
        }
        Ok(())
    }
    fn mtu(&self, _: Option<&str>) -> i64 {
        self.mtu
    }
}
