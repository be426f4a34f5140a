//! Nova's extra-spec operators: how a flavor extra spec's requirement (`">= 4"`,
//! `"<in> avx"`, `"<or> kvm <or> qemu"`, ...) is matched against a host's value.
//!
//! A requirement whose first word is not an operator must equal the value exactly. Numeric
//! operators compare as floats (`=` means "at least"); `s`-prefixed ones compare strings;
//! `<in>` is a substring test and `<all-in>` wants every listed word in the value.

/// Whether `value` satisfies `requirement`. A missing value satisfies nothing.
pub fn matches(value: Option<&str>, requirement: &str) -> bool {
    let mut words = requirement.split_whitespace();
    let op = words.next();
    let operands: Vec<&str> = words.collect();
    let Some(op) = op.filter(|op| is_operator(op)) else {
        return value == Some(requirement);
    };
    let Some(value) = value else { return false };
    match op {
        "<or>" => or_matches(value, &operands),
        "<all-in>" => !operands.is_empty() && operands.iter().all(|o| value.contains(o)),
        _ => match operands.first() {
            Some(operand) => compare(op, value, operand),
            None => false,
        },
    }
}

fn is_operator(word: &str) -> bool {
    matches!(
        word,
        "=" | "<in>"
            | "<all-in>"
            | "<or>"
            | "=="
            | "!="
            | ">="
            | "<="
            | "s=="
            | "s!="
            | "s<"
            | "s<="
            | "s>"
            | "s>="
    )
}

/// `<or> a <or> b <or> c`: the value equals one of the alternatives.
fn or_matches(value: &str, operands: &[&str]) -> bool {
    operands
        .iter()
        .step_by(2)
        .any(|alternative| *alternative == value)
}

fn compare(op: &str, value: &str, operand: &str) -> bool {
    match op {
        "<in>" => value.contains(operand),
        "s==" => value == operand,
        "s!=" => value != operand,
        "s<" => value < operand,
        "s<=" => value <= operand,
        "s>" => value > operand,
        "s>=" => value >= operand,
        _ => numeric(op, value, operand),
    }
}

fn numeric(op: &str, value: &str, operand: &str) -> bool {
    let (Ok(value), Ok(operand)) = (value.trim().parse::<f64>(), operand.trim().parse::<f64>())
    else {
        return false;
    };
    match op {
        "=" | ">=" => value >= operand,
        "==" => value == operand,
        "!=" => value != operand,
        "<=" => value <= operand,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn plain_requirement_is_exact_equality() {
        assert!(matches(Some("x86_64"), "x86_64"));
        assert!(!matches(Some("aarch64"), "x86_64"));
        assert!(!matches(None, "x86_64"));
        assert!(matches(Some("two words"), "two words"));
    }

    #[test]
    fn equals_sign_means_at_least() {
        assert!(matches(Some("4"), "= 4"));
        assert!(matches(Some("8"), "= 4"));
        assert!(!matches(Some("2"), "= 4"));
        assert!(!matches(Some("abc"), "= 4"));
    }

    #[test]
    fn numeric_operators() {
        assert!(matches(Some("4.0"), "== 4"));
        assert!(!matches(Some("5"), "== 4"));
        assert!(matches(Some("5"), "!= 4"));
        assert!(matches(Some("5"), ">= 5"));
        assert!(!matches(Some("4"), ">= 5"));
        assert!(matches(Some("4"), "<= 5"));
        assert!(!matches(Some("6"), "<= 5"));
    }

    #[test]
    fn string_operators() {
        assert!(matches(Some("kvm"), "s== kvm"));
        assert!(!matches(Some("qemu"), "s== kvm"));
        assert!(matches(Some("qemu"), "s!= kvm"));
        assert!(matches(Some("a"), "s< b"));
        assert!(matches(Some("b"), "s<= b"));
        assert!(matches(Some("c"), "s> b"));
        assert!(matches(Some("b"), "s>= b"));
        assert!(!matches(Some("a"), "s>= b"));
    }

    #[test]
    fn in_and_all_in_are_substring_tests() {
        assert!(matches(Some("['avx', 'sse4']"), "<in> avx"));
        assert!(!matches(Some("['sse4']"), "<in> avx"));
        assert!(matches(Some("['avx', 'sse4']"), "<all-in> avx sse4"));
        assert!(!matches(Some("['avx']"), "<all-in> avx sse4"));
    }

    #[test]
    fn or_matches_any_alternative() {
        assert!(matches(Some("qemu"), "<or> kvm <or> qemu"));
        assert!(matches(Some("kvm"), "<or> kvm <or> qemu"));
        assert!(!matches(Some("xen"), "<or> kvm <or> qemu"));
        assert!(!matches(Some("kvm"), "<or>"));
        assert!(!matches(None, "<or> kvm"));
    }

    #[test]
    fn operator_without_operand_fails() {
        assert!(!matches(Some("4"), ">="));
        assert!(!matches(Some("4"), "s=="));
    }
}
