//! The one error type of the networking service and its single mapping to Neutron's fault
//! body, `{"NeutronError": {"type", "message", "detail"}}`.
//!
//! `type` is the name of the Neutron exception class (`NetworkNotFound`, `InvalidInput`,
//! `IpAddressGenerationFailure`, …) and the status is the one Neutron's fault map gives its
//! base class (NotFound 404, BadRequest 400, Conflict and InUse 409, NotAuthorized 403,
//! ServiceUnavailable 503). Messages are worded as Neutron words them, because clients and
//! Tempest match on them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use monostack_common::fault::RenderedFault;
use monostack_common::ApiError;
use serde_json::json;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {kind}: {message}")]
pub struct NeutronError {
    pub status: StatusCode,
    /// Neutron's exception class name, shown as the fault's `type`.
    pub kind: &'static str,
    pub message: String,
    /// Set on database failures worth retrying the whole transaction for (deadlock,
    /// serialization failure, a unique key taken by a concurrent writer).
    pub retry: bool,
}

pub type NeutronResult<T> = Result<T, NeutronError>;

impl NeutronError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        NeutronError {
            status,
            kind,
            message: message.into(),
            retry: false,
        }
    }

    // --- 404 ---
    pub fn not_found(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, kind, message)
    }
    pub fn network_not_found(id: &str) -> Self {
        Self::not_found(
            "NetworkNotFound",
            format!("Network {id} could not be found."),
        )
    }
    pub fn subnet_not_found(id: &str) -> Self {
        Self::not_found("SubnetNotFound", format!("Subnet {id} could not be found."))
    }
    pub fn port_not_found(id: &str) -> Self {
        Self::not_found("PortNotFound", format!("Port {id} could not be found."))
    }
    pub fn tag_not_found(tag: &str) -> Self {
        Self::not_found("TagNotFound", format!("Tag {tag} could not be found."))
    }
    /// A URL that names no resource (webob's HTTPNotFound).
    pub fn http_not_found() -> Self {
        Self::not_found("HTTPNotFound", "The resource could not be found.")
    }

    // --- 400 ---
    /// Neutron's InvalidInput: "Invalid input for operation: <msg>."
    pub fn invalid_input(msg: impl AsRef<str>) -> Self {
        let msg = msg.as_ref().trim_end_matches('.');
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            format!("Invalid input for operation: {msg}."),
        )
    }
    /// Neutron's BadRequest: "Bad <resource> request: <msg>."
    pub fn bad_request(resource: &str, msg: impl AsRef<str>) -> Self {
        let msg = msg.as_ref().trim_end_matches('.');
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Bad {resource} request: {msg}."),
        )
    }
    /// A 400 of a specific Neutron type whose message is given whole.
    pub fn bad(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, message)
    }
    /// An attribute the caller may not set or a body that does not parse (webob's HTTPBadRequest).
    pub fn http_bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "HTTPBadRequest", message)
    }

    // --- 409 ---
    pub fn conflict(kind: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, kind, message)
    }
    pub fn network_in_use(id: &str) -> Self {
        Self::conflict(
            "NetworkInUse",
            format!("Unable to complete operation on network {id}. There are one or more ports still in use on the network."),
        )
    }
    pub fn subnet_in_use(id: &str) -> Self {
        Self::conflict(
            "SubnetInUse",
            format!("Unable to complete operation on subnet {id}: One or more ports have an IP allocation from this subnet."),
        )
    }
    pub fn ip_generation_failure(net_id: &str) -> Self {
        Self::conflict(
            "IpAddressGenerationFailure",
            format!("No more IP addresses available on network {net_id}."),
        )
    }
    pub fn ip_in_use(net_id: &str, ip: &str) -> Self {
        Self::conflict(
            "IpAddressInUse",
            format!(
                "Unable to complete operation for network {net_id}. The IP address {ip} is in use."
            ),
        )
    }
    pub fn mac_in_use(net_id: &str, mac: &str) -> Self {
        Self::conflict(
            "MacAddressInUse",
            format!("Unable to complete operation for network {net_id}. The mac address {mac} is in use."),
        )
    }
    pub fn vlan_in_use(vlan: i64, physnet: &str) -> Self {
        Self::conflict(
            "VlanIdInUse",
            format!("Unable to create the network. The VLAN {vlan} on physical network {physnet} is in use."),
        )
    }
    pub fn tunnel_in_use(id: i64) -> Self {
        Self::conflict(
            "TunnelIdInUse",
            format!("Unable to create the network. The tunnel ID {id} is in use."),
        )
    }
    pub fn flat_in_use(physnet: &str) -> Self {
        Self::conflict(
            "FlatNetworkInUse",
            format!("Unable to create the flat network. Physical network {physnet} is in use."),
        )
    }
    pub fn overlapping_pools(pool_1: &str, pool_2: &str, cidr: &str) -> Self {
        Self::conflict(
            "OverlappingAllocationPools",
            format!("Found overlapping allocation pools: {pool_1} {pool_2} for subnet {cidr}."),
        )
    }
    /// `If-Match: revision_number=N` did not match (Neutron answers 412).
    pub fn revision_mismatch(expected: i64, current: i64) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "RevisionNumberConstraintFailed",
            format!("Constrained to {expected}, but current revision is {current}"),
        )
    }

    // --- 403 / 503 / 500 ---
    /// A policy refusal, worded as Neutron's policy engine words it.
    pub fn policy(rules: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "PolicyNotAuthorized",
            format!("({rules}) is disallowed by policy"),
        )
    }
    pub fn no_network_available() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NoNetworkAvailable",
            "Unable to create the network. No project network is available for allocation.",
        )
    }
    /// Our own failure: the cause is logged, the client gets Neutron's generic words.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("network internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "HTTPInternalServerError",
            "Request Failed: internal server error while processing your request.",
        )
    }
    fn retryable(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!("Another request changed the same data at the same time; retry ({cause})"),
        );
        e.retry = true;
        e
    }
}

