//! AggregateImagePropertiesIsolation: when the image sets a property that the host's
//! aggregates also name in their metadata, the image's value must be one of theirs. With a
//! namespace configured, only metadata keys `<namespace><separator>...` are compared.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone)]
pub struct AggregateImagePropertiesIsolation {
    namespace: Option<String>,
    separator: String,
}

impl AggregateImagePropertiesIsolation {
    pub fn new(namespace: Option<String>, separator: String) -> Self {
        Self {
            namespace,
            separator,
        }
    }
}

impl Filter for AggregateImagePropertiesIsolation {
    fn name(&self) -> &'static str {
        "AggregateImagePropertiesIsolation"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let prefix = self
            .namespace
            .as_ref()
            .map(|ns| format!("{ns}{}", self.separator));
        for (key, options) in host.aggregate_metadata() {
            if prefix
                .as_ref()
                .is_some_and(|p| !key.starts_with(p.as_str()))
            {
                continue;
            }
            let Some(prop) = spec.image.properties.get(&key).filter(|p| !p.is_empty()) else {
                continue;
            };
            if !options.contains(prop) {
                tracing::debug!(
                    "{} fails image aggregate properties requirements. Property {prop} does not match {options:?}.",
                    host.label()
                );
                return false;
            }
        }
        true
    }

    fn run_once_per_request(&self) -> bool {
        true
    }

    fn run_on_rebuild(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_state::Aggregate;
    use crate::testing::{host, spec};
    use std::collections::BTreeMap;

    fn windows_host() -> HostState {
        let mut h = host("a", 1024, 10, 1);
        h.aggregates.push(Aggregate {
            id: 1,
            name: "win".into(),
            metadata: BTreeMap::from([("os_distro".into(), "windows".into())]),
        });
        h
    }

    #[test]
    fn image_property_must_be_among_the_aggregate_values() {
        let f = AggregateImagePropertiesIsolation::new(None, ".".into());
        let mut s = spec(1, 1, 1);
        assert!(f.host_passes(&windows_host(), &s));
        s.image
            .properties
            .insert("os_distro".into(), "windows".into());
        assert!(f.host_passes(&windows_host(), &s));
        s.image
            .properties
            .insert("os_distro".into(), "ubuntu".into());
        assert!(!f.host_passes(&windows_host(), &s));
    }

    #[test]
    fn namespace_limits_the_compared_keys() {
        let f = AggregateImagePropertiesIsolation::new(Some("isolation".into()), ".".into());
        let mut s = spec(1, 1, 1);
        s.image
            .properties
            .insert("os_distro".into(), "ubuntu".into());
        assert!(f.host_passes(&windows_host(), &s));
    }
}
