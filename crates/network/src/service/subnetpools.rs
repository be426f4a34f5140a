//! Subnet pools: prefixes subnets are carved from, in order, with default/min/max prefix
//! lengths; a subnet asks for a CIDR inside the pool or just a prefix length. Allocation runs
//! under the pool's row lock, so concurrent subnets never get overlapping blocks.

use crate::db::{self, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::Cidr;
use crate::service::address_scopes;
use crate::NetworkService;
use monostack_db::flag;

#[derive(Debug, Clone, PartialEq)]
pub struct SubnetPool {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub description: String,
    pub ip_version: i64,
    pub prefixes: Vec<String>,
    pub default_prefixlen: i64,
    pub min_prefixlen: i64,
    pub max_prefixlen: i64,
    pub shared: bool,
    pub is_default: bool,
    pub default_quota: Option<i64>,
    pub address_scope_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub revision_number: i64,
}

const COLUMNS: &str = "id, project_id, name, description, ip_version, prefixes, default_prefixlen, min_prefixlen, max_prefixlen, shared, is_default, default_quota, address_scope_id, created_at, updated_at, revision_number";

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found(
        "SubnetPoolNotFound",
        format!("Subnet pool {id} could not be found."),
    )
}

pub async fn load(
    tx: &mut Tx,
    filter: Option<&str>,
    binds: &[Bind<'_>],
) -> NeutronResult<Vec<SubnetPool>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM subnetpools WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM subnetpools ORDER BY created_at, id"),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        out.push(SubnetPool {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            name: row.s("name")?,
            description: row.s("description")?,
            ip_version: row.i("ip_version")?,
            prefixes: serde_json::from_value(row.doc("prefixes")?)
                .map_err(NeutronError::internal)?,
            default_prefixlen: row.i("default_prefixlen")?,
            min_prefixlen: row.i("min_prefixlen")?,
            max_prefixlen: row.i("max_prefixlen")?,
            shared: row.b("shared")?,
            is_default: row.b("is_default")?,
            default_quota: row.oi("default_quota")?,
            address_scope_id: row.os("address_scope_id")?,
            created_at: row.i("created_at")?,
            updated_at: row.i("updated_at")?,
            revision_number: row.i("revision_number")?,
        });
    }
    Ok(out)
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<SubnetPool> {
    load(tx, Some("id = ?"), &[Bind::Text(id)])
        .await?
        .pop()
        .ok_or_else(|| not_found(id))
}

/// Validates prefixes (CIDRs of one version, at least one) and the prefix-length bounds;
/// returns the prefixes normalized and sorted, without any contained in another.
pub fn check(
    prefixes: &[String],
    ip_version: Option<i64>,
    default: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
) -> NeutronResult<(i64, Vec<String>, i64, i64, i64)> {
    if prefixes.is_empty() {
        return Err(NeutronError::bad(
            "EmptySubnetPoolPrefixList",
            "Empty subnet pool prefix list.",
        ));
    }
    let mut cidrs = Vec::new();
    for p in prefixes {
        let c = Cidr::parse(p).map_err(|reason| {
            NeutronError::http_bad_request(format!("Invalid input for prefixes. Reason: {reason}."))
        })?;
        cidrs.push(c);
    }
    let version = i64::from(cidrs[0].version);
    if cidrs.iter().any(|c| i64::from(c.version) != version)
        || ip_version.is_some_and(|v| v != version)
    {
        return Err(NeutronError::bad(
            "PrefixVersionMismatch",
            "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
        ));
    }
    cidrs.sort_by_key(|c| (c.first(), c.prefix));
    let mut kept: Vec<Cidr> = Vec::new();
    for c in cidrs {
        if !kept
            .iter()
            .any(|k| k.contains(c.first()) && k.contains(c.last()))
        {
            kept.push(c);
        }
    }
    let bits = if version == 4 { 32 } else { 128 };
    let min = min.unwrap_or(if version == 4 { 8 } else { 64 });
    let max = max.unwrap_or(bits);
    let default = default.unwrap_or(min);
    if !(0..=bits).contains(&min) || !(0..=bits).contains(&max) {
        return Err(NeutronError::bad(
            "UnsupportedMinSubnetPoolPrefix",
            format!("Prefix '{min}' not supported in IPv{version} pool."),
        ));
    }
    if min > max {
        return Err(NeutronError::bad(
            "IllegalSubnetPoolPrefixBounds",
            format!("Illegal prefix bounds: min_prefixlen={min}, max_prefixlen={max}."),
        ));
    }
    if default < min || default > max {
        return Err(NeutronError::bad(
            "IllegalSubnetPoolPrefixBounds",
            format!("Illegal prefix bounds: default_prefixlen={default}, min_prefixlen={min}."),
        ));
    }
    Ok((
        version,
        kept.iter().map(|c| c.to_string()).collect(),
        default,
        min,
        max,
    ))
}

