//! Nova's quotas (the DbQuotaDriver): limits from the database falling back to the quota class
//! `default` and then to `[quota]` in the configuration, usage counted from the resources
//! themselves (no reservations), and the checks the create paths run.
//!
//! ## Why creates cannot overshoot
//!
//! Usage is counted, not tracked, so two creates that count at the same time could both fit
//! and together exceed the limit. Every create of a project's instances (and every addition to
//! a server group) therefore runs under a per-project lock held from the count until the new
//! rows are committed: [`check_instances`] returns an [`InstanceGrant`] that holds the lock,
//! and the caller drops it after its insert commits. Within one API process this makes
//! count-then-insert atomic, so 100 concurrent creates against a quota of 50 create exactly 50.
//!
//! Several API processes (multi-node, on PostgreSQL or MariaDB) do not share that lock; there
//! Nova's own answer applies: after the insert, [`recheck_instances`] counts again and the
//! caller removes what it created when the project is now over its limit (Nova's
//! `recheck_quota`).

use crate::db::{keypairs as keypair_db, quotas as quota_db};
use crate::ComputeService;
use monostack_common::ApiError;
use monostack_db::RowExt;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// Every quota resource Nova reports, including the nova-network ones it still shows.
pub const RESOURCES: &[&str] = &[
    "instances",
    "cores",
    "ram",
    "metadata_items",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "key_pairs",
    "server_groups",
    "server_group_members",
    "fixed_ips",
    "floating_ips",
    "security_groups",
    "security_group_rules",
];

/// -1: no limit.
pub const UNLIMITED: i64 = -1;

pub type Limits = BTreeMap<&'static str, i64>;

/// The configured default of `resource` (nova-network resources are unlimited).
pub fn configured_default(svc: &ComputeService, resource: &str) -> i64 {
    let q = &svc.config.quota;
    match resource {
        "instances" => q.instances,
        "cores" => q.cores,
        "ram" => q.ram,
        "metadata_items" => q.metadata_items,
        "injected_files" => q.injected_files,
        "injected_file_content_bytes" => q.injected_file_content_bytes,
        "injected_file_path_bytes" => q.injected_file_path_length,
        "key_pairs" => q.key_pairs,
        "server_groups" => q.server_groups,
        "server_group_members" => q.server_group_members,
        _ => UNLIMITED,
    }
}

/// Fills every resource from `set`, falling back to `fallback`.
fn merge(set: &quota_db::Limits, fallback: impl Fn(&'static str) -> i64) -> Limits {
    RESOURCES.iter().map(|r| (*r, set.get(*r).copied().unwrap_or_else(|| fallback(r)))).collect()
}

/// The defaults: the quota class `default`, else the configuration.
pub async fn defaults(svc: &ComputeService) -> Result<Limits, ApiError> {
    let class = quota_db::class_limits(&svc.db, "default").await?;
    Ok(merge(&class, |r| configured_default(svc, r)))
}

/// A quota class's limits, falling back to the configuration (as Nova shows classes).
pub async fn class_limits(svc: &ComputeService, class: &str) -> Result<Limits, ApiError> {
    let set = quota_db::class_limits(&svc.db, class).await?;
    Ok(merge(&set, |r| configured_default(svc, r)))
}

/// The limits of a project: its own, else the defaults.
pub async fn project_limits(svc: &ComputeService, project_id: &str) -> Result<Limits, ApiError> {
    let defaults = defaults(svc).await?;
    let set = quota_db::project_limits(&svc.db, project_id).await?;
    Ok(merge(&set, |r| defaults[r]))
}

/// The limits of a user in a project: the user's own, else the project's.
pub async fn user_limits(svc: &ComputeService, project_id: &str, user_id: &str) -> Result<Limits, ApiError> {
    let project = project_limits(svc, project_id).await?;
    let set = quota_db::user_limits(&svc.db, project_id, user_id).await?;
    Ok(merge(&set, |r| project[r]))
}

/// What a project (or one of its users) uses of the countable resources.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub instances: i64,
    pub cores: i64,
    pub ram: i64,
    pub server_groups: i64,
}

impl Usage {
    /// The in-use figure of `resource` as the quota APIs report it: key pairs and server
    /// group members are per-user and per-group counts that Nova reports as 0 here.
    pub fn of(&self, resource: &str) -> i64 {
        match resource {
            "instances" => self.instances,
            "cores" => self.cores,
            "ram" => self.ram,
            "server_groups" => self.server_groups,
            _ => 0,
        }
    }
}

