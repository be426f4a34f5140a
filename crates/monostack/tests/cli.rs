//! The `monostack` binary as an operator runs it: version, the documented configuration, a
//! refused configuration, and `db sync` on a fresh state directory. Building these tests also
//! builds the binary with the workspace's test features, which tools/test then runs its clouds
//! on (a separate `cargo build -p monostack` would resolve features anew and rebuild).

use std::path::Path;
use std::process::{Command, Output};

fn monostack(args: &[&str], state_dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_monostack"));
    cmd.args(args).env("MONOSTACK__DEFAULT__STATE_DIR", state_dir).env_remove("MONOSTACK_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("monostack runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_and_documented_options() {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = monostack(&["--version"], dir.path(), &[]);
    assert!(version.status.success());
    assert!(text(&version.stdout).starts_with("monostack "), "{}", text(&version.stdout));
    let config = monostack(&["config"], dir.path(), &[]);
    assert!(config.status.success(), "{}", text(&config.stderr));
    assert!(text(&config.stdout).contains("# password_hash_rounds = 12"), "{}", text(&config.stdout));
}

#[test]
fn an_invalid_option_is_refused_with_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = monostack(&["db", "sync"], dir.path(), &[("MONOSTACK__IDENTITY__PASSWORD_HASH_ROUNDS", "99")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("identity.password_hash_rounds must be 4..=31"), "{}", text(&out.stderr));
    assert!(!dir.path().join("identity.db").exists(), "nothing is created before the config is valid");
}

#[test]
fn db_sync_creates_every_service_schema_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for _ in 0..2 {
        let out = monostack(&["db", "sync"], dir.path(), &[]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    for db in ["identity", "image", "placement", "network", "compute", "volume"] {
        assert!(dir.path().join(format!("{db}.db")).is_file(), "{db}.db");
    }
}
