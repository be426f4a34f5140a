//! The conductor's own service records (`nova-conductor`, and `nova-scheduler` since the
//! scheduler runs inside it) and their heartbeat every `[compute] report_interval`.

use crate::Conductor;
use monostack_compute::db::services;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

const BINARIES: &[(&str, &str)] = &[("nova-conductor", "conductor"), ("nova-scheduler", "scheduler")];

/// Service version the conductor registers with.
const SERVICE_VERSION: i64 = 1;

/// Registers the services and starts their heartbeat.
pub(crate) async fn start_heartbeat(conductor: Arc<Conductor>) -> anyhow::Result<JoinHandle<()>> {
    let mut ids = Vec::new();
    for (binary, topic) in BINARIES {
        let service = services::register(&conductor.compute.db, &conductor.host, binary, topic, SERVICE_VERSION)
            .await
            .map_err(|e| anyhow::anyhow!("registering {binary}: {}", e.message))?;
        ids.push((binary.to_string(), topic.to_string(), service.id));
    }
    let interval = Duration::from_secs(conductor.compute.config.compute.report_interval.max(1));
    Ok(tokio::spawn(async move {
        loop {
            for (binary, topic, id) in ids.iter_mut() {
                beat(&conductor, binary, topic, id).await;
            }
            tokio::time::sleep(interval).await;
        }
    }))
}

/// One heartbeat; a deleted service registers again.
async fn beat(conductor: &Conductor, binary: &str, topic: &str, id: &mut i64) {
    let db = &conductor.compute.db;
    match services::heartbeat(db, *id).await {
        Ok(true) => {}
        Ok(false) => match services::register(db, &conductor.host, binary, topic, SERVICE_VERSION).await {
            Ok(service) => {
                tracing::info!("Service {binary} on {} was deleted; registered again", conductor.host);
                *id = service.id;
            }
            Err(e) => tracing::error!("Service {binary} could not register again: {}", e.message),
        },
        Err(e) => tracing::warn!("Heartbeat of {binary} not recorded: {}", e.message),
    }
}
