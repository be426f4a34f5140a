//! Virt driver backends, chosen by `[compute] compute_driver`.

pub mod fake;

use crate::virt::{VirtDriver, VirtError};
use monostack_common::config::Config;
use std::sync::Arc;

/// The driver names `compute_driver` accepts.
pub const KNOWN_DRIVERS: &[&str] = &["fake"];

/// Builds the driver the configuration selects (`fake`, or Nova's `fake.FakeDriver`).
pub fn from_config(config: &Config) -> Result<Arc<dyn VirtDriver>, VirtError> {
    from_config_on_bus(config, None)
}

/// Like [`from_config`]; with a `bus`, the fake driver also stands in for the hosts' L2
/// agent (it reports the ports it plugs up to the network server).
pub fn from_config_on_bus(config: &Config, bus: Option<Arc<dyn monostack_bus::Bus>>) -> Result<Arc<dyn VirtDriver>, VirtError> {
    match config.compute.compute_driver.as_str() {
        "fake" | "fake.FakeDriver" => {
            let driver = fake::FakeDriver::from_section(&config.fake_driver)?;
            if let Some(bus) = bus {
                driver.report_ports_on(bus);
            }
            Ok(Arc::new(driver))
        }
        other => Err(VirtError::InvalidConfig {
            reason: format!(
                "[compute] compute_driver: unknown driver {other:?}; known drivers: {}",
                KNOWN_DRIVERS.join(", ")
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_selects_the_fake_driver() {
        let driver = from_config(&Config::default()).unwrap();
        assert_eq!(driver.driver_name(), "fake");
    }

    #[test]
    fn unknown_driver_is_a_config_error() {
        let mut config = Config::default();
        config.compute.compute_driver = "libvirt.LibvirtDriver".into();
        let err = from_config(&config).err().unwrap();
        assert!(err.to_string().contains("unknown driver \"libvirt.LibvirtDriver\""), "{err}");
    }
}
