#!/usr/bin/env bash
# Drives the block storage API of a running cloud through the openstack CLI, the way a user
# and an operator would, and checks what every command printed (not only its exit status).
#
#   tests/cli/volume.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. The admin of clouds.yaml makes a volume type for the
# first backend the cloud reports, volumes (blank, from a snapshot, from a volume), extends,
# snapshots and deletes them, backs them up and restores them (openstack volume backup … and
# the cinder client's backup-create --force/--incremental and backup-restore), attaches one to
# a server through the attachments API (3.27+), makes volumes from images and from backups
# (3.47) and images from volumes (image create --volume), and reads services, zones, pools,
# quotas and limits. Every
# name made here carries a per-run suffix; everything made is deleted again, by the test or
# on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wait_status KIND NAME STATUS: polls `openstack volume [snapshot] show` until STATUS (30 s).
wait_status() {
    local kind=$1 name=$2 want=$3 got=""
    for _ in $(seq 1 120); do
        if [ "$kind" = snapshot ]; then
            got=$("$OSC" volume snapshot show "$name" -f value -c status 2>/dev/null || true)
        else
            got=$("$OSC" volume show "$name" -f value -c status 2>/dev/null || true)
        fi
        [ "$got" = "$want" ] && return 0
        sleep 0.25
    done
    fail "$kind $name: expected status $want, still '$got'"
}

# wait_gone KIND NAME: polls until the volume or snapshot no longer exists (30 s).
wait_gone() {
    local kind=$1 name=$2
    for _ in $(seq 1 120); do
        if [ "$kind" = snapshot ]; then
            "$OSC" volume snapshot show "$name" >/dev/null 2>&1 || return 0
        else
            "$OSC" volume show "$name" >/dev/null 2>&1 || return 0
        fi
        sleep 0.25
    done
    fail "$kind $name was not deleted"
}

# wait_backup NAME STATUS: polls `openstack volume backup show` until STATUS (60 s).
wait_backup() {
    local name=$1 want=$2 got=""
    for _ in $(seq 1 240); do
        got=$("$OSC" volume backup show "$name" -f value -c status 2>/dev/null || true)
        [ "$got" = "$want" ] && return 0
        sleep 0.25
    done
    fail "backup $name: expected status $want, still '$got'"
}

# wait_backup_gone NAME: polls until the backup no longer exists (60 s).
wait_backup_gone() {
    for _ in $(seq 1 240); do
        "$OSC" volume backup show "$1" >/dev/null 2>&1 || return 0
        sleep 0.25
    done
    fail "backup $1 was not deleted"
}

# The cinder client reads no clouds.yaml: it gets the admin's credentials through OS_*
# variables in its own environment only.
CINDER="$OPENSTACK_VENV/bin/cinder"
[ -x "$CINDER" ] || die "no $CINDER: run tools/install-deps first"
eval "$("$OPENSTACK_VENV/bin/python" - "$CLOUDS" "$CLOUD" <<'PY'
import shlex, sys, yaml
clouds = yaml.safe_load(open(sys.argv[1]))["clouds"]
cloud = clouds.get(sys.argv[2]) or next(iter(clouds.values()))
auth = cloud["auth"]
env = {
    "OS_AUTH_URL": auth["auth_url"], "OS_USERNAME": auth["username"], "OS_PASSWORD": auth["password"],
    "OS_PROJECT_NAME": auth.get("project_name", ""), "OS_USER_DOMAIN_NAME": auth.get("user_domain_name", "Default"),
    "OS_PROJECT_DOMAIN_NAME": auth.get("project_domain_name", "Default"), "OS_REGION_NAME": cloud.get("region_name", "RegionOne"),
}
print("CINDER_ENV=(" + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) + ")")
PY
)"
# cinder ARGS...: the cinder client as the admin; prints its stdout, a failure ends the test.
cinder() { run_osc env "${CINDER_ENV[@]}" "$CINDER" "$@"; }
# field NAME TABLE: the value of row NAME in the cinder client's Property | Value table.
field() { awk -F'|' -v k="$1" '{gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3)} $2 == k {print $3; exit}' <<<"$2"; }