/// The CIDR a subnet gets from `pool_id`: the one asked (inside the pool, free) or the first
/// free block of the asked (or default) prefix length, in prefix order.
pub async fn allocate(
    tx: &mut Tx,
    pool_id: &str,
    ip_version: i64,
    cidr: Option<Cidr>,
    prefixlen: Option<u8>,
) -> NeutronResult<Cidr> {
    tx.exec(
        "UPDATE subnetpools SET alloc_generation = alloc_generation + 1 WHERE id = ?",
        &[Bind::Text(pool_id)],
    )
    .await?;
    let pool = must_get(tx, pool_id).await?;
    if pool.ip_version != ip_version {
        return Err(NeutronError::bad_request(
            "subnets",
            format!(
                "Cannot allocate IPv{ip_version} subnet from IPv{} subnet pool",
                pool.ip_version
            ),
        ));
    }
    let prefixes: Vec<Cidr> = pool
        .prefixes
        .iter()
        .filter_map(|p| Cidr::parse(p).ok())
        .collect();
    let rows = tx
        .fetch_all(
            &tx.latest("SELECT cidr FROM subnets WHERE subnetpool_id = ?"),
            &[Bind::Text(pool_id)],
        )
        .await?;
    let mut used: Vec<Cidr> = rows
        .iter()
        .filter_map(|r| r.s("cidr").ok())
        .filter_map(|c| Cidr::parse(&c).ok())
        .collect();
    used.sort_by_key(|c| c.first());
    let len = i64::from(
        cidr.map(|c| c.prefix)
            .or(prefixlen)
            .unwrap_or(u8::try_from(pool.default_prefixlen).unwrap_or(0)),
    );
    if len < pool.min_prefixlen {
        return Err(NeutronError::bad(
            "MinPrefixSubnetAllocationError",
            format!(
                "Unable to allocate subnet with prefix length {len}, minimum allowed prefix is {}.",
                pool.min_prefixlen
            ),
        ));
    }
    if len > pool.max_prefixlen {
        return Err(NeutronError::bad(
            "MaxPrefixSubnetAllocationError",
            format!(
                "Unable to allocate subnet with prefix length {len}, maximum allowed prefix is {}.",
                pool.max_prefixlen
            ),
        ));
    }
    let no_room = || {
        NeutronError::conflict("SubnetAllocationError", "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.")
    };
    if let Some(c) = cidr {
        if !prefixes
            .iter()
            .any(|p| p.contains(c.first()) && p.contains(c.last()))
            || used.iter().any(|u| u.overlaps(&c))
        {
            return Err(no_room());
        }
        return Ok(c);
    }
    let version = u8::try_from(ip_version).unwrap_or(4);
    let bits: u32 = if version == 4 { 32 } else { 128 };
    let host_bits = bits - u32::try_from(len).unwrap_or(0);
    let size: u128 = if host_bits >= 128 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    for p in &prefixes {
        if i64::from(p.prefix) > len {
            continue;
        }
        let mut candidate = p.first();
        loop {
            let last = candidate.saturating_add(size - 1);
            if last > p.last() || last < candidate {
                break;
            }
            match used
                .iter()
                .find(|u| u.first() <= last && candidate <= u.last())
            {
                None => {
                    let text = format!("{}/{len}", crate::ipam::format_ip(version, candidate));
                    return Cidr::parse(&text).map_err(NeutronError::internal);
                }
                Some(u) => {
                    // Past the block in the way, aligned to our size.
                    let next = u.last().saturating_add(1);
                    let aligned = if size == u128::MAX {
                        break;
                    } else {
                        next.div_ceil(size).saturating_mul(size)
                    };
                    if aligned <= candidate {
                        break;
                    }
                    candidate = aligned;
                }
            }
        }
    }
    Err(NeutronError::conflict(
        "SubnetAllocationError",
        format!(
            "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /{len}."
        ),
    ))
}

