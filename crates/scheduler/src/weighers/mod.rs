//! Host weighers: each gives every surviving host a raw value; the values are normalized to
//! 0..1 over the candidates, multiplied by the weigher's multiplier and summed. The host with
//! the highest total wins. A negative multiplier inverts a weigher (stack instead of spread).
//!
//! With the RAM weigher (minimum 0), hosts with 7466 and 3434 MB free weigh 1.0 and 0.4599.

mod cpu;
mod disk;
mod ram;
mod server_group_soft_affinity;

pub use cpu::CpuWeigher;
pub use disk::DiskWeigher;
pub use ram::RamWeigher;
pub use server_group_soft_affinity::{
    ServerGroupSoftAffinityWeigher, ServerGroupSoftAntiAffinityWeigher,
};

use crate::host_state::HostState;
use crate::request_spec::RequestSpec;
use monostack_common::config::FilterSchedulerSection;

/// One host weigher.
pub trait Weigher: Send + Sync {
    /// The weigher's Nova name, as written in `weight_classes` and in the logs.
    fn name(&self) -> &'static str;

    /// The host's raw value; higher wins (before the multiplier).
    fn raw_weight(&self, host: &HostState, spec: &RequestSpec) -> f64;

    /// The multiplier for this host (from the config, or overridden by aggregate metadata).
    fn multiplier(&self, host: &HostState) -> f64;

    /// Raw values are clamped to, and normalized from, this floor instead of the smallest.
    fn minval(&self) -> Option<f64> {
        None
    }

    /// Raw values are clamped to, and normalized to, this ceiling instead of the largest.
    fn maxval(&self) -> Option<f64> {
        None
    }
}

/// Every weigher name [`build`] accepts.
pub const KNOWN_WEIGHERS: &[&str] = &[
    "RAMWeigher",
    "CPUWeigher",
    "DiskWeigher",
    "ServerGroupSoftAffinityWeigher",
    "ServerGroupSoftAntiAffinityWeigher",
];

/// Builds the weigher named `name` (a Nova class name or dotted path). `None` when unknown.
pub fn build(name: &str, config: &FilterSchedulerSection) -> Option<Box<dyn Weigher>> {
    let short = name.trim().rsplit('.').next().unwrap_or_default();
    let weigher: Box<dyn Weigher> = match short {
        "RAMWeigher" => Box::new(RamWeigher {
            multiplier: config.ram_weight_multiplier,
        }),
        "CPUWeigher" => Box::new(CpuWeigher {
            multiplier: config.cpu_weight_multiplier,
        }),
        "DiskWeigher" => Box::new(DiskWeigher {
            multiplier: config.disk_weight_multiplier,
        }),
        "ServerGroupSoftAffinityWeigher" => Box::new(ServerGroupSoftAffinityWeigher {
            multiplier: config.soft_affinity_weight_multiplier,
        }),
        "ServerGroupSoftAntiAffinityWeigher" => Box::new(ServerGroupSoftAntiAffinityWeigher {
            multiplier: config.soft_anti_affinity_weight_multiplier,
        }),
        _ => return None,
    };
    Some(weigher)
}

