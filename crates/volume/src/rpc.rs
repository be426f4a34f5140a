//! The messages of the block storage flows on the bus, typed: the API casts to the volume
//! scheduler (topic [`SCHEDULER_TOPIC`]), the scheduler and the API cast or call a backend's
//! volume manager (topic [`VOLUME_TOPIC`], server `host@backend`). Each enum's serde form is
//! exactly the bus envelope's `method` + `args`. Messages carry ids, never records: the
//! receiver reads the current state from the database.

use monostack_bus::{Bus, BusError, Context, Message, Target};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// Cinder's scheduler topic.
pub const SCHEDULER_TOPIC: &str = "cinder-scheduler";
/// Cinder's volume manager topic; each manager listens as server `host@backend`.
pub const VOLUME_TOPIC: &str = "cinder-volume";
/// Cinder's backup service topic; each backup manager listens as server `host`.
pub const BACKUP_TOPIC: &str = "cinder-backup";

/// The volume type as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TypeSpec {
    pub id: String,
    pub name: String,
    pub extra_specs: BTreeMap<String, String>,
}

/// What the scheduler needs to place a new volume (Cinder's request_spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CreateVolumeSpec {
    pub volume_id: String,
    pub size: i64,
    pub volume_type: TypeSpec,
    pub availability_zone: Option<String>,
    pub snapshot_id: Option<String>,
    pub source_volid: Option<String>,
    /// Only this backend (`host@backend`) may take the volume: a volume made from a
    /// snapshot or another volume stays on the backend holding the data.
    pub backend: Option<String>,
    /// The image the volume is made of (Cinder's request_spec `image_id`).
    #[serde(default)]
    pub image_id: Option<String>,
    /// The backup restored into the new volume (3.47).
    #[serde(default)]
    pub backup_id: Option<String>,
}

/// The scheduler's methods (Cinder's SchedulerAPI).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum SchedulerRequest {
    CreateVolume(CreateVolumeSpec),
    /// Checks that the volume's backend suits `new_type` and has its manager retype it (a
    /// change of backend would need a migration, which is not done: the volume goes back to
    /// its status).
    RetypeVolume {
        volume_id: String,
        new_type: TypeSpec,
        migration_policy: String,
    },
}

/// A volume manager's methods (Cinder's VolumeAPI), sent to `cinder-volume.<host@backend>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum VolumeRequest {
    /// Creates the volume, already scheduled to this backend (blank, from a snapshot or from
    /// another volume, as its record says; from an image or a backup, as the request says).
    CreateVolume {
        volume_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backup_id: Option<String>,
    },
    /// Writes the volume (status `uploading`) into image `image_id`, which the API created,
    /// as `disk_format` (Cinder's `copy_volume_to_image`), then puts the volume back to its
    /// previous status.
    CopyVolumeToImage {
        volume_id: String,
        image_id: String,
        disk_format: String,
    },
    /// Deletes the volume (and, with `cascade`, its snapshots) from the backend and the
    /// database.
    DeleteVolume {
        volume_id: String,
        cascade: bool,
    },
    /// Grows the volume to `new_size` GiB.
    ExtendVolume {
        volume_id: String,
        new_size: i64,
    },
    /// Gives the volume type `new_type_id`, which its backend was found to suit.
    RetypeVolume {
        volume_id: String,
        new_type_id: String,
    },
    CreateSnapshot {
        snapshot_id: String,
    },
    DeleteSnapshot {
        snapshot_id: String,
    },
    /// A call: how a host reaches the volume (`{"driver_volume_type", "data"}`), for the
    /// `connector` describing that host (os-brick's connector properties).
    InitializeConnection {
        volume_id: String,
        connector: Value,
    },
    /// A call: how a host reaches a snapshot's data (read-only), for backups of snapshots.
    InitializeConnectionSnapshot {
        snapshot_id: String,
        connector: Value,
    },
    /// A call: the host described by `connector` no longer uses the volume.
    TerminateConnection {
        volume_id: String,
        connector: Value,
        force: bool,
    },
    /// A call: connects attachment `attachment_id` of the volume for `connector` (Cinder's
    /// `attachment_update`): the attachment and the volume become `attaching`, and the answer
    /// is the attachment's flat connection info (the driver's `data` with
    /// `driver_volume_type`, `attachment_id` and `enforce_multipath`).
    AttachmentUpdate {
        volume_id: String,
        attachment_id: String,
        connector: Value,
    },
    /// A call: ends the connection of attachment `attachment_id` (Cinder's
    /// `attachment_delete` on the manager); the API then removes the record.
    AttachmentDelete {
        volume_id: String,
        attachment_id: String,
    },
}

