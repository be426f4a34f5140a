//! Cinder's `volume_create_manager` flow: the volume, already scheduled here, is made by the
//! driver (blank, from a snapshot or from another volume) and becomes `available`, or
//! `error` when the driver fails.

use super::VolumeManager;
use crate::db::{snapshots, volumes};
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
}

impl VolumeManager {
    pub(crate) async fn create_volume(&self, _ctx: &Context, volume_id: &str) {
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
        let made: Result<(ModelUpdate, bool), String> = match source {
            Err(e) => Err(e),
            Ok(source) => {
                flow.task("CreateVolumeFromSpecTask", async {
                    match &source {
                        Source::Blank => {
                            self.driver.create_volume(&volume).await.map(|m| (m, false))
                        }
                        Source::Snapshot(s) => {
                            let bootable = match volumes::get(db, &s.volume_id).await {
                                Ok(Some(v)) => v.bootable,
                                _ => false,
                            };
                            self.driver
                                .create_volume_from_snapshot(&volume, s)
                                .await
                                .map(|m| (m, bootable))
                        }
                        Source::Volume(src) => self
                            .driver
                            .create_cloned_volume(&volume, src)
                            .await
                            .map(|m| (m, src.bootable)),
                    }
                    .map_err(|e| e.to_string())
                })
                .await
            }
        };
        let finished = match made {
            Ok((model, bootable)) => {
                flow.task("CreateVolumeOnFinishTask", async {
                    let changes = volumes::Changes {
                        status: Some(states::volume::AVAILABLE.into()),
                        provider_location: Some(model.provider_location.clone()),
                        bootable: Some(bootable),
                        launched_at: Some(now_micros()),
                        ..Default::default()
                    };
                    match volumes::update_if(db, volume_id, &[states::volume::CREATING], &changes)
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
                    &[states::volume::CREATING],
                    &volumes::Changes::status(states::volume::ERROR),
                )
                .await;
            }
        }
    }
}
