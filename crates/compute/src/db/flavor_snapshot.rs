//! The flavor an instance was built with, stored with the instance (Nova keeps a copy so that
//! editing or deleting the flavor later does not change running servers).

use super::flavors::Visibility;
use monostack_common::ApiError;
use monostack_db::Database;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A flavor as an instance carries it (`instances.flavor`, `old_flavor`, `new_flavor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceFlavor {
    /// The flavor's internal id (`flavors.id`).
    pub id: i64,
    /// The API id.
    pub flavorid: String,
    pub name: String,
    pub memory_mb: i64,
    pub vcpus: i64,
    pub root_gb: i64,
    pub ephemeral_gb: i64,
    /// Swap in MiB.
    pub swap: i64,
    pub rxtx_factor: f64,
    pub vcpu_weight: Option<i64>,
    pub disabled: bool,
    pub is_public: bool,
    pub description: Option<String>,
    #[serde(default)]
    pub extra_specs: BTreeMap<String, String>,
}

impl From<&super::flavors::Flavor> for InstanceFlavor {
    fn from(f: &super::flavors::Flavor) -> Self {
        InstanceFlavor {
            id: f.id,
            flavorid: f.flavorid.clone(),
            name: f.name.clone(),
            memory_mb: f.memory_mb,
            vcpus: f.vcpus,
            root_gb: f.root_gb,
            ephemeral_gb: f.ephemeral_gb,
            swap: f.swap,
            rxtx_factor: f.rxtx_factor,
            vcpu_weight: f.vcpu_weight,
            disabled: f.disabled,
            is_public: f.is_public,
            description: f.description.clone(),
            extra_specs: f.extra_specs.clone(),
        }
    }
}

/// The flavor with API id `flavorid` as an instance would carry it, if the caller may use it
/// (admins any flavor; others public ones and private ones shared with their project).
pub async fn load_accessible(db: &Database, flavorid: &str, project_id: &str, is_admin: bool) -> Result<Option<InstanceFlavor>, ApiError> {
    let visibility = if is_admin { Visibility::All } else { Visibility::Project(Some(project_id.to_string())) };
    Ok(super::flavors::get(db, flavorid, &visibility).await?.as_ref().map(InstanceFlavor::from))
}
