//! Volumes (`/volumes`): list (summary and detail, with Cinder's filters, sorting, paging and
//! `with_count`), summary (3.12), show, create (202), update and delete (202).

use super::input;
use super::query::{self, Paging};
use super::view::{self, VolumeExtras};
use super::{own_target, ApiResult, Caller, Microversion, State};
use crate::context::RequestContext;
use crate::db::metadata::{self, Table};
use crate::db::types::VolumeType;
use crate::db::volumes::{self, Volume};
use crate::states;
use crate::volume_api::volumes as api;
use axum::extract::{OriginalUri, Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use monostack_common::json::Json as Body;
use monostack_common::ApiError;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/volumes", get(index).post(create))
        .route("/v3/volumes/detail", get(detail))
        .route("/v3/volumes/summary", get(summary))
        .route("/v3/volumes/{id}", get(show).put(update).delete(delete))
}

/// Filters non-admins may use (Cinder's resource_filters for volumes).
const USER_FILTERS: &[&str] = &[
    "name",
    "status",
    "metadata",
    "bootable",
    "migration_status",
    "availability_zone",
    "group_id",
    "size",
    "created_at",
    "updated_at",
    "consumes_quota",
];
/// Further filters admins may use.
const ADMIN_FILTERS: &[&str] = &[
    "all_tenants",
    "project_id",
    "host",
    "volume_type",
    "volume_type_id",
    "display_name",
    "display_description",
    "user_id",
    "attach_status",
    "snapshot_id",
    "source_volid",
    "id",
];
const SORT_KEYS: &[&str] = &[
    "id",
    "display_name",
    "display_description",
    "status",
    "size",
    "availability_zone",
    "created_at",
    "updated_at",
    "bootable",
    "volume_type_id",
    "project_id",
    "user_id",
];

/// Everything a page of volumes needs to be shown.
pub struct Shown {
    types: BTreeMap<String, VolumeType>,
    meta: BTreeMap<String, BTreeMap<String, String>>,
    image_meta: BTreeMap<String, BTreeMap<String, String>>,
    attachments: BTreeMap<String, Vec<crate::db::attachments::Attachment>>,
}

impl Shown {
    pub async fn load(state: &State, vols: &[Volume]) -> ApiResult<Shown> {
        let ids: Vec<String> = vols.iter().map(|v| v.id.clone()).collect();
        let types = crate::db::types::list(&state.db)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let mut meta = metadata::get_many(&state.db, Table::Volume, &ids).await?;
        let admin_meta = metadata::get_many(&state.db, Table::VolumeAdmin, &ids).await?;
        add_visible_admin_metadata(&mut meta, admin_meta);
        let image_meta = metadata::get_many(&state.db, Table::VolumeImage, &ids).await?;
        let mut attachments: BTreeMap<String, Vec<_>> = BTreeMap::new();
        let all = match vols {
            [one] => crate::db::attachments::of_volume(&state.db, &one.id).await?,
            _ => crate::db::attachments::list(&state.db).await?,
        };
        for a in all {
            attachments.entry(a.volume_id.clone()).or_default().push(a);
        }
        Ok(Shown {
            types,
            meta,
            image_meta,
            attachments,
        })
    }

    pub fn detail(
        &self,
        state: &State,
        ctx: &RequestContext,
        mv: Microversion,
        v: &Volume,
    ) -> Value {
        let empty = BTreeMap::new();
        let extras = VolumeExtras {
            volume_type: self.types.get(&v.volume_type_id),
            metadata: self.meta.get(&v.id).unwrap_or(&empty),
            image_metadata: self.image_meta.get(&v.id),
            attachments: crate::volume_api::attachments::volume_view_entries(
                ctx,
                self.attachments.get(&v.id).map(Vec::as_slice).unwrap_or_default(),
            ),
        };
        view::volume_detail(state, ctx, mv, v, &extras)
    }
}

/// The admin metadata every reader sees, as Cinder shows it: `readonly` and `attached_mode`
/// join (and win over) the volume's own metadata.
fn add_visible_admin_metadata(
    meta: &mut BTreeMap<String, BTreeMap<String, String>>,
    admin: BTreeMap<String, BTreeMap<String, String>>,
) {
    for (volume_id, admin) in admin {
        for (key, value) in admin {
            if key == "readonly" || key == "attached_mode" {
                meta.entry(volume_id.clone()).or_default().insert(key, value);
            }
        }
    }
}

