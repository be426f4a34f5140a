//! Auto-allocated topology (Neutron's `auto-allocated-topology`): on first request a project
//! gets a network with one subnet from each default subnet pool, and a router with its gateway
//! on the default external network (`is_default`) and an interface on each subnet; later
//! requests answer the same network. Each step is the ordinary service call; a failure undoes
//! the steps done (Neutron's AutoAllocationFailure, 409). Two concurrent first requests both
//! build, and the one that records its topology second removes its own.

use crate::db::{self, Bind, Cols};
use crate::error::{NeutronError, NeutronResult};
use crate::service::networks::{self, NetworkCreate, NetworkUpdate};
use crate::service::routers::{self, GatewayRequest, Interface, RouterCreate};
use crate::service::subnets::{self, Gateway, SubnetCreate};
use crate::NetworkService;

fn failure(reason: &str) -> NeutronError {
    NeutronError::conflict(
        "AutoAllocationFailure",
        format!("Deployment error: {reason}."),
    )
}

fn no_check<T>(_: &T) -> NeutronResult<()> {
    Ok(())
}

/// The recorded topology of a project: (network id, router id).
async fn recorded(
    svc: &NetworkService,
    project_id: &str,
) -> NeutronResult<Option<(String, Option<String>)>> {
    let row = db::fetch_optional(
        &svc.db,
        "SELECT network_id, router_id FROM auto_allocated_topologies WHERE project_id = ?",
        &[Bind::Text(project_id)],
    )
    .await?;
    row.map(|r| Ok((r.s("network_id")?, r.os("router_id")?)))
        .transpose()
}

/// The default external network (the oldest, should there be several).
async fn default_external(svc: &NetworkService) -> NeutronResult<String> {
    db::fetch_optional(
        &svc.db,
        "SELECT id FROM networks WHERE is_default = 1 AND router_external = 1 ORDER BY created_at, id",
        &[],
    )
    .await?
    .map(|r| r.s("id"))
    .transpose()?
    .ok_or_else(|| failure("No default router:external network"))
}

/// The default subnet pools, IPv4 first: (id, ip version).
async fn default_pools(svc: &NetworkService) -> NeutronResult<Vec<(String, i64)>> {
    let pools: Vec<(String, i64)> = db::fetch_all(
        &svc.db,
        "SELECT id, ip_version FROM subnetpools WHERE is_default = 1 ORDER BY ip_version, created_at",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((r.s("id")?, r.i("ip_version")?)))
    .collect::<NeutronResult<_>>()?;
    if pools.is_empty() {
        return Err(failure("No default subnetpools defined"));
    }
    Ok(pools)
}

/// The dry run: whether a topology could be built.
pub async fn check_requirements(svc: &NetworkService) -> NeutronResult<()> {
    default_external(svc).await?;
    default_pools(svc).await?;
    Ok(())
}