/// Counts the live instances (with their vCPUs and RAM from the flavor they were built with)
/// and server groups of a project, or of one user in it.
pub async fn usage(svc: &ComputeService, project_id: &str, user_id: Option<&str>) -> Result<Usage, ApiError> {
    let db = &svc.db;
    let user_clause = if user_id.is_some() { " AND user_id = ?" } else { "" };
    let sql = format!("SELECT flavor FROM instances WHERE project_id = ? AND deleted = 0 AND hidden = 0{user_clause}");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql).bind(project_id.to_string());
    if let Some(u) = user_id {
        q = q.bind(u.to_string());
    }
    let mut usage = Usage::default();
    for row in q.fetch_all(&db.pool).await? {
        let (vcpus, ram) = flavor_size(&row.text("flavor")?);
        usage.instances += 1;
        usage.cores += vcpus;
        usage.ram += ram;
    }
    let sql = format!("SELECT COUNT(*) FROM instance_groups WHERE project_id = ?{user_clause}");
    let sql = db.sql(&sql);
    let mut q = sqlx::query_as::<_, (i64,)>(&sql).bind(project_id.to_string());
    if let Some(u) = user_id {
        q = q.bind(u.to_string());
    }
    usage.server_groups = q.fetch_one(&db.pool).await?.0;
    Ok(usage)
}

/// `vcpus` and `memory_mb` of an instance's stored flavor (Nova's Flavor object as JSON).
/// A flavor document without them counts as zero: it cannot be charged for what it lacks.
pub fn flavor_size(flavor_json: &str) -> (i64, i64) {
    let doc: serde_json::Value = serde_json::from_str(flavor_json).unwrap_or_default();
    let field = |name: &str| doc.get(name).and_then(serde_json::Value::as_i64).unwrap_or(0);
    (field("vcpus"), field("memory_mb"))
}

