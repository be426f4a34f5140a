//! Tunnel types: `vxlan` (VNIs, UDP encapsulation) and `gre` (tunnel keys, IP encapsulation).
//! No physical network; ids for project networks come from `vni_ranges` / `tunnel_id_ranges`
//! in order; an admin may pick any id in the type's bounds. The MTU is the underlay's minus
//! the encapsulation and the outer IPv4 header (VXLAN 30 + 20, GRE 22 + 20), as Neutron
//! computes it.

use super::TypeDriver;
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{parse_range, IdRange, NetworkType, Segment};

const IPV4_HEADER: i64 = 20;

pub struct TunnelDriver {
    network_type: NetworkType,
    ranges: Vec<(i64, i64)>,
    max_id: i64,
    mtu: i64,
}

impl TunnelDriver {
    pub fn vxlan(ranges: &[String], path_mtu: i64) -> Result<Self, String> {
        Self::new(
            NetworkType::Vxlan,
            ranges,
            16_777_215,
            path_mtu - 30 - IPV4_HEADER,
        )
    }
    pub fn gre(ranges: &[String], path_mtu: i64) -> Result<Self, String> {
        Self::new(
            NetworkType::Gre,
            ranges,
            4_294_967_295,
            path_mtu - 22 - IPV4_HEADER,
        )
    }
    fn new(
        network_type: NetworkType,
        entries: &[String],
        max_id: i64,
        mtu: i64,
    ) -> Result<Self, String> {
        let ranges = entries
            .iter()
            .map(|e| parse_range(e, 1, max_id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TunnelDriver {
            network_type,
            ranges,
            max_id,
            mtu,
        })
    }
}

impl TypeDriver for TunnelDriver {
    fn network_type(&self) -> NetworkType {
        self.network_type
    }
    fn validate_provider_segment(&self, segment: &Segment) -> NeutronResult<()> {
        let t = self.network_type.as_str();
        if segment.physical_network.is_some() {
            return Err(NeutronError::invalid_input(format!(
                "provider:physical_network specified for {t} network"
            )));
        }
        if let Some(id) = segment.segmentation_id {
            if !(1..=self.max_id).contains(&id) {
                return Err(NeutronError::invalid_input(format!(
                    "segmentation_id out of range (1 through {})",
                    self.max_id
                )));
            }
        }
        Ok(())
    }
    fn allocates_ids(&self) -> bool {
        true
    }
    fn is_partial(&self, segment: &Segment) -> bool {
        segment.segmentation_id.is_none()
    }
    fn tenant_ranges(&self, _: Option<&str>) -> Vec<IdRange> {
        self.ranges
            .iter()
            .map(|(min, max)| IdRange {
                physical_network: String::new(),
                min: *min,
                max: *max,
            })
            .collect()
    }
    fn mtu(&self, _: Option<&str>) -> i64 {
        self.mtu
    }
}