/// One volume's detailed view.
pub async fn show_one(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    v: &Volume,
) -> ApiResult<Value> {
    let shown = Shown::load(state, std::slice::from_ref(v)).await?;
    Ok(shown.detail(state, ctx, mv, v))
}

/// A comparison of created_at/updated_at filters (3.60): `gt:`, `gte:`, `lt:`, `lte:`,
/// `eq:`, `neq:` followed by a time.
fn time_matches(value: i64, filter: &str) -> ApiResult<bool> {
    let (op, when) = filter
        .split_once(':')
        .filter(|(op, _)| matches!(*op, "gt" | "gte" | "lt" | "lte" | "eq" | "neq"))
        .unwrap_or(("eq", filter));
    let when = monostack_common::time::parse_iso(when).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid input received: Invalid time filter {filter}"
        ))
    })?;
    let secs = value / 1_000_000;
    let when = when / 1_000_000;
    Ok(match op {
        "gt" => secs > when,
        "gte" => secs >= when,
        "lt" => secs < when,
        "lte" => secs <= when,
        "neq" => secs != when,
        _ => secs == when,
    })
}

/// Applies the list filters; `like` (3.34) matches `name~` filters as substrings.
async fn filtered(
    state: &State,
    ctx: &RequestContext,
    mv: Microversion,
    pairs: &[(String, String)],
) -> ApiResult<Vec<Volume>> {
    state.authorize("volume:get_all", &own_target(ctx), ctx)?;
    let all_tenants = ctx.is_admin
        && query::get(pairs, "all_tenants")
            .is_some_and(|v| query::parse_bool("all_tenants", v).unwrap_or(true));
    let mut filters: Vec<(String, String)> = Vec::new();
    let mut invalid = Vec::new();
    for (k, v) in pairs {
        if query::PAGING_KEYS.contains(&k.as_str()) {
            continue;
        }
        let base = k.trim_end_matches('~');
        let known = USER_FILTERS.contains(&base) || (ctx.is_admin && ADMIN_FILTERS.contains(&base));
        if !known {
            invalid.push(k.clone());
            continue;
        }
        if k.ends_with('~') && !mv.at_least(34) {
            invalid.push(k.clone());
            continue;
        }
        filters.push((k.clone(), v.clone()));
    }
    if !invalid.is_empty() && mv.at_least(31) {
        return Err(ApiError::bad_request(format!(
            "Invalid filters {} are found in query options.",
            invalid.join(",")
        )));
    }
    let project = match query::get(pairs, "project_id") {
        Some(p) if ctx.is_admin => Some(p.to_string()),
        _ if all_tenants => None,
        _ => Some(ctx.project_id().to_string()),
    };
    let mut vols = volumes::list(&state.db, project.as_deref()).await?;
    let types = crate::db::types::list(&state.db).await?;
    let mut meta_cache: Option<BTreeMap<String, BTreeMap<String, String>>> = None;
    for (k, v) in &filters {
        let like = k.ends_with('~');
        let key = k.trim_end_matches('~');
        let text_match = |have: Option<&str>| match have {
            Some(h) if like => h.to_lowercase().contains(&v.to_lowercase()),
            Some(h) => h == v,
            None => false,
        };
        match key {
            "all_tenants" | "project_id" => {}
            "name" | "display_name" => vols.retain(|x| text_match(x.display_name.as_deref())),
            "display_description" => vols.retain(|x| text_match(x.display_description.as_deref())),
            "status" => vols.retain(|x| text_match(Some(&x.status))),
            "availability_zone" => vols.retain(|x| text_match(x.availability_zone.as_deref())),
            "migration_status" => vols.retain(|x| text_match(x.migration_status.as_deref())),
            "group_id" => vols.retain(|x| text_match(x.group_id.as_deref())),
            "host" => vols.retain(|x| text_match(x.host.as_deref())),
            "user_id" => vols.retain(|x| x.user_id == *v),
            "attach_status" => vols.retain(|x| x.attach_status == *v),
            "snapshot_id" => vols.retain(|x| x.snapshot_id.as_deref() == Some(v)),
            "source_volid" => vols.retain(|x| x.source_volid.as_deref() == Some(v)),
            "id" => vols.retain(|x| x.id == *v),
            "volume_type" | "volume_type_id" => {
                let ids: Vec<&str> = types
                    .iter()
                    .filter(|t| t.id == *v || t.name == *v)
                    .map(|t| t.id.as_str())
                    .collect();
                vols.retain(|x| ids.contains(&x.volume_type_id.as_str()));
            }
            "size" => {
                let n: i64 = v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid input received: size must be an integer: {v}"
                    ))
                })?;
                vols.retain(|x| x.size == n);
            }
            "bootable" => {
                let b = query::parse_bool("bootable", v)?;
                vols.retain(|x| x.bootable == b);
            }
            "consumes_quota" => {
                let b = query::parse_bool("consumes_quota", v)?;
                vols.retain(|x| x.use_quota == b);
            }
            "created_at" | "updated_at" => {
                let mut keep = Vec::new();
                for x in vols {
                    let t = if key == "created_at" {
                        x.created_at
                    } else {
                        x.updated_at
                    };
                    if time_matches(t, v)? {
                        keep.push(x);
                    }
                }
                vols = keep;
            }
            "metadata" => {
                let wanted: Value = serde_json::from_str(&v.replace('\'', "\"")).map_err(|_| {
                    ApiError::bad_request(format!(
                        "Invalid input received: metadata filter {v} is not a dictionary"
                    ))
                })?;
                let wanted = input::string_map("metadata", &wanted)?;
                if meta_cache.is_none() {
                    let ids: Vec<String> = vols.iter().map(|x| x.id.clone()).collect();
                    meta_cache = Some(metadata::get_many(&state.db, Table::Volume, &ids).await?);
                }
                let meta = meta_cache.as_ref();
                vols.retain(|x| {
                    let have = meta.and_then(|m| m.get(&x.id));
                    wanted
                        .iter()
                        .all(|(wk, wv)| have.and_then(|h| h.get(wk)) == Some(wv))
                });
            }
            _ => {}
        }
    }
    Ok(vols)
}

