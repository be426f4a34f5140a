//! Lifecycle events a driver emits when a guest changes state on its own (or an operation
//! changes it), so the manager can sync the database's power state without polling.

use serde::{Deserialize, Serialize};

/// Nova's virt lifecycle transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifecycleTransition {
    Started,
    Stopped,
    Paused,
    Resumed,
    Suspended,
    MigrationCompleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifecycleEvent {
    pub instance_uuid: String,
    pub node: String,
    pub transition: LifecycleTransition,
}
