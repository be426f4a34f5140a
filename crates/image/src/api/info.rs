//! `/v2/info/*`: the import methods, the stores, and the caller's quota usage.

use super::{ApiResult, State};
use crate::quota;
use axum::extract::State as S;
use axum::routing::get;
use axum::{Json, Router};
use monostack_auth::middleware::Authenticated;
use serde_json::{json, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2/info/import", get(import_methods))
        .route("/v2/info/stores", get(stores))
        .route("/v2/info/stores/detail", get(stores_detail))
        .route("/v2/info/usage", get(usage))
}

async fn import_methods(S(state): S<State>) -> Json<Value> {
    Json(json!({"import-methods": {
        "description": "Import methods available.",
        "type": "array",
        "value": state.config.image.enabled_import_methods,
    }}))
}

async fn stores(S(state): S<State>) -> Json<Value> {
    Json(json!({"stores": [{"id": state.store.id(), "description": "Local filesystem store", "default": true}]}))
}

async fn stores_detail(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    state.authorize("stores_info_detail", &json!({}), &ctx)?;
    let dir = state.config.image.filesystem_store_datadir.clone().unwrap_or_else(|| state.config.state_dir().join("images"));
    Ok(Json(json!({"stores": [{
        "id": state.store.id(),
        "description": "Local filesystem store",
        "default": true,
        "type": "file",
        "properties": {"datadir": dir.display().to_string(), "thin_provisioning": false},
    }]})))
}

async fn usage(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    let project = ctx.project_id.clone().unwrap_or_default();
    Ok(Json(json!({"usage": quota::report(&state, &project).await?})))
}
