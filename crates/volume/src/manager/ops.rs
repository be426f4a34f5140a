//! The other volume manager operations: delete (with cascade), extend, snapshots, and the
//! connection calls attachments use.

use super::VolumeManager;
use crate::db::metadata::{self, Table};
use crate::db::{snapshots, volumes};
use crate::states;
use monostack_bus::Reply;
use serde_json::Value;

impl VolumeManager {
    pub(crate) async fn delete_volume(&self, volume_id: &str, cascade: bool) {
        let db = &self.service.db;
        let volume = match volumes::get(db, volume_id).await {
            Ok(Some(v)) => v,
            Ok(None) => return tracing::info!("Volume {volume_id} is already deleted"),
            Err(e) => return tracing::error!("Volume {volume_id}: {}", e.message),
        };
        let result: Result<(), String> = async {
            if cascade {
                for snap in snapshots::of_volume(db, volume_id)
                    .await
                    .map_err(|e| e.message)?
                {
                    self.driver
                        .delete_snapshot(&snap)
                        .await
                        .map_err(|e| format!("snapshot {}: {e}", snap.id))?;
                    snapshots::destroy(db, &snap.id)
                        .await
                        .map_err(|e| e.message)?;
                    tracing::info!("Deleted snapshot {} with its volume", snap.id);
                }
            }
            self.driver
                .delete_volume(&volume)
                .await
                .map_err(|e| e.to_string())?;
            volumes::destroy(db, volume_id).await.map_err(|e| e.message)
        }
        .await;
        match result {
            Ok(()) => tracing::info!("Deleted volume successfully. volume_id: {volume_id}"),
            Err(e) => {
                tracing::error!("Unable to delete volume {volume_id}: {e}");
                let _ = volumes::update_if(
                    db,
                    volume_id,
                    &[],
                    &volumes::Changes::status(states::volume::ERROR_DELETING),
                )
                .await;
            }
        }
    }

    pub(crate) async fn extend_volume(&self, volume_id: &str, new_size: i64) {
        let db = &self.service.db;
        let volume = match volumes::get(db, volume_id).await {
            Ok(Some(v)) if v.status == states::volume::EXTENDING => v,
            Ok(Some(v)) => {
                return tracing::warn!("Volume {volume_id} is {}, not extending", v.status)
            }
            Ok(None) => return tracing::warn!("Volume {volume_id} is gone"),
            Err(e) => return tracing::error!("Volume {volume_id}: {}", e.message),
        };
        match self.driver.extend_volume(&volume, new_size).await {
            Ok(()) => {
                let back = volume
                    .previous_status
                    .clone()
                    .unwrap_or_else(|| states::volume::AVAILABLE.into());
                let back = if back == states::volume::IN_USE {
                    back
                } else {
                    states::volume::AVAILABLE.to_string()
                };
                let changes = volumes::Changes {
                    status: Some(back),
                    size: Some(new_size),
                    previous_status: Some(None),
                    ..Default::default()
                };
                let _ =
                    volumes::update_if(db, volume_id, &[states::volume::EXTENDING], &changes).await;
                tracing::info!("Extend volume completed successfully. volume_id: {volume_id}, new size {new_size} GiB");
            }
            Err(e) => {
                tracing::error!("Extend volume {volume_id} failed: {e}");
                let _ = volumes::update_if(
                    db,
                    volume_id,
                    &[states::volume::EXTENDING],
                    &volumes::Changes::status(states::volume::ERROR_EXTENDING),
                )
                .await;
            }
        }
    }

    pub(crate) async fn retype_volume(&self, volume_id: &str, new_type_id: &str) {
        let db = &self.service.db;
        let volume = match volumes::get(db, volume_id).await {
            Ok(Some(v)) if v.status == states::volume::RETYPING => v,
            Ok(_) => return tracing::warn!("Volume {volume_id} is no longer retyping"),
            Err(e) => return tracing::error!("Volume {volume_id}: {}", e.message),
        };
        let back = volume
            .previous_status
            .clone()
            .unwrap_or_else(|| states::volume::AVAILABLE.into());
        let new_type = match crate::db::types::get(db, new_type_id).await {
            Ok(Some(t)) => crate::rpc::TypeSpec {
                id: t.id,
                name: t.name,
                extra_specs: t.extra_specs,
            },
            _ => crate::rpc::TypeSpec {
                id: new_type_id.to_string(),
                ..Default::default()
            },
        };
        let retyped = self.driver.retype(&volume, &new_type).await;
        let mut changes = volumes::Changes {
            status: Some(back),
            previous_status: Some(None),
            ..Default::default()
        };
        match retyped {
            Ok(()) => {
                changes.volume_type_id = Some(new_type_id.to_string());
                tracing::info!("Retype volume completed successfully. volume_id: {volume_id}, type {new_type_id}");
            }
            Err(e) => tracing::error!("Retype of volume {volume_id} failed: {e}"),
        }
        let _ = volumes::update_if(db, volume_id, &[states::volume::RETYPING], &changes).await;
    }