impl From<sqlx::Error> for NeutronError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL deadlock_detected / serialization_failure, MySQL deadlock (1213), and
            // a unique key taken by a concurrent transaction: the whole write is retried.
            if matches!(db.code().as_deref(), Some("40P01" | "40001" | "1213"))
                || db.is_unique_violation()
            {
                return NeutronError::retryable(e);
            }
        }
        NeutronError::internal(e)
    }
}

impl From<ApiError> for NeutronError {
    fn from(e: ApiError) -> Self {
        let kind = match e.status.as_u16() {
            400 => "HTTPBadRequest",
            401 => "HTTPUnauthorized",
            403 => "HTTPForbidden",
            404 => "HTTPNotFound",
            409 => "HTTPConflict",
            413 => "HTTPRequestEntityTooLarge",
            415 => "HTTPUnsupportedMediaType",
            _ => "HTTPInternalServerError",
        };
        NeutronError::new(e.status, kind, e.message)
    }
}

impl IntoResponse for NeutronError {
    fn into_response(self) -> Response {
        let body =
            json!({"NeutronError": {"type": self.kind, "message": self.message, "detail": ""}});
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(RenderedFault);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutron_wording() {
        assert_eq!(
            NeutronError::invalid_input("bad.").message,
            "Invalid input for operation: bad."
        );
        assert_eq!(
            NeutronError::bad_request("subnet", "x").message,
            "Bad subnet request: x."
        );
        assert_eq!(
            NeutronError::network_in_use("n").status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            NeutronError::no_network_available().status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let api: NeutronError = ApiError::bad_request("nope").into();
        assert_eq!(
            (api.status, api.kind),
            (StatusCode::BAD_REQUEST, "HTTPBadRequest")
        );
    }
}
