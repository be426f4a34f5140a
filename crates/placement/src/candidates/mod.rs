//! `GET /allocation_candidates`: every way the request groups can be satisfied together by
//! one provider tree (plus the sharing providers associated with it by aggregate).
//!
//! Per request group the search lists "group requests" anchored at a tree root:
//! - the unsuffixed group may spread its classes over providers of one tree and the sharing
//!   providers of that tree, one provider per class; its required traits must be met by the
//!   chosen providers together, its forbidden traits by none of them; an aggregate on a root
//!   counts for the whole tree;
//! - a suffixed group is met by one provider alone (its own traits and aggregates); a sharing
//!   provider counts for every tree it shares with.
//!
//! Then, per anchor, one group request of each group is combined (depth first, pruned as
//! soon as a partial combination over-commits a provider or breaks `group_policy=isolate`),
//! `same_subtree` is checked, and identical results are folded. The order is stable: trees in
//! provider creation order. `limit` stops the search early.

use crate::db::snapshot::Snapshot;
use crate::error::{PlacementError, PlacementResult};
use crate::standard::MISC_SHARES_VIA_AGGREGATE;
use crate::types::{AllocationCandidates, AllocationRequest, AllocationResources, CandidateQuery, GroupPolicy, ProviderSummary, RequestGroup, ResourceSummary};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// A hard ceiling on the candidates of one request without `limit`, so that a query over very
/// wide trees cannot keep a server busy for minutes.
pub const MAX_CANDIDATES: usize = 100_000;

/// One way one group is met: amounts per (provider index, class), and the providers that
/// satisfied the group (for `mappings`).
#[derive(Debug, Clone)]
struct GroupRequest {
    parts: Vec<(usize, String, i64)>,
    providers: BTreeSet<usize>,
}

struct Search<'a> {
    snap: &'a Snapshot,
    query: &'a CandidateQuery,
    /// Provider indexes of each root, by root index.
    trees: BTreeMap<usize, Vec<usize>>,
    /// For each sharing provider, the roots of the trees it shares with.
    sharing_anchors: HashMap<usize, BTreeSet<usize>>,
}

impl crate::PlacementService {
    /// Reads the current state and searches it, off the async workers (the search is CPU work).
    ///
    /// The provider state comes from the service's [`crate::db::snapshot::SnapshotCache`]
    /// (read again for the providers that changed); the names the query uses are checked
    /// against the database for every request.
    pub async fn allocation_candidates(&self, query: &CandidateQuery, nested_aware: bool) -> PlacementResult<AllocationCandidates> {
        let classes: BTreeSet<&str> = query.groups.values().flat_map(|g| g.resources.keys().map(String::as_str)).collect();
        let traits: BTreeSet<&str> = query
            .groups
            .values()
            .flat_map(|g| g.required.iter().flatten().chain(g.forbidden.iter()))
            .chain(query.root_required.iter().chain(query.root_forbidden.iter()))
            .map(String::as_str)
            .collect();
        let classes: Vec<&str> = classes.into_iter().collect();
        let traits: Vec<&str> = traits.into_iter().collect();
        let (known_classes, known_traits) = Snapshot::known_names(&self.db, &classes, &traits).await?;
        let snap = self.snapshots.load(&self.db).await?;
        let query = query.clone();
        tokio::task::spawn_blocking(move || {
            check_names(&known_classes, &known_traits, &query)?;
            search(&snap, &query, nested_aware)
        })
        .await
        .map_err(|e| PlacementError::Internal(format!("candidate search failed: {e}")))?
    }
}

/// Validates names against the snapshot and runs the search. `nested_aware` is false before
/// 1.29, when results may only use trees of a single provider.
pub fn find(snap: &Snapshot, query: &CandidateQuery, nested_aware: bool) -> PlacementResult<AllocationCandidates> {
    check_names(&snap.resource_classes, &snap.trait_names, query)?;
    search(snap, query, nested_aware)
}

