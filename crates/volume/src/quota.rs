//! Cinder's quotas per project: `volumes`, `snapshots`, `gigabytes`, `backups`,
//! `backup_gigabytes`, `groups`, `per_volume_gigabytes`, and per volume type
//! `volumes_<type>`, `snapshots_<type>`, `gigabytes_<type>` (unlimited unless set). Limits
//! come from the project's own quotas, else the `default` quota class, else `[volume]`
//! quota_*; usage is counted from the volumes, snapshots and backups themselves, so it is never out of
//! step. Creates that check quota are serialised in this process ([`VolumeService::quota_lock`]).
//!
//! [`VolumeService::quota_lock`]: crate::VolumeService::quota_lock

use crate::db::types::VolumeType;
use crate::db::{quotas, snapshots, volumes};
use crate::VolumeService;
use axum::http::StatusCode;
use monostack_common::ApiError;
use std::collections::BTreeMap;

/// The resources every project has, in Cinder's order.
pub const RESOURCES: &[&str] = &[
    "volumes",
    "snapshots",
    "gigabytes",
    "backups",
    "backup_gigabytes",
    "groups",
    "per_volume_gigabytes",
];

/// The configured defaults.
pub fn config_defaults(service: &VolumeService) -> BTreeMap<String, i64> {
    let c = &service.config.volume;
    [
        ("volumes", c.quota_volumes),
        ("snapshots", c.quota_snapshots),
        ("gigabytes", c.quota_gigabytes),
        ("backups", c.quota_backups),
        ("backup_gigabytes", c.quota_backup_gigabytes),
        ("groups", c.quota_groups),
        ("per_volume_gigabytes", c.per_volume_size_limit),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The defaults every project starts from: configuration overlaid by the `default` class,
/// with every type's resources (unlimited unless set).
pub async fn defaults(service: &VolumeService) -> Result<BTreeMap<String, i64>, ApiError> {
    let mut limits = config_defaults(service);
    for t in crate::db::types::list(&service.db).await? {
        for r in ["volumes", "gigabytes", "snapshots"] {
            limits.insert(format!("{r}_{}", t.name), -1);
        }
    }
    limits.extend(quotas::class_limits(&service.db, "default").await?);
    Ok(limits)
}

/// The limits of `project`.
pub async fn limits(
    service: &VolumeService,
    project: &str,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let mut l = defaults(service).await?;
    l.extend(quotas::project_limits(&service.db, project).await?);
    Ok(l)
}

/// What `project` uses of each resource it has.
pub async fn usage(
    service: &VolumeService,
    project: &str,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let db = &service.db;
    let (nv, gv) = volumes::usage(db, project, None).await?;
    let (ns, gs) = snapshots::usage(db, project, None).await?;
    let (nb, gb) = crate::db::backups::usage(db, project).await?;
    let mut u: BTreeMap<String, i64> = [
        ("volumes", nv),
        ("snapshots", ns),
        ("gigabytes", gv + gs),
        ("backups", nb),
        ("backup_gigabytes", gb),
        ("groups", 0),
        ("per_volume_gigabytes", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for t in crate::db::types::list(db).await? {
        let (nv, gv) = volumes::usage(db, project, Some(&t.id)).await?;
        let (ns, gs) = snapshots::usage(db, project, Some(&t.id)).await?;
        u.insert(format!("volumes_{}", t.name), nv);
        u.insert(format!("gigabytes_{}", t.name), gv + gs);
        u.insert(format!("snapshots_{}", t.name), ns);
    }
    Ok(u)
}

fn over_limit(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// Checks that `project` may add `count` volumes (or snapshots, with `snapshot`) of `gb` GiB
/// of type `t`: 413 with Cinder's messages when not.
pub async fn check(
    service: &VolumeService,
    project: &str,
    t: &VolumeType,
    count: i64,
    gb: i64,
    snapshot: bool,
) -> Result<(), ApiError> {
    let limits = limits(service, project).await?;
    let usage = usage(service, project).await?;
    let limit = |k: &str| limits.get(k).copied().unwrap_or(-1);
    let used = |k: &str| usage.get(k).copied().unwrap_or(0);
    if !snapshot {
        let per_volume = limit("per_volume_gigabytes");
        if per_volume >= 0 && gb > per_volume {
            return Err(over_limit(format!(
                "Requested volume size {gb}G is larger than maximum allowed limit {per_volume}G."
            )));
        }
    }
    let (kind, typed) = if snapshot {
        ("snapshots", format!("snapshots_{}", t.name))
    } else {
        ("volumes", format!("volumes_{}", t.name))
    };
    for name in [kind.to_string(), typed] {
        let l = limit(&name);
        if count > 0 && l >= 0 && used(&name) + count > l {
            return Err(over_limit(if snapshot {
                format!("Maximum number of snapshots allowed ({l}) exceeded")
            } else {
                format!("Maximum number of volumes allowed ({l}) exceeded for quota '{name}'.")
            }));
        }
    }
    for name in ["gigabytes".to_string(), format!("gigabytes_{}", t.name)] {
        let l = limit(&name);
        if gb > 0 && l >= 0 && used(&name) + gb > l {
            return Err(over_limit(format!(
                "Requested volume or snapshot exceeds allowed {name} quota. Requested {gb}G, quota is {l}G and {}G has been consumed.",
                used(&name)
            )));
        }
    }
    Ok(())
}

/// Checks that `project` may add a backup of `gb` GiB (`backups`, `backup_gigabytes`): 413
/// with Cinder's messages when not.
pub async fn check_backup(service: &VolumeService, project: &str, gb: i64) -> Result<(), ApiError> {
    let limits = limits(service, project).await?;
    let usage = usage(service, project).await?;
    let limit = |k: &str| limits.get(k).copied().unwrap_or(-1);
    let used = |k: &str| usage.get(k).copied().unwrap_or(0);
    let l = limit("backups");
    if l >= 0 && used("backups") + 1 > l {
        return Err(over_limit(format!("Maximum number of backups allowed ({l}) exceeded")));
    }
    let l = limit("backup_gigabytes");
    if l >= 0 && used("backup_gigabytes") + gb > l {
        return Err(over_limit(format!(
            "Requested backup exceeds allowed Backup gigabytes quota. Requested {gb}G, quota is {l}G and {}G has been consumed.",
            used("backup_gigabytes")
        )));
    }
    Ok(())
}

/// Checks only the per-type resources of `t` (`volumes_<type>`, `gigabytes_<type>`), as a
/// retype moves a volume that already counts against the project's totals.
pub async fn check_type(
    service: &VolumeService,
    project: &str,
    t: &VolumeType,
    count: i64,
    gb: i64,
) -> Result<(), ApiError> {
    let limits = limits(service, project).await?;
    let usage = usage(service, project).await?;
    let volumes_key = format!("volumes_{}", t.name);
    let gigabytes_key = format!("gigabytes_{}", t.name);
    let limit = |k: &str| limits.get(k).copied().unwrap_or(-1);
    let used = |k: &str| usage.get(k).copied().unwrap_or(0);
    let l = limit(&volumes_key);
    if l >= 0 && used(&volumes_key) + count > l {
        return Err(over_limit(format!(
            "Maximum number of volumes allowed ({l}) exceeded for quota '{volumes_key}'."
        )));
    }
    let l = limit(&gigabytes_key);
    if l >= 0 && used(&gigabytes_key) + gb > l {
        return Err(over_limit(format!(
            "Requested volume or snapshot exceeds allowed {gigabytes_key} quota. Requested {gb}G, quota is {l}G and {}G has been consumed.",
            used(&gigabytes_key)
        )));
    }
    Ok(())
}
