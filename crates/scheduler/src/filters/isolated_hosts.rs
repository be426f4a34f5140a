//! IsolatedHostsFilter: `isolated_images` may only run on `isolated_hosts`; with
//! `restrict_isolated_hosts_to_isolated_images`, isolated hosts also refuse other images.

use super::Filter;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;

#[derive(Debug, Clone)]
pub struct IsolatedHostsFilter {
    pub isolated_images: Vec<String>,
    pub isolated_hosts: Vec<String>,
    pub restrict_isolated_hosts_to_isolated_images: bool,
}

impl Filter for IsolatedHostsFilter {
    fn name(&self) -> &'static str {
        "IsolatedHostsFilter"
    }

    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool {
        let host_isolated = self.isolated_hosts.contains(&host.host);
        if self.isolated_images.is_empty() {
            return !self.restrict_isolated_hosts_to_isolated_images || !host_isolated;
        }
        let image_isolated = spec
            .image
            .id
            .as_ref()
            .is_some_and(|id| self.isolated_images.contains(id));
        if self.restrict_isolated_hosts_to_isolated_images {
            image_isolated == host_isolated
        } else {
            !image_isolated || host_isolated
        }
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
    use crate::testing::{host, spec};

    fn filter(restrict: bool) -> IsolatedHostsFilter {
        IsolatedHostsFilter {
            isolated_images: vec!["img-iso".into()],
            isolated_hosts: vec!["iso".into()],
            restrict_isolated_hosts_to_isolated_images: restrict,
        }
    }

    fn image(id: &str) -> RequestSpec {
        let mut s = spec(1, 1, 1);
        s.image.id = Some(id.into());
        s
    }

    #[test]
    fn restricted_matrix() {
        let (iso, plain) = (host("iso", 1, 1, 1), host("plain", 1, 1, 1));
        let f = filter(true);
        assert!(f.host_passes(&iso, &image("img-iso")));
        assert!(!f.host_passes(&iso, &image("other")));
        assert!(!f.host_passes(&plain, &image("img-iso")));
        assert!(f.host_passes(&plain, &image("other")));
    }

    #[test]
    fn unrestricted_matrix() {
        let (iso, plain) = (host("iso", 1, 1, 1), host("plain", 1, 1, 1));
        let f = filter(false);
        assert!(f.host_passes(&iso, &image("img-iso")));
        assert!(f.host_passes(&iso, &image("other")));
        assert!(!f.host_passes(&plain, &image("img-iso")));
        assert!(f.host_passes(&plain, &image("other")));
    }

    #[test]
    fn without_isolated_images_isolated_hosts_stay_empty_when_restricted() {
        let mut f = filter(true);
        f.isolated_images.clear();
        assert!(!f.host_passes(&host("iso", 1, 1, 1), &image("x")));
        assert!(f.host_passes(&host("plain", 1, 1, 1), &image("x")));
    }
}
