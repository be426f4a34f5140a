//! Inventories: what a provider offers, replaced whole or one class at a time, always under
//! the provider's generation.

use crate::db::{self, allocations, inventories, providers, resource_classes, usages, Tx};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::standard;
use crate::types::{Inventory, ProviderInventories, MAX_INT};
use crate::PlacementService;
use std::collections::BTreeMap;

/// Checks the field ranges placement's schema imposes and the capacity rule of the version:
/// before 1.26 `reserved` must be below `total`, from 1.26 it may equal it.
pub fn validate(uuid: &str, rc: &str, inv: &Inventory, reserved_may_equal_total: bool) -> PlacementResult<()> {
    if !standard::is_valid_name(rc) {
        return Err(PlacementError::bad_request(format!("JSON does not validate: '{rc}' is not a valid resource class name")));
    }
    let ranges = [("total", inv.total, 1), ("reserved", inv.reserved, 0), ("min_unit", inv.min_unit, 1), ("max_unit", inv.max_unit, 1), ("step_size", inv.step_size, 1)];
    for (field, value, min) in ranges {
        if value < min || value > MAX_INT {
            return Err(PlacementError::bad_request(format!("JSON does not validate: {field} {value} is not between {min} and {MAX_INT}")));
        }
    }
    if !(inv.allocation_ratio.is_finite() && inv.allocation_ratio >= 0.0 && inv.allocation_ratio <= 3.40282e38) {
        return Err(PlacementError::bad_request(format!("JSON does not validate: allocation_ratio {} is out of range", inv.allocation_ratio)));
    }
    let capacity = inv.capacity();
    let (bad, what) = if reserved_may_equal_total { (capacity < 0, "greater than") } else { (capacity <= 0, "greater than or equal to") };
    if bad {
        return Err(PlacementError::bad_request(format!(
            "Unable to update inventory for resource provider {uuid}: Invalid inventory for '{rc}' on resource provider '{uuid}'. The reserved value is {what} total."
        )));
    }
    Ok(())
}

/// Locks `uuid` by bumping its generation (only if it still is `expected`, when given).
async fn lock(tx: &mut Tx, uuid: &str, expected: Option<i64>) -> PlacementResult<i64> {
    match providers::bump_generation(tx, uuid, expected).await? {
        Some(g) => Ok(g),
        None if providers::get_in(tx, uuid).await?.is_none() => Err(providers::not_found(uuid)),
        None => Err(PlacementError::generation_changed()),
    }
}

async fn require_class(tx: &mut Tx, uuid: &str, rc: &str) -> PlacementResult<()> {
    if resource_classes::get_in(tx, rc).await?.is_none() {
        return Err(PlacementError::bad_request(format!(
            "Unknown resource class in inventory for resource provider {uuid}: No such resource class {rc}."
        )));
    }
    Ok(())
}

fn warn_over_capacity(uuid: &str, rc: &str, inv: &Inventory, used: i64) {
    if used > inv.capacity() {
        tracing::warn!("resource provider {uuid} is now over-capacity for {rc}");
    }
}

/// Replaces the inventories of `uuid` inside `tx` (already locked). `check_in_use` refuses to
/// drop a class with allocations; the reshaper turns it off because it moves them in the
/// same transaction.
pub async fn replace_in(tx: &mut Tx, uuid: &str, wanted: &BTreeMap<String, Inventory>, check_in_use: bool) -> PlacementResult<()> {
    let existing = inventories::of_provider_in(tx, uuid).await?;
    let removed: Vec<&String> = existing.keys().filter(|rc| !wanted.contains_key(*rc)).collect();
    if check_in_use && !removed.is_empty() {
        let in_use = allocations::classes_in_use(tx, uuid).await?;
        let busy: Vec<&str> = removed.iter().filter(|rc| in_use.contains(rc)).map(|s| s.as_str()).collect();
        if !busy.is_empty() {
            return Err(PlacementError::conflict(
                ConflictKind::InventoryInUse,
                format!("update conflict: Inventory for '{}' on resource provider '{uuid}' in use.", busy.join(", ")),
            ));
        }
    }
    for rc in removed {
        inventories::delete(tx, uuid, rc).await?;
    }
    let used = usages::of_provider_in(tx, uuid).await?;
    for (rc, inv) in wanted {
        require_class(tx, uuid, rc).await?;
        if existing.contains_key(rc) {
            inventories::update(tx, uuid, rc, inv).await?;
        } else {
            inventories::insert(tx, uuid, rc, inv).await?;
        }
        warn_over_capacity(uuid, rc, inv, used.get(rc).copied().unwrap_or(0));
    }
    Ok(())
}

impl PlacementService {
    pub async fn inventories(&self, uuid: &str) -> PlacementResult<ProviderInventories> {
        let rp = self.provider(uuid).await?;
        Ok(ProviderInventories { resource_provider_generation: rp.generation, inventories: inventories::of_provider(&self.db, uuid).await? })
    }

