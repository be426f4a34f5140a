//! Cold migration/resize and live migration between fake nodes. During a migration the guest
//! exists on the source and the destination node; each step names which one it works on.

use super::{FakeDriver, FakeInstance, FakeOperation};
use crate::virt::{
    BlockDeviceInfo, FinishMigrationRequest, InstanceRef, LifecycleTransition, LiveMigrateData,
    LiveMigrationCheck, MigrateDiskRequest, MigrationDiskInfo, MigrationInfo, PowerState,
    RevertMigrationRequest, SpawnRequest, Vif, VirtError, VirtResult,
};
use serde_json::json;

fn key(uuid: &str, node: &str) -> (String, String) {
    (uuid.to_string(), node.to_string())
}

impl FakeDriver {
    /// Source side of a cold migration: refuses to shrink disks, powers the guest off and
    /// keeps a copy of it for a revert.
    pub(super) async fn migrate_out(
        &self,
        instance: &InstanceRef,
        request: &MigrateDiskRequest,
    ) -> VirtResult<MigrationDiskInfo> {
        let source = &request.migration.source_node;
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::MigrateDisk, instance, source)?;
        let (transition, root_gb) = {
            let mut guests = self.guests.lock();
            let guest = guests
                .by_key
                .get_mut(&key(&instance.uuid, source))
                .ok_or_else(|| VirtError::not_found(&instance.uuid))?;
            let new = &request.new_flavor;
            if new.root_gb < guest.flavor.root_gb || new.ephemeral_gb < guest.flavor.ephemeral_gb {
                return Err(VirtError::ResizeError {
                    reason: "Unable to resize disk down.".into(),
                });
            }
            let transition = guest.power_off();
            let backup = guest.clone();
            let root_gb = backup.flavor.root_gb;
            guests.resize_backups.insert(instance.uuid.clone(), backup);
            (transition, root_gb)
        };
        self.emit(&instance.uuid, source, transition);
        Ok(MigrationDiskInfo(json!({
            "disks": [{"path": format!("{}/disk", instance.uuid), "type": "raw", "virt_disk_size": root_gb << 30}]
        })))
    }

    /// Destination side: the guest appears on the destination with the instance's (new)
    /// flavor; for a same-node resize the existing guest takes the new flavor.
    pub(super) async fn migrate_in(
        &self,
        instance: &InstanceRef,
        request: &FinishMigrationRequest,
    ) -> VirtResult<()> {
        let migration = &request.migration;
        let dest = &migration.dest_node;
        self.require_node(dest)?;
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::FinishMigration, instance, dest)?;
        let transition = {
            let mut guests = self.guests.lock();
            let slot = key(&instance.uuid, dest);
            if migration.is_same_node() {
                let guest = guests
                    .by_key
                    .get_mut(&slot)
                    .ok_or_else(|| VirtError::not_found(&instance.uuid))?;
                guest.flavor = instance.flavor.clone();
                guest.finish_build(request.power_on)
            } else {
                if guests.by_key.contains_key(&slot) {
                    return Err(VirtError::InstanceExists {
                        instance: instance.uuid.clone(),
                        node: dest.clone(),
                    });
                }
                let spawn = SpawnRequest {
                    image_meta: request.image_meta.clone(),
                    network_info: request.network_info.clone(),
                    block_device_info: request.block_device_info.clone(),
                    power_on: request.power_on,
                    ..SpawnRequest::default()
                };
                let mut guest =
                    FakeInstance::building(instance, dest, &spawn, self.next_console_port());
                let transition = guest.finish_build(request.power_on);
                guests.by_key.insert(slot, guest);
                transition
            }
        };
        self.emit(&instance.uuid, dest, transition);
        Ok(())
    }

    /// Source side of a confirm: drops the revert copy and, unless source and destination are
    /// the same node, the source guest.
    pub(super) async fn confirm(
        &self,
        instance: &InstanceRef,
        migration: &MigrationInfo,
    ) -> VirtResult<()> {
        self.simulate(self.config.action_delay).await;
        let mut guests = self.guests.lock();
        guests.resize_backups.remove(&instance.uuid);
        if !migration.is_same_node() {
            guests.by_key.remove(&key(&instance.uuid, &migration.source_node));
        }
        Ok(())
    }

    /// Source side of a revert: the guest comes back from its copy with the old flavor.
    pub(super) async fn revert(
        &self,
        instance: &InstanceRef,
        request: &RevertMigrationRequest,
    ) -> VirtResult<()> {
        let source = &request.migration.source_node;
        self.require_node(source)?;
        self.simulate(self.config.action_delay).await;
        let transition = {
            let mut guests = self.guests.lock();
            let slot = key(&instance.uuid, source);
            if let Some(backup) = guests.resize_backups.remove(&instance.uuid) {
                guests.by_key.insert(slot.clone(), backup);
            }
            let guest =
                guests.by_key.get_mut(&slot).ok_or_else(|| VirtError::not_found(&instance.uuid))?;
            if request.power_on {
                guest.power_on()
            } else {
                guest.power_off()
            }
        };
        self.emit(&instance.uuid, source, transition);
        Ok(())
    }

    /// Destination check: a known node, not the source, not already holding the guest.
    pub(super) fn check_destination(
        &self,
        instance: &InstanceRef,
        check: &LiveMigrationCheck,
    ) -> VirtResult<LiveMigrateData> {
        self.require_node(&check.dest_node)?;
        let precheck = |reason: String| VirtError::MigrationPreCheckError { reason };
        if check.dest_host == check.source_host && check.dest_node == check.source_node {
            return Err(precheck(format!("{} is the instance's current node", check.dest_node)));
        }
        if self.guests.lock().by_key.contains_key(&key(&instance.uuid, &check.dest_node)) {
            return Err(precheck(format!(
                "instance {} already exists on {}",
                instance.uuid, check.dest_node
            )));
        }
        let block_migration = check.block_migration.unwrap_or(true);
        Ok(LiveMigrateData {
            source_host: check.source_host.clone(),
            source_node: check.source_node.clone(),
            dest_host: check.dest_host.clone(),
            dest_node: check.dest_node.clone(),
            block_migration,
            disk_over_commit: check.disk_over_commit,
            is_shared_instance_path: !block_migration,
            driver_data: json!({"cpu_arch": self.config.cpu_arch}),
        })
    }

    /// Source check: the guest is here and running (or paused).
    pub(super) fn check_source(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<LiveMigrateData> {
        let state = self.with_guest(&instance.uuid, &data.source_node, |g| Ok(g.power_state))?;
        if !matches!(state, PowerState::Running | PowerState::Paused) {
            return Err(VirtError::MigrationPreCheckError {
                reason: format!("instance {} is {state}, not running", instance.uuid),
            });
        }
        Ok(data.clone())
    }

    /// Destination preparation: an incoming guest (not yet running) with its NICs and volumes.
    pub(super) async fn prepare_incoming(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
        network_info: &[Vif],
        block_device_info: &BlockDeviceInfo,
    ) -> VirtResult<LiveMigrateData> {
        let dest = &data.dest_node;
        self.require_node(dest)?;
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::PreLiveMigration, instance, dest)?;
        let mut guests = self.guests.lock();
        let slot = key(&instance.uuid, dest);
        if guests.by_key.contains_key(&slot) {
            return Err(VirtError::InstanceExists {
                instance: instance.uuid.clone(),
                node: dest.clone(),
            });
        }
        let mut guest = FakeInstance::building(
            instance,
            dest,
            &SpawnRequest::default(),
            self.next_console_port(),
        );
        guest.plug(network_info, &block_device_info.volumes);
        guest.incoming_migration = true;
        guests.by_key.insert(slot, guest);
        Ok(data.clone())
    }

    /// The move itself, on the source: the source guest stops; if this driver also holds the
    /// destination, the guest continues there in the state it had.
    pub(super) async fn move_live(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<()> {
        let source = &data.source_node;
        self.simulate(self.config.action_delay).await;
        self.check_fault(FakeOperation::LiveMigration, instance, source)?;
        {
            let mut guests = self.guests.lock();
            let guest = guests
                .by_key
                .get_mut(&key(&instance.uuid, source))
                .ok_or_else(|| VirtError::not_found(&instance.uuid))?;
            let state = guest.power_state;
            guest.log(format!("live migration to {} completed", data.dest_node));
            guest.power_state = PowerState::Shutdown;
            if let Some(incoming) = guests.by_key.get_mut(&key(&instance.uuid, &data.dest_node)) {
                incoming.power_state = state;
                incoming.log(format!("resumed after live migration from {source}"));
            }
        }
        self.emit(&instance.uuid, source, Some(LifecycleTransition::MigrationCompleted));
        Ok(())
    }

    /// Rollback on the destination: removes the incoming guest (never a settled one).
    pub(super) fn drop_incoming(&self, instance: &InstanceRef, data: &LiveMigrateData) {
        let mut guests = self.guests.lock();
        let slot = key(&instance.uuid, &data.dest_node);
        if guests.by_key.get(&slot).is_some_and(|g| g.incoming_migration) {
            guests.by_key.remove(&slot);
        }
    }

    /// Destination after success: the incoming guest becomes an ordinary one, running unless
    /// it came over paused.
    pub(super) fn settle_incoming(
        &self,
        instance: &InstanceRef,
        data: &LiveMigrateData,
    ) -> VirtResult<()> {
        let dest = &data.dest_node;
        let started = self.with_guest(&instance.uuid, dest, |g| {
            g.incoming_migration = false;
            if g.power_state == PowerState::NoState {
                g.power_state = PowerState::Running;
                g.log(format!("resumed after live migration from {}", data.source_node));
                return Ok(true);
            }
            Ok(false)
        })?;
        self.emit(&instance.uuid, dest, started.then_some(LifecycleTransition::Started));
        Ok(())
    }
}
