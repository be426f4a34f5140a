//! The whole provider state read at once (providers, inventories, usages, traits,
//! aggregates), for the questions that look across trees: provider list filters and
//! allocation candidates.
//!
//! [`SnapshotCache`] keeps the last snapshot for allocation candidates and reads again only
//! the providers whose generation moved: every write to a provider's inventories,
//! allocations, traits or aggregates bumps its generation in the same transaction (see
//! [`crate::db`]), so a provider whose generation is the one cached has the cached state.

use super::{fetch_all, inventories, placeholders, providers, Bind};
use crate::error::PlacementResult;
use crate::types::{Inventory, ResourceProvider};
use monostack_db::{Database, RowExt};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Instant;

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
        s.read_provider_state(db, None).await?;
        for r in fetch_all(db, "SELECT name FROM resource_classes", &[]).await? {
            s.resource_classes.insert(r.text("name")?);
        }
        for r in fetch_all(db, "SELECT name FROM traits", &[]).await? {
            s.trait_names.insert(r.text("name")?);
        }
        Ok(s)
    }

    /// Reads the inventories, usages, traits and aggregates of the providers `only` names (of
    /// every provider when `None`) into this snapshot.
    async fn read_provider_state(&mut self, db: &Database, only: Option<&[&str]>) -> PlacementResult<()> {
        let filter = match only {
            Some(uuids) => format!(" WHERE provider_uuid IN {}", placeholders(uuids.len())),
            None => String::new(),
        };
        let binds: Vec<Bind<'_>> = only.unwrap_or_default().iter().map(|u| Bind::Text(u)).collect();
        for r in fetch_all(db, &format!("SELECT {} FROM inventories{filter}", inventories::COLUMNS), &binds).await? {
            self.inventories.entry(r.text("provider_uuid")?).or_default().insert(r.text("resource_class")?, inventories::from_row(&r)?);
        }
        let sums = format!("SELECT provider_uuid, resource_class, CAST(SUM(used) AS BIGINT) AS used FROM allocations{filter} GROUP BY provider_uuid, resource_class");
        for r in fetch_all(db, &sums, &binds).await? {
            self.usages.entry(r.text("provider_uuid")?).or_default().insert(r.text("resource_class")?, r.int("used")?);
        }
        for r in fetch_all(db, &format!("SELECT provider_uuid, trait FROM provider_traits{filter}"), &binds).await? {
            self.traits.entry(r.text("provider_uuid")?).or_default().insert(r.text("trait")?);
        }
        for r in fetch_all(db, &format!("SELECT provider_uuid, aggregate_uuid FROM provider_aggregates{filter}"), &binds).await? {
            self.aggregates.entry(r.text("provider_uuid")?).or_default().insert(r.text("aggregate_uuid")?);
        }
        Ok(())
    }

    /// Of `names`, the resource classes and the traits that exist (what
    /// [`crate::candidates`] checks a query's names against), without reading every name.
    pub async fn known_names(db: &Database, classes: &[&str], traits: &[&str]) -> PlacementResult<(HashSet<String>, HashSet<String>)> {
        let mut known = (HashSet::new(), HashSet::new());
        for (table, names, out) in [("resource_classes", classes, &mut known.0), ("traits", traits, &mut known.1)] {
            if names.is_empty() {
                continue;
            }
            let binds: Vec<Bind<'_>> = names.iter().map(|n| Bind::Text(n)).collect();
            for r in fetch_all(db, &format!("SELECT name FROM {table} WHERE name IN {}", placeholders(names.len())), &binds).await? {
                out.insert(r.text("name")?);
            }
        }
        Ok(known)
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

/// Above this many providers changed since the cached snapshot, everything is read again.
const PARTIAL_LIMIT: usize = 200;

/// The provider state of the last allocation-candidates request (without the resource class
/// and trait names, which [`Snapshot::known_names`] checks per request). A read lists the
/// providers (the rows are always fresh), then reads again the state of those whose generation
/// differs from the cached one, or that are new.
///
/// One read runs at a time, and a request takes the result of a read that began after the
/// request arrived when there is one: twenty requests in flight share a read or two instead of
/// making twenty, and each still sees every write committed before it arrived.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    /// The snapshot and when the read that made it began.
    current: RwLock<Option<(Instant, Arc<Snapshot>)>>,
    reading: tokio::sync::Mutex<()>,
}

impl SnapshotCache {
    pub async fn load(&self, db: &Database) -> PlacementResult<Arc<Snapshot>> {
        let arrived = Instant::now();
        let _one_read = self.reading.lock().await;
        let cached = match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some((began, snap)) = &cached {
            if *began >= arrived {
                return Ok(snap.clone());
            }
        }
        let began = Instant::now();
        let cached = cached.map(|(_, snap)| snap);
        let listed = providers::all(db).await?;
        if let Some(cached) = &cached {
            if cached.providers == listed {
                self.install(began, cached.clone());
                return Ok(cached.clone());
            }
        }
        let mut fresh = Snapshot { providers: listed, ..Default::default() };
        fresh.index = fresh.providers.iter().enumerate().map(|(i, p)| (p.uuid.clone(), i)).collect();
        let changed: Vec<&str> = match &cached {
            Some(old) => {
                fresh.providers.iter().filter(|p| old.provider(&p.uuid).is_none_or(|o| o.generation != p.generation)).map(|p| p.uuid.as_str()).collect()
            }
            None => Vec::new(),
        };
        match cached {
            Some(old) if changed.len() <= PARTIAL_LIMIT => {
                let keep = |uuid: &String| fresh.index.contains_key(uuid) && !changed.contains(&uuid.as_str());
                let inventories = old.inventories.iter().filter(|(u, _)| keep(u)).map(|(u, v)| (u.clone(), v.clone())).collect();
                let usages = old.usages.iter().filter(|(u, _)| keep(u)).map(|(u, v)| (u.clone(), v.clone())).collect();
                let traits = old.traits.iter().filter(|(u, _)| keep(u)).map(|(u, v)| (u.clone(), v.clone())).collect();
                let aggregates = old.aggregates.iter().filter(|(u, _)| keep(u)).map(|(u, v)| (u.clone(), v.clone())).collect();
                let changed: Vec<String> = changed.iter().map(|u| u.to_string()).collect();
                fresh.inventories = inventories;
                fresh.usages = usages;
                fresh.traits = traits;
                fresh.aggregates = aggregates;
                let refs: Vec<&str> = changed.iter().map(String::as_str).collect();
                for chunk in refs.chunks(100) {
                    fresh.read_provider_state(db, Some(chunk)).await?;
                }
            }
            _ => fresh.read_provider_state(db, None).await?,
        }
        let fresh = Arc::new(fresh);
        self.install(began, fresh.clone());
        Ok(fresh)
    }

    fn install(&self, began: Instant, snap: Arc<Snapshot>) {
        match self.current.write() {
            Ok(mut guard) => *guard = Some((began, snap)),
            Err(poisoned) => *poisoned.into_inner() = Some((began, snap)),
        }
    }
}