    /// `PUT /resource_providers/{uuid}/inventories`: the whole set, at `generation`.
    pub async fn set_inventories(&self, uuid: &str, generation: i64, wanted: BTreeMap<String, Inventory>, reserved_may_equal_total: bool) -> PlacementResult<ProviderInventories> {
        for (rc, inv) in &wanted {
            validate(uuid, rc, inv, reserved_may_equal_total)?;
        }
        let gen = db::write(&self.db, |tx| {
            let (uuid, wanted) = (uuid.to_string(), wanted.clone());
            Box::pin(async move {
                let gen = lock(tx, &uuid, Some(generation)).await?;
                replace_in(tx, &uuid, &wanted, true).await?;
                Ok(gen)
            })
        })
        .await?;
        Ok(ProviderInventories { resource_provider_generation: gen, inventories: wanted })
    }

    /// `POST /resource_providers/{uuid}/inventories`: one new class.
    pub async fn add_inventory(&self, uuid: &str, rc: &str, inv: Inventory, reserved_may_equal_total: bool) -> PlacementResult<i64> {
        self.provider(uuid).await?;
        validate(uuid, rc, &inv, reserved_may_equal_total)?;
        db::write(&self.db, |tx| {
            let (uuid, rc, inv) = (uuid.to_string(), rc.to_string(), inv.clone());
            Box::pin(async move {
                let gen = lock(tx, &uuid, None).await?;
                if resource_classes::get_in(tx, &rc).await?.is_none() {
                    return Err(PlacementError::bad_request(format!(
                        "Unable to create inventory for resource provider {uuid}: No such resource class {rc}."
                    )));
                }
                if inventories::of_provider_in(tx, &uuid).await?.contains_key(&rc) {
                    return Err(PlacementError::conflict(
                        ConflictKind::Generation,
                        format!("Update conflict: Inventory for '{rc}' on resource provider '{uuid}' already exists."),
                    ));
                }
                inventories::insert(tx, &uuid, &rc, &inv).await?;
                Ok(gen)
            })
        })
        .await
    }

    /// `PUT /resource_providers/{uuid}/inventories/{rc}`: one existing class, at `generation`.
    pub async fn update_inventory(&self, uuid: &str, rc: &str, generation: i64, inv: Inventory, reserved_may_equal_total: bool) -> PlacementResult<i64> {
        validate(uuid, rc, &inv, reserved_may_equal_total)?;
        db::write(&self.db, |tx| {
            let (uuid, rc, inv) = (uuid.to_string(), rc.to_string(), inv.clone());
            Box::pin(async move {
                let gen = lock(tx, &uuid, Some(generation)).await?;
                if inventories::update(tx, &uuid, &rc, &inv).await? == 0 {
                    return Err(PlacementError::bad_request(format!(
                        "No inventory record with resource class for resource provider {uuid}: No inventory of class {rc} found."
                    )));
                }
                let used = usages::of_provider_in(tx, &uuid).await?;
                warn_over_capacity(&uuid, &rc, &inv, used.get(&rc).copied().unwrap_or(0));
                Ok(gen)
            })
        })
        .await
    }

    /// `DELETE /resource_providers/{uuid}/inventories/{rc}`.
    pub async fn delete_inventory(&self, uuid: &str, rc: &str) -> PlacementResult<()> {
        db::write(&self.db, |tx| {
            let (uuid, rc) = (uuid.to_string(), rc.to_string());
            Box::pin(async move {
                lock(tx, &uuid, None).await?;
                if allocations::classes_in_use(tx, &uuid).await?.contains(&rc) {
                    return Err(PlacementError::conflict(
                        ConflictKind::InventoryInUse,
                        format!("Unable to delete inventory of class {rc}: Inventory for '{rc}' on resource provider '{uuid}' in use."),
                    ));
                }
                if inventories::delete(tx, &uuid, &rc).await? == 0 {
                    return Err(PlacementError::not_found(format!("No inventory of class {rc} found for delete")));
                }
                Ok(())
            })
        })
        .await
    }

    /// `DELETE /resource_providers/{uuid}/inventories` (1.5+), and the client's clearing.
    pub async fn delete_inventories(&self, uuid: &str, generation: Option<i64>) -> PlacementResult<i64> {
        db::write(&self.db, |tx| {
            let uuid = uuid.to_string();
            Box::pin(async move {
                let gen = lock(tx, &uuid, generation).await?;
                replace_in(tx, &uuid, &BTreeMap::new(), true).await.map_err(|e| match e {
                    PlacementError::Conflict { kind: ConflictKind::InventoryInUse, message } => PlacementError::conflict(
                        ConflictKind::InventoryInUse,
                        message.trim_start_matches("update conflict: ").to_string(),
                    ),
                    other => other,
                })?;
                Ok(gen)
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_equal_to_total_depends_on_the_version() {
        let inv = Inventory { reserved: 4, ..Inventory::of(4) };
        assert!(validate("rp", "VCPU", &inv, false).is_err());
        assert!(validate("rp", "VCPU", &inv, true).is_ok());
        let over = Inventory { reserved: 5, ..Inventory::of(4) };
        assert!(validate("rp", "VCPU", &over, true).is_err());
        assert!(validate("rp", "vcpu", &Inventory::of(1), true).is_err());
        assert!(validate("rp", "VCPU", &Inventory { step_size: 0, ..Inventory::of(1) }, true).is_err());
    }
}
