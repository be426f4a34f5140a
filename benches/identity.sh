#!/usr/bin/env bash
# Identity API throughput and latency with wrk, against a cloud on this machine.
#
#   benches/identity.sh [--duration 20s] [--connections 16] [--threads 2] [--check]
#
# Uses the cloud answering on 127.0.0.1:5000 if there is one (its openrc is read from
# <state>/openrc, see tools/tempest for how <state> is found); else builds monostack and
# starts an all-in-one in a temporary state directory, and stops it afterwards.
# Measures: (a) token validation, GET /v3/auth/tokens; (b) token issue with the token
# method, POST /v3/auth/tokens (benches/wrk/token-issue.lua); (c) GET /v3/projects; and
# the resident memory of the idle server before the load.
# --check: exit 1 when a target is missed. Any non-2xx response always fails the run.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/lib/common.sh"
# shellcheck source=benches/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

duration=20s
connections=16
threads=2
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=${2:?}; shift ;;
        --connections) connections=${2:?}; shift ;;
        --threads) threads=${2:?}; shift ;;
        --check) check=1 ;;
        -h | --help)
            print_header_help
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done

TMP=$(mktemp -d)
trap 'cloud_stop >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# --- the cloud, and an admin token (project-scoped, password method) ---------------------
bench_cloud
pid=$SERVER_PID
have wrk || die "wrk is missing: run tools/install-deps"
bench_admin_token
PROJECT_ID=$(jq -r .token.project.id "$TMP/token.json")
[ "$PROJECT_ID" != null ] || die "no project id in the token"
say "admin token for project $PROJECT_ID"

# Sanity: each measured request succeeds once before it is measured.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$AUTH_URL/auth/tokens")
[ "$code" = 200 ] || die "GET /v3/auth/tokens returned $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"$TOKEN\"}},\"scope\":{\"project\":{\"id\":\"$PROJECT_ID\"}}}}" \
    "$AUTH_URL/auth/tokens")
[ "$code" = 201 ] || die "POST /v3/auth/tokens (token method) returned $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$AUTH_URL/projects")
[ "$code" = 200 ] || die "GET /v3/projects returned $code"

# --- memory of the idle server ----------------------------------------------------------
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status" 2>/dev/null || true; } # kib FIELD PID
mib() { # mib KIB
    if [ -n "$1" ]; then awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; else echo n/a; fi
}
rss_idle=
if [ -n "${pid:-}" ] && [ -r "/proc/$pid/status" ]; then
    sleep 1
    rss_idle=$(kib VmRSS "$pid")
    say "idle resident memory: $(mib "$rss_idle") (VmRSS of pid $pid)"
else
    warn "could not find the server's pid; memory not measured"
fi

# --- load -------------------------------------------------------------------------------
ROWS=()
failed_requests=0
missed=0

# measure NAME MIN_RPS MAX_P99_MS(or -) WRK-ARGS...
measure() {
    local name=$1 min_rps=$2 max_p99=$3
    shift 3
    say "wrk: $name ($duration, $connections connections, $threads threads)"
    wrk_figures -t"$threads" -c"$connections" -d"$duration" "$@"
    local rps=$WRK_RPS p50=$WRK_P50 p99=$WRK_P99 target result
    target=">= $min_rps/s"
    result=PASS
    if [ "${rps:-0}" -lt "$min_rps" ]; then result=MISS; fi
    if [ "$max_p99" != - ]; then
        target="$target, p99 < $max_p99 ms"
        awk -v a="$p99" -v b="$max_p99" 'BEGIN {exit !(a < b)}' || result=MISS
    fi
    if [ "$WRK_FAILED" != 0 ]; then
        result="FAIL ($WRK_FAILED failed of $WRK_TOTAL)"
        failed_requests=1
    fi
    [ "$result" = PASS ] || missed=1
    ROWS+=("| $name | $rps | $p50 | $p99 | $target | $result |")
}

export MONOSTACK_BENCH_TOKEN="$TOKEN" MONOSTACK_BENCH_PROJECT_ID="$PROJECT_ID"
say "warm-up"
wrk -t1 -c4 -d2s -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$AUTH_URL/auth/tokens" >/dev/null 2>&1 || true

measure "token validation (GET /v3/auth/tokens)" 10000 5 \
    -H "X-Auth-Token: $TOKEN" -H "X-Subject-Token: $TOKEN" "$AUTH_URL/auth/tokens"
measure "token issue, token method (POST /v3/auth/tokens)" 2000 - \
    -s "$REPO_ROOT/benches/wrk/token-issue.lua" "$AUTH_URL/auth/tokens"
measure "project list (GET /v3/projects)" 5000 - \
    -H "X-Auth-Token: $TOKEN" "$AUTH_URL/projects"

rss_peak=
[ -z "${pid:-}" ] || rss_peak=$(kib VmHWM "$pid")

# --- report -----------------------------------------------------------------------------
echo
echo "monostack identity benchmark: wrk -t$threads -c$connections -d$duration, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| measure | req/s | p50 ms | p99 ms | target | result |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
for row in "${ROWS[@]}"; do echo "$row"; done
echo
echo "resident memory: idle $(mib "$rss_idle") (VmRSS before the load), peak $(mib "$rss_peak") (VmHWM after it)"
echo "for scale, upstream Python Keystone on the same kind of machine: 31 validations/s (p50 253 ms), 27 project lists/s"

if [ "$failed_requests" = 1 ]; then
    die "some requests failed: the numbers above don't measure the API"
fi
if [ "$check" = 1 ] && [ "$missed" = 1 ]; then
    die "a target was missed"
fi
