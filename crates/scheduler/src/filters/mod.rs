//! Host filters: each says whether one host can take the request. They run in the configured
//! order, each seeing only the previous one's survivors (see [`chain`]).
//!
//! Adding a filter: write `src/filters/<name>.rs` with a type implementing [`Filter`], then
//! register its Nova name in [`build`] and [`KNOWN_FILTERS`].

mod aggregate_image_properties_isolation;
mod aggregate_instance_extra_specs;
mod aggregate_multitenancy_isolation;
mod all_hosts;
mod availability_zone;
pub mod chain;
mod compute;
mod compute_capabilities;
mod cpu;
mod different_host;
mod disk;
mod image_properties;
mod isolated_hosts;
mod num_instances;
mod ram;
mod retry;
mod same_host;
mod server_group_affinity;
mod server_group_anti_affinity;

pub use aggregate_image_properties_isolation::AggregateImagePropertiesIsolation;
pub use aggregate_instance_extra_specs::AggregateInstanceExtraSpecsFilter;
pub use aggregate_multitenancy_isolation::AggregateMultiTenancyIsolation;
pub use all_hosts::AllHostsFilter;
pub use availability_zone::AvailabilityZoneFilter;
pub use compute::ComputeFilter;
pub use compute_capabilities::ComputeCapabilitiesFilter;
pub use cpu::CoreFilter;
pub use different_host::DifferentHostFilter;
pub use disk::DiskFilter;
pub use image_properties::ImagePropertiesFilter;
pub use isolated_hosts::IsolatedHostsFilter;
pub use num_instances::NumInstancesFilter;
pub use ram::RamFilter;
pub use retry::RetryFilter;
pub use same_host::SameHostFilter;
pub use server_group_affinity::ServerGroupAffinityFilter;
pub use server_group_anti_affinity::ServerGroupAntiAffinityFilter;

use crate::host_state::HostState;
use crate::request_spec::RequestSpec;
use monostack_common::config::FilterSchedulerSection;

/// One host filter.
pub trait Filter: Send + Sync {
    /// The filter's Nova name, as written in `enabled_filters` and in the logs.
    fn name(&self) -> &'static str;

    /// Whether `host` can take the instance `spec` describes.
    fn host_passes(&self, host: &HostState, spec: &RequestSpec) -> bool;

    /// The answer cannot change between the instances of one request (it does not depend on
    /// consumed resources or placed instances), so it runs for the first instance only.
    fn run_once_per_request(&self) -> bool {
        false
    }

    /// The filter matters when a rebuild re-checks the instance's current host.
    fn run_on_rebuild(&self) -> bool {
        false
    }
}

/// Every filter name [`build`] accepts.
pub const KNOWN_FILTERS: &[&str] = &[
    "RetryFilter",
    "AvailabilityZoneFilter",
    "RamFilter",
    "AggregateRamFilter",
    "DiskFilter",
    "AggregateDiskFilter",
    "CoreFilter",
    "AggregateCoreFilter",
    "ComputeFilter",
    "ComputeCapabilitiesFilter",
    "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
    "AggregateInstanceExtraSpecsFilter",
    "AggregateMultiTenancyIsolation",
    "AggregateImagePropertiesIsolation",
    "SameHostFilter",
    "DifferentHostFilter",
    "IsolatedHostsFilter",
    "NumInstancesFilter",
    "AggregateNumInstancesFilter",
    "AllHostsFilter",
];

/// Builds the filter named `name` (a Nova class name; a dotted Python path is accepted and
/// its last part used). `None` when the name is unknown.
pub fn build(name: &str, config: &FilterSchedulerSection) -> Option<Box<dyn Filter>> {
    let short = name.trim().rsplit('.').next().unwrap_or_default();
    let filter: Box<dyn Filter> = match short {
        "RetryFilter" => Box::new(RetryFilter),
        "AvailabilityZoneFilter" => Box::new(AvailabilityZoneFilter),
        "RamFilter" => Box::new(RamFilter::global()),
        "AggregateRamFilter" => Box::new(RamFilter::per_aggregate()),
        "DiskFilter" => Box::new(DiskFilter::global()),
        "AggregateDiskFilter" => Box::new(DiskFilter::per_aggregate()),
        "CoreFilter" => Box::new(CoreFilter::global()),
        "AggregateCoreFilter" => Box::new(CoreFilter::per_aggregate()),
        "ComputeFilter" => Box::new(ComputeFilter),
        "ComputeCapabilitiesFilter" => Box::new(ComputeCapabilitiesFilter),
        "ImagePropertiesFilter" => Box::new(ImagePropertiesFilter::new(
            config.image_properties_default_architecture.clone(),
        )),
        "ServerGroupAntiAffinityFilter" => Box::new(ServerGroupAntiAffinityFilter),
        "ServerGroupAffinityFilter" => Box::new(ServerGroupAffinityFilter),
        "AggregateInstanceExtraSpecsFilter" => Box::new(AggregateInstanceExtraSpecsFilter),
        "AggregateMultiTenancyIsolation" => Box::new(AggregateMultiTenancyIsolation),
        "AggregateImagePropertiesIsolation" => Box::new(AggregateImagePropertiesIsolation::new(
            config
                .aggregate_image_properties_isolation_namespace
                .clone(),
            config
                .aggregate_image_properties_isolation_separator
                .clone(),
        )),
        "SameHostFilter" => Box::new(SameHostFilter),
        "DifferentHostFilter" => Box::new(DifferentHostFilter),
        "IsolatedHostsFilter" => Box::new(IsolatedHostsFilter {
            isolated_images: config.isolated_images.clone(),
            isolated_hosts: config.isolated_hosts.clone(),
            restrict_isolated_hosts_to_isolated_images: config
                .restrict_isolated_hosts_to_isolated_images,
        }),
        "NumInstancesFilter" => Box::new(NumInstancesFilter::global(config.max_instances_per_host)),
        "AggregateNumInstancesFilter" => Box::new(NumInstancesFilter::per_aggregate(
            config.max_instances_per_host,
        )),
        "AllHostsFilter" => Box::new(AllHostsFilter),
        _ => return None,
    };
    Some(filter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_builds_a_filter_of_that_name() {
        let config = FilterSchedulerSection::default();
        for name in KNOWN_FILTERS {
            let filter = build(name, &config).unwrap();
            assert_eq!(filter.name(), *name);
        }
        assert!(build("nova.scheduler.filters.ram_filter.RamFilter", &config).is_some());
        assert!(build("BogusFilter", &config).is_none());
    }

    #[test]
    fn default_config_names_known_filters() {
        let config = FilterSchedulerSection::default();
        for name in &config.enabled_filters {
            assert!(KNOWN_FILTERS.contains(&name.as_str()), "{name}");
        }
    }
}
