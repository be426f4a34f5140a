//! The filter scheduler: the configured filters and weighers, and `select_destinations`.

mod prefilter;
mod run;
#[cfg(test)]
mod tests;

use crate::allocation::AllocationClaimer;
use crate::config::SchedulerConfig;
use crate::error::{ConfigError, NoValidHost};
use crate::filters::{self, Filter, KNOWN_FILTERS};
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;
use crate::selection::Selection;
use crate::weighers::{self, Weigher, KNOWN_WEIGHERS};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use run::Run;

/// Nova's filter scheduler, built once from the configuration and shared by every request.
pub struct FilterScheduler {
    filters: Vec<Box<dyn Filter>>,
    weighers: Vec<Box<dyn Weigher>>,
    host_subset_size: usize,
    shuffle_best_same_weighed_hosts: bool,
    max_attempts: u32,
}

impl std::fmt::Debug for FilterScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterScheduler")
            .field("filters", &self.filter_names())
            .field("weighers", &self.weigher_names())
            .field("host_subset_size", &self.host_subset_size)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

impl FilterScheduler {
    /// Builds the filters and weighers the configuration names; an unknown name or an
    /// unusable value is an error to report at start-up.
    pub fn new(config: &SchedulerConfig) -> Result<Self, ConfigError> {
        let section = &config.filter_scheduler;
        let filters = section
            .enabled_filters
            .iter()
            .map(|name| {
                filters::build(name, section).ok_or_else(|| ConfigError::UnknownFilter {
                    name: name.clone(),
                    known: KNOWN_FILTERS.join(", "),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let weighers = section
            .weight_classes
            .iter()
            .map(|name| {
                weighers::build(name, section).ok_or_else(|| ConfigError::UnknownWeigher {
                    name: name.clone(),
                    known: KNOWN_WEIGHERS.join(", "),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if section.host_subset_size == 0 {
            return Err(ConfigError::Invalid {
                option: "host_subset_size",
                reason: "must be at least 1".into(),
            });
        }
        if config.max_attempts == 0 {
            return Err(ConfigError::Invalid {
                option: "max_attempts",
                reason: "[scheduler] max_attempts must be at least 1".into(),
            });
        }
        Ok(Self {
            filters,
            weighers,
            host_subset_size: section.host_subset_size as usize,
            shuffle_best_same_weighed_hosts: section.shuffle_best_same_weighed_hosts,
            max_attempts: config.max_attempts,
        })
    }

    /// The enabled filters, in the order they run.
    pub fn filter_names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|f| f.name()).collect()
    }

    /// The enabled weighers.
    pub fn weigher_names(&self) -> Vec<&'static str> {
        self.weighers.iter().map(|w| w.name()).collect()
    }

    /// Hosts a build may try (chosen + alternates).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Picks a host and alternates for each instance of `spec` without claiming anything in
    /// placement (legacy path, rebuild checks, or when placement was not consulted).
    pub fn select_destinations(
        &self,
        spec: &RequestSpec,
        hosts: Vec<HostState>,
    ) -> Result<Vec<Selection>, NoValidHost> {
        self.select_destinations_with_rng(spec, hosts, &mut rand::thread_rng())
    }

    /// [`Self::select_destinations`] with the randomness (`host_subset_size`, shuffling)
    /// drawn from `rng`, for reproducible runs.
    pub fn select_destinations_with_rng(
        &self,
        spec: &RequestSpec,
        hosts: Vec<HostState>,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<Selection>, NoValidHost> {
        let requested = spec.instance_count();
        let mut run = Run::new(self, spec, hosts);
        for index in 0..requested {
            let uuid = spec.instance_uuids.get(index);
            run.begin_instance(uuid);
            let ranked = run.rank(index, rng);
            let Some(&best) = ranked.first() else { break };
            run.place(best, uuid.cloned(), None);
        }
        if run.placed_count() < requested {
            return Err(run.no_valid_host(requested));
        }
        Ok(run.into_selections(rng, false))
    }

    /// Picks a host for each instance and claims its allocation in placement through
    /// `claimer`, trying the next best host when a claim is refused (Nova's path with
    /// placement). Each host offers its first allocation candidate; hosts without candidates
    /// are skipped. If not every instance can be placed, the claims made are released and
    /// `NoValidHost` returned. A request without instance uuids, or whose hosts all lack
    /// `allocation_candidates`, falls back to [`Self::select_destinations`].
    pub async fn select_and_claim(
        &self,
        spec: &RequestSpec,
        hosts: Vec<HostState>,
        claimer: &dyn AllocationClaimer,
    ) -> Result<Vec<Selection>, NoValidHost> {
        let mut rng = StdRng::from_entropy();
        self.select_and_claim_with_rng(spec, hosts, claimer, &mut rng)
            .await
    }

    /// [`Self::select_and_claim`] with the randomness drawn from `rng`.
    pub async fn select_and_claim_with_rng(
        &self,
        spec: &RequestSpec,
        hosts: Vec<HostState>,
        claimer: &dyn AllocationClaimer,
        rng: &mut (dyn RngCore + Send),
    ) -> Result<Vec<Selection>, NoValidHost> {
        let uses_placement = hosts.iter().any(|h| h.allocation_candidates.is_some());
        if spec.instance_uuids.is_empty() || !uses_placement {
            return self.select_destinations_with_rng(spec, hosts, rng);
        }
        let requested = spec.instance_uuids.len();
        let mut run = Run::new(self, spec, hosts);
        for (index, uuid) in spec.instance_uuids.iter().enumerate() {
            run.begin_instance(Some(uuid));
            let ranked = run.rank(index, rng);
            let Some((host, request)) = claim_first(&run, &ranked, uuid, claimer).await else {
                break;
            };
            run.place(host, Some(uuid.clone()), Some(request));
        }
        if run.placed_count() < requested {
            for uuid in run.claimed_instances() {
                claimer.release(&uuid).await;
            }
            return Err(run.no_valid_host(requested));
        }
        Ok(run.into_selections(rng, true))
    }
}

/// Claims the first candidate of the best host placement accepts.
async fn claim_first(
    run: &Run<'_>,
    ranked: &[usize],
    instance_uuid: &str,
    claimer: &dyn AllocationClaimer,
) -> Option<(usize, crate::AllocationRequest)> {
    for &index in ranked {
        let host = &run.hosts[index];
        let Some(request) = host.allocation_candidates.as_ref().and_then(|c| c.first()) else {
            tracing::debug!(
                "The scheduler removed every allocation candidate for host {} so this host was skipped.",
                host.label()
            );
            continue;
        };
        if claimer.claim(instance_uuid, request).await {
            return Some((index, request.clone()));
        }
        tracing::debug!(
            "Claim on {} for {instance_uuid} refused; trying the next host",
            host.label()
        );
    }
    tracing::debug!("Unable to successfully claim against any host.");
    None
}
