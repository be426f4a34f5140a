//! The compiled form of a rule and its evaluation.

use std::cell::Cell;
use std::collections::HashMap;

use serde_json::Value;

use super::template::Template;
use super::value::{eq_ignore_case, Key};

/// How deep `rule:` references may nest before the evaluation is treated
/// as a reference loop. Real policies nest a handful of levels.
const MAX_RULE_DEPTH: usize = 64;

/// A compiled rule expression.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    Allow,
    Deny,
    /// `http:`/`https:` remote checks, which are not supported: always deny.
    Remote,
    Role(Template),
    Rule(String),
    /// `creds_key:match`
    Generic {
        creds: Key,
        matcher: Template,
    },
    /// `'literal':match`
    Literal {
        value: String,
        matcher: Template,
    },
    Not(Box<Check>),
    All(Vec<Check>),
    Any(Vec<Check>),
}

/// Everything one evaluation needs. `looped` is set when a reference loop is
/// detected; the enforcer then denies regardless of the boolean result, so a
/// loop under `not` cannot turn into an allow.
pub(crate) struct Env<'a> {
    pub(crate) target: &'a Value,
    pub(crate) creds: &'a Value,
    pub(crate) rules: &'a HashMap<String, Check>,
    pub(crate) looped: Cell<bool>,
}

impl Check {
    /// Conjunction, without wrapping a single operand.
    pub(crate) fn all(mut items: Vec<Check>) -> Check {
        match items.len() {
            1 => items.remove(0),
            _ => Check::All(items),
        }
    }

    /// Disjunction, without wrapping a single operand.
    pub(crate) fn any(mut items: Vec<Check>) -> Check {
        match items.len() {
            1 => items.remove(0),
            _ => Check::Any(items),
        }
    }

    pub(crate) fn eval(&self, env: &Env<'_>, depth: usize) -> bool {
        match self {
            Check::Allow => true,
            Check::Deny | Check::Remote => false,
            Check::Role(role) => role
                .render(env.target)
                .is_some_and(|role| has_role(env.creds, &role)),
            Check::Rule(name) => eval_rule(name, env, depth),
            Check::Generic { creds, matcher } => matcher
                .render(env.target)
                .is_some_and(|expected| creds.any_equals(env.creds, &expected)),
            Check::Literal { value, matcher } => matcher
                .render(env.target)
                .is_some_and(|expected| expected == value.as_str()),
            Check::Not(inner) => !inner.eval(env, depth),
            Check::All(items) => items.iter().all(|item| item.eval(env, depth)),
            Check::Any(items) => items.iter().any(|item| item.eval(env, depth)),
        }
    }
}

fn eval_rule(name: &str, env: &Env<'_>, depth: usize) -> bool {
    if env.looped.get() {
        return false;
    }
    if depth >= MAX_RULE_DEPTH {
        tracing::warn!(rule = name, "policy rule references loop; denying");
        env.looped.set(true);
        return false;
    }
    env.rules
        .get(name)
        .is_some_and(|rule| rule.eval(env, depth + 1))
}

fn has_role(creds: &Value, role: &str) -> bool {
    creds
        .get("roles")
        .and_then(Value::as_array)
        .is_some_and(|roles| {
            roles
                .iter()
                .filter_map(Value::as_str)
                .any(|have| eq_ignore_case(have, role))
        })
}
