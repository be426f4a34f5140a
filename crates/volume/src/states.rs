//! Cinder's statuses, as the API shows them.

/// Volume statuses.
pub mod volume {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const RESERVED: &str = "reserved";
    pub const ATTACHING: &str = "attaching";
    pub const IN_USE: &str = "in-use";
    pub const DETACHING: &str = "detaching";
    pub const MAINTENANCE: &str = "maintenance";
    pub const DELETING: &str = "deleting";
    pub const ERROR: &str = "error";
    pub const ERROR_DELETING: &str = "error_deleting";
    pub const ERROR_EXTENDING: &str = "error_extending";
    pub const ERROR_RESTORING: &str = "error_restoring";
    pub const ERROR_MANAGING: &str = "error_managing";
    pub const BACKING_UP: &str = "backing-up";
    pub const RESTORING_BACKUP: &str = "restoring-backup";
    pub const UPLOADING: &str = "uploading";
    pub const DOWNLOADING: &str = "downloading";
    pub const RETYPING: &str = "retyping";
    pub const EXTENDING: &str = "extending";

    /// Every status `os-reset_status` accepts.
    pub const ALL: &[&str] = &[
        CREATING,
        AVAILABLE,
        RESERVED,
        ATTACHING,
        IN_USE,
        DETACHING,
        MAINTENANCE,
        DELETING,
        ERROR,
        ERROR_DELETING,
        ERROR_EXTENDING,
        ERROR_RESTORING,
        ERROR_MANAGING,
        BACKING_UP,
        RESTORING_BACKUP,
        UPLOADING,
        DOWNLOADING,
        RETYPING,
        EXTENDING,
    ];
}

/// Attach statuses (`attach_status`).
pub mod attach {
    pub const DETACHED: &str = "detached";
    pub const ATTACHING: &str = "attaching";
    pub const ATTACHED: &str = "attached";
    pub const DETACHING: &str = "detaching";
    pub const RESERVED: &str = "reserved";
    pub const ERROR_ATTACHING: &str = "error_attaching";
    pub const ERROR_DETACHING: &str = "error_detaching";
}

/// Snapshot statuses.
pub mod snapshot {
    pub const CREATING: &str = "creating";
    pub const AVAILABLE: &str = "available";
    pub const DELETING: &str = "deleting";
    pub const ERROR: &str = "error";
    pub const ERROR_DELETING: &str = "error_deleting";
    pub const BACKING_UP: &str = "backing-up";
    pub const RESTORING: &str = "restoring";
    pub const UNMANAGING: &str = "unmanaging";

    /// Every status `os-reset_status` accepts.
    pub const ALL: &[&str] = &[
        CREATING,
        AVAILABLE,
        DELETING,
        ERROR,
        ERROR_DELETING,
        BACKING_UP,
        RESTORING,
        UNMANAGING,
    ];
}
