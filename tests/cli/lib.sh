# Shared by the CLI tests in tests/cli: finds the cloud, sets up the openstack CLI as the admin
# of clouds.yaml, and gives the checking helpers. Source it after tools/lib/common.sh, then
# call `cli_test_begin NAME`.
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. Sets OSC, CLOUDS, CLOUD, AUTH_URL (ending in /v3), REGION,
# S (a per-run suffix for every name a test makes) and TMP.
# shellcheck shell=bash disable=SC2034  # the variables set here are for the sourcing script

OSC="$OPENSTACK_VENV/bin/openstack" # cli_test_begin points it at the fork server's client
[ -x "$OSC" ] || die "no $OSC: run tools/install-deps first"
have jq || die "jq is missing: run tools/install-deps first"
have curl || die "curl is missing: run tools/install-deps first"

CLOUDS=$(clouds_yaml)
case "$CLOUDS" in /*) ;; *) CLOUDS="$PWD/$CLOUDS" ;; esac
[ -f "$CLOUDS" ] || die "no clouds.yaml at $CLOUDS: is the cloud running? (or set MONOSTACK_CLOUDS_YAML)"
CLOUD=${OS_CLOUD:-monostack}
# Only clouds.yaml speaks for the admin: drop any OS_* left over from an openrc.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^OS_' || true)
export OS_CLIENT_CONFIG_FILE="$CLOUDS" OS_CLOUD="$CLOUD"

AUTH_URL=$("$OPENSTACK_VENV/bin/python" - "$CLOUDS" "$CLOUD" <<'PY'
import sys, yaml
clouds = yaml.safe_load(open(sys.argv[1]))["clouds"]
cloud = clouds.get(sys.argv[2]) or next(iter(clouds.values()))
url = cloud["auth"]["auth_url"].rstrip("/")
print(url if url.endswith("/v3") else url + "/v3")
PY
)
REGION=RegionOne
S="$$$RANDOM" # per-run suffix
TMP=$(mktemp -d)
exec 3>&1 4>&2 # the exit trap reports here even when it fires inside a redirected command

# --- steps and checks -------------------------------------------------------------------
STEP=0
# A failure inside $(...) ends only that subshell; it leaves this mark so that the next
# check in the main shell stops the test too (an empty output must never pass a check).
stop_if_failed() { [ ! -e "$TMP/failed" ] || exit 1; }
step() {
    stop_if_failed
    STEP=$((STEP + 1))
    printf '\n[%02d] %s\n' "$STEP" "$*"
}
ok() {
    stop_if_failed
    printf '     ok: %s\n' "$*"
}
fail() {
    printf '     FAIL: %s\n' "$*" >&2
    : >"$TMP/failed"
    exit 1
}

# osc ARGS...: runs the openstack CLI as the admin of clouds.yaml; prints its stdout.
# Any failure prints the command and its output, and ends the test.
osc() { run_osc "$OSC" "$@"; }

# run_osc CMD...: runs CMD, printing its stdout; a failure prints the command and its output
# (with its arguments quoted) and ends the test.
run_osc() {
    if ! "$@" >"$TMP/out" 2>"$TMP/err"; then
        printf '     command failed: %s\n' "$(printf '%q ' "$@")" >&2
        sed 's/^/       | /' "$TMP/out" "$TMP/err" >&2
        fail "the command above failed"
    fi
    cat "$TMP/out"
}

# must_fail WHAT CMD...: CMD must exit non-zero; prints its combined output.
must_fail() {
    local what=$1
    shift
    stop_if_failed
    if "$@" >"$TMP/out" 2>&1; then
        sed 's/^/       | /' "$TMP/out" >&2
        fail "$what: expected a failure, but it succeeded"
    fi
    cat "$TMP/out"
}

# eq WHAT ACTUAL EXPECTED
eq() {
    stop_if_failed
    [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
    ok "$1 = $3"
}
# contains WHAT HAYSTACK NEEDLE / lacks WHAT HAYSTACK NEEDLE
contains() {
    stop_if_failed
    grep -qF -- "$3" <<<"$2" || {
        printf '%s\n' "$2" | sed 's/^/       | /' >&2
        fail "$1: '$3' not found"
    }
    ok "$1 has $3"
}
lacks() {
    stop_if_failed
    if grep -qF -- "$3" <<<"$2"; then
        printf '%s\n' "$2" | sed 's/^/       | /' >&2
        fail "$1: '$3' still there"
    fi
    ok "$1 lacks $3"
}
nonempty() {
    stop_if_failed
    if [ -z "$2" ] || [ "$2" = null ]; then fail "$1 is empty"; fi
    if [ ${#2} -gt 48 ]; then ok "$1 = ${2:0:40}..."; else ok "$1 = $2"; fi
}
j() { jq -r "$1" <<<"$2"; } # j FILTER JSON

# --- clean-up ---------------------------------------------------------------------------
# On failure, deferred commands run last-in first-out, errors ignored.
CLEANUP=()
defer() { CLEANUP+=("$(printf '%q ' "$@")"); }
CLI_TEST_NAME=
on_exit() {
    local rc=$?
    exec 1>&3 2>&4
    if [ "$rc" -ne 0 ] && [ ${#CLEANUP[@]} -gt 0 ]; then
        echo
        echo "cleaning up after the failure..."
        local i
        for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
            eval "${CLEANUP[$i]}" >/dev/null 2>&1 || true
        done
    fi
    osc_forkserver_stop
    rm -rf "$TMP"
    if [ "$rc" -eq 0 ]; then
        echo
        echo "$CLI_TEST_NAME CLI: all $STEP steps passed"
    else
        echo "$CLI_TEST_NAME CLI: FAILED at step $STEP" >&2
    fi
    exit "$rc"
}

# --- the openstack CLI, started once -----------------------------------------------------
# Each `openstack` run spends about a second starting Python and importing the client before
# it sends a request; a script runs it hundreds of times. tools/lib/osc_forkserver.py imports
# it once and forks the real `openstack` per command, so $OSC becomes its client (which falls
# back to the plain command should the server be gone). MONOSTACK_OSC_FORKSERVER=0: plain.
OSC_SERVER_PID=
osc_forkserver_start() {
    [ "${MONOSTACK_OSC_FORKSERVER:-1}" != 0 ] || return 0
    local py="$OPENSTACK_VENV/bin/python" server="$REPO_ROOT/tools/lib/osc_forkserver.py"
    local socket="$TMP/osc.sock"
    "$py" "$server" serve "$socket" </dev/null >"$TMP/osc-forkserver.log" 2>&1 &
    OSC_SERVER_PID=$!
    for _ in $(seq 1 120); do
        [ ! -S "$socket" ] || break
        kill -0 "$OSC_SERVER_PID" 2>/dev/null || break
        sleep 0.25
    done
    if [ ! -S "$socket" ]; then
        echo "the openstack CLI fork server did not start; running the plain command" >&2
        sed 's/^/       | /' "$TMP/osc-forkserver.log" >&2
        osc_forkserver_stop
        return 0
    fi
    printf '#!/bin/sh\nexec %q %q run %q "$@"\n' "$py" "$server" "$socket" >"$TMP/openstack"
    chmod +x "$TMP/openstack"
    OSC="$TMP/openstack"
}
osc_forkserver_stop() {
    [ -n "$OSC_SERVER_PID" ] || return 0
    kill "$OSC_SERVER_PID" 2>/dev/null || true
    wait "$OSC_SERVER_PID" 2>/dev/null || true
    OSC_SERVER_PID=
}

# cli_test_begin NAME: installs the exit trap, starts the CLI's fork server and announces
# the run.
cli_test_begin() {
    CLI_TEST_NAME=$1
    trap on_exit EXIT
    osc_forkserver_start
    echo "$CLI_TEST_NAME CLI test against $AUTH_URL (clouds.yaml $CLOUDS, suffix $S)"
}