/// Who asks: the caller's project and whether it is an admin (address scope checks).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub project: &'a str,
    pub admin: bool,
}

pub async fn insert(svc: &NetworkService, pool: SubnetPool, caller: Caller<'_>) -> NeutronResult<SubnetPool> {
    db::write(&svc.db, |tx, _| {
        let p = &pool;
        Box::pin(async move {
            if let Some(scope) = &p.address_scope_id {
                address_scopes::check_membership(tx, scope, &p.id, p.ip_version, &p.prefixes, caller.project, caller.admin).await?;
            }
            if p.is_default {
                clear_default(tx, p.ip_version).await?;
            }
            let prefixes = serde_json::to_string(&p.prefixes).map_err(NeutronError::internal)?;
            db::fit("prefixes", &prefixes, 4000)?;
            tx.exec(
                "INSERT INTO subnetpools (id, project_id, name, description, ip_version, prefixes, default_prefixlen, min_prefixlen, max_prefixlen, shared, is_default, default_quota, address_scope_id, alloc_generation, created_at, updated_at, revision_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                &[
                    Bind::Text(&p.id),
                    Bind::Text(&p.project_id),
                    Bind::Text(&p.name),
                    Bind::Text(&p.description),
                    Bind::Int(p.ip_version),
                    Bind::Text(&prefixes),
                    Bind::Int(p.default_prefixlen),
                    Bind::Int(p.min_prefixlen),
                    Bind::Int(p.max_prefixlen),
                    Bind::Int(flag(p.shared)),
                    Bind::Int(flag(p.is_default)),
                    Bind::OptInt(p.default_quota),
                    Bind::OptText(p.address_scope_id.as_deref()),
                    Bind::Int(p.created_at),
                    Bind::Int(p.updated_at),
                    Bind::Int(p.revision_number),
                ],
            )
            .await?;
            must_get(tx, &p.id).await
        })
    })
    .await
}

/// 400 NetworkAddressScopeAffinityError when a network with a subnet from pool `id` has a
/// subnet of the same IP version from elsewhere: re-scoping the pool would split it.
async fn check_network_affinity(tx: &mut Tx, id: &str, ip_version: i64) -> NeutronResult<()> {
    let found = tx
        .fetch_optional(
            "SELECT o.id FROM subnets s JOIN subnets o ON o.network_id = s.network_id WHERE s.subnetpool_id = ? AND o.ip_version = ? AND (o.subnetpool_id IS NULL OR o.subnetpool_id <> ?)",
            &[Bind::Text(id), Bind::Int(ip_version), Bind::Text(id)],
        )
        .await?;
    if found.is_some() {
        return Err(NeutronError::bad("NetworkAddressScopeAffinityError", "Subnets of the same address family hosted on the same network must all participate in the same address scope."));
    }
    Ok(())
}

async fn clear_default(tx: &mut Tx, ip_version: i64) -> NeutronResult<()> {
    tx.exec(
        "UPDATE subnetpools SET is_default = 0 WHERE ip_version = ? AND is_default = 1",
        &[Bind::Int(ip_version)],
    )
    .await?;
    Ok(())
}

