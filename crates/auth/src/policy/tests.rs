//! Behavioural tests of the whole engine through the public API.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

use super::{Enforcer, PolicyError};

fn one(rule: &str) -> Enforcer {
    Enforcer::try_new(&[("act", rule)]).expect("rule parses")
}

fn allows(rule: &str, target: &Value, creds: &Value) -> bool {
    one(rule).enforce("act", target, creds)
}

fn roles(list: &[&str]) -> Value {
    json!({ "roles": list })
}

#[test]
fn constant_rules() {
    let nobody = json!({});
    assert!(allows("@", &nobody, &nobody));
    assert!(allows("", &nobody, &nobody));
    assert!(allows("  ", &nobody, &nobody));
    assert!(!allows("!", &nobody, &nobody));
}

#[test]
fn role_check_is_case_insensitive() {
    let t = json!({});
    assert!(allows("role:admin", &t, &roles(&["reader", "ADMIN"])));
    assert!(allows("role:Admin", &t, &roles(&["admin"])));
    assert!(!allows("role:admin", &t, &roles(&["reader"])));
    assert!(!allows("role:admin", &t, &json!({})));
    assert!(allows(
        "role:%(role)s",
        &json!({"role": "member"}),
        &roles(&["Member"])
    ));
}

#[test]
fn rule_references() {
    let e = Enforcer::try_new(&[
        ("admin_required", "role:admin"),
        ("act", "rule:admin_required or rule:nonexistent"),
    ])
    .unwrap();
    let t = json!({});
    assert!(e.enforce("act", &t, &roles(&["admin"])));
    assert!(!e.enforce("act", &t, &roles(&["member"])));
    assert!(!one("rule:nonexistent").enforce("act", &t, &roles(&["admin"])));
}

#[test]
fn reference_loops_deny() {
    let e = Enforcer::try_new(&[
        ("a", "rule:b"),
        ("b", "rule:a or rule:a"),
        ("self", "rule:self or @"),
        ("negated", "not rule:a"),
        ("fine", "@"),
    ])
    .unwrap();
    let t = json!({});
    assert!(!e.enforce("a", &t, &t));
    assert!(!e.enforce("self", &t, &t));
    assert!(!e.enforce("negated", &t, &t));
    assert!(e.enforce("fine", &t, &t));
}

#[test]
fn generic_check_against_target() {
    let creds = json!({"project_id": "p1"});
    assert!(allows(
        "project_id:%(project_id)s",
        &json!({"project_id": "p1"}),
        &creds
    ));
    assert!(!allows(
        "project_id:%(project_id)s",
        &json!({"project_id": "p2"}),
        &creds
    ));
    assert!(!allows("project_id:%(project_id)s", &json!({}), &creds));
}

#[test]
fn target_lookup_flat_then_nested() {
    let rule = "user_id:%(target.user.id)s";
    let creds = json!({"user_id": "u1"});
    assert!(allows(rule, &json!({"target.user.id": "u1"}), &creds));
    assert!(allows(
        rule,
        &json!({"target": {"user": {"id": "u1"}}}),
        &creds
    ));
    let both = json!({"target.user.id": "u2", "target": {"user": {"id": "u1"}}});
    assert!(!allows(rule, &both, &creds));
}

#[test]
fn creds_dotted_path_and_lists() {
    let creds = json!({"token": {"is_admin_project": true}, "groups": ["g1", "g2"]});
    let t = json!({});
    assert!(allows("token.is_admin_project:True", &t, &creds));
    assert!(!allows("token.is_admin_project:False", &t, &creds));
    assert!(allows("groups:g2", &t, &creds));
    assert!(!allows("token.missing:True", &t, &creds));
}

#[test]
fn literal_right_side_forms() {
    let t = json!({});
    let creds = json!({"scope": "all", "flag": true, "sflag": "True", "n": 3, "name": "a b"});
    assert!(allows("scope:all", &t, &creds));
    assert!(allows("scope:'all'", &t, &creds));
    assert!(allows("scope:\"all\"", &t, &creds));
    assert!(allows("flag:True", &t, &creds));
    assert!(allows("sflag:True", &t, &creds));
    assert!(!allows("flag:False", &t, &creds));
    assert!(allows("n:3", &t, &creds));
    assert!(allows("name:'a b'", &t, &creds));
}

