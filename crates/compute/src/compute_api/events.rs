//! `os-server-external-events`: events from other services (Neutron's `network-vif-plugged`,
//! Cinder's `volume-extended` ...) about servers, forwarded to the compute agents of the
//! servers' hosts, which wait for some of them while they build or move servers.

use super::{cast_to_host, record_action, ApiResult};
use crate::context::RequestContext;
use crate::db::instance_actions::names;
use crate::db::instances;
use crate::rpc::compute::{ComputeRequest, ExternalEvent, ExternalInstanceEvent};
use crate::ComputeService;
use std::collections::BTreeMap;

/// Events that must name what they are about.
const TAG_REQUIRED: &[&str] = &["volume-extended", "power-update", "volume-reimaged"];

/// The outcome of one event: (status, code) as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: &'static str,
    pub code: u16,
}

/// Accepts the events of servers that have a host, forwards them per host, and says what
/// happened to each event, in order.
pub async fn submit(svc: &ComputeService, ctx: &RequestContext, events: &[ExternalEvent]) -> ApiResult<Vec<Outcome>> {
    let uuids: Vec<String> = events.iter().map(|e| e.server_uuid.clone()).collect();
    let found: BTreeMap<String, instances::Instance> = instances::get_many(&svc.db, &uuids).await?.into_iter().map(|i| (i.uuid.clone(), i)).collect();
    let mut by_host: BTreeMap<String, ExternalInstanceEvent> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(events.len());
    for event in events {
        let outcome = match found.get(&event.server_uuid) {
            None => Outcome { status: "failed", code: 404 },
            Some(_) if TAG_REQUIRED.contains(&event.name.as_str()) && event.tag.is_none() => Outcome { status: "failed", code: 400 },
            Some(instance) => match &instance.host {
                Some(host) => {
                    let batch = by_host.entry(host.clone()).or_insert_with(|| ExternalInstanceEvent { instance_uuids: Vec::new(), events: Vec::new() });
                    if !batch.instance_uuids.contains(&instance.uuid) {
                        batch.instance_uuids.push(instance.uuid.clone());
                    }
                    batch.events.push(event.clone());
                    tracing::info!("creating event {}:{:?} for instance {} on {host}", event.name, event.tag, instance.uuid);
                    Outcome { status: "completed", code: 200 }
                }
                None => Outcome { status: "failed", code: 422 },
            },
        };
        outcomes.push(outcome);
    }
    for (host, batch) in by_host {
        for event in batch.events.iter().filter(|e| e.name == "power-update") {
            let action = if event.tag.as_deref() == Some("POWER_ON") { names::START } else { names::STOP };
            record_action(svc, ctx, &event.server_uuid, action).await?;
        }
        cast_to_host(svc, ctx, &host, ComputeRequest::ExternalInstanceEvent(batch)).await;
    }
    Ok(outcomes)
}
