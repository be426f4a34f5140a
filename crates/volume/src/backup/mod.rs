//! The backup service (cinder-backup): one per node, registered as service `cinder-backup` on
//! the node's host and consuming `cinder-backup.<host>`. The API casts to it directly (no
//! scheduler, as the notes say). It reaches a volume's data the way Cinder's backup service
//! does, through a connection the volume's manager makes (`initialize_connection` with this
//! host's connector; the file and LVM drivers answer a path on this node), and stores backups
//! with the [`posix`] driver. On start it fails what a crash interrupted.

pub mod posix;

use crate::context::request_span;
use crate::db::backups::{self, Backup};
use crate::db::metadata::{self, Table};
use crate::db::{services, volumes};
use crate::drivers::qemu_img;
use crate::rpc::{self, BackupRequest, VolumeRequest};
use crate::states;
use crate::VolumeService;
use monostack_bus::{Context, Message, Reply};
use posix::{BackupInfo, PosixDriver};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Backup statuses.
pub mod status {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const DELETING: &str = "deleting";
    pub const ERROR: &str = "error";
    pub const RESTORING: &str = "restoring";
    pub const ERROR_DELETING: &str = "error_deleting";
    /// Every status `os-reset_status` accepts (Cinder allows available and error).
    pub const RESETTABLE: &[&str] = &[AVAILABLE, ERROR];
}

pub struct BackupManager {
    pub service: Arc<VolumeService>,
    /// This node's host: the service's host and the bus server name.
    pub host: String,
    pub driver: Arc<PosixDriver>,
}

/// A running backup manager: its consumer and heartbeat.
pub struct BackupHandle {
    pub manager: Arc<BackupManager>,
    tasks: Vec<JoinHandle<()>>,
}

