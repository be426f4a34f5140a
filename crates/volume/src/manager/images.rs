//! Volumes and images (Cinder's `_create_from_image_download` and `copy_volume_to_image`):
//! the manager moves the data through a file in `<state>/conversion` (Cinder's
//! `image_conversion_dir`), checked and converted with qemu-img, always naming the format
//! the image service recorded (never probing it: an image claiming to be raw stays raw).

use super::VolumeManager;
use crate::db::metadata::{self, Table};
use crate::db::volumes::{self, Volume};
use crate::drivers::{qemu_img, ModelUpdate};
use crate::image_service::{self, ImageAuth, CORE_ATTRIBUTES};
use crate::states;
use monostack_bus::Context;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

const GIB: u64 = 1 << 30;

/// The caller's credentials a bus message carries.
pub(crate) fn caller_auth(ctx: &Context) -> ImageAuth {
    ImageAuth {
        token: ctx
            .extra
            .get("auth_token")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        request_id: ctx.request_id.clone().unwrap_or_else(|| "-".into()),
    }
}

/// A scratch file removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The image record's fields a volume made of it keeps (`volume_image_metadata`): Cinder's
/// `image_id`, `image_name`, `checksum`, formats, `min_disk`, `min_ram`, `size`, and the
/// image's own properties.
pub(crate) fn volume_image_metadata(image: &Value) -> BTreeMap<String, String> {
    let mut meta = BTreeMap::new();
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    for (key, field) in [
        ("image_id", "id"),
        ("image_name", "name"),
        ("checksum", "checksum"),
        ("disk_format", "disk_format"),
        ("container_format", "container_format"),
        ("min_disk", "min_disk"),
        ("min_ram", "min_ram"),
        ("size", "size"),
    ] {
        if let Some(v) = image.get(field).and_then(text) {
            meta.insert(key.to_string(), v);
        }
    }
    if let Some(obj) = image.as_object() {
        for (k, v) in obj {
            if CORE_ATTRIBUTES.contains(&k.as_str()) || k.len() > 255 {
                continue;
            }
            if let Some(v) = text(v) {
                meta.insert(k.clone(), v);
            }
        }
    }
    meta
}

impl VolumeManager {
    fn conversion_dir(&self) -> PathBuf {
        self.service.config.state_dir().join("conversion")
    }