#[test]
fn numbers_compare_as_text() {
    assert!(allows(
        "port:%(port)s",
        &json!({"port": 80}),
        &json!({"port": "80"})
    ));
}

#[test]
fn literal_left_side() {
    let creds = json!({});
    let target = json!({"role.name": "member", "user": {"enabled": true}});
    assert!(allows("'member':%(role.name)s", &target, &creds));
    assert!(!allows("'admin':%(role.name)s", &target, &creds));
    assert!(allows("True:%(user.enabled)s", &target, &creds));
    assert!(!allows("'member':%(missing)s", &target, &creds));
}

#[test]
fn remote_checks_always_deny() {
    let t = json!({});
    assert!(!allows("http://policy.example/check", &t, &t));
    assert!(!allows("https://policy.example/check or !", &t, &t));
}

#[test]
fn boolean_operators_and_precedence() {
    let t = json!({});
    let ab = roles(&["a", "b"]);
    let c = roles(&["c"]);
    // and binds tighter than or
    assert!(allows("role:x and role:y or role:c", &t, &c));
    assert!(allows("role:c or role:x and role:y", &t, &c));
    assert!(!allows("(role:c or role:x) and role:y", &t, &c));
    // not binds tighter than and
    assert!(allows("not role:x and role:a", &t, &ab));
    assert!(!allows("not (role:x or role:a)", &t, &ab));
    assert!(allows("not not role:a", &t, &ab));
    // keywords are case-insensitive
    assert!(allows("role:a AND role:b", &t, &ab));
    assert!(allows("role:x Or role:b", &t, &ab));
    assert!(!allows("NOT role:a", &t, &ab));
}