/// Saves an update; the prefixes may only grow (every old prefix inside a new one). A pool
/// in a shared scope of another project is the scope owner's to change (400); a pool joining
/// or staying in a scope is checked against it, and may only move to another scope when every
/// subnet of its IP version on its subnets' networks comes from it (Neutron's network
/// affinity: a network is in one scope per IP version).
pub async fn save(
    svc: &NetworkService,
    id: &str,
    caller: Caller<'_>,
    change: &(dyn Fn(&mut SubnetPool) -> NeutronResult<()> + Sync),
) -> NeutronResult<SubnetPool> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let old = must_get(tx, id).await?;
            let mut p = old.clone();
            change(&mut p)?;
            if let Some(scope) = &old.address_scope_id {
                let owned = match address_scopes::load(tx, Some("id = ?"), &[Bind::Text(scope)]).await?.pop() {
                    Some(s) => s.project_id == caller.project,
                    None => true,
                };
                if !caller.admin && !owned {
                    return Err(NeutronError::bad(
                        "IllegalSubnetPoolUpdate",
                        format!("Illegal subnetpool update : subnetpool {id} cannot be updated when associated with shared address scope {scope}."),
                    ));
                }
            }
            if let Some(scope) = &p.address_scope_id {
                address_scopes::check_membership(tx, scope, id, p.ip_version, &p.prefixes, caller.project, caller.admin).await?;
            }
            if p.address_scope_id != old.address_scope_id {
                check_network_affinity(tx, id, p.ip_version).await?;
            }
            let olds: Vec<Cidr> = old.prefixes.iter().filter_map(|c| Cidr::parse(c).ok()).collect();
            let news: Vec<Cidr> = p.prefixes.iter().filter_map(|c| Cidr::parse(c).ok()).collect();
            if !olds.iter().all(|o| news.iter().any(|n| n.contains(o.first()) && n.contains(o.last()))) {
                return Err(NeutronError::bad("IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes."));
            }
            if p.is_default && !old.is_default {
                clear_default(tx, p.ip_version).await?;
            }
            let prefixes = serde_json::to_string(&p.prefixes).map_err(NeutronError::internal)?;
            db::fit("prefixes", &prefixes, 4000)?;
            p.revision_number += 1;
            p.updated_at = monostack_common::time::now_micros();
            tx.exec(
                "UPDATE subnetpools SET name = ?, description = ?, prefixes = ?, default_prefixlen = ?, min_prefixlen = ?, max_prefixlen = ?, is_default = ?, default_quota = ?, address_scope_id = ?, updated_at = ?, revision_number = ? WHERE id = ?",
                &[
                    Bind::Text(&p.name),
                    Bind::Text(&p.description),
                    Bind::Text(&prefixes),
                    Bind::Int(p.default_prefixlen),
                    Bind::Int(p.min_prefixlen),
                    Bind::Int(p.max_prefixlen),
                    Bind::Int(flag(p.is_default)),
                    Bind::OptInt(p.default_quota),
                    Bind::OptText(p.address_scope_id.as_deref()),
                    Bind::Int(p.updated_at),
                    Bind::Int(p.revision_number),
                    Bind::Text(id),
                ],
            )
            .await?;
            Ok(p)
        })
    })
    .await
}

/// Deletes a pool no subnet was allocated from (409 SubnetPoolInUse otherwise).
pub async fn delete(
    svc: &NetworkService,
    id: &str,
    check: &(dyn Fn(&SubnetPool) -> NeutronResult<()> + Sync),
) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let p = must_get(tx, id).await?;
            check(&p)?;
            if tx.fetch_optional("SELECT id FROM subnets WHERE subnetpool_id = ?", &[Bind::Text(id)]).await?.is_some() {
                return Err(NeutronError::conflict("SubnetPoolInUse", format!("Unable to complete operation on subnet pool {id}. Subnet pool has existing allocations.")));
            }
            crate::db::tags::remove_all(tx, "subnetpools", id).await?;
            tx.exec("DELETE FROM subnetpools WHERE id = ?", &[Bind::Text(id)]).await?;
            Ok(())
        })
    })
    .await
}