    /// Makes `volume` (status `creating`, then `downloading`) of image `image_id`: downloads
    /// it with the service user's token, checks it with qemu-img (no backing file, a virtual
    /// size that fits), has the driver write it into the volume, and records the image's
    /// metadata on the volume. Answers the driver's model update.
    pub(crate) async fn create_from_image(
        &self,
        ctx: &Context,
        volume: &Volume,
        image_id: &str,
    ) -> Result<ModelUpdate, String> {
        let db = &self.service.db;
        volumes::update_if(
            db,
            &volume.id,
            &[states::volume::CREATING],
            &volumes::Changes::status(states::volume::DOWNLOADING),
        )
        .await
        .map_err(|e| e.message)?;
        let glance = &self.service.images;
        let caller = caller_auth(ctx);
        let auth = glance.service_auth(&caller).await;
        let image = match glance.show(&auth, image_id).await {
            Ok(i) => i,
            Err(_) if auth.token != caller.token => glance
                .show(&caller, image_id)
                .await
                .map_err(|e| e.to_string())?,
            Err(e) => return Err(e.to_string()),
        };
        let disk_format = image["disk_format"].as_str().unwrap_or("raw");
        let format = image_service::qemu_format(disk_format).ok_or_else(|| {
            format!("Image {image_id} is unacceptable: disk format {disk_format} is not supported")
        })?;
        let model = if self.driver.local_path(volume).is_none() {
            // A backend without local data (the fake driver) holds nothing to write.
            self.driver
                .create_volume(volume)
                .await
                .map_err(|e| e.to_string())?
        } else {
            let dir = self.conversion_dir();
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|e| format!("{}: {e}", dir.display()))?;
            let tmp = Scratch(dir.join(format!("{}.{image_id}", volume.id)));
            let bytes = match glance.download(&auth, image_id, &tmp.0).await {
                Ok(n) => n,
                Err(_) if auth.token != caller.token => glance
                    .download(&caller, image_id, &tmp.0)
                    .await
                    .map_err(|e| e.to_string())?,
                Err(e) => return Err(e.to_string()),
            };
            tracing::info!("Image download {bytes} bytes of {image_id} for volume {}", volume.id);
            let info = qemu_img::info(&tmp.0, format)
                .await
                .map_err(|e| format!("Image {image_id} is unacceptable: {e}"))?;
            if info.get("backing-filename").is_some() {
                return Err(format!("Image {image_id} is unacceptable: fmt={format} backed by a backing file"));
            }
            let virtual_size = info["virtual-size"].as_u64().unwrap_or(bytes);
            let virtual_gb = virtual_size.div_ceil(GIB);
            if virtual_gb > volume.size as u64 {
                return Err(format!(
                    "Image {image_id} is unacceptable: Image virtual size is {virtual_gb}GB and doesn't fit in a volume of size {}GB.",
                    volume.size
                ));
            }
            self.driver
                .copy_image_to_volume(volume, &tmp.0, format)
                .await
                .map_err(|e| e.to_string())?
        };
        metadata::set(
            db,
            Table::VolumeImage,
            &volume.id,
            &volume_image_metadata(&image),
            true,
        )
        .await
        .map_err(|e| e.message)?;
        Ok(model)
    }

    /// Writes the volume (status `uploading`) into image `image_id` as `disk_format`, then
    /// puts the volume back to the status it had (`available`, or `in-use` for a forced
    /// upload). On failure the image is deleted.
    pub(crate) async fn copy_volume_to_image(
        &self,
        ctx: &Context,
        volume_id: &str,
        image_id: &str,
        disk_format: &str,
    ) {
        let db = &self.service.db;
        let volume = match volumes::get(db, volume_id).await {
            Ok(Some(v)) if v.status == states::volume::UPLOADING => v,
            Ok(_) => return tracing::warn!("Volume {volume_id} is no longer uploading"),
            Err(e) => return tracing::error!("Volume {volume_id}: {}", e.message),
        };
        let caller = caller_auth(ctx);
        let result = self.upload(&volume, image_id, disk_format, &caller).await;
        match &result {
            Ok(()) => tracing::info!("Copy volume to image completed successfully. volume {volume_id} image {image_id}"),
            Err(e) => {
                tracing::error!("Upload of volume {volume_id} to image {image_id} failed: {e}");
                let glance = &self.service.images;
                if glance.delete(&caller, image_id).await.is_err() {
                    let auth = glance.service_auth(&caller).await;
                    if let Err(e) = glance.delete(&auth, image_id).await {
                        tracing::warn!("Image {image_id} of the failed upload not deleted: {e}");
                    }
                }
            }
        }
        let back = volume
            .previous_status
            .clone()
            .filter(|s| s == states::volume::IN_USE)
            .unwrap_or_else(|| states::volume::AVAILABLE.into());
        let changes = volumes::Changes {
            status: Some(back),
            previous_status: Some(None),
            ..Default::default()
        };
        let _ = volumes::update_if(db, volume_id, &[states::volume::UPLOADING], &changes).await;
    }

    async fn upload(
        &self,
        volume: &Volume,
        image_id: &str,
        disk_format: &str,
        caller: &ImageAuth,
    ) -> Result<(), String> {
        let glance = &self.service.images;
        let auth = glance.service_auth(caller).await;
        let target = image_service::qemu_format(disk_format)
            .ok_or_else(|| format!("disk format {disk_format} is not supported"))?;
        let dir = self.conversion_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let connector = json!({"host": crate::host_name(&self.service.config), "initiator": null, "platform": "x86_64", "os_type": "linux", "multipath": false});
        let info = self
            .driver
            .initialize_connection(volume, &connector)
            .await
            .map_err(|e| e.to_string())?;
        let source = info.data.get("device_path").and_then(Value::as_str).map(PathBuf::from);
        let source_format = info
            .data
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("raw")
            .to_string();
        let outcome = async {
            let (file, _scratch) = match source {
                // A backend without local data (the fake driver): an empty image.
                None => {
                    let tmp = Scratch(dir.join(format!("{}.upload", volume.id)));
                    tokio::fs::write(&tmp.0, b"").await.map_err(|e| e.to_string())?;
                    (tmp.0.clone(), Some(tmp))
                }
                Some(path) if source_format == target && target == "raw" => (path, None),
                Some(path) => {
                    let tmp = Scratch(dir.join(format!("{}.{image_id}.upload", volume.id)));
                    qemu_img::convert(&path, &source_format, &tmp.0, target)
                        .await
                        .map_err(|e| e.to_string())?;
                    (tmp.0.clone(), Some(tmp))
                }
            };
            let sent = match glance.upload(&auth, image_id, &file).await {
                Err(_) if auth.token != caller.token => glance.upload(caller, image_id, &file).await,
                other => other,
            };
            sent.map_err(|e| e.to_string())
        }
        .await;
        if let Err(e) = self.driver.terminate_connection(volume, &connector).await {
            tracing::warn!("Terminate connection of volume {} after upload: {e}", volume.id);
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_metadata_keeps_cinders_fields_and_properties() {
        let image = json!({"id": "i", "name": "cirros", "checksum": "abc", "disk_format": "qcow2",
            "container_format": "bare", "min_disk": 1, "min_ram": 64, "size": 1024, "status": "active",
            "hw_disk_bus": "scsi", "tags": [], "os_hidden": false, "visibility": "public"});
        let m = volume_image_metadata(&image);
        assert_eq!(m["image_id"], "i");
        assert_eq!(m["image_name"], "cirros");
        assert_eq!(m["min_disk"], "1");
        assert_eq!(m["size"], "1024");
        assert_eq!(m["hw_disk_bus"], "scsi");
        assert!(!m.contains_key("status") && !m.contains_key("visibility") && !m.contains_key("tags"));
    }
}
