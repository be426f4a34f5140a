//! Errors raised while loading policy rules (never while enforcing them).

use std::path::PathBuf;

/// Why a set of policy rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A rule string does not follow the policy language.
    #[error("invalid policy rule {rule:?}: {message}")]
    Syntax { rule: String, message: String },
    /// The overrides document is not valid YAML (or JSON).
    #[error("policy overrides are not valid YAML or JSON: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// The overrides document is valid YAML but not a name -> rule mapping.
    #[error("policy overrides must map rule names to rule strings: {0}")]
    Format(String),
    /// The overrides file exists but could not be read.
    #[error("cannot read policy file {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Any other error, annotated with the overrides file it came from.
    #[error("policy file {}: {error}", path.display())]
    File {
        path: PathBuf,
        error: Box<PolicyError>,
    },
}
