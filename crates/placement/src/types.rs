//! The placement data as the REST API shows it at microversion 1.39: the bodies the handlers
//! render and the types of [`crate::client::PlacementClient`], so an HTTP client can later
//! speak the same types over the wire.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Largest integer placement accepts in inventories (a signed 32-bit column upstream).
pub const MAX_INT: i64 = 0x7FFF_FFFF;

/// The project and user recorded for allocations written before 1.8 (upstream's
/// `incomplete_consumer_project_id` / `incomplete_consumer_user_id` defaults).
pub const INCOMPLETE_CONSUMER_ID: &str = "00000000-0000-0000-0000-000000000000";

/// A resource provider (1.14+ fields included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceProvider {
    pub uuid: String,
    pub name: String,
    pub generation: i64,
    pub parent_provider_uuid: Option<String>,
    pub root_provider_uuid: String,
    /// Epoch microseconds of the last change (for `last-modified`).
    #[serde(skip)]
    pub updated_at: i64,
}

/// One inventory record; the defaults are placement's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub total: i64,
    #[serde(default)]
    pub reserved: i64,
    #[serde(default = "one")]
    pub min_unit: i64,
    #[serde(default = "max_int")]
    pub max_unit: i64,
    #[serde(default = "one")]
    pub step_size: i64,
    #[serde(default = "ratio_one")]
    pub allocation_ratio: f64,
}

fn one() -> i64 {
    1
}
fn max_int() -> i64 {
    MAX_INT
}
fn ratio_one() -> f64 {
    1.0
}

impl Inventory {
    /// An inventory of `total` with every other field at its default.
    pub fn of(total: i64) -> Self {
        Inventory { total, reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0 }
    }

    /// What may be allocated in all: `(total - reserved) * allocation_ratio`, truncated.
    pub fn capacity(&self) -> i64 {
        ((self.total - self.reserved) as f64 * self.allocation_ratio) as i64
    }

    /// Whether one allocation of `amount` respects min_unit, max_unit and step_size.
    pub fn allows_amount(&self, amount: i64) -> bool {
        amount >= self.min_unit && amount <= self.max_unit && self.step_size > 0 && amount % self.step_size == 0
    }
}

/// `GET/PUT /resource_providers/{uuid}/inventories`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderInventories {
    pub resource_provider_generation: i64,
    pub inventories: BTreeMap<String, Inventory>,
}

/// The resources one consumer takes from one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AllocationResources {
    pub resources: BTreeMap<String, i64>,
    /// The provider's generation, shown by `GET /allocations/{consumer}`; ignored on writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

/// `GET /allocations/{consumer_uuid}` at 1.38+.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConsumerAllocations {
    pub allocations: BTreeMap<String, AllocationResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_type: Option<String>,
}

/// The body of `PUT /allocations/{consumer_uuid}` (and of each consumer in `POST /allocations`)
/// at 1.38+. Empty `allocations` removes the consumer's allocations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutAllocations {
    pub allocations: BTreeMap<String, AllocationResources>,
    pub project_id: String,
    pub user_id: String,
    /// None when the caller expects the consumer to have no allocations yet.
    pub consumer_generation: Option<i64>,
    pub consumer_type: Option<String>,
    /// Accepted for convenience (1.34+) and ignored, as placement does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mappings: Option<BTreeMap<String, Vec<String>>>,
}

/// One usage figure of a resource class.
pub type Usages = BTreeMap<String, i64>;

/// `GET /resource_providers/{uuid}/usages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderUsages {
    pub resource_provider_generation: i64,
    pub usages: Usages,
}

/// `GET /usages` grouped by consumer type (1.38+): per type, the usage of each class and the
/// number of consumers (`consumer_count`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TypedUsages {
    pub usages: BTreeMap<String, BTreeMap<String, i64>>,
}

/// `group_policy` of an allocation candidates request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    None,
    Isolate,
}

/// One request group of `GET /allocation_candidates`: `resources$S`, `required$S`,
/// `member_of$S` and `in_tree$S` of one suffix (empty for the unsuffixed group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestGroup {
    pub resources: BTreeMap<String, i64>,
    /// Required traits: every set must be met by at least one of its traits (AND of ORs).
    pub required: Vec<BTreeSet<String>>,
    pub forbidden: BTreeSet<String>,
    /// Aggregates: the provider must be in at least one of each set (AND of ORs).
    pub member_of: Vec<BTreeSet<String>>,
    pub forbidden_aggregates: BTreeSet<String>,
    pub in_tree: Option<String>,
}

/// The whole `GET /allocation_candidates` query at 1.39.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CandidateQuery {
    /// Groups by suffix; "" is the unsuffixed group.
    pub groups: BTreeMap<String, RequestGroup>,
    pub limit: Option<usize>,
    pub group_policy: Option<GroupPolicy>,
    /// `root_required`: traits the root of each candidate's tree must have…
    pub root_required: BTreeSet<String>,
    /// …and must not have.
    pub root_forbidden: BTreeSet<String>,
    /// `same_subtree`: each set of suffixes must be satisfied within one subtree.
    pub same_subtree: Vec<BTreeSet<String>>,
}