/// In-process locks serialising quota-checked creates, one per key (a project, or a group).
#[derive(Debug, Default)]
pub struct QuotaLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl QuotaLocks {
    /// Waits for the lock of `key`; the guard releases it.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Forget locks nobody holds or waits for, so the map stays as small as the set
            // of projects creating right now.
            map.retain(|_, l| Arc::strong_count(l) > 1);
            map.entry(key.to_string()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// Permission to create `count` instances: keep it until the instance rows are committed, so
/// no other create of the project counts in between.
#[derive(Debug)]
pub struct InstanceGrant {
    pub count: u32,
    _lock: OwnedMutexGuard<()>,
}

/// One resource that a request would take over its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Over {
    resource: &'static str,
    requested: String,
    used: i64,
    limit: i64,
}

/// Nova's 403 for a create over quota: "Quota exceeded for cores: Requested 4, but already
/// used 18 of 20 cores".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QuotaExceeded(pub String);

impl From<QuotaExceeded> for ApiError {
    fn from(e: QuotaExceeded) -> ApiError {
        ApiError::forbidden(e.0)
    }
}

fn exceeded(overs: &[Over]) -> QuotaExceeded {
    let join = |f: &dyn Fn(&Over) -> String| overs.iter().map(f).collect::<Vec<_>>().join(", ");
    let names = join(&|o| o.resource.to_string());
    QuotaExceeded(format!(
        "Quota exceeded for {names}: Requested {}, but already used {} of {} {names}",
        join(&|o| o.requested.clone()),
        join(&|o| o.used.to_string()),
        join(&|o| o.limit.to_string()),
    ))
}

/// Checks a create of `count_min..=count_max` instances of `vcpus` and `ram_mb` each against
/// the project's limits (and the user's, when the user has limits of their own) and says how
/// many may be created: `count_max` when they fit, fewer (but at least `count_min`) when only
/// that many fit, else Nova's 403. Hold the grant until the instances are committed.
pub async fn check_instances(
    svc: &ComputeService,
    project_id: &str,
    user_id: &str,
    count_min: u32,
    count_max: u32,
    vcpus: i64,
    ram_mb: i64,
) -> Result<InstanceGrant, ApiError> {
    let lock = svc.quota_locks.lock(&format!("project:{project_id}")).await;
    let request = Request { count_min, count_max, vcpus, ram_mb };
    let count = allowed_instances(svc, project_id, user_id, request).await?;
    Ok(InstanceGrant { count, _lock: lock })
}

/// After the instances of a create were committed: Err when the project (or user) is now over
/// its instance, core or RAM limits, in which case the caller deletes what it created. Only
/// needed where API processes do not share [`check_instances`]' lock.
pub async fn recheck_instances(svc: &ComputeService, project_id: &str, user_id: &str) -> Result<(), ApiError> {
    let nothing_more = Request { count_min: 0, count_max: 0, vcpus: 0, ram_mb: 0 };
    allowed_instances(svc, project_id, user_id, nothing_more).await.map(|_| ())
}

/// How many instances of which size a create asks for.
#[derive(Debug, Clone, Copy)]
struct Request {
    count_min: u32,
    count_max: u32,
    vcpus: i64,
    ram_mb: i64,
}

async fn allowed_instances(svc: &ComputeService, project_id: &str, user_id: &str, req: Request) -> Result<u32, ApiError> {
    let Request { count_min, count_max, vcpus, ram_mb } = req;
    let user_set = quota_db::user_limits(&svc.db, project_id, user_id).await?;
    let per_user = ["instances", "cores", "ram"].iter().any(|r| user_set.contains_key(*r));
    let mut scopes = vec![(project_limits(svc, project_id).await?, usage(svc, project_id, None).await?)];
    if per_user {
        scopes.push((user_limits(svc, project_id, user_id).await?, usage(svc, project_id, Some(user_id)).await?));
    }
    let fits = |n: i64| scopes.iter().all(|(limits, used)| over(limits, used, n, vcpus, ram_mb, "").is_empty());
    if fits(i64::from(count_max)) {
        return Ok(count_max);
    }
    // Nova's headroom: as many as every limit leaves room for.
    let mut allowed = i64::from(count_max);
    for (limits, used) in &scopes {
        allowed = allowed.min(headroom(limits, used, vcpus, ram_mb));
    }
    if allowed > 0 && allowed >= i64::from(count_min) {
        return Ok(u32::try_from(allowed).unwrap_or(count_max));
    }
    let requested = if count_min == count_max { count_min.to_string() } else { format!("{count_min}-{count_max}") };
    let (limits, used) = scopes.iter().rev().find(|(l, u)| !over(l, u, i64::from(count_max), vcpus, ram_mb, "").is_empty()).unwrap_or(&scopes[0]);
    Err(exceeded(&over(limits, used, i64::from(count_max), vcpus, ram_mb, &requested)).into())
}

/// The resources that `count` more instances would take over `limits`, given `used`.
fn over(limits: &Limits, used: &Usage, count: i64, vcpus: i64, ram_mb: i64, requested_instances: &str) -> Vec<Over> {
    let wanted = [("cores", count * vcpus), ("instances", count), ("ram", count * ram_mb)];
    wanted
        .iter()
        .filter(|(r, delta)| {
            let limit = limits[*r];
            limit != UNLIMITED && used.of(r) + delta > limit
        })
        .map(|(r, delta)| Over {
            resource: r,
            requested: if *r == "instances" && !requested_instances.is_empty() { requested_instances.to_string() } else { delta.to_string() },
            used: used.of(r),
            limit: limits[*r],
        })
        .collect()
}

/// How many instances of this size fit in what `limits` leave.
fn headroom(limits: &Limits, used: &Usage, vcpus: i64, ram_mb: i64) -> i64 {
    let per_instance = [("instances", 1), ("cores", vcpus), ("ram", ram_mb)];
    per_instance
        .iter()
        .filter(|(r, size)| *size > 0 && limits[*r] != UNLIMITED)
        .map(|(r, size)| (limits[*r] - used.of(r)).max(0) / size)
        .min()
        .unwrap_or(i64::MAX)
}

/// 403 unless the user may own one more key pair.
pub async fn check_key_pairs(svc: &ComputeService, project_id: &str, user_id: &str) -> Result<(), ApiError> {
    let limit = user_limits(svc, project_id, user_id).await?["key_pairs"];
    let count = keypair_db::count(&svc.db, user_id).await?;
    if limit != UNLIMITED && count + 1 > limit {
        return Err(ApiError::forbidden("Quota exceeded, too many key pairs."));
    }
    Ok(())
}

/// 403 unless the project (and the user, when limited on their own) may own `delta` more
/// server groups (0 rechecks after a create).
pub async fn check_server_groups(svc: &ComputeService, project_id: &str, user_id: &str, delta: i64) -> Result<(), ApiError> {
    let mut scopes = vec![(project_limits(svc, project_id).await?, usage(svc, project_id, None).await?)];
    if quota_db::user_limits(&svc.db, project_id, user_id).await?.contains_key("server_groups") {
        scopes.push((user_limits(svc, project_id, user_id).await?, usage(svc, project_id, Some(user_id)).await?));
    }
    for (limits, used) in scopes {
        let limit = limits["server_groups"];
        if limit != UNLIMITED && used.server_groups + delta > limit {
            return Err(ApiError::forbidden("Quota exceeded, too many server groups."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(instances: i64, cores: i64, ram: i64) -> Limits {
        RESOURCES.iter().map(|r| (*r, UNLIMITED)).chain([("instances", instances), ("cores", cores), ("ram", ram)]).collect()
    }

    #[test]
    fn over_names_every_exceeded_resource() {
        let used = Usage { instances: 9, cores: 18, ram: 1024, server_groups: 0 };
        let overs = over(&limits(10, 20, UNLIMITED), &used, 2, 2, 512, "2");
        assert_eq!(exceeded(&overs).0, "Quota exceeded for cores, instances: Requested 4, 2, but already used 18, 9 of 20, 10 cores, instances");
        assert!(over(&limits(10, 20, 4096), &used, 1, 2, 512, "1").is_empty());
    }

    #[test]
    fn headroom_is_the_tightest_limit() {
        let used = Usage { instances: 2, cores: 4, ram: 1000, server_groups: 0 };
        assert_eq!(headroom(&limits(10, 10, UNLIMITED), &used, 2, 0), 3);
        assert_eq!(headroom(&limits(10, UNLIMITED, 2024), &used, 2, 512), 2);
        assert_eq!(headroom(&limits(UNLIMITED, UNLIMITED, UNLIMITED), &used, 2, 512), i64::MAX);
    }

    #[test]
    fn flavor_sizes_come_from_the_stored_flavor() {
        assert_eq!(flavor_size(r#"{"vcpus": 2, "memory_mb": 2048, "name": "m1.small"}"#), (2, 2048));
        assert_eq!(flavor_size("not json"), (0, 0));
    }
}
