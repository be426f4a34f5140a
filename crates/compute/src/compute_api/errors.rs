//! Nova's error messages for server operations.

use monostack_common::ApiError;

/// 404 `Instance <id> could not be found.`
pub fn instance_not_found(uuid: &str) -> ApiError {
    ApiError::not_found(format!("Instance {uuid} could not be found."))
}

/// 409 for an operation refused in the instance's state (Nova's
/// `raise_http_conflict_for_instance_invalid_state`).
pub fn invalid_state(action: &str, uuid: &str, attr: &str, state: Option<&str>) -> ApiError {
    match state {
        Some(state) => ApiError::conflict(format!("Cannot '{action}' instance {uuid} while it is in {attr} {state}")),
        None => ApiError::conflict(format!("Instance {uuid} is in an invalid state for '{action}'")),
    }
}

/// 409 `Instance <id> is locked`.
pub fn locked(uuid: &str) -> ApiError {
    ApiError::conflict(format!("Instance {uuid} is locked"))
}

/// 409 `Instance <id> is not ready`: the instance has no host yet.
pub fn not_ready(uuid: &str) -> ApiError {
    ApiError::conflict(format!("Instance {uuid} is not ready"))
}

/// 409 when another request changed the task state first (Nova's UnexpectedTaskStateError).
pub fn unexpected_task_state(uuid: &str) -> ApiError {
    ApiError::conflict(format!("Conflict updating instance {uuid}. Expected: {{'task_state': [None]}}. Actual: another task is in progress"))
}
