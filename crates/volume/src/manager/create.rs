//! Cinder's `volume_create_manager` flow: the volume, already scheduled here, is made by the
//! driver (blank, from a snapshot, from another volume, or from an image through
//! [`super::images`]) and becomes `available`, or `error` when that fails. A volume made
//! from a backup is made blank here and handed to the backup service, which restores into it
//! and makes it `available` (Cinder's `_create_from_backup` for drivers without their own).

use super::VolumeManager;
use crate::db::metadata::{self, Table};
use crate::db::{backups, snapshots, volumes};
use crate::drivers::ModelUpdate;
use crate::flow::Flow;
use crate::states;
use monostack_bus::Context;
use monostack_common::time::now_micros;

/// Where the new volume's data comes from.
enum Source {
    Blank,
    Snapshot(Box<snapshots::Snapshot>),
    Volume(Box<volumes::Volume>),
    Image(String),
    Backup(Box<backups::Backup>),
}

/// What the create task did.
enum Made {
    /// The volume is made: its model update and bootable flag.
    Done(ModelUpdate, bool),
    /// The backup service finishes it.
    HandedOver,
}

impl VolumeManager {
    pub(crate) async fn create_volume(
        &self,
        ctx: &Context,
        volume_id: &str,
        image_id: Option<&str>,
        backup_id: Option<&str>,
    ) {
        let mut flow = Flow::start("volume_create_manager", volume_id);
        let db = &self.service.db;
        let Ok(volume) = flow
            .task("ExtractVolumeRefTask", async {
                match volumes::get(db, volume_id).await {
                    Ok(Some(v)) if v.status == states::volume::CREATING => Ok(v),
                    Ok(Some(v)) => Err(format!("volume {volume_id} is {}, not creating", v.status)),
                    Ok(None) => Err(format!("volume {volume_id} is gone")),
                    Err(e) => Err(e.message),
                }
            })
            .await
        else {
            return;
        };
        // Rescheduling to another backend after a driver failure is not done: the volume
        // ends in error, as with Cinder's scheduler_max_attempts = 1.
        let _ = flow
            .task("OnFailureRescheduleTask", async { Ok::<_, String>(()) })
            .await;
        let source = flow
            .task("ExtractVolumeSpecTask", async {
                if let Some(id) = &volume.snapshot_id {
                    let snap = snapshots::get(db, id)
                        .await
                        .map_err(|e| e.message)?
                        .ok_or_else(|| format!("snapshot {id} is gone"))?;
                    Ok(Source::Snapshot(Box::new(snap)))
                } else if let Some(id) = &volume.source_volid {
                    let src = volumes::get(db, id)
                        .await
                        .map_err(|e| e.message)?
                        .ok_or_else(|| format!("source volume {id} is gone"))?;
                    Ok(Source::Volume(Box::new(src)))
                } else if let Some(id) = image_id {
                    Ok(Source::Image(id.to_string()))
                } else if let Some(id) = backup_id {
                    let b = backups::get(db, id)
                        .await
                        .map_err(|e| e.message)?
                        .ok_or_else(|| format!("backup {id} is gone"))?;
                    Ok(Source::Backup(Box::new(b)))
                } else {
                    Ok::<_, String>(Source::Blank)
                }
            })
            .await;
        let _ = flow
            .task("NotifyVolumeActionTask", async {
                tracing::info!(
                    "Volume {volume_id}: create.start ({} GiB on {})",
                    volume.size,
                    self.backend
                );
                Ok::<_, String>(())
            })
            .await;
        // Cinder copies the image metadata of the volume a copy is made from.
        let image_meta_from = match &source {
            Ok(Source::Snapshot(s)) => Some(s.volume_id.clone()),
            Ok(Source::Volume(v)) => Some(v.id.clone()),
            _ => None,
        };
        let made: Result<Made, String> = match source {
            Err(e) => Err(e),
            Ok(source) => {
                flow.task("CreateVolumeFromSpecTask", async {
                    match &source {
                        Source::Blank => self
                            .driver
                            .create_volume(&volume)
                            .await
                            .map(|m| Made::Done(m, false))
                            .map_err(|e| e.to_string()),
                        Source::Snapshot(s) => {
                            let bootable = match volumes::get(db, &s.volume_id).await {
                                Ok(Some(v)) => v.bootable,
                                _ => false,
                            };
                            self.driver
                                .create_volume_from_snapshot(&volume, s)
                                .await
                                .map(|m| Made::Done(m, bootable))
                                .map_err(|e| e.to_string())
                        }
                        Source::Volume(src) => self
                            .driver
                            .create_cloned_volume(&volume, src)
                            .await
                            .map(|m| Made::Done(m, src.bootable))
                            .map_err(|e| e.to_string()),
                        Source::Image(id) => self
                            .create_from_image(ctx, &volume, id)
                            .await
                            .map(|m| Made::Done(m, true)),
                        Source::Backup(b) => self
                            .create_from_backup(ctx, &volume, b)
                            .await
                            .map(|()| Made::HandedOver),
                    }
                })
                .await
            }
        };
        let finished = match made {
            Ok(Made::HandedOver) => {
                tracing::info!("Volume {volume_id} created; the backup service restores into it.");
                return;
            }
            Ok(Made::Done(model, bootable)) => {
                if let Some(from) = &image_meta_from {
                    match metadata::get(db, Table::VolumeImage, from).await {
                        Ok(meta) if !meta.is_empty() => {
                            if let Err(e) = metadata::set(db, Table::VolumeImage, volume_id, &meta, true).await {
                                tracing::warn!("Image metadata of {from} not copied to volume {volume_id}: {}", e.message);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("Image metadata of {from} not read: {}", e.message),
                    }
                }
                flow.task("CreateVolumeOnFinishTask", async {
                    let changes = volumes::Changes {
                        status: Some(states::volume::AVAILABLE.into()),
                        provider_location: Some(model.provider_location.clone()),
                        bootable: Some(bootable),
                        launched_at: Some(now_micros()),
                        ..Default::default()
                    };
                    match volumes::update_if(
                        db,
                        volume_id,
                        &[states::volume::CREATING, states::volume::DOWNLOADING],
                        &changes,
                    )
                    .await
                    {
                        Ok(true) => Ok(()),
                        Ok(false) => Err("the volume changed while it was created".to_string()),
                        Err(e) => Err(e.message),
                    }
                })
                .await
            }
            Err(e) => Err(e),
        };
        match finished {
            Ok(()) => tracing::info!("Created volume successfully. volume_id: {volume_id}"),
            Err(e) => {
                tracing::error!(
                    "Volume {volume_id} could not be created on {}: {e}",
                    self.backend
                );
                let _ = volumes::update_if(
                    db,
                    volume_id,
                    &[states::volume::CREATING, states::volume::DOWNLOADING],
                    &volumes::Changes::status(states::volume::ERROR),
                )
                .await;
            }
        }
    }

    /// Makes the volume blank, then has the backup service restore `backup` into it: the
    /// volume goes `restoring-backup`, the backup `restoring` (Cinder's
    /// `_create_from_backup` for drivers that cannot do it themselves).
    async fn create_from_backup(
        &self,
        ctx: &Context,
        volume: &volumes::Volume,
        backup: &backups::Backup,
    ) -> Result<(), String> {
        let db = &self.service.db;
        tracing::info!("Creating volume {} from backup {}.", volume.id, backup.id);
        let host = crate::volume_api::backups::backup_host(
            &self.service,
            backup.host.as_deref(),
            backup.availability_zone.as_deref(),
        )
        .await
        .map_err(|e| e.message)?;
        let model = self
            .driver
            .create_volume(volume)
            .await
            .map_err(|e| e.to_string())?;
        let changes = volumes::Changes {
            status: Some(states::volume::RESTORING_BACKUP.into()),
            provider_location: Some(model.provider_location.clone()),
            launched_at: Some(now_micros()),
            ..Default::default()
        };
        if !volumes::update_if(db, &volume.id, &[states::volume::CREATING], &changes)
            .await
            .map_err(|e| e.message)?
        {
            return Err("the volume changed while it was created".into());
        }
        let mut updated = backup.clone();
        updated.status = crate::backup::status::RESTORING.into();
        updated.restore_volume_id = Some(volume.id.clone());
        updated.host = Some(host.clone());
        let fail = |why: String| async move {
            let _ = volumes::update_if(
                db,
                &volume.id,
                &[states::volume::RESTORING_BACKUP],
                &volumes::Changes::status(states::volume::ERROR),
            )
            .await;
            tracing::error!("Volume {} could not be restored from backup {}: {why}", volume.id, backup.id);
        };
        match backups::save_if(db, &updated, &[crate::backup::status::AVAILABLE]).await {
            Ok(true) => {}
            Ok(false) => {
                fail(format!("backup {} is no longer available", backup.id)).await;
                return Ok(());
            }
            Err(e) => {
                fail(e.message).await;
                return Ok(());
            }
        }
        tracing::info!(
            "Raw volume {} created. Calling restore_backup {} to complete restoration.",
            volume.id,
            backup.id
        );
        let request = crate::rpc::BackupRequest::RestoreBackup {
            backup_id: backup.id.clone(),
            volume_id: volume.id.clone(),
        };
        if let Err(e) = crate::rpc::cast_backup(self.service.bus.as_ref(), ctx.clone(), &host, &request).await {
            let _ = backups::set_status(
                db,
                &backup.id,
                &[crate::backup::status::RESTORING],
                crate::backup::status::AVAILABLE,
                None,
            )
            .await;
            fail(format!("the backup service of {host} is unreachable ({e})")).await;
        }
        Ok(())
    }
}