/// Undoes a (partial) topology: interfaces, router, network (with its subnets). Resources
/// already gone are skipped; other failures are returned.
async fn cleanup(
    svc: &NetworkService,
    network_id: Option<&str>,
    router_id: Option<&str>,
    subnet_ids: &[String],
) -> NeutronResult<()> {
    let gone = |e: &NeutronError| e.status == http::StatusCode::NOT_FOUND;
    if let Some(rid) = router_id {
        for sid in subnet_ids {
            match routers::remove_interface(svc, rid, None, Some(sid.clone()), &no_check).await {
                Err(e) if !gone(&e) => return Err(e),
                _ => {}
            }
        }
        match routers::delete(svc, rid, &no_check).await {
            Err(e) if !gone(&e) => return Err(e),
            _ => {}
        }
    }
    if let Some(nid) = network_id {
        match networks::delete(svc, nid, &no_check).await {
            Err(e) if !gone(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// The project's auto-allocated network, built on first request.
pub async fn get_or_create(svc: &NetworkService, project_id: &str) -> NeutronResult<String> {
    if let Some((net, _)) = recorded(svc, project_id).await? {
        return Ok(net);
    }
    let external = default_external(svc).await?;
    let pools = default_pools(svc).await?;

    let net = networks::create(
        svc,
        NetworkCreate {
            project_id: project_id.to_string(),
            name: "auto_allocated_network".into(),
            admin_state_up: false,
            port_security_enabled: true,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| {
        tracing::warn!("auto-allocation for {project_id}: {}", e.message);
        failure("Unable to provide project private network")
    })?
    .id;
    let mut subnet_ids = Vec::new();
    for (pool, version) in &pools {
        let made = subnets::create(
            svc,
            SubnetCreate {
                project_id: project_id.to_string(),
                network_id: net.clone(),
                name: format!("auto_allocated_subnet_v{version}"),
                description: String::new(),
                ip_version: *version,
                cidr: None,
                subnetpool: Some((pool.clone(), None)),
                gateway: Gateway::Default,
                allocation_pools: None,
                dns_nameservers: Vec::new(),
                host_routes: Vec::new(),
                enable_dhcp: true,
                ipv6_ra_mode: None,
                ipv6_address_mode: None,
                service_types: Vec::new(),
                dns_publish_fixed_ip: false,
                tags: Vec::new(),
            },
        )
        .await;
        match made {
            Ok(s) => subnet_ids.push(s.id),
            Err(e) => {
                tracing::warn!("auto-allocation for {project_id}: {}", e.message);
                cleanup(svc, Some(&net), None, &[]).await?;
                return Err(failure("Unable to provide project private network"));
            }
        }
    }

    let router = routers::create(
        svc,
        RouterCreate {
            project_id: project_id.to_string(),
            name: "auto_allocated_router".into(),
            admin_state_up: true,
            gateway: Some(GatewayRequest {
                network_id: external,
                enable_snat: None,
                external_fixed_ips: None,
            }),
            ..Default::default()
        },
    )
    .await;
    let router = match router {
        Ok(r) => r.id,
        Err(e) => {
            tracing::warn!("auto-allocation for {project_id}: {}", e.message);
            cleanup(svc, Some(&net), None, &[]).await?;
            return Err(failure("Unable to provide external connectivity"));
        }
    };
    let mut attached = Vec::new();
    for sid in &subnet_ids {
        if let Err(e) =
            routers::add_interface(svc, &router, Interface::Subnet(sid.clone()), &no_check).await
        {
            tracing::warn!("auto-allocation for {project_id}: {}", e.message);
            cleanup(svc, Some(&net), Some(&router), &attached).await?;
            return Err(failure("Unable to provide external connectivity"));
        }
        attached.push(sid.clone());
    }

    // Record it, unless a concurrent request recorded its own first.
    let earlier = db::write(&svc.db, |tx, _| {
        let (net, router) = (&net, &router);
        Box::pin(async move {
            let row = tx
                .fetch_optional(
                    "SELECT network_id FROM auto_allocated_topologies WHERE project_id = ?",
                    &[Bind::Text(project_id)],
                )
                .await?;
            if let Some(r) = row {
                return Ok(Some(r.s("network_id")?));
            }
            tx.exec(
                "INSERT INTO auto_allocated_topologies (project_id, network_id, router_id) VALUES (?, ?, ?)",
                &[Bind::Text(project_id), Bind::Text(net), Bind::Text(router)],
            )
            .await?;
            Ok(None)
        })
    })
    .await?;
    if let Some(theirs) = earlier {
        cleanup(svc, Some(&net), Some(&router), &attached).await?;
        return Ok(theirs);
    }
    networks::update(
        svc,
        &net,
        NetworkUpdate {
            admin_state_up: Some(true),
            ..Default::default()
        },
        &no_check,
    )
    .await?;
    Ok(net)
}

/// Removes the project's auto-allocated topology (nothing when it has none).
pub async fn delete(svc: &NetworkService, project_id: &str) -> NeutronResult<()> {
    let Some((net, router)) = recorded(svc, project_id).await? else {
        return Ok(());
    };
    let subnet_ids: Vec<String> = db::fetch_all(
        &svc.db,
        "SELECT id FROM subnets WHERE network_id = ?",
        &[Bind::Text(&net)],
    )
    .await?
    .iter()
    .map(|r| r.s("id"))
    .collect::<NeutronResult<_>>()?;
    cleanup(svc, Some(&net), router.as_deref(), &subnet_ids).await?;
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            tx.exec(
                "DELETE FROM auto_allocated_topologies WHERE project_id = ?",
                &[Bind::Text(project_id)],
            )
            .await?;
            Ok(())
        })
    })
    .await
}
