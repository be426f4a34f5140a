//! Usages: per provider, and per project (and user), optionally by consumer type.

use crate::db::usages;
use crate::error::PlacementResult;
use crate::types::{ProviderUsages, TypedUsages, Usages};
use crate::PlacementService;
use std::collections::BTreeMap;

/// Which consumer types `GET /usages` reports at 1.38+.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumerTypeFilter {
    /// Each type under its own key (untyped consumers under `unknown`).
    Each,
    /// Everything under one key, `all`.
    All,
    /// Only consumers without a type, under `unknown`.
    Unknown,
    /// Only this type.
    Named(String),
}

pub const UNKNOWN_TYPE: &str = "unknown";

impl PlacementService {
    pub async fn provider_usages(&self, uuid: &str) -> PlacementResult<ProviderUsages> {
        let rp = self.provider(uuid).await?;
        Ok(ProviderUsages { resource_provider_generation: rp.generation, usages: usages::of_provider(&self.db, uuid).await? })
    }

    /// The project's (and user's) usage summed over every consumer.
    pub async fn project_usages(&self, project_id: &str, user_id: Option<&str>) -> PlacementResult<Usages> {
        let mut out = Usages::new();
        for row in usages::of_project(&self.db, project_id, user_id).await? {
            *out.entry(row.resource_class).or_default() += row.used;
        }
        Ok(out)
    }

    /// The 1.38 form: usage and `consumer_count` grouped by consumer type.
    pub async fn typed_usages(&self, project_id: &str, user_id: Option<&str>, filter: &ConsumerTypeFilter) -> PlacementResult<TypedUsages> {
        let key_of = |t: &Option<String>| -> Option<String> {
            let name = t.clone().unwrap_or_else(|| UNKNOWN_TYPE.into());
            match filter {
                ConsumerTypeFilter::Each => Some(name),
                ConsumerTypeFilter::All => Some("all".into()),
                ConsumerTypeFilter::Unknown => t.is_none().then(|| UNKNOWN_TYPE.to_string()),
                ConsumerTypeFilter::Named(n) => (t.as_deref() == Some(n.as_str())).then(|| n.clone()),
            }
        };
        let mut out: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for row in usages::of_project(&self.db, project_id, user_id).await? {
            if let Some(key) = key_of(&row.consumer_type) {
                *out.entry(key).or_default().entry(row.resource_class).or_default() += row.used;
            }
        }
        for (t, count) in usages::consumer_counts(&self.db, project_id, user_id).await? {
            if let Some(key) = key_of(&t) {
                *out.entry(key).or_default().entry("consumer_count".into()).or_default() += count;
            }
        }
        Ok(TypedUsages { usages: out })
    }
}
