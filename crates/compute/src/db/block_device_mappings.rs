//! Block device mappings: the disks of a server (its image root disk, ephemeral and swap disks
//! from the flavor, and volumes), as the compute agent builds them.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BlockDeviceMapping {
    pub uuid: String,
    pub instance_uuid: String,
    pub boot_index: Option<i64>,
    /// image, volume, snapshot or blank.
    pub source_type: String,
    /// local or volume.
    pub destination_type: String,
    pub device_name: Option<String>,
    pub device_type: Option<String>,
    pub disk_bus: Option<String>,
    /// `swap` marks the swap disk; a filesystem name formats an ephemeral disk.
    pub guest_format: Option<String>,
    pub image_id: Option<String>,
    pub volume_id: Option<String>,
    pub snapshot_id: Option<String>,
    /// GiB (MiB for swap, as Nova).
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub delete_on_termination: bool,
    pub no_device: bool,
    pub tag: Option<String>,
    /// The block storage attachment holding the volume for this server (3.44 flow).
    #[serde(default)]
    pub attachment_id: Option<String>,
    /// How the host reaches the volume (the attachment's connection info, as Nova keeps it:
    /// `{"driver_volume_type", "data", "serial"...}`).
    #[serde(default)]
    pub connection_info: Option<serde_json::Value>,
}

impl BlockDeviceMapping {
    /// Nova's `new_format_is_swap`.
    pub fn is_swap(&self) -> bool {
        self.source_type == "blank" && self.destination_type == "local" && self.guest_format.as_deref() == Some("swap")
    }

    /// Nova's `new_format_is_ephemeral`.
    pub fn is_ephemeral(&self) -> bool {
        self.source_type == "blank" && self.destination_type == "local" && self.guest_format.as_deref() != Some("swap")
    }

    /// The root disk is a volume (boot from volume).
    pub fn is_volume_root(&self) -> bool {
        self.boot_index == Some(0) && self.destination_type == "volume"
    }

    /// A volume of the server (attached, or to be made and attached at build).
    pub fn is_volume(&self) -> bool {
        self.destination_type == "volume"
    }
}

const COLUMNS: &str = "id, uuid, instance_uuid, boot_index, source_type, destination_type, device_name, device_type, disk_bus, guest_format, image_id, volume_id, snapshot_id, volume_size, volume_type, delete_on_termination, no_device, tag, attachment_id, connection_info, created_at, deleted";

fn from_row(row: &sqlx::any::AnyRow) -> Result<BlockDeviceMapping, ApiError> {
    Ok(BlockDeviceMapping {
        uuid: row.text("uuid")?,
        instance_uuid: row.text("instance_uuid")?,
        boot_index: row.opt_int("boot_index")?,
        source_type: row.text("source_type")?,
        destination_type: row.text("destination_type")?,
        device_name: row.opt_text("device_name")?,
        device_type: row.opt_text("device_type")?,
        disk_bus: row.opt_text("disk_bus")?,
        guest_format: row.opt_text("guest_format")?,
        image_id: row.opt_text("image_id")?,
        volume_id: row.opt_text("volume_id")?,
        snapshot_id: row.opt_text("snapshot_id")?,
        volume_size: row.opt_int("volume_size")?,
        volume_type: row.opt_text("volume_type")?,
        delete_on_termination: row.flag("delete_on_termination")?,
        no_device: row.flag("no_device")?,
        tag: row.opt_text("tag")?,
        attachment_id: row.opt_text("attachment_id")?,
        connection_info: row.opt_json("connection_info")?,
    })
}

