//! IPAM availability ranges: the free addresses of each subnet's allocation pools, kept as
//! inclusive ranges (`ipam_availability_ranges`, one row per range), as Neutron's IPAM kept
//! them before Newton. Choosing the lowest free address reads the subnet's first range and
//! shrinks it; taking a requested address splits the range holding it; releasing one merges
//! it back with its neighbours. Each costs a few indexed statements, whatever the number of
//! addresses allocated (reading every allocation per port slowed a /16 to ~20 ports/s).
//!
//! Addresses are stored as [`ipam::sort_key`] text (39 zero-padded digits), which sorts as the
//! addresses do on every backend and collation and holds IPv6's 128 bits.
//!
//! The ranges are derived data. `subnets.ipam_ranges_ready` says whether they are current;
//! they are (re)built from the pools, the gateway and `ipallocations` under the subnet's row
//! lock when it is 0: for subnets made before the ranges existed, after the pools or the
//! gateway change ([`invalidate`]), and, as a safety net, once when a subnet looks exhausted
//! ([`crate::service::ports`]). Every change runs under the subnet's allocation lock
//! ([`super::subnets::lock_for_allocation`]), inside the transaction that changes
//! `ipallocations`, so the ranges and the allocations always commit together.

use super::{subnets::Subnet, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::{self, from_sort_key, sort_key, Range};

/// Whether the subnet's ranges are current.
pub async fn ready(tx: &mut Tx, subnet_id: &str) -> NeutronResult<bool> {
    let row = tx
        .fetch_optional(
            "SELECT ipam_ranges_ready FROM subnets WHERE id = ?",
            &[Bind::Text(subnet_id)],
        )
        .await?;
    Ok(match row {
        Some(r) => r.i("ipam_ranges_ready")? == 1,
        None => false,
    })
}

/// Drops the subnet's ranges; the next allocation rebuilds them.
pub async fn invalidate(tx: &mut Tx, subnet_id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM ipam_availability_ranges WHERE subnet_id = ?",
        &[Bind::Text(subnet_id)],
    )
    .await?;
    tx.exec(
        "UPDATE subnets SET ipam_ranges_ready = 0 WHERE id = ?",
        &[Bind::Text(subnet_id)],
    )
    .await?;
    Ok(())
}

/// The subnet's pools as ranges.
pub fn pools_of(s: &Subnet) -> Vec<Range> {
    s.allocation_pools
        .iter()
        .filter_map(|(a, b)| {
            Some(Range {
                first: ipam::parse_ip(a)?.1,
                last: ipam::parse_ip(b)?.1,
            })
        })
        .collect()
}

/// Whether `ip` belongs in the subnet's ranges when free: inside a pool, not the gateway.
pub fn in_pools(s: &Subnet, ip: u128) -> bool {
    let gateway = s
        .gateway_ip
        .as_deref()
        .and_then(ipam::parse_ip)
        .map(|(_, g)| g);
    gateway != Some(ip) && pools_of(s).iter().any(|p| p.contains(ip))
}

/// Rebuilds the subnet's ranges from its pools, gateway and allocations (O(allocations)),
/// as they stand under its lock.
pub async fn rebuild(tx: &mut Tx, subnet_id: &str) -> NeutronResult<()> {
    let Some(s) = super::subnets::get(tx, subnet_id).await? else {
        return Ok(());
    };
    tx.exec(
        "DELETE FROM ipam_availability_ranges WHERE subnet_id = ?",
        &[Bind::Text(&s.id)],
    )
    .await?;
    let mut used: Vec<u128> = tx
        .fetch_all(
            &tx.latest("SELECT ip_address FROM ipallocations WHERE subnet_id = ?"),
            &[Bind::Text(&s.id)],
        )
        .await?
        .iter()
        .filter_map(|r| r.s("ip_address").ok())
        .filter_map(|t| ipam::parse_ip(&t).map(|(_, a)| a))
        .collect();
    if let Some((_, g)) = s.gateway_ip.as_deref().and_then(ipam::parse_ip) {
        used.push(g);
    }
    used.sort_unstable();
    for r in ipam::free_ranges(&pools_of(&s), &used) {
        insert(tx, &s.id, r).await?;
    }
    tx.exec(
        "UPDATE subnets SET ipam_ranges_ready = 1 WHERE id = ?",
        &[Bind::Text(&s.id)],
    )
    .await?;
    Ok(())
}

async fn insert(tx: &mut Tx, subnet_id: &str, r: Range) -> NeutronResult<()> {
    tx.exec(
        "INSERT INTO ipam_availability_ranges (subnet_id, first_ip, last_ip) VALUES (?, ?, ?)",
        &[
            Bind::Text(subnet_id),
            Bind::Text(&sort_key(r.first)),
            Bind::Text(&sort_key(r.last)),
        ],
    )
    .await?;
    Ok(())
}

fn range_of(row: &sqlx::any::AnyRow) -> NeutronResult<Range> {
    let bad = || NeutronError::internal("bad IPAM availability range");
    Ok(Range {
        first: from_sort_key(&row.s("first_ip")?).ok_or_else(bad)?,
        last: from_sort_key(&row.s("last_ip")?).ok_or_else(bad)?,
    })
}

/// The range starting at the highest address ≤ `ip` (the one holding `ip`, if any does).
async fn range_at_or_below(tx: &mut Tx, subnet_id: &str, ip: u128) -> NeutronResult<Option<Range>> {
    let row = tx
        .fetch_optional(
            "SELECT first_ip, last_ip FROM ipam_availability_ranges WHERE subnet_id = ? AND first_ip <= ? ORDER BY first_ip DESC LIMIT 1",
            &[Bind::Text(subnet_id), Bind::Text(&sort_key(ip))],
        )
        .await?;
    row.as_ref().map(range_of).transpose()
}

