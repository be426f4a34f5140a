//! One scheduling request in progress: the hosts as they will be once the instances placed so
//! far land, the candidates still in play, and the choices made.

use super::prefilter::prefilter;
use super::FilterScheduler;
use crate::allocation::AllocationRequest;
use crate::error::{FilterOutcome, NoValidHost};
use crate::filters::chain;
use crate::host_state::HostState;
use crate::request_spec::RequestSpec;
use crate::selection::{HostChoice, Selection};
use crate::weighers;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};

/// A placed instance: the host index and the allocation request claimed for it.
struct Placement {
    host: usize,
    instance_uuid: Option<String>,
    allocation_request: Option<AllocationRequest>,
}

pub(crate) struct Run<'s> {
    scheduler: &'s FilterScheduler,
    /// The caller's spec, updated as instances are placed (current instance, group hosts).
    pub(crate) spec: RequestSpec,
    pub(crate) hosts: Vec<HostState>,
    /// Survivors of the last ranking, best first; the next ranking starts from them.
    candidates: Vec<usize>,
    /// Admin-forced hosts skip the filters.
    forced: bool,
    placements: Vec<Placement>,
    /// What the filters left in the last ranking.
    outcomes: Vec<FilterOutcome>,
    /// Index of the instance ranked last.
    last_index: usize,
}

impl<'s> Run<'s> {
    pub(crate) fn new(
        scheduler: &'s FilterScheduler,
        spec: &RequestSpec,
        hosts: Vec<HostState>,
    ) -> Self {
        let (candidates, forced) = prefilter(&hosts, spec);
        Self {
            scheduler,
            spec: spec.clone(),
            hosts,
            candidates,
            forced,
            placements: Vec::new(),
            outcomes: Vec::new(),
            last_index: 0,
        }
    }

    /// Sets the instance being placed (filters such as anti-affinity look at it).
    pub(crate) fn begin_instance(&mut self, instance_uuid: Option<&String>) {
        if let Some(uuid) = instance_uuid {
            self.spec.instance_uuid = Some(uuid.clone());
        }
    }

    /// Filters and weighs the candidates for the `index`-th instance; best first, with the
    /// first picked at random among the best `host_subset_size`.
    pub(crate) fn rank(&mut self, index: usize, rng: &mut dyn RngCore) -> Vec<usize> {
        self.last_index = index;
        let survivors = if self.forced {
            self.outcomes.clear();
            self.candidates.clone()
        } else {
            let run = chain::apply(
                &self.scheduler.filters,
                &self.hosts,
                &self.candidates,
                &self.spec,
                index,
            );
            self.outcomes = run.outcomes;
            run.survivors
        };
        tracing::debug!("Filtered [{}]", self.labels(&survivors));
        if survivors.is_empty() {
            self.candidates.clear();
            return Vec::new();
        }
        let mut weighed = weighers::weigh(
            &self.scheduler.weighers,
            &self.hosts,
            &survivors,
            &self.spec,
        );
        if self.scheduler.shuffle_best_same_weighed_hosts {
            let best = weighed[0].1;
            let ties = weighed.iter().take_while(|w| w.1 == best).count();
            weighed[..ties].shuffle(rng);
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            let listing: Vec<String> = weighed
                .iter()
                .map(|(i, w)| format!("{}: {w}", self.hosts[*i].label()))
                .collect();
            tracing::debug!("Weighed [{}]", listing.join(", "));
        }
        let mut ranked: Vec<usize> = weighed.into_iter().map(|(i, _)| i).collect();
        let subset = self.scheduler.host_subset_size.min(ranked.len());
        if subset > 1 {
            let chosen = ranked.remove(rng.gen_range(0..subset));
            ranked.insert(0, chosen);
        }
        self.candidates = ranked.clone();
        ranked
    }

    /// Records the choice and consumes the host's resources for the instances still to come.
    pub(crate) fn place(
        &mut self,
        host: usize,
        instance_uuid: Option<String>,
        allocation_request: Option<AllocationRequest>,
    ) {
        let state = &mut self.hosts[host];
        tracing::debug!(
            "Selected host: {} for instance {}",
            state.label(),
            instance_uuid.as_deref().unwrap_or("None")
        );
        state.consume(&self.spec);
        if let Some(group) = self.spec.instance_group.as_mut() {
            group.hosts.push(state.host.clone());
            if let Some(uuid) = &instance_uuid {
                if !group.members.contains(uuid) {
                    group.members.push(uuid.clone());
                }
            }
        }
        self.placements.push(Placement {
            host,
            instance_uuid,
            allocation_request,
        });
    }

    pub(crate) fn placed_count(&self) -> usize {
        self.placements.len()
    }

    /// Instances whose allocations were claimed, to release when the request fails.
    pub(crate) fn claimed_instances(&self) -> Vec<String> {
        self.placements
            .iter()
            .filter(|p| p.allocation_request.is_some())
            .filter_map(|p| p.instance_uuid.clone())
            .collect()
    }

    pub(crate) fn no_valid_host(&self, requested: usize) -> NoValidHost {
        tracing::debug!(
            "There are {} hosts available but {requested} instances requested to build.",
            self.placed_count()
        );
        NoValidHost::not_enough_hosts(self.placed_count(), requested, self.outcomes.clone())
    }

    /// The selections, each with up to `max_attempts - 1` alternates that are not chosen
    /// for any instance of the request.
    pub(crate) fn into_selections(
        mut self,
        rng: &mut dyn RngCore,
        claiming: bool,
    ) -> Vec<Selection> {
        let num_alts = self.scheduler.max_attempts.saturating_sub(1) as usize;
        let alternates_pool = if self.last_index > 0 && num_alts > 0 {
            let index = self.last_index;
            self.rank(index, rng)
        } else {
            self.candidates.clone()
        };
        let chosen: Vec<usize> = self.placements.iter().map(|p| p.host).collect();
        let alternates: Vec<HostChoice> = alternates_pool
            .iter()
            .filter(|i| !chosen.contains(i))
            .filter_map(|&i| self.alternate(i, claiming))
            .take(num_alts)
            .collect();
        self.placements
            .iter()
            .map(|p| Selection {
                instance_uuid: p.instance_uuid.clone(),
                chosen: HostChoice::from_host(&self.hosts[p.host], p.allocation_request.clone()),
                alternates: alternates.clone(),
            })
            .collect()
    }

    fn alternate(&self, index: usize, claiming: bool) -> Option<HostChoice> {
        let host = &self.hosts[index];
        if !claiming {
            return Some(HostChoice::from_host(host, None));
        }
        match host.allocation_candidates.as_ref().and_then(|c| c.first()) {
            Some(request) => Some(HostChoice::from_host(host, Some(request.clone()))),
            None => {
                tracing::debug!(
                    "Host {} has no allocation request left; not an alternate",
                    host.label()
                );
                None
            }
        }
    }

    fn labels(&self, indices: &[usize]) -> String {
        indices
            .iter()
            .map(|&i| self.hosts[i].label())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
