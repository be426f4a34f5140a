//! `GET /v3/extensions`: the API extensions of Cinder that this service serves, as Cinder
//! describes them (name, alias, description, updated).

use super::{ApiResult, Caller, State};
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::ApiError;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/extensions", get(index))
        .route("/v3/extensions/{alias}", get(show))
}

/// (name, alias, description, updated) of each extension served.
const EXTENSIONS: &[(&str, &str, &str, &str)] = &[
    ("AdminActions", "os-admin-actions", "Enable admin actions.", "2012-08-25T00:00:00+00:00"),
    ("AvailabilityZones", "os-availability-zone", "Describe Availability Zones.", "2013-06-27T00:00:00+00:00"),
    ("Backups", "backups", "Backups support.", "2012-12-12T00:00:00+00:00"),
    ("Capabilities", "capabilities", "Capabilities support.", "2015-08-31T00:00:00+00:00"),
    ("ExtendedServices", "os-extended-services", "Extended services support.", "2014-01-10T00:00:00-00:00"),
    ("ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support.", "2012-06-19T00:00:00+00:00"),
    ("Hosts", "os-hosts", "Admin-only host administration.", "2011-06-29T00:00:00+00:00"),
    ("QosSpecsManage", "qos-specs", "QoS specs support.", "2013-08-02T00:00:00+00:00"),
    ("Quotas", "os-quota-sets", "Quota management support.", "2011-08-08T00:00:00+00:00"),
    ("SchedulerStats", "scheduler-stats", "Scheduler stats support.", "2014-09-07T00:00:00+00:00"),
    ("Services", "os-services", "Services support.", "2012-10-28T00:00:00-00:00"),
    ("SnapshotActions", "os-snapshot-actions", "Enable snapshot manager actions.", "2013-07-16T00:00:00+00:00"),
    ("TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"),
    ("TypesManage", "os-types-manage", "Types manage support.", "2011-08-24T00:00:00+00:00"),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used.", "2013-10-03T00:00:00+00:00"),
    ("VolumeActions", "os-volume-actions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"),
    ("VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume.", "2011-11-03T00:00:00+00:00"),
    ("VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume.", "2012-12-07T00:00:00+00:00"),
    ("VolumeMigStatusAttribute", "os-vol-mig-status-attr", "Expose migration_status as an attribute of a volume.", "2013-08-08T00:00:00+00:00"),
    ("VolumeTenantAttribute", "os-vol-tenant-attr", "Expose the internal project_id as an attribute of a volume.", "2011-11-03T00:00:00+00:00"),
    ("VolumeTypeAccess", "os-volume-type-access", "Volume type access support.", "2014-06-26T00:00:00Z"),
];

fn view(&(name, alias, description, updated): &(&str, &str, &str, &str)) -> Value {
    json!({"name": name, "alias": alias, "description": description, "updated": updated, "links": []})
}

async fn index(S(_state): S<State>, Caller(_ctx): Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"extensions": EXTENSIONS.iter().map(view).collect::<Vec<_>>()})))
}

async fn show(S(_state): S<State>, Caller(_ctx): Caller, Path(alias): Path<String>) -> ApiResult<Json<Value>> {
    let ext = EXTENSIONS.iter().find(|e| e.1 == alias).ok_or_else(|| ApiError::not_found("Extension could not be found."))?;
    Ok(Json(json!({"extension": view(ext)})))
}
