#!/usr/bin/env bash
# Servers with volumes through the openstack CLI, the way a user would: compute reserves the
# volume in the block storage service, the compute agent connects it to the server's host and
# the (fake) driver attaches it; the volume reads in-use, then available again once detached;
# servers boot from a volume and from an image copied into a new volume. Checks what every
# command printed (not only its exit status).
#
#   tests/cli/server-volume.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. The admin of clouds.yaml uploads a small raw image and
# makes two volumes; attaches one with `server add volume`, reads it in `server volume list`,
# `server show` and `volume show`, refuses it to a second server, detaches it with `server
# remove volume`; boots with `server create --volume` and `server create --boot-from-volume N
# --image X`, and deletes the servers, checking that the volumes are left available. Every name
# made here carries a per-run suffix, and everything made is deleted again: by the test itself,
# or on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}

cli_test_begin server-volume

# volume_status VOLUME: its status.
volume_status() { "$OSC" volume show "$1" -f value -c status 2>/dev/null || true; }
# wait_volume VOLUME STATUS: polls `volume show` until the volume has STATUS.
wait_volume() {
    local deadline=$((SECONDS + WAIT_TIMEOUT)) status
    while :; do
        status=$(volume_status "$1")
        [ "$status" = "$2" ] && { ok "volume $1 is $2"; return 0; }
        [ "$SECONDS" -lt "$deadline" ] || fail "volume $1 is still '$status' after ${WAIT_TIMEOUT}s; expected $2"
        sleep 0.3
    done
}
# attached_ids SERVER: the ids of `volumes_attached` in `server show`, sorted, comma-joined.
attached_ids() { osc server show "$1" -f json | jq -r '[.volumes_attached[]?.id] | sort | join(",")'; }

step "image create (raw), two volumes"
head -c 65536 /dev/urandom >"$TMP/disk.raw"
out=$(osc image create --file "$TMP/disk.raw" --disk-format raw --container-format bare "ms-$S-image" -f json)
IMAGE=$(j .id "$out")
defer "$OSC" image delete "$IMAGE"
out=$(osc volume create --size 1 "ms-$S-data" -f json)
DATA=$(j .id "$out")
defer "$OSC" volume delete "$DATA"
out=$(osc volume create --size 1 "ms-$S-root" -f json)
ROOT=$(j .id "$out")
defer "$OSC" volume delete "$ROOT"
wait_volume "$DATA" available
wait_volume "$ROOT" available

step "server create (image, no network), server add volume: reserved, connected, in-use"
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --nic none --wait "ms-$S-vm1" -f json)
VM1=$(j .id "$out")
defer "$OSC" server delete --wait "$VM1"
eq "status" "$(j .status "$out")" ACTIVE
osc server add volume "$VM1" "$DATA" >/dev/null
wait_volume "$DATA" in-use
out=$(osc volume show "$DATA" -f json)
eq "attached server" "$(j '.attachments[0].server_id' "$out")" "$VM1"
eq "attached device" "$(j '.attachments[0].device' "$out")" /dev/vdb
out=$(osc server volume list "$VM1" -f json)
eq "server volume list" "$(j '.[0]["Volume ID"]' "$out")" "$DATA"
eq "device" "$(j '.[0].Device' "$out")" /dev/vdb
eq "volumes_attached" "$(attached_ids "$VM1")" "$DATA"
eq "attach event" "$(osc server event list "$VM1" -f json | jq -r '[.[].Action] | index("attach_volume") != null')" true

step "a volume in use cannot go to a second server, nor be deleted"
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --nic none --wait "ms-$S-vm2" -f json)
VM2=$(j .id "$out")
defer "$OSC" server delete --wait "$VM2"
out=$(must_fail "attaching an in-use volume" "$OSC" server add volume "$VM2" "$DATA")
contains "refusal" "$out" "already attached"
must_fail "deleting an attached volume" "$OSC" volume delete "$DATA" >/dev/null
out=$(must_fail "a volume that does not exist" "$OSC" server add volume "$VM2" 00000000-0000-0000-0000-000000000000)
contains "refusal" "$out" "No Volume found"

step "server remove volume: detached, available, gone from the server"
osc server remove volume "$VM1" "$DATA" >/dev/null
wait_volume "$DATA" available
eq "volumes_attached" "$(attached_ids "$VM1")" ""
eq "server volume list" "$(osc server volume list "$VM1" -f json | jq length)" 0

step "server create --volume: a bootable volume only; it stays after the server is deleted"
out=$(must_fail "a volume that is not bootable" "$OSC" server create --flavor m1.tiny --volume "$ROOT" --nic none "ms-$S-nonboot")
contains "refusal" "$out" "is not bootable"
osc volume set --bootable "$ROOT" >/dev/null
out=$(osc server create --flavor m1.tiny --volume "$ROOT" --nic none --wait "ms-$S-bfv" -f json)
BFV=$(j .id "$out")
defer "$OSC" server delete --wait "$BFV"
eq "status" "$(j .status "$out")" ACTIVE
wait_volume "$ROOT" in-use
eq "volumes_attached" "$(attached_ids "$BFV")" "$ROOT"
eq "root device" "$(j '.attachments[0].device' "$(osc volume show "$ROOT" -f json)")" /dev/vda
out=$(must_fail "the root volume cannot be detached" "$OSC" server remove volume "$BFV" "$ROOT")
contains "refusal" "$out" "Cannot detach a root device volume"
osc server delete --wait "$BFV" >/dev/null
wait_volume "$ROOT" available

step "server create --boot-from-volume 1 --image: a new 1 GiB volume from the image"
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --boot-from-volume 1 --nic none --wait "ms-$S-bfi" -f json)
BFI=$(j .id "$out")
defer "$OSC" server delete --wait "$BFI"
eq "status" "$(j .status "$out")" ACTIVE
NEWVOL=$(attached_ids "$BFI")
nonempty "the new volume" "$NEWVOL"
defer "$OSC" volume delete "$NEWVOL"
out=$(osc volume show "$NEWVOL" -f json)
eq "size" "$(j .size "$out")" 1
eq "status" "$(j .status "$out")" in-use
eq "bootable" "$(j .bootable "$out")" true
osc server delete --wait "$BFI" >/dev/null
wait_volume "$NEWVOL" available

step "clean up: servers, volumes, image"
osc server delete --wait "$VM1" "$VM2" >/dev/null
osc volume delete "$DATA" "$ROOT" "$NEWVOL" >/dev/null
osc image delete "$IMAGE" >/dev/null
ok "all deleted"
