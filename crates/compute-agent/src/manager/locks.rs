//! One operation at a time per instance (Nova's `@synchronized(instance.uuid)`): the bus runs
//! every message on its own task, so two requests for one instance would otherwise interleave.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub(crate) struct InstanceLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl InstanceLocks {
    /// Waits for the instance's lock; held until the guard drops.
    pub(crate) async fn lock(&self, uuid: &str) -> OwnedMutexGuard<()> {
        let lock = self.locks.lock().entry(uuid.to_string()).or_default().clone();
        lock.lock_owned().await
    }

    /// Forgets the locks nobody holds or waits for.
    pub(crate) fn prune(&self) {
        self.locks.lock().retain(|_, lock| Arc::strong_count(lock) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_instance_and_idle_locks_are_pruned() {
        let locks = InstanceLocks::default();
        let guard = locks.lock("a").await;
        assert!(locks.locks.lock()["a"].try_lock().is_err(), "held");
        let _other = locks.lock("b").await;
        drop(guard);
        locks.prune();
        let map = locks.locks.lock();
        assert!(!map.contains_key("a") && map.contains_key("b"));
    }
}
