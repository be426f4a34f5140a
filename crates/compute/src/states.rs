//! Nova's instance states: the stable `vm_state`, the `task_state` of an operation in flight,
//! the hypervisor's `power_state`, and the API `status` derived from the first two. The string
//! values are Nova's, since they appear in the API (`OS-EXT-STS:*`) and in operators' scripts.

/// Stable states (nova/compute/vm_states.py).
pub mod vm {
    pub const ACTIVE: &str = "active";
    pub const BUILDING: &str = "building";
    pub const PAUSED: &str = "paused";
    pub const SUSPENDED: &str = "suspended";
    pub const STOPPED: &str = "stopped";
    pub const RESCUED: &str = "rescued";
    pub const RESIZED: &str = "resized";
    pub const SOFT_DELETED: &str = "soft-delete";
    pub const DELETED: &str = "deleted";
    pub const ERROR: &str = "error";
    pub const SHELVED: &str = "shelved";
    pub const SHELVED_OFFLOADED: &str = "shelved_offloaded";

    pub const ALLOW_SOFT_REBOOT: &[&str] = &[ACTIVE];
    pub const ALLOW_HARD_REBOOT: &[&str] = &[ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR];
    pub const ALLOW_TRIGGER_CRASH_DUMP: &[&str] = &[ACTIVE, PAUSED, RESCUED, RESIZED, ERROR];
}

/// Transitional states (nova/compute/task_states.py).
pub mod task {
    pub const SCHEDULING: &str = "scheduling";
    pub const BLOCK_DEVICE_MAPPING: &str = "block_device_mapping";
    pub const NETWORKING: &str = "networking";
    pub const SPAWNING: &str = "spawning";
    pub const IMAGE_SNAPSHOT: &str = "image_snapshot";
    pub const IMAGE_SNAPSHOT_PENDING: &str = "image_snapshot_pending";
    pub const IMAGE_PENDING_UPLOAD: &str = "image_pending_upload";
    pub const IMAGE_UPLOADING: &str = "image_uploading";
    pub const IMAGE_BACKUP: &str = "image_backup";
    pub const UPDATING_PASSWORD: &str = "updating_password";
    pub const RESIZE_PREP: &str = "resize_prep";
    pub const RESIZE_MIGRATING: &str = "resize_migrating";
    pub const RESIZE_MIGRATED: &str = "resize_migrated";
    pub const RESIZE_FINISH: &str = "resize_finish";
    pub const RESIZE_REVERTING: &str = "resize_reverting";
    pub const RESIZE_CONFIRMING: &str = "resize_confirming";
    pub const REBOOTING: &str = "rebooting";
    pub const REBOOT_PENDING: &str = "reboot_pending";
    pub const REBOOT_STARTED: &str = "reboot_started";
    pub const REBOOTING_HARD: &str = "rebooting_hard";
    pub const REBOOT_PENDING_HARD: &str = "reboot_pending_hard";
    pub const REBOOT_STARTED_HARD: &str = "reboot_started_hard";
    pub const PAUSING: &str = "pausing";
    pub const UNPAUSING: &str = "unpausing";
    pub const SUSPENDING: &str = "suspending";
    pub const RESUMING: &str = "resuming";
    pub const POWERING_OFF: &str = "powering-off";
    pub const POWERING_ON: &str = "powering-on";
    pub const RESCUING: &str = "rescuing";
    pub const UNRESCUING: &str = "unrescuing";
    pub const REBUILDING: &str = "rebuilding";
    pub const REBUILD_BLOCK_DEVICE_MAPPING: &str = "rebuild_block_device_mapping";
    pub const REBUILD_SPAWNING: &str = "rebuild_spawning";
    pub const MIGRATING: &str = "migrating";
    pub const DELETING: &str = "deleting";
    pub const SOFT_DELETING: &str = "soft-deleting";
    pub const RESTORING: &str = "restoring";
    pub const SHELVING: &str = "shelving";
    pub const SHELVING_IMAGE_PENDING_UPLOAD: &str = "shelving_image_pending_upload";
    pub const SHELVING_IMAGE_UPLOADING: &str = "shelving_image_uploading";
    pub const SHELVING_OFFLOADING: &str = "shelving_offloading";
    pub const UNSHELVING: &str = "unshelving";

    /// Task states a hard reboot may interrupt (None is allowed too).
    pub const ALLOW_REBOOT: &[&str] =
        &[REBOOTING, REBOOT_PENDING, REBOOT_STARTED, RESUMING, REBOOTING_HARD, UNPAUSING, PAUSING, SUSPENDING];
}

/// Hypervisor power states as Nova numbers them (nova/compute/power_state.py).
pub mod power {
    pub const NOSTATE: i64 = 0;
    pub const RUNNING: i64 = 1;
    pub const PAUSED: i64 = 3;
    pub const SHUTDOWN: i64 = 4;
    pub const CRASHED: i64 = 6;
    pub const SUSPENDED: i64 = 7;

    /// Every valid power state with its name (the `power_state` list filter takes either).
    pub const ALL: &[(i64, &str)] =
        &[(NOSTATE, "pending"), (RUNNING, "running"), (PAUSED, "paused"), (SHUTDOWN, "shutdown"), (CRASHED, "crashed"), (SUSPENDED, "suspended")];
}

