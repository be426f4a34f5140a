//! Placement writes of the compute flows: claims for instances (the consumer is the instance's
//! uuid), and Nova's migration-based allocations for moves: while an instance moves, the
//! migration record's uuid holds the source allocations and the instance holds the
//! destination's, so confirm drops the first and revert swaps them back atomically.

use async_trait::async_trait;
use monostack_placement::client::PlacementClient;
use monostack_placement::error::PlacementError;
use monostack_placement::types::{AllocationResources, PutAllocations};
use monostack_scheduler::{AllocationClaimer, AllocationRequest};
use std::collections::BTreeMap;

/// Placement's consumer types for the two kinds of consumers compute creates.
const INSTANCE: &str = "INSTANCE";
const MIGRATION: &str = "MIGRATION";

/// The body that gives `consumer` exactly `allocations`.
fn put_body(allocations: BTreeMap<String, AllocationResources>, project: &str, user: &str, generation: Option<i64>, consumer_type: &str) -> PutAllocations {
    PutAllocations {
        allocations,
        project_id: project.to_string(),
        user_id: user.to_string(),
        consumer_generation: generation,
        consumer_type: Some(consumer_type.to_string()),
        mappings: None,
    }
}

/// The scheduler's allocation request as placement's write body.
fn resources_of(request: &AllocationRequest) -> BTreeMap<String, AllocationResources> {
    request
        .allocations
        .iter()
        .map(|(rp, a)| {
            let resources = a.resources.iter().map(|(rc, n)| (rc.clone(), i64::try_from(*n).unwrap_or(i64::MAX))).collect();
            (rp.clone(), AllocationResources { resources, generation: None })
        })
        .collect()
}

/// Claims `request` for an instance that holds no allocations yet; false when placement
/// refused (capacity taken meanwhile, or the consumer changed).
pub(crate) async fn claim(placement: &dyn PlacementClient, instance_uuid: &str, request: &AllocationRequest, project: &str, user: &str) -> bool {
    let body = put_body(resources_of(request), project, user, None, INSTANCE);
    match placement.put_allocations(instance_uuid, &body).await {
        Ok(()) => true,
        Err(PlacementError::Conflict { message, .. }) => {
            tracing::info!("Claim for {instance_uuid} refused by placement: {message}");
            false
        }
        Err(e) => {
            tracing::error!("Claim for {instance_uuid} failed: {e}");
            false
        }
    }
}

/// Removes every allocation of `consumer` (a consumer without allocations is fine).
pub(crate) async fn release(placement: &dyn PlacementClient, consumer: &str) -> Result<(), PlacementError> {
    match placement.delete_allocations(consumer).await {
        Ok(()) | Err(PlacementError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Like [`release`], logging instead of failing (clean-up paths).
pub(crate) async fn release_logged(placement: &dyn PlacementClient, consumer: &str) {
    if let Err(e) = release(placement, consumer).await {
        tracing::error!("Allocations of consumer {consumer} not removed: {e}");
    }
}

/// Moves the instance's allocations to the migration (Nova's
/// `replace_allocation_with_migration`), atomically. False when the instance had none.
pub(crate) async fn move_to_migration(placement: &dyn PlacementClient, instance_uuid: &str, migration_uuid: &str, project: &str, user: &str) -> Result<bool, PlacementError> {
    let current = placement.get_allocations(instance_uuid).await?;
    if current.allocations.is_empty() {
        return Ok(false);
    }
    let project = current.project_id.clone().unwrap_or_else(|| project.to_string());
    let user = current.user_id.clone().unwrap_or_else(|| user.to_string());
    let source: BTreeMap<String, AllocationResources> =
        current.allocations.iter().map(|(rp, a)| (rp.clone(), AllocationResources { resources: a.resources.clone(), generation: None })).collect();
    let body = BTreeMap::from([
        (migration_uuid.to_string(), put_body(source, &project, &user, None, MIGRATION)),
        (instance_uuid.to_string(), put_body(BTreeMap::new(), &project, &user, current.consumer_generation, INSTANCE)),
    ]);
    placement.post_allocations(&body).await?;
    Ok(true)
}

/// Gives the instance back the allocations the migration holds (replacing whatever the
/// instance holds on the destination), atomically (Nova's `revert_allocation_for_migration`).
/// Nothing to do when the migration holds none.
pub(crate) async fn revert_from_migration(placement: &dyn PlacementClient, instance_uuid: &str, migration_uuid: &str) -> Result<(), PlacementError> {
    let held = placement.get_allocations(migration_uuid).await?;
    if held.allocations.is_empty() {
        return Ok(());
    }
    let instance = placement.get_allocations(instance_uuid).await?;
    let project = held.project_id.clone().unwrap_or_default();
    let user = held.user_id.clone().unwrap_or_default();
    let source: BTreeMap<String, AllocationResources> =
        held.allocations.iter().map(|(rp, a)| (rp.clone(), AllocationResources { resources: a.resources.clone(), generation: None })).collect();
    let body = BTreeMap::from([
        (instance_uuid.to_string(), put_body(source, &project, &user, instance.consumer_generation, INSTANCE)),
        (migration_uuid.to_string(), put_body(BTreeMap::new(), &project, &user, held.consumer_generation, MIGRATION)),
    ]);
    placement.post_allocations(&body).await
}

/// The scheduler's claims go to placement with the request's project and user.
pub(crate) struct PlacementClaimer<'a> {
    pub placement: &'a dyn PlacementClient,
    pub project_id: &'a str,
    pub user_id: &'a str,
}

#[async_trait]
impl AllocationClaimer for PlacementClaimer<'_> {
    async fn claim(&self, instance_uuid: &str, request: &AllocationRequest) -> bool {
        claim(self.placement, instance_uuid, request, self.project_id, self.user_id).await
    }

    async fn release(&self, instance_uuid: &str) {
        release_logged(self.placement, instance_uuid).await;
    }
}
