#!/usr/bin/env bash
# Drives the block storage API of a running cloud through the openstack CLI, the way a user
# and an operator would, and checks what every command printed (not only its exit status).
#
#   tests/cli/volume.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. The admin of clouds.yaml makes a volume type for the
# first backend the cloud reports, volumes (blank, from a snapshot, from a volume), extends,
# snapshots and deletes them, and reads services, zones, pools, quotas and limits. Every
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