/// (vm_state, task_state or "default", status): Nova's `_STATE_MAP` flattened.
const STATUS_MAP: &[(&str, &str, &str)] = &[
    (vm::ACTIVE, "default", "ACTIVE"),
    (vm::ACTIVE, task::REBOOTING, "REBOOT"),
    (vm::ACTIVE, task::REBOOT_PENDING, "REBOOT"),
    (vm::ACTIVE, task::REBOOT_STARTED, "REBOOT"),
    (vm::ACTIVE, task::REBOOTING_HARD, "HARD_REBOOT"),
    (vm::ACTIVE, task::REBOOT_PENDING_HARD, "HARD_REBOOT"),
    (vm::ACTIVE, task::REBOOT_STARTED_HARD, "HARD_REBOOT"),
    (vm::ACTIVE, task::UPDATING_PASSWORD, "PASSWORD"),
    (vm::ACTIVE, task::REBUILDING, "REBUILD"),
    (vm::ACTIVE, task::REBUILD_BLOCK_DEVICE_MAPPING, "REBUILD"),
    (vm::ACTIVE, task::REBUILD_SPAWNING, "REBUILD"),
    (vm::ACTIVE, task::MIGRATING, "MIGRATING"),
    (vm::ACTIVE, task::RESIZE_PREP, "RESIZE"),
    (vm::ACTIVE, task::RESIZE_MIGRATING, "RESIZE"),
    (vm::ACTIVE, task::RESIZE_MIGRATED, "RESIZE"),
    (vm::ACTIVE, task::RESIZE_FINISH, "RESIZE"),
    (vm::BUILDING, "default", "BUILD"),
    (vm::STOPPED, "default", "SHUTOFF"),
    (vm::STOPPED, task::RESIZE_PREP, "RESIZE"),
    (vm::STOPPED, task::RESIZE_MIGRATING, "RESIZE"),
    (vm::STOPPED, task::RESIZE_MIGRATED, "RESIZE"),
    (vm::STOPPED, task::RESIZE_FINISH, "RESIZE"),
    (vm::STOPPED, task::REBUILDING, "REBUILD"),
    (vm::STOPPED, task::REBUILD_BLOCK_DEVICE_MAPPING, "REBUILD"),
    (vm::STOPPED, task::REBUILD_SPAWNING, "REBUILD"),
    (vm::RESIZED, "default", "VERIFY_RESIZE"),
    (vm::RESIZED, task::RESIZE_REVERTING, "REVERT_RESIZE"),
    (vm::PAUSED, "default", "PAUSED"),
    (vm::PAUSED, task::MIGRATING, "MIGRATING"),
    (vm::SUSPENDED, "default", "SUSPENDED"),
    (vm::RESCUED, "default", "RESCUE"),
    (vm::ERROR, "default", "ERROR"),
    (vm::ERROR, task::REBUILDING, "REBUILD"),
    (vm::ERROR, task::REBUILD_BLOCK_DEVICE_MAPPING, "REBUILD"),
    (vm::ERROR, task::REBUILD_SPAWNING, "REBUILD"),
    (vm::DELETED, "default", "DELETED"),
    (vm::SOFT_DELETED, "default", "SOFT_DELETED"),
    (vm::SHELVED, "default", "SHELVED"),
    (vm::SHELVED_OFFLOADED, "default", "SHELVED_OFFLOADED"),
];

/// The API status of an instance (`UNKNOWN` for a state Nova would not know either).
pub fn status(vm_state: &str, task_state: Option<&str>) -> &'static str {
    let mut default = None;
    for &(vm, task, status) in STATUS_MAP {
        if vm != vm_state {
            continue;
        }
        if Some(task) == task_state {
            return status;
        }
        if task == "default" {
            default = Some(status);
        }
    }
    default.unwrap_or("UNKNOWN")
}

/// The (vm_states, task_states) a list of API statuses selects, as Nova's
/// `task_and_vm_state_from_status`: "default" among the task states means any task state.
pub fn states_for_statuses(statuses: &[String]) -> (Vec<&'static str>, Vec<&'static str>) {
    let wanted: Vec<String> = statuses.iter().map(|s| s.to_lowercase()).collect();
    let mut vm_states = Vec::new();
    let mut task_states = Vec::new();
    for &(vm, task, status) in STATUS_MAP {
        if wanted.iter().any(|w| w == &status.to_lowercase()) {
            if !vm_states.contains(&vm) {
                vm_states.push(vm);
            }
            if !task_states.contains(&task) {
                task_states.push(task);
            }
        }
    }
    vm_states.sort_unstable();
    task_states.sort_unstable();
    (vm_states, task_states)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_nova_state_map() {
        assert_eq!(status(vm::ACTIVE, None), "ACTIVE");
        assert_eq!(status(vm::ACTIVE, Some(task::REBOOTING_HARD)), "HARD_REBOOT");
        assert_eq!(status(vm::ACTIVE, Some(task::POWERING_OFF)), "ACTIVE");
        assert_eq!(status(vm::STOPPED, Some(task::RESIZE_PREP)), "RESIZE");
        assert_eq!(status(vm::RESIZED, Some(task::RESIZE_REVERTING)), "REVERT_RESIZE");
        assert_eq!(status(vm::SOFT_DELETED, None), "SOFT_DELETED");
        assert_eq!(status("bogus", None), "UNKNOWN");
    }

    #[test]
    fn statuses_map_back_to_states() {
        let (vms, tasks) = states_for_statuses(&["shutoff".into()]);
        assert_eq!(vms, vec![vm::STOPPED]);
        assert_eq!(tasks, vec!["default"]);
        let (vms, tasks) = states_for_statuses(&["REBOOT".into()]);
        assert_eq!(vms, vec![vm::ACTIVE]);
        assert!(tasks.contains(&task::REBOOT_PENDING) && !tasks.contains(&"default"));
        assert_eq!(states_for_statuses(&["nope".into()]), (vec![], vec![]));
    }
}
