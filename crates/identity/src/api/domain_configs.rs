//! `/v3/domains/{domain_id}/config…` and `/v3/domains/config/…/default`: domain-specific
//! driver configuration (stored, not acted upon). Only Keystone's whitelisted `identity` and
//! `ldap` options are accepted; the sensitive `ldap.password` is stored but never returned.
//! The policies need no target; as Keystone does, the policy is checked before the domain is
//! looked up, so that a caller without access cannot learn which domains exist.

use super::domains::must_get;
use super::{created, enforce, no_content, ok, ApiResult, Caller, State};
use crate::store::{self, domain_configs::ConfigOption, DEFAULT_DOMAIN_ID};
use crate::Identity;
use axum::extract::{Path, State as S};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_common::json::Json;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v3/domains/config/default", get(default_all))
        .route("/v3/domains/config/{group}/default", get(default_group))
        .route("/v3/domains/config/{group}/{option}/default", get(default_option))
        .route("/v3/domains/{domain_id}/config", get(show_all).put(create).patch(update_all).delete(delete_all))
        .route("/v3/domains/{domain_id}/config/{group}", get(show_group).patch(update_group).delete(delete_group))
        .route("/v3/domains/{domain_id}/config/{group}/{option}", get(show_option).patch(update_option).delete(delete_option))
}

/// The options a domain config may set, with Keystone's defaults, per group.
fn whitelist() -> Vec<(&'static str, Vec<(&'static str, Value)>)> {
    vec![
        ("identity", vec![("driver", json!("sql")), ("list_limit", Value::Null)]),
        (
            "ldap",
            vec![
                ("url", json!("ldap://localhost")),
                ("user", Value::Null),
                ("suffix", json!("cn=example,cn=com")),
                ("query_scope", json!("one")),
                ("page_size", json!(0)),
                ("alias_dereferencing", json!("default")),
                ("debug_level", Value::Null),
                ("chase_referrals", Value::Null),
                ("user_tree_dn", Value::Null),
                ("user_filter", Value::Null),
                ("user_objectclass", json!("inetOrgPerson")),
                ("user_id_attribute", json!("cn")),
                ("user_name_attribute", json!("sn")),
                ("user_mail_attribute", json!("mail")),
                ("user_description_attribute", json!("description")),
                ("user_pass_attribute", json!("userPassword")),
                ("user_enabled_attribute", json!("enabled")),
                ("user_enabled_invert", json!(false)),
                ("user_enabled_mask", json!(0)),
                ("user_enabled_default", json!("True")),
                ("user_attribute_ignore", json!(["default_project_id"])),
                ("user_default_project_id_attribute", Value::Null),
                ("user_enabled_emulation", json!(false)),
                ("user_enabled_emulation_dn", Value::Null),
                ("user_enabled_emulation_use_group_config", json!(false)),
                ("user_additional_attribute_mapping", json!([])),
                ("group_tree_dn", Value::Null),
                ("group_filter", Value::Null),
                ("group_objectclass", json!("groupOfNames")),
                ("group_id_attribute", json!("cn")),
                ("group_name_attribute", json!("ou")),
                ("group_members_are_ids", json!(false)),
                ("group_member_attribute", json!("member")),
                ("group_desc_attribute", json!("description")),
                ("group_attribute_ignore", json!([])),
                ("group_additional_attribute_mapping", json!([])),
                ("tls_cacertfile", Value::Null),
                ("tls_cacertdir", Value::Null),
                ("use_tls", json!(false)),
                ("tls_req_cert", json!("demand")),
                ("use_pool", json!(true)),
                ("pool_size", json!(10)),
                ("pool_retry_max", json!(3)),
                ("pool_retry_delay", json!(0.1)),
                ("pool_connection_timeout", json!(-1)),
                ("pool_connection_lifetime", json!(600)),
                ("use_auth_pool", json!(true)),
                ("auth_pool_size", json!(100)),
                ("auth_pool_connection_lifetime", json!(60)),
            ],
        ),
    ]
}

/// Options that are stored but never shown: `(group, option)`.
const SENSITIVE: &[(&str, &str)] = &[("ldap", "password")];

/// The options of the `security_compliance` group anyone may read (default domain only).
const SECURITY_COMPLIANCE: &str = "security_compliance";
const READABLE_COMPLIANCE: &[&str] = &["password_regex", "password_regex_description"];

