//! The instance's ports, where nova-compute handles them: allocated and bound to this host
//! when a build starts (`_build_networks_for_instance`), released when the instance is deleted
//! or its build fails (`_cleanup_allocated_networks`), rebound after a move, attached and
//! detached at the user's request (os-interface), and refreshed when the network service
//! says they changed (`network-changed`). The network info is cached on the instance through
//! the conductor (the agent never touches the database).

use super::op::Failure;
use super::ComputeManager;
use crate::virt::Vif;
use monostack_bus::Context;
use monostack_compute::network_api::allocate::{self, InstanceNet};
use monostack_compute::network_api::{model, NetError};
use monostack_compute::network_client::NetAuth;
use monostack_compute::request_spec::NetworkRequest;
use monostack_conductor::agent_api;
use monostack_conductor::agent_api::conductor::{
    ConductorRequest, InfoCacheSet, InstanceRef as InstanceArg,
};
use monostack_conductor::agent_api::records::InstanceRecord;
use serde_json::Value;

/// The VIFs the driver plugs, from Nova's network model.
pub(crate) fn vifs_of(network_info: &Value) -> Vec<Vif> {
    network_info
        .as_array()
        .into_iter()
        .flatten()
        .map(vif_of)
        .collect()
}

fn vif_of(v: &Value) -> Vif {
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    let fixed_ips = v
        .pointer("/network/subnets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|s| {
            s.get("ips")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|ip| {
            ip.get("address")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    Vif {
        id: text("/id").unwrap_or_default(),
        address: text("/address").unwrap_or_default(),
        network_id: text("/network/id").unwrap_or_default(),
        vif_type: text("/type").unwrap_or_else(|| "unbound".into()),
        devname: text("/devname"),
        bridge: text("/network/bridge"),
        mtu: v
            .pointer("/network/meta/mtu")
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok()),
        fixed_ips,
        details: v
            .get("details")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }
}

fn request_id(ctx: &Context) -> &str {
    ctx.request_id.as_deref().unwrap_or("-")
}

impl ComputeManager {
    fn instance_net<'a>(
        &'a self,
        ctx: &'a Context,
        instance: &'a InstanceRecord,
    ) -> InstanceNet<'a> {
        InstanceNet {
            uuid: &instance.uuid,
            project_id: &instance.project_id,
            zone: instance
                .availability_zone
                .as_deref()
                .unwrap_or(&self.config.compute.default_availability_zone),
            host: &self.host,
            request_id: request_id(ctx),
        }
    }

    fn user_auth(&self, ctx: &Context) -> Result<NetAuth, Failure> {
        let token = agent_api::auth_token(ctx).ok_or_else(|| {
            Failure::Error("the request carries no token to reach the network service with".into())
        })?;
        Ok(NetAuth::new(token, request_id(ctx)))
    }

    /// The cached network info (Nova's model; `[]` when none).
    pub(crate) async fn cached_network_info(&self, ctx: &Context, uuid: &str) -> Value {
        let cached: Result<Value, _> = self
            .conductor
            .call(
                ctx,
                ConductorRequest::InfoCacheGet(InstanceArg {
                    uuid: uuid.to_string(),
                }),
            )
            .await;
        cached.unwrap_or_else(|_| Value::Array(Vec::new()))
    }

    pub(crate) async fn save_network_info(&self, ctx: &Context, uuid: &str, network_info: &Value) {
        let request = ConductorRequest::InfoCacheSet(InfoCacheSet {
            uuid: uuid.to_string(),
            network_info: network_info.clone(),
        });
        if let Err(e) = self.conductor.run(ctx, request).await {
            tracing::warn!("[instance: {uuid}] network info cache not saved: {e}");
        }
    }

    /// Allocates and binds the ports of a new instance and caches its network info (Nova's
    /// `_build_networks_for_instance`). A failure aborts the build without rescheduling.
    pub(crate) async fn allocate_network(
        &self,
        ctx: &Context,
        instance: &InstanceRecord,
        requested: &[NetworkRequest],
        security_groups: &[String],
    ) -> Result<Vec<Vif>, Failure> {
        if requested.iter().any(|r| matches!(r, NetworkRequest::None)) {
            return Ok(Vec::new());
        }
        let user = self.user_auth(ctx)?;
        let inst = self.instance_net(ctx, instance);
        let network_info = match allocate::allocate_for_instance(
            self.network.as_ref(),
            &user,
            &inst,
            requested,
            security_groups,
        )
        .await
        {
            Ok(info) => info,
            Err(e) => {
                tracing::error!("{}Failed to allocate network(s): {e}", instance.tag());
                let reason = match e {
                    NetError::Neutron(_) => e.to_string(),
                    other => {
                        format!("{other} Failed to allocate the network(s), not rescheduling.")
                    }
                };
                return Err(Failure::Error(format!(
                    "Build of instance {} aborted: {reason}",
                    instance.uuid
                )));
            }
        };
        tracing::debug!("{}Instance network_info: {network_info}", instance.tag());
        self.save_network_info(ctx, &instance.uuid, &network_info)
            .await;
        Ok(vifs_of(&network_info))
    }

    /// Releases the instance's ports (deleted, or unbound when the user passed them) and
    /// empties its cache (Nova's `_deallocate_network`). Failures are logged: the instance
    /// goes away regardless, as in Nova.
    pub(crate) async fn deallocate_network(&self, ctx: &Context, uuid: &str) {
        let cached = self.cached_network_info(ctx, uuid).await;
        match allocate::deallocate_for_instance(
            self.network.as_ref(),
            request_id(ctx),
            uuid,
            &cached,
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!("[instance: {uuid}] Deallocated {n} port(s)"),
            Err(e) => tracing::error!("[instance: {uuid}] Failed to deallocate networks: {e}"),
        }
        self.save_network_info(ctx, uuid, &Value::Array(Vec::new()))
            .await;
    }

    /// Rebinds the instance's ports to this host after a move and refreshes its cache;
    /// answers the VIFs to plug.
    pub(crate) async fn bind_network_here(&self, ctx: &Context, uuid: &str) -> Vec<Vif> {
        let cached = self.cached_network_info(ctx, uuid).await;
        if model::port_ids(&cached).is_empty() {
            return Vec::new();
        }
        match allocate::bind_to_host(
            self.network.as_ref(),
            request_id(ctx),
            uuid,
            &self.host,
            &cached,
        )
        .await
        {
            Ok(info) => {
                self.save_network_info(ctx, uuid, &info).await;
                vifs_of(&info)
            }
            Err(e) => {
                tracing::error!("[instance: {uuid}] Ports not bound to {}: {e}", self.host);
                vifs_of(&cached)
            }
        }
    }

    /// Events from the network service (Nova's `external_instance_event`): `network-changed`
    /// and `network-vif-deleted` refresh the instance's cache; `network-vif-plugged` and
    /// `-unplugged` are logged (nothing waits for them with this driver, as Nova's fake
    /// driver does not).
    pub(crate) async fn external_instance_event(
        &self,
        ctx: &Context,
        events: &[monostack_compute::rpc::compute::ExternalEvent],
    ) {
        let mut refreshed: Vec<&str> = Vec::new();
        for event in events {
            tracing::info!(
                "[instance: {}] Received event {}-{} ({})",
                event.server_uuid,
                event.name,
                event.tag.as_deref().unwrap_or(""),
                event.status
            );
            let refresh = matches!(
                event.name.as_str(),
                "network-changed" | "network-vif-deleted"
            );
            if refresh && !refreshed.contains(&event.server_uuid.as_str()) {
                refreshed.push(&event.server_uuid);
                let _guard = self.locks.lock(&event.server_uuid).await;
                // A deleted server's ports announce their deletion too: nothing to cache then.
                if matches!(self.conductor.instance_get(ctx, &event.server_uuid).await, Ok(Some(_))) {
                    self.refresh_network_info(ctx, &event.server_uuid).await;
                }
            }
        }
    }

    /// Reads the instance's ports again into its cache (`network-changed`,
    /// `network-vif-deleted`).
    pub(crate) async fn refresh_network_info(&self, ctx: &Context, uuid: &str) {
        let cached = self.cached_network_info(ctx, uuid).await;
        match model::refresh(self.network.as_ref(), request_id(ctx), uuid, &cached).await {
            Ok(info) => self.save_network_info(ctx, uuid, &info).await,
            Err(e) => tracing::warn!("[instance: {uuid}] network info cache not refreshed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn model_vifs_become_driver_vifs() {
        let info = json!([{"id": "p1", "address": "fa:16:3e:00:00:01", "type": "bridge", "devname": "tapp1",
            "network": {"id": "n1", "bridge": "brqn1", "meta": {"mtu": 1450}, "subnets": [{"ips": [{"address": "10.0.0.5"}]}]},
            "details": {"port_filter": true}}]);
        let vifs = vifs_of(&info);
        assert_eq!(vifs.len(), 1);
        assert_eq!(vifs[0].fixed_ips, vec!["10.0.0.5".to_string()]);
        assert_eq!(vifs[0].mtu, Some(1450));
        assert_eq!(vifs[0].bridge.as_deref(), Some("brqn1"));
        assert!(vifs_of(&json!([])).is_empty());
    }
}
