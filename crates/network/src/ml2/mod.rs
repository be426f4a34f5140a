//! The ML2 core plugin's server side: type drivers (one per network type, in
//! [`type_drivers`]) validate provider segments, say which ids project networks are allocated
//! from and what MTU a segment carries; [`Ml2`] picks the type of a project network from
//! `[ml2] tenant_network_types` in order, falling back to the next type when one has no id
//! left. Segment ids are reserved in the database by [`crate::db::segments`].

pub mod type_drivers;

use crate::error::{NeutronError, NeutronResult};
use monostack_common::config::Config;
use std::collections::BTreeMap;
use type_drivers::{FlatDriver, LocalDriver, TunnelDriver, TypeDriver, VlanDriver};

/// A network type of ML2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkType {
    Local,
    Flat,
    Vlan,
    Vxlan,
    Gre,
}

impl NetworkType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "local" => NetworkType::Local,
            "flat" => NetworkType::Flat,
            "vlan" => NetworkType::Vlan,
            "vxlan" => NetworkType::Vxlan,
            "gre" => NetworkType::Gre,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkType::Local => "local",
            NetworkType::Flat => "flat",
            NetworkType::Vlan => "vlan",
            NetworkType::Vxlan => "vxlan",
            NetworkType::Gre => "gre",
        }
    }
}

/// One segment as asked for (provider attributes or an entry of `segments`); None means
/// "not given", to be chosen by the type driver.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentRequest {
    pub network_type: Option<String>,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i64>,
}

/// A segment with its type known and validated; `segmentation_id` may still be open (a
/// partial segment whose id the driver allocates from its ranges).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub network_type: NetworkType,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i64>,
}

/// An inclusive range of ids on a physical network ('' for tunnels), allocated in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRange {
    pub physical_network: String,
    pub min: i64,
    pub max: i64,
}

/// The ML2 plugin's configuration and drivers.
pub struct Ml2 {
    drivers: BTreeMap<NetworkType, Box<dyn TypeDriver>>,
    tenant_network_types: Vec<NetworkType>,
}

impl Ml2 {
    /// Builds the type drivers named in `[ml2] type_drivers` from their sections; a bad
    /// option stops the service from starting with the option named.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let physnet_mtu = i64::from(config.network.global_physnet_mtu);
        let path_mtu = match config.ml2.path_mtu {
            0 => physnet_mtu,
            m => i64::from(m),
        };
        let mut drivers: BTreeMap<NetworkType, Box<dyn TypeDriver>> = BTreeMap::new();
        for name in &config.ml2.type_drivers {
            let Some(t) = NetworkType::parse(name.trim()) else {
                anyhow::bail!("[ml2] type_drivers: unknown network type '{name}' (known: local, flat, vlan, vxlan, gre)");
            };
            let driver: Box<dyn TypeDriver> = match t {
                NetworkType::Local => Box::new(LocalDriver),
                NetworkType::Flat => Box::new(FlatDriver::new(
                    &config.ml2_type_flat.flat_networks,
                    physnet_mtu,
                )),
                NetworkType::Vlan => Box::new(
                    VlanDriver::new(&config.ml2_type_vlan.network_vlan_ranges, physnet_mtu)
                        .map_err(|e| anyhow::anyhow!("[ml2_type_vlan] network_vlan_ranges: {e}"))?,
                ),
                NetworkType::Vxlan => Box::new(
                    TunnelDriver::vxlan(&config.ml2_type_vxlan.vni_ranges, path_mtu)
                        .map_err(|e| anyhow::anyhow!("[ml2_type_vxlan] vni_ranges: {e}"))?,
                ),
                NetworkType::Gre => Box::new(
                    TunnelDriver::gre(&config.ml2_type_gre.tunnel_id_ranges, path_mtu)
                        .map_err(|e| anyhow::anyhow!("[ml2_type_gre] tunnel_id_ranges: {e}"))?,
                ),
            };
            drivers.insert(t, driver);
        }
        let mut tenant_network_types = Vec::new();
        for name in &config.ml2.tenant_network_types {
            let t = NetworkType::parse(name.trim())
                .filter(|t| drivers.contains_key(t))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "[ml2] tenant_network_types: '{name}' is not among [ml2] type_drivers"
                    )
                })?;
            tenant_network_types.push(t);
        }
        Ok(Ml2 {
            drivers,
            tenant_network_types,
        })
    }

    pub fn driver(&self, t: NetworkType) -> Option<&dyn TypeDriver> {
        self.drivers.get(&t).map(|d| d.as_ref())
    }

    /// The project network types, in the order they are tried.
    pub fn tenant_network_types(&self) -> &[NetworkType] {
        &self.tenant_network_types
    }

    /// Validates a provider segment as the type driver does; returns it typed.
    pub fn validate_provider_segment(&self, req: &SegmentRequest) -> NeutronResult<Segment> {
        let Some(name) = req.network_type.as_deref().filter(|s| !s.is_empty()) else {
            return Err(NeutronError::invalid_input("network_type required"));
        };
        let driver = NetworkType::parse(name)
            .and_then(|t| self.driver(t))
            .ok_or_else(|| {
                NeutronError::invalid_input(format!("network_type value '{name}' not supported"))
            })?;
        let seg = Segment {
            network_type: driver.network_type(),
            physical_network: req.physical_network.clone().filter(|p| !p.is_empty()),
            segmentation_id: req.segmentation_id,
        };
        driver.validate_provider_segment(&seg)?;
        Ok(seg)
    }

    /// The MTU of a network made of `segments`: the smallest any of them carries.
    pub fn network_mtu(&self, segments: &[Segment]) -> i64 {
        segments
            .iter()
            .filter_map(|s| {
                self.driver(s.network_type)
                    .map(|d| d.mtu(s.physical_network.as_deref()))
            })
            .filter(|m| *m > 0)
            .min()
            .unwrap_or(0)
    }
}