fn is_whitelisted(group: &str, option: &str) -> bool {
    whitelist().iter().any(|(g, opts)| *g == group && opts.iter().any(|(o, _)| *o == option))
}

fn is_sensitive(group: &str, option: &str) -> bool {
    SENSITIVE.contains(&(group, option))
}

fn invalid(reason: impl std::fmt::Display) -> ApiError {
    ApiError::forbidden(format!("Invalid domain specific configuration: {reason}."))
}

fn config_not_found(domain_id: &str, group: Option<&str>, option: Option<&str>) -> ApiError {
    let what = match (group, option) {
        (Some(g), Some(o)) => format!("option {o} in group {g}"),
        (Some(g), None) => format!("group {g}"),
        _ => "any options".to_string(),
    };
    ApiError::not_found(format!("Could not find {what} in domain configuration for domain {domain_id}."))
}

/// Keystone's check of a group and an option named in a path or a body.
fn assert_valid_group_and_option(group: Option<&str>, option: Option<&str>) -> ApiResult<()> {
    let Some(group) = group else { return Ok(()) };
    let group_known = whitelist().iter().any(|(g, _)| *g == group) || SENSITIVE.iter().any(|(g, _)| *g == group);
    if !group_known {
        return Err(invalid(format_args!("Group {group} is not supported for domain specific configurations")));
    }
    if let Some(option) = option {
        if !is_whitelisted(group, option) && !is_sensitive(group, option) {
            return Err(invalid(format_args!(
                "Option {option} in group {group} is not supported for domain specific configurations"
            )));
        }
    }
    Ok(())
}

/// Validates a `{group: {option: value}}` config and flattens it into options.
fn config_options(config: &Value) -> ApiResult<Vec<ConfigOption>> {
    let groups = match config {
        Value::Object(m) if !m.is_empty() => m,
        Value::Object(_) | Value::Null => return Err(invalid("No options specified")),
        _ => return Err(invalid("The config should be a dictionary of groups")),
    };
    let mut out = Vec::new();
    for (group, options) in groups {
        let options = match options {
            Value::Object(o) if !o.is_empty() => o,
            _ => {
                return Err(invalid(format_args!(
                    "The value of group {group} specified in the config should be a dictionary of options"
                )))
            }
        };
        for (option, value) in options {
            assert_valid_group_and_option(Some(group), Some(option))?;
            out.push(ConfigOption {
                group: group.clone(),
                option: option.clone(),
                value: value.clone(),
                sensitive: is_sensitive(group, option),
            });
        }
    }
    Ok(out)
}

/// `{group: {option: value}}` of the visible options, or `{option: value}` when one was asked.
fn render(options: &[ConfigOption], req_option: Option<&str>) -> Value {
    let visible = options.iter().filter(|o| !o.sensitive);
    if req_option.is_some() {
        return Value::Object(visible.map(|o| (o.option.clone(), o.value.clone())).collect());
    }
    let mut config = Map::new();
    for o in visible {
        if let Value::Object(g) = config.entry(o.group.clone()).or_insert_with(|| json!({})) {
            g.insert(o.option.clone(), o.value.clone());
        }
    }
    Value::Object(config)
}

/// The body's `config` (missing is empty, which the validation then rejects).
fn body_config(body: &Value) -> Value {
    body.get("config").cloned().unwrap_or(Value::Null)
}

// ---- reading ----

async fn show(state: &Identity, caller: &Caller, domain_id: &str, group: Option<&str>, option: Option<&str>) -> ApiResult<Response> {
    if group == Some(SECURITY_COMPLIANCE) {
        enforce(state, caller, "identity:get_security_compliance_domain_config", &json!({}))?;
        must_get(state, domain_id).await?;
        return security_compliance(domain_id, option);
    }
    enforce(state, caller, "identity:get_domain_config", &json!({}))?;
    must_get(state, domain_id).await?;
    assert_valid_group_and_option(group, option)?;
    let options: Vec<ConfigOption> =
        store::domain_configs::list(state, domain_id, group, option).await?.into_iter().filter(|o| !o.sensitive).collect();
    if options.is_empty() {
        return Err(config_not_found(domain_id, group, option));
    }
    Ok(ok(json!({"config": render(&options, option)})))
}

