//! os-interface on the agent (Nova's `attach_interface` / `detach_interface`): a port is
//! allocated and bound to this host, then plugged by the driver (undone if the driver
//! refuses); a detached port is unplugged, then deleted or given back to the user.

use super::ComputeManager;
use crate::virt::Vif;
use monostack_bus::{Context, Reply};
use monostack_compute::network_api::{allocate, NetError};
use monostack_compute::request_spec::NetworkRequest;
use monostack_compute::rpc::compute::{AttachInterface, DetachInterface};
use monostack_conductor::agent_api::client::fault_reply;
use serde_json::{json, Value};

fn kind_of(e: &NetError) -> &'static str {
    match e {
        NetError::PortNotFound(_) => "PortNotFound",
        NetError::NetworkNotFound(_) => "NetworkNotFound",
        NetError::PortInUse(_) => "PortInUse",
        NetError::FixedIpAlreadyInUse { .. } => "FixedIpAlreadyInUse",
        NetError::NetworkAmbiguous => "NetworkAmbiguous",
        NetError::PortLimitExceeded => "PortLimitExceeded",
        NetError::FixedIpInvalidOnNetwork { .. } => "FixedIpInvalidOnNetwork",
        NetError::NoMoreFixedIps(_) => "NoMoreFixedIps",
        NetError::NetworkRequiresSubnet(_) => "NetworkRequiresSubnet",
        NetError::UnableToAutoAllocateNetwork(_) => "InterfaceAttachFailedNoNetwork",
        _ => "InterfaceAttachFailed",
    }
}

impl ComputeManager {
    pub(crate) async fn attach_interface(&self, ctx: &Context, r: AttachInterface) -> Reply {
        let uuid = r.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, "compute_attach_interface").await else {
            return Err(fault_reply(
                "InstanceNotFound",
                format!("Instance {uuid} could not be found."),
            ));
        };
        let request = match (&r.port_id, &r.network_id) {
            (Some(port_id), _) => NetworkRequest::Port {
                port_id: port_id.clone(),
                tag: r.tag.clone(),
            },
            (None, Some(net)) => NetworkRequest::Network {
                uuid: net.clone(),
                fixed_ip: r.fixed_ip.clone(),
                tag: r.tag.clone(),
            },
            (None, None) => NetworkRequest::Auto,
        };
        let previous = self.cached_network_info(ctx, &uuid).await;
        let user = match self.user_auth_for_call(ctx) {
            Ok(u) => u,
            Err(message) => {
                self.end(
                    ctx,
                    op,
                    Err(super::op::Failure::Recoverable(message.clone())),
                )
                .await;
                return Err(fault_reply("InterfaceAttachFailed", message));
            }
        };
        let instance = op.instance.clone();
        let inst = allocate::InstanceNet {
            uuid: &instance.uuid,
            project_id: &instance.project_id,
            zone: instance
                .availability_zone
                .as_deref()
                .unwrap_or(&self.config.compute.default_availability_zone),
            host: &self.host,
            request_id: ctx.request_id.as_deref().unwrap_or("-"),
        };
        let (info, port_id) = match allocate::allocate_port_for_instance(
            self.network.as_ref(),
            &user,
            &inst,
            &request,
            &previous,
        )
        .await
        {
            Ok(done) => done,
            Err(e) => {
                tracing::warn!("{}Interface attach failed: {e}", instance.tag());
                self.end(ctx, op, Ok(())).await;
                return Err(fault_reply(kind_of(&e), e.to_string()));
            }
        };
        let vif: Option<Vif> = super::network::vifs_of(&info)
            .into_iter()
            .find(|v| v.id == port_id);
        let plugged = match &vif {
            Some(v) => {
                let image = super::instance::image_meta(&instance, instance.image_ref.as_deref());
                self.driver
                    .attach_interface(&self.guest(&instance), &image, v)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => Err(format!(
                "port {port_id} is not in the instance's network info"
            )),
        };
        if let Err(reason) = plugged {
            tracing::warn!(
                "{}attach interface failed, deallocating port {port_id}: {reason}",
                instance.tag()
            );
            let _ = allocate::deallocate_port_for_instance(
                self.network.as_ref(),
                inst.request_id,
                &uuid,
                &port_id,
                &info,
            )
            .await;
            self.end(ctx, op, Ok(())).await;
            return Err(fault_reply(
                "InterfaceAttachFailed",
                format!("Failed to attach network adapter device to {uuid}"),
            ));
        }
        self.save_network_info(ctx, &uuid, &info).await;
        self.end(ctx, op, Ok(())).await;
        Ok(json!(port_id))
    }

    pub(crate) async fn detach_interface(&self, ctx: &Context, r: DetachInterface) -> Reply {
        let uuid = r.instance_uuid.clone();
        let Some(op) = self.begin(ctx, &uuid, "compute_detach_interface").await else {
            return Err(fault_reply(
                "InstanceNotFound",
                format!("Instance {uuid} could not be found."),
            ));
        };
        let previous = self.cached_network_info(ctx, &uuid).await;
        let Some(vif) = super::network::vifs_of(&previous)
            .into_iter()
            .find(|v| v.id == r.port_id)
        else {
            self.end(ctx, op, Ok(())).await;
            return Err(fault_reply(
                "PortNotFound",
                format!("Port {} is not attached", r.port_id),
            ));
        };
        if let Err(e) = self
            .driver
            .detach_interface(&self.guest(&op.instance), &vif)
            .await
        {
            tracing::warn!(
                "[instance: {uuid}] Detaching interface {} failed in the driver: {e}",
                r.port_id
            );
        }
        let request_id = ctx.request_id.clone().unwrap_or_else(|| "-".into());
        let info = match allocate::deallocate_port_for_instance(
            self.network.as_ref(),
            &request_id,
            &uuid,
            &r.port_id,
            &previous,
        )
        .await
        {
            Ok(info) => info,
            Err(e) => {
                tracing::warn!("[instance: {uuid}] Port {} not released: {e}", r.port_id);
                let remaining: Vec<Value> = previous
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| v["id"] != r.port_id.as_str())
                    .cloned()
                    .collect();
                Value::Array(remaining)
            }
        };
        self.save_network_info(ctx, &uuid, &info).await;
        self.end(ctx, op, Ok(())).await;
        Ok(Value::Null)
    }

    fn user_auth_for_call(
        &self,
        ctx: &Context,
    ) -> Result<monostack_compute::network_client::NetAuth, String> {
        let token = monostack_conductor::agent_api::auth_token(ctx)
            .ok_or("the request carries no token to reach the network service with")?;
        Ok(monostack_compute::network_client::NetAuth::new(
            token,
            ctx.request_id.as_deref().unwrap_or("-"),
        ))
    }
}