/// Inserts the mappings of a new server inside the caller's transaction.
pub async fn insert_all(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, bdms: &[BlockDeviceMapping]) -> Result<(), ApiError> {
    let marks = vec!["?"; COLUMNS.split(',').count()].join(", ");
    let sql = format!("INSERT INTO block_device_mappings ({COLUMNS}) VALUES ({marks})");
    for b in bdms {
        let id = super::next_id(db, &mut **tx, "block_device_mappings").await?;
        sqlx::query(&db.sql(&sql))
            .bind(id)
            .bind(b.uuid.clone())
            .bind(b.instance_uuid.clone())
            .bind(b.boot_index)
            .bind(b.source_type.clone())
            .bind(b.destination_type.clone())
            .bind(b.device_name.clone())
            .bind(b.device_type.clone())
            .bind(b.disk_bus.clone())
            .bind(b.guest_format.clone())
            .bind(b.image_id.clone())
            .bind(b.volume_id.clone())
            .bind(b.snapshot_id.clone())
            .bind(b.volume_size)
            .bind(b.volume_type.clone())
            .bind(i64::from(b.delete_on_termination))
            .bind(i64::from(b.no_device))
            .bind(b.tag.clone())
            .bind(b.attachment_id.clone())
            .bind(b.connection_info.as_ref().map(|v| v.to_string()))
            .bind(now_micros())
            .bind(0_i64)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The live mappings of several servers, by instance uuid, in boot order.
pub async fn list_many(db: &Database, uuids: &[String]) -> Result<HashMap<String, Vec<BlockDeviceMapping>>, ApiError> {
    let mut out: HashMap<String, Vec<BlockDeviceMapping>> = HashMap::new();
    let sql = format!("SELECT {COLUMNS} FROM block_device_mappings WHERE deleted = 0 AND instance_uuid IN ({{uuids}}) ORDER BY id");
    for row in super::by_uuids::fetch(db, &sql, uuids).await? {
        let bdm = from_row(&row)?;
        out.entry(bdm.instance_uuid.clone()).or_default().push(bdm);
    }
    Ok(out)
}

/// The live mappings of one server.
pub async fn list(db: &Database, uuid: &str) -> Result<Vec<BlockDeviceMapping>, ApiError> {
    Ok(list_many(db, &[uuid.to_string()]).await?.remove(uuid).unwrap_or_default())
}

/// The live mappings of `volume_id` (every server it is attached to or reserved for).
pub async fn list_by_volume(db: &Database, volume_id: &str) -> Result<Vec<BlockDeviceMapping>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM block_device_mappings WHERE deleted = 0 AND volume_id = ? ORDER BY id");
    let rows = sqlx::query(&db.sql(&sql)).bind(volume_id.to_string()).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// The live mapping of `volume_id` on `instance_uuid` (Nova's `get_by_volume_and_instance`).
pub async fn get_by_volume_and_instance(db: &Database, volume_id: &str, instance_uuid: &str) -> Result<Option<BlockDeviceMapping>, ApiError> {
    Ok(list(db, instance_uuid).await?.into_iter().find(|b| b.volume_id.as_deref() == Some(volume_id)))
}

/// The live mapping `uuid`.
pub async fn get(db: &Database, uuid: &str) -> Result<Option<BlockDeviceMapping>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM block_device_mappings WHERE deleted = 0 AND uuid = ?");
    let row = sqlx::query(&db.sql(&sql)).bind(uuid.to_string()).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Inserts one mapping (an attach); retried when a concurrent insert took the same id.
pub async fn insert_one(db: &Database, bdm: &BlockDeviceMapping) -> Result<(), ApiError> {
    let mut last = None;
    for _ in 0..5 {
        let mut tx = db.begin_write().await?;
        match insert_all(db, &mut tx, std::slice::from_ref(bdm)).await {
            Ok(()) => {
                tx.commit().await?;
                return Ok(());
            }
            Err(e) if e.status == http::StatusCode::CONFLICT => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::internal("block device mapping ids kept colliding")))
}

/// Writes what a build or an attach learnt about a mapping: its volume (made at build), the
/// attachment, the connection info, the device and `delete_on_termination`.
pub async fn save(db: &Database, bdm: &BlockDeviceMapping) -> Result<bool, ApiError> {
    let sql = "UPDATE block_device_mappings SET volume_id = ?, attachment_id = ?, connection_info = ?, device_name = ?, volume_size = ?, delete_on_termination = ?, updated_at = ? WHERE uuid = ? AND deleted = 0";
    let done = sqlx::query(&db.sql(sql))
        .bind(bdm.volume_id.clone())
        .bind(bdm.attachment_id.clone())
        .bind(bdm.connection_info.as_ref().map(|v| v.to_string()))
        .bind(bdm.device_name.clone())
        .bind(bdm.volume_size)
        .bind(i64::from(bdm.delete_on_termination))
        .bind(now_micros())
        .bind(bdm.uuid.clone())
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Soft-deletes the mapping `uuid` (a detach).
pub async fn destroy(db: &Database, uuid: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE block_device_mappings SET deleted = id, updated_at = ? WHERE uuid = ? AND deleted = 0")).bind(now_micros()).bind(uuid.to_string()).execute(&db.pool).await?;
    Ok(())
}
