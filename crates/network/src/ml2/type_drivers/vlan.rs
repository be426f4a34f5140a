//! `vlan`: 802.1Q-tagged networks on physical networks. `network_vlan_ranges` lists the
//! physical networks (`physnet`, provider VLANs only) and the ranges project VLANs come from
//! (`physnet:min:max`).

use super::TypeDriver;
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{parse_range, IdRange, NetworkType, Segment};

pub const MIN_VLAN_TAG: i64 = 1;
pub const MAX_VLAN_TAG: i64 = 4094;

pub struct VlanDriver {
    /// Physical networks in configuration order, each with its ranges.
    physnets: Vec<(String, Vec<(i64, i64)>)>,
    mtu: i64,
}

impl VlanDriver {
    pub fn new(entries: &[String], mtu: i64) -> Result<Self, String> {
        let mut physnets: Vec<(String, Vec<(i64, i64)>)> = Vec::new();
        for entry in entries {
            let entry = entry.trim();
            let (name, range) = match entry.split_once(':') {
                Some((n, r)) => (n.trim(), Some(parse_range(r, MIN_VLAN_TAG, MAX_VLAN_TAG)?)),
                None => (entry, None),
            };
            if name.is_empty() {
                return Err(format!("'{entry}': empty physical network name"));
            }
            let pos = match physnets.iter().position(|(n, _)| n == name) {
                Some(p) => p,
                None => {
                    physnets.push((name.to_string(), Vec::new()));
                    physnets.len() - 1
                }
            };
            if let Some(r) = range {
                physnets[pos].1.push(r);
            }
        }
        Ok(VlanDriver { physnets, mtu })
    }
}

impl TypeDriver for VlanDriver {
    fn network_type(&self) -> NetworkType {
        NetworkType::Vlan
    }
    fn validate_provider_segment(&self, segment: &Segment) -> NeutronResult<()> {
        match (&segment.physical_network, segment.segmentation_id) {
            (Some(p), id) => {
                if !self.physnets.iter().any(|(n, _)| n == p) {
                    return Err(NeutronError::invalid_input(format!(
                        "physical_network '{p}' unknown for VLAN provider network"
                    )));
                }
                if let Some(id) = id {
                    if !(MIN_VLAN_TAG..=MAX_VLAN_TAG).contains(&id) {
                        return Err(NeutronError::invalid_input(format!(
                            "segmentation_id out of range ({MIN_VLAN_TAG} through {MAX_VLAN_TAG})"
                        )));
                    }
                }
                Ok(())
            }
            (None, Some(_)) => Err(NeutronError::invalid_input(
                "segmentation_id requires physical_network for VLAN provider network",
            )),
            (None, None) => Ok(()),
        }
    }
    fn allocates_ids(&self) -> bool {
        true
    }
    fn is_partial(&self, segment: &Segment) -> bool {
        segment.segmentation_id.is_none()
    }
    fn tenant_ranges(&self, physical_network: Option<&str>) -> Vec<IdRange> {
        self.physnets
            .iter()
            .filter(|(n, _)| physical_network.is_none_or(|p| p == n))
            .flat_map(|(n, ranges)| {
                ranges.iter().map(|(min, max)| IdRange {
                    physical_network: n.clone(),
                    min: *min,
                    max: *max,
                })
            })
            .collect()
    }
    fn mtu(&self, _: Option<&str>) -> i64 {
        self.mtu
    }
}
