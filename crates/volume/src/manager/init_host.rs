//! What a volume manager does on start (Cinder's `init_host`): operations a crash
//! interrupted on this backend are settled, so nothing stays `creating` or `deleting`
//! forever. Creates and extends cannot be known to be complete, so they fail (the user
//! retries or deletes); deletes are simply done again.

use super::VolumeManager;
use crate::db::{snapshots, volumes};
use crate::states;

pub(crate) async fn run(manager: &VolumeManager) {
    let db = &manager.service.db;
    let on_backend = match volumes::on_backend(db, &manager.backend).await {
        Ok(v) => v,
        Err(e) => return tracing::error!("init_host of {}: {}", manager.backend, e.message),
    };
    for v in &on_backend {
        match v.status.as_str() {
            states::volume::CREATING | states::volume::DOWNLOADING => {
                tracing::warn!(
                    "Volume {} was being created when the service stopped; setting it to error",
                    v.id
                );
                let _ = volumes::update_if(
                    db,
                    &v.id,
                    &[states::volume::CREATING, states::volume::DOWNLOADING],
                    &volumes::Changes::status(states::volume::ERROR),
                )
                .await;
            }
            states::volume::UPLOADING => {
                let back = v
                    .previous_status
                    .clone()
                    .filter(|s| s == states::volume::IN_USE)
                    .unwrap_or_else(|| states::volume::AVAILABLE.into());
                tracing::warn!(
                    "Volume {} was being uploaded to an image when the service stopped; setting it back to {back}",
                    v.id
                );
                let changes = volumes::Changes {
                    status: Some(back),
                    previous_status: Some(None),
                    ..Default::default()
                };
                let _ = volumes::update_if(db, &v.id, &[states::volume::UPLOADING], &changes).await;
            }
            states::volume::EXTENDING => {
                tracing::warn!("Volume {} was being extended when the service stopped; setting it to error_extending", v.id);
                let _ = volumes::update_if(
                    db,
                    &v.id,
                    &[states::volume::EXTENDING],
                    &volumes::Changes::status(states::volume::ERROR_EXTENDING),
                )
                .await;
            }
            states::volume::DELETING => {
                tracing::info!("Resuming the delete of volume {}", v.id);
                manager.delete_volume(&v.id, true).await;
            }
            _ => {}
        }
    }
    let Ok(all) = snapshots::list(db, None).await else {
        return;
    };
    for s in all
        .iter()
        .filter(|s| on_backend.iter().any(|v| v.id == s.volume_id))
    {
        match s.status.as_str() {
            states::snapshot::CREATING => {
                tracing::warn!(
                    "Snapshot {} was being created when the service stopped; setting it to error",
                    s.id
                );
                let _ = snapshots::update_if(
                    db,
                    &s.id,
                    &[states::snapshot::CREATING],
                    states::snapshot::ERROR,
                    None,
                    None,
                )
                .await;
            }
            states::snapshot::DELETING => {
                tracing::info!("Resuming the delete of snapshot {}", s.id);
                manager.delete_snapshot(&s.id).await;
            }
            _ => {}
        }
    }
}
