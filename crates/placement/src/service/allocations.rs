//! Allocations: replacing one or several consumers' allocations atomically, with consumer
//! generations and capacity checks that stay right under concurrent writers (see
//! [`crate::db`] for the locking).

use crate::db::{self, allocations, consumers, consumers::Consumer, inventories, providers, resource_classes, usages, Tx};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::types::{AllocationResources, ConsumerAllocations};
use crate::PlacementService;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How a write treats the consumer's generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenerationCheck {
    /// Before 1.28: last writer wins.
    Unchecked,
    /// The generation the caller saw; None means "the consumer has no allocations".
    Expect(Option<i64>),
}

/// The new allocations of one consumer (empty to remove them all).
#[derive(Debug, Clone)]
pub struct ConsumerWrite {
    pub consumer_uuid: String,
    pub project_id: String,
    pub user_id: String,
    pub generation: GenerationCheck,
    /// Set from 1.38; None keeps the consumer's current type.
    pub consumer_type: Option<String>,
    /// Provider → class → amount.
    pub allocations: BTreeMap<String, BTreeMap<String, i64>>,
}

/// The allocations on one provider: its generation and, per consumer, the resources and the
/// consumer's generation.
#[derive(Debug, Clone, Default)]
pub struct ProviderAllocations {
    pub resource_provider_generation: i64,
    pub allocations: BTreeMap<String, (BTreeMap<String, i64>, Option<i64>)>,
}

fn capacity_error(rc: &str, rp: &str, why: &str) -> PlacementError {
    PlacementError::conflict(
        ConflictKind::Capacity,
        format!("Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider '{rp}'. The requested amount would {why}."),
    )
}

fn generation_conflict(expected: Option<i64>, got: Option<i64>) -> PlacementError {
    let show = |g: Option<i64>| g.map(|g| g.to_string());
    PlacementError::conflict(
        ConflictKind::Generation,
        format!(
            "consumer generation conflict - expected {} but got {}",
            show(expected).unwrap_or_else(|| "null".into()),
            show(got).unwrap_or_else(|| "None".into())
        ),
    )
}

/// Replaces the allocations of every consumer in `writes` inside `tx`.
pub async fn write_in(tx: &mut Tx, writes: &[ConsumerWrite]) -> PlacementResult<()> {
    // 1. Lock every provider receiving allocations, in a fixed order.
    let targets: BTreeSet<&str> = writes.iter().flat_map(|w| w.allocations.keys().map(String::as_str)).collect();
    for rp in &targets {
        if providers::bump_generation(tx, rp, None).await?.is_none() {
            return Err(PlacementError::bad_request(format!("Allocation for resource provider '{rp}' that does not exist.")));
        }
    }
    let mut usage_before: HashMap<(String, String), i64> = HashMap::new();
    for rp in &targets {
        for (rc, used) in usages::of_provider_in(tx, rp).await? {
            usage_before.insert((rp.to_string(), rc), used);
        }
    }
    // 2. Check and record each consumer, dropping its current allocations.
    let mut released: HashMap<(String, String), i64> = HashMap::new();
    for w in writes {
        for rc in w.allocations.values().flat_map(|r| r.keys()) {
            if resource_classes::get_in(tx, rc).await?.is_none() {
                return Err(PlacementError::bad_request(format!(
                    "Unable to allocate inventory for consumer {}: No such resource class {rc}.",
                    w.consumer_uuid
                )));
            }
        }
        let old = allocations::of_consumer_in(tx, &w.consumer_uuid).await?;
        let old_providers: BTreeSet<&str> = old.iter().map(|a| a.provider_uuid.as_str()).filter(|p| !targets.contains(p)).collect();
        for rp in old_providers {
            providers::bump_generation(tx, rp, None).await?;
        }
        for a in &old {
            *released.entry((a.provider_uuid.clone(), a.resource_class.clone())).or_default() += a.used;
        }
        record_consumer(tx, w).await?;
        allocations::delete_of_consumer(tx, &w.consumer_uuid).await?;
    }
    // 3. Check the new amounts against each inventory, all consumers together.
    let mut wanted: BTreeMap<(&str, &str), i64> = BTreeMap::new();
    for w in writes {
        for (rp, resources) in &w.allocations {
            for (rc, amount) in resources {
                *wanted.entry((rp.as_str(), rc.as_str())).or_default() += amount;
            }
        }
    }
    let mut inventory_cache: HashMap<String, BTreeMap<String, crate::types::Inventory>> = HashMap::new();
    for w in writes {
        for (rp, resources) in &w.allocations {
            if !inventory_cache.contains_key(rp) {
                inventory_cache.insert(rp.clone(), inventories::of_provider_in(tx, rp).await?);
            }
            for (rc, amount) in resources {
                let Some(inv) = inventory_cache.get(rp).and_then(|i| i.get(rc)) else {
                    return Err(PlacementError::conflict(
                        ConflictKind::Capacity,
                        format!("Unable to allocate inventory: Inventory for '{rc}' on resource provider '{rp}' invalid."),
                    ));
                };
                if !inv.allows_amount(*amount) {
                    return Err(capacity_error(rc, rp, "violate inventory constraints"));
                }
                let key = (rp.clone(), rc.clone());
                let before = usage_before.get(&key).copied().unwrap_or(0);
                let others = before - released.get(&key).copied().unwrap_or(0);
                let total = others + wanted[&(rp.as_str(), rc.as_str())];
                let capacity = (inv.total - inv.reserved) as f64 * inv.allocation_ratio;
                // Placement lets a write through that shrinks an existing overage.
                if capacity < total as f64 && !(before > 0 && total <= before) {
                    return Err(capacity_error(rc, rp, "exceed the capacity"));
                }
            }
        }
    }
    // 4. Write the new allocations.
    for w in writes {
        for (rp, resources) in &w.allocations {
            for (rc, amount) in resources {
                allocations::insert(tx, &w.consumer_uuid, rp, rc, *amount).await?;
            }
        }
    }
    Ok(())
}