/// Scales `values` to 0..1 between `minval` and `maxval` (the list's own extremes when
/// unset). All-equal values normalize to 0.
pub fn normalize(values: &[f64], minval: Option<f64>, maxval: Option<f64>) -> Vec<f64> {
    let max = maxval.unwrap_or_else(|| values.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    let min = minval.unwrap_or_else(|| values.iter().copied().fold(f64::INFINITY, f64::min));
    if values.is_empty() || min == max {
        return vec![0.0; values.len()];
    }
    values.iter().map(|v| (v - min) / (max - min)).collect()
}

/// Weighs `candidates` (indices into `hosts`) and returns `(index, weight)` best first; ties
/// keep the candidates' order. A single candidate is not weighed (weight 0).
pub fn weigh(
    weighers: &[Box<dyn Weigher>],
    hosts: &[HostState],
    candidates: &[usize],
    spec: &RequestSpec,
) -> Vec<(usize, f64)> {
    let mut totals = vec![0.0; candidates.len()];
    if candidates.len() > 1 {
        for weigher in weighers {
            add_weigher(weigher.as_ref(), hosts, candidates, spec, &mut totals);
        }
    }
    let mut weighed: Vec<(usize, f64)> = candidates.iter().copied().zip(totals).collect();
    weighed.sort_by(|a, b| b.1.total_cmp(&a.1));
    weighed
}

fn add_weigher(
    weigher: &dyn Weigher,
    hosts: &[HostState],
    candidates: &[usize],
    spec: &RequestSpec,
    totals: &mut [f64],
) {
    let raw: Vec<f64> = candidates
        .iter()
        .map(|&i| {
            let mut w = weigher.raw_weight(&hosts[i], spec);
            if let Some(min) = weigher.minval() {
                w = w.max(min);
            }
            if let Some(max) = weigher.maxval() {
                w = w.min(max);
            }
            w
        })
        .collect();
    let normalized = normalize(&raw, weigher.minval(), weigher.maxval());
    // The score lines are built only when they are logged (a thousand hosts make long lines).
    let debug = tracing::enabled!(tracing::Level::DEBUG);
    let mut scores = Vec::with_capacity(if debug { candidates.len() } else { 0 });
    for ((slot, &i), weight) in totals.iter_mut().zip(candidates).zip(&normalized) {
        let multiplier = weigher.multiplier(&hosts[i]);
        *slot += multiplier * weight;
        if debug {
            scores.push(format!("{}: {multiplier} * {weight}", hosts[i].label()));
        }
    }
    tracing::debug!("{}: raw weights {raw:?}", weigher.name());
    tracing::debug!(
        "{}: score (multiplier * weight) {{{}}}",
        weigher.name(),
        scores.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{host, spec};

    #[test]
    fn normalization_uses_the_list_extremes_unless_bounds_are_given() {
        assert_eq!(normalize(&[1.0, 3.0, 2.0], None, None), vec![0.0, 1.0, 0.5]);
        assert_eq!(normalize(&[5.0, 5.0], None, None), vec![0.0, 0.0]);
        assert_eq!(normalize(&[], None, None), Vec::<f64>::new());
        assert_eq!(normalize(&[2.0, 4.0], Some(0.0), None), vec![0.5, 1.0]);
    }

    #[test]
    fn the_mission_notes_ram_example() {
        let mut controller = host("devstack-controller", 16_000, 100, 8);
        controller.free_ram_mb = 7466;
        let mut compute1 = host("devstack-compute1", 16_000, 100, 8);
        compute1.free_ram_mb = 3434;
        let hosts = vec![compute1, controller];
        let weighers: Vec<Box<dyn Weigher>> = vec![Box::new(RamWeigher { multiplier: 1.0 })];
        let weighed = weigh(&weighers, &hosts, &[0, 1], &spec(1, 1, 1));
        assert_eq!(weighed[0], (1, 1.0));
        assert_eq!(weighed[1].0, 0);
        assert!((weighed[1].1 - 0.4599).abs() < 0.0001, "{}", weighed[1].1);
    }

    #[test]
    fn weighers_add_up_with_their_multipliers() {
        let mut a = host("a", 4096, 100, 8);
        a.free_ram_mb = 4096;
        a.free_disk_mb = 0;
        let mut b = host("b", 4096, 100, 8);
        b.free_ram_mb = 2048;
        b.free_disk_mb = 100 * 1024;
        let hosts = vec![a, b];
        let weighers: Vec<Box<dyn Weigher>> = vec![
            Box::new(RamWeigher { multiplier: 1.0 }),
            Box::new(DiskWeigher { multiplier: 2.0 }),
        ];
        let weighed = weigh(&weighers, &hosts, &[0, 1], &spec(1, 1, 1));
        assert_eq!(weighed, vec![(1, 0.5 + 2.0), (0, 1.0)]);
    }

    #[test]
    fn a_single_host_is_not_weighed() {
        let hosts = vec![host("a", 4096, 100, 8)];
        let weighers: Vec<Box<dyn Weigher>> = vec![Box::new(RamWeigher { multiplier: 1.0 })];
        assert_eq!(
            weigh(&weighers, &hosts, &[0], &spec(1, 1, 1)),
            vec![(0, 0.0)]
        );
    }

    #[test]
    fn ties_keep_the_candidate_order() {
        let hosts = vec![
            host("a", 4096, 100, 8),
            host("b", 4096, 100, 8),
            host("c", 4096, 100, 8),
        ];
        let weighers: Vec<Box<dyn Weigher>> = vec![Box::new(RamWeigher { multiplier: 1.0 })];
        let order: Vec<usize> = weigh(&weighers, &hosts, &[2, 0, 1], &spec(1, 1, 1))
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(order, vec![2, 0, 1]);
    }

    #[test]
    fn every_known_name_builds() {
        let config = FilterSchedulerSection::default();
        for name in KNOWN_WEIGHERS {
            assert_eq!(build(name, &config).unwrap().name(), *name);
        }
        assert!(build("nova.scheduler.weights.ram.RAMWeigher", &config).is_some());
        assert!(build("MetricsWeigher", &config).is_none());
        for name in &config.weight_classes {
            assert!(KNOWN_WEIGHERS.contains(&name.as_str()));
        }
    }
}