/// A backup manager's methods (Cinder's BackupAPI), sent to `cinder-backup.<host>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "snake_case")]
pub enum BackupRequest {
    /// Backs up the backup's volume (status `creating`, the volume `backing-up`).
    CreateBackup { backup_id: String },
    /// Writes the backup into volume `volume_id` (status `restoring`, the volume
    /// `restoring-backup`).
    RestoreBackup { backup_id: String, volume_id: String },
    /// Removes the backup's data, then its record (status `deleting`).
    DeleteBackup { backup_id: String },
    /// Checks that an imported record's data is there (status `creating`) and makes it
    /// available, or error.
    ImportRecord { backup_id: String },
}

/// Casts to the backup manager of `host`.
pub async fn cast_backup(bus: &dyn Bus, ctx: Context, host: &str, request: &BackupRequest) -> Result<(), BusError> {
    let msg = encode(request, ctx)?;
    tracing::debug!("cast {} to {BACKUP_TOPIC}.{host}", msg.method);
    bus.cast(&Target::server(BACKUP_TOPIC, host), msg).await
}

/// Builds the bus message of a typed request.
pub fn encode<T: Serialize>(request: &T, context: Context) -> Result<Message, BusError> {
    let value = serde_json::to_value(request).map_err(|e| BusError::Transport(e.to_string()))?;
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let args = value.get("args").cloned().unwrap_or(Value::Null);
    Ok(Message::new(method, args).with_context(context))
}

/// Decodes a received message into its typed request.
pub fn decode<T: DeserializeOwned>(message: &Message) -> Result<T, serde_json::Error> {
    let args = if message.args.is_null() {
        json!({})
    } else {
        message.args.clone()
    };
    serde_json::from_value(json!({"method": message.method, "args": args}))
}

/// Casts to any scheduler.
pub async fn cast_scheduler(
    bus: &dyn Bus,
    ctx: Context,
    request: &SchedulerRequest,
) -> Result<(), BusError> {
    let msg = encode(request, ctx)?;
    bus.cast(&Target::topic(SCHEDULER_TOPIC), msg).await
}

/// Casts to the volume manager of `backend` (`host@backend`).
pub async fn cast_volume(
    bus: &dyn Bus,
    ctx: Context,
    backend: &str,
    request: &VolumeRequest,
) -> Result<(), BusError> {
    let msg = encode(request, ctx)?;
    tracing::debug!("cast {} to {VOLUME_TOPIC}.{backend}", msg.method);
    bus.cast(&Target::server(VOLUME_TOPIC, backend), msg).await
}

/// Calls the volume manager of `backend` and waits for its answer.
pub async fn call_volume(
    bus: &dyn Bus,
    ctx: Context,
    backend: &str,
    request: &VolumeRequest,
    timeout: Duration,
) -> Result<Value, BusError> {
    let msg = encode(request, ctx)?;
    bus.call(&Target::server(VOLUME_TOPIC, backend), msg, timeout)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_the_envelope() {
        let req = VolumeRequest::ExtendVolume {
            volume_id: "v".into(),
            new_size: 3,
        };
        let msg = encode(&req, Context::with_request_id("req-1")).expect("encode");
        assert_eq!(msg.method, "extend_volume");
        assert_eq!(msg.args["new_size"], 3);
        assert_eq!(decode::<VolumeRequest>(&msg).expect("decode"), req);
        assert!(decode::<SchedulerRequest>(&msg).is_err());
    }
}