async fn set_first(
    tx: &mut Tx,
    subnet_id: &str,
    old_first: u128,
    first: u128,
) -> NeutronResult<()> {
    tx.exec(
        "UPDATE ipam_availability_ranges SET first_ip = ? WHERE subnet_id = ? AND first_ip = ?",
        &[
            Bind::Text(&sort_key(first)),
            Bind::Text(subnet_id),
            Bind::Text(&sort_key(old_first)),
        ],
    )
    .await?;
    Ok(())
}

async fn set_last(tx: &mut Tx, subnet_id: &str, first: u128, last: u128) -> NeutronResult<()> {
    tx.exec(
        "UPDATE ipam_availability_ranges SET last_ip = ? WHERE subnet_id = ? AND first_ip = ?",
        &[
            Bind::Text(&sort_key(last)),
            Bind::Text(subnet_id),
            Bind::Text(&sort_key(first)),
        ],
    )
    .await?;
    Ok(())
}

async fn remove(tx: &mut Tx, subnet_id: &str, first: u128) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM ipam_availability_ranges WHERE subnet_id = ? AND first_ip = ?",
        &[Bind::Text(subnet_id), Bind::Text(&sort_key(first))],
    )
    .await?;
    Ok(())
}

/// Takes the lowest free address of the subnet's pools; None when they are full.
pub async fn take_first(tx: &mut Tx, subnet_id: &str) -> NeutronResult<Option<u128>> {
    let row = tx
        .fetch_optional(
            "SELECT first_ip, last_ip FROM ipam_availability_ranges WHERE subnet_id = ? ORDER BY first_ip LIMIT 1",
            &[Bind::Text(subnet_id)],
        )
        .await?;
    let Some(r) = row.as_ref().map(range_of).transpose()? else {
        return Ok(None);
    };
    if r.first == r.last {
        remove(tx, subnet_id, r.first).await?;
    } else {
        set_first(tx, subnet_id, r.first, r.first + 1).await?;
    }
    Ok(Some(r.first))
}

/// Takes `ip` out of the range holding it (nothing when no range does: outside the pools).
pub async fn take(tx: &mut Tx, subnet_id: &str, ip: u128) -> NeutronResult<()> {
    let Some(r) = range_at_or_below(tx, subnet_id, ip).await? else {
        return Ok(());
    };
    if !r.contains(ip) {
        return Ok(());
    }
    match (r.first == ip, r.last == ip) {
        (true, true) => remove(tx, subnet_id, ip).await,
        (true, false) => set_first(tx, subnet_id, ip, ip + 1).await,
        (false, true) => set_last(tx, subnet_id, r.first, ip - 1).await,
        (false, false) => {
            set_last(tx, subnet_id, r.first, ip - 1).await?;
            insert(
                tx,
                subnet_id,
                Range {
                    first: ip + 1,
                    last: r.last,
                },
            )
            .await
        }
    }
}

/// Gives `ip` back (the caller checked it belongs in the pools), merged with the ranges
/// around it; nothing when it is free already.
pub async fn release(tx: &mut Tx, subnet_id: &str, ip: u128) -> NeutronResult<()> {
    let below = range_at_or_below(tx, subnet_id, ip).await?;
    if below.is_some_and(|r| r.contains(ip)) {
        return Ok(());
    }
    let left = below.filter(|r| ip.checked_sub(1) == Some(r.last));
    let right = match ip.checked_add(1) {
        Some(next) => tx
            .fetch_optional(
                "SELECT first_ip, last_ip FROM ipam_availability_ranges WHERE subnet_id = ? AND first_ip = ?",
                &[Bind::Text(subnet_id), Bind::Text(&sort_key(next))],
            )
            .await?
            .as_ref()
            .map(range_of)
            .transpose()?,
        None => None,
    };
    match (left, right) {
        (Some(l), Some(r)) => {
            remove(tx, subnet_id, r.first).await?;
            set_last(tx, subnet_id, l.first, r.last).await
        }
        (Some(l), None) => set_last(tx, subnet_id, l.first, ip).await,
        (None, Some(r)) => set_first(tx, subnet_id, r.first, ip).await,
        (None, None) => {
            insert(
                tx,
                subnet_id,
                Range {
                    first: ip,
                    last: ip,
                },
            )
            .await
        }
    }
}

/// Every range of the subnet, in order (for tests and checks).
pub async fn list(tx: &mut Tx, subnet_id: &str) -> NeutronResult<Vec<Range>> {
    tx.fetch_all(
        "SELECT first_ip, last_ip FROM ipam_availability_ranges WHERE subnet_id = ? ORDER BY first_ip",
        &[Bind::Text(subnet_id)],
    )
    .await?
    .iter()
    .map(range_of)
    .collect()
}

/// Gives back addresses `(subnet_id, ip)` that ports stop holding: each subnet is locked for
/// allocation (in id order) and, when its ranges are current, the addresses of its pools
/// return to them.
pub async fn release_all(tx: &mut Tx, addresses: &[(String, String)]) -> NeutronResult<()> {
    let mut subnet_ids: Vec<&String> = addresses.iter().map(|(s, _)| s).collect();
    subnet_ids.sort();
    subnet_ids.dedup();
    for sid in subnet_ids {
        super::subnets::lock_for_allocation(tx, sid).await?;
        if !ready(tx, sid).await? {
            continue;
        }
        let Some(s) = super::subnets::get(tx, sid).await? else {
            continue;
        };
        for (_, ip) in addresses.iter().filter(|(s, _)| s == sid) {
            if let Some((_, a)) = ipam::parse_ip(ip) {
                if in_pools(&s, a) {
                    release(tx, sid, a).await?;
                }
            }
        }
    }
    Ok(())
}