/// Parses `min:max` into an inclusive range, refusing reversed or out-of-bounds ranges.
pub(crate) fn parse_range(text: &str, lo: i64, hi: i64) -> Result<(i64, i64), String> {
    let (a, b) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not of the form min:max"))?;
    let a: i64 = a
        .trim()
        .parse()
        .map_err(|_| format!("'{text}': '{a}' is not an integer"))?;
    let b: i64 = b
        .trim()
        .parse()
        .map_err(|_| format!("'{text}': '{b}' is not an integer"))?;
    if a > b || a < lo || b > hi {
        return Err(format!(
            "'{text}': the range must be within {lo}..{hi} with min <= max"
        ));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ml2(f: impl FnOnce(&mut Config)) -> anyhow::Result<Ml2> {
        let mut c = Config::default();
        f(&mut c);
        Ml2::from_config(&c)
    }

    #[test]
    fn configuration_is_checked() {
        assert!(ml2(|_| {}).is_ok());
        assert!(ml2(|c| c.ml2.type_drivers = vec!["bogus".into()]).is_err());
        assert!(
            ml2(|c| c.ml2.type_drivers = vec!["local".into()]).is_err(),
            "vxlan project networks need the vxlan driver"
        );
        assert!(
            ml2(|c| c.ml2_type_vlan.network_vlan_ranges = vec!["physnet1:10:5".into()]).is_err()
        );
        assert!(
            ml2(|c| c.ml2_type_vlan.network_vlan_ranges = vec!["physnet1:1:4095".into()]).is_err()
        );
        assert!(ml2(|c| c.ml2_type_vxlan.vni_ranges = vec!["1:16777216".into()]).is_err());
        let m = ml2(|c| c.ml2.tenant_network_types = vec!["vlan".into(), "local".into()])
            .expect("valid");
        assert_eq!(
            m.tenant_network_types(),
            &[NetworkType::Vlan, NetworkType::Local]
        );
    }

    #[test]
    fn mtus_follow_the_encapsulation() {
        let m = ml2(|_| {}).expect("valid");
        let seg = |t, p: Option<&str>| Segment {
            network_type: t,
            physical_network: p.map(str::to_string),
            segmentation_id: None,
        };
        assert_eq!(m.network_mtu(&[seg(NetworkType::Vxlan, None)]), 1450);
        assert_eq!(m.network_mtu(&[seg(NetworkType::Gre, None)]), 1458);
        assert_eq!(
            m.network_mtu(&[seg(NetworkType::Vlan, Some("physnet1"))]),
            1500
        );
        assert_eq!(
            m.network_mtu(&[seg(NetworkType::Flat, Some("public"))]),
            1500
        );
        assert_eq!(m.network_mtu(&[seg(NetworkType::Local, None)]), 1500);
    }

    #[test]
    fn provider_segments_are_validated() {
        let m = ml2(|_| {}).expect("valid");
        let req = |t: &str, p: Option<&str>, s: Option<i64>| SegmentRequest {
            network_type: Some(t.into()),
            physical_network: p.map(str::to_string),
            segmentation_id: s,
        };
        assert!(m
            .validate_provider_segment(&req("vlan", Some("physnet1"), Some(4094)))
            .is_ok());
        assert!(m
            .validate_provider_segment(&req("vlan", Some("physnet1"), Some(4095)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("vlan", Some("nope"), Some(10)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("vlan", None, Some(10)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("flat", None, None))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("flat", Some("public"), Some(3)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("vxlan", Some("physnet1"), None))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("vxlan", None, Some(16_777_215)))
            .is_ok());
        assert!(m
            .validate_provider_segment(&req("vxlan", None, Some(16_777_216)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("local", None, Some(1)))
            .is_err());
        assert!(m
            .validate_provider_segment(&req("geneve", None, None))
            .is_err());
    }
}
