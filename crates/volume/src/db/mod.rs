//! The block storage database: volume types (with extra specs and project access), volumes
//! (with user, admin and image metadata), snapshots, attachments, backups, services and the pools the
//! volume managers report, and quotas.

pub mod attachments;
pub mod backups;
pub mod encryption;
pub mod metadata;
pub mod pools;
pub mod qos;
pub mod quotas;
pub mod schema;
pub mod services;
pub mod snapshots;
pub mod transfers;
pub mod types;
pub mod volumes;

/// A fresh UUID string.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