/// Checks the consumer's generation and records its project, user and type with a bumped
/// generation; a consumer left without allocations is deleted, as placement does.
async fn record_consumer(tx: &mut Tx, w: &ConsumerWrite) -> PlacementResult<()> {
    let existing = consumers::get_in(tx, &w.consumer_uuid).await?;
    if let GenerationCheck::Expect(given) = w.generation {
        let current = existing.as_ref().map(|c| c.generation);
        if current != given {
            return Err(generation_conflict(current, given));
        }
    }
    let keeps_allocations = w.allocations.values().any(|r| !r.is_empty());
    let wanted = Consumer {
        uuid: w.consumer_uuid.clone(),
        project_id: w.project_id.clone(),
        user_id: w.user_id.clone(),
        consumer_type: w.consumer_type.clone().or_else(|| existing.as_ref().and_then(|c| c.consumer_type.clone())),
        generation: 1,
    };
    match existing {
        Some(current) => {
            if !consumers::update_if_generation(tx, &wanted, current.generation).await? {
                return Err(PlacementError::conflict(
                    ConflictKind::Generation,
                    "consumer generation conflict - the consumer was changed by another request; re-read its allocations and retry",
                ));
            }
            if !keeps_allocations {
                consumers::delete(tx, &w.consumer_uuid).await?;
            }
        }
        None if keeps_allocations => consumers::insert(tx, &wanted).await?,
        None => {}
    }
    Ok(())
}

impl PlacementService {
    /// Replaces the allocations of every consumer in `writes` atomically: all or none.
    pub async fn set_allocations(&self, writes: Vec<ConsumerWrite>) -> PlacementResult<()> {
        for w in &writes {
            for resources in w.allocations.values() {
                if let Some((rc, n)) = resources.iter().find(|(_, n)| **n < 1) {
                    return Err(PlacementError::bad_request(format!("JSON does not validate: {n} is less than the minimum of 1 (resource class {rc})")));
                }
            }
        }
        db::write(&self.db, |tx| {
            let writes = writes.clone();
            Box::pin(async move { write_in(tx, &writes).await })
        })
        .await?;
        for w in &writes {
            tracing::info!("allocations of consumer {} set on {} providers", w.consumer_uuid, w.allocations.len());
        }
        Ok(())
    }

    /// Everything known of a consumer's allocations (the 1.38 view; handlers trim it).
    pub async fn consumer_allocations(&self, consumer: &str) -> PlacementResult<ConsumerAllocations> {
        let rows = allocations::of_consumer(&self.db, consumer).await?;
        if rows.is_empty() {
            return Ok(ConsumerAllocations::default());
        }
        let mut out = ConsumerAllocations::default();
        for row in rows {
            let entry = out.allocations.entry(row.provider_uuid.clone()).or_insert_with(AllocationResources::default);
            entry.resources.insert(row.resource_class, row.used);
        }
        for (rp, entry) in out.allocations.iter_mut() {
            entry.generation = providers::get(&self.db, rp).await?.map(|p| p.generation);
        }
        if let Some(c) = allocations::consumer_details(&self.db, &[consumer.to_string()]).await?.remove(consumer) {
            out.project_id = Some(c.project_id);
            out.user_id = Some(c.user_id);
            out.consumer_generation = Some(c.generation);
            out.consumer_type = Some(c.consumer_type.unwrap_or_else(|| "unknown".into()));
        }
        Ok(out)
    }

    pub async fn provider_allocations(&self, uuid: &str) -> PlacementResult<ProviderAllocations> {
        let rp = providers::get(&self.db, uuid)
            .await?
            .ok_or_else(|| PlacementError::not_found(format!("Resource provider '{uuid}' not found: No resource provider with uuid {uuid} found")))?;
        let rows = allocations::of_provider(&self.db, uuid).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.consumer_uuid.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let details = allocations::consumer_details(&self.db, &ids).await?;
        let mut out = ProviderAllocations { resource_provider_generation: rp.generation, ..Default::default() };
        for row in rows {
            let generation = details.get(&row.consumer_uuid).map(|c| c.generation);
            let entry = out.allocations.entry(row.consumer_uuid).or_insert_with(|| (BTreeMap::new(), generation));
            entry.0.insert(row.resource_class, row.used);
        }
        Ok(out)
    }

    /// `DELETE /allocations/{consumer}`: removes them all, whatever the consumer's generation.
    pub async fn delete_allocations(&self, consumer: &str) -> PlacementResult<()> {
        db::write(&self.db, |tx| {
            let consumer = consumer.to_string();
            Box::pin(async move {
                let old = allocations::of_consumer_in(tx, &consumer).await?;
                if old.is_empty() {
                    return Err(PlacementError::not_found(format!("No allocations for consumer '{consumer}'")));
                }
                let touched: BTreeSet<&str> = old.iter().map(|a| a.provider_uuid.as_str()).collect();
                for rp in touched {
                    providers::bump_generation(tx, rp, None).await?;
                }
                allocations::delete_of_consumer(tx, &consumer).await?;
                consumers::delete(tx, &consumer).await
            })
        })
        .await?;
        tracing::info!("allocations of consumer {consumer} deleted");
        Ok(())
    }
}
