#!/usr/bin/env bash
# Port create and port lookup by device with many ports in the networking service's database.
#
#   benches/network.sh [--ports 10000] [--creates 200] [--duration 10s] [--connections 8]
#
# Uses the cloud answering on the identity port if there is one (its openrc is read from
# <state>/openrc); else builds monostack and starts an all-in-one in a temporary state directory.
# MONOSTACK_BIN names the binary to start (default target/release/monostack, built first); a
# debug build's figures mean nothing. As the cloud's admin, with the admin project's network,
# subnet and port quotas lifted (-1) and restored afterwards, it makes a network with a /16
# subnet and:
#
# (0) fills it with --ports ports, bulk-created 100 per POST, each with a device_id of its own
#     (<prefix><n>), and reports the rate;
# (a) POST /v2.0/ports, --creates single creates one after the other (curl), median and p99:
#     each allocates a MAC and the next free address among the --ports taken;
# (b) POST /v2.0/ports under load: wrk, --connections connections for --duration, req/s, p50, p99;
# (c) GET /v2.0/ports?device_id=<random one of the --ports> under load (what Nova asks for each
#     server it builds, deletes or lists interfaces of): req/s, p50, p99;
# (d) GET /v2.0/ports?network_id=<it>, every port in one response, median of 5.
#
# Every response must be a success, and a sample of (c)'s lookups must find exactly the one
# port of that device: a fast wrong answer is not a result. There is no upstream figure to
# compare with in ../shared/peers; the results go to benches/README.md.
# A cloud this script started is simply stopped; in a running cloud it deletes what it made.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/lib/common.sh"
# shellcheck source=benches/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ports=10000
creates=200
duration=10s
connections=8
while [ $# -gt 0 ]; do
    case "$1" in
        --ports) ports=${2:?}; shift ;;
        --creates) creates=${2:?}; shift ;;
        --duration) duration=${2:?}; shift ;;
        --connections) connections=${2:?}; shift ;;
        -h | --help)
            print_header_help
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
for n in "$ports" "$creates" "$connections"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--ports, --creates and --connections want positive numbers, not '$n'"
done
[ "$ports" -le 50000 ] || die "--ports: at most 50000 (they share one /16)"
CURL=/usr/bin/curl
[ -x "$CURL" ] || die "no $CURL: run tools/install-deps"
have jq || die "jq is missing: run tools/install-deps"
have wrk || die "wrk is missing: run tools/install-deps"

