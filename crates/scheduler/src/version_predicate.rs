//! Version predicates such as `">= 6.0, < 7"` (the `img_hv_requested_version` image
//! property), checked against a hypervisor version in Nova's integer encoding.

/// Nova's integer form of a dotted version: `6.2.1` → 6002001.
pub fn version_to_int(version: &str) -> Option<u64> {
    version.trim().split('.').try_fold(0u64, |acc, part| {
        acc.checked_mul(1000)?.checked_add(part.parse().ok()?)
    })
}

/// Nova's dotted form of an integer version: 6002001 → `6.2.1`.
pub fn version_to_str(version: u64) -> String {
    let mut parts = Vec::new();
    let mut rest = version;
    while rest > 0 {
        parts.push((rest % 1000).to_string());
        rest /= 1000;
    }
    if parts.is_empty() {
        return "0".into();
    }
    parts.reverse();
    parts.join(".")
}

/// Whether `version` satisfies every comma-separated clause of `predicate`. A malformed
/// predicate is satisfied by nothing.
pub fn satisfied_by(predicate: &str, version: u64) -> bool {
    let wanted = version_components(version);
    predicate
        .split(',')
        .all(|clause| match parse_clause(clause) {
            Some((op, bound)) => compare(op, &wanted, &bound),
            None => false,
        })
}

fn parse_clause(clause: &str) -> Option<(&str, Vec<u64>)> {
    let clause = clause.trim();
    let op = ["<=", ">=", "!=", "==", "<", ">"]
        .into_iter()
        .find(|op| clause.starts_with(op))?;
    let bound = clause[op.len()..].trim();
    if bound.is_empty() || bound.contains(char::is_whitespace) {
        return None;
    }
    let parts: Option<Vec<u64>> = bound.split('.').map(|p| p.parse().ok()).collect();
    Some((op, parts?))
}

fn version_components(version: u64) -> Vec<u64> {
    version_to_str(version)
        .split('.')
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Compares dotted versions with missing trailing parts read as zero (6.2 == 6.2.0).
fn compare(op: &str, left: &[u64], right: &[u64]) -> bool {
    let len = left.len().max(right.len());
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        v.resize(len, 0);
        v
    };
    let ordering = pad(left).cmp(&pad(right));
    match op {
        "<" => ordering.is_lt(),
        "<=" => ordering.is_le(),
        ">" => ordering.is_gt(),
        ">=" => ordering.is_ge(),
        "==" => ordering.is_eq(),
        "!=" => ordering.is_ne(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_encoding_round_trips() {
        assert_eq!(version_to_int("6.2.1"), Some(6_002_001));
        assert_eq!(version_to_int("6.2"), Some(6_002));
        assert_eq!(version_to_str(6_002_001), "6.2.1");
        assert_eq!(version_to_str(1_000), "1.0");
        assert_eq!(version_to_int("x.1"), None);
    }

    #[test]
    fn clauses_are_all_required() {
        assert!(satisfied_by(">= 6.0", 6_002_000));
        assert!(satisfied_by(">=6.0,<7", 6_002_000));
        assert!(!satisfied_by(">=6.0,<6.2", 6_002_000));
        assert!(satisfied_by("== 6.2", 6_002_000));
        assert!(satisfied_by("!= 6.1", 6_002_000));
        assert!(satisfied_by("> 6.1.9", 6_002_000));
        assert!(satisfied_by("<= 6.2.0", 6_002_000));
    }

    #[test]
    fn malformed_predicates_match_nothing() {
        assert!(!satisfied_by("6.2", 6_002_000));
        assert!(!satisfied_by(">= six", 6_002_000));
        assert!(!satisfied_by(">= 6 2", 6_002_000));
    }
}
