#!/usr/bin/env bash
# Servers on networks through the openstack CLI, the way a user would: compute asks the
# networking service for ports, binds them to the server's host, shows their addresses, and
# releases them; checks what every command printed (not only its exit status).
#
#   tests/cli/server-network.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. The admin of clouds.yaml uploads a small raw image, makes
# two networks with a subnet each and a security group, then boots servers with
# `server create --network`, `--port` (a port made beforehand) and `--nic net-id=…,v4-fixed-ip=…`
# with `--security-group`; reads their addresses in `server show` and their ports in
# `port list --server`; attaches and detaches with `server add/remove port`, `server add/remove
# network` and `server add fixed ip`; adds and removes a security group; and deletes the
# servers, checking that the ports compute created are gone and the port the user made is
# back, unbound. Every name made here carries a per-run suffix, and everything made is deleted
# again: by the test itself, or on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}
O2=$((RANDOM % 200 + 20))
NET_A_CIDR="10.$O2.10.0/24"
NET_B_CIDR="10.$O2.20.0/24"
FIXED_IP="10.$O2.10.77"
ADDED_IP="10.$O2.20.55"

cli_test_begin server-network

# addresses ID: the `addresses` of `server show -f json`, as JSON ({network: [ip, ...]}).
addresses() { osc server show "$1" -f json | jq -c '.addresses'; }
# port_field PORT FIELD: one field of `port show -f json`.
port_field() { j ".[\"$2\"]" "$(osc port show "$1" -f json)"; }
# wait_port_status PORT STATUS: polls `port show` until the port has STATUS.
wait_port_status() {
    local deadline=$((SECONDS + WAIT_TIMEOUT)) status
    while :; do
        status=$(port_field "$1" status)
        [ "$status" = "$2" ] && { ok "port $1 is $2"; return 0; }
        [ "$SECONDS" -lt "$deadline" ] || fail "port $1 is still $status after ${WAIT_TIMEOUT}s; expected $2"
        sleep 0.3
    done
}
# server_ports ID: the ids of the server's ports, sorted, comma-joined.
server_ports() { osc port list --server "$1" -f json | jq -r '[.[].ID] | sort | join(",")'; }

step "image create (raw), two networks with a subnet each, a security group"
head -c 4096 /dev/urandom >"$TMP/disk.raw"
out=$(osc image create --file "$TMP/disk.raw" --disk-format raw --container-format bare "ms-$S-image" -f json)
IMAGE=$(j .id "$out")
defer "$OSC" image delete "$IMAGE"
eq "image status" "$(j .status "$out")" active
out=$(osc network create "ms-$S-net-a" -f json)
NET_A=$(j .id "$out")
defer "$OSC" network delete "$NET_A"
out=$(osc subnet create --network "$NET_A" --subnet-range "$NET_A_CIDR" "ms-$S-subnet-a" -f json)
defer "$OSC" subnet delete "$(j .id "$out")"
eq "subnet a" "$(j .cidr "$out")" "$NET_A_CIDR"
out=$(osc network create "ms-$S-net-b" -f json)
NET_B=$(j .id "$out")
defer "$OSC" network delete "$NET_B"
out=$(osc subnet create --network "$NET_B" --subnet-range "$NET_B_CIDR" "ms-$S-subnet-b" -f json)
defer "$OSC" subnet delete "$(j .id "$out")"
out=$(osc security group create "ms-$S-web" -f json)
SG=$(j .id "$out")
defer "$OSC" security group delete "$SG"
nonempty "security group" "$SG"

step "server create --network: a port on the network, bound to the server's host, its address shown"
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --network "$NET_A" --wait "ms-$S-vm1" -f json)
VM1=$(j .id "$out")
defer "$OSC" server delete --wait "$VM1"
eq "status" "$(j .status "$out")" ACTIVE
addr=$(addresses "$VM1")
contains "addresses" "$addr" "ms-$S-net-a"
IP1=$(jq -r --arg n "ms-$S-net-a" '.[$n][0]' <<<"$addr")
contains "address in the subnet" "$IP1" "10.$O2.10."
ports=$(osc port list --server "$VM1" -f json)
eq "ports of the server" "$(jq length <<<"$ports")" 1
PORT1=$(j '.[0].ID' "$ports")
eq "device_owner" "$(port_field "$PORT1" device_owner)" "compute:nova"
eq "binding host" "$(port_field "$PORT1" binding_host_id)" "$(j '."OS-EXT-SRV-ATTR:host"' "$(osc server show "$VM1" -f json)")"
wait_port_status "$PORT1" ACTIVE