TMP=$(mktemp -d)
PREFIX="monostack-bench-$$-"
NETWORK_ID=
RESTORE_QUOTA=
cleanup() {
    local rc=$?
    if [ -z "$CLOUD_PID" ] && [ -n "${NET_URL:-}" ]; then
        # A running cloud: put back what was changed.
        if [ -n "$NETWORK_ID" ]; then
            say "deleting the benchmark's ports and network"
            api GET "/ports?network_id=$NETWORK_ID&fields=id" | jq -r '.ports[].id' |
                xargs -r -P 4 -I{} "$CURL" -sS -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$NET_URL/ports/{}" || true
            api DELETE "/networks/$NETWORK_ID" >/dev/null || true
        fi
        [ -z "$RESTORE_QUOTA" ] || api PUT "/quotas/$PROJECT_ID" "$RESTORE_QUOTA" >/dev/null || true
    fi
    cloud_stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# api METHOD PATH [BODY]: a request to the networking API; fails on a non-2xx answer.
api() {
    local args=(-sS -f -X "$1" -H "X-Auth-Token: $TOKEN")
    [ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' -d "$3")
    "$CURL" "${args[@]}" "$NET_URL$2"
}

# median_p99 FILE: "median p99" of the numbers in FILE (one per line), in ms to 2 decimals.
median_p99() {
    sort -n "$1" | awk '{v[NR] = $1} END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR
        printf "%.2f %.2f\n", m, v[i] }'
}

bench_cloud
bench_admin_token
PROJECT_ID=$(jq -r .token.project.id "$TMP/token.json")
NET_URL=$(jq -r '[.token.catalog[] | select(.type == "network") | .endpoints[] | select(.interface == "public") | .url][0]' "$TMP/token.json")
[ "$NET_URL" != null ] || die "no network endpoint in the catalog"
NET_URL="${NET_URL%/}/v2.0"
say "network API: $NET_URL, project $PROJECT_ID"

RESTORE_QUOTA=$(api GET "/quotas/$PROJECT_ID" | jq -c '{quota: {network: .quota.network, subnet: .quota.subnet, port: .quota.port}}')
api PUT "/quotas/$PROJECT_ID" '{"quota": {"network": -1, "subnet": -1, "port": -1}}' >/dev/null
NETWORK_ID=$(api POST /networks "{\"network\": {\"name\": \"${PREFIX}net\"}}" | jq -r .network.id)
api POST /subnets "{\"subnet\": {\"name\": \"${PREFIX}subnet\", \"network_id\": \"$NETWORK_ID\", \"ip_version\": 4, \"cidr\": \"10.200.0.0/16\"}}" >/dev/null
say "network $NETWORK_ID with subnet 10.200.0.0/16"

# --- (0) fill -----------------------------------------------------------------------------
say "(0) creating $ports ports, 100 per bulk POST"
t0=$(date +%s.%N)
for ((start = 0; start < ports; start += 100)); do
    end=$((start + 100 < ports ? start + 100 : ports))
    jq -nc --arg net "$NETWORK_ID" --arg p "$PREFIX" --argjson a "$start" --argjson b "$end" \
        '{ports: [range($a; $b) | {network_id: $net, device_id: "\($p)\(.)", name: "\($p)\(.)"}]}' >"$TMP/bulk.json"
    n=$(api POST /ports "@$TMP/bulk.json" | jq '.ports | length')
    [ "$n" = $((end - start)) ] || die "a bulk create of $((end - start)) ports returned $n"
done
t1=$(date +%s.%N)
fill_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
fill_rate=$(awk -v a="$t0" -v b="$t1" -v n="$ports" 'BEGIN {printf "%.0f", n / (b - a)}')
say "$ports ports in $fill_s s ($fill_rate ports/s)"

# --- (a) sequential creates ---------------------------------------------------------------
say "(a) $creates single port creates, one after the other"
: >"$TMP/create.ms"
for ((i = 0; i < creates; i++)); do
    "$CURL" -sS -o "$TMP/port.json" -w '%{http_code} %{time_total}\n' -X POST -H "X-Auth-Token: $TOKEN" \
        -H 'Content-Type: application/json' -d "{\"port\": {\"network_id\": \"$NETWORK_ID\", \"device_id\": \"${PREFIX}seq-$i\"}}" \
        "$NET_URL/ports" >"$TMP/answer"
    read -r code secs <"$TMP/answer"
    [ "$code" = 201 ] || die "POST /ports answered $code: $(cat "$TMP/port.json")"
    awk -v s="$secs" 'BEGIN {printf "%.3f\n", s * 1000}' >>"$TMP/create.ms"
done
read -r create_p50 create_p99 < <(median_p99 "$TMP/create.ms")
say "create: median $create_p50 ms, p99 $create_p99 ms"

ROWS=()
failed=0
# load NAME WRK-ARGS...: one wrk measure into ROWS.
load() {
    local name=$1
    shift
    say "$name: wrk, $connections connections, $duration"
    wrk_figures -t2 -c"$connections" -d"$duration" "$@"
    [ "$WRK_FAILED" = 0 ] || { failed=1; warn "$WRK_FAILED of $WRK_TOTAL requests failed"; }
    ROWS+=("| $name | $WRK_RPS | $WRK_P50 | $WRK_P99 | $WRK_TOTAL |")
}
export MONOSTACK_BENCH_TOKEN="$TOKEN" MONOSTACK_BENCH_NETWORK_ID="$NETWORK_ID"
export MONOSTACK_BENCH_DEVICE_PREFIX="$PREFIX" MONOSTACK_BENCH_DEVICE_COUNT="$ports"

# --- (b) creates under load ---------------------------------------------------------------
load "(b) POST /v2.0/ports" -s "$REPO_ROOT/benches/wrk/port-create.lua" "$NET_URL/ports"

# --- (c) lookups by device ----------------------------------------------------------------
for i in 0 $((ports / 2)) $((ports - 1)); do
    n=$(api GET "/ports?device_id=$PREFIX$i" | jq '.ports | length')
    [ "$n" = 1 ] || die "GET /ports?device_id=$PREFIX$i found $n ports, not 1"
done
load "(c) GET /v2.0/ports?device_id=…" -s "$REPO_ROOT/benches/wrk/port-by-device.lua" "${NET_URL%/v2.0}"

# --- (d) the whole list -------------------------------------------------------------------
total=$(api GET "/ports?network_id=$NETWORK_ID&fields=id" | jq '.ports | length')
say "(d) GET /v2.0/ports?network_id=… ($total ports), 5 times"
: >"$TMP/list.ms"
for _ in 1 2 3 4 5; do
    "$CURL" -sS -f -o "$TMP/list.json" -w '%{time_total} %{size_download}\n' -H "X-Auth-Token: $TOKEN" \
        "$NET_URL/ports?network_id=$NETWORK_ID" >"$TMP/answer"
    read -r secs list_bytes <"$TMP/answer"
    n=$(jq '.ports | length' "$TMP/list.json")
    [ "$n" = "$total" ] || die "the list held $n ports, not $total"
    awk -v s="$secs" 'BEGIN {printf "%.3f\n", s * 1000}' >>"$TMP/list.ms"
done
read -r list_p50 _ < <(median_p99 "$TMP/list.ms")

# --- report -------------------------------------------------------------------------------
echo
echo "monostack network benchmark: $ports ports, $(basename "$MONOSTACK_BIN") binary, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "(0) fill: $ports ports by bulk POSTs of 100 in $fill_s s: $fill_rate ports/s"
echo "(a) POST /v2.0/ports, one at a time: median $create_p50 ms, p99 $create_p99 ms ($creates creates)"
echo "(d) GET /v2.0/ports?network_id=…: $total ports, $list_bytes bytes, median $list_p50 ms (of 5)"
echo
echo "| measure (wrk -t2 -c$connections -d$duration) | req/s | p50 ms | p99 ms | requests |"
echo "| --- | ---: | ---: | ---: | ---: |"
for row in "${ROWS[@]}"; do echo "$row"; done
[ "$failed" = 0 ] || die "some requests failed: the numbers above don't measure the API"
