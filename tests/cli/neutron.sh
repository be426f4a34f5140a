#!/usr/bin/env bash
# Drives the networking API (Neutron v2.0) of a running cloud through the legacy `neutron`
# client (python-neutronclient 9.0.0, in .venv/neutron: see tools/install-deps), with the
# commands of the mission notes (docs/networking.md): networks of every provider type (local,
# flat, vlan, vxlan, an external flat one), subnets with an allocation pool, a gateway, a DNS
# server, a host route and DHCP off, a router with interfaces added by subnet name and a
# gateway on the external network, a floating IP associated to a port, a security group with
# ICMP and SSH rules set on a port, and the agent, port, network and subnet listings. Every
# result is read back with the client's own show and list commands (-f json / -f value).
#
#   tests/cli/neutron.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml, cloud name
# $OS_CLOUD or monostack (the neutron client reads clouds.yaml itself). The notes' flat
# networks are on the physical networks 'default' and 'external' (one flat network each, so a
# second run at the same time would collide); their VLAN and VXLAN ids are picked per run,
# and the VLAN is on physnet1, the one physical network [ml2_type_vlan] network_vlan_ranges
# names ('default' is refused, as Neutron refuses it). Every name made here carries a per-run
# suffix, and everything made is deleted again: by the test itself, or on failure by a
# clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NEUTRON="$NEUTRON_VENV/bin/neutron"
[ -x "$NEUTRON" ] || die "no $NEUTRON: run tools/install-deps first"
# neu ARGS...: runs the neutron client as the admin of clouds.yaml; prints its stdout (its
# deprecation warning goes to stderr). Any failure prints the command and its output, and
# ends the test.
neu() { run_osc "$NEUTRON" "$@"; }

# Outside the project ranges of the default configuration ([ml2_type_vxlan] vni_ranges 1:1000,
# [ml2_type_vlan] network_vlan_ranges physnet1:1000:2999), and apart from tests/cli/network.sh's.
VNI=$((200000 + RANDOM))
VLAN=$((4000 + RANDOM % 90))

cli_test_begin neutron

step "neutron --version; agent-list shows the all-in-one's simulated L3 agent"
eq "client version" "$(run_osc "$NEUTRON" --version 2>&1 | grep -v deprecated)" 9.0.0
out=$(neu agent-list -f json)
eq "L3 agent" "$(jq -r '[.[] | select(.agent_type == "L3 agent")][0].binary' <<<"$out")" neutron-l3-agent
eq "alive" "$(jq -r '[.[] | select(.agent_type == "L3 agent")][0].alive' <<<"$out")" ':-)'
eq "admin_state_up" "$(jq -r '[.[] | select(.agent_type == "L3 agent")][0].admin_state_up' <<<"$out")" true

# --- networks ---------------------------------------------------------------------------
step "net-create first_local_net (the tenant network type) and second_local_net (local)"
out=$(neu net-create "first_local_net-$S" -f json)
NET1=$(j .id "$out")
defer "$NEUTRON" net-delete "$NET1"
nonempty "first_local_net id" "$NET1"
eq "status" "$(j .status "$out")" ACTIVE
eq "network_type (the first of tenant_network_types)" "$(j '."provider:network_type"' "$out")" vxlan
out=$(neu net-create "second_local_net-$S" --provider:network_type local -f json)
NET2=$(j .id "$out")
defer "$NEUTRON" net-delete "$NET2"
eq "second_local_net network_type" "$(j '."provider:network_type"' "$out")" local
eq "second_local_net physical_network" "$(j '."provider:physical_network"' "$out")" null
eq "second_local_net segmentation_id" "$(j '."provider:segmentation_id"' "$out")" null

step "net-create flat_net (flat on 'default'), vlan100 (vlan $VLAN on physnet1), vxlan100 (vni $VNI)"
out=$(neu net-create "flat_net-$S" --provider:network_type flat --provider:physical_network default -f json)
FLAT=$(j .id "$out")
defer "$NEUTRON" net-delete "$FLAT"
eq "flat network_type" "$(j '."provider:network_type"' "$out")" flat
eq "flat physical_network" "$(j '."provider:physical_network"' "$out")" default
eq "flat mtu" "$(j .mtu "$out")" 1500
out=$(must_fail "a VLAN on a physical network network_vlan_ranges does not name" "$NEUTRON" net-create \
    "vlan-bad-$S" --provider:network_type vlan --provider:physical_network default --provider:segmentation_id 100)
contains "Neutron's message" "$out" "physical_network 'default' unknown for VLAN provider network"
out=$(neu net-create "vlan100-$S" --provider:network_type vlan --provider:physical_network physnet1 \
    --provider:segmentation_id "$VLAN" -f json)
