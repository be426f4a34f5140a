//! The policy enforcer: compiled rules plus their source text.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use super::check::{Check, Env};
use super::error::PolicyError;
use super::overrides::parse_overrides;
use super::parser::parse_rule;

/// Name of the rule used for actions that have no rule of their own.
const DEFAULT_RULE: &str = "default";

/// Holds every rule compiled once; immutable afterwards, so it is `Send +
/// Sync` and meant to be shared in an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Enforcer {
    compiled: HashMap<String, Check>,
    sources: BTreeMap<String, String>,
}

impl Enforcer {
    /// Defaults registered in code: (rule name, rule string).
    ///
    /// A default that fails to parse is a programming error; rather than
    /// panicking in a server it is logged and compiled to deny (fail closed).
    /// Use [`Enforcer::try_new`] in tests to catch such mistakes.
    pub fn new(defaults: &[(&str, &str)]) -> Self {
        let mut enforcer = Enforcer::default();
        for (name, rule) in defaults {
            let check = parse_rule(name, rule).unwrap_or_else(|err| {
                tracing::error!(%err, "invalid default policy rule; it will deny");
                Check::Deny
            });
            enforcer.insert(name, rule, check);
        }
        enforcer
    }

    /// Like [`Enforcer::new`] but rejects defaults that do not parse.
    pub fn try_new(defaults: &[(&str, &str)]) -> Result<Self, PolicyError> {
        let mut enforcer = Enforcer::default();
        for (name, rule) in defaults {
            enforcer.insert(name, rule, parse_rule(name, rule)?);
        }
        Ok(enforcer)
    }

    /// Applies operator overrides from a YAML (or JSON) file mapping rule
    /// name to rule string. A missing file means no overrides.
    pub fn with_overrides_file(self, path: &Path) -> Result<Self, PolicyError> {
        let doc = match std::fs::read_to_string(path) {
            Ok(doc) => doc,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(self),
            Err(error) => {
                let path = path.to_owned();
                return Err(PolicyError::Io { path, error });
            }
        };
        self.with_overrides_str(&doc)
            .map_err(|error| PolicyError::File {
                path: path.to_owned(),
                error: Box::new(error),
            })
    }

    /// Applies overrides from a YAML (or JSON) document: rules replace
    /// defaults of the same name and new names are added. Nothing is applied
    /// unless every rule parses.
    pub fn with_overrides_str(mut self, yaml: &str) -> Result<Self, PolicyError> {
        let compiled = parse_overrides(yaml)?
            .into_iter()
            .map(|(name, rule)| parse_rule(&name, &rule).map(|check| (name, rule, check)))
            .collect::<Result<Vec<_>, _>>()?;
        for (name, rule, check) in compiled {
            self.insert(&name, &rule, check);
        }
        Ok(self)
    }

    /// True when `action` is allowed for `creds` on `target` (both JSON
    /// objects). Actions without a rule fall back to the `default` rule,
    /// and are denied when there is none.
    pub fn enforce(&self, action: &str, target: &Value, creds: &Value) -> bool {
        let Some(rule) = self
            .compiled
            .get(action)
            .or_else(|| self.compiled.get(DEFAULT_RULE))
        else {
            return false;
        };
        let env = Env {
            target,
            creds,
            rules: &self.compiled,
            looped: Cell::new(false),
        };
        rule.eval(&env, 0) && !env.looped.get()
    }

    /// All rules (name, rule string) after overrides, sorted by name.
    pub fn rules(&self) -> Vec<(String, String)> {
        self.sources
            .iter()
            .map(|(name, rule)| (name.clone(), rule.clone()))
            .collect()
    }

    fn insert(&mut self, name: &str, rule: &str, check: Check) {
        self.compiled.insert(name.to_owned(), check);
        self.sources.insert(name.to_owned(), rule.to_owned());
    }
}