impl BackupHandle {
    pub fn stop(&self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Drop for BackupHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where backups are kept: `[volume] backup_posix_path`, else `<state_dir>/backups`.
pub fn backup_dir(service: &VolumeService) -> PathBuf {
    service
        .config
        .volume
        .backup_posix_path
        .clone()
        .unwrap_or_else(|| service.config.state_dir().join("backups"))
}

/// Starts this node's backup service.
pub async fn start(service: Arc<VolumeService>) -> anyhow::Result<BackupHandle> {
    let root = backup_dir(&service);
    std::fs::create_dir_all(&root).map_err(|e| anyhow::anyhow!("backup directory {}: {e}", root.display()))?;
    let driver = Arc::new(
        PosixDriver::new(root, service.config.volume.backup_file_size)
            .with_compression(&service.config.volume.backup_compression_algorithm),
    );
    let host = crate::host_name(&service.config);
    let zone = service.config.volume.storage_availability_zone.clone();
    services::register(&service.db, &host, "cinder-backup", rpc::BACKUP_TOPIC, &zone)
        .await
        .map_err(|e| anyhow::anyhow!("registering cinder-backup: {}", e.message))?;
    let manager = Arc::new(BackupManager {
        service: service.clone(),
        host: host.clone(),
        driver,
    });
    manager.init_host().await;
    let heartbeat = crate::manager::heartbeat_task(service.clone(), host.clone(), "cinder-backup", rpc::BACKUP_TOPIC, zone);
    let listener = service.bus.listen(rpc::BACKUP_TOPIC, &host).await?;
    let me = manager.clone();
    let consumer = monostack_bus::serve(listener, move |msg| me.clone().handle(msg));
    tracing::info!("Backup service {host} started (posix driver in {})", manager.driver.root().display());
    Ok(BackupHandle {
        manager,
        tasks: vec![consumer, heartbeat],
    })
}

/// Where a connection made for this node puts the volume's data.
struct Attached {
    path: PathBuf,
    format: String,
    connector: Value,
    /// A snapshot's data (nothing to terminate).
    snapshot: bool,
}

impl BackupManager {
    async fn handle(self: Arc<Self>, msg: Message) -> Reply {
        let span = request_span(&msg.context);
        async move {
            let request = rpc::decode::<BackupRequest>(&msg).map_err(|e| format!("unknown backup method {}: {e}", msg.method))?;
            match request {
                BackupRequest::CreateBackup { backup_id } => self.create_backup(&msg.context, &backup_id).await,
                BackupRequest::RestoreBackup { backup_id, volume_id } => self.restore_backup(&msg.context, &backup_id, &volume_id).await,
                BackupRequest::DeleteBackup { backup_id } => self.delete_backup(&backup_id).await,
                BackupRequest::ImportRecord { backup_id } => self.import_record(&backup_id).await,
            }
            Ok(Value::Null)
        }
        .instrument(span)
        .await
    }

    /// Fails what a restart interrupted (Cinder's backup `init_host`): backups being created
    /// go to error and their volumes back to their status; restores go back to available
    /// with their volumes in error_restoring; deletes are done again.
    pub async fn init_host(&self) {
        let db = &self.service.db;
        let all = match backups::list(db, None).await {
            Ok(b) => b,
            Err(e) => return tracing::error!("Backup service start-up: {}", e.message),
        };
        for b in all.into_iter().filter(|b| b.host.as_deref() == Some(self.host.as_str())) {
            match b.status.as_str() {
                status::CREATING => {
                    tracing::info!("Resetting backup {} to error (was creating).", b.id);
                    let _ = backups::set_status(
                        db,
                        &b.id,
                        &[status::CREATING],
                        status::ERROR,
                        Some("incomplete backup reset on manager restart"),
                    )
                    .await;
                    self.volume_back_from(&b.volume_id, states::volume::BACKING_UP).await;
                }
                status::RESTORING => {
                    tracing::info!("Resetting backup {} to available (was restoring).", b.id);
                    let _ = backups::set_status(db, &b.id, &[status::RESTORING], status::AVAILABLE, None).await;
                    if let Some(v) = &b.restore_volume_id {
                        let _ = volumes::update_if(
                            db,
                            v,
                            &[states::volume::RESTORING_BACKUP],
                            &volumes::Changes::status(states::volume::ERROR_RESTORING),
                        )
                        .await;
                    }
                }
                status::DELETING => self.delete_backup(&b.id).await,
                _ => {}
            }
        }
    }

    /// Puts a volume that is `busy` back to the status it had before.
    async fn volume_back_from(&self, volume_id: &str, busy: &str) {
        let db = &self.service.db;
        if let Ok(Some(v)) = volumes::get(db, volume_id).await {
            let back = v
                .previous_status
                .clone()
                .filter(|s| s == states::volume::IN_USE)
                .unwrap_or_else(|| states::volume::AVAILABLE.into());
            let changes = volumes::Changes {
                status: Some(back),
                previous_status: Some(None),
                ..Default::default()
            };
            let _ = volumes::update_if(db, volume_id, &[busy], &changes).await;
        }
    }

    /// Connects the volume to this node through its manager.
    /// Connects the volume (or, with `snapshot`, one of its snapshots, read-only) to this
    /// node through the volume's manager.
    async fn attach(&self, ctx: &Context, v: &volumes::Volume, snapshot: Option<&str>) -> Result<Attached, String> {
        let backend = v.backend().ok_or_else(|| format!("volume {} is not on any backend", v.id))?;
        let connector = json!({"host": self.host, "initiator": null, "ip": null, "platform": "x86_64", "os_type": "linux", "multipath": false});
        let request = match snapshot {
            Some(id) => VolumeRequest::InitializeConnectionSnapshot {
                snapshot_id: id.to_string(),
                connector: connector.clone(),
            },
            None => VolumeRequest::InitializeConnection {
                volume_id: v.id.clone(),
                connector: connector.clone(),
            },
        };
        let info = rpc::call_volume(self.service.bus.as_ref(), ctx.clone(), backend, &request, self.service.rpc_timeout())
            .await
            .map_err(|e| format!("connecting volume {}: {e}", v.id))?;
        let kind = info.get("driver_volume_type").and_then(Value::as_str).unwrap_or_default();
        let data = info.get("data").cloned().unwrap_or(Value::Null);
        match (kind, data.get("device_path").and_then(Value::as_str)) {
            ("file" | "local", Some(path)) => Ok(Attached {
                path: PathBuf::from(path),
                format: data.get("format").and_then(Value::as_str).unwrap_or("raw").to_string(),
                connector,
                snapshot: snapshot.is_some(),
            }),
            _ => {
                if snapshot.is_none() {
                    self.detach(ctx, v, connector).await;
                }
                Err(format!("the backup service cannot reach volumes of connection type '{kind}'"))
            }
        }
    }

    async fn detach(&self, ctx: &Context, v: &volumes::Volume, connector: Value) {
        let Some(backend) = v.backend() else { return };
        let request = VolumeRequest::TerminateConnection {
            volume_id: v.id.clone(),
            connector,
            force: true,
        };
        if let Err(e) = rpc::call_volume(self.service.bus.as_ref(), ctx.clone(), backend, &request, self.service.rpc_timeout()).await {
            tracing::warn!("Terminate connection of volume {} for backup failed: {e}", v.id);
        }
    }

    /// Cinder's `_create_temp_snapshot`: a snapshot `backup-snap-<volume id>` outside the
    /// quotas, made by the volume's manager (a call: it answers once the snapshot is made).
    async fn temp_snapshot(&self, ctx: &Context, v: &volumes::Volume) -> Result<crate::db::snapshots::Snapshot, String> {
        use crate::db::snapshots;
        let db = &self.service.db;
        let backend = v.backend().ok_or_else(|| format!("volume {} is not on any backend", v.id))?;
        let now = monostack_common::time::now_micros();
        let snap = snapshots::Snapshot {
            id: crate::db::new_id(),
            volume_id: v.id.clone(),
            project_id: v.project_id.clone(),
            user_id: v.user_id.clone(),
            display_name: Some(format!("backup-snap-{}", v.id)),
            display_description: Some(String::new()),
            status: states::snapshot::CREATING.into(),
            volume_size: v.size,
            volume_type_id: Some(v.volume_type_id.clone()),
            use_quota: false,
            created_at: now,
            updated_at: now,
            ..Default::default()
        };
        snapshots::insert(db, &snap).await.map_err(|e| e.message)?;
        tracing::info!("Creating temporary snapshot {} of in-use volume {} for backup.", snap.id, v.id);
        let request = VolumeRequest::CreateSnapshot { snapshot_id: snap.id.clone() };
        let called = rpc::call_volume(self.service.bus.as_ref(), ctx.clone(), backend, &request, self.service.rpc_timeout()).await;
        let made = snapshots::get(db, &snap.id).await.map_err(|e| e.message)?;
        match (called, made) {
            (Ok(_), Some(s)) if s.status == states::snapshot::AVAILABLE => Ok(s),
            (called, _) => {
                self.delete_temp_snapshot(ctx, v, &snap).await;
                Err(format!(
                    "the temporary snapshot of volume {} could not be made{}",
                    v.id,
                    called.err().map(|e| format!(": {e}")).unwrap_or_default()
                ))
            }
        }
    }

    /// Deletes a temporary snapshot through the volume's manager (a call), or its record
    /// when the manager cannot be reached.
    async fn delete_temp_snapshot(&self, ctx: &Context, v: &volumes::Volume, snap: &crate::db::snapshots::Snapshot) {
        let request = VolumeRequest::DeleteSnapshot { snapshot_id: snap.id.clone() };
        let called = match v.backend() {
            Some(backend) => rpc::call_volume(self.service.bus.as_ref(), ctx.clone(), backend, &request, self.service.rpc_timeout())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            None => Err("the volume is on no backend".into()),
        };
        if let Err(e) = called {
            tracing::warn!("Temporary snapshot {} of volume {} not deleted by its manager ({e}); marking it error_deleting", snap.id, v.id);
            let _ = crate::db::snapshots::update_if(&self.service.db, &snap.id, &[], states::snapshot::ERROR_DELETING, None, None).await;
        }
    }

    /// Where an existing backup's files are (its container and file prefix as recorded).
    fn location_of(&self, b: &Backup) -> posix::Location {
        self.driver.existing_location(
            &b.id,
            b.container.as_deref().unwrap_or(&posix::default_container(&b.id)),
            b.service_metadata.as_deref(),
        )
    }

    /// A scratch file of this service (qcow2 volumes go through raw copies).
    fn scratch(&self, name: &str) -> PathBuf {
        self.driver.root().join(".scratch").join(name)
    }

    pub(crate) async fn create_backup(&self, ctx: &Context, backup_id: &str) {
        let db = &self.service.db;
        let backup = match backups::get(db, backup_id).await {
            Ok(Some(b)) if b.status == status::CREATING => b,
            Ok(_) => return tracing::warn!("Backup {backup_id} is no longer being created"),
            Err(e) => return tracing::error!("Backup {backup_id}: {}", e.message),
        };
        tracing::info!("Create backup started, backup: {backup_id} volume: {}.", backup.volume_id);
        let result = self.run_backup(ctx, &backup).await;
        self.volume_back_from(&backup.volume_id, states::volume::BACKING_UP).await;
        if let Some(s) = &backup.snapshot_id {
            let _ = crate::db::snapshots::update_if(db, s, &[states::snapshot::BACKING_UP], states::snapshot::AVAILABLE, None, None).await;
        }
        match result {
            Ok(updated) => {
                if let Some(parent) = &updated.parent_id {
                    let _ = backups::add_dependents(db, parent, 1).await;
                }
                let _ = backups::save_if(db, &updated, &[status::CREATING]).await;
                tracing::info!("Create backup finished. backup: {backup_id} ({} objects).", updated.object_count);
            }
            Err(e) => {
                tracing::error!("Create backup of volume {} failed: {e}", backup.volume_id);
                let _ = backups::set_status(db, backup_id, &[status::CREATING], status::ERROR, Some(&e)).await;
            }
        }
    }

    async fn run_backup(&self, ctx: &Context, backup: &Backup) -> Result<Backup, String> {
        let db = &self.service.db;
        let volume = volumes::get(db, &backup.volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("volume {} is gone", backup.volume_id))?;
        let container = backup.container.clone().unwrap_or_else(|| posix::default_container(&backup.id));
        let loc = self.driver.location(&backup.id, &container);
        let parent_shas = match &backup.parent_id {
            Some(p) => {
                let parent = backups::get(db, p)
                    .await
                    .map_err(|e| e.message)?
                    .ok_or_else(|| format!("parent backup {p} is gone"))?;
                let ploc = self.location_of(&parent);
                Some(self.driver.read_shas(&ploc).map_err(|e| format!("parent backup {p}: {e}"))?.sha256s)
            }
            None => None,
        };
        let info = BackupInfo {
            backup_id: backup.id.clone(),
            volume_id: volume.id.clone(),
            parent_id: backup.parent_id.clone(),
            name: backup.display_name.clone(),
            description: backup.display_description.clone(),
            created_at: crate::api::view::ts(backup.created_at),
            volume_meta: metadata::get(db, Table::Volume, &volume.id).await.map_err(|e| e.message)?,
            volume_glance_meta: metadata::get(db, Table::VolumeImage, &volume.id).await.map_err(|e| e.message)?,
        };
        // An in-use volume is read through a temporary snapshot, as Cinder does for drivers
        // with backup_use_temp_snapshot: what the guest writes meanwhile does not tear it.
        let temp = if backup.snapshot_id.is_none() && volume.previous_status.as_deref() == Some(states::volume::IN_USE) {
            Some(self.temp_snapshot(ctx, &volume).await?)
        } else {
            None
        };
        let read_from = backup.snapshot_id.clone().or_else(|| temp.as_ref().map(|t| t.id.clone()));
        let attached = match self.attach(ctx, &volume, read_from.as_deref()).await {
            Ok(a) => a,
            Err(e) => {
                if let Some(t) = &temp {
                    self.delete_temp_snapshot(ctx, &volume, t).await;
                }
                return Err(e);
            }
        };
        let outcome = async {
            let (source, scratch) = if attached.format == "raw" {
                (attached.path.clone(), None)
            } else {
                let tmp = self.scratch(&format!("{}.raw", backup.id));
                tokio::fs::create_dir_all(self.scratch("")).await.map_err(|e| e.to_string())?;
                qemu_img::convert(&attached.path, &attached.format, &tmp, "raw")
                    .await
                    .map_err(|e| e.to_string())?;
                (tmp.clone(), Some(tmp))
            };
            let driver = self.driver.clone();
            let loc2 = loc.clone();
            let done = tokio::task::spawn_blocking(move || driver.backup(&source, &loc2, &info, parent_shas.as_deref()))
                .await
                .map_err(|e| format!("backup task failed: {e}"))?;
            if let Some(tmp) = scratch {
                let _ = tokio::fs::remove_file(tmp).await;
            }
            done.map_err(|e| e.to_string())
        }
        .await;
        if !attached.snapshot {
            self.detach(ctx, &volume, attached.connector.clone()).await;
        }
        if let Some(t) = &temp {
            self.delete_temp_snapshot(ctx, &volume, t).await;
        }
        let metadata = match outcome {
            Ok(m) => m,
            Err(e) => {
                let _ = self.driver.delete(&loc);
                return Err(e);
            }
        };
        let mut updated = backup.clone();
        updated.status = status::AVAILABLE.into();
        updated.object_count = metadata.objects.len() as i64;
        updated.container = Some(container);
        updated.service = Some(posix::SERVICE_NAME.into());
        updated.service_metadata = Some(loc.prefix.clone());
        updated.host = Some(self.host.clone());
        updated.fail_reason = None;
        Ok(updated)
    }

    /// The chain a restore applies: the full backup first, `backup` last.
    async fn chain(&self, backup: &Backup) -> Result<Vec<Backup>, String> {
        let mut chain = vec![backup.clone()];
        while let Some(parent) = chain.last().and_then(|b| b.parent_id.clone()) {
            if chain.len() > 10_000 {
                return Err("backup chain too long".into());
            }
            let p = backups::get(&self.service.db, &parent)
                .await
                .map_err(|e| e.message)?
                .ok_or_else(|| format!("parent backup {parent} is gone"))?;
            chain.push(p);
        }
        chain.reverse();
        Ok(chain)
    }

    pub(crate) async fn restore_backup(&self, ctx: &Context, backup_id: &str, volume_id: &str) {
        let db = &self.service.db;
        let backup = match backups::get(db, backup_id).await {
            Ok(Some(b)) if b.status == status::RESTORING => b,
            Ok(_) => return tracing::warn!("Backup {backup_id} is no longer restoring"),
            Err(e) => return tracing::error!("Backup {backup_id}: {}", e.message),
        };
        tracing::info!("Restore backup started, backup: {backup_id} volume: {volume_id}.");
        let result = self.run_restore(ctx, &backup, volume_id).await;
        let mut back = backup.clone();
        back.status = status::AVAILABLE.into();
        back.restore_volume_id = None;
        let _ = backups::save_if(db, &back, &[status::RESTORING]).await;
        match result {
            Ok(()) => {
                let _ = volumes::update_if(
                    db,
                    volume_id,
                    &[states::volume::RESTORING_BACKUP],
                    &volumes::Changes::status(states::volume::AVAILABLE),
                )
                .await;
                tracing::info!("Restore backup finished, backup {backup_id} restored to volume {volume_id}.");
            }
            Err(e) => {
                tracing::error!("Restore backup {backup_id} to volume {volume_id} failed: {e}");
                let _ = volumes::update_if(
                    db,
                    volume_id,
                    &[states::volume::RESTORING_BACKUP],
                    &volumes::Changes::status(states::volume::ERROR_RESTORING),
                )
                .await;
            }
        }
    }

    async fn run_restore(&self, ctx: &Context, backup: &Backup, volume_id: &str) -> Result<(), String> {
        let db = &self.service.db;
        let volume = volumes::get(db, volume_id)
            .await
            .map_err(|e| e.message)?
            .ok_or_else(|| format!("volume {volume_id} is gone"))?;
        let chain = self.chain(backup).await?;
        let locations: Vec<_> = chain
            .iter()
            .map(|b| self.location_of(b))
            .collect();
        let attached = self.attach(ctx, &volume, None).await?;
        let outcome = async {
            let raw = attached.format == "raw";
            let target = if raw {
                attached.path.clone()
            } else {
                self.scratch(&format!("{}-{volume_id}.raw", backup.id))
            };
            if !raw {
                tokio::fs::create_dir_all(self.scratch("")).await.map_err(|e| e.to_string())?;
                qemu_img::convert(&attached.path, &attached.format, &target, "raw")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let driver = self.driver.clone();
            let target2 = target.clone();
            let restored = tokio::task::spawn_blocking(move || {
                let mut last = None;
                for loc in &locations {
                    last = Some(driver.restore_one(loc, &target2)?);
                }
                Ok::<_, posix::BackupError>(last)
            })
            .await
            .map_err(|e| format!("restore task failed: {e}"))?
            .map_err(|e| e.to_string());
            if !raw {
                let converted = match &restored {
                    Ok(_) => qemu_img::convert(&target, "raw", &attached.path, &attached.format)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(_) => Ok(()),
                };
                let _ = tokio::fs::remove_file(&target).await;
                converted?;
            }
            restored
        }
        .await;
        self.detach(ctx, &volume, attached.connector.clone()).await;
        if let Some(m) = outcome? {
            if !m.volume_meta.is_empty() {
                metadata::set(db, Table::Volume, volume_id, &m.volume_meta, false)
                    .await
                    .map_err(|e| e.message)?;
            }
            // Cinder's _restore_vol_glance_meta: the image metadata replaces the volume's,
            // and the volume is bootable.
            if !m.volume_glance_meta.is_empty() {
                metadata::set(db, Table::VolumeImage, volume_id, &m.volume_glance_meta, true)
                    .await
                    .map_err(|e| e.message)?;
                let bootable = volumes::Changes {
                    bootable: Some(true),
                    ..Default::default()
                };
                volumes::update_if(db, volume_id, &[], &bootable).await.map_err(|e| e.message)?;
            }
        }
        Ok(())
    }

    pub(crate) async fn delete_backup(&self, backup_id: &str) {
        let db = &self.service.db;
        let backup = match backups::get(db, backup_id).await {
            Ok(Some(b)) => b,
            Ok(None) => return tracing::info!("Backup {backup_id} is already deleted"),
            Err(e) => return tracing::error!("Backup {backup_id}: {}", e.message),
        };
        tracing::info!("Delete backup started, backup: {backup_id}.");
        let loc = self.location_of(&backup);
        let driver = self.driver.clone();
        let removed = tokio::task::spawn_blocking(move || driver.delete(&loc))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match removed {
            Ok(()) => {
                let _ = backups::destroy(db, backup_id).await;
                if let Some(parent) = &backup.parent_id {
                    let _ = backups::add_dependents(db, parent, -1).await;
                }
                tracing::info!("Delete backup finished, backup {backup_id} deleted.");
            }
            Err(e) => {
                tracing::error!("Delete backup {backup_id} failed: {e}");
                let _ = backups::set_status(db, backup_id, &[], status::ERROR, Some(&e)).await;
            }
        }
    }

    /// An imported record is usable when its metadata and sha256 files are where its
    /// container and file prefix say, and are of its volume.
    pub(crate) async fn import_record(&self, backup_id: &str) {
        let db = &self.service.db;
        let Ok(Some(mut backup)) = backups::get(db, backup_id).await else {
            return tracing::warn!("Imported backup {backup_id} is gone");
        };
        let loc = self.location_of(&backup);
        let check = self.driver.read_metadata(&loc).map_err(|e| e.to_string()).and_then(|m| {
            self.driver.read_shas(&loc).map_err(|e| e.to_string())?;
            if m.volume_id != backup.volume_id {
                return Err(format!("the backup data in {} is of volume {}, not {}", loc.dir.display(), m.volume_id, backup.volume_id));
            }
            if m.backup_id != backup.id {
                // Cinder imports such a record too (Tempest imports an exported record under a
                // new id): both records then name the same data.
                tracing::info!("Imported backup {} uses the data of backup {}", backup.id, m.backup_id);
            }
            Ok(m)
        });
        match check {
            Ok(m) => {
                backup.status = status::AVAILABLE.into();
                backup.object_count = m.objects.len() as i64;
                backup.host = Some(self.host.clone());
                backup.service = Some(posix::SERVICE_NAME.into());
                let _ = backups::save_if(db, &backup, &[status::CREATING]).await;
                tracing::info!("Import record of backup {backup_id} finished.");
            }
            Err(e) => {
                tracing::error!("Import record of backup {backup_id} failed: {e}");
                let _ = backups::set_status(db, backup_id, &[status::CREATING], status::ERROR, Some(&e)).await;
            }
        }
    }
}
