//! Snapshots and backups (`createImage`, `createBackup`): the driver copies the root disk and
//! the agent uploads it into the image record the API created, moving through Nova's task
//! states image_snapshot (or image_backup) → image_pending_upload → image_uploading → None.
//! A failed snapshot deletes its unfinished image; a backup is followed by the rotation of the
//! server's backups of its type, keeping the newest `rotation` ones.

use super::op::{Failure, OpResult};
use super::ComputeManager;
use monostack_bus::Context;
use monostack_compute::states::task;
use monostack_conductor::agent_api::records::{InstanceField, InstanceRecord};

fn task_field(state: &str) -> Vec<InstanceField> {
    vec![InstanceField::TaskState(Some(state.into()))]
}

impl ComputeManager {
    /// `backup` is (type, rotation) for `createBackup`.
    pub(crate) async fn snapshot_instance(&self, ctx: &Context, uuid: &str, image_id: &str, backup: Option<(String, i64)>) {
        let event = if backup.is_some() { "compute_backup_instance" } else { "compute_snapshot_instance" };
        let Some(op) = self.begin(ctx, uuid, event).await else { return };
        let first = if backup.is_some() {
            Ok(())
        } else {
            self.save(ctx, uuid, task_field(task::IMAGE_SNAPSHOT), Some(&[Some(task::IMAGE_SNAPSHOT_PENDING)])).await.map(|_| ())
        };
        let result = match first {
            Ok(()) => self.snapshot(ctx, &op.instance, image_id).await,
            Err(e) => Err(e),
        };
        if result.is_ok() {
            if let Some((kind, rotation)) = &backup {
                self.rotate_backups(ctx, &op.instance, kind, *rotation).await;
            }
        }
        if let Err(failure) = &result {
            if !matches!(failure, Failure::Abandoned(_)) {
                if let Err(e) = self.images.delete(ctx, image_id).await {
                    tracing::warn!("{}unfinished snapshot image not deleted: {e}", op.instance.tag());
                }
            }
        }
        self.end(ctx, op, result).await;
    }

    /// Nova's `_rotate_backups`: deletes the oldest backups of type `kind` of the instance
    /// beyond the newest `rotation`. Failures are logged; the backup itself succeeded.
    async fn rotate_backups(&self, ctx: &Context, instance: &InstanceRecord, kind: &str, rotation: i64) {
        let backups = match self.images.backups(ctx, &instance.uuid, kind).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!("{}Backups of type {kind} not rotated: {e}", instance.tag());
                return;
            }
        };
        let keep = usize::try_from(rotation).unwrap_or(0);
        tracing::debug!("{}Found {} backups of type {kind} (rotation: {rotation})", instance.tag(), backups.len());
        for image_id in backups.iter().skip(keep).rev() {
            tracing::info!("{}Rotating out backup {image_id}", instance.tag());
            if let Err(e) = self.images.delete(ctx, image_id).await {
                tracing::error!("{}Backup {image_id} not deleted: {e}", instance.tag());
            }
        }
    }

    /// The driver's copy of the disk, uploaded as `image_id`; ends with no task.
    async fn snapshot(&self, ctx: &Context, instance: &InstanceRecord, image_id: &str) -> OpResult {
        let uuid = &instance.uuid;
        tracing::info!("{}Beginning live snapshot process", instance.tag());
        let data = self.driver.snapshot(&self.guest(instance), image_id).await?;
        let from = [Some(task::IMAGE_SNAPSHOT), Some(task::IMAGE_BACKUP)];
        self.save(ctx, uuid, task_field(task::IMAGE_PENDING_UPLOAD), Some(&from)).await?;
        self.save(ctx, uuid, task_field(task::IMAGE_UPLOADING), Some(&[Some(task::IMAGE_PENDING_UPLOAD)])).await?;
        self.images.upload_snapshot(ctx, image_id, data).await.map_err(Failure::Recoverable)?;
        self.save(ctx, uuid, vec![InstanceField::TaskState(None)], Some(&[Some(task::IMAGE_UPLOADING)])).await?;
        tracing::info!("{}Snapshot image upload complete", instance.tag());
        Ok(())
    }
}