/// The search itself, on names already checked.
fn search(snap: &Snapshot, query: &CandidateQuery, nested_aware: bool) -> PlacementResult<AllocationCandidates> {
    let search = Search::new(snap, query);
    let limit = query.limit.unwrap_or(MAX_CANDIDATES).min(MAX_CANDIDATES);
    // Identical results are folded; they are found by hash, without copying each result.
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut results: Vec<Consolidated> = Vec::new();
    for (&anchor, members) in &search.trees {
        if !nested_aware && members.len() > 1 {
            continue;
        }
        if !search.anchor_allowed(anchor) {
            continue;
        }
        let per_group: Vec<(&String, Vec<GroupRequest>)> = query.groups.iter().map(|(s, g)| (s, search.group_requests(anchor, s, g))).collect();
        if per_group.iter().any(|(_, reqs)| reqs.is_empty()) {
            continue;
        }
        let mut chosen: Vec<&GroupRequest> = Vec::new();
        search.combine(&per_group, &mut chosen, &mut |combo| {
            let (allocs, mappings) = consolidate(&per_group, combo);
            if !nested_aware && allocs.keys().any(|p| search.tree_size_of(*p) > 1) {
                return true;
            }
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (&allocs, &mappings).hash(&mut hasher);
            let same_hash = seen.entry(hasher.finish()).or_default();
            if !same_hash.iter().any(|&i| results[i].0 == allocs && results[i].1 == mappings) {
                same_hash.push(results.len());
                results.push((allocs, mappings));
            }
            results.len() < limit
        });
        if results.len() >= limit {
            break;
        }
    }
    Ok(render(snap, &results))
}

fn check_names(resource_classes: &HashSet<String>, trait_names: &HashSet<String>, query: &CandidateQuery) -> PlacementResult<()> {
    for g in query.groups.values() {
        if let Some(rc) = g.resources.keys().find(|rc| !resource_classes.contains(*rc)) {
            return Err(PlacementError::bad_request(format!("Invalid resource class in resources parameter: No such resource class {rc}.")));
        }
    }
    let mut unknown: BTreeSet<&String> = BTreeSet::new();
    for g in query.groups.values() {
        unknown.extend(g.required.iter().flatten().chain(g.forbidden.iter()).filter(|t| !trait_names.contains(*t)));
    }
    unknown.extend(query.root_required.iter().chain(query.root_forbidden.iter()).filter(|t| !trait_names.contains(*t)));
    if !unknown.is_empty() {
        let names: Vec<&str> = unknown.into_iter().map(String::as_str).collect();
        return Err(PlacementError::bad_request(format!("No such trait(s): {}.", names.join(", "))));
    }
    Ok(())
}

impl<'a> Search<'a> {
    fn new(snap: &'a Snapshot, query: &'a CandidateQuery) -> Self {
        let mut trees: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        let mut tree_aggs: HashMap<usize, BTreeSet<&String>> = HashMap::new();
        for (i, p) in snap.providers.iter().enumerate() {
            let Some(&root) = snap.index.get(&p.root_provider_uuid) else { continue };
            trees.entry(root).or_default().push(i);
            tree_aggs.entry(root).or_default().extend(snap.aggregates_of(&p.uuid).iter());
        }
        let mut sharing_anchors: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        for (i, p) in snap.providers.iter().enumerate() {
            if !snap.traits_of(&p.uuid).contains(MISC_SHARES_VIA_AGGREGATE) {
                continue;
            }
            let aggs = snap.aggregates_of(&p.uuid);
            let mut anchors: BTreeSet<usize> = tree_aggs.iter().filter(|(_, ta)| aggs.iter().any(|a| ta.contains(a))).map(|(r, _)| *r).collect();
            if let Some(&root) = snap.index.get(&p.root_provider_uuid) {
                anchors.insert(root);
            }
            sharing_anchors.insert(i, anchors);
        }
        Search { snap, query, trees, sharing_anchors }
    }

    fn uuid(&self, i: usize) -> &str {
        &self.snap.providers[i].uuid
    }

    fn root_index(&self, i: usize) -> Option<usize> {
        self.snap.index.get(&self.snap.providers[i].root_provider_uuid).copied()
    }

    fn tree_size_of(&self, i: usize) -> usize {
        self.root_index(i).and_then(|r| self.trees.get(&r)).map_or(1, Vec::len)
    }

    /// `root_required` on the anchor's root.
    fn anchor_allowed(&self, anchor: usize) -> bool {
        let traits = self.snap.traits_of(self.uuid(anchor));
        self.query.root_required.iter().all(|t| traits.contains(t)) && self.query.root_forbidden.is_disjoint(traits)
    }

    /// Whether provider `i` lies in the tree of `in_tree` (when given).
    fn in_tree(&self, i: usize, in_tree: Option<&String>) -> bool {
        match in_tree {
            None => true,
            Some(t) => self.snap.root_of(t).is_some_and(|root| root == self.snap.providers[i].root_provider_uuid),
        }
    }

    /// Aggregate rules of a group on provider `i`; the unsuffixed group also counts the
    /// aggregates of the provider's root.
    fn aggregates_ok(&self, i: usize, g: &RequestGroup, with_root: bool) -> bool {
        let own = self.snap.aggregates_of(self.uuid(i));
        let root = if with_root { self.snap.aggregates_of(&self.snap.providers[i].root_provider_uuid) } else { own };
        let has = |a: &String| own.contains(a) || root.contains(a);
        g.member_of.iter().all(|any| any.iter().any(has)) && !g.forbidden_aggregates.iter().any(has)
    }

