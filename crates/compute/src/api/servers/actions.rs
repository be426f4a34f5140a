//! `POST /servers/{id}/action`: one action per body (`{"os-stop": null}`), each with Nova's
//! body schema, policy and answer. Bodies are checked before the server is looked up, as
//! Nova's schema decorators run first.

use super::super::caller::Caller;
use super::super::input;
use super::super::{validation, ApiResult, Microversion, State};
use super::{actions_admin, actions_move};
use crate::compute_api::{self, actions, delete};
use crate::context::RequestContext;
use crate::db::instances::Instance;
use axum::body::Bytes;
use axum::extract::{Path, State as S};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use monostack_common::ApiError;
use serde_json::{json, Value};

/// One action request: the server id, the action's body value, and who asks.
pub struct Action<'a> {
    pub state: &'a State,
    pub ctx: &'a RequestContext,
    pub mv: Microversion,
    pub id: &'a str,
    pub body: &'a Value,
}

impl Action<'_> {
    /// The server, then `rule` with Nova's target (`with_user` adds the owner).
    pub async fn authorized(&self, rule: &str, with_user: bool) -> ApiResult<Instance> {
        let instance = compute_api::get_instance(self.state, self.ctx, self.id).await?;
        let target = if with_user {
            json!({"project_id": instance.project_id, "user_id": instance.user_id})
        } else {
            json!({"project_id": instance.project_id})
        };
        self.state.authorize(rule, &target, &self.ctx.auth)?;
        Ok(instance)
    }
}

/// 202 with no body.
pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// The body `{"<name>": ...}` split into its only key and value.
fn single_action(body: &Value) -> ApiResult<(&str, &Value)> {
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request("Malformed request body"))?;
    let mut entries = obj.iter();
    match (entries.next(), entries.next()) {
        (Some((k, v)), None) => Ok((k.as_str(), v)),
        _ => Err(ApiError::bad_request("Malformed request body")),
    }
}

pub async fn dispatch(S(state): S<State>, Caller(ctx): Caller, mv: Microversion, Path(id): Path<String>, bytes: Bytes) -> ApiResult<Response> {
    let body = input::parse(&bytes)?;
    let (name, value) = single_action(&body)?;
    let a = Action { state: &state, ctx: &ctx, mv, id: &id, body: value };
    match name {
        "os-stop" | "os-start" | "pause" | "unpause" | "suspend" | "resume" | "reboot" | "trigger_crash_dump" | "unrescue" | "rescue"
        | "forceDelete" | "restore" | "changePassword" => power(a, name).await,
        "lock" | "unlock" | "os-resetState" | "injectNetworkInfo" | "resetNetwork" | "createImage" | "createBackup" | "os-getConsoleOutput"
        | "os-getVNCConsole" | "os-getSPICEConsole" | "os-getSerialConsole" | "os-getRDPConsole" | "addSecurityGroup" | "removeSecurityGroup" => {
            actions_admin::run(a, name).await
        }
        "rebuild" | "resize" | "confirmResize" | "revertResize" | "migrate" | "os-migrateLive" | "evacuate" | "shelve" | "shelveOffload"
        | "unshelve" => actions_move::run(a, name).await,
        other => Err(ApiError::bad_request(format!("There is no such action: {other}"))),
    }
}

/// Power and state actions of the owner.
async fn power(a: Action<'_>, name: &str) -> ApiResult<Response> {
    let (state, ctx) = (a.state, a.ctx);
    match name {
        "os-stop" => actions::stop(state, ctx, &a.authorized("os_compute_api:servers:stop", true).await?).await?,
        "os-start" => actions::start(state, ctx, &a.authorized("os_compute_api:servers:start", true).await?).await?,
        "pause" => actions::pause(state, ctx, &a.authorized("os_compute_api:os-pause-server:pause", true).await?).await?,
        "unpause" => actions::unpause(state, ctx, &a.authorized("os_compute_api:os-pause-server:unpause", false).await?).await?,
        "suspend" => actions::suspend(state, ctx, &a.authorized("os_compute_api:os-suspend-server:suspend", true).await?).await?,
        "resume" => actions::resume(state, ctx, &a.authorized("os_compute_api:os-suspend-server:resume", false).await?).await?,
        "reboot" => {
            let body = input::object(a.body, "reboot")?;
            input::only(body, &["type"], Some("reboot"))?;
            input::required(body, &["type"], "reboot")?;
            let kind = validation::one_of("type", &body["type"], &["HARD", "Hard", "hard", "SOFT", "Soft", "soft"])?;
            let instance = a.authorized("os_compute_api:servers:reboot", false).await?;
            actions::reboot(state, ctx, &instance, kind.eq_ignore_ascii_case("hard")).await?
        }
        "trigger_crash_dump" => {
            if !a.mv.at_least(17) {
                return Err(ApiError::not_found("The resource could not be found."));
            }
            if !a.body.is_null() {
                return Err(input::invalid("trigger_crash_dump", a.body, format!("{} is not of type 'null'", validation::py_repr(a.body))));
            }
            actions::trigger_crash_dump(state, ctx, &a.authorized("os_compute_api:servers:trigger_crash_dump", true).await?).await?
        }
        "rescue" => return rescue(a).await,
        "unrescue" => actions::unrescue(state, ctx, &a.authorized("os_compute_api:os-unrescue", false).await?).await?,
        "forceDelete" => delete::force_delete(state, ctx, &a.authorized("os_compute_api:os-deferred-delete:force", true).await?).await?,
        "restore" => {
            let instance = a.authorized("os_compute_api:os-deferred-delete:restore", false).await?;
            delete::restore(state, ctx, &instance.uuid).await?
        }
        "changePassword" => {
            let body = input::object(a.body, "changePassword")?;
            input::only(body, &["adminPass"], Some("changePassword"))?;
            input::required(body, &["adminPass"], "changePassword")?;
            let password = input::string(&body["adminPass"], "adminPass", 0, usize::MAX)?.to_string();
            let instance = a.authorized("os_compute_api:os-admin-password", true).await?;
            actions::change_password(state, ctx, &instance, password).await?
        }
        _ => return Err(ApiError::bad_request(format!("There is no such action: {name}"))),
    }
    Ok(accepted())
}

/// `rescue` answers 200 with the rescue password.
async fn rescue(a: Action<'_>) -> ApiResult<Response> {
    let (password, image) = match a.body {
        Value::Null => (None, None),
        body => {
            let obj = input::object(body, "rescue")?;
            input::only(obj, &["adminPass", "rescue_image_ref"], Some("rescue"))?;
            let password = obj.get("adminPass").map(|v| input::string(v, "adminPass", 0, usize::MAX).map(str::to_string)).transpose()?;
            let image = obj.get("rescue_image_ref").map(|v| validation::uuid("rescue_image_ref", v)).transpose()?;
            (password, image)
        }
    };
    let password = password.unwrap_or_else(super::password::generate);
    let instance = a.authorized("os_compute_api:os-rescue", true).await?;
    actions::rescue(a.state, a.ctx, &instance, password.clone(), image, a.mv.at_least(87)).await?;
    Ok(axum::Json(json!({"adminPass": password})).into_response())
}
