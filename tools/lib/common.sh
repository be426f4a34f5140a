# shellcheck shell=bash
# Helpers shared by the scripts under tools/, tests/ and benches/. Source it; don't run it.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO_ROOT

# rustup installs into ~/.cargo/bin; a fresh shell may not have it on PATH yet.
if [ -d "${CARGO_HOME:-$HOME/.cargo}/bin" ]; then
    case ":$PATH:" in
        *":${CARGO_HOME:-$HOME/.cargo}/bin:"*) ;;
        *) PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH" ;;
    esac
fi
export PATH

# The binary under test; override to try another build.
export MONOSTACK_BIN="${MONOSTACK_BIN:-$REPO_ROOT/target/release/monostack}"
export OPENSTACK_VENV="$REPO_ROOT/.venv/openstack"
export TEMPEST_VENV="$REPO_ROOT/.venv/tempest"
export NEUTRON_VENV="$REPO_ROOT/.venv/neutron" # the legacy neutron CLI (tests/cli/neutron.sh)

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif have sudo; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

# The state directory the binary will use: MONOSTACK__DEFAULT__STATE_DIR, else
# /var/lib/monostack as root, else ./.monostack (relative to the current directory).
# A state_dir set in a config file is not seen here; set the variable to be sure.
state_dir() {
    if [ -n "${MONOSTACK__DEFAULT__STATE_DIR:-}" ]; then
        printf '%s\n' "$MONOSTACK__DEFAULT__STATE_DIR"
    elif [ "$(id -u)" -eq 0 ]; then
        printf '%s\n' /var/lib/monostack
    else
        printf '%s\n' "$PWD/.monostack"
    fi
}

# clouds.yaml of the running cloud: MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml.
clouds_yaml() {
    if [ -n "${MONOSTACK_CLOUDS_YAML:-}" ]; then
        printf '%s\n' "$MONOSTACK_CLOUDS_YAML"
    else
        printf '%s/clouds.yaml\n' "$(state_dir)"
    fi
}

identity_port() { printf '%s\n' "${MONOSTACK__IDENTITY__PORT:-5000}"; }

# --- PostgreSQL -------------------------------------------------------------------------

MONOSTACK_PG_URL="postgresql://postgres@127.0.0.1:5432"

pg_installed() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && have pg_ctlcluster; }

# True when PostgreSQL accepts the password-less loopback login the tests use.
pg_answers() {
    have psql && PGCONNECT_TIMEOUT=3 psql "$MONOSTACK_PG_URL/postgres" -Atqc 'select 1' >/dev/null 2>&1
}