step "server create --port: the user's port, then --nic with a fixed IP and --security-group"
out=$(osc port create --network "$NET_B" "ms-$S-port" -f json)
UPORT=$(j .id "$out")
defer "$OSC" port delete "$UPORT"
UPORT_IP=$(j '.fixed_ips[0].ip_address' "$out")
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --port "$UPORT" --wait "ms-$S-vm2" -f json)
VM2=$(j .id "$out")
defer "$OSC" server delete --wait "$VM2"
contains "addresses of the port's server" "$(addresses "$VM2")" "$UPORT_IP"
eq "the port's device" "$(port_field "$UPORT" device_id)" "$VM2"
must_fail "a port in use cannot serve another server" "$OSC" server create --flavor m1.tiny --image "$IMAGE" --port "$UPORT" "ms-$S-vm-x" >/dev/null
out=$(osc server create --flavor m1.tiny --image "$IMAGE" --nic "net-id=$NET_A,v4-fixed-ip=$FIXED_IP" --security-group "ms-$S-web" --wait "ms-$S-vm3" -f json)
VM3=$(j .id "$out")
defer "$OSC" server delete --wait "$VM3"
contains "fixed IP" "$(addresses "$VM3")" "$FIXED_IP"
contains "security groups" "$(osc server show "$VM3" -f json | jq -c '.security_groups')" "ms-$S-web"
out=$(must_fail "the same fixed IP twice" "$OSC" server create --flavor m1.tiny --image "$IMAGE" --nic "net-id=$NET_A,v4-fixed-ip=$FIXED_IP" "ms-$S-vm-y")
contains "refusal" "$out" "already in use"

step "server add port / remove port"
out=$(osc port create --network "$NET_B" "ms-$S-extra" -f json)
EXTRA=$(j .id "$out")
defer "$OSC" port delete "$EXTRA"
EXTRA_IP=$(j '.fixed_ips[0].ip_address' "$out")
osc server add port "$VM1" "$EXTRA" >/dev/null
contains "addresses after add port" "$(addresses "$VM1")" "$EXTRA_IP"
contains "server ports" "$(server_ports "$VM1")" "$EXTRA"
wait_port_status "$EXTRA" ACTIVE
osc server remove port "$VM1" "$EXTRA" >/dev/null
lacks "addresses after remove port" "$(addresses "$VM1")" "$EXTRA_IP"
eq "the user's port is unbound" "$(port_field "$EXTRA" device_id)" ""
eq "ports of the server" "$(server_ports "$VM1")" "$PORT1"

step "server add network / remove network, server add fixed ip"
osc server add network "$VM1" "$NET_B" >/dev/null
contains "addresses after add network" "$(addresses "$VM1")" "ms-$S-net-b"
osc server remove network "$VM1" "$NET_B" >/dev/null
lacks "addresses after remove network" "$(addresses "$VM1")" "ms-$S-net-b"
osc server add fixed ip --fixed-ip-address "$ADDED_IP" "$VM1" "$NET_B" >/dev/null
contains "addresses after add fixed ip" "$(addresses "$VM1")" "$ADDED_IP"

step "server add / remove security group"
osc server add security group "$VM1" "ms-$S-web" >/dev/null
contains "security groups" "$(osc server show "$VM1" -f json | jq -c '.security_groups')" "ms-$S-web"
contains "the group is on the port" "$(port_field "$PORT1" security_group_ids)" "$SG"
osc server remove security group "$VM1" "ms-$S-web" >/dev/null
lacks "security groups" "$(osc server show "$VM1" -f json | jq -c '.security_groups')" "ms-$S-web"
out=$(must_fail "removing a group the server does not have" "$OSC" server remove security group "$VM1" "ms-$S-web")
contains "refusal" "$out" "not associated"

step "server delete: the ports compute made go, the user's port stays, unbound"
for vm in "$VM1" "$VM2" "$VM3"; do
    osc server delete --wait "$vm" >/dev/null
    eq "ports left by $vm" "$(osc port list --device-id "$vm" -f json | jq -r '[.[].ID] | join(",")')" ""
done
must_fail "the port compute made is gone" "$OSC" port show "$PORT1" >/dev/null
eq "the user's port device" "$(port_field "$UPORT" device_id)" ""
eq "the user's port binding" "$(port_field "$UPORT" binding_host_id)" ""
osc port delete "$UPORT" "$EXTRA" >/dev/null
osc security group delete "$SG" >/dev/null
osc network delete "$NET_A" "$NET_B" >/dev/null
osc image delete "$IMAGE" >/dev/null
ok "all deleted"