impl CandidateQuery {
    /// A query for `resources` from one tree (the unsuffixed group).
    pub fn resources(resources: &[(&str, i64)]) -> Self {
        let mut q = CandidateQuery::default();
        q.groups.insert(
            String::new(),
            RequestGroup { resources: resources.iter().map(|(rc, n)| (rc.to_string(), *n)).collect(), ..Default::default() },
        );
        q
    }

    /// The query string this query is sent as (without `?`), in the 1.39 syntax.
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (suffix, g) in &self.groups {
            if !g.resources.is_empty() {
                let v: Vec<String> = g.resources.iter().map(|(rc, n)| format!("{rc}:{n}")).collect();
                pairs.push((format!("resources{suffix}"), v.join(",")));
            }
            let mut plain: Vec<String> = Vec::new();
            for any in &g.required {
                if any.len() == 1 {
                    plain.extend(any.iter().cloned());
                } else {
                    pairs.push((format!("required{suffix}"), format!("in:{}", any.iter().cloned().collect::<Vec<_>>().join(","))));
                }
            }
            plain.extend(g.forbidden.iter().map(|t| format!("!{t}")));
            if !plain.is_empty() {
                pairs.push((format!("required{suffix}"), plain.join(",")));
            }
            for any in &g.member_of {
                let list: Vec<String> = any.iter().cloned().collect();
                let v = if list.len() == 1 { list[0].clone() } else { format!("in:{}", list.join(",")) };
                pairs.push((format!("member_of{suffix}"), v));
            }
            if !g.forbidden_aggregates.is_empty() {
                let list: Vec<String> = g.forbidden_aggregates.iter().cloned().collect();
                pairs.push((format!("member_of{suffix}"), format!("!in:{}", list.join(","))));
            }
            if let Some(t) = &g.in_tree {
                pairs.push((format!("in_tree{suffix}"), t.clone()));
            }
        }
        if let Some(l) = self.limit {
            pairs.push(("limit".into(), l.to_string()));
        }
        if let Some(p) = self.group_policy {
            pairs.push(("group_policy".into(), if p == GroupPolicy::Isolate { "isolate" } else { "none" }.into()));
        }
        let mut root: Vec<String> = self.root_required.iter().cloned().collect();
        root.extend(self.root_forbidden.iter().map(|t| format!("!{t}")));
        if !root.is_empty() {
            pairs.push(("root_required".into(), root.join(",")));
        }
        for s in &self.same_subtree {
            pairs.push(("same_subtree".into(), s.iter().cloned().collect::<Vec<_>>().join(",")));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, QUERY_VALUE)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Characters escaped in query values (`,` and `:` stay readable, as clients send them).
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b',').remove(b':').remove(b'!').remove(b'-').remove(b'_').remove(b'.');

/// One allocation request of the candidates: what to PUT to `/allocations/{consumer}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationRequest {
    pub allocations: BTreeMap<String, AllocationResources>,
    /// Which providers satisfied each request group, by suffix (1.34+).
    pub mappings: BTreeMap<String, Vec<String>>,
}

/// Capacity and usage of one class on a provider, in a provider summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceSummary {
    pub capacity: i64,
    pub used: i64,
}

/// What the candidates response says of one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderSummary {
    pub resources: BTreeMap<String, ResourceSummary>,
    pub traits: Vec<String>,
    pub parent_provider_uuid: Option<String>,
    pub root_provider_uuid: String,
}

/// `GET /allocation_candidates` at 1.34+.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AllocationCandidates {
    pub allocation_requests: Vec<AllocationRequest>,
    pub provider_summaries: BTreeMap<String, ProviderSummary>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_capacity_and_units() {
        let inv = Inventory { total: 10, reserved: 2, min_unit: 2, max_unit: 6, step_size: 2, allocation_ratio: 1.5 };
        assert_eq!(inv.capacity(), 12);
        assert!(inv.allows_amount(4));
        assert!(!inv.allows_amount(3), "step size");
        assert!(!inv.allows_amount(8), "max unit");
        assert!(!inv.allows_amount(0), "min unit");
        let parsed: Inventory = serde_json::from_str(r#"{"total": 4}"#).unwrap();
        assert_eq!(parsed, Inventory::of(4));
    }

    #[test]
    fn candidate_query_renders_the_1_39_syntax() {
        let mut q = CandidateQuery::resources(&[("VCPU", 1), ("MEMORY_MB", 512)]);
        let g = q.groups.get_mut("").unwrap();
        g.required = vec![BTreeSet::from(["HW_CPU_X86_AVX".to_string()]), BTreeSet::from(["A".to_string(), "B".to_string()])];
        g.forbidden.insert("CUSTOM_SLOW".into());
        q.limit = Some(3);
        let s = q.to_query_string();
        assert!(s.contains("resources=MEMORY_MB:512,VCPU:1"), "{s}");
        assert!(s.contains("required=in:A,B"), "{s}");
        assert!(s.contains("required=HW_CPU_X86_AVX,!CUSTOM_SLOW"), "{s}");
        assert!(s.contains("limit=3"), "{s}");
    }
}
