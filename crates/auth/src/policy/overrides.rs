//! Reading operator overrides: a YAML (or JSON) mapping of rule name to
//! rule string, as in an oslo.policy `policy.yaml`.

use serde_yaml::Value;

use super::error::PolicyError;

/// Parses an overrides document into (name, rule) pairs. An empty document
/// means no overrides.
pub(crate) fn parse_overrides(doc: &str) -> Result<Vec<(String, String)>, PolicyError> {
    let mapping = match serde_yaml::from_str::<Value>(doc)? {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(mapping) => mapping,
        _ => {
            return Err(PolicyError::Format(
                "the document is not a mapping".to_owned(),
            ))
        }
    };
    mapping
        .into_iter()
        .map(|(name, rule)| entry(name, rule))
        .collect()
}

fn entry(name: Value, rule: Value) -> Result<(String, String), PolicyError> {
    let Value::String(name) = name else {
        return Err(PolicyError::Format(format!(
            "rule name {name:?} is not a string"
        )));
    };
    match rule {
        Value::String(rule) => Ok((name, rule)),
        _ => Err(PolicyError::Format(format!(
            "rule {name:?} is not a string"
        ))),
    }
}