/// The readable password rules of the default domain (none are configured here).
fn security_compliance(domain_id: &str, option: Option<&str>) -> ApiResult<Response> {
    if domain_id != DEFAULT_DOMAIN_ID {
        return Err(invalid(
            "Reading security compliance information for any domain other than the default domain is not allowed or supported",
        ));
    }
    match option {
        Some(o) if !READABLE_COMPLIANCE.contains(&o) => Err(invalid(
            "Reading security compliance values other than password_regex and password_regex_description is not allowed",
        )),
        Some(o) => Ok(ok(json!({"config": {o: null}}))),
        None => {
            let values: Map<String, Value> = READABLE_COMPLIANCE.iter().map(|o| (o.to_string(), Value::Null)).collect();
            Ok(ok(json!({"config": {SECURITY_COMPLIANCE: values}})))
        }
    }
}

async fn show_all(S(state): S<State>, caller: Caller, Path(domain_id): Path<String>) -> ApiResult<Response> {
    show(&state, &caller, &domain_id, None, None).await
}

async fn show_group(S(state): S<State>, caller: Caller, Path((domain_id, group)): Path<(String, String)>) -> ApiResult<Response> {
    show(&state, &caller, &domain_id, Some(&group), None).await
}

async fn show_option(S(state): S<State>, caller: Caller, Path((domain_id, group, option)): Path<(String, String, String)>) -> ApiResult<Response> {
    show(&state, &caller, &domain_id, Some(&group), Some(&option)).await
}

// ---- creating (replacing) ----

