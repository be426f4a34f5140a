//! The compute nodes as the scheduler sees them, kept between requests, as Nova's HostManager
//! keeps its host states: a request reads only what changed since the previous one.
//!
//! The database stays the source of truth. A refresh lists the live nodes' ids and
//! `updated_at` stamps (two integers a node), and reads again only the nodes whose stamp
//! differs from the cached one, or that are new; nodes gone from the list are dropped. A
//! request uses a refresh that began after it arrived (its own, or one it waited for). Every
//! report of a resource tracker rewrites `updated_at`, so a node changed by any process (an
//! agent through another conductor, a restart) is seen by the next request here. A fresh
//! process, or another conductor, starts from an empty cache and reads everything once.
//!
//! What a node is using is not taken from here: placement's provider summaries, read for
//! every request, override it (see `schedule.rs`), and placement's claims decide in the end.

use monostack_common::ApiError;
use monostack_compute::db::compute_nodes::{self, ComputeNode};
use monostack_db::{Database, RowExt};
use monostack_scheduler::HostState;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// Above this many changed nodes, one listing is cheaper than reading them one by one.
const ONE_BY_ONE: usize = 32;

/// One compute node record and the host state built from it.
#[derive(Debug)]
pub(crate) struct CachedNode {
    pub node: ComputeNode,
    /// The parts of a host state the record gives (resources, hypervisor, cpu_info, stats).
    pub state: HostState,
}

/// The cached nodes, by id; replaced whole by a refresh, so readers never see half of one.
#[derive(Debug, Default)]
struct Nodes {
    by_id: HashMap<i64, (i64, Arc<CachedNode>)>,
    /// In id order.
    ordered: Vec<Arc<CachedNode>>,
    /// When the refresh that made this view began (None: never refreshed).
    began: Option<Instant>,
}

/// One refresh runs at a time, and a request takes the view of a refresh that began after
/// it arrived when there is one: requests in flight share refreshes, and each still sees
/// every change committed before it arrived.
#[derive(Debug, Default)]
pub(crate) struct NodeCache {
    current: RwLock<Arc<Nodes>>,
    refreshing: tokio::sync::Mutex<()>,
}

fn stamp(node: &ComputeNode) -> i64 {
    node.updated_at.unwrap_or(node.created_at)
}

impl NodeCache {
    /// The live compute nodes in id order, read again where the database changed.
    pub(crate) async fn nodes(&self, db: &Database, build: impl Fn(&ComputeNode) -> HostState) -> Result<Vec<Arc<CachedNode>>, ApiError> {
        let arrived = Instant::now();
        let _one_refresh = self.refreshing.lock().await;
        let cached = self.snapshot();
        if cached.began.is_some_and(|began| began >= arrived) {
            return Ok(cached.ordered.clone());
        }
        let began = Instant::now();
        let sql = "SELECT id, COALESCE(updated_at, created_at) AS stamp FROM compute_nodes WHERE deleted = 0";
        let mut live: Vec<(i64, i64)> = Vec::new();
        for row in sqlx::query(sql).fetch_all(&db.pool).await? {
            live.push((row.int("id")?, row.int("stamp")?));
        }
        let changed: Vec<i64> = live
            .iter()
            .filter(|(id, s)| cached.by_id.get(id).is_none_or(|(old, _)| old != s))
            .map(|(id, _)| *id)
            .collect();
        let live_ids: HashSet<i64> = live.iter().map(|(id, _)| *id).collect();
        let gone = cached.by_id.keys().any(|id| !live_ids.contains(id));
        let nodes = if changed.is_empty() && !gone {
            Arc::new(Nodes {
                by_id: cached.by_id.clone(),
                ordered: cached.ordered.clone(),
                began: Some(began),
            })
        } else {
            let mut fresh: Vec<ComputeNode> = Vec::new();
            if changed.len() > ONE_BY_ONE {
                fresh = compute_nodes::list(db).await?;
            } else {
                for id in &changed {
                    // A node deleted since the listing is simply left out.
                    if let Some(node) = compute_nodes::by_id(db, *id).await? {
                        fresh.push(node);
                    }
                }
            }
            let mut by_id: HashMap<i64, (i64, Arc<CachedNode>)> = cached
                .by_id
                .iter()
                .filter(|(id, _)| live_ids.contains(id))
                .map(|(id, entry)| (*id, entry.clone()))
                .collect();
            for node in fresh {
                let state = build(&node);
                by_id.insert(node.id, (stamp(&node), Arc::new(CachedNode { node, state })));
            }
            let mut ordered: Vec<Arc<CachedNode>> = by_id.values().map(|(_, n)| n.clone()).collect();
            ordered.sort_by_key(|n| n.node.id);
            Arc::new(Nodes {
                by_id,
                ordered,
                began: Some(began),
            })
        };
        self.install(nodes.clone());
        Ok(nodes.ordered.clone())
    }

