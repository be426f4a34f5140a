//! The networks a server asks for, checked on the API with the caller's token as Nova's
//! `validate_networks` does (the ports themselves are allocated by the compute agent that
//! builds the server), and the security groups its ports get.

use super::super::ApiResult;
use crate::context::RequestContext;
use crate::network_api::{security_groups, validate, NetError};
use crate::network_client::NetAuth;
use crate::request_spec::NetworkRequest;
use crate::ComputeService;
use monostack_common::ApiError;

/// `networks` of a create request.
#[derive(Debug, Clone, PartialEq)]
pub enum Networks {
    /// `"auto"`.
    Auto,
    /// `"none"`: a server without network.
    None,
    /// Explicit networks, ports and fixed IPs; empty (`networks` absent or `[]` before 2.37)
    /// means the one network available to the project, if any.
    List(Vec<NetworkRequest>),
}

impl Default for Networks {
    fn default() -> Self {
        Networks::List(Vec::new())
    }
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

fn caller_auth(ctx: &RequestContext) -> NetAuth {
    NetAuth::new(ctx.token.clone(), ctx.request_id.clone())
}

/// Whether the requested networks can be provided (Nova's `validate_networks`); answers how
/// many of `count` servers the port quota leaves room for.
pub async fn validate(svc: &ComputeService, ctx: &RequestContext, networks: &Networks, count: u32) -> ApiResult<u32> {
    if *networks == Networks::None {
        return Ok(count);
    }
    validate::validate_networks(svc.network.as_ref(), &caller_auth(ctx), ctx.project_id(), &networks.requests(), count).await.map_err(|e| e.to_api())
}

/// Nova's `_check_requested_secgroups`: every group named (but `default`, which every project
/// has) exists among the project's (400 otherwise).
pub async fn check_security_groups(svc: &ComputeService, ctx: &RequestContext, groups: &[String]) -> ApiResult<()> {
    let named: Vec<String> = groups.iter().filter(|g| g.as_str() != "default").cloned().collect();
    if named.is_empty() {
        return Ok(());
    }
    match security_groups::resolve(svc.network.as_ref(), &caller_auth(ctx), ctx.project_id(), &named).await {
        Ok(_) => Ok(()),
        Err(e @ NetError::SecurityGroupNotFound(_)) => Err(ApiError::bad_request(e.to_string())),
        Err(e) => Err(e.to_api()),
    }
}