async fn create(S(state): S<State>, caller: Caller, Path(domain_id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    enforce(&state, &caller, "identity:create_domain_config", &json!({}))?;
    must_get(&state, &domain_id).await?;
    let options = config_options(&body_config(&body))?;
    let existed = !store::domain_configs::list(&state, &domain_id, None, None).await?.is_empty();
    store::domain_configs::save(&state, &domain_id, &options, true).await?;
    tracing::info!("set the configuration of domain {domain_id} ({} options)", options.len());
    let stored = store::domain_configs::list(&state, &domain_id, None, None).await?;
    let body = json!({"config": render(&stored, None)});
    Ok(if existed { ok(body) } else { created(body) })
}

// ---- updating (merging) ----

async fn update(state: &Identity, caller: &Caller, domain_id: &str, group: Option<&str>, option: Option<&str>, body: &Value) -> ApiResult<Response> {
    enforce(state, caller, "identity:update_domain_config", &json!({}))?;
    must_get(state, domain_id).await?;
    let mut config = body_config(body);
    if let (Some(g), Some(_)) = (group, option) {
        // The body names just the option: `{"config": {option: value}}`.
        config = json!({ g: config });
    }
    let options = config_options(&config)?;
    assert_valid_group_and_option(group, option)?;
    if let Some(g) = group {
        // A group (or option) update must carry that group (or option) alone, and it must exist.
        let groups = config.as_object().map(Map::len).unwrap_or_default();
        if groups != 1 || (option.is_some() && options.len() != 1) {
            return Err(invalid(match option {
                Some(o) => format!("Trying to update option {o} in group {g}, so that, and only that, option must be specified  in the config"),
                None => format!("Trying to update group {g}, so that, and only that, group must be specified in the config"),
            }));
        }
        if let Some(other) = options.iter().find(|o| o.group != g) {
            return Err(invalid(format_args!(
                "request to update group {g}, but config provided contains group {} instead",
                other.group
            )));
        }
        if let (Some(o), Some(other)) = (option, options.first()) {
            if other.option != o {
                return Err(invalid(format_args!(
                    "Trying to update option {o} in group {g}, but config provided contains option {} instead",
                    other.option
                )));
            }
        }
        if store::domain_configs::list(state, domain_id, group, option).await?.is_empty() {
            return Err(config_not_found(domain_id, group, option));
        }
    }
    store::domain_configs::save(state, domain_id, &options, false).await?;
    let stored: Vec<ConfigOption> =
        store::domain_configs::list(state, domain_id, None, None).await?.into_iter().filter(|o| !o.sensitive).collect();
    if stored.is_empty() {
        return Err(config_not_found(domain_id, None, None));
    }
    Ok(ok(json!({"config": render(&stored, None)})))
}

async fn update_all(S(state): S<State>, caller: Caller, Path(domain_id): Path<String>, Json(body): Json<Value>) -> ApiResult<Response> {
    update(&state, &caller, &domain_id, None, None, &body).await
}

async fn update_group(
    S(state): S<State>,
    caller: Caller,
    Path((domain_id, group)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    update(&state, &caller, &domain_id, Some(&group), None, &body).await
}

async fn update_option(
    S(state): S<State>,
    caller: Caller,
    Path((domain_id, group, option)): Path<(String, String, String)>,
    Json(body): Json<Value>,
) -> ApiResult<Response> {
    update(&state, &caller, &domain_id, Some(&group), Some(&option), &body).await
}

// ---- deleting ----

async fn delete(state: &Identity, caller: &Caller, domain_id: &str, group: Option<&str>, option: Option<&str>) -> ApiResult<Response> {
    enforce(state, caller, "identity:delete_domain_config", &json!({}))?;
    must_get(state, domain_id).await?;
    assert_valid_group_and_option(group, option)?;
    if let Some(g) = group {
        if store::domain_configs::list(state, domain_id, Some(g), None).await?.is_empty() {
            return Err(config_not_found(domain_id, group, None));
        }
        if option.is_some() && store::domain_configs::list(state, domain_id, group, option).await?.is_empty() {
            return Err(config_not_found(domain_id, group, option));
        }
    }
    store::domain_configs::delete(state, domain_id, group, option).await?;
    tracing::info!("deleted configuration of domain {domain_id} (group {group:?}, option {option:?})");
    Ok(no_content())
}

async fn delete_all(S(state): S<State>, caller: Caller, Path(domain_id): Path<String>) -> ApiResult<Response> {
    delete(&state, &caller, &domain_id, None, None).await
}

async fn delete_group(S(state): S<State>, caller: Caller, Path((domain_id, group)): Path<(String, String)>) -> ApiResult<Response> {
    delete(&state, &caller, &domain_id, Some(&group), None).await
}

async fn delete_option(S(state): S<State>, caller: Caller, Path((domain_id, group, option)): Path<(String, String, String)>) -> ApiResult<Response> {
    delete(&state, &caller, &domain_id, Some(&group), Some(&option)).await
}

// ---- defaults ----

fn defaults(state: &Identity, caller: &Caller, group: Option<&str>, option: Option<&str>) -> ApiResult<Response> {
    enforce(state, caller, "identity:get_domain_config_default", &json!({}))?;
    assert_valid_group_and_option(group, option)?;
    if let (Some(g), Some(o)) = (group, option) {
        if !is_whitelisted(g, o) {
            return Err(invalid(format_args!("Reading the default for option {o} in group {g} is not supported")));
        }
    }
    let options: Vec<ConfigOption> = whitelist()
        .into_iter()
        .filter(|(g, _)| group.is_none_or(|want| want == *g))
        .flat_map(|(g, opts)| {
            opts.into_iter().filter(|(o, _)| option.is_none_or(|want| want == *o)).map(move |(o, value)| ConfigOption {
                group: g.to_string(),
                option: o.to_string(),
                value,
                sensitive: false,
            })
        })
        .collect();
    Ok(ok(json!({"config": render(&options, option)})))
}

async fn default_all(S(state): S<State>, caller: Caller) -> ApiResult<Response> {
    defaults(&state, &caller, None, None)
}

async fn default_group(S(state): S<State>, caller: Caller, Path(group): Path<String>) -> ApiResult<Response> {
    defaults(&state, &caller, Some(&group), None)
}

async fn default_option(S(state): S<State>, caller: Caller, Path((group, option)): Path<(String, String)>) -> ApiResult<Response> {
    defaults(&state, &caller, Some(&group), Some(&option))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(config_options(&json!({"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://x", "password": "p"}})).is_ok());
        for bad in [json!({}), json!(null), json!([1]), json!({"identity": {}}), json!({"identity": "sql"}), json!({"ldap": {"nope": 1}}), json!({"oslo": {"x": 1}})] {
            assert!(config_options(&bad).is_err(), "{bad}");
        }
        let opts = config_options(&json!({"ldap": {"url": "u", "password": "p"}})).unwrap();
        assert_eq!(render(&opts, None), json!({"ldap": {"url": "u"}}));
        let password: Vec<ConfigOption> = opts.into_iter().filter(|o| o.sensitive).collect();
        assert_eq!(password.len(), 1);
        assert_eq!(render(&password, Some("password")), json!({}));
        assert!(whitelist().iter().all(|(g, opts)| opts.iter().all(|(o, _)| is_whitelisted(g, o) && !is_sensitive(g, o))));
    }
}
