//! The conductor's instance records as the virt driver's types.

use crate::virt::{FlavorInfo, ImageMeta, InstanceRef, PowerState};
use monostack_compute::db::flavor_snapshot::InstanceFlavor;
use monostack_conductor::agent_api::records::InstanceRecord;

pub(crate) fn flavor_info(f: &InstanceFlavor) -> FlavorInfo {
    FlavorInfo {
        name: f.name.clone(),
        vcpus: u32::try_from(f.vcpus).unwrap_or(0),
        memory_mb: u64::try_from(f.memory_mb).unwrap_or(0),
        root_gb: u64::try_from(f.root_gb).unwrap_or(0),
        ephemeral_gb: u64::try_from(f.ephemeral_gb).unwrap_or(0),
        swap_mb: u64::try_from(f.swap).unwrap_or(0),
        extra_specs: f.extra_specs.clone(),
    }
}

/// The driver's view of `instance` on `node` (its own node unless given), with its current
/// flavor.
pub(crate) fn driver_ref(instance: &InstanceRecord, host: &str, node: Option<&str>) -> InstanceRef {
    InstanceRef {
        uuid: instance.uuid.clone(),
        name: instance.name(),
        display_name: instance.display_name.clone().unwrap_or_default(),
        host: host.to_string(),
        node: node.map(str::to_string).or_else(|| instance.node.clone()).unwrap_or_default(),
        project_id: instance.project_id.clone(),
        user_id: instance.user_id.clone(),
        flavor: flavor_info(&instance.flavor),
        image_ref: instance.image_ref.clone(),
        metadata: instance.metadata.clone(),
    }
}

/// The image an instance boots from, from the `image_*` system metadata recorded at boot.
pub(crate) fn image_meta(instance: &InstanceRecord, image_id: Option<&str>) -> ImageMeta {
    let sys = &instance.system_metadata;
    let number = |k: &str| sys.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let properties = sys
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("image_").map(|p| (p.to_string(), v.clone())))
        .filter(|(k, _)| !["min_ram", "min_disk", "disk_format", "container_format", "base_image_ref"].contains(&k.as_str()))
        .collect();
    ImageMeta {
        id: image_id.map(str::to_string).or_else(|| instance.image_ref.clone()),
        name: None,
        disk_format: sys.get("image_disk_format").cloned(),
        container_format: sys.get("image_container_format").cloned(),
        size: None,
        min_disk: number("image_min_disk"),
        min_ram: number("image_min_ram"),
        properties,
    }
}

/// Nova's integer code of a power state.
pub(crate) fn code(state: PowerState) -> i64 {
    i64::from(state.code())
}
