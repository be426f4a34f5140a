//! Shelving: `shelve` powers the guest off and uploads its snapshot as `<name>-shelved`
//! (task shelving → shelving_image_pending_upload → shelving_image_uploading), the instance
//! becomes SHELVED and, with `[compute] shelved_offload_time` 0, is offloaded at once: the
//! guest is destroyed, the host and its allocations freed (SHELVED_OFFLOADED, power
//! SHUTDOWN). Unshelving an offloaded instance spawns it from that image on the host the
//! conductor chose, then deletes the image.

use super::instance::{driver_ref, image_meta};
use super::op::{Failure, OpResult};
use super::ComputeManager;
use crate::virt::{PowerState, SpawnRequest};
use monostack_bus::Context;
use monostack_common::time::{iso_seconds, now_micros};
use monostack_compute::states::{power, task, vm};
use monostack_conductor::agent_api::compute::UnshelveInstance;
use monostack_conductor::agent_api::conductor::{ConductorRequest, SystemMetadataUpdate};
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord};
use std::collections::BTreeMap;
use std::time::Duration;

/// The system metadata keys a shelved instance carries.
const SHELVED_KEYS: &[&str] = &["shelved_at", "shelved_image_id", "shelved_host"];

impl ComputeManager {
    pub(crate) async fn shelve_instance(&self, ctx: &Context, uuid: &str, image_id: &str, clean_shutdown: bool) {
        let Some(op) = self.begin(ctx, uuid, "compute_shelve_instance").await else { return };
        let result = self.shelve(ctx, &op.instance, image_id, clean_shutdown).await;
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                let _ = self.images.delete(ctx, image_id).await;
            }
        }
        let node = op.instance.node.clone();
        self.end(ctx, op, result).await;
        if let Some(node) = node {
            self.update_node_resources(ctx, &node).await;
        }
    }

    async fn shelve(&self, ctx: &Context, instance: &InstanceRecord, image_id: &str, clean_shutdown: bool) -> OpResult {
        let uuid = &instance.uuid;
        let guest = self.guest(instance);
        tracing::info!("{}Shelving", instance.tag());
        let timeout = if clean_shutdown { Duration::from_secs(60) } else { Duration::ZERO };
        self.driver.power_off(&guest, timeout, Duration::from_secs(10)).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::SHELVING_IMAGE_PENDING_UPLOAD.into()))], Some(&[Some(task::SHELVING)])).await?;
        let data = self.driver.snapshot(&guest, image_id).await?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(Some(task::SHELVING_IMAGE_UPLOADING.into()))], Some(&[Some(task::SHELVING_IMAGE_PENDING_UPLOAD)])).await?;
        self.images.upload_snapshot(ctx, image_id, data).await.map_err(Failure::Recoverable)?;
        self.mark_shelved(ctx, instance, Some(image_id)).await?;
        let offload_now = self.config.compute.shelved_offload_time == 0;
        let state = self.power_state(&guest).await;
        let next_task = offload_now.then(|| task::SHELVING_OFFLOADING.to_string());
        let shelved = vec![InstanceField::VmState(vm::SHELVED.into()), InstanceField::TaskState(next_task), InstanceField::PowerState(state)];
        self.save(ctx, uuid, shelved, Some(&[Some(task::SHELVING), Some(task::SHELVING_IMAGE_UPLOADING)])).await?;
        tracing::info!("{}Instance shelved; snapshot {image_id} uploaded", instance.tag());
        if offload_now {
            self.offload(ctx, instance, &[Some(task::SHELVING_OFFLOADING)]).await?;
        }
        Ok(())
    }

    /// Records when and where the instance was shelved (and its image).
    async fn mark_shelved(&self, ctx: &Context, instance: &InstanceRecord, image_id: Option<&str>) -> OpResult {
        let mut set = BTreeMap::from([("shelved_at".to_string(), iso_seconds(now_micros())), ("shelved_host".to_string(), self.host.clone())]);
        if let Some(id) = image_id {
            set.insert("shelved_image_id".into(), id.to_string());
        }
        let update = SystemMetadataUpdate { uuid: instance.uuid.clone(), set, delete: Vec::new() };
        self.conductor.run(ctx, ConductorRequest::SystemMetadataUpdate(update)).await?;
        Ok(())
    }

    pub(crate) async fn shelve_offload_instance(&self, ctx: &Context, uuid: &str, clean_shutdown: bool) {
        let Some(op) = self.begin(ctx, uuid, "compute_shelve_offload_instance").await else { return };
        let instance = op.instance.clone();
        let result = async {
            if instance.vm_state != vm::SHELVED {
                // A volume-backed server is offloaded straight from `shelve`.
                let timeout = if clean_shutdown { Duration::from_secs(60) } else { Duration::ZERO };
                self.driver.power_off(&self.guest(&instance), timeout, Duration::from_secs(10)).await?;
                self.mark_shelved(ctx, &instance, None).await?;
            }
            self.offload(ctx, &instance, &[Some(task::SHELVING_OFFLOADING), Some(task::SHELVING)]).await
        }
        .await;
        self.end(ctx, op, result).await;
    }

    /// Destroys the guest and frees the host: SHELVED_OFFLOADED, no host, no allocations.
    pub(crate) async fn offload(&self, ctx: &Context, instance: &InstanceRecord, expected: &[Option<&str>]) -> OpResult {
        let uuid = &instance.uuid;
        let guest = self.guest(instance);
        let state = match self.driver.get_info(&guest).await {
            Ok(info) if info.state == PowerState::Running => {
                self.driver.power_off(&guest, Duration::ZERO, Duration::ZERO).await?;
                power::SHUTDOWN
            }
            Ok(info) => super::instance::code(info.state),
            Err(_) => power::SHUTDOWN,
        };
        let bdms = self.bdms(ctx, uuid).await.unwrap_or_default();
        self.driver.destroy(&guest, &[], &super::volumes::block_device_info(&bdms, None), true).await?;
        self.terminate_volume_connections(ctx, instance).await;
        let offloaded = vec![
            InstanceField::VmState(vm::SHELVED_OFFLOADED.into()),
            InstanceField::TaskState(None),
            InstanceField::PowerState(state),
            InstanceField::Host(None),
            InstanceField::Node(None),
        ];
        self.save(ctx, uuid, offloaded, Some(expected)).await?;
        self.release_allocations(ctx, uuid).await;
        tracing::info!("{}Instance offloaded from host {}", instance.tag(), self.host);
        if let Some(node) = &instance.node {
            self.update_node_resources(ctx, node).await;
        }
        Ok(())
    }

    pub(crate) async fn unshelve_instance(&self, ctx: &Context, t: UnshelveInstance) {
        let Some(op) = self.begin(ctx, &t.instance_uuid, "compute_unshelve_instance").await else {
            self.release_allocations(ctx, &t.instance_uuid).await;
            return;
        };
        let instance = op.instance.clone();
        let guest = driver_ref(&instance, &self.host, Some(&t.node));
        let result = self.unshelve(ctx, &instance, &t).await;
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                self.destroy_guest(&guest).await;
                self.release_allocations(ctx, &instance.uuid).await;
                self.save_logged(ctx, &instance.uuid, vec![InstanceField::Host(None), InstanceField::Node(None)]).await;
            }
        }
        self.end(ctx, op, result).await;
        self.update_node_resources(ctx, &t.node).await;
    }

    async fn unshelve(&self, ctx: &Context, instance: &InstanceRecord, t: &UnshelveInstance) -> OpResult {
        let uuid = &instance.uuid;
        if !self.owns_node(&t.node) {
            return Err(Failure::Recoverable(format!("Compute host {} does not manage node {}", self.host, t.node)));
        }
        let placed = vec![InstanceField::Host(Some(self.host.clone())), InstanceField::Node(Some(t.node.clone())), InstanceField::TaskState(Some(task::SPAWNING.into()))];
        let instance_here = self.save(ctx, uuid, placed, Some(&[Some(task::UNSHELVING)])).await?;
        tracing::info!("{}Unshelving from image {}", instance.tag(), t.image_id.as_deref().unwrap_or("-"));
        let guest = self.guest(&instance_here);
        let bdms = self.connect_volumes(ctx, &instance_here, &guest).await?;
        let request = SpawnRequest {
            image_meta: image_meta(instance, t.image_id.as_deref()),
            network_info: self.bind_network_here(ctx, uuid).await,
            block_device_info: super::volumes::block_device_info(&bdms, None),
            power_on: true,
            ..SpawnRequest::default()
        };
        self.driver.spawn(&guest, &request, &crate::virt::NoProgress).await?;
        let state = self.power_state(&guest).await;
        let active = vec![InstanceField::VmState(vm::ACTIVE.into()), InstanceField::TaskState(None), InstanceField::PowerState(state)];
        self.save(ctx, uuid, active, Some(&[Some(task::SPAWNING)])).await?;
        self.forget_shelved_image(ctx, instance).await;
        tracing::info!("{}Instance unshelved on node {}", instance.tag(), t.node);
        Ok(())
    }

    /// Deletes the snapshot a shelved instance kept and its `shelved_*` system metadata.
    pub(crate) async fn forget_shelved_image(&self, ctx: &Context, instance: &InstanceRecord) {
        if let Some(image_id) = instance.system_metadata.get("shelved_image_id") {
            if let Err(e) = self.images.delete(ctx, image_id).await {
                tracing::warn!("{}shelved snapshot {image_id} not deleted: {e}", instance.tag());
            }
        }
        let update = SystemMetadataUpdate { uuid: instance.uuid.clone(), set: BTreeMap::new(), delete: SHELVED_KEYS.iter().map(|k| k.to_string()).collect() };
        if let Err(e) = self.conductor.run(ctx, ConductorRequest::SystemMetadataUpdate(update)).await {
            tracing::warn!("{}shelved metadata not removed: {e}", instance.tag());
        }
    }
}