    fn traits_ok(traits: &BTreeSet<String>, g: &RequestGroup) -> bool {
        g.required.iter().all(|any| any.iter().any(|t| traits.contains(t))) && g.forbidden.is_disjoint(traits)
    }

    /// The group requests of group `g` anchored at `anchor`.
    fn group_requests(&self, anchor: usize, suffix: &str, g: &RequestGroup) -> Vec<GroupRequest> {
        if suffix.is_empty() {
            self.spread_requests(anchor, g)
        } else {
            self.single_requests(anchor, g)
        }
    }

    /// Providers usable for the tree of `anchor`: its own, then sharing ones.
    fn pool(&self, anchor: usize) -> Vec<usize> {
        let mut pool = self.trees.get(&anchor).cloned().unwrap_or_default();
        let mut sharing: Vec<usize> = self.sharing_anchors.iter().filter(|(p, anchors)| anchors.contains(&anchor) && !pool.contains(p)).map(|(p, _)| *p).collect();
        sharing.sort_unstable();
        pool.extend(sharing);
        pool
    }

    /// The unsuffixed group: one provider per class, from the tree and its sharing providers.
    fn spread_requests(&self, anchor: usize, g: &RequestGroup) -> Vec<GroupRequest> {
        let pool: Vec<usize> = self
            .pool(anchor)
            .into_iter()
            .filter(|&p| self.in_tree(p, g.in_tree.as_ref()) && self.aggregates_ok(p, g, true) && g.forbidden.is_disjoint(self.snap.traits_of(self.uuid(p))))
            .collect();
        if g.resources.is_empty() {
            return pool.iter().filter(|&&p| Self::traits_ok(self.snap.traits_of(self.uuid(p)), g)).map(|&p| GroupRequest { parts: vec![], providers: BTreeSet::from([p]) }).collect();
        }
        let options: Vec<(&String, i64, Vec<usize>)> =
            g.resources.iter().map(|(rc, n)| (rc, *n, pool.iter().copied().filter(|&p| self.snap.fits(self.uuid(p), rc, *n)).collect())).collect();
        if options.iter().any(|(_, _, ps)| ps.is_empty()) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut pick = vec![0usize; options.len()];
        loop {
            let providers: BTreeSet<usize> = pick.iter().zip(&options).map(|(&k, (_, _, ps))| ps[k]).collect();
            let traits: BTreeSet<String> = providers.iter().flat_map(|&p| self.snap.traits_of(self.uuid(p)).iter().cloned()).collect();
            if Self::traits_ok(&traits, g) {
                let parts = pick.iter().zip(&options).map(|(&k, (rc, n, ps))| (ps[k], rc.to_string(), *n)).collect();
                out.push(GroupRequest { parts, providers });
            }
            if !advance(&mut pick, &options.iter().map(|(_, _, ps)| ps.len()).collect::<Vec<_>>()) {
                return out;
            }
        }
    }

    /// A suffixed group: every single provider of the tree (or sharing with it) that meets it.
    fn single_requests(&self, anchor: usize, g: &RequestGroup) -> Vec<GroupRequest> {
        self.pool(anchor)
            .into_iter()
            .filter(|&p| {
                let uuid = self.uuid(p);
                self.in_tree(p, g.in_tree.as_ref())
                    && self.aggregates_ok(p, g, false)
                    && Self::traits_ok(self.snap.traits_of(uuid), g)
                    && g.resources.iter().all(|(rc, n)| self.snap.fits(uuid, rc, *n))
            })
            .map(|p| GroupRequest { parts: g.resources.iter().map(|(rc, n)| (p, rc.clone(), *n)).collect(), providers: BTreeSet::from([p]) })
            .collect()
    }