fn compare(a: &Volume, b: &Volume, key: &str) -> Ordering {
    match key {
        "id" => a.id.cmp(&b.id),
        "display_name" => a.display_name.cmp(&b.display_name),
        "display_description" => a.display_description.cmp(&b.display_description),
        "status" => a.status.cmp(&b.status),
        "size" => a.size.cmp(&b.size),
        "availability_zone" => a.availability_zone.cmp(&b.availability_zone),
        "updated_at" => a.updated_at.cmp(&b.updated_at),
        "bootable" => a.bootable.cmp(&b.bootable),
        "volume_type_id" => a.volume_type_id.cmp(&b.volume_type_id),
        "project_id" => a.project_id.cmp(&b.project_id),
        "user_id" => a.user_id.cmp(&b.user_id),
        _ => a.created_at.cmp(&b.created_at),
    }
}

async fn listing(
    state: State,
    ctx: RequestContext,
    mv: Microversion,
    uri: &http::Uri,
    detailed: bool,
) -> ApiResult<Json<Value>> {
    let pairs = query::pairs(uri.query());
    let paging = Paging::from_pairs(
        &pairs,
        state.config.volume.osapi_max_limit,
        SORT_KEYS,
        "created_at",
    )?;
    let with_count = query::with_count(&pairs, mv.at_least(45))?;
    let vols = filtered(&state, &ctx, mv, &pairs).await?;
    let page = paging.page(vols, |v| &v.id, compare)?;
    let items: Vec<Value> = if detailed {
        let shown = Shown::load(&state, &page.items).await?;
        page.items
            .iter()
            .map(|v| shown.detail(&state, &ctx, mv, v))
            .collect()
    } else {
        page.items
            .iter()
            .map(|v| view::volume_summary(&state, &ctx, v))
            .collect()
    };
    let path = if detailed { "volumes/detail" } else { "volumes" };
    Ok(Json(query::list_body(
        "volumes",
        &view::collection_url(&state, &ctx, path),
        &pairs,
        items,
        page.items.last().map(|v| v.id.as_str()),
        page.more,
        with_count.then_some(page.count),
    )))
}

