//! `POST /reshaper` (1.30+): replaces inventories of several providers and moves the
//! allocations that used them, in one transaction, for when a tree changes shape (say, VGPU
//! inventory moving from a compute node to a new child provider) while in use.

use super::allocations::{write_in, ConsumerWrite};
use super::inventories::{replace_in, validate};
use crate::db::{self, allocations, inventories, providers, usages, Tx};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::types::Inventory;
use crate::PlacementService;
use std::collections::BTreeMap;

/// The new inventories of one provider, at the generation the caller saw.
#[derive(Debug, Clone)]
pub struct ReshapeInventories {
    pub generation: i64,
    pub inventories: BTreeMap<String, Inventory>,
}

impl PlacementService {
    pub async fn reshape(&self, inventories: BTreeMap<String, ReshapeInventories>, writes: Vec<ConsumerWrite>) -> PlacementResult<()> {
        for (uuid, r) in &inventories {
            for (rc, inv) in &r.inventories {
                validate(uuid, rc, inv, true)?;
            }
        }
        db::write(&self.db, |tx| {
            let (inventories, writes) = (inventories.clone(), writes.clone());
            Box::pin(async move {
                for (uuid, r) in &inventories {
                    match providers::bump_generation(tx, uuid, Some(r.generation)).await? {
                        Some(_) => {}
                        None if providers::get_in(tx, uuid).await?.is_none() => {
                            return Err(PlacementError::bad_request(format!("Resource provider {uuid} in inventories not found")))
                        }
                        None => return Err(PlacementError::generation_changed()),
                    }
                    replace_in(tx, uuid, &r.inventories, false).await?;
                }
                write_in(tx, &writes).await?;
                for uuid in inventories.keys() {
                    check_allocations_fit(tx, uuid).await?;
                }
                Ok(())
            })
        })
        .await?;
        tracing::info!("reshaped {} providers and {} consumers", inventories.len(), writes.len());
        Ok(())
    }
}

/// After a reshape every allocation left on `uuid` must still have inventory to stand on.
async fn check_allocations_fit(tx: &mut Tx, uuid: &str) -> PlacementResult<()> {
    let inv = inventories::of_provider_in(tx, uuid).await?;
    for rc in allocations::classes_in_use(tx, uuid).await? {
        if !inv.contains_key(&rc) {
            return Err(PlacementError::conflict(
                ConflictKind::InventoryInUse,
                format!("Unable to reshape: Inventory for '{rc}' on resource provider '{uuid}' in use."),
            ));
        }
    }
    for (rc, used) in usages::of_provider_in(tx, uuid).await? {
        if let Some(i) = inv.get(&rc) {
            if (used as f64) > (i.total - i.reserved) as f64 * i.allocation_ratio {
                return Err(PlacementError::conflict(
                    ConflictKind::Capacity,
                    format!("Unable to reshape: allocations of '{rc}' on resource provider '{uuid}' would exceed the capacity."),
                ));
            }
        }
    }
    Ok(())
}
