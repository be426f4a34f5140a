#!/usr/bin/env bash
# Block storage: how long a volume takes from create to available (blank, and from an
# image), and backup and restore throughput of a 1 GiB volume compared with what the disk
# itself does, against a cloud on this machine.
#
#   benches/volume.sh [--runs 5] [--image-mib 64] [--size-gib 1]
#   MONOSTACK__VOLUME__BACKUP_COMPRESSION_ALGORITHM=none benches/volume.sh   # chunks stored as they are
#
# Uses the cloud answering on 127.0.0.1:5000 if there is one (its openrc is read from
# <state>/openrc); else builds monostack and starts an all-in-one in a temporary state
# directory (file backend, backup service), and stops it afterwards. Needs the cloud on this
# machine: the volume's data is written into its file under the state directory.
# Measures: (a) create-to-available of a blank 1 GiB volume, POST /volumes then GET every
# 20 ms, median of --runs; (b) the same from a raw image of --image-mib MiB of random data
# (imageRef: download, qemu-img convert); (c) dd write (conv=fdatasync) and cold-cache dd
# read of --size-gib GiB of random data on the state directory's disk; (d) a full backup of
# a volume holding that data (POST /backups until available: read, zlib, sha256, write);
# (e) its restore into an existing volume (POST /backups/{id}/restore until the volume is
# available, then fsync of the volume file). The restored volume's sha256 must equal the
# data's, else the run fails. See benches/README.md.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tools/lib/common.sh"
# shellcheck source=benches/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=5
image_mib=64
size_gib=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=${2:?}; shift ;;
        --image-mib) image_mib=${2:?}; shift ;;
        --size-gib) size_gib=${2:?}; shift ;;
        -h | --help)
            print_header_help
            exit 0
            ;;
        *) die "unknown option: $1 (see --help)" ;;
    esac
    shift
done
for n in "$runs" "$image_mib" "$size_gib"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "counts and sizes are positive numbers, not '$n'"
done
BYTES=$((size_gib * 1073741824))

TMP=$(mktemp -d)
DATA_DIR=
DD_FILE=
CREATED_VOLUMES=()
CREATED_BACKUPS=()
IMAGE_ID=
cleanup() {
    local id
    for id in "${CREATED_BACKUPS[@]}"; do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$VOLUME_URL/backups/$id" || true
    done
    sleep 1
    for id in "${CREATED_VOLUMES[@]}"; do
        curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOKEN" "$VOLUME_URL/volumes/$id" || true
    done
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

# --- the cloud, an admin token, the endpoints from its catalog ---------------------------
bench_cloud
state=$STATE
[ -d "$state" ] || die "no state directory $state"
bench_admin_token
endpoint() { # endpoint TYPE: the public URL of TYPE in the token's catalog
    jq -r --arg t "$1" '.token.catalog[] | select(.type == $t) | .endpoints[] | select(.interface == "public") | .url' \
        "$TMP/token.json" | head -n1
}
PROJECT_ID=$(jq -r .token.project.id "$TMP/token.json")
VOLUME_URL=$(endpoint block-storage)
[ -n "$VOLUME_URL" ] || VOLUME_URL=$(endpoint volumev3)
[ -n "$VOLUME_URL" ] || die "no public block-storage endpoint in the catalog"
VOLUME_URL="${VOLUME_URL%/}"
VOLUME_URL="${VOLUME_URL//\$(project_id)s/$PROJECT_ID}"
VOLUME_URL="${VOLUME_URL//%(project_id)s/$PROJECT_ID}"
case "$VOLUME_URL" in */"$PROJECT_ID") ;; *) VOLUME_URL="$VOLUME_URL/$PROJECT_ID" ;; esac
IMAGE_URL=$(endpoint image)
IMAGE_URL=${IMAGE_URL%/}
[ -n "$IMAGE_URL" ] || die "no public image endpoint in the catalog"
say "block storage endpoint $VOLUME_URL, image endpoint $IMAGE_URL"

