//! Compute's side of networking, as Nova's `nova.network.neutron.API`: checking what a create
//! asks for ([`validate`], on the API), allocating and binding ports where Nova does it (the
//! compute manager's build, [`allocate`]), releasing them on delete, moving their binding with
//! the instance, and the instance's network info in Nova's model ([`model`]).
//!
//! Everything goes through [`crate::network_client::NetworkApi`]; errors are Nova's exceptions
//! ([`NetError`]) with the messages and status codes the compute API answers.

pub mod allocate;
pub mod model;
pub mod security_groups;
pub mod validate;

use crate::network_client::NetworkError;
use monostack_common::ApiError;

/// Nova's network exceptions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("Network {0} could not be found.")]
    NetworkNotFound(String),
    #[error("Port id {0} could not be found.")]
    PortNotFound(String),
    #[error("Port {0} is still in use.")]
    PortInUse(String),
    #[error("Port {0} requires a FixedIP in order to be used.")]
    PortRequiresFixedIp(String),
    #[error("Fixed IP address {address} is already in use on instance {instance_uuid}.")]
    FixedIpAlreadyInUse {
        address: String,
        instance_uuid: String,
    },
    #[error("Network {0} requires a subnet in order to boot instances on.")]
    NetworkRequiresSubnet(String),
    #[error("Multiple possible networks found, use a Network ID to be more specific.")]
    NetworkAmbiguous,
    #[error("Unable to automatically allocate a network for project {0}")]
    UnableToAutoAllocateNetwork(String),
    #[error("Security group {0} not found.")]
    SecurityGroupNotFound(String),
    #[error("Multiple security groups found matching '{0}'. Use an ID to be more specific.")]
    NoUniqueMatch(String),
    #[error("Maximum number of ports exceeded")]
    PortLimitExceeded,
    #[error("Fixed IP {address} is not a valid ip address for network {network_id}.")]
    FixedIpInvalidOnNetwork { address: String, network_id: String },
    #[error("No more fixed IPs available for network: {0}")]
    NoMoreFixedIps(String),
    #[error("Failed to allocate the network(s), not rescheduling.")]
    Neutron(NetworkError),
}

impl From<NetworkError> for NetError {
    fn from(e: NetworkError) -> Self {
        NetError::Neutron(e)
    }
}

impl NetError {
    /// The compute API's answer (server create, os-interface).
    pub fn to_api(&self) -> ApiError {
        match self {
            NetError::PortInUse(_) | NetError::NetworkAmbiguous | NetError::NoUniqueMatch(_) => {
                ApiError::conflict(self.to_string())
            }
            NetError::PortLimitExceeded => ApiError::forbidden(self.to_string()),
            NetError::Neutron(NetworkError::Unavailable(cause)) => {
                tracing::error!("network service unavailable: {cause}");
                ApiError::new(
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "The networking service is unavailable.",
                )
            }
            NetError::Neutron(NetworkError::Conflict { message, .. }) => {
                ApiError::conflict(message.clone())
            }
            NetError::Neutron(NetworkError::Forbidden { message, .. }) => {
                ApiError::forbidden(message.clone())
            }
            NetError::Neutron(NetworkError::OverQuota { .. }) => {
                ApiError::forbidden("Maximum number of ports exceeded")
            }
            NetError::Neutron(NetworkError::NotFound { message, .. }) => {
                ApiError::not_found(message.clone())
            }
            NetError::Neutron(NetworkError::BadRequest { message, .. }) => {
                ApiError::bad_request(message.clone())
            }
            _ => ApiError::bad_request(self.to_string()),
        }
    }

    /// What a failed port create means for Nova (`_create_port_minimal`).
    pub fn from_port_create(e: NetworkError, network_id: &str, address: Option<&str>) -> NetError {
        match (e.kind(), address) {
            ("IpAddressInUse" | "IpAddressAlreadyAllocated", Some(a)) => {
                NetError::FixedIpAlreadyInUse {
                    address: a.to_string(),
                    instance_uuid: String::new(),
                }
            }
            ("InvalidIpForNetwork" | "InvalidIpForSubnet" | "InvalidInput", Some(a)) => {
                NetError::FixedIpInvalidOnNetwork {
                    address: a.to_string(),
                    network_id: network_id.to_string(),
                }
            }
            ("IpAddressGenerationFailure", _) => NetError::NoMoreFixedIps(network_id.to_string()),
            ("OverQuota", _) => NetError::PortLimitExceeded,
            _ if matches!(e, NetworkError::OverQuota { .. }) => NetError::PortLimitExceeded,
            _ => NetError::Neutron(e),
        }
    }
}
