//! The manager's side of the attachments API: connecting an attachment for a host's connector
//! through the driver (Cinder's `attachment_update` / `_connection_create`), and ending that
//! connection (`attachment_delete` / `_connection_terminate`); and a snapshot's connection for
//! backups (`initialize_connection_snapshot`).

use super::VolumeManager;
use crate::db::{attachments, volumes};
use crate::states;
use monostack_bus::Reply;
use monostack_common::time::now_micros;
use serde_json::{json, Value};

impl VolumeManager {
    pub(crate) async fn attachment_update(&self, volume_id: &str, attachment_id: &str, mut connector: Value) -> Reply {
        let db = &self.service.db;
        let volume = volumes::get(db, volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Volume {volume_id} could not be found."))?;
        let mut attachment = attachments::get(db, attachment_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Volume attachment could not be found with filter: attachment_id = {attachment_id}."))?;
        let mut mode = connector.get("mode").and_then(Value::as_str).unwrap_or("rw").to_string();
        if let Some(m) = attachment.attach_mode.as_deref().filter(|m| *m != "null") {
            mode = m.to_string();
            if let Some(o) = connector.as_object_mut() {
                o.insert("mode".into(), json!(mode));
            }
        }
        let info = self
            .driver
            .initialize_connection(&volume, &connector)
            .await
            .map_err(|e| format!("Driver initialize connection failed (error: {e})."));
        let info = match info {
            Ok(i) => i,
            Err(e) => {
                tracing::error!("{e} volume_id: {volume_id}");
                attachment.attach_status = states::attach::ERROR_ATTACHING.into();
                let _ = attachments::save(db, &attachment).await;
                return Err(e);
            }
        };
        let mut flat = info.data.as_object().cloned().unwrap_or_default();
        flat.insert("driver_volume_type".into(), json!(info.driver_volume_type));
        flat.insert("access_mode".into(), json!(mode));
        flat.insert("encrypted".into(), json!(volume.encryption_key_id.is_some()));
        flat.insert("attachment_id".into(), json!(attachment.id));
        flat.insert("enforce_multipath".into(), connector.get("enforce_multipath").cloned().unwrap_or(json!(false)));
        let flat = Value::Object(flat);
        attachment.attached_host = Some(connector.get("host").and_then(Value::as_str).unwrap_or_default().to_string());
        attachment.mountpoint = Some(connector.get("mountpoint").and_then(Value::as_str).unwrap_or("na").to_string());
        attachment.connector = Some(connector);
        attachment.connection_info = Some(flat.clone());
        attachment.attach_status = states::attach::ATTACHING.into();
        attachment.attach_time = Some(now_micros());
        attachment.attach_mode = Some(mode);
        attachments::save(db, &attachment).await.map_err(|e| e.message)?;
        let changes = volumes::Changes {
            status: Some(states::volume::ATTACHING.into()),
            attach_status: Some(states::attach::ATTACHING.into()),
            ..Default::default()
        };
        volumes::update_if(db, volume_id, &[], &changes).await.map_err(|e| e.message)?;
        tracing::info!("attachment_update completed successfully. volume_id: {volume_id}, attachment {attachment_id}");
        Ok(flat)
    }

    /// The connection info of a snapshot's data for `connector` (backups of snapshots).
    pub(crate) async fn initialize_connection_snapshot(&self, snapshot_id: &str, connector: &Value) -> Reply {
        let snapshot = crate::db::snapshots::get(&self.service.db, snapshot_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Snapshot {snapshot_id} could not be found."))?;
        let info = self
            .driver
            .initialize_connection_snapshot(&snapshot, connector)
            .await
            .map_err(|e| format!("Unable to initialize the connection of snapshot {snapshot_id}: {e}"))?;
        serde_json::to_value(info).map_err(|e| e.to_string())
    }

    pub(crate) async fn attachment_delete(&self, volume_id: &str, attachment_id: &str) -> Reply {
        let db = &self.service.db;
        let Some(attachment) = attachments::get(db, attachment_id).await.map_err(|e| e.message)? else {
            return Ok(Value::Null);
        };
        let Some(connector) = attachment.connector.clone() else {
            tracing::debug!("No connector for attachment {attachment_id}; skipping storage backend terminate_connection call.");
            return Ok(Value::Null);
        };
        let volume = volumes::get(db, volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("Volume {volume_id} could not be found."))?;
        self.driver
            .terminate_connection(&volume, &connector)
            .await
            .map_err(|e| format!("Terminate volume connection failed: {e}"))?;
        tracing::info!("Terminate volume connection completed successfully. volume_id: {volume_id}, attachment {attachment_id}");
        Ok(Value::Null)
    }
}
