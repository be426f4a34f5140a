//! The scheduler's configuration: `[scheduler] max_attempts` and the `[filter_scheduler]`
//! section of the monostack config file.

use monostack_common::config::{Config, FilterSchedulerSection};

/// What [`crate::FilterScheduler::new`] is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerConfig {
    /// Hosts a build may try: the chosen one plus `max_attempts - 1` alternates.
    pub max_attempts: u32,
    pub filter_scheduler: FilterSchedulerSection,
}

impl SchedulerConfig {
    /// The scheduler's part of the whole configuration.
    pub fn from_config(config: &Config) -> Self {
        Self {
            max_attempts: config.scheduler.max_attempts,
            filter_scheduler: config.filter_scheduler.clone(),
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}