    /// Depth-first over one group request per group; `emit` returns false to stop.
    fn combine<'r>(&self, groups: &'r [(&String, Vec<GroupRequest>)], chosen: &mut Vec<&'r GroupRequest>, emit: &mut dyn FnMut(&[&GroupRequest]) -> bool) -> bool {
        let depth = chosen.len();
        if depth == groups.len() {
            if !self.same_subtree_ok(groups, chosen) {
                return true;
            }
            return emit(chosen);
        }
        for req in &groups[depth].1 {
            chosen.push(req);
            let viable = self.fits_together(chosen) && self.isolated(groups, chosen);
            let go_on = !viable || self.combine(groups, chosen, emit);
            chosen.pop();
            if !go_on {
                return false;
            }
        }
        true
    }

    /// Whether the combined amounts still fit every provider (capacity and max_unit).
    fn fits_together(&self, chosen: &[&GroupRequest]) -> bool {
        let mut sums: HashMap<(usize, &str), i64> = HashMap::new();
        for (p, rc, n) in chosen.iter().flat_map(|r| r.parts.iter()) {
            *sums.entry((*p, rc.as_str())).or_default() += n;
        }
        sums.iter().all(|((p, rc), total)| {
            let uuid = self.uuid(*p);
            self.snap.inventory(uuid, rc).is_some_and(|inv| *total <= inv.max_unit && self.snap.used(uuid, rc) + total <= inv.capacity())
        })
    }

    /// `group_policy=isolate`: suffixed groups on pairwise different providers.
    fn isolated(&self, groups: &[(&String, Vec<GroupRequest>)], chosen: &[&GroupRequest]) -> bool {
        if self.query.group_policy != Some(GroupPolicy::Isolate) {
            return true;
        }
        let mut used = HashSet::new();
        chosen.iter().zip(groups).filter(|(_, (s, _))| !s.is_empty()).all(|(r, _)| r.providers.iter().all(|p| used.insert(*p)))
    }

    /// `same_subtree`: among the providers of the named groups, one is an ancestor of all.
    fn same_subtree_ok(&self, groups: &[(&String, Vec<GroupRequest>)], chosen: &[&GroupRequest]) -> bool {
        self.query.same_subtree.iter().all(|suffixes| {
            let providers: BTreeSet<usize> =
                chosen.iter().zip(groups).filter(|(_, (s, _))| suffixes.contains(*s)).flat_map(|(r, _)| r.providers.iter().copied()).collect();
            if providers.len() <= 1 {
                return true;
            }
            let lineages: Vec<Vec<String>> = providers.iter().map(|&p| self.snap.ancestors(self.uuid(p))).collect();
            providers.iter().any(|&p| lineages.iter().all(|l| l.iter().any(|a| a == self.uuid(p))))
        })
    }
}

/// Odometer step over choices; false when every combination has been visited.
fn advance(pick: &mut [usize], sizes: &[usize]) -> bool {
    for i in (0..pick.len()).rev() {
        pick[i] += 1;
        if pick[i] < sizes[i] {
            return true;
        }
        pick[i] = 0;
    }
    false
}

type Consolidated = (BTreeMap<usize, BTreeMap<String, i64>>, BTreeMap<String, BTreeSet<usize>>);

fn consolidate(groups: &[(&String, Vec<GroupRequest>)], combo: &[&GroupRequest]) -> Consolidated {
    let mut allocs: BTreeMap<usize, BTreeMap<String, i64>> = BTreeMap::new();
    let mut mappings: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (req, (suffix, _)) in combo.iter().zip(groups) {
        for (p, rc, n) in &req.parts {
            *allocs.entry(*p).or_default().entry(rc.clone()).or_default() += n;
        }
        mappings.entry(suffix.to_string()).or_default().extend(req.providers.iter().copied());
    }
    (allocs, mappings)
}

fn render(snap: &Snapshot, results: &[Consolidated]) -> AllocationCandidates {
    let uuid = |i: &usize| snap.providers[*i].uuid.clone();
    let mut roots: BTreeSet<String> = BTreeSet::new();
    let allocation_requests = results
        .iter()
        .map(|(allocs, mappings)| {
            for p in allocs.keys().chain(mappings.values().flatten()) {
                roots.insert(snap.providers[*p].root_provider_uuid.clone());
            }
            AllocationRequest {
                allocations: allocs.iter().map(|(p, r)| (uuid(p), AllocationResources { resources: r.clone(), generation: None })).collect(),
                mappings: mappings.iter().map(|(s, ps)| (s.clone(), ps.iter().map(uuid).collect())).collect(),
            }
        })
        .collect();
    let provider_summaries = snap
        .providers
        .iter()
        .filter(|p| roots.contains(&p.root_provider_uuid))
        .map(|p| {
            let resources = snap
                .inventories
                .get(&p.uuid)
                .map(|invs| invs.iter().map(|(rc, inv)| (rc.clone(), ResourceSummary { capacity: inv.capacity(), used: snap.used(&p.uuid, rc) })).collect())
                .unwrap_or_default();
            let summary = ProviderSummary {
                resources,
                traits: snap.traits_of(&p.uuid).iter().cloned().collect(),
                parent_provider_uuid: p.parent_provider_uuid.clone(),
                root_provider_uuid: p.root_provider_uuid.clone(),
            };
            (p.uuid.clone(), summary)
        })
        .collect();
    AllocationCandidates { allocation_requests, provider_summaries }
}

#[cfg(test)]
mod tests;