# True when something listens on 127.0.0.1:5432 (whatever its authentication).
pg_listening() {
    if have pg_isready; then
        pg_isready -q -h 127.0.0.1 -p 5432 -t 3
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

# Starts every installed cluster that is down, then waits up to 20 s for the port.
pg_start() {
    pg_installed || return 1
    local conf version cluster
    for conf in /etc/postgresql/*/*/postgresql.conf; do
        [ -e "$conf" ] || continue
        version=$(basename "$(dirname "$(dirname "$conf")")")
        cluster=$(basename "$(dirname "$conf")")
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >/dev/null 2>&1 || true
    done

    for _ in $(seq 1 20); do
        pg_listening && return 0
        sleep 1
    done
    return 1
}

# --- MariaDB / MySQL --------------------------------------------------------------------

mysql_installed() { [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; }

mysql_answers() {
    have mysql && mysql -h 127.0.0.1 -P 3306 -u root --connect-timeout=3 -e 'select 1' >/dev/null 2>&1
}

# Starts MariaDB in the background if it is installed and down; waits up to 30 s.
mysql_start() {
    mysql_installed || return 1
    local daemon=/usr/sbin/mariadbd
    [ -x "$daemon" ] || daemon=/usr/sbin/mysqld
    if [ ! -d /run/mysqld ]; then
        as_root mkdir -p /run/mysqld
        as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
    fi
    as_root start-stop-daemon --start --oknodo --background --exec "$daemon" >/dev/null 2>&1 || true

    for _ in $(seq 1 30); do
        mysql_answers && return 0
        sleep 1
    done
    return 1
}

# --- the cloud --------------------------------------------------------------------------

# True when the identity API answers GET /v3 with 200.
identity_ready() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(identity_port)/v3" 2>/dev/null) || return 1
    [ "$code" = 200 ]
}

# True when anything at all accepts connections on the identity port.
identity_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$(identity_port)") 2>/dev/null; }

# --- running a cloud in the background (tools/test, benches) -----------------------------
CLOUD_PID=
CLOUD_STATE=
CLOUD_LOG=

# cloud_start: runs `monostack all-in-one` in a new state directory (under $TMPDIR or /tmp),
# logging to <state>/monostack.log, and waits up to 30 s for GET /v3 to return 200 and for
# clouds.yaml to exist. Sets CLOUD_PID, CLOUD_STATE, CLOUD_LOG, MONOSTACK__DEFAULT__STATE_DIR
# and MONOSTACK_CLOUDS_YAML.
cloud_start() {
    if identity_port_busy; then
        echo "something already listens on 127.0.0.1:$(identity_port) -- stop the other cloud first"
        return 1
    fi
    [ -x "$MONOSTACK_BIN" ] || { echo "no $MONOSTACK_BIN: build it first (cargo build --release -p monostack)"; return 1; }
    CLOUD_STATE=$(mktemp -d "${TMPDIR:-/tmp}/monostack-test.XXXXXX")
    CLOUD_LOG="$CLOUD_STATE/monostack.log"
    export MONOSTACK__DEFAULT__STATE_DIR="$CLOUD_STATE"
    export MONOSTACK_CLOUDS_YAML="$CLOUD_STATE/clouds.yaml"
    echo "state: $CLOUD_STATE  database: ${MONOSTACK__DATABASE__CONNECTION:-SQLite}  log: $CLOUD_LOG"
    "$MONOSTACK_BIN" all-in-one >"$CLOUD_LOG" 2>&1 &
    CLOUD_PID=$!
    local t rc
    for t in $(seq 1 60); do
        if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
            rc=0
            wait "$CLOUD_PID" || rc=$?
            echo "the cloud exited (status $rc) before it was ready"
            CLOUD_PID=
            return 1
        fi
        if identity_ready && [ -f "$MONOSTACK_CLOUDS_YAML" ]; then
            echo "ready after $(((t + 1) / 2))s (pid $CLOUD_PID)"
            return 0
        fi
        sleep 0.5
    done
    echo "not ready after 30s (GET http://127.0.0.1:$(identity_port)/v3 did not return 200)"
    return 1
}

# cloud_stop: SIGTERM; the cloud must exit with status 0 within 20 s (else it is killed and
# this fails). On a clean exit the state directory is removed unless CLOUD_STATE was cleared.
cloud_stop() {
    [ -n "$CLOUD_PID" ] || return 0
    local pid=$CLOUD_PID t rc
    CLOUD_PID=
    kill -TERM "$pid" 2>/dev/null || true
    for t in $(seq 1 40); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rc=0
            wait "$pid" || rc=$?
            echo "stopped after SIGTERM in $(((t + 1) / 2))s, exit status $rc"
            [ "$rc" -eq 0 ] || return 1
            [ -z "$CLOUD_STATE" ] || rm -rf "$CLOUD_STATE"
            CLOUD_STATE=
            CLOUD_LOG=
            return 0
        fi
        sleep 0.5
    done
    echo "still running 20s after SIGTERM: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}

# Prints the comment block at the top of the calling script (after the #! line) as its help.
print_header_help() { awk 'NR == 1 {next} /^#/ {sub(/^# ?/, ""); print; next} {exit}' "$0"; }
