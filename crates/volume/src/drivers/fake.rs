//! The fake driver: volumes and snapshots simulated in memory (sizes only), reporting a
//! configured capacity (`capacity_gb`, 1000 GiB by default) as one thick pool. Durable state
//! stays in the database, as with every driver.

use super::{BackendStats, ConnectionInfo, DriverError, ModelUpdate, VolumeDriver};
use crate::db::snapshots::Snapshot;
use crate::db::volumes::Volume;
use async_trait::async_trait;
use monostack_common::config::VolumeBackendSection;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct FakeDriver {
    backend_name: String,
    settings: VolumeBackendSection,
    volumes: Mutex<BTreeMap<String, i64>>,
    snapshots: Mutex<BTreeMap<String, i64>>,
}

impl FakeDriver {
    pub fn new(backend_name: String, settings: &VolumeBackendSection) -> Self {
        FakeDriver {
            backend_name,
            settings: settings.clone(),
            volumes: Mutex::default(),
            snapshots: Mutex::default(),
        }
    }

    /// The simulated volumes and their sizes (for tests).
    pub fn volumes(&self) -> BTreeMap<String, i64> {
        self.volumes.lock().clone()
    }
}

#[async_trait]
impl VolumeDriver for FakeDriver {
    fn driver_name(&self) -> &'static str {
        "fake"
    }

    async fn setup(&self) -> Result<(), DriverError> {
        Ok(())
    }

    async fn stats(&self) -> Result<BackendStats, DriverError> {
        let total = self.settings.capacity_gb.unwrap_or(1000) as f64;
        let used: i64 =
            self.volumes.lock().values().sum::<i64>() + self.snapshots.lock().values().sum::<i64>();
        let free = (total - used as f64).max(0.0);
        Ok(BackendStats {
            volume_backend_name: self.backend_name.clone(),
            vendor_name: "monostack".into(),
            driver_version: "1.0".into(),
            storage_protocol: "fake".into(),
            pools: vec![super::pool_stats(
                &self.backend_name,
                &self.settings,
                total,
                free,
                false,
            )],
        })
    }

    async fn create_volume(&self, volume: &Volume) -> Result<ModelUpdate, DriverError> {
        self.volumes.lock().insert(volume.id.clone(), volume.size);
        Ok(ModelUpdate {
            provider_location: Some(format!("fake:{}", volume.name())),
        })
    }

    async fn create_volume_from_snapshot(
        &self,
        volume: &Volume,
        snapshot: &Snapshot,
    ) -> Result<ModelUpdate, DriverError> {
        if !self.snapshots.lock().contains_key(&snapshot.id) {
            return Err(DriverError::Operation(format!(
                "snapshot {} is not on this backend",
                snapshot.id
            )));
        }
        self.create_volume(volume).await
    }

    async fn create_cloned_volume(
        &self,
        volume: &Volume,
        source: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        if !self.volumes.lock().contains_key(&source.id) {
            return Err(DriverError::Operation(format!(
                "volume {} is not on this backend",
                source.id
            )));
        }
        self.create_volume(volume).await
    }

    async fn delete_volume(&self, volume: &Volume) -> Result<(), DriverError> {
        self.volumes.lock().remove(&volume.id);
        Ok(())
    }

    async fn extend_volume(&self, volume: &Volume, new_size: i64) -> Result<(), DriverError> {
        self.volumes.lock().insert(volume.id.clone(), new_size);
        Ok(())
    }

    async fn create_snapshot(
        &self,
        snapshot: &Snapshot,
        volume: &Volume,
    ) -> Result<ModelUpdate, DriverError> {
        self.snapshots
            .lock()
            .insert(snapshot.id.clone(), volume.size);
        Ok(ModelUpdate {
            provider_location: Some(format!("fake:{}", snapshot.name())),
        })
    }

    async fn delete_snapshot(&self, snapshot: &Snapshot) -> Result<(), DriverError> {
        self.snapshots.lock().remove(&snapshot.id);
        Ok(())
    }

    async fn initialize_connection(
        &self,
        volume: &Volume,
        _connector: &Value,
    ) -> Result<ConnectionInfo, DriverError> {
        Ok(ConnectionInfo {
            driver_volume_type: "fake".into(),
            data: json!({"volume_id": volume.id, "name": volume.name(), "access_mode": "rw"}),
        })
    }

    async fn terminate_connection(
        &self,
        _volume: &Volume,
        _connector: &Value,
    ) -> Result<(), DriverError> {
        Ok(())
    }

    fn local_path(&self, _volume: &Volume) -> Option<PathBuf> {
        None
    }
}