# --- helpers ----------------------------------------------------------------------------
ms() { awk -v ns="$1" 'BEGIN {printf "%.0f\n", ns / 1e6}'; } # NS
median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# api METHOD PATH [BODY]: a JSON call to the block storage API at 3.47; the body goes to
# $TMP/out.json, the status is printed.
api() {
    curl -s -o "$TMP/out.json" -w '%{http_code}' -X "$1" -H "X-Auth-Token: $TOKEN" \
        -H 'Content-Type: application/json' -H 'OpenStack-API-Version: volume 3.47' \
        ${3:+-d "$3"} "$VOLUME_URL$2"
}
# wait_status KIND ID STATUS [TIMEOUT-S]: polls GET /KINDs/ID every 20 ms until STATUS; dies on
# an error status or after the timeout.
wait_status() {
    local kind=$1 id=$2 want=$3 limit=$((${4:-600} * 50)) s
    for _ in $(seq 1 "$limit"); do
        s=$(curl -s -H "X-Auth-Token: $TOKEN" -H 'OpenStack-API-Version: volume 3.47' "$VOLUME_URL/${kind}s/$id" |
            jq -r ".$kind.status")
        [ "$s" = "$want" ] && return 0
        case "$s" in error*) die "$kind $id went $s" ;; esac
        sleep 0.02
    done
    die "$kind $id did not become $want (last: $s)"
}
# create_volume BODY: POST /volumes; prints the id (remembered for the cleanup)
create_volume() {
    local code
    code=$(api POST /volumes "$1")
    [ "$code" = 202 ] || die "POST /volumes returned $code: $(cat "$TMP/out.json")"
    jq -r .volume.id "$TMP/out.json"
}
delete_volume() { api DELETE "/volumes/$1" >/dev/null || true; }
volume_file() { find "$state" -type f -name "volume-$1" 2>/dev/null | head -n1; }
# latency_once BODY: ms from POST /volumes to available
latency_once() {
    local t0 id took
    t0=$(now_ns)
    id=$(create_volume "$1")
    wait_status volume "$id" available 600
    took=$(($(now_ns) - t0))
    delete_volume "$id"
    ms "$took"
}

code=$(api GET /volumes)
[ "$code" = 200 ] || die "GET /volumes returned $code: is the block storage service running?"

# --- (a) blank volumes ------------------------------------------------------------------
say "create to available, blank 1 GiB volume (median of $runs)"
: >"$TMP/blank"
for _ in $(seq 1 "$runs"); do latency_once '{"volume": {"size": 1, "name": "bench-blank"}}' >>"$TMP/blank"; done
blank=$(median <"$TMP/blank")
note "$blank ms (runs: $(tr '\n' ' ' <"$TMP/blank"))"

# --- the data: random, made once, kept in RAM -------------------------------------------
shm_avail_kib=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}' || true)
if [ -w /dev/shm ] && [ "${shm_avail_kib:-0}" -gt $((size_gib * 1048576 + 262144)) ]; then
    DATA_DIR=$(mktemp -d /dev/shm/monostack-bench.XXXXXX)
else
    warn "no room in /dev/shm: the data goes to ${TMPDIR:-/tmp}, and reading it may cost disk I/O"
    DATA_DIR=$(mktemp -d)
fi
DATA="$DATA_DIR/data"
say "making $size_gib GiB of random data in $DATA"
head -c "$BYTES" /dev/urandom >"$DATA"
DATA_SHA=$(sha256sum "$DATA" | cut -d' ' -f1)

