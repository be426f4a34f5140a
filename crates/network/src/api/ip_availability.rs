//! `/v2.0/network-ip-availabilities`: per network and subnet, the addresses the allocation
//! pools hold and how many are in use (admins only, as in Neutron).

use super::query::ListQuery;
use super::{json, root::base_url, State};
use crate::db::{self, networks, subnets, Bind, Cols};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use monostack_auth::middleware::Authenticated;
use monostack_auth::AuthContext;
use serde_json::{json, Map, Value};

pub fn routes() -> Router<State> {
    Router::new()
        .route("/v2.0/network-ip-availabilities", get(list))
        .route("/v2.0/network-ip-availabilities/{id}", get(show))
}

/// The number of addresses in a subnet's pools (saturating at u64::MAX for huge IPv6 pools).
fn pool_size(s: &subnets::Subnet) -> u64 {
    let total: u128 = s
        .allocation_pools
        .iter()
        .filter_map(|(a, b)| {
            Some(
                ipam::parse_ip(b)?
                    .1
                    .saturating_sub(ipam::parse_ip(a)?.1)
                    .saturating_add(1),
            )
        })
        .fold(0u128, |acc, n| acc.saturating_add(n));
    u64::try_from(total).unwrap_or(u64::MAX)
}

/// `ip_version` filters the subnets, as Neutron's query does: with it, a network without a
/// subnet of that version is not listed at all.
async fn availabilities(
    state: &State,
    filter: Option<&str>,
    binds: &[Bind<'_>],
    ip_version: Option<i64>,
) -> NeutronResult<Vec<Map<String, Value>>> {
    let mut tx = db::read(&state.db).await?;
    let nets = networks::load(&mut tx, filter, binds).await?;
    let mut out = Vec::new();
    for n in nets {
        let mut subnet_views = Vec::new();
        let (mut total, mut used) = (0u64, 0u64);
        let all_subnets = subnets::load(&mut tx, Some("network_id = ?"), &[Bind::Text(&n.id)]).await?;
        let wanted: Vec<_> = all_subnets.into_iter().filter(|s| ip_version.is_none_or(|v| s.ip_version == v)).collect();
        if ip_version.is_some() && wanted.is_empty() {
            continue;
        }
        for s in wanted {
            let count = tx
                .fetch_optional(
                    "SELECT COUNT(*) AS n FROM ipallocations WHERE subnet_id = ?",
                    &[Bind::Text(&s.id)],
                )
                .await?
                .map(|r| r.i("n"))
                .transpose()?
                .unwrap_or(0);
            let count = u64::try_from(count).unwrap_or(0);
            let size = pool_size(&s);
            total = total.saturating_add(size);
            used = used.saturating_add(count);
            subnet_views.push(json!({"subnet_id": s.id, "subnet_name": s.name, "cidr": s.cidr, "ip_version": s.ip_version, "total_ips": size, "used_ips": count}));
        }
        if let Value::Object(m) = json!({
            "network_id": n.id, "network_name": n.name, "tenant_id": n.project_id, "project_id": n.project_id,
            "total_ips": total, "used_ips": used, "subnet_ip_availability": subnet_views,
        }) {
            out.push(m);
        }
    }
    Ok(out)
}

/// Splits `ip_version=N` off the query string (it filters subnets, not the listed objects).
fn take_ip_version(raw: Option<&str>) -> NeutronResult<(Option<i64>, Option<String>)> {
    let Some(raw) = raw else { return Ok((None, None)) };
    let mut version = None;
    let mut rest = Vec::new();
    for pair in raw.split('&') {
        match pair.strip_prefix("ip_version=") {
            Some(v) => {
                let n = v.parse::<i64>().ok().filter(|n| *n == 4 || *n == 6).ok_or_else(|| {
                    NeutronError::http_bad_request(format!("Invalid input for ip_version. Reason: {v} is not in valid_values."))
                })?;
                version = Some(n);
            }
            None => rest.push(pair),
        }
    }
    Ok((version, Some(rest.join("&"))))
}

fn admin_only(state: &State, ctx: &AuthContext) -> NeutronResult<()> {
    if state.is_admin(ctx) {
        Ok(())
    } else {
        Err(NeutronError::policy("rule:get_network_ip_availability"))
    }
}

async fn list(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> NeutronResult<Response> {
    admin_only(&state, &ctx)?;
    let (ip_version, raw) = take_ip_version(raw.as_deref())?;
    let q = ListQuery::parse(raw.as_deref())?;
    let all = availabilities(&state, None, &[], ip_version).await?;
    let url = format!(
        "{}/v2.0/network-ip-availabilities",
        base_url(&headers, &state)
    );
    let (page, _) = q.apply(all, &url)?;
    Ok(json(
        StatusCode::OK,
        json!({ "network_ip_availabilities": page }),
    ))
}

async fn show(
    axum::extract::State(state): axum::extract::State<State>,
    Authenticated(ctx): Authenticated,
    Path(id): Path<String>,
) -> NeutronResult<Response> {
    admin_only(&state, &ctx)?;
    let one = availabilities(&state, Some("id = ?"), &[Bind::Text(&id)], None)
        .await?
        .pop()
        .ok_or_else(|| NeutronError::network_not_found(&id))?;
    Ok(json(
        StatusCode::OK,
        json!({ "network_ip_availability": one }),
    ))
}
