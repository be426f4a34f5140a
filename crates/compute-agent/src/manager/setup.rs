//! Starting the compute managers of a process: one host with every node of its driver, or,
//! with `[fake_driver] host_per_node`, one simulated host `<host>-<i>` per fake node (all in
//! this process, sharing one driver, so moves between them work as between real hosts).

use super::{ComputeManager, ComputeManagerHandle};
use crate::virt::VirtDriver;
use monostack_bus::Bus;
use monostack_common::config::Config;
use std::sync::Arc;

/// What one manager needs.
pub struct ManagerSetup {
    /// The compute service's host name.
    pub host: String,
    /// The driver nodes this host manages; None means all of the driver's.
    pub nodes: Option<Vec<String>>,
    pub driver: Arc<dyn VirtDriver>,
    pub bus: Arc<dyn Bus>,
    pub config: Arc<Config>,
    /// The image API's base URL (without `/v2`); None means
    /// `http://<public_host>:<[image] port>`.
    pub image_url: Option<String>,
}

/// Starts this process's compute managers over `driver`: one for `host` with all its nodes,
/// or one per node named `<host>-<i>` when `[fake_driver] host_per_node` is set.
pub async fn start_all(host: &str, driver: Arc<dyn VirtDriver>, bus: Arc<dyn Bus>, config: Arc<Config>, image_url: Option<String>) -> anyhow::Result<Vec<ComputeManagerHandle>> {
    let nodes = driver.get_available_nodes().await?;
    let plan: Vec<(String, Vec<String>)> = if config.fake_driver.host_per_node {
        nodes.iter().enumerate().map(|(i, node)| (format!("{host}-{}", i + 1), vec![node.clone()])).collect()
    } else {
        vec![(host.to_string(), nodes)]
    };
    let mut handles = Vec::with_capacity(plan.len());
    for (host, nodes) in plan {
        let setup = ManagerSetup { host, nodes: Some(nodes), driver: driver.clone(), bus: bus.clone(), config: config.clone(), image_url: image_url.clone() };
        handles.push(ComputeManager::start(setup).await?);
    }
    Ok(handles)
}
