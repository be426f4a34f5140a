//! The scheduler's two failures: a configuration it cannot run, and a request no host can take.

/// How many hosts one filter let through in the round that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterOutcome {
    pub filter: String,
    pub hosts_left: usize,
}

/// No host can take (all of) the request. The message is Nova's; the details are for the log,
/// not for the user, since they describe the cloud's hosts.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("No valid host was found. {reason}")]
pub struct NoValidHost {
    pub reason: String,
    /// Instances placed before the request ran out of hosts.
    pub placed: usize,
    /// Instances the request wanted.
    pub requested: usize,
    /// What each filter left in the round that found no host (empty when filtering was not
    /// the cause, e.g. every claim in placement failed).
    pub filter_outcomes: Vec<FilterOutcome>,
}

impl NoValidHost {
    pub(crate) fn not_enough_hosts(
        placed: usize,
        requested: usize,
        filter_outcomes: Vec<FilterOutcome>,
    ) -> Self {
        Self {
            reason: "There are not enough hosts available.".into(),
            placed,
            requested,
            filter_outcomes,
        }
    }

    /// The filter that removed the last hosts, if filtering was the cause.
    pub fn eliminated_by(&self) -> Option<&str> {
        self.filter_outcomes
            .iter()
            .find(|o| o.hosts_left == 0)
            .map(|o| o.filter.as_str())
    }
}

/// The scheduler's configuration cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("[filter_scheduler] enabled_filters: unknown filter {name:?}; known filters: {known}")]
    UnknownFilter { name: String, known: String },
    #[error(
        "[filter_scheduler] weight_classes: unknown weigher {name:?}; known weighers: {known}"
    )]
    UnknownWeigher { name: String, known: String },
    #[error("[filter_scheduler] {option}: {reason}")]
    Invalid {
        option: &'static str,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_novas() {
        let err = NoValidHost::not_enough_hosts(0, 1, vec![]);
        assert_eq!(
            err.to_string(),
            "No valid host was found. There are not enough hosts available."
        );
        assert_eq!(err.eliminated_by(), None);
    }
}
