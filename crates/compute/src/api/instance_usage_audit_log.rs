//! `/os-instance_usage_audit_log`: how far the compute hosts got with auditing instance usage
//! over the last completed audit period (Nova's `instance_usage_audit_period`, a month by
//! default), now or before a given time (`GET …/{before}`, `YYYY-MM-DD HH:MM:SS[.ffffff]`).
//!
//! Each host's audit run is recorded as a task log. monostack runs no usage audit task yet
//! (Nova's `instance_usage_audit` option, off by default), so there are no task logs and every
//! compute host (enabled or not) is reported as not run, as Nova reports it in that case.

use super::{ApiResult, State};
use crate::db::services as service_db;
use axum::extract::{Path, State as S};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use monostack_auth::middleware::Authenticated;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.1/os-instance_usage_audit_log", get(index))
        .route("/v2.1/os-instance_usage_audit_log/{before}", get(show))
}

/// One host's run of the audit task over a period (Nova's `task_log` row).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskLog {
    pub host: String,
    /// RUNNING or DONE.
    pub state: String,
    pub task_items: i64,
    pub errors: i64,
    pub message: String,
}

/// The first day of the month `months` before (negative) or after the month of `date`.
fn first_of_month(date: NaiveDateTime, months: i32) -> NaiveDateTime {
    let index = date.year() * 12 + date.month0() as i32 + months;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    NaiveDate::from_ymd_opt(year, month0 as u32 + 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or(date)
}

/// The most recent monthly audit period completed before `before`: (begin, end), the end
/// being the start of `before`'s month, or of the previous month when `before` is exactly it.
pub fn last_completed_month(before: NaiveDateTime) -> (NaiveDateTime, NaiveDateTime) {
    let mut end = first_of_month(before, 0);
    if end >= before {
        end = first_of_month(before, -1);
    }
    (first_of_month(end, -1), end)
}

/// Nova's summary of the task logs of a period over the compute `hosts`.
pub fn summary(begin: NaiveDateTime, end: NaiveDateTime, hosts: &BTreeSet<String>, logs: &[TaskLog]) -> Value {
    let seen: BTreeSet<&str> = logs.iter().map(|l| l.host.as_str()).collect();
    let done: BTreeSet<&str> = logs.iter().filter(|l| l.state == "DONE").map(|l| l.host.as_str()).collect();
    let running: BTreeSet<&str> = logs.iter().filter(|l| l.state == "RUNNING").map(|l| l.host.as_str()).collect();
    let errors: i64 = logs.iter().map(|l| l.errors).sum();
    let items: i64 = logs.iter().map(|l| l.task_items).sum();
    let not_run: Vec<&String> = hosts.iter().filter(|h| !seen.contains(h.as_str())).collect();
    let log: Map<String, Value> = logs
        .iter()
        .map(|l| (l.host.clone(), json!({"state": l.state, "instances": l.task_items, "errors": l.errors, "message": l.message})))
        .collect();
    let done_text = if done.len() == hosts.len() { "ALL".to_string() } else { format!("{} of {}", done.len(), hosts.len()) };
    json!({
        "period_beginning": begin.format("%Y-%m-%d %H:%M:%S").to_string(),
        "period_ending": end.format("%Y-%m-%d %H:%M:%S").to_string(),
        "num_hosts": hosts.len(),
        "num_hosts_done": done.len(),
        "num_hosts_running": running.len(),
        "num_hosts_not_run": not_run.len(),
        "hosts_not_run": not_run,
        "total_instances": items,
        "total_errors": errors,
        "overall_status": format!("{done_text} hosts done. {errors} errors."),
        "log": log,
    })
}

/// The audit log of the period completed before `before`, over every compute host.
async fn audit_log(state: &State, before: NaiveDateTime) -> ApiResult<Value> {
    let (begin, end) = last_completed_month(before);
    let hosts: BTreeSet<String> = service_db::list(&state.db, None, None).await?.into_iter().filter(|s| s.is_compute()).map(|s| s.host).collect();
    Ok(summary(begin, end, &hosts, &[]))
}

async fn index(S(state): S<State>, Authenticated(ctx): Authenticated) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-instance-usage-audit-log:list", &json!({}), &ctx)?;
    let now = chrono::Utc::now().naive_utc();
    Ok(Json(json!({"instance_usage_audit_logs": audit_log(&state, now).await?})))
}

/// `before` as Nova reads it: `%Y-%m-%d %H:%M:%S`, with `.%f` when it has a dot.
fn parse_before(text: &str) -> Option<NaiveDateTime> {
    let format = if text.contains('.') { "%Y-%m-%d %H:%M:%S%.f" } else { "%Y-%m-%d %H:%M:%S" };
    NaiveDateTime::parse_from_str(text, format).ok()
}

async fn show(S(state): S<State>, Authenticated(ctx): Authenticated, Path(before): Path<String>) -> ApiResult<Json<Value>> {
    state.authorize("os_compute_api:os-instance-usage-audit-log:show", &json!({}), &ctx)?;
    let when = parse_before(&before).ok_or_else(|| ApiError::bad_request(format!("Invalid timestamp for date {before}")))?;
    Ok(Json(json!({"instance_usage_audit_log": audit_log(&state, when).await?})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        parse_before(text).unwrap_or_default()
    }

    #[test]
    fn periods_are_the_last_completed_month() {
        assert_eq!(last_completed_month(at("2024-03-15 10:00:00")), (at("2024-02-01 00:00:00"), at("2024-03-01 00:00:00")));
        assert_eq!(last_completed_month(at("2024-03-01 00:00:00")), (at("2024-01-01 00:00:00"), at("2024-02-01 00:00:00")));
        assert_eq!(last_completed_month(at("2024-01-10 08:30:00.5")), (at("2023-12-01 00:00:00"), at("2024-01-01 00:00:00")));
        assert_eq!(last_completed_month(at("2024-02-01 00:00:00.000001")).1, at("2024-02-01 00:00:00"));
        assert!(parse_before("invalid_time").is_none() && parse_before("2024-01-01").is_none());
    }

    #[test]
    fn task_logs_are_summarised_per_host() {
        let hosts: BTreeSet<String> = ["a", "b", "c"].iter().map(|h| h.to_string()).collect();
        let (begin, end) = last_completed_month(at("2024-03-15 10:00:00"));
        let none = summary(begin, end, &hosts, &[]);
        assert_eq!(none["overall_status"], "0 of 3 hosts done. 0 errors.");
        assert_eq!((none["num_hosts_not_run"].as_i64(), none["hosts_not_run"].clone()), (Some(3), json!(["a", "b", "c"])));
        assert_eq!(none["period_beginning"], "2024-02-01 00:00:00");
        let log = |host: &str, state: &str| TaskLog { host: host.into(), state: state.into(), task_items: 4, errors: 1, message: "m".into() };
        let some = summary(begin, end, &hosts, &[log("a", "DONE"), log("b", "RUNNING")]);
        assert_eq!((some["num_hosts_done"].as_i64(), some["num_hosts_running"].as_i64(), some["total_instances"].as_i64()), (Some(1), Some(1), Some(8)));
        assert_eq!(some["hosts_not_run"], json!(["c"]));
        assert_eq!(some["log"]["a"], json!({"state": "DONE", "instances": 4, "errors": 1, "message": "m"}));
        let all = summary(begin, end, &hosts, &[log("a", "DONE"), log("b", "DONE"), log("c", "DONE")]);
        assert_eq!(all["overall_status"], "ALL hosts done. 3 errors.");
    }
}