VLNET=$(j .id "$out")
defer "$NEUTRON" net-delete "$VLNET"
eq "vlan network_type" "$(j '."provider:network_type"' "$out")" vlan
eq "vlan physical_network" "$(j '."provider:physical_network"' "$out")" physnet1
eq "vlan segmentation_id" "$(j '."provider:segmentation_id"' "$out")" "$VLAN"
out=$(neu net-create "vxlan100-$S" --provider:network_type vxlan --provider:segmentation_id "$VNI" -f json)
VXNET=$(j .id "$out")
defer "$NEUTRON" net-delete "$VXNET"
eq "vxlan network_type" "$(j '."provider:network_type"' "$out")" vxlan
eq "vxlan segmentation_id" "$(j '."provider:segmentation_id"' "$out")" "$VNI"
eq "vxlan mtu (1500 minus VXLAN's 50)" "$(j .mtu "$out")" 1450
out=$(must_fail "the same VNI twice" "$NEUTRON" net-create "vxlan-dup-$S" --provider:network_type vxlan \
    --provider:segmentation_id "$VNI")
contains "Neutron's message" "$out" "$VNI"

step "net-create ext_net (flat on 'external', --router:external)"
out=$(neu net-create "ext_net-$S" --provider:network_type flat --provider:physical_network external \
    --router:external -f json)
EXT=$(j .id "$out")
defer "$NEUTRON" net-delete "$EXT"
eq "router:external" "$(j '."router:external"' "$out")" true
eq "ext physical_network" "$(j '."provider:physical_network"' "$out")" external
eq "shared" "$(j .shared "$out")" false

step "net-show, net-update, net-list (by name)"
eq "net-show by name" "$(neu net-show "vxlan100-$S" -f value -c id)" "$VXNET"
neu net-update "first_local_net-$S" --description "the first one" >/dev/null
eq "description after net-update" "$(neu net-show "$NET1" -f value -c description)" "the first one"
neu net-update "$NET2" --name "second_local_net-$S-renamed" >/dev/null
eq "name after net-update --name" "$(neu net-show "$NET2" -f value -c name)" "second_local_net-$S-renamed"
out=$(neu net-list -f json)
for id in "$NET1" "$NET2" "$FLAT" "$VLNET" "$VXNET" "$EXT"; do
    contains "net-list" "$(jq -r '.[].id' <<<"$out")" "$id"
done
eq "net-list --name" "$(neu net-list --name "ext_net-$S" -f value -c id)" "$EXT"
out=$(must_fail "net-show of a network that is not there" "$NEUTRON" net-show "no-such-net-$S")
contains "client's message" "$out" "Unable to find network with name or id 'no-such-net-$S'"

# --- subnets ----------------------------------------------------------------------------
step "subnet-create with --allocation-pool, --gateway, --dns-nameserver, --host-route, --disable-dhcp"
out=$(neu subnet-create "first_local_net-$S" 172.16.1.0/24 --name "subnet_172_16_1_0-$S" \
    --allocation-pool start=172.16.1.2,end=172.16.1.100 --gateway 172.16.1.1 \
    --dns-nameserver 8.8.8.8 --host-route destination=10.9.0.0/16,nexthop=172.16.1.254 \
    --disable-dhcp -f json)
SUB1=$(j .id "$out")
defer "$NEUTRON" subnet-delete "$SUB1"
nonempty "subnet id" "$SUB1"
out=$(neu subnet-show "$SUB1" -f json)
eq "network_id" "$(j .network_id "$out")" "$NET1"
eq "cidr" "$(j .cidr "$out")" 172.16.1.0/24
eq "allocation_pools" "$(jq -cS .allocation_pools <<<"$out")" '[{"end":"172.16.1.100","start":"172.16.1.2"}]'
eq "gateway_ip" "$(j .gateway_ip "$out")" 172.16.1.1
eq "dns_nameservers" "$(jq -c .dns_nameservers <<<"$out")" '["8.8.8.8"]'
eq "host_routes" "$(jq -cS .host_routes <<<"$out")" '[{"destination":"10.9.0.0/16","nexthop":"172.16.1.254"}]'
eq "enable_dhcp" "$(j .enable_dhcp "$out")" false
eq "ip_version" "$(j .ip_version "$out")" 4

step "subnet-create ext_net (--gateway, --disable-dhcp), vlan100 and vxlan100 (defaults)"
out=$(neu subnet-create "ext_net-$S" 10.10.10.0/24 --name "subnet_10_10_10_0-$S" --gateway 10.10.10.1 \
    --disable-dhcp -f json)
