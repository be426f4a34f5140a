#!/usr/bin/env bash
# Server boot and delete latency, boot throughput, scheduling at scale and server listing on the
# fake virt driver, beside upstream Python Nova 34's figures on the same kind of machine.
#
#   benches/compute.sh [--boots 50] [--servers 200] [--concurrency 20] [--scale 1000] [--check]
#
# (a) and (b) use the cloud answering on the identity port if there is one (its openrc is read
# from <state>/openrc, see tools/tempest for how <state> is found); else build monostack and
# start an all-in-one in a temporary state directory. (c) and (d) always start their own
# all-in-one with MONOSTACK__FAKE_DRIVER__NODE_COUNT=<scale> (one compute host simulating that
# many hypervisors), on other ports when a cloud already runs. MONOSTACK_BIN names the binary
# to start (default target/release/monostack, built first); a debug build's figures mean
# nothing. Every request is made with /usr/bin/curl, as the admin of the cloud; the admin
# project's compute quotas are lifted (instances, cores, ram -1) and restored afterwards.
#
# (a) POST /servers → ACTIVE, --boots servers one after the other, median and p99, and the
#     POST's own response time; then DELETE → GET answers 404 for each.
# (b) --servers servers booted with --concurrency in flight (each of xargs -P's workers boots
#     one and polls until it is ACTIVE): the time until all are ACTIVE, and servers/s.
# (c) --scale servers booted the same way on --scale hypervisors: time and servers/s, and
#     on how many hypervisors they landed.
# (d) GET /servers/detail listing those --scale servers, median of 20, at 2.1 and at the
#     latest microversion (every listing must hold them all: one page, so --scale <= 1000).
# States are polled with GET /servers/{id} every 10 ms in (a) and every 100 ms in (b), (c).
# Servers boot from a few KB raw image on a flavor of 1 vCPU, 64 MiB and 1 GiB made here, with
# no network (networks "none", 2.37). Nova's figures were measured with 10 sequential boots,
# 50 servers 10 in flight, and a listing of 50 servers on one hypervisor; each ratio is against
# Nova's best figure of its range.
# --check: exit 1 unless every figure that has a Nova figure is at least 10× better; (c) is
# compared with Nova's throughput for 50 servers and (d) with Nova's listing of 50 servers,
# there being no Nova figure at 1,000. A server that goes ERROR always fails the run.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/lib/common.sh"
# shellcheck source=benches/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

boots=50
servers=200
concurrency=20
scale=1000
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --boots) boots=${2:?}; shift ;;
        --servers) servers=${2:?}; shift ;;
        --concurrency) concurrency=${2:?}; shift ;;
        --scale) scale=${2:?}; shift ;;
        --check) check=1 ;;
        -h | --help)
            print_header_help
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
for n in "$boots" "$servers" "$concurrency"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "--boots, --servers and --concurrency want positive numbers, not '$n'"
done
[[ "$scale" =~ ^[0-9]+$ ]] || die "--scale wants a number (0 skips (c) and (d)), not '$scale'"
CURL=/usr/bin/curl
[ -x "$CURL" ] || die "no $CURL: run tools/install-deps"
have jq || die "jq is missing: run tools/install-deps"
MIN_FACTOR=10 # --check: times Nova's best figure
export BOOT_TIMEOUT=${BOOT_TIMEOUT:-300} # seconds one server may take to become ACTIVE or gone
LATEST=2.96