#[test]
fn syntax_errors_name_the_rule() {
    for bad in [
        "role:a and",
        "(role:a",
        "role:a)",
        "admin",
        "and role:a",
        "role:",
        "()",
        "name:'x",
        "id:%(x",
    ] {
        let err = Enforcer::try_new(&[("broken", bad)]).expect_err(bad);
        assert!(
            matches!(&err, PolicyError::Syntax { rule, .. } if rule == "broken"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn invalid_default_fails_closed() {
    let e = Enforcer::new(&[("broken", "role:a and"), ("ok", "@")]);
    let t = json!({});
    assert!(!e.enforce("broken", &t, &roles(&["a"])));
    assert!(e.enforce("ok", &t, &t));
}

#[test]
fn unknown_action_uses_default_rule() {
    let t = json!({});
    let without = Enforcer::try_new(&[("x", "@")]).unwrap();
    assert!(!without.enforce("unknown", &t, &t));
    let with = Enforcer::try_new(&[("default", "role:admin")]).unwrap();
    assert!(with.enforce("unknown", &t, &roles(&["admin"])));
    assert!(!with.enforce("unknown", &t, &roles(&["member"])));
}

#[test]
fn keystone_get_user_rule() {
    let rule = "(role:reader and system_scope:all) or \
                (role:reader and domain_id:%(target.user.domain_id)s) or \
                user_id:%(target.user.id)s";
    let target = json!({"target": {"user": {"id": "u1", "domain_id": "d1"}}});
    let system_reader = json!({"roles": ["reader"], "system_scope": "all", "user_id": "x"});
    let domain_reader = json!({"roles": ["reader"], "domain_id": "d1", "user_id": "x"});
    let other_domain = json!({"roles": ["reader"], "domain_id": "d2", "user_id": "x"});
    let owner = json!({"roles": [], "user_id": "u1"});
    let stranger = json!({"roles": ["member"], "user_id": "u2", "domain_id": "d1"});
    assert!(allows(rule, &target, &system_reader));
    assert!(allows(rule, &target, &domain_reader));
    assert!(!allows(rule, &target, &other_domain));
    assert!(allows(rule, &target, &owner));
    assert!(!allows(rule, &target, &stranger));
}

#[test]
fn legacy_admin_or_owner_rule() {
    let rule = "role:admin or is_admin:True or project_id:%(project_id)s";
    let target = json!({"project_id": "p1"});
    assert!(allows(
        rule,
        &target,
        &json!({"roles": ["Admin"], "project_id": "p9"})
    ));
    assert!(allows(
        rule,
        &target,
        &json!({"roles": [], "is_admin": true})
    ));
    assert!(allows(
        rule,
        &target,
        &json!({"roles": [], "project_id": "p1"})
    ));
    assert!(!allows(
        rule,
        &target,
        &json!({"roles": ["member"], "is_admin": false, "project_id": "p2"})
    ));
}

#[test]
fn nova_style_composed_rules() {
    let e = Enforcer::try_new(&[
        ("context_is_admin", "role:admin"),
        (
            "admin_or_owner",
            "is_admin:True or project_id:%(project_id)s",
        ),
        ("admin_api", "is_admin:True"),
        ("os_compute_api:servers:show", "rule:admin_or_owner"),
        (
            "os_compute_api:servers:delete",
            "rule:admin_api or (role:member and project_id:%(project_id)s)",
        ),
    ])
    .unwrap();
    let target = json!({"project_id": "p1"});
    let member = json!({"roles": ["member"], "project_id": "p1", "is_admin": false});
    let reader = json!({"roles": ["reader"], "project_id": "p1", "is_admin": false});
    assert!(e.enforce("os_compute_api:servers:show", &target, &member));
    assert!(e.enforce("os_compute_api:servers:delete", &target, &member));
    assert!(!e.enforce("os_compute_api:servers:delete", &target, &reader));
}

#[test]
fn overrides_replace_and_add() {
    let e = Enforcer::try_new(&[("a", "role:admin"), ("b", "@")])
        .unwrap()
        .with_overrides_str("a: role:member\nc: '!'\n")
        .unwrap();
    let t = json!({});
    assert!(e.enforce("a", &t, &roles(&["member"])));
    assert!(!e.enforce("a", &t, &roles(&["admin"])));
    assert!(!e.enforce("c", &t, &t));
    let listed = e.rules();
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(listed[0].1, "role:member");
}

#[test]
fn overrides_accept_json_and_empty() {
    let e = Enforcer::new(&[("a", "!")])
        .with_overrides_str(r#"{"a": "@", "b": "role:x"}"#)
        .unwrap()
        .with_overrides_str("")
        .unwrap();
    assert!(e.enforce("a", &json!({}), &json!({})));
    assert_eq!(e.rules().len(), 2);
}

#[test]
fn bad_overrides_are_rejected() {
    let base = || Enforcer::new(&[("a", "@")]);
    assert!(matches!(
        base().with_overrides_str("a: [1, 2]"),
        Err(PolicyError::Format(_))
    ));
    assert!(matches!(
        base().with_overrides_str("- a"),
        Err(PolicyError::Format(_))
    ));
    assert!(matches!(
        base().with_overrides_str("a: '@\n"),
        Err(PolicyError::Yaml(_))
    ));
    let err = base()
        .with_overrides_str("a: role:x and\n")
        .expect_err("syntax");
    assert!(matches!(err, PolicyError::Syntax { rule, .. } if rule == "a"));
}

#[test]
fn overrides_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let e = Enforcer::new(&[("a", "!")])
        .with_overrides_file(&missing)
        .unwrap();
    assert!(!e.enforce("a", &json!({}), &json!({})));

    let good = dir.path().join("policy.yaml");
    std::fs::write(&good, "\"a\": \"@\"\n").unwrap();
    let e = e.with_overrides_file(&good).unwrap();
    assert!(e.enforce("a", &json!({}), &json!({})));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "\"b\": \"(role:x\"\n").unwrap();
    let message = e.with_overrides_file(&bad).expect_err("bad").to_string();
    assert!(
        message.contains("bad.yaml") && message.contains("\"b\""),
        "{message}"
    );
}

#[test]
fn enforcer_is_shareable() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Enforcer>();
}
