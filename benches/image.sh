#!/usr/bin/env bash
# Image upload and download throughput, compared with what the disk itself does, and the
# image service's memory while it streams, against a cloud on this machine.
#
#   benches/image.sh [--size-mib 1024] [--check]
#
# Uses the cloud answering on 127.0.0.1:5000 if there is one (its openrc is read from
# <state>/openrc, see tools/tempest for how <state> is found); else builds monostack and
# starts an all-in-one in a temporary state directory, and stops it afterwards.
# Measures, on the disk of the state directory, with the same random data throughout (made
# once, kept in RAM): (a) dd write with conv=fdatasync; (b) dd read from a cold page cache;
# (c) upload, PUT /v2/images/{id}/file with curl, until the stored file is on disk; (d)
# download, GET /v2/images/{id}/file with curl to /dev/null, from a cold page cache. The
# service's VmRSS is sampled every 0.2 s during (c) and (d). See benches/README.md for why.
# --check: exit 1 when the upload or the download is below 80% of dd, or the service's peak
# memory during a transfer exceeds its idle memory by 64 MiB or more. A wrong checksum, hash
# or size always fails the run.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/lib/common.sh"
# shellcheck source=benches/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

size_mib=1024
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size-mib) size_mib=${2:?}; shift ;;
        --check) check=1 ;;
        -h | --help)
            print_header_help
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
[[ "$size_mib" =~ ^[1-9][0-9]*$ ]] || die "--size-mib wants a positive number, not '$size_mib'"
BYTES=$((size_mib * 1048576))
MIN_RATIO=80       # % of dd, for the upload and the download
MAX_RSS_GROWTH=64  # MiB above idle, during a transfer

