//! ImagePropertiesFilter: the host must support the image's architecture (`hw_architecture`),
//! hypervisor type (`img_hv_type`), VM mode (`hw_vm_mode`) and hypervisor version
//! (`img_hv_requested_version`, e.g. `">= 6.0"`). An image without these passes every host.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;
use crate::version_predicate;

#[derive(Debug, Clone)]
pub struct ImagePropertiesFilter {
    default_architecture: Option<String>,
}

impl ImagePropertiesFilter {
    pub fn new(default_architecture: Option<String>) -> Self {
        Self {
            default_architecture,
        }
    }
}

/// Nova's canonical architecture names (`amd64` is `x86_64`, `i386` is `i686`, ...).
fn canonical_arch(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "i386" | "i486" | "i586" | "x86_32" | "x86_32p" => "i686".into(),
        "amd64" => "x86_64".into(),
        _ => lower,
    }
}

fn canonical_hv_type(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == "xapi" {
        "xen".into()
    } else {
        lower
    }
}

fn canonical_vm_mode(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "pv" => "xen".into(),
        "hv" | "baremetal" => "hvm".into(),
        _ => lower,
    }
}

impl Filter for ImagePropertiesFilter {
    fn name(&self) -> &'static str {
        "ImagePropertiesFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let props = &spec.image.properties;
        let arch = props
            .get("hw_architecture")
            .or(self.default_architecture.as_ref())
            .map(|a| canonical_arch(a));
        let wanted: Vec<String> = [
            arch,
            props.get("img_hv_type").map(|t| canonical_hv_type(t)),
            props.get("hw_vm_mode").map(|m| canonical_vm_mode(m)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if wanted.is_empty() {
            return true;
        }
        if host.supported_instances.is_empty() {
            tracing::debug!(
                "Instance contains properties {props:?}, but no corresponding supported_instances are advertised by the compute node"
            );
            return false;
        }
        let version_ok = match props.get("img_hv_requested_version") {
            Some(predicate) if host.hypervisor_version > 0 => {
                version_predicate::satisfied_by(predicate, host.hypervisor_version)
            }
            _ => true,
        };
        let supported = version_ok
            && host
                .supported_instances
                .iter()
                .any(|s| wanted.iter().all(|w| s.contains(w)))
            && maxphysaddr_ok(host, props.get("hw_maxphysaddr_bits"));
        if !supported {
            tracing::debug!(
                "Instance contains properties {props:?} that are not provided by the compute node supported_instances {:?} or hypervisor version {} do not match",
                host.supported_instances,
                host.hypervisor_version
            );
        }
        supported
    }

    fn run_once_per_request(&self) -> bool {
        true
    }

    fn run_on_rebuild(&self) -> bool {
        true
    }
}

fn maxphysaddr_ok(host: &HostState, required: Option<&String>) -> bool {
    let Some(required) = required.and_then(|r| r.trim().parse::<u64>().ok()) else {
        return true;
    };
    match host
        .cpu_info
        .pointer("/maxphysaddr/bits")
        .and_then(|b| b.as_u64())
    {
        Some(bits) => bits >= required,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_state::SupportedInstance;
    use crate::testing::{host, spec};

    fn with_props(pairs: &[(&str, &str)]) -> RequestSpec {
        let mut s = spec(1, 1, 1);
        for (k, v) in pairs {
            s.image.properties.insert(k.to_string(), v.to_string());
        }
        s
    }

    fn filter() -> ImagePropertiesFilter {
        ImagePropertiesFilter::new(None)
    }

    #[test]
    fn image_without_properties_passes_every_host() {
        let mut h = host("a", 1024, 10, 1);
        h.supported_instances.clear();
        assert!(filter().host_passes(&h, &spec(1, 1, 1)));
    }

    #[test]
    fn architecture_hypervisor_and_mode_must_be_supported() {
        let h = host("a", 1024, 10, 1);
        assert!(filter().host_passes(&h, &with_props(&[("hw_architecture", "x86_64")])));
        assert!(filter().host_passes(&h, &with_props(&[("hw_architecture", "AMD64")])));
        assert!(!filter().host_passes(&h, &with_props(&[("hw_architecture", "aarch64")])));
        assert!(filter().host_passes(&h, &with_props(&[("img_hv_type", "qemu")])));
        assert!(!filter().host_passes(&h, &with_props(&[("img_hv_type", "kvm")])));
        assert!(filter().host_passes(&h, &with_props(&[("hw_vm_mode", "hvm")])));
        assert!(!filter().host_passes(&h, &with_props(&[("hw_vm_mode", "exe")])));
    }

    #[test]
    fn all_properties_must_match_one_supported_triple() {
        let mut h = host("a", 1024, 10, 1);
        h.supported_instances = vec![
            SupportedInstance::new("x86_64", "qemu", "hvm"),
            SupportedInstance::new("aarch64", "kvm", "hvm"),
        ];
        assert!(filter().host_passes(
            &h,
            &with_props(&[("hw_architecture", "aarch64"), ("img_hv_type", "kvm")])
        ));
        assert!(!filter().host_passes(
            &h,
            &with_props(&[("hw_architecture", "aarch64"), ("img_hv_type", "qemu")])
        ));
    }

    #[test]
    fn host_advertising_nothing_fails_an_image_asking_something() {
        let mut h = host("a", 1024, 10, 1);
        h.supported_instances.clear();
        assert!(!filter().host_passes(&h, &with_props(&[("hw_architecture", "x86_64")])));
    }

    #[test]
    fn requested_hypervisor_version_is_checked() {
        let h = host("a", 1024, 10, 1);
        let s = with_props(&[
            ("img_hv_type", "qemu"),
            ("img_hv_requested_version", ">= 6.0"),
        ]);
        assert!(filter().host_passes(&h, &s));
        let s = with_props(&[
            ("img_hv_type", "qemu"),
            ("img_hv_requested_version", ">= 7.0"),
        ]);
        assert!(!filter().host_passes(&h, &s));
    }

    #[test]
    fn default_architecture_applies_to_images_without_one() {
        let h = host("a", 1024, 10, 1);
        let arm = ImagePropertiesFilter::new(Some("aarch64".into()));
        assert!(!arm.host_passes(&h, &spec(1, 1, 1)));
        assert!(arm.host_passes(&h, &with_props(&[("hw_architecture", "x86_64")])));
    }
}