    fn snapshot(&self) -> Arc<Nodes> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn install(&self, nodes: Arc<Nodes>) {
        match self.current.write() {
            Ok(mut guard) => *guard = nodes,
            Err(poisoned) => *poisoned.into_inner() = nodes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use monostack_compute::db::compute_nodes::NodeReport;

    fn report(node: &str, memory_mb: i64) -> NodeReport {
        NodeReport {
            uuid: None,
            service_id: None,
            host: "compute1".into(),
            hypervisor_hostname: node.into(),
            hypervisor_type: "fake".into(),
            hypervisor_version: 1,
            host_ip: None,
            vcpus: 4,
            memory_mb,
            local_gb: 10,
            vcpus_used: 0,
            memory_mb_used: 0,
            local_gb_used: 0,
            running_vms: 0,
            current_workload: 0,
            disk_available_least: None,
            cpu_info: "{}".into(),
            cpu_allocation_ratio: 16.0,
            ram_allocation_ratio: 1.5,
            disk_allocation_ratio: 1.0,
            stats: serde_json::Map::new(),
        }
    }

    fn memory(nodes: &[Arc<CachedNode>]) -> Vec<(String, i64)> {
        nodes
            .iter()
            .map(|n| (n.node.hypervisor_hostname.clone(), n.state.total_usable_ram_mb))
            .collect()
    }

    /// The cache answers what the database holds after every kind of change, including
    /// changes another process made (a second cache on the same database stands for it), and
    /// a fresh cache (a restart) reads the same.
    #[tokio::test]
    async fn the_cache_follows_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(None, dir.path(), "compute", 4).await.unwrap();
        db.migrate(monostack_compute::db::schema::MIGRATIONS).await.unwrap();
        let build = |n: &ComputeNode| {
            let mut s = HostState::new(&n.host, &n.hypervisor_hostname, &n.uuid);
            s.total_usable_ram_mb = n.memory_mb;
            s
        };
        let cache = NodeCache::default();
        assert!(cache.nodes(&db, build).await.unwrap().is_empty());
        compute_nodes::upsert(&db, &report("n1", 1024)).await.unwrap();
        compute_nodes::upsert(&db, &report("n2", 2048)).await.unwrap();
        let first = cache.nodes(&db, build).await.unwrap();
        assert_eq!(memory(&first), vec![("n1".into(), 1024), ("n2".into(), 2048)]);
        // Unchanged nodes are the cached ones, not read again.
        let again = cache.nodes(&db, build).await.unwrap();
        assert!(Arc::ptr_eq(&first[0], &again[0]) && Arc::ptr_eq(&first[1], &again[1]));
        // A report changes n2 (updated_at moves); n3 appears; n1 is deleted.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        compute_nodes::upsert(&db, &report("n2", 4096)).await.unwrap();
        compute_nodes::upsert(&db, &report("n3", 512)).await.unwrap();
        compute_nodes::delete(&db, first[0].node.id).await.unwrap();
        let now = cache.nodes(&db, build).await.unwrap();
        assert_eq!(memory(&now), vec![("n2".into(), 4096), ("n3".into(), 512)]);
        let restarted = NodeCache::default();
        assert_eq!(memory(&restarted.nodes(&db, build).await.unwrap()), memory(&now));
    }
}