EXTSUB=$(j .id "$out")
defer "$NEUTRON" subnet-delete "$EXTSUB"
eq "ext gateway_ip" "$(j .gateway_ip "$out")" 10.10.10.1
eq "ext enable_dhcp" "$(j .enable_dhcp "$out")" false
eq "ext allocation_pools (the whole range past the gateway)" "$(jq -cS .allocation_pools <<<"$out")" \
    '[{"end":"10.10.10.254","start":"10.10.10.2"}]'
out=$(neu subnet-create "vlan100-$S" 172.16.100.0/24 --name "subnet_172_16_100_0-$S" -f json)
SUB100=$(j .id "$out")
defer "$NEUTRON" subnet-delete "$SUB100"
eq "vlan100 gateway_ip (the first address)" "$(j .gateway_ip "$out")" 172.16.100.1
eq "vlan100 enable_dhcp" "$(j .enable_dhcp "$out")" true
out=$(neu subnet-create "vxlan100-$S" 172.16.101.0/24 --name "subnet_172_16_101_0-$S" -f json)
SUB101=$(j .id "$out")
defer "$NEUTRON" subnet-delete "$SUB101"
eq "vxlan100 cidr" "$(j .cidr "$out")" 172.16.101.0/24
out=$(must_fail "a subnet with a bad CIDR" "$NEUTRON" subnet-create "first_local_net-$S" 999.1.1.0/24)
contains "Neutron's message" "$out" "Invalid input for cidr"
# What the client printed came from Neutron's error body; the body itself, for the record.
tok=$(osc token issue -f value -c id)
catalog=$(curl -sS -f -H "X-Auth-Token: $tok" "$AUTH_URL/auth/catalog") || fail "GET /v3/auth/catalog failed"
NETWORK_URL=$(j '.catalog[] | select(.type == "network") | .endpoints[] | select(.interface == "public") | .url' "$catalog" | head -n1)
out=$(curl -sS -X POST -H "X-Auth-Token: $tok" -H 'Content-Type: application/json' \
    -d "{\"subnet\": {\"network_id\": \"$NET1\", \"ip_version\": 4, \"cidr\": \"999.1.1.0/24\"}}" \
    "${NETWORK_URL%/}/v2.0/subnets")
eq "NeutronError type (a validation failure, as in Neutron)" "$(j .NeutronError.type "$out")" HTTPBadRequest
eq "NeutronError detail" "$(j .NeutronError.detail "$out")" ""
contains "NeutronError message" "$(j .NeutronError.message "$out")" "Invalid input for cidr"

step "subnet-show, subnet-update, subnet-list; net-show lists the subnet"
eq "subnet-show by name" "$(neu subnet-show "subnet_172_16_100_0-$S" -f value -c id)" "$SUB100"
neu subnet-update "subnet_172_16_100_0-$S" --dns-nameserver 1.1.1.1 --disable-dhcp \
    --name "subnet_172_16_100_0-$S-x" >/dev/null
out=$(neu subnet-show "$SUB100" -f json)
eq "name after subnet-update" "$(j .name "$out")" "subnet_172_16_100_0-$S-x"
eq "dns_nameservers after subnet-update" "$(jq -c .dns_nameservers <<<"$out")" '["1.1.1.1"]'
eq "enable_dhcp after --disable-dhcp" "$(j .enable_dhcp "$out")" false
neu subnet-update "$SUB100" --name "subnet_172_16_100_0-$S" --enable-dhcp >/dev/null
eq "enable_dhcp after --enable-dhcp" "$(neu subnet-show "$SUB100" -f value -c enable_dhcp)" True
out=$(neu subnet-list -f json)
for id in "$SUB1" "$EXTSUB" "$SUB100" "$SUB101"; do
    contains "subnet-list" "$(jq -r '.[].id' <<<"$out")" "$id"
done
eq "net-show subnets" "$(neu net-show "$NET1" -f json | jq -r '.subnets | join(",")')" "$SUB1"

# --- a router ---------------------------------------------------------------------------
step "router-create router_100_101; router-interface-add by subnet name; router-gateway-set ext_net"
out=$(neu router-create "router_100_101-$S" -f json)
ROUTER=$(j .id "$out")
defer "$NEUTRON" router-delete "$ROUTER"
eq "router status" "$(j .status "$out")" ACTIVE
eq "external_gateway_info" "$(j .external_gateway_info "$out")" null
out=$(neu router-interface-add "router_100_101-$S" "subnet_172_16_101_0-$S")
defer "$NEUTRON" router-interface-delete "$ROUTER" "$SUB101"
contains "router-interface-add" "$out" "Added interface"
out=$(neu router-interface-add "router_100_101-$S" "subnet_172_16_100_0-$S")
defer "$NEUTRON" router-interface-delete "$ROUTER" "$SUB100"
contains "router-interface-add" "$out" "Added interface"
out=$(must_fail "router-interface-add of a subnet that is not there" "$NEUTRON" router-interface-add \
    "$ROUTER" "no-such-subnet-$S")