    pub(crate) async fn create_snapshot(&self, snapshot_id: &str) {
        let db = &self.service.db;
        let snap = match snapshots::get(db, snapshot_id).await {
            Ok(Some(s)) if s.status == states::snapshot::CREATING => s,
            Ok(Some(s)) => {
                return tracing::warn!("Snapshot {snapshot_id} is {}, not creating", s.status)
            }
            Ok(None) => return tracing::warn!("Snapshot {snapshot_id} is gone"),
            Err(e) => return tracing::error!("Snapshot {snapshot_id}: {}", e.message),
        };
        let result = match volumes::get(db, &snap.volume_id).await {
            Ok(Some(v)) => self
                .driver
                .create_snapshot(&snap, &v)
                .await
                .map_err(|e| e.to_string()),
            Ok(None) => Err(format!("volume {} is gone", snap.volume_id)),
            Err(e) => Err(e.message),
        };
        match result {
            Ok(model) => {
                let _ = snapshots::update_if(
                    db,
                    snapshot_id,
                    &[states::snapshot::CREATING],
                    states::snapshot::AVAILABLE,
                    Some("100%"),
                    model.provider_location.as_deref(),
                )
                .await;
                tracing::info!(
                    "Create snapshot completed successfully. snapshot_id: {snapshot_id}"
                );
            }
            Err(e) => {
                tracing::error!("Create snapshot {snapshot_id} failed: {e}");
                let _ = snapshots::update_if(
                    db,
                    snapshot_id,
                    &[states::snapshot::CREATING],
                    states::snapshot::ERROR,
                    None,
                    None,
                )
                .await;
            }
        }
    }

    pub(crate) async fn delete_snapshot(&self, snapshot_id: &str) {
        let db = &self.service.db;
        let snap = match snapshots::get(db, snapshot_id).await {
            Ok(Some(s)) => s,
            Ok(None) => return tracing::info!("Snapshot {snapshot_id} is already deleted"),
            Err(e) => return tracing::error!("Snapshot {snapshot_id}: {}", e.message),
        };
        let result = match self.driver.delete_snapshot(&snap).await {
            Ok(()) => snapshots::destroy(db, snapshot_id)
                .await
                .map_err(|e| e.message),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => {
                tracing::info!("Delete snapshot completed successfully. snapshot_id: {snapshot_id}")
            }
            Err(e) => {
                tracing::error!("Delete snapshot {snapshot_id} failed: {e}");
                let _ = snapshots::update_if(
                    db,
                    snapshot_id,
                    &[],
                    states::snapshot::ERROR_DELETING,
                    None,
                    None,
                )
                .await;
            }
        }
    }

    /// The connection info for `connector`, with the access mode the volume's `readonly`
    /// flag gives.
    pub(crate) async fn initialize_connection(&self, volume_id: &str, connector: &Value) -> Reply {
        let db = &self.service.db;
        let volume = volumes::get(db, volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Volume {volume_id} could not be found."))?;
        let mut info = self
            .driver
            .initialize_connection(&volume, connector)
            .await
            .map_err(|e| {
                format!("Unable to initialize the connection of volume {volume_id}: {e}")
            })?;
        let admin = metadata::get(db, Table::VolumeAdmin, volume_id)
            .await
            .map_err(|e| e.message)?;
        let readonly = admin
            .get("readonly")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if let Some(data) = info.data.as_object_mut() {
            data.insert(
                "access_mode".into(),
                Value::String(if readonly { "ro" } else { "rw" }.into()),
            );
            data.insert(
                "encrypted".into(),
                Value::Bool(volume.encryption_key_id.is_some()),
            );
        }
        tracing::info!(
            "Initialize volume connection completed successfully. volume_id: {volume_id}"
        );
        serde_json::to_value(info).map_err(|e| e.to_string())
    }

    pub(crate) async fn terminate_connection(
        &self,
        volume_id: &str,
        connector: &Value,
        force: bool,
    ) -> Reply {
        let volume = volumes::get(&self.service.db, volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Volume {volume_id} could not be found."))?;
        match self.driver.terminate_connection(&volume, connector).await {
            Ok(()) => Ok(Value::Null),
            Err(e) if force => {
                tracing::warn!("Terminate connection of {volume_id} failed, ignored (force): {e}");
                Ok(Value::Null)
            }
            Err(e) => Err(format!("Terminate volume connection failed: {e}")),
        }
    }
}