# --- (b) volumes from an image ----------------------------------------------------------
head -c $((image_mib * 1048576)) "$DATA" >"$DATA_DIR/image"
code=$(curl -s -o "$TMP/image.json" -w '%{http_code}' -X POST -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\": \"monostack-bench-$$\", \"disk_format\": \"raw\", \"container_format\": \"bare\"}" "$IMAGE_URL/v2/images")
[ "$code" = 201 ] || die "POST /v2/images returned $code: $(cat "$TMP/image.json")"
IMAGE_ID=$(jq -r .id "$TMP/image.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' -T "$DATA_DIR/image" "$IMAGE_URL/v2/images/$IMAGE_ID/file")
[ "$code" = 204 ] || die "PUT /v2/images/{id}/file returned $code"
rm -f "$DATA_DIR/image"
say "create to available, 1 GiB volume from a $image_mib MiB raw image (median of $runs)"
: >"$TMP/image"
for _ in $(seq 1 "$runs"); do
    latency_once "{\"volume\": {\"size\": 1, \"name\": \"bench-image\", \"imageRef\": \"$IMAGE_ID\"}}" >>"$TMP/image"
done
from_image=$(median <"$TMP/image")
note "$from_image ms (runs: $(tr '\n' ' ' <"$TMP/image"))"

# --- (c) the disk under the state directory ---------------------------------------------
DD_FILE="$state/monostack-bench-dd.tmp"
say "dd write: $size_gib GiB to $DD_FILE (bs=4M, conv=fdatasync)"
t0=$(now_ns)
dd if="$DATA" of="$DD_FILE" bs=4M conv=fdatasync status=none
dd_write=$(mb_per_s "$BYTES" $(($(now_ns) - t0)))
note "$dd_write MB/s"
say "dd read: $DD_FILE to /dev/null (bs=4M, cold page cache)"
evict "$DD_FILE"
t0=$(now_ns)
dd if="$DD_FILE" of=/dev/null bs=4M status=none
dd_read=$(mb_per_s "$BYTES" $(($(now_ns) - t0)))
note "$dd_read MB/s"
rm -f "$DD_FILE"
DD_FILE=

# --- (d) backup -------------------------------------------------------------------------
src=$(create_volume "{\"volume\": {\"size\": $size_gib, \"name\": \"bench-backup-source\"}}")
CREATED_VOLUMES+=("$src")
wait_status volume "$src" available 600
src_file=$(volume_file "$src")
[ -n "$src_file" ] || die "the file of volume $src is not under $state (a file backend on this machine is needed)"
dd if="$DATA" of="$src_file" bs=4M conv=notrunc,fdatasync status=none
evict "$src_file"
say "backup: POST /backups of volume $src ($size_gib GiB of random data, cold page cache)"
t0=$(now_ns)
code=$(api POST /backups "{\"backup\": {\"volume_id\": \"$src\", \"name\": \"bench-backup\"}}")
[ "$code" = 202 ] || die "POST /backups returned $code: $(cat "$TMP/out.json")"
backup_id=$(jq -r .backup.id "$TMP/out.json")
CREATED_BACKUPS+=("$backup_id")
wait_status backup "$backup_id" available 3600
t_backup=$(($(now_ns) - t0))
backup=$(mb_per_s "$BYTES" "$t_backup")
stored=$(du -sb "$(find "$state" -type d -name "$backup_id" | head -n1)" 2>/dev/null | cut -f1 || echo 0)
note "$backup MB/s ($(awk -v n="$t_backup" 'BEGIN {printf "%.1f", n / 1e9}') s; $((stored / 1048576)) MiB stored)"

# --- (e) restore ------------------------------------------------------------------------
dst=$(create_volume "{\"volume\": {\"size\": $size_gib, \"name\": \"bench-restore-target\"}}")
CREATED_VOLUMES+=("$dst")
wait_status volume "$dst" available 600
dst_file=$(volume_file "$dst")
say "restore: POST /backups/$backup_id/restore into volume $dst, then fsync of its file"
t0=$(now_ns)
code=$(api POST "/backups/$backup_id/restore" "{\"restore\": {\"volume_id\": \"$dst\"}}")
[ "$code" = 202 ] || die "restore returned $code: $(cat "$TMP/out.json")"
wait_status volume "$dst" available 3600
sync "$dst_file"
t_restore=$(($(now_ns) - t0))
restore=$(mb_per_s "$BYTES" "$t_restore")
note "$restore MB/s ($(awk -v n="$t_restore" 'BEGIN {printf "%.1f", n / 1e9}') s)"
got=$(sha256sum "$dst_file" | cut -d' ' -f1)
[ "$got" = "$DATA_SHA" ] || die "the restored volume differs from the data (sha256 $got, not $DATA_SHA)"
note "the restored volume's sha256 equals the data's"

# --- report -----------------------------------------------------------------------------
echo
echo "monostack volume benchmark: state directory $state ($(df -P "$state" | awk 'NR == 2 {print $1}')), $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| measure | median ms | runs |"
echo "| --- | ---: | ---: |"
echo "| create to available, blank 1 GiB | $blank | $runs |"
echo "| create to available, from a $image_mib MiB raw image | $from_image | $runs |"
echo
echo "backup compression: ${MONOSTACK__VOLUME__BACKUP_COMPRESSION_ALGORITHM:-as the cloud is configured (zlib by default)}"
echo
echo "| measure ($size_gib GiB of random data) | MB/s | of dd |"
echo "| --- | ---: | ---: |"
echo "| dd write, conv=fdatasync | $dd_write | |"
echo "| dd read, cold page cache | $dd_read | |"
echo "| backup (full, posix driver) | $backup | $(percent "$backup" "$dd_read")% of dd read |"
echo "| restore into an existing volume + fsync | $restore | $(percent "$restore" "$dd_write")% of dd write |"
