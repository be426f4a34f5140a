//! The whole provider state read at once (providers, inventories, usages, traits,
//! aggregates), for the questions that look across trees: provider list filters and
//! allocation candidates.

use super::{fetch_all, inventories, providers};
use crate::error::PlacementResult;
use crate::types::{Inventory, ResourceProvider};
use monostack_db::{Database, RowExt};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

#[derive(Debug, Default)]
pub struct Snapshot {
    /// Providers in creation order.
    pub providers: Vec<ResourceProvider>,
    pub index: HashMap<String, usize>,
    pub inventories: HashMap<String, BTreeMap<String, Inventory>>,
    pub usages: HashMap<String, BTreeMap<String, i64>>,
    pub traits: HashMap<String, BTreeSet<String>>,
    pub aggregates: HashMap<String, BTreeSet<String>>,
    pub resource_classes: HashSet<String>,
    pub trait_names: HashSet<String>,
}

static EMPTY_SET: BTreeSet<String> = BTreeSet::new();

impl Snapshot {
    pub async fn load(db: &Database) -> PlacementResult<Snapshot> {
        let mut s = Snapshot { providers: providers::all(db).await?, ..Default::default() };
        s.index = s.providers.iter().enumerate().map(|(i, p)| (p.uuid.clone(), i)).collect();
        for r in fetch_all(db, &format!("SELECT {} FROM inventories", inventories::COLUMNS), &[]).await? {
            s.inventories.entry(r.text("provider_uuid")?).or_default().insert(r.text("resource_class")?, inventories::from_row(&r)?);
        }
        let sums = "SELECT provider_uuid, resource_class, CAST(SUM(used) AS BIGINT) AS used FROM allocations GROUP BY provider_uuid, resource_class";
        for r in fetch_all(db, sums, &[]).await? {
            s.usages.entry(r.text("provider_uuid")?).or_default().insert(r.text("resource_class")?, r.int("used")?);
        }
        for r in fetch_all(db, "SELECT provider_uuid, trait FROM provider_traits", &[]).await? {
            s.traits.entry(r.text("provider_uuid")?).or_default().insert(r.text("trait")?);
        }
        for r in fetch_all(db, "SELECT provider_uuid, aggregate_uuid FROM provider_aggregates", &[]).await? {
            s.aggregates.entry(r.text("provider_uuid")?).or_default().insert(r.text("aggregate_uuid")?);
        }
        for r in fetch_all(db, "SELECT name FROM resource_classes", &[]).await? {
            s.resource_classes.insert(r.text("name")?);
        }
        for r in fetch_all(db, "SELECT name FROM traits", &[]).await? {
            s.trait_names.insert(r.text("name")?);
        }
        Ok(s)
    }

    pub fn provider(&self, uuid: &str) -> Option<&ResourceProvider> {
        self.index.get(uuid).map(|i| &self.providers[*i])
    }

    pub fn traits_of(&self, uuid: &str) -> &BTreeSet<String> {
        self.traits.get(uuid).unwrap_or(&EMPTY_SET)
    }

    pub fn aggregates_of(&self, uuid: &str) -> &BTreeSet<String> {
        self.aggregates.get(uuid).unwrap_or(&EMPTY_SET)
    }

    pub fn root_of(&self, uuid: &str) -> Option<&str> {
        self.provider(uuid).map(|p| p.root_provider_uuid.as_str())
    }

    pub fn used(&self, uuid: &str, rc: &str) -> i64 {
        self.usages.get(uuid).and_then(|u| u.get(rc)).copied().unwrap_or(0)
    }

    pub fn inventory(&self, uuid: &str, rc: &str) -> Option<&Inventory> {
        self.inventories.get(uuid).and_then(|i| i.get(rc))
    }

    /// Free capacity of `rc` on `uuid` (may be negative when over-allocated).
    pub fn free(&self, uuid: &str, rc: &str) -> i64 {
        self.inventory(uuid, rc).map(|i| i.capacity() - self.used(uuid, rc)).unwrap_or(0)
    }

    /// Whether `uuid` can take one allocation of `amount` of `rc` on its own.
    pub fn fits(&self, uuid: &str, rc: &str, amount: i64) -> bool {
        match self.inventory(uuid, rc) {
            Some(inv) => inv.allows_amount(amount) && self.used(uuid, rc) + amount <= inv.capacity(),
            None => false,
        }
    }

    /// Providers whose root is `root`.
    pub fn tree(&self, root: &str) -> impl Iterator<Item = &ResourceProvider> {
        let root = root.to_string();
        self.providers.iter().filter(move |p| p.root_provider_uuid == root)
    }

    /// `uuid` and its ancestors up to the root.
    pub fn ancestors(&self, uuid: &str) -> Vec<String> {
        let mut out = vec![uuid.to_string()];
        let mut cur = self.provider(uuid).and_then(|p| p.parent_provider_uuid.clone());
        while let Some(p) = cur {
            if out.contains(&p) {
                break;
            }
            cur = self.provider(&p).and_then(|rp| rp.parent_provider_uuid.clone());
            out.push(p);
        }
        out
    }
}