contains "client's message" "$out" "Unable to find subnet with name or id 'no-such-subnet-$S'"
neu router-gateway-set "router_100_101-$S" "ext_net-$S" >/dev/null
defer "$NEUTRON" router-gateway-clear "$ROUTER"
out=$(neu router-show "$ROUTER" -f json)
eq "gateway network" "$(j .external_gateway_info.network_id "$out")" "$EXT"
eq "gateway subnet" "$(j '.external_gateway_info.external_fixed_ips[0].subnet_id' "$out")" "$EXTSUB"
eq "enable_snat" "$(j .external_gateway_info.enable_snat "$out")" true
out=$(neu router-port-list "$ROUTER" -f json)
ips=$(jq -r '[.[].fixed_ips | fromjson? // . | if type == "array" then .[] else . end | .ip_address] | sort | join(",")' <<<"$out")
eq "router-port-list addresses (the gateways and the external one)" "$ips" "10.10.10.2,172.16.100.1,172.16.101.1"

# --- a port, a floating IP, security groups ----------------------------------------------
step "port-create on vxlan100 (cirros-vm3's port); floatingip-create ext_net; floatingip-associate"
out=$(neu port-create "vxlan100-$S" --name "cirros-vm3-$S" -f json)
PORT=$(j .id "$out")
defer "$NEUTRON" port-delete "$PORT"
PORT_IP=$(jq -r '.fixed_ips[0].ip_address' <<<"$out")
eq "port subnet" "$(jq -r '.fixed_ips[0].subnet_id' <<<"$out")" "$SUB101"
nonempty "port address" "$PORT_IP"
out=$(neu floatingip-create "ext_net-$S" -f json)
FIP=$(j .id "$out")
defer "$NEUTRON" floatingip-delete "$FIP"
FIP_IP=$(j .floating_ip_address "$out")
eq "floating network" "$(j .floating_network_id "$out")" "$EXT"
contains "floating address in ext_net" "$FIP_IP" "10.10.10."
eq "port_id before associate" "$(j .port_id "$out")" null
out=$(neu floatingip-associate "$FIP" "$PORT")
contains "floatingip-associate" "$out" "Associated floating IP $FIP"
out=$(neu floatingip-show "$FIP" -f json)
eq "port_id" "$(j .port_id "$out")" "$PORT"
eq "fixed_ip_address" "$(j .fixed_ip_address "$out")" "$PORT_IP"
eq "router_id" "$(j .router_id "$out")" "$ROUTER"
out=$(neu floatingip-list -f json)
eq "floatingip-list" "$(jq -r --arg f "$FIP" '.[] | select(.id == $f) | .floating_ip_address' <<<"$out")" "$FIP_IP"

step "security-group-create \"allow ping & ssh\"; rules for ICMP and TCP 22"
SGNAME="allow ping & ssh $S"
out=$(neu security-group-create "$SGNAME" -f json)
SG=$(j .id "$out")
defer "$NEUTRON" security-group-delete "$SG"
eq "security group name" "$(j .name "$out")" "$SGNAME"
out=$(neu security-group-rule-create --direction ingress --protocol icmp "$SGNAME" -f json)
R1=$(j .id "$out")
eq "icmp rule group" "$(j .security_group_id "$out")" "$SG"
eq "icmp rule protocol" "$(j .protocol "$out")" icmp
eq "icmp rule ethertype" "$(j .ethertype "$out")" IPv4
out=$(neu security-group-rule-create --direction ingress --protocol tcp --port-range-min 22 \
    --port-range-max 22 "$SGNAME" -f json)
R2=$(j .id "$out")
eq "ssh rule ports" "$(j '"\(.protocol) \(.port_range_min)-\(.port_range_max)"' "$out")" "tcp 22-22"
out=$(must_fail "the same rule twice" "$NEUTRON" security-group-rule-create --direction ingress \
    --protocol icmp "$SGNAME")
contains "Neutron's message" "$out" "Security group rule already exists"
out=$(neu security-group-show "$SG" -f json)
rules=$(jq -r '[.security_group_rules[] | .id] | sort | join(",")' <<<"$out")
contains "security-group-show rules" "$rules" "$R1"
contains "security-group-show rules" "$rules" "$R2"
out=$(neu security-group-rule-list -f json)
contains "security-group-rule-list" "$(jq -r '.[].id' <<<"$out")" "$R2"