TMP=$(mktemp -d)
PREFIX="monostack-bench-$$"
RESTORE_QUOTA=
FLAVOR_ID=
IMAGE_ID=
IN_RUNNING_CLOUD=0 # 1 while this script has things to put back in a cloud it did not start
cleanup() {
    local rc=$?
    # The cloud's own account of a failure, before its state directory goes.
    if [ "$rc" -ne 0 ] && [ -n "$CLOUD_PID" ] && [ -f "${CLOUD_LOG:-}" ]; then
        echo "last errors in $CLOUD_LOG:" >&2
        grep -E ' (ERROR|WARN) ' "$CLOUD_LOG" | tail -n 5 >&2 || true
    fi
    # What is left in a cloud this script did not start (one it started goes away whole).
    if [ "$IN_RUNNING_CLOUD" = 1 ]; then
        purge_servers_named "$PREFIX" || true
        [ -z "$FLAVOR_ID" ] || compute DELETE "/flavors/$FLAVOR_ID" >/dev/null 2>&1 || true
        [ -z "$IMAGE_ID" ] || $CURL -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$IMAGE_URL/v2/images/$IMAGE_ID" || true
        [ -z "$RESTORE_QUOTA" ] || compute PUT "/os-quota-sets/$PROJECT_ID" -d "$RESTORE_QUOTA" >/dev/null 2>&1 || true
    fi
    cloud_stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- requests ---------------------------------------------------------------------------
# compute METHOD PATH [CURL-ARGS...]: the compute API as the admin at $MV (default 2.37);
# prints the HTTP status and leaves the body in $TMP/body.
compute() {
    local method=$1 path=$2
    shift 2
    $CURL -sS -o "$TMP/body" -w '%{http_code}' -X "$method" -H "X-Auth-Token: $TOKEN" \
        -H "OpenStack-API-Version: compute ${MV:-2.37}" -H 'Content-Type: application/json' "$@" "$COMPUTE_URL$path"
}

now_us() { echo "${EPOCHREALTIME/./}"; }

# boot_one NAME POLL: boots a server and polls until it is ACTIVE; prints "ID POST-µs
# ACTIVE-µs HYPERVISOR". Run by xargs in its own bash, so it uses only exported variables; an
# ERROR, a refused POST or BOOT_TIMEOUT exits 255, which stops xargs.
boot_one() {
    local name=$1 poll=$2 t0 t_post body id status deadline
    t0=$(now_us)
    body=$($CURL -sS -X POST -H "X-Auth-Token: $TOKEN" -H 'OpenStack-API-Version: compute 2.37' \
        -H 'Content-Type: application/json' "$COMPUTE_URL/servers" \
        -d "{\"server\": {\"name\": \"$name\", \"imageRef\": \"$IMAGE_ID\", \"flavorRef\": \"$FLAVOR_ID\", \"networks\": \"none\"}}")
    t_post=$(($(now_us) - t0))
    [[ "$body" =~ \"id\":\ ?\"([0-9a-f-]{36})\" ]] || { echo "POST /servers ($name) failed: $body" >&2; exit 255; }
    id=${BASH_REMATCH[1]}
    deadline=$((SECONDS + BOOT_TIMEOUT))
    while :; do
        body=$($CURL -sS -H "X-Auth-Token: $TOKEN" "$COMPUTE_URL/servers/$id")
        status=
        [[ "$body" =~ \"status\":\ ?\"([A-Z_]+)\" ]] && status=${BASH_REMATCH[1]}
        case "$status" in
            ACTIVE)
                local node=-
                [[ "$body" =~ \"OS-EXT-SRV-ATTR:hypervisor_hostname\":\ ?\"([^\"]+)\" ]] && node=${BASH_REMATCH[1]}
                echo "$id $t_post $(($(now_us) - t0)) $node"
                return 0
                ;;
            ERROR) echo "server $name ($id) went ERROR: $body" >&2; exit 255 ;;
        esac
        [ "$SECONDS" -lt "$deadline" ] || { echo "server $name ($id) not ACTIVE after ${BOOT_TIMEOUT}s: $body" >&2; exit 255; }
        sleep "$poll"
    done
}

# delete_one ID POLL: deletes a server and polls until GET answers 404; prints the µs taken.
delete_one() {
    local id=$1 poll=$2 t0 body code deadline
    t0=$(now_us)
    body=$($CURL -sS -w ' %{http_code}' -X DELETE -H "X-Auth-Token: $TOKEN" "$COMPUTE_URL/servers/$id")
    code=${body##* }
    [ "$code" = 204 ] || { echo "DELETE /servers/$id returned $code: ${body% *}" >&2; exit 255; }
    deadline=$((SECONDS + BOOT_TIMEOUT))
    while :; do
        code=$($CURL -sS -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$COMPUTE_URL/servers/$id")
        [ "$code" != 404 ] || { echo "$(($(now_us) - t0))"; return 0; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "server $id still there (GET $code) ${BOOT_TIMEOUT}s after DELETE" >&2; exit 255; }
        sleep "$poll"
    done
}
export -f boot_one delete_one now_us
export CURL

# in_parallel FUNCTION POLL OUT: runs FUNCTION ARG POLL for each line of stdin, $concurrency
# at a time; their output goes to OUT. Fails when one of them failed.
in_parallel() {
    local fn=$1 poll=$2 out=$3
    # shellcheck disable=SC2016  # expanded by the inner bash
    xargs -P "$concurrency" -I '{}' bash -c "$fn"' "$1" "$2"' _ '{}' "$poll" >"$out"
}

# purge_one ID: the clean-up's delete: tried up to three times, never failing.
purge_one() {
    local try code
    for try in 1 2 3; do
        code=$($CURL -s -o /dev/null -w '%{http_code}' -X DELETE -H "X-Auth-Token: $TOKEN" "$COMPUTE_URL/servers/$1")
        case "$code" in 204 | 404) return 0 ;; esac
        sleep "$try"
    done
    echo "server $1 could not be deleted (DELETE answered $code)" >&2
}
export -f purge_one

# purge_servers_named PREFIX: deletes every server of the admin project whose name starts with
# PREFIX, $concurrency at a time, carrying on past failures.
purge_servers_named() {
    compute GET "/servers?name=^$1" >/dev/null
    jq -r '.servers[].id' "$TMP/body" | xargs -r -P "$concurrency" -I '{}' bash -c 'purge_one "$1"' _ '{}'
}

# --- statistics and formatting ----------------------------------------------------------
# median FILE / p99 FILE: of the numbers in FILE, one a line (p99 by nearest rank).
median() { sort -n "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
p99() { sort -n "$1" | awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < NR * 0.99) i++; print v[i]}'; }
secs() { awk -v u="$1" 'BEGIN {printf (u >= 1e7 ? "%.1f s" : u >= 1e6 ? "%.2f s" : "%.0f ms"), (u >= 1e6 ? u / 1e6 : u / 1e3)}'; } # secs µs
ms() { awk -v u="$1" 'BEGIN {printf "%.1f ms", u / 1e3}'; }
rate() { awk -v n="$1" -v u="$2" 'BEGIN {printf "%.1f", n / (u / 1e6)}'; } # rate COUNT µs

ROWS=()
missed=0
# row MEASURE FIGURE NOVA-TEXT RATIO TARGET-MET: one line of the table; an empty RATIO means
# there is nothing to compare with.
row() {
    local result=
    if [ -n "$4" ]; then
        result=PASS
        [ "$5" = 1 ] || { result=MISS; missed=1; }
    fi
    ROWS+=("| $1 | $2 | $3 | ${4:+$4×} | $result |")
}
# time_row MEASURE µs NOVA-TEXT NOVA-BEST-SECONDS: a time, against Nova's best (lowest) time.
time_row() {
    local ratio met
    ratio=$(awk -v u="$2" -v n="$4" 'BEGIN {printf "%.1f", n * 1e6 / u}')
    met=$(awk -v r="$ratio" -v f="$MIN_FACTOR" 'BEGIN {print (r >= f) ? 1 : 0}')
    row "$1" "$(secs "$2")" "$3" "$ratio" "$met"
}
# rate_row MEASURE SERVERS/S NOVA-TEXT NOVA-BEST-RATE: a rate, against Nova's best (highest).
rate_row() {
    local ratio met
    ratio=$(awk -v r="$2" -v n="$4" 'BEGIN {printf "%.1f", r / n}')
    met=$(awk -v r="$ratio" -v f="$MIN_FACTOR" 'BEGIN {print (r >= f) ? 1 : 0}')
    row "$1" "$2 servers/s" "$3" "$ratio" "$met"
}

# --- a cloud ready for servers ----------------------------------------------------------
# prepare_cloud: an admin token, the endpoints, an image and a flavor for the bench, and the
# admin project's quotas lifted. Sets TOKEN, PROJECT_ID, COMPUTE_URL, IMAGE_URL, IMAGE_ID,
# FLAVOR_ID and RESTORE_QUOTA (the body that puts the quotas back).
prepare_cloud() {
    bench_admin_token
    PROJECT_ID=$(jq -r .token.project.id "$TMP/token.json")
    endpoint() { jq -r --arg t "$1" '.token.catalog[] | select(.type == $t) | .endpoints[] | select(.interface == "public") | .url' "$TMP/token.json" | head -n1; }
    COMPUTE_URL=$(endpoint compute)
    COMPUTE_URL=${COMPUTE_URL%/}
    IMAGE_URL=$(endpoint image)
    IMAGE_URL=${IMAGE_URL%/}
    [ -n "$COMPUTE_URL" ] || die "no public compute endpoint in the catalog"
    [ -n "$IMAGE_URL" ] || die "no public image endpoint in the catalog"
    export TOKEN COMPUTE_URL
    say "compute endpoint $COMPUTE_URL, project $PROJECT_ID"

    local code
    code=$(compute GET "/os-quota-sets/$PROJECT_ID")
    [ "$code" = 200 ] || die "GET /os-quota-sets/$PROJECT_ID returned $code"
    RESTORE_QUOTA=$(jq -c '{quota_set: {instances: .quota_set.instances, cores: .quota_set.cores, ram: .quota_set.ram}}' "$TMP/body")
    code=$(compute PUT "/os-quota-sets/$PROJECT_ID" -d '{"quota_set": {"instances": -1, "cores": -1, "ram": -1}}')
    [ "$code" = 200 ] || die "PUT /os-quota-sets/$PROJECT_ID returned $code: $(cat "$TMP/body")"
    note "quotas lifted (instances, cores, ram: -1)"

    code=$($CURL -sS -o "$TMP/body" -w '%{http_code}' -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\": \"$PREFIX\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" "$IMAGE_URL/v2/images")
    [ "$code" = 201 ] || die "POST /v2/images returned $code: $(cat "$TMP/body")"
    IMAGE_ID=$(jq -r .id "$TMP/body")
    head -c 4096 /dev/urandom >"$TMP/disk.raw"
    code=$($CURL -sS -o "$TMP/body" -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/disk.raw" "$IMAGE_URL/v2/images/$IMAGE_ID/file")
    [ "$code" = 204 ] || die "PUT /v2/images/$IMAGE_ID/file returned $code: $(cat "$TMP/body")"

    code=$(compute POST /flavors -d "{\"flavor\": {\"name\": \"$PREFIX\", \"ram\": 64, \"vcpus\": 1, \"disk\": 1}}")
    [ "$code" = 200 ] || die "POST /flavors returned $code: $(cat "$TMP/body")"
    FLAVOR_ID=$(jq -r .flavor.id "$TMP/body")
    export IMAGE_ID FLAVOR_ID
    note "image $IMAGE_ID (4 KiB raw), flavor $FLAVOR_ID (1 vCPU, 64 MiB, 1 GiB)"
}

# hypervisors_up: how many hypervisors are up.
hypervisors_up() {
    MV=2.1 compute GET /os-hypervisors/detail >/dev/null
    jq '[.hypervisors[] | select(.state == "up")] | length' "$TMP/body" 2>/dev/null || echo 0
}

# --- (a) and (b): the running cloud, or one started here --------------------------------
bench_cloud
[ -n "$CLOUD_PID" ] || IN_RUNNING_CLOUD=1
prepare_cloud
[ "$(hypervisors_up)" -ge 1 ] || die "no hypervisor is up: is the compute agent running?"

say "warm-up: one server booted and deleted"
echo "$PREFIX-warm" | in_parallel boot_one 0.01 "$TMP/warm" || die "the warm-up boot failed"
read -r warm_id _ <"$TMP/warm"
echo "$warm_id" | in_parallel delete_one 0.01 /dev/null || die "the warm-up delete failed"

say "(a) $boots servers booted one after the other, each deleted once ACTIVE"
: >"$TMP/post"
: >"$TMP/active"
: >"$TMP/gone"
for i in $(seq 1 "$boots"); do
    read -r id t_post t_active _ < <(bash -c 'boot_one "$1" 0.01' _ "$PREFIX-seq-$i") || die "boot $i failed"
    [ -n "${id:-}" ] || die "boot $i failed"
    echo "$t_post" >>"$TMP/post"
    echo "$t_active" >>"$TMP/active"
    bash -c 'delete_one "$1" 0.01' _ "$id" >>"$TMP/gone" || die "delete $i failed"
done
post_median=$(median "$TMP/post")
active_median=$(median "$TMP/active")
active_p99=$(p99 "$TMP/active")
gone_median=$(median "$TMP/gone")
gone_p99=$(p99 "$TMP/gone")
note "POST answered in $(secs "$post_median") (median); ACTIVE after $(secs "$active_median") (median), $(secs "$active_p99") (p99); gone after $(secs "$gone_median") (median), $(secs "$gone_p99") (p99)"

say "(b) $servers servers, $concurrency in flight, until all are ACTIVE"
t0=$(now_us)
seq 1 "$servers" | sed "s/^/$PREFIX-par-/" | in_parallel boot_one 0.1 "$TMP/par" || die "a boot failed"
t_par=$(($(now_us) - t0))
[ "$(wc -l <"$TMP/par")" = "$servers" ] || die "only $(wc -l <"$TMP/par") of $servers servers became ACTIVE"
par_rate=$(rate "$servers" "$t_par")
note "all ACTIVE after $(secs "$t_par"): $par_rate servers/s"
say "deleting them, $concurrency at a time"
t0=$(now_us)
cut -d' ' -f1 "$TMP/par" | in_parallel delete_one 0.1 "$TMP/par-gone" || die "a delete failed"
t_par_gone=$(($(now_us) - t0))
note "all gone after $(secs "$t_par_gone")"

time_row "POST /servers → ACTIVE, median of $boots sequential" "$active_median" "1.28 s (median of 10)" 1.28
row "POST /servers → ACTIVE, p99 of $boots" "$(secs "$active_p99")" "" "" ""
time_row "POST /servers response, median" "$post_median" "0.15 s" 0.15
time_row "DELETE → gone (GET 404), median" "$gone_median" "0.63–0.77 s" 0.63
row "DELETE → gone, p99" "$(secs "$gone_p99")" "" "" ""
rate_row "$servers servers, $concurrency in flight, until all ACTIVE: $(secs "$t_par")" "$par_rate" \
    "0.8–1.0 servers/s (50 servers, 10 in flight: 48–62 s)" 1.0
row "deleting those $servers, $concurrency in flight, until all gone" "$(secs "$t_par_gone")" "" "" ""

# Put the running cloud back as it was; a cloud started here just stops.
if [ "$IN_RUNNING_CLOUD" = 1 ]; then
    compute DELETE "/flavors/$FLAVOR_ID" >/dev/null || true
    $CURL -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$IMAGE_URL/v2/images/$IMAGE_ID" || true
    compute PUT "/os-quota-sets/$PROJECT_ID" -d "$RESTORE_QUOTA" >/dev/null || true
fi
IN_RUNNING_CLOUD=0
cloud_stop >/dev/null || warn "the cloud started for (a) and (b) did not stop cleanly"

# --- (c) and (d): a cloud of $scale hypervisors ----------------------------------------
# free_port FIRST: the first port from FIRST on that nothing listens on and that no earlier
# call returned (in TAKEN_PORTS).
TAKEN_PORTS=" "
free_port() {
    local p=$1
    while [[ "$TAKEN_PORTS" == *" $p "* ]] || (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
    TAKEN_PORTS+="$p "
    echo "$p"
}
if [ "$scale" -gt 0 ]; then
    say "(c) a cloud of $scale simulated hypervisors"
    # Its own ports, the usual ones where they are free (a running cloud keeps its own).
    free_port "$(identity_port)" >/dev/null # (in this shell, to remember it)
    free_port "${MONOSTACK__IMAGE__PORT:-9292}" >/dev/null
    free_port "${MONOSTACK__PLACEMENT__PORT:-8778}" >/dev/null
    free_port "${MONOSTACK__COMPUTE__PORT:-8774}" >/dev/null
    free_port "${MONOSTACK__NETWORK__PORT:-9696}" >/dev/null
    free_port "${MONOSTACK__VOLUME__PORT:-8776}" >/dev/null
    read -r identity image placement compute_port network_port volume_port <<<"$TAKEN_PORTS"
    ports=("MONOSTACK__IDENTITY__PORT=$identity" "MONOSTACK__IMAGE__PORT=$image"
        "MONOSTACK__PLACEMENT__PORT=$placement" "MONOSTACK__COMPUTE__PORT=$compute_port"
        "MONOSTACK__NETWORK__PORT=$network_port" "MONOSTACK__VOLUME__PORT=$volume_port")
    unset MONOSTACK_CLOUDS_YAML
    bench_cloud --own "MONOSTACK__FAKE_DRIVER__NODE_COUNT=$scale" "${ports[@]}"
    prepare_cloud
    t0=$(now_us)
    deadline=$((SECONDS + 600))
    while [ "$(hypervisors_up)" -lt "$scale" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "only $(hypervisors_up) of $scale hypervisors up after 600 s"
        sleep 1
    done
    note "$scale hypervisors up $(secs $(($(now_us) - t0))) after the cloud answered"

    say "(c) $scale servers, $concurrency in flight, until all are ACTIVE"
    t0=$(now_us)
    seq 1 "$scale" | sed "s/^/$PREFIX-scale-/" | in_parallel boot_one 0.1 "$TMP/scale" || die "a boot failed"
    t_scale=$(($(now_us) - t0))
    [ "$(wc -l <"$TMP/scale")" = "$scale" ] || die "only $(wc -l <"$TMP/scale") of $scale servers became ACTIVE"
    scale_rate=$(rate "$scale" "$t_scale")
    used=$(cut -d' ' -f4 "$TMP/scale" | sort -u | wc -l)
    note "all ACTIVE after $(secs "$t_scale"): $scale_rate servers/s, on $used distinct hypervisors"

    say "(d) GET /servers/detail with $scale servers, 20 times at 2.1 and at $LATEST"
    # detail_times MV OUT: 20 timed listings (µs, one a line); each must list every server.
    detail_times() {
        local mv=$1 out=$2 i code time n
        : >"$out"
        for i in $(seq 1 21); do
            read -r code time < <($CURL -sS -o "$TMP/detail.json" -w '%{http_code} %{time_total}\n' -H "X-Auth-Token: $TOKEN" \
                -H "OpenStack-API-Version: compute $mv" "$COMPUTE_URL/servers/detail")
            [ "$code" = 200 ] || die "GET /servers/detail at $mv returned $code"
            n=$(jq '.servers | length' "$TMP/detail.json")
            [ "$n" = "$scale" ] || die "GET /servers/detail at $mv listed $n servers, not $scale"
            [ "$i" = 1 ] || awk -v t="$time" 'BEGIN {printf "%.0f\n", t * 1e6}' >>"$out" # the first warms up
        done
    }
    detail_times 2.1 "$TMP/detail-21"
    detail_times "$LATEST" "$TMP/detail-latest"
    detail_21=$(median "$TMP/detail-21")
    detail_latest=$(median "$TMP/detail-latest")
    note "median $(ms "$detail_21") at 2.1, $(ms "$detail_latest") at $LATEST ($(wc -c <"$TMP/detail.json") bytes)"

    rate_row "$scale servers on $scale hypervisors, $concurrency in flight: $(secs "$t_scale"), on $used hypervisors" \
        "$scale_rate" "0.8–1.0 servers/s (50 servers, 1 hypervisor)" 1.0
    time_row "GET /servers/detail, $scale servers, 2.1, median of 20" "$detail_21" "300–450 ms (50 servers, 2.37)" 0.300
    time_row "GET /servers/detail, $scale servers, $LATEST, median of 20" "$detail_latest" "470–620 ms (50 servers, latest)" 0.470
    cloud_stop >/dev/null || warn "the cloud of $scale hypervisors did not stop cleanly"
fi

# --- report -----------------------------------------------------------------------------
echo
echo "monostack compute benchmark: fake virt driver, $(basename "$MONOSTACK_BIN") binary $MONOSTACK_BIN, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| measure | monostack | Python Nova 34, same kind of machine | Nova ÷ monostack | ≥ ${MIN_FACTOR}× |"
echo "| --- | ---: | ---: | ---: | --- |"
for r in "${ROWS[@]}"; do echo "$r"; done
echo
echo "Ratios are against Nova's best figure of its range. Nova's throughput was measured with 50 servers, 10 in"
echo "flight, on one hypervisor, and its listing with 50 servers: the 1,000-server rows have no Nova figure of"
echo "their own and are compared with those."

if [ "$check" = 1 ] && [ "$missed" = 1 ]; then
    die "a figure is less than ${MIN_FACTOR}× better than Nova's"
fi
