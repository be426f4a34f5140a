//! The power state a hypervisor reports for a guest (Nova's `power_state`). The hypervisor is
//! the authority; the database's value is a recent snapshot of it.

use serde::{Deserialize, Serialize};

/// Nova's power states, with the integer codes stored in the database and returned by the
/// API as `OS-EXT-STS:power_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PowerState {
    /// No state known (also: the guest is being built).
    NoState,
    Running,
    Paused,
    Shutdown,
    Crashed,
    Suspended,
}

impl PowerState {
    /// Nova's integer code (0, 1, 3, 4, 6, 7; 2 and 5 are unused).
    pub fn code(self) -> u8 {
        match self {
            Self::NoState => 0,
            Self::Running => 1,
            Self::Paused => 3,
            Self::Shutdown => 4,
            Self::Crashed => 6,
            Self::Suspended => 7,
        }
    }

    /// The state for an integer code; unknown codes read as `NoState`.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Running,
            3 => Self::Paused,
            4 => Self::Shutdown,
            6 => Self::Crashed,
            7 => Self::Suspended,
            _ => Self::NoState,
        }
    }

    /// Nova's upper-case name (`RUNNING`), as logs and `nova show` print it.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoState => "NOSTATE",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Shutdown => "SHUTDOWN",
            Self::Crashed => "CRASHED",
            Self::Suspended => "SUSPENDED",
        }
    }
}

impl std::fmt::Display for PowerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::PowerState;

    #[test]
    fn codes_are_novas_and_round_trip() {
        let all = [
            PowerState::NoState,
            PowerState::Running,
            PowerState::Paused,
            PowerState::Shutdown,
            PowerState::Crashed,
            PowerState::Suspended,
        ];
        let codes: Vec<u8> = all.iter().map(|s| s.code()).collect();
        assert_eq!(codes, vec![0, 1, 3, 4, 6, 7]);
        for state in all {
            assert_eq!(PowerState::from_code(state.code()), state);
        }
        assert_eq!(PowerState::from_code(2), PowerState::NoState);
        assert_eq!(PowerState::Shutdown.to_string(), "SHUTDOWN");
    }
}