step "port-update --security-group (two groups)"
PROJECT=$(neu port-show "$PORT" -f value -c project_id)
out=$(neu security-group-list -f json)
DEFSG=$(jq -r --arg p "$PROJECT" '[.[] | select(.name == "default" and .tenant_id == $p)][0].id' <<<"$out")
nonempty "the project's default group" "$DEFSG"
# The admin sees every project's group called default (as in Neutron), so the client's lookup
# by name would find several: the project's own is given by id.
neu port-update "$PORT" --security-group "$SGNAME" --security-group "$DEFSG" >/dev/null
out=$(neu port-show "$PORT" -f json)
eq "security_groups" "$(jq -r '.security_groups | sort | join(",")' <<<"$out")" \
    "$(printf '%s\n' "$SG" "$DEFSG" | sort | paste -sd,)"

step "port-list, net-list, subnet-list"
out=$(neu port-list -f json)
contains "port-list" "$(jq -r '.[].id' <<<"$out")" "$PORT"
eq "port-list --name" "$(neu port-list --name "cirros-vm3-$S" -f value -c id)" "$PORT"
out=$(neu port-list --device-id "$ROUTER" -f json)
eq "port-list --device-id (the router's ports)" "$(jq length <<<"$out")" 3
eq "net-list --router:external (ours among them)" \
    "$(neu net-list --router:external=True -f json | jq -r --arg e "$EXT" '[.[] | select(.id == $e)] | length')" 1
eq "subnet-list --network-id" "$(neu subnet-list --network-id "$VXNET" -f value -c id)" "$SUB101"

# --- deleting everything ----------------------------------------------------------------
step "floatingip-disassociate, floatingip-delete, port-delete, security-group-delete"
neu floatingip-disassociate "$FIP" >/dev/null
out=$(neu floatingip-show "$FIP" -f json)
eq "port_id after disassociate" "$(j .port_id "$out")" null
eq "router_id after disassociate" "$(j .router_id "$out")" null
neu floatingip-delete "$FIP" >/dev/null
lacks "floatingip-list after delete" "$(neu floatingip-list -f value -c id)" "$FIP"
neu port-delete "$PORT" >/dev/null
lacks "port-list after delete" "$(neu port-list -f value -c id)" "$PORT"
neu security-group-rule-delete "$R1" >/dev/null
neu security-group-delete "$SGNAME" >/dev/null
lacks "security-group-list after delete" "$(neu security-group-list -f value -c id)" "$SG"

step "router-gateway-clear, router-interface-delete, router-delete"
out=$(must_fail "a router with interfaces cannot be deleted" "$NEUTRON" router-delete "$ROUTER")
contains "Neutron's message" "$out" "still has ports"
neu router-gateway-clear "router_100_101-$S" >/dev/null
eq "external_gateway_info after clear" "$(neu router-show "$ROUTER" -f json | jq -r .external_gateway_info)" null
neu router-interface-delete "router_100_101-$S" "subnet_172_16_101_0-$S" >/dev/null
neu router-interface-delete "$ROUTER" "subnet=$SUB100" >/dev/null
eq "router ports left" "$(neu router-port-list "$ROUTER" -f json | jq length)" 0
neu router-delete "router_100_101-$S" >/dev/null
out=$(must_fail "router-show of a deleted router" "$NEUTRON" router-show "$ROUTER")
contains "client's message" "$out" "$ROUTER"

step "subnet-delete, net-delete"
neu subnet-delete "subnet_172_16_1_0-$S" >/dev/null
neu subnet-delete "$EXTSUB" >/dev/null
neu subnet-delete "$SUB100" >/dev/null
neu subnet-delete "$SUB101" >/dev/null
out=$(neu subnet-list -f value -c id)
for id in "$SUB1" "$EXTSUB" "$SUB100" "$SUB101"; do lacks "subnet-list after delete" "$out" "$id"; done
neu net-delete "first_local_net-$S" >/dev/null
neu net-delete "$NET2" "$FLAT" "$VLNET" "$VXNET" "$EXT" >/dev/null
out=$(neu net-list -f value -c id)
for id in "$NET1" "$NET2" "$FLAT" "$VLNET" "$VXNET" "$EXT"; do lacks "net-list after delete" "$out" "$id"; done
out=$(must_fail "net-show of a deleted network" "$NEUTRON" net-show "$NET1")
contains "client's message" "$out" "Unable to find network with name or id '$NET1'"