TMP=$(mktemp -d)
DATA_DIR=
DD_FILE=
IMAGE_ID=
SAMPLER=
cleanup() {
    [ -z "$SAMPLER" ] || kill "$SAMPLER" 2>/dev/null || true
    if [ -n "$IMAGE_ID" ]; then
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$IMAGE_URL/v2/images/$IMAGE_ID" || true
    fi
    [ -z "$DD_FILE" ] || rm -f "$DD_FILE"
    [ -z "$DATA_DIR" ] || rm -rf "$DATA_DIR"
    cloud_stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the cloud, an admin token, and the image endpoint from its catalog -----------------
bench_cloud
state=$STATE
[ -d "$state" ] || die "no state directory $state"
bench_admin_token
IMAGE_URL=$(jq -r '.token.catalog[] | select(.type == "image") | .endpoints[] | select(.interface == "public") | .url' \
    "$TMP/token.json" | head -n1)
IMAGE_URL=${IMAGE_URL%/}
[ -n "$IMAGE_URL" ] || die "no public image endpoint in the catalog"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$IMAGE_URL/v2/images")
[ "$code" = 200 ] || die "GET $IMAGE_URL/v2/images returned $code: is the image service running?"
say "image endpoint $IMAGE_URL"

# The process that serves the image port (the all-in-one serves every port).
image_port=$(sed -nE 's#^[a-z]+://[^/]*:([0-9]+)(/.*)?$#\1#p' <<<"$IMAGE_URL")
pid=
[ -z "$image_port" ] || pid=$(ss -Hltnp "sport = :$image_port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)
if [ -z "$pid" ] || [ ! -r "/proc/$pid/status" ]; then
    die "could not find the process serving $IMAGE_URL (is it on this machine?)"
fi

# --- helpers ----------------------------------------------------------------------------
kib() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$2/status" 2>/dev/null || true; } # kib FIELD PID
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }                        # mib KIB
# median_of_3 CMD...: runs CMD (which prints MB/s) three times; prints the median.
median_of_3() {
    local runs=() v
    for _ in 1 2 3; do
        v=$("$@") || return 1
        [[ "$v" =~ ^[0-9]+$ ]] || return 1
        runs+=("$v")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

# rss_start OUT / rss_stop: VmRSS (KiB) of the service every 0.2 s into OUT, one a line.
rss_start() {
    kib VmRSS "$pid" >"$1"
    (while :; do kib VmRSS "$pid" >>"$1"; sleep 0.2; done) &
    SAMPLER=$!
}
rss_stop() { # rss_stop OUT: prints the peak
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    SAMPLER=
    kib VmRSS "$pid" >>"$1"
    sort -n "$1" | tail -n1
}

# --- the data: random, made once, kept in RAM -------------------------------------------
# Generating it on the fly (head -c ... /dev/urandom | curl -T -) would measure the kernel's
# random generator on a shared core; reading it from the disk under test would compete with
# the writes. A file in tmpfs costs neither: reading it is a memory copy.
shm_avail_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}' || true)
if [ -w /dev/shm ] && [ "${shm_avail_kib:-0}" -gt $((size_mib * 1024 + 262144)) ]; then
    DATA_DIR=$(mktemp -d /dev/shm/monostack-bench.XXXXXX)
else
    warn "no room in /dev/shm: the data goes to ${TMPDIR:-/tmp}, and reading it may cost disk I/O"
    DATA_DIR=$(mktemp -d)
fi
DATA="$DATA_DIR/data"
say "making $size_mib MiB of random data in $DATA"
head -c "$BYTES" /dev/urandom >"$DATA"
DATA_MD5=$(md5sum "$DATA" | cut -d' ' -f1)
DATA_SHA512=$(sha512sum "$DATA" | cut -d' ' -f1)
sync "$DATA"

# --- the disk under the state directory -------------------------------------------------
DD_FILE="$state/monostack-bench-dd.tmp"
say "dd write: $size_mib MiB to $DD_FILE (bs=4M, conv=fdatasync)"
t0=$(now_ns)
dd if="$DATA" of="$DD_FILE" bs=4M conv=fdatasync status=none
dd_write=$(mb_per_s "$BYTES" $(($(now_ns) - t0)))
note "$dd_write MB/s"
# dd_read_once: MB/s of one dd read of DD_FILE from a cold page cache.
dd_read_once() {
    local t0
    evict "$DD_FILE"
    t0=$(now_ns)
    dd if="$DD_FILE" of=/dev/null bs=4M status=none
    mb_per_s "$BYTES" $(($(now_ns) - t0))
}
say "dd read: $DD_FILE to /dev/null (bs=4M, cold page cache, median of 3)"
dd_read=$(median_of_3 dd_read_once) || die "dd read failed"
note "$dd_read MB/s"
rm -f "$DD_FILE"
DD_FILE=

# --- the service ------------------------------------------------------------------------
sleep 1
rss_idle=$(kib VmRSS "$pid")
say "idle resident memory: $(mib "$rss_idle") MiB (VmRSS of pid $pid)"

code=$(curl -s -o "$TMP/image.json" -w '%{http_code}' -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\": \"monostack-bench-$$\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" "$IMAGE_URL/v2/images")
[ "$code" = 201 ] || die "POST /v2/images returned $code: $(cat "$TMP/image.json")"
IMAGE_ID=$(jq -r .id "$TMP/image.json")

say "upload: PUT /v2/images/$IMAGE_ID/file ($size_mib MiB), then fsync of the stored file"
rss_start "$TMP/rss-upload"
t0=$(now_ns)
# (no 'Expect: 100-continue': a server that doesn't answer it would cost a 1 s wait)
code=$(curl -s -o "$TMP/put.out" -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' -T "$DATA" "$IMAGE_URL/v2/images/$IMAGE_ID/file")
t_put=$(($(now_ns) - t0))
rss_upload=$(rss_stop "$TMP/rss-upload")
[ "$code" = 204 ] || die "PUT /v2/images/{id}/file returned $code: $(cat "$TMP/put.out")"
# The service may not fsync before answering; dd's figure includes the flush, so this one
# does too. The stored file is found by its name, the image id, under the state directory.
stored=$(find "$state" -type f -name "$IMAGE_ID" 2>/dev/null | head -n1)
t0=$(now_ns)
if [ -n "$stored" ]; then
    sync "$stored"
else
    warn "the stored image is not under $state: flushing the whole file system instead"
    sync -f "$state"
fi
t_sync=$(($(now_ns) - t0))
upload=$(mb_per_s "$BYTES" $((t_put + t_sync)))
note "$upload MB/s ($(awk -v n="$t_sync" 'BEGIN {printf "%.2f", n / 1e9}') s of it the fsync)"

curl -sS -f -o "$TMP/image.json" -H "X-Auth-Token: $TOKEN" "$IMAGE_URL/v2/images/$IMAGE_ID" || die "GET /v2/images/{id} failed"
wrong=()
[ "$(jq -r .status "$TMP/image.json")" = active ] || wrong+=("status $(jq -r .status "$TMP/image.json")")
[ "$(jq -r .size "$TMP/image.json")" = "$BYTES" ] || wrong+=("size $(jq -r .size "$TMP/image.json")")
[ "$(jq -r .checksum "$TMP/image.json")" = "$DATA_MD5" ] || wrong+=("checksum (md5) $(jq -r .checksum "$TMP/image.json")")
[ "$(jq -r .os_hash_algo "$TMP/image.json")" = sha512 ] || wrong+=("os_hash_algo $(jq -r .os_hash_algo "$TMP/image.json")")
[ "$(jq -r .os_hash_value "$TMP/image.json")" = "$DATA_SHA512" ] || wrong+=("os_hash_value (sha512) differs")
[ ${#wrong[@]} -eq 0 ] || die "the stored image is wrong: ${wrong[*]}"
note "status active, size, checksum = md5sum and os_hash_value = sha512sum of the data"

[ -n "$stored" ] || warn "the stored image was not found: the download may be served from the page cache"
# download_once: MB/s of one download from a cold page cache, checking status and size.
download_once() {
    local t0 code got
    [ -z "$stored" ] || evict "$stored"
    t0=$(now_ns)
    read -r code got < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' -H "X-Auth-Token: $TOKEN" \
        "$IMAGE_URL/v2/images/$IMAGE_ID/file")
    local took=$(($(now_ns) - t0))
    [ "$code" = 200 ] || die "GET /v2/images/{id}/file returned $code"
    [ "$got" = "$BYTES" ] || die "GET /v2/images/{id}/file returned $got bytes, not $BYTES"
    mb_per_s "$BYTES" "$took"
}
say "download: GET /v2/images/$IMAGE_ID/file to /dev/null (cold page cache, median of 3)"
rss_start "$TMP/rss-download"
download=$(median_of_3 download_once) || die "the download failed"
rss_download=$(rss_stop "$TMP/rss-download")
note "$download MB/s"

# --- report -----------------------------------------------------------------------------
missed=0
# row NAME MB/S BASELINE-MB/S: a table row, with the ratio to dd and the verdict
row() {
    local ratio result=PASS
    ratio=$(percent "$2" "$3")
    [ "$ratio" -ge "$MIN_RATIO" ] || { result=MISS; missed=1; }
    echo "| $1 | $2 | $ratio% | >= $MIN_RATIO% of dd | $result |"
}
memory_row() { # memory_row NAME PEAK-KIB
    local growth result=PASS
    growth=$((($2 - rss_idle) / 1024))
    [ "$growth" -lt "$MAX_RSS_GROWTH" ] || { result=MISS; missed=1; }
    echo "| $1 | $(mib "$2") MiB peak, $(printf '%+d' "$growth") MiB | < +$MAX_RSS_GROWTH MiB | $result |"
}
echo
echo "monostack image benchmark: $size_mib MiB, state directory $state ($(df -P "$state" | awk 'NR == 2 {print $1}')), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| measure | MB/s | of dd | target | result |"
echo "| --- | ---: | ---: | --- | --- |"
echo "| dd write, conv=fdatasync | $dd_write | | | |"
echo "| dd read, cold page cache | $dd_read | | | |"
row "upload, PUT .../file + fsync" "$upload" "$dd_write"
row "download, GET .../file, cold page cache" "$download" "$dd_read"
echo
echo "| service memory (VmRSS, idle $(mib "$rss_idle") MiB) | during the transfer | target | result |"
echo "| --- | --- | --- | --- |"
memory_row upload "$rss_upload"
memory_row download "$rss_download"

if [ "$check" = 1 ] && [ "$missed" = 1 ]; then
    die "a target was missed"
fi
