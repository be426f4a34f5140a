//! Building, removing and snapshotting guests.

use super::{FakeDriver, FakeInstance, FakeOperation};
use crate::virt::{
    InstanceRef, SnapshotImage, SpawnProgress, SpawnRequest, SpawnStep, VirtError, VirtResult,
};

/// Spawn steps and the progress reported after each.
const SPAWN_STEPS: [(SpawnStep, u8); 5] = [
    (SpawnStep::PreparingImage, 20),
    (SpawnStep::CreatingDisk, 40),
    (SpawnStep::DefiningGuest, 60),
    (SpawnStep::PluggingVifs, 80),
    (SpawnStep::Starting, 90),
];

impl FakeDriver {
    /// Registers the guest at once (so a concurrent delete can find it), walks the spawn steps
    /// over `spawn_delay`, then boots it. An injected failure leaves nothing behind.
    pub(super) async fn build_guest(
        &self,
        instance: &InstanceRef,
        request: &SpawnRequest,
        progress: &dyn SpawnProgress,
    ) -> VirtResult<()> {
        let node = instance.node.clone();
        self.require_node(&node)?;
        let key = (instance.uuid.clone(), node.clone());
        {
            let mut guests = self.guests.lock();
            if guests.by_key.contains_key(&key) {
                return Err(VirtError::InstanceExists { instance: instance.uuid.clone(), node });
            }
            let port = self.next_console_port();
            guests
                .by_key
                .insert(key.clone(), FakeInstance::building(instance, &node, request, port));
        }
        let step_delay = self.config.spawn_delay / SPAWN_STEPS.len() as u32;
        for (step, percent) in SPAWN_STEPS {
            self.simulate(step_delay).await;
            progress.step(step, percent);
        }
        if let Err(e) = self.check_fault(FakeOperation::Spawn, instance, &node) {
            self.guests.lock().by_key.remove(&key);
            return Err(e);
        }
        let transition = {
            let mut guests = self.guests.lock();
            // Deleted while it was being built: the build fails as it would on a real host.
            let guest =
                guests.by_key.get_mut(&key).ok_or_else(|| VirtError::not_found(&instance.uuid))?;
            guest.finish_build(request.power_on)
        };
        self.emit(&instance.uuid, &node, transition);
        progress.step(SpawnStep::Done, 100);
        tracing::debug!("Fake driver spawned {} ({}) on {node}", instance.name, instance.uuid);
        Ok(())
    }

    /// Removes the guest; a guest that is already gone is not an error.
    pub(super) async fn destroy_guest(&self, instance: &InstanceRef) -> VirtResult<()> {
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::Destroy, instance, &instance.node)?;
        let removed =
            self.guests.lock().by_key.remove(&(instance.uuid.clone(), instance.node.clone()));
        if removed.is_none() {
            tracing::warn!(
                "Fake driver: instance {} not on {}; nothing to destroy",
                instance.uuid,
                instance.node
            );
        }
        Ok(())
    }

    pub(super) async fn snapshot_guest(
        &self,
        instance: &InstanceRef,
        _image_id: &str,
    ) -> VirtResult<SnapshotImage> {
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::Snapshot, instance, &instance.node)?;
        let image = self.with_guest(&instance.uuid, &instance.node, |g| Ok(g.image_id.clone()))?;
        Ok(super::snapshot::snapshot_image(&instance.uuid, image.as_deref()))
    }
}
