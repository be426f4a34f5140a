//! The flavors a new cloud starts with: devstack's set, so tutorials and Tempest's defaults
//! (`m1.tiny`, `cirros256`, `ds512M`, …) work out of the box.

use crate::db::flavors::{self as flavor_db, Flavor};
use crate::ComputeService;
use monostack_common::ApiError;

/// (flavor id, name, RAM MiB, disk GiB, vCPUs), as devstack creates them.
const DEVSTACK_FLAVORS: &[(&str, &str, i64, i64, i64)] = &[
    ("c1", "cirros256", 256, 1, 1),
    ("d1", "ds512M", 512, 5, 1),
    ("d2", "ds1G", 1024, 10, 1),
    ("d3", "ds2G", 2048, 10, 2),
    ("d4", "ds4G", 4096, 20, 4),
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
];

/// Creates devstack's flavors (each with `hw_rng:allowed=True`, as devstack sets) when there
/// are no flavors at all; an operator who deleted or replaced them keeps their choice.
pub async fn seed_default_flavors(svc: &ComputeService) -> Result<(), ApiError> {
    if flavor_db::count(&svc.db).await? > 0 {
        return Ok(());
    }
    for (id, name, ram, disk, vcpus) in DEVSTACK_FLAVORS {
        let mut flavor = Flavor::new(id, name, *ram, *vcpus, *disk);
        flavor.extra_specs.insert("hw_rng:allowed".into(), "True".into());
        // Another process seeding at the same moment makes these conflict; theirs is as good.
        if let Err(conflict) = flavor_db::create(&svc.db, &flavor).await? {
            tracing::debug!("default flavor {name} not created: {conflict:?}");
        }
    }
    tracing::info!("created the default flavors");
    Ok(())
}
