//! Network segments and the reservation of their ids (VLAN ids, VNIs, GRE keys, one flat
//! network per physical network).
//!
//! A reservation first locks the type's row in `segment_locks` (see [`super`]), so concurrent
//! allocators of one type run one at a time on every backend; then it reads the ids in use
//! and takes the first free one of the configured ranges, in order. The unique key on
//! (network_type, physical_network, alloc_key) makes a double hand-out impossible even so.

use super::{Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ml2::{Ml2, NetworkType, Segment};

/// A stored segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRow {
    pub id: String,
    pub network_id: String,
    pub network_type: String,
    pub physical_network: Option<String>,
    pub segmentation_id: Option<i64>,
    pub segment_index: i64,
}

async fn lock_type(tx: &mut Tx, t: NetworkType) -> NeutronResult<()> {
    tx.exec(
        "UPDATE segment_locks SET alloc_generation = alloc_generation + 1 WHERE network_type = ?",
        &[Bind::Text(t.as_str())],
    )
    .await?;
    Ok(())
}

async fn taken(tx: &mut Tx, t: NetworkType, physnet: &str, key: i64) -> NeutronResult<bool> {
    Ok(tx
        .fetch_optional(
            &tx.latest("SELECT id FROM network_segments WHERE network_type = ? AND physical_network = ? AND alloc_key = ?"),
            &[Bind::Text(t.as_str()), Bind::Text(physnet), Bind::Int(key)],
        )
        .await?
        .is_some())
}

/// Reserves `segment` for `network_id`: a given id must be free (409 VlanIdInUse,
/// TunnelIdInUse, FlatNetworkInUse); an open id is allocated from the type's ranges in
/// order. Returns None when no id is left (the caller tries the next tenant type).
pub async fn reserve(
    tx: &mut Tx,
    ml2: &Ml2,
    network_id: &str,
    index: i64,
    segment: &Segment,
) -> NeutronResult<Option<SegmentRow>> {
    let t = segment.network_type;
    let driver = ml2.driver(t).ok_or_else(|| {
        NeutronError::invalid_input(format!("network_type value '{}' not supported", t.as_str()))
    })?;
    lock_type(tx, t).await?;
    let (physnet, key, segmentation_id) = match t {
        NetworkType::Local => (String::new(), None, None),
        NetworkType::Flat => {
            let physnet = segment.physical_network.clone().unwrap_or_default();
            if taken(tx, t, &physnet, 0).await? {
                return Err(NeutronError::flat_in_use(&physnet));
            }
            (physnet, Some(0), None)
        }
        NetworkType::Vlan | NetworkType::Vxlan | NetworkType::Gre => {
            match segment.segmentation_id {
                Some(id) => {
                    let physnet = segment.physical_network.clone().unwrap_or_default();
                    if taken(tx, t, &physnet, id).await? {
                        return Err(if t == NetworkType::Vlan {
                            NeutronError::vlan_in_use(id, &physnet)
                        } else {
                            NeutronError::tunnel_in_use(id)
                        });
                    }
                    (physnet, Some(id), Some(id))
                }
                None => {
                    let mut found = None;
                    for range in driver.tenant_ranges(segment.physical_network.as_deref()) {
                        let rows = tx
                        .fetch_all(
                            &tx.latest("SELECT alloc_key FROM network_segments WHERE network_type = ? AND physical_network = ? AND alloc_key >= ? AND alloc_key <= ? ORDER BY alloc_key"),
                            &[Bind::Text(t.as_str()), Bind::Text(&range.physical_network), Bind::Int(range.min), Bind::Int(range.max)],
                        )
                        .await?;
                        let mut candidate = range.min;
                        for row in &rows {
                            let used = row.i("alloc_key")?;
                            if used == candidate {
                                candidate += 1;
                            } else if used > candidate {
                                break;
                            }
                        }
                        if candidate <= range.max {
                            found = Some((range.physical_network.clone(), candidate));
                            break;
                        }
                    }
                    match found {
                        Some((physnet, id)) => (physnet, Some(id), Some(id)),
                        None => return Ok(None),
                    }
                }
            }
        }
    };
    let row = SegmentRow {
        id: uuid::Uuid::new_v4().to_string(),
        network_id: network_id.to_string(),
        network_type: t.as_str().to_string(),
        physical_network: if physnet.is_empty() {
            None
        } else {
            Some(physnet.clone())
        },
        segmentation_id,
        segment_index: index,
    };
    tx.exec(
        "INSERT INTO network_segments (id, network_id, network_type, physical_network, segmentation_id, alloc_key, segment_index) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &[
            Bind::Text(&row.id),
            Bind::Text(network_id),
            Bind::Text(t.as_str()),
            Bind::Text(&physnet),
            Bind::OptInt(segmentation_id),
            Bind::OptInt(key),
            Bind::Int(index),
        ],
    )
    .await?;
    Ok(Some(row))
}

/// The segments of `network_ids`, in segment order.
pub async fn of_networks(tx: &mut Tx, network_ids: &[String]) -> NeutronResult<Vec<SegmentRow>> {
    let mut out = Vec::new();
    for chunk in network_ids.chunks(500) {
        let sql = format!(
            "SELECT id, network_id, network_type, physical_network, segmentation_id, segment_index FROM network_segments WHERE network_id IN {} ORDER BY segment_index",
            super::placeholders(chunk.len())
        );
        let binds: Vec<Bind> = chunk.iter().map(|i| Bind::Text(i)).collect();
        for row in tx.fetch_all(&sql, &binds).await? {
            out.push(SegmentRow {
                id: row.s("id")?,
                network_id: row.s("network_id")?,
                network_type: row.s("network_type")?,
                physical_network: row.s("physical_network").map(|p| {
                    if p.is_empty() {
                        None
                    } else {
                        Some(p)
                    }
                })?,
                segmentation_id: row.oi("segmentation_id")?,
                segment_index: row.i("segment_index")?,
            });
        }
    }
    Ok(out)
}

/// Releases every segment of a network (its ids become free for the next network).
pub async fn release(tx: &mut Tx, network_id: &str) -> NeutronResult<()> {
    tx.exec(
        "DELETE FROM network_segments WHERE network_id = ?",
        &[Bind::Text(network_id)],
    )
    .await?;
    Ok(())
}