async fn index(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, false).await
}

async fn detail(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    listing(state, ctx, mv, &uri, true).await
}

async fn summary(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Value>> {
    if !mv.at_least(12) {
        return Err(ApiError::not_found("The resource could not be found."));
    }
    let pairs: Vec<(String, String)> = query::pairs(uri.query())
        .into_iter()
        .filter(|(k, _)| k == "all_tenants" || k == "project_id")
        .collect();
    let vols = filtered(&state, &ctx, mv, &pairs).await?;
    let mut body = json!({"volume-summary": {"total_count": vols.len(), "total_size": vols.iter().map(|v| v.size).sum::<i64>()}});
    if mv.at_least(36) {
        let ids: Vec<String> = vols.iter().map(|v| v.id.clone()).collect();
        let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for meta in metadata::get_many(&state.db, Table::Volume, &ids)
            .await?
            .into_values()
        {
            for (k, v) in meta {
                let values = all.entry(k).or_default();
                if !values.contains(&v) {
                    values.push(v);
                }
            }
        }
        body["volume-summary"]["metadata"] = json!(all);
    }
    Ok(Json(body))
}

async fn show(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:get", &api::target(&v), &ctx)?;
    Ok(Json(
        json!({"volume": show_one(&state, &ctx, mv, &v).await?}),
    ))
}

/// Metadata of a request body: 1–255 character keys, values of at most 255.
pub fn metadata_of(field: &str, v: Option<&Value>) -> ApiResult<BTreeMap<String, String>> {
    match v {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(v) => input::string_map(field, v),
    }
}

async fn create(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    state.authorize("volume:create", &own_target(&ctx), &ctx)?;
    let obj = input::object(&body, "volume")?;
    if let Some(top) = body.as_object() {
        if let Some(k) = top
            .keys()
            .find(|k| !matches!(k.as_str(), "volume" | "OS-SCH-HNT:scheduler_hints"))
        {
            return Err(ApiError::bad_request(format!("Invalid input for field/attribute {k}. Additional properties are not allowed ('{k}' was unexpected)")));
        }
    }
    const KNOWN: &[&str] = &[
        "name",
        "description",
        "display_name",
        "display_description",
        "volume_type",
        "metadata",
        "snapshot_id",
        "source_volid",
        "consistencygroup_id",
        "size",
        "availability_zone",
        "multiattach",
        "image_id",
        "imageRef",
        "group_id",
        "backup_id",
        "scheduler_hints",
    ];
    if mv.at_least(53) {
        if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(ApiError::bad_request(format!("Invalid input for field/attribute volume. Additional properties are not allowed ('{k}' was unexpected)")));
        }
    }
    let name = input::opt_string(obj, "name", 255, true)?
        .or(input::opt_string(obj, "display_name", 255, true)?)
        .flatten();
    let description = input::opt_string(obj, "description", 255, true)?
        .or(input::opt_string(obj, "display_description", 255, true)?)
        .flatten();
    let size = match obj.get("size") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let n = input::integer("size", v)?;
            if n < 1 || n > i32::MAX as i64 {
                return Err(ApiError::bad_request(format!("Invalid input for field/attribute size. Value: {v}. {n} is less than the minimum of 1")));
            }
            Some(n)
        }
    };
    let uuid_field = |f: &str| -> ApiResult<Option<String>> {
        match obj.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => Ok(Some(s.clone())),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute {f}. Value: {other}. '{other}' is not a 'uuid'"
            ))),
        }
    };
    let snapshot_id = uuid_field("snapshot_id")?;
    let source_volid = uuid_field("source_volid")?;
    if obj
        .get("multiattach")
        .map(|v| input::boolean("multiattach", v))
        .transpose()?
        .unwrap_or(false)
    {
        return Err(ApiError::bad_request(
            "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.",
        ));
    }
    let image_ref = match obj.get("imageRef").or_else(|| obj.get("image_id")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid input for field/attribute imageRef. Value: {other}. {other} is not of type 'string'"
            )))
        }
    };
    // Creating from a backup is 3.47; earlier versions ignore the field, as Cinder's
    // schema of those versions does not know it.
    let backup_id = if mv.at_least(47) {
        uuid_field("backup_id")?
    } else {
        None
    };
    for unsupported in ["consistencygroup_id", "group_id"] {
        if obj
            .get(unsupported)
            .is_some_and(|v| !v.is_null() && v != "")
        {
            return Err(ApiError::bad_request(format!("Invalid input received: creating a volume with {unsupported} is not supported by this cloud yet.")));
        }
    }
    let volume_type = match obj.get("volume_type") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) if s.len() <= 255 => Some(s.clone()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
            "Invalid input for field/attribute volume_type. Value: {other}. is not a valid name"
        )))
        }
    };
    let availability_zone = match obj.get("availability_zone") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        Some(other) => return Err(ApiError::bad_request(format!("Invalid input for field/attribute availability_zone. Value: {other}. is not a valid availability zone"))),
    };
    let metadata = metadata_of("metadata", obj.get("metadata"))?;
    let req = api::CreateRequest {
        name,
        description,
        size,
        volume_type,
        metadata,
        snapshot_id,
        source_volid,
        availability_zone,
        image_ref,
        backup_id,
    };
    let v = api::create(&state, &ctx, req).await?;
    let body = json!({"volume": without_extensions(show_one(&state, &ctx, mv, &v).await?)});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

