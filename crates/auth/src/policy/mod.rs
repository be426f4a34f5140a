//! An oslo.policy-compatible policy engine.
//!
//! Services register default rules in code and operators may override them
//! from a YAML or JSON file, exactly as with oslo.policy, so existing policy
//! files keep working. Rule strings are compiled once into an AST so that
//! [`Enforcer::enforce`], which runs on every API request, does no parsing.
//!
//! Supported rule language:
//! - `@` or an empty rule always allows; `!` always denies.
//! - `role:NAME` — `creds["roles"]` holds NAME (case-insensitive).
//! - `rule:NAME` — evaluates another named rule; unknown names deny, and a
//!   reference loop denies the whole request.
//! - `KEY:MATCH` — generic check: the creds value at `KEY` (a flat key or a
//!   dotted path; arrays on the way match if any element matches) rendered as
//!   text equals MATCH. MATCH is a literal (`'quoted'`, `"quoted"`, `True`,
//!   `False` or a bare word) or contains `%(name)s` interpolated from the
//!   target (flat key first, then dotted path; missing means the check fails).
//! - `'LITERAL':MATCH` (also `True:`, `False:` and integers) compares the
//!   literal itself to MATCH.
//! - `http:` / `https:` remote checks are not supported and always deny:
//!   calling out over the network per request is neither fast nor safe.
//! - `and`, `or`, `not` (case-insensitive; precedence not > and > or) and
//!   parentheses.
//!
//! Values are compared as text the way Python would print them: strings
//! as-is, booleans as `True`/`False`, numbers as decimal text and `null` as
//! `None`. Arrays and objects never match when interpolated.

mod check;
mod enforcer;
mod error;
mod leaf;
mod lexer;
mod overrides;
mod parser;
mod template;
mod value;

#[cfg(test)]
mod tests;

pub use enforcer::Enforcer;
pub use error::PolicyError;
