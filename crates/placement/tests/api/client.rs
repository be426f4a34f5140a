//! The in-process client the compute scheduler and conductor use, on the same service the
//! REST API serves: what one writes the other reads.

use crate::{uuid, Cloud};
use monostack_placement::client::{LocalPlacement, PlacementClient};
use monostack_placement::error::{ConflictKind, PlacementError};
use monostack_placement::types::{AllocationResources, CandidateQuery, Inventory, PutAllocations};
use std::collections::{BTreeMap, BTreeSet};

fn put(rp: &str, vcpu: i64, generation: Option<i64>, kind: &str) -> PutAllocations {
    PutAllocations {
        allocations: BTreeMap::from([(rp.to_string(), AllocationResources { resources: BTreeMap::from([("VCPU".to_string(), vcpu)]), generation: None })]),
        project_id: "p".into(),
        user_id: "u".into(),
        consumer_generation: generation,
        consumer_type: Some(kind.into()),
        mappings: None,
    }
}

#[tokio::test]
async fn schedule_claim_move_and_release() {
    let c = Cloud::start().await;
    let client = LocalPlacement(c.placement.clone());
    let (h1, h2) = (uuid(), uuid());
    let rp1 = client.ensure_provider(&h1, "host1", None).await.expect("host1");
    assert_eq!(client.ensure_provider(&h1, "host1", None).await.expect("again").generation, rp1.generation, "idempotent");
    let rp2 = client.ensure_provider(&h2, "host2", None).await.expect("host2");
    let numa = client.ensure_provider(&uuid(), "host2-numa0", Some(&h2)).await.expect("child");
    assert_eq!(numa.root_provider_uuid, h2);
    let inv = BTreeMap::from([("VCPU".to_string(), Inventory::of(4)), ("MEMORY_MB".to_string(), Inventory::of(2048))]);
    let set = client.set_inventories(&h1, rp1.generation, &inv).await.expect("inventory");
    assert_eq!(set.resource_provider_generation, rp1.generation + 1);
    let stale = client.set_inventories(&h1, rp1.generation, &inv).await.unwrap_err();
    assert!(stale.is_conflict(ConflictKind::Generation), "{stale:?}");
    client.set_inventories(&h2, rp2.generation, &BTreeMap::from([("VCPU".to_string(), Inventory::of(2))])).await.expect("inventory");
    let g = client.set_traits(&h1, set.resource_provider_generation, &BTreeSet::from(["HW_CPU_X86_AVX2".to_string()])).await.expect("traits");
    client.set_aggregates(&h1, g, &BTreeSet::from([uuid()])).await.expect("aggregates");

    let mut q = CandidateQuery::resources(&[("VCPU", 2)]);
    let found = client.allocation_candidates(&q).await.expect("candidates");
    assert_eq!(found.allocation_requests.len(), 2);
    q.groups.get_mut("").unwrap().required = vec![BTreeSet::from(["HW_CPU_X86_AVX2".to_string()])];
    let found = client.allocation_candidates(&q).await.expect("candidates");
    assert_eq!(found.allocation_requests.len(), 1);
    assert!(found.allocation_requests[0].allocations.contains_key(&h1));
    assert_eq!(found.provider_summaries[&h1].traits, vec!["HW_CPU_X86_AVX2".to_string()]);

    let instance = uuid();
    client.put_allocations(&instance, &put(&h1, 3, None, "INSTANCE")).await.expect("claim");
    let seen = client.get_allocations(&instance).await.expect("read");
    assert_eq!(seen.consumer_generation, Some(1));
    let full = client.put_allocations(&uuid(), &put(&h1, 2, None, "INSTANCE")).await.unwrap_err();
    assert!(full.is_conflict(ConflictKind::Capacity), "{full:?}");
    let raced = client.put_allocations(&instance, &put(&h1, 1, None, "INSTANCE")).await.unwrap_err();
    assert!(raced.is_conflict(ConflictKind::Generation), "{raced:?}");
    let missing = client.put_allocations(&uuid(), &put(&uuid(), 1, None, "INSTANCE")).await.unwrap_err();
    assert!(matches!(missing, PlacementError::BadRequest { .. }), "{missing:?}");

    // A cold migration: the migration record holds the source, the instance the destination.
    let migration = uuid();
    let too_big = BTreeMap::from([(migration.clone(), put(&h1, 3, None, "MIGRATION")), (instance.clone(), put(&h2, 3, Some(1), "INSTANCE"))]);
    assert!(client.post_allocations(&too_big).await.unwrap_err().is_conflict(ConflictKind::Capacity));
    let fits = BTreeMap::from([(migration.clone(), put(&h1, 3, None, "MIGRATION")), (instance.clone(), put(&h2, 2, Some(1), "INSTANCE"))]);
    client.post_allocations(&fits).await.expect("move");
    assert!(client.get_allocations(&instance).await.expect("read").allocations.contains_key(&h2));
    assert_eq!(client.usages("p", None).await.expect("usages")["VCPU"], 5);
    let rest = c.get(&format!("/allocations/{migration}")).await;
    assert_eq!(rest.body["allocations"][&h1]["resources"]["VCPU"], 3, "the REST API sees what the client wrote");

    let busy = client.delete_provider(&h1).await.unwrap_err();
    assert!(busy.is_conflict(ConflictKind::ProviderInUse), "{busy:?}");
    client.delete_allocations(&migration).await.expect("release");
    assert!(matches!(client.delete_allocations(&migration).await, Err(PlacementError::NotFound(_))));
    client.delete_provider(&h1).await.expect("delete");
    assert!(client.get_allocations(&migration).await.expect("read").allocations.is_empty());
}
