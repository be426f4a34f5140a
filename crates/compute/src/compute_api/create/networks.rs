//! The networks a server asks for. The networking service does not exist yet, so everything
//! but "no network" fails as Nova fails when Neutron cannot provide it: automatic allocation
//! is impossible, and no network or port can be found.

use super::super::ApiResult;
use crate::context::RequestContext;
use crate::request_spec::NetworkRequest;
use monostack_common::ApiError;

/// `networks` of a create request.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Networks {
    /// `"auto"`.
    #[default]
    Auto,
    /// `"none"`, or `networks` absent before 2.37 while no network is available: a server
    /// without network.
    None,
    /// Explicit networks, ports and fixed IPs.
    List(Vec<NetworkRequest>),
}

impl Networks {
    /// The requests handed to the conductor.
    pub fn requests(&self) -> Vec<NetworkRequest> {
        match self {
            Networks::Auto => vec![NetworkRequest::Auto],
            Networks::None => vec![NetworkRequest::None],
            Networks::List(list) => list.clone(),
        }
    }
}

/// Nova's checks of a multi-create: one port cannot serve several servers, nor one fixed IP.
pub fn check_multiple(networks: &Networks) -> ApiResult<()> {
    let Networks::List(list) = networks else { return Ok(()) };
    for request in list {
        match request {
            NetworkRequest::Port { .. } => {
                return Err(ApiError::bad_request(
                    "Failed to launch instances: Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.",
                ))
            }
            NetworkRequest::Network { fixed_ip: Some(_), .. } => {
                return Err(ApiError::bad_request("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified."))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether the requested networks can be provided (Nova's `validate_networks`).
pub fn validate(ctx: &RequestContext, networks: &Networks) -> ApiResult<()> {
    match networks {
        Networks::None => Ok(()),
        Networks::Auto => Err(ApiError::bad_request(format!("Unable to automatically allocate a network for project {}", ctx.project_id()))),
        Networks::List(list) => {
            for request in list {
                match request {
                    NetworkRequest::Port { port_id, .. } => return Err(ApiError::bad_request(format!("Port id {port_id} could not be found."))),
                    NetworkRequest::Network { uuid, .. } => return Err(ApiError::bad_request(format!("Network {uuid} could not be found."))),
                    NetworkRequest::Auto => return validate(ctx, &Networks::Auto),
                    NetworkRequest::None => {}
                }
            }
            Ok(())
        }
    }
}
