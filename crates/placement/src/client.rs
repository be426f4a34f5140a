//! How other services talk to placement: the [`PlacementClient`] trait, with types that
//! mirror the REST bodies at microversion 1.39, and [`LocalPlacement`], the in-process
//! implementation the compute scheduler and conductor use in a single process. It calls the
//! same service functions the REST handlers call; an HTTP implementation can be added later
//! with the same types.

use crate::error::{ConflictKind, PlacementError};
use crate::service::allocations::{ConsumerWrite, GenerationCheck};
use crate::service::providers::{NewProvider, ParentChange};
use crate::types::{AllocationCandidates, CandidateQuery, ConsumerAllocations, Inventory, ProviderInventories, PutAllocations, ResourceProvider, Usages};
use crate::PlacementService;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Placement as a Rust API. Errors are the service layer's [`PlacementError`]: `NotFound`,
/// `BadRequest`, and `Conflict` whose [`ConflictKind`] tells a generation conflict (re-read
/// and retry) from a capacity conflict (pick another host) and the rest.
#[async_trait]
pub trait PlacementClient: Send + Sync {
    /// `GET /allocation_candidates`.
    async fn allocation_candidates(&self, query: &CandidateQuery) -> Result<AllocationCandidates, PlacementError>;
    /// `GET /allocations/{consumer}` (empty allocations when the consumer has none).
    async fn get_allocations(&self, consumer: &str) -> Result<ConsumerAllocations, PlacementError>;
    /// `PUT /allocations/{consumer}`: replaces the consumer's allocations (empty removes them).
    async fn put_allocations(&self, consumer: &str, body: &PutAllocations) -> Result<(), PlacementError>;
    /// `POST /allocations`: replaces several consumers' allocations atomically (moves).
    async fn post_allocations(&self, body: &BTreeMap<String, PutAllocations>) -> Result<(), PlacementError>;
    /// `DELETE /allocations/{consumer}`.
    async fn delete_allocations(&self, consumer: &str) -> Result<(), PlacementError>;
    /// The provider `uuid`, created (named `name`, under `parent_uuid`) if missing.
    async fn ensure_provider(&self, uuid: &str, name: &str, parent_uuid: Option<&str>) -> Result<ResourceProvider, PlacementError>;
    /// `PUT /resource_providers/{rp}/inventories` at `generation`; returns the new generation.
    async fn set_inventories(&self, rp: &str, generation: i64, inventories: &BTreeMap<String, Inventory>) -> Result<ProviderInventories, PlacementError>;
    /// `PUT /resource_providers/{rp}/traits` at `generation`; returns the new generation.
    async fn set_traits(&self, rp: &str, generation: i64, traits: &BTreeSet<String>) -> Result<i64, PlacementError>;
    /// `PUT /resource_providers/{rp}/aggregates` at `generation`; returns the new generation.
    async fn set_aggregates(&self, rp: &str, generation: i64, aggregates: &BTreeSet<String>) -> Result<i64, PlacementError>;
    /// `GET /usages?project_id=…[&user_id=…]`.
    async fn usages(&self, project_id: &str, user_id: Option<&str>) -> Result<Usages, PlacementError>;
    /// `DELETE /resource_providers/{rp}`.
    async fn delete_provider(&self, rp: &str) -> Result<(), PlacementError>;
}

/// [`PlacementClient`] on a co-located [`PlacementService`].
#[derive(Clone)]
pub struct LocalPlacement(pub Arc<PlacementService>);

/// A 1.38 allocation body as the service layer's write.
pub fn consumer_write(consumer: &str, body: &PutAllocations) -> ConsumerWrite {
    ConsumerWrite {
        consumer_uuid: consumer.to_string(),
        project_id: body.project_id.clone(),
        user_id: body.user_id.clone(),
        generation: GenerationCheck::Expect(body.consumer_generation),
        consumer_type: body.consumer_type.clone(),
        allocations: body.allocations.iter().map(|(rp, a)| (rp.clone(), a.resources.clone())).collect(),
    }
}

#[async_trait]
impl PlacementClient for LocalPlacement {
    async fn allocation_candidates(&self, query: &CandidateQuery) -> Result<AllocationCandidates, PlacementError> {
        self.0.allocation_candidates(query, true).await
    }

    async fn get_allocations(&self, consumer: &str) -> Result<ConsumerAllocations, PlacementError> {
        self.0.consumer_allocations(consumer).await
    }

    async fn put_allocations(&self, consumer: &str, body: &PutAllocations) -> Result<(), PlacementError> {
        self.0.set_allocations(vec![consumer_write(consumer, body)]).await
    }

    async fn post_allocations(&self, body: &BTreeMap<String, PutAllocations>) -> Result<(), PlacementError> {
        self.0.set_allocations(body.iter().map(|(c, b)| consumer_write(c, b)).collect()).await
    }

    async fn delete_allocations(&self, consumer: &str) -> Result<(), PlacementError> {
        self.0.delete_allocations(consumer).await
    }

    async fn ensure_provider(&self, uuid: &str, name: &str, parent_uuid: Option<&str>) -> Result<ResourceProvider, PlacementError> {
        match self.0.provider(uuid).await {
            Ok(rp) if rp.name == name && rp.parent_provider_uuid.as_deref() == parent_uuid => return Ok(rp),
            Ok(_) => {
                let parent = ParentChange::Set(parent_uuid.map(str::to_string));
                return self.0.update_provider(uuid, name, parent, true).await;
            }
            Err(PlacementError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let spec = NewProvider { uuid: Some(uuid.to_string()), name: name.to_string(), parent_provider_uuid: parent_uuid.map(str::to_string) };
        match self.0.create_provider(spec).await {
            Ok(rp) => Ok(rp),
            // Someone else created it meanwhile: theirs is as good as ours.
            Err(e) if e.is_conflict(ConflictKind::Duplicate) => self.0.provider(uuid).await,
            Err(e) => Err(e),
        }
    }

    async fn set_inventories(&self, rp: &str, generation: i64, inventories: &BTreeMap<String, Inventory>) -> Result<ProviderInventories, PlacementError> {
        self.0.set_inventories(rp, generation, inventories.clone(), true).await
    }

    async fn set_traits(&self, rp: &str, generation: i64, traits: &BTreeSet<String>) -> Result<i64, PlacementError> {
        self.0.set_provider_traits(rp, Some(generation), traits.clone()).await
    }

    async fn set_aggregates(&self, rp: &str, generation: i64, aggregates: &BTreeSet<String>) -> Result<i64, PlacementError> {
        self.0.set_provider_aggregates(rp, Some(generation), aggregates.clone()).await
    }

    async fn usages(&self, project_id: &str, user_id: Option<&str>) -> Result<Usages, PlacementError> {
        self.0.project_usages(project_id, user_id).await
    }

    async fn delete_provider(&self, rp: &str) -> Result<(), PlacementError> {
        self.0.delete_provider(rp).await
    }
}
