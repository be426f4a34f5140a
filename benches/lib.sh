# Shared by the benchmarks in benches/: a cloud to measure, an admin token for it, wrk's figures,
# throughput and a cold page cache. Source it after tools/lib/common.sh, with TMP set to a
# scratch directory.
# shellcheck shell=bash disable=SC2034  # the variables set here are for the sourcing script

# bench_cloud [--own] [NAME=VALUE...]: uses the cloud answering on the identity port, or builds
# monostack and starts an all-in-one in a temporary state directory (cloud_stop stops it). Sets
# STATE (its state directory), OPENRC (the admin's openrc) and SERVER_PID (the process serving
# identity). --own always starts a new all-in-one, never using a running cloud. Each
# NAME=VALUE is exported first, for the cloud started here (MONOSTACK__FAKE_DRIVER__NODE_COUNT=
# 1000, other ports beside a running cloud: MONOSTACK__IDENTITY__PORT=..., or a database:
# MONOSTACK__DATABASE__CONNECTION=..., else it gets SQLite in its state directory). The release
# build is skipped when MONOSTACK_BIN names another binary than target/release/monostack.
bench_cloud() {
    local own=0
    if [ "${1:-}" = --own ]; then
        own=1
        shift
    fi
    local assignment
    for assignment in "$@"; do
        case "$assignment" in
            [A-Z_]*=*) export "${assignment?}" ;;
            *) die "bench_cloud: not NAME=VALUE: $assignment" ;;
        esac
    done
    if [ "$own" = 0 ] && identity_ready; then
        STATE=$(state_dir)
        [ -z "${MONOSTACK_CLOUDS_YAML:-}" ] || STATE=$(dirname "$MONOSTACK_CLOUDS_YAML")
        OPENRC="$STATE/openrc"
        [ -r "$OPENRC" ] || die "a cloud answers on port $(identity_port), but there is no $OPENRC to log in with (set MONOSTACK__DEFAULT__STATE_DIR)"
        say "using the running cloud (credentials from $OPENRC)"
        SERVER_PID=$(ss -Hltnp "sport = :$(identity_port)" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)
    else
        "$REPO_ROOT/tools/install-deps" --no-tempest --no-openstack --no-postgres
        if [ "$MONOSTACK_BIN" = "$REPO_ROOT/target/release/monostack" ]; then
            say "cargo build --release -p monostack"
            cargo build --release -p monostack --manifest-path "$REPO_ROOT/Cargo.toml"
        else
            say "using $MONOSTACK_BIN (MONOSTACK_BIN), not building"
        fi
        unset MONOSTACK_CONFIG
        # SQLite in the state directory, unless a database was named here
        case " $* " in *" MONOSTACK__DATABASE__CONNECTION="*) ;; *) unset MONOSTACK__DATABASE__CONNECTION ;; esac
        say "starting an all-in-one${*:+ with $*}"
        cloud_start || { [ -z "$CLOUD_LOG" ] || tail -n 40 "$CLOUD_LOG"; die "the cloud did not start"; }
        STATE=$CLOUD_STATE
        OPENRC="$CLOUD_STATE/openrc"
        SERVER_PID=$CLOUD_PID
    fi
}

# bench_admin_token: a project-scoped admin token from OPENRC with the password method. Sets
# AUTH_URL (ending in /v3) and TOKEN, and leaves the token body in $TMP/token.json.
bench_admin_token() {
    have jq || die "jq is missing: run tools/install-deps"
    local username password project user_domain project_domain body
    # Read the credentials in a subshell, so that nothing else from openrc sticks.
    read -r AUTH_URL username password project user_domain project_domain < <(
        # shellcheck disable=SC1090
        . "$OPENRC"
        echo "${OS_AUTH_URL%/}" "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME" \
            "${OS_USER_DOMAIN_NAME:-Default}" "${OS_PROJECT_DOMAIN_NAME:-Default}"
    )
    case "$AUTH_URL" in */v3) ;; *) AUTH_URL="$AUTH_URL/v3" ;; esac
    body=$(jq -nc --arg u "$username" --arg p "$password" --arg pr "$project" --arg ud "$user_domain" --arg pd "$project_domain" \
        '{auth: {identity: {methods: ["password"], password: {user: {name: $u, password: $p, domain: {name: $ud}}}},
                 scope: {project: {name: $pr, domain: {name: $pd}}}}}')
    curl -sS -f -D "$TMP/headers" -o "$TMP/token.json" -H 'Content-Type: application/json' -d "$body" "$AUTH_URL/auth/tokens" ||
        die "could not get a token from $AUTH_URL"
    TOKEN=$(tr -d '\r' <"$TMP/headers" | awk 'tolower($1) == "x-subject-token:" {print $2}')
    [ -n "$TOKEN" ] || die "no token in the response"
}

# to_ms VALUE-WITH-UNIT: wrk prints 812.00us, 1.23ms, 1.01s, 1.50m
to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.2f", n }'
}

# wrk_figures WRK-ARGS...: runs `wrk --latency WRK-ARGS`, shows its output and sets WRK_RPS,
# WRK_P50 and WRK_P99 (ms), WRK_TOTAL (requests) and WRK_FAILED (non-2xx responses plus
# socket errors: a fast error is not a result, so callers fail the run when it is not 0).
wrk_figures() {
    local out="$TMP/wrk.out"
    wrk --latency "$@" >"$out" 2>&1 || { cat "$out"; die "wrk failed"; }
    sed 's/^/    /' "$out"
    local non2xx sockerr
    WRK_RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
    WRK_P50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    WRK_P99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    WRK_TOTAL=$(awk '/requests in/ {print $1}' "$out")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    sockerr=$(awk '/Socket errors:/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$out")
    WRK_FAILED=$((${non2xx:-0} + ${sockerr:-0}))
}

# --- throughput against the disk (image.sh, volume.sh) ---------------------------------
now_ns() { date +%s%N; }
mb_per_s() { awk -v b="$1" -v ns="$2" 'BEGIN {printf "%.0f", b / 1e6 / (ns / 1e9)}'; } # BYTES NS
percent() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 100 * a / b}'; }

# evict FILE: writes FILE back and empties the page cache of it, so that the next read comes
# from the disk. As root the whole page cache is dropped (/proc/sys/vm/drop_caches), the only
# way that is reliably cold; otherwise FILE's pages are dropped with posix_fadvise(DONTNEED)
# through dd, which the kernel may honour only in part.
evict() {
    sync "$1"
    if [ -w /proc/sys/vm/drop_caches ]; then
        echo 1 >/proc/sys/vm/drop_caches
    else
        dd if="$1" iflag=nocache count=0 status=none
    fi
}