cli_test_begin volume

# --- the service ------------------------------------------------------------------------
step "the volumev3 and block-storage endpoints serve Cinder's version document"
tok=$(osc token issue -f json)
ADMIN_TOKEN=$(j .id "$tok")
catalog=$(curl -sS -f -H "X-Auth-Token: $ADMIN_TOKEN" "$AUTH_URL/auth/catalog") || fail "GET /v3/auth/catalog failed"
for type in volumev3 block-storage; do
    url=$(j ".catalog[] | select(.type == \"$type\") | .endpoints[] | select(.interface == \"public\") | .url" "$catalog" | head -n1)
    nonempty "public $type endpoint" "$url"
done
VOLUME_URL=${url%/v3}
doc=$(curl -sS "$VOLUME_URL/") || fail "GET / failed"
eq "version" "$(j '.versions[0].version' "$doc")" 3.70
eq "min_version" "$(j '.versions[0].min_version' "$doc")" 3.0

step "volume service list: the scheduler and a volume service per backend, up"
out=$(osc volume service list -f json)
eq "scheduler state" "$(j '[.[] | select(.Binary == "cinder-scheduler")][0].State' "$out")" up
BACKEND=$(j '[.[] | select(.Binary == "cinder-volume")][0].Host' "$out")
nonempty "a cinder-volume host" "$BACKEND"
eq "volume service state" "$(j "[.[] | select(.Host == \"$BACKEND\")][0].State" "$out")" up
BACKEND_NAME=${BACKEND#*@}

step "availability zone list --volume and backend pools"
out=$(osc availability zone list --volume -f json)
eq "zone" "$(j '.[0]["Zone Name"]' "$out")" nova
out=$(osc volume backend pool list -f json)
contains "pools" "$out" "$BACKEND#"

# --- types --------------------------------------------------------------------------------
step "volume type create with volume_backend_name, show, list"
out=$(osc volume type create --property "volume_backend_name=$BACKEND_NAME" --description "cli $S" "ms-$S" -f json)
defer "$OSC" volume type delete "ms-$S"
eq "type name" "$(j .name "$out")" "ms-$S"
contains "type properties" "$(j .properties "$out")" "$BACKEND_NAME"
out=$(osc volume type list -f value -c Name)
contains "type list" "$out" "ms-$S"
contains "type list" "$out" "__DEFAULT__"

# --- volumes ------------------------------------------------------------------------------
step "volume create (blank) becomes available on the chosen backend"
out=$(osc volume create --size 1 --type "ms-$S" --property tier=gold "ms-$S-a" -f json)
defer "$OSC" volume delete --purge "ms-$S-a"
eq "size" "$(j .size "$out")" 1
wait_status volume "ms-$S-a" available
out=$(osc volume show "ms-$S-a" -f json)
eq "type" "$(j .type "$out")" "ms-$S"
contains "host" "$(j '.["os-vol-host-attr:host"]' "$out")" "$BACKEND#"
eq "properties" "$(j .properties.tier "$out")" gold
eq "bootable" "$(j .bootable "$out")" false

step "volume set: name, property, bootable; volume list --long"
osc volume set --name "ms-$S-b" --property color=blue --bootable "ms-$S-a" >/dev/null
out=$(osc volume show "ms-$S-b" -f json)
eq "renamed" "$(j .name "$out")" "ms-$S-b"
eq "bootable" "$(j .bootable "$out")" true
eq "color" "$(j .properties.color "$out")" blue
out=$(osc volume list --long -f json)
eq "listed" "$(j "[.[] | select(.Name == \"ms-$S-b\")][0].Status" "$out")" available

step "volume set --size extends; a smaller size is refused"
osc volume set --size 2 "ms-$S-b" >/dev/null
wait_status volume "ms-$S-b" available
eq "extended" "$("$OSC" volume show "ms-$S-b" -f value -c size)" 2
VOL_ID=$("$OSC" volume show "ms-$S-b" -f value -c id)
out=$(curl -sS -X POST -H "X-Auth-Token: $ADMIN_TOKEN" -H "Content-Type: application/json" \
    -d '{"os-extend": {"new_size": 1}}' "$VOLUME_URL/v3/volumes/$VOL_ID/action")
eq "shrink refused" "$(j .badRequest.code "$out")" 400
contains "shrink message" "$(j .badRequest.message "$out")" "New size for extend must be greater than current size"

step "volume snapshot create, set, list; a volume from it; a volume from a volume"
out=$(osc volume snapshot create --volume "ms-$S-b" "ms-$S-snap" -f json)
defer "$OSC" volume snapshot delete "ms-$S-snap"
eq "snapshot size" "$(j .size "$out")" 2
wait_status snapshot "ms-$S-snap" available
osc volume snapshot set --property k=v "ms-$S-snap" >/dev/null
eq "snapshot property" "$("$OSC" volume snapshot show "ms-$S-snap" -f json | jq -r .properties.k)" v
contains "snapshot list" "$(osc volume snapshot list -f value -c Name)" "ms-$S-snap"
osc volume create --snapshot "ms-$S-snap" "ms-$S-c" >/dev/null
defer "$OSC" volume delete "ms-$S-c"
wait_status volume "ms-$S-c" available
eq "from snapshot: size" "$("$OSC" volume show "ms-$S-c" -f value -c size)" 2
osc volume create --source "ms-$S-b" --size 3 "ms-$S-d" >/dev/null
defer "$OSC" volume delete "ms-$S-d"
wait_status volume "ms-$S-d" available
eq "from volume: size" "$("$OSC" volume show "ms-$S-d" -f value -c size)" 3

step "a volume with a snapshot cannot be deleted; with --purge it goes with its snapshots"
out=$(must_fail "delete with snapshot" "$OSC" volume delete "ms-$S-b")
contains "refused" "$out" "have snapshots"
osc volume delete --purge "ms-$S-b" >/dev/null
wait_gone volume "ms-$S-b"
wait_gone snapshot "ms-$S-snap"

step "admin: volume set --state, then delete --force"
osc volume set --state error "ms-$S-c" >/dev/null
eq "reset" "$("$OSC" volume show "ms-$S-c" -f value -c status)" error
osc volume delete --force "ms-$S-c" >/dev/null
wait_gone volume "ms-$S-c"
osc volume delete "ms-$S-d" >/dev/null
wait_gone volume "ms-$S-d"

# --- backups ------------------------------------------------------------------------------
step "volume backup create (full), show, list: files in the backup service, the volume available again"
osc volume create --size 1 --type "ms-$S" "ms-$S-src" >/dev/null
defer "$OSC" volume delete --force "ms-$S-src"
wait_status volume "ms-$S-src" available
SRC_ID=$("$OSC" volume show "ms-$S-src" -f value -c id)
out=$(osc volume backup create --name "ms-$S-full" --description "cli full" "ms-$S-src" -f json)
FULL_ID=$(j .id "$out")
defer "$OSC" volume backup delete --force "$FULL_ID"
wait_backup "ms-$S-full" available
out=$(osc volume backup show "ms-$S-full" -f json)
eq "volume" "$(j .volume_id "$out")" "$SRC_ID"
eq "size" "$(j .size "$out")" 1
eq "incremental" "$(j .is_incremental "$out")" false
eq "objects" "$(j .object_count "$out")" 1
eq "description" "$(j .description "$out")" "cli full"
contains "backup list" "$(osc volume backup list -f value -c Name)" "ms-$S-full"
out=$(osc volume backup list --long -f json)
eq "listed status" "$(j "[.[] | select(.Name == \"ms-$S-full\")][0].Status" "$out")" available
wait_status volume "ms-$S-src" available

step "cinder backup-create: refused for an in-use volume without --force, done with it; --incremental"
osc volume set --state in-use "ms-$S-src" >/dev/null
out=$(must_fail "backup of an in-use volume without --force" env "${CINDER_ENV[@]}" "$CINDER" backup-create --name "ms-$S-x" "$SRC_ID")
contains "refused" "$out" "Backing up an in-use volume must use the force flag"
out=$(cinder backup-create --force --name "ms-$S-forced" "$SRC_ID")
FORCED_ID=$(field id "$out")
nonempty "forced backup id" "$FORCED_ID"
defer "$OSC" volume backup delete --force "$FORCED_ID"
wait_backup "$FORCED_ID" available
wait_status volume "ms-$S-src" in-use
osc volume set --state available "ms-$S-src" >/dev/null
out=$(cinder backup-create --incremental --name "ms-$S-incr" "$SRC_ID")
INCR_ID=$(field id "$out")
defer "$OSC" volume backup delete --force "$INCR_ID"
wait_backup "$INCR_ID" available
out=$(cinder backup-show "$INCR_ID")
eq "incremental" "$(field is_incremental "$out")" True
contains "cinder backup-list" "$(cinder backup-list)" "ms-$S-incr"

step "volume backup restore: to a new volume, and with --force over an existing one"
out=$(osc volume backup restore "ms-$S-incr" "ms-$S-restored" -f json)
eq "restored to" "$("$OSC" volume show "$(j .volume_id "$out")" -f value -c name)" "ms-$S-restored"
defer "$OSC" volume delete --force "ms-$S-restored"
wait_status volume "ms-$S-restored" available
out=$(must_fail "restore over an existing volume without --force" "$OSC" volume backup restore "ms-$S-full" "ms-$S-restored")
contains "refused" "$out" "already exists"
osc volume backup restore --force "ms-$S-full" "ms-$S-restored" >/dev/null
wait_status volume "ms-$S-restored" available
wait_backup "ms-$S-full" available

step "cinder backup-restore: a new volume restore_backup_<id>"
out=$(cinder backup-restore "$FORCED_ID")
eq "backup id" "$(field backup_id "$out")" "$FORCED_ID"
NEW_ID=$(field volume_id "$out")
eq "volume name" "$(field volume_name "$out")" "restore_backup_$FORCED_ID"
defer "$OSC" volume delete --force "$NEW_ID"
wait_status volume "$NEW_ID" available
osc volume delete "$NEW_ID" >/dev/null
wait_gone volume "$NEW_ID"

step "a backup with incrementals is not deleted; deleting the chain from its end"
# The incremental's parent is the newest backup of the volume: the forced one.
eq "parent has dependents" "$(field has_dependent_backups "$(cinder backup-show "$FORCED_ID")")" True
out=$(must_fail "delete of a backup with incrementals" "$OSC" volume backup delete "$FORCED_ID")
contains "refused" "$out" "Incremental backups exist for this backup"
osc volume backup delete "$INCR_ID" >/dev/null
wait_backup_gone "$INCR_ID"
osc volume backup delete "$FORCED_ID" "$FULL_ID" >/dev/null
wait_backup_gone "$FORCED_ID"
wait_backup_gone "$FULL_ID"
lacks "backup list" "$(osc volume backup list -f value -c ID)" "$FULL_ID"

# --- attachments ----------------------------------------------------------------------------
step "a server to attach to (fake driver: a tiny image, a flavor, no network)"
head -c 65536 /dev/zero >"$TMP/disk.raw"
osc image create --file "$TMP/disk.raw" --disk-format raw --container-format bare "ms-$S-img" >/dev/null
defer "$OSC" image delete "ms-$S-img"
osc flavor create --ram 128 --disk 1 --vcpus 1 "ms-$S-flv" >/dev/null
defer "$OSC" flavor delete "ms-$S-flv"
out=$(osc server create --flavor "ms-$S-flv" --image "ms-$S-img" --nic none --wait "ms-$S-vm" -f json)
SERVER_ID=$(j .id "$out")
defer "$OSC" server delete --wait "$SERVER_ID"
eq "server" "$(j .status "$out")" ACTIVE

step "volume attachment create (3.27) reserves the volume; set connects it; complete (3.44) puts it in use"
A="$OSC --os-volume-api-version 3.44"
out=$(must_fail "attachments before 3.27" "$OSC" --os-volume-api-version 3.26 volume attachment list)
contains "refused" "$out" "3.27"
out=$(osc --os-volume-api-version 3.27 volume attachment create "ms-$S-restored" "$SERVER_ID" -f json)
ATT_ID=$(j .ID "$out")
eq "attachment status" "$(j .Status "$out")" reserved
eq "instance" "$(j '.["Instance ID"]' "$out")" "$SERVER_ID"
eq "volume reserved" "$("$OSC" volume show "ms-$S-restored" -f value -c status)" reserved
out=$(run_osc $A volume attachment set --initiator iqn.2026-01.org.example:c1 --host compute1 --mountpoint /dev/vdb "$ATT_ID" -f json)
eq "attachment status" "$(j .Status "$out")" attaching
contains "connection info" "$(j .Properties "$out")" "attachment_id"
run_osc $A volume attachment complete "$ATT_ID" >/dev/null
eq "volume in use" "$("$OSC" volume show "ms-$S-restored" -f value -c status)" in-use
out=$(osc volume show "ms-$S-restored" -f json)
eq "attached server" "$(j '.attachments[0].server_id' "$out")" "$SERVER_ID"
eq "attached device" "$(j '.attachments[0].device' "$out")" /dev/vdb

step "volume attachment list/show; an attached volume is not deleted"
out=$(run_osc $A volume attachment list -f json)
eq "listed status" "$(j "[.[] | select(.ID == \"$ATT_ID\")][0].Status" "$out")" attached
out=$(run_osc $A volume attachment show "$ATT_ID" -f json)
eq "shown status" "$(j .Status "$out")" attached
eq "shown server" "$(j '.["Instance ID"]' "$out")" "$SERVER_ID"
out=$(must_fail "delete of an attached volume" "$OSC" volume delete "ms-$S-restored")
contains "refused" "$out" "attached"

step "volume attachment delete: the volume is available again"
run_osc $A volume attachment delete "$ATT_ID" >/dev/null
eq "volume available" "$("$OSC" volume show "ms-$S-restored" -f value -c status)" available
lacks "attachments" "$(run_osc $A volume attachment list -f value -c ID)" "$ATT_ID"
osc volume delete "ms-$S-restored" "ms-$S-src" >/dev/null
wait_gone volume "ms-$S-restored"
wait_gone volume "ms-$S-src"
osc server delete --wait "$SERVER_ID" >/dev/null

# --- images -------------------------------------------------------------------------------
step "volume create --image: available, bootable, with the image's volume_image_metadata; min_disk refused"
head -c 1048576 /dev/urandom >"$TMP/boot.raw"
osc image create --file "$TMP/boot.raw" --disk-format raw --container-format bare --min-disk 1 \
    --property os_distro=cirros "ms-$S-boot" >/dev/null
defer "$OSC" image delete "ms-$S-boot"
IMG_ID=$("$OSC" image show "ms-$S-boot" -f value -c id)
osc volume create --size 1 --image "ms-$S-boot" "ms-$S-fromimg" >/dev/null
defer "$OSC" volume delete --force "ms-$S-fromimg"
wait_status volume "ms-$S-fromimg" available
out=$(osc volume show "ms-$S-fromimg" -f json)
eq "bootable" "$(j .bootable "$out")" true
eq "image id" "$(j .volume_image_metadata.image_id "$out")" "$IMG_ID"
eq "image name" "$(j .volume_image_metadata.image_name "$out")" "ms-$S-boot"
eq "image disk format" "$(j .volume_image_metadata.disk_format "$out")" raw
eq "image property" "$(j .volume_image_metadata.os_distro "$out")" cirros
eq "image size" "$(j .volume_image_metadata.size "$out")" 1048576
osc image create --file "$TMP/boot.raw" --disk-format raw --container-format bare --min-disk 2 "ms-$S-big" >/dev/null
defer "$OSC" image delete "ms-$S-big"
out=$(must_fail "a volume smaller than the image's min_disk" "$OSC" volume create --size 1 --image "ms-$S-big" "ms-$S-x")
contains "refused" "$out" "minDisk"

step "image create --volume (os-volume_upload_image): the image gets the volume's bytes, the volume is available again"
osc image create --volume "ms-$S-fromimg" --disk-format qcow2 --container-format bare "ms-$S-upload" >/dev/null
defer "$OSC" image delete "ms-$S-upload"
got=""
for _ in $(seq 1 240); do
    got=$("$OSC" image show "ms-$S-upload" -f value -c status 2>/dev/null || true)
    [ "$got" = active ] && break
    sleep 0.25
done
eq "uploaded image status" "$got" active
wait_status volume "ms-$S-fromimg" available
out=$(osc image show "ms-$S-upload" -f json)
eq "uploaded disk format" "$(j .disk_format "$out")" qcow2
osc image save --file "$TMP/upload.qcow2" "ms-$S-upload" >/dev/null
qemu-img convert -f qcow2 -O raw "$TMP/upload.qcow2" "$TMP/upload.raw" || fail "the uploaded image is not a qcow2 image"
eq "uploaded virtual size" "$(stat -c %s "$TMP/upload.raw")" 1073741824
cmp -s -n 1048576 "$TMP/boot.raw" "$TMP/upload.raw" || fail "the uploaded image does not start with the image's bytes"

step "volume create --backup (3.47): the backup's bytes in a new volume"
osc volume backup create --name "ms-$S-imgbackup" "ms-$S-fromimg" >/dev/null
BK_ID=$("$OSC" volume backup show "ms-$S-imgbackup" -f value -c id)
defer "$OSC" volume backup delete --force "$BK_ID"
wait_backup "ms-$S-imgbackup" available
out=$(osc --os-volume-api-version 3.47 volume create --backup "ms-$S-imgbackup" "ms-$S-frombackup" -f json)
defer "$OSC" volume delete --force "ms-$S-frombackup"
eq "size from the backup" "$(j .size "$out")" 1
wait_status volume "ms-$S-frombackup" available
wait_backup "ms-$S-imgbackup" available
osc image create --volume "ms-$S-frombackup" --disk-format raw "ms-$S-upload2" >/dev/null
defer "$OSC" image delete "ms-$S-upload2"
for _ in $(seq 1 240); do
    got=$("$OSC" image show "ms-$S-upload2" -f value -c status 2>/dev/null || true)
    [ "$got" = active ] && break
    sleep 0.25
done
eq "second upload status" "$got" active
osc image save --file "$TMP/upload2.raw" "ms-$S-upload2" >/dev/null
cmp -s "$TMP/upload.raw" "$TMP/upload2.raw" || fail "the volume made from the backup differs from its source"
osc volume backup delete "$BK_ID" >/dev/null
wait_backup_gone "$BK_ID"
osc volume delete "ms-$S-frombackup" "ms-$S-fromimg" >/dev/null
wait_gone volume "ms-$S-frombackup"
wait_gone volume "ms-$S-fromimg"
osc image delete "ms-$S-upload" "ms-$S-upload2" "ms-$S-big" "ms-$S-boot" >/dev/null

# --- quotas and limits ----------------------------------------------------------------------
step "quota show --volume, quota set --volumes, limits show --absolute"
PROJECT=$(j .project_id "$tok")
out=$(osc quota show --volume "$PROJECT" -f json)
eq "volumes quota" "$(j '.[] | select(.Resource == "volumes") | .Limit' "$out")" 10
osc quota set --volumes 12 "$PROJECT" >/dev/null
defer "$OSC" quota set --volumes 10 "$PROJECT"
out=$(osc quota show --volume "$PROJECT" -f json)
eq "volumes quota set" "$(j '.[] | select(.Resource == "volumes") | .Limit' "$out")" 12
out=$(osc limits show --absolute -f json)
eq "max_total_volumes" "$(j '.[] | select(.Name == "max_total_volumes") | .Value' "$out")" 12

step "clean up: the quota back, the volume type deleted"
osc quota set --volumes 10 "$PROJECT" >/dev/null
osc volume type delete "ms-$S" >/dev/null
lacks "type list" "$(osc volume type list -f value -c Name)" "ms-$S"
CLEANUP=()