async fn update(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Json<Value>> {
    let obj = input::object(&body, "volume")?;
    if let Some(k) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "name" | "description" | "display_name" | "display_description" | "metadata"
        )
    }) {
        return Err(ApiError::bad_request(format!("Invalid input for field/attribute volume. Additional properties are not allowed ('{k}' was unexpected)")));
    }
    if mv.at_least(53) && obj.is_empty() {
        return Err(ApiError::bad_request("Invalid input for field/attribute volume. Value: {}. {} does not have enough properties"));
    }
    let name = input::opt_string(obj, "name", 255, true)?.or(input::opt_string(
        obj,
        "display_name",
        255,
        true,
    )?);
    let description = input::opt_string(obj, "description", 255, true)?.or(input::opt_string(
        obj,
        "display_description",
        255,
        true,
    )?);
    let metadata = match obj.get("metadata") {
        None => None,
        Some(v) => Some(input::string_map("metadata", v)?),
    };
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:update", &api::target(&v), &ctx)?;
    if v.status == states::volume::MAINTENANCE {
        return Err(ApiError::bad_request(
            "Invalid volume: The volume cannot be updated during maintenance.",
        ));
    }
    let changes = volumes::Changes {
        display_name: name,
        display_description: description,
        ..Default::default()
    };
    volumes::update_if(&state.db, &id, &[], &changes).await?;
    if let Some(meta) = metadata {
        metadata::set(&state.db, Table::Volume, &id, &meta, true).await?;
    }
    let v = api::find(&state, &ctx, &id).await?;
    Ok(Json(
        json!({"volume": without_extensions(show_one(&state, &ctx, mv, &v).await?)}),
    ))
}

/// Cinder's extension attributes (host, tenant, migration status, image metadata) extend
/// only `show` and the detailed list; create and update answer the plain view (Tempest's
/// create/update schemas refuse the others).
fn without_extensions(mut view: Value) -> Value {
    if let Some(m) = view.as_object_mut() {
        m.retain(|k, _| !k.starts_with("os-vol-") && k != "volume_image_metadata");
    }
    view
}

async fn delete(
    S(state): S<State>,
    Caller(ctx): Caller,
    mv: Microversion,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<StatusCode> {
    let pairs = query::pairs(uri.query());
    let cascade = query::get(&pairs, "cascade")
        .map(|v| query::parse_bool("cascade", v))
        .transpose()?
        .unwrap_or(false);
    let force = mv.at_least(23)
        && query::get(&pairs, "force")
            .map(|v| query::parse_bool("force", v))
            .transpose()?
            .unwrap_or(false);
    let v = api::find(&state, &ctx, &id).await?;
    state.authorize("volume:delete", &api::target(&v), &ctx)?;
    if force {
        state.authorize("volume:force_delete", &api::target(&v), &ctx)?;
    }
    api::delete(&state, &ctx, &v, cascade, force).await?;
    Ok(StatusCode::ACCEPTED)
}
