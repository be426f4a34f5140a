//! Placement's allocation requests as the scheduler sees them, and the claim hook through which
//! the conductor writes the chosen one to placement.
//!
//! The JSON shape is that of `GET /allocation_candidates` (microversion 1.34+), so the
//! conductor can deserialize placement's `allocation_requests` items straight into
//! [`AllocationRequest`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The resources one provider gives to one allocation request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderAllocation {
    /// Resource class → amount (`VCPU`, `MEMORY_MB`, `DISK_GB`, custom classes).
    pub resources: BTreeMap<String, u64>,
}

/// One way to satisfy the request: providers and the resources each gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRequest {
    /// Resource provider uuid → its part of the allocation.
    pub allocations: BTreeMap<String, ProviderAllocation>,
    /// Request group suffix → the providers that satisfy it.
    #[serde(default)]
    pub mappings: BTreeMap<String, Vec<String>>,
}

/// Indexes allocation requests by every provider they involve, as Nova does before handing
/// each compute node (whose uuid is its root provider's) its candidates.
pub fn allocation_requests_by_provider(
    requests: &[AllocationRequest],
) -> BTreeMap<String, Vec<AllocationRequest>> {
    let mut out: BTreeMap<String, Vec<AllocationRequest>> = BTreeMap::new();
    for request in requests {
        for provider in request.allocations.keys() {
            out.entry(provider.clone())
                .or_default()
                .push(request.clone());
        }
    }
    out
}

/// Writes and removes allocations in placement for the instances being placed.
#[async_trait]
pub trait AllocationClaimer: Send + Sync {
    /// Claims `request` for the instance; `false` when placement refused it (another request
    /// took the resources first), which makes the scheduler try the next host.
    async fn claim(&self, instance_uuid: &str, request: &AllocationRequest) -> bool;

    /// Removes an instance's allocations after the request as a whole failed.
    async fn release(&self, instance_uuid: &str);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placement_json_deserializes_and_indexes_by_provider() {
        let body = json!([
            {"allocations": {"cn1": {"resources": {"VCPU": 1, "MEMORY_MB": 512}},
                             "pool": {"resources": {"DISK_GB": 10}}},
             "mappings": {"": ["cn1", "pool"]}},
            {"allocations": {"cn2": {"resources": {"VCPU": 1, "MEMORY_MB": 512}}}}
        ]);
        let requests: Vec<AllocationRequest> = serde_json::from_value(body).unwrap();
        assert_eq!(requests[0].allocations["cn1"].resources["MEMORY_MB"], 512);
        assert!(requests[1].mappings.is_empty());
        let by_provider = allocation_requests_by_provider(&requests);
        assert_eq!(by_provider["cn1"].len(), 1);
        assert_eq!(by_provider["pool"][0], requests[0]);
        assert_eq!(by_provider["cn2"][0], requests[1]);
    }
}
