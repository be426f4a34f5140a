#!/usr/bin/env bash
# Drives the compute API of a running cloud through the openstack CLI, the way an operator
# would, and checks what every command printed (not only its exit status).
#
#   tests/cli/compute.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack; the compute endpoint comes from its catalog. Servers run
# on the fake virt driver and have no network (--nic none: there is no networking service
# yet). The admin of clouds.yaml uploads a small raw image, makes flavors, key pairs, a server
# group and an aggregate, and takes a server through every action (stop/start, reboot,
# pause, suspend, lock, rescue, snapshot, rebuild, shelve, migrate, resize, evacuate); a
# second project and user (role member) made here boots its own server on a private flavor,
# under a quota, and may not delete it while it is locked. python-novaclient is not installed
# in .venv/openstack, so only the openstack CLI is used.
#
# Migrations and evacuation need a second compute host. Start the cloud with
#   MONOSTACK__FAKE_DRIVER__NODE_COUNT=2 MONOSTACK__FAKE_DRIVER__HOST_PER_NODE=true
# (two simulated hypervisors, each its own compute service `<host>-1`, `<host>-2`): two nodes
# under one host are not enough, as Nova never moves a server to another node of its own host.
# With a single compute host the test checks Nova's answer instead: the migration and the
# resize are accepted and then fail in the conductor with "No valid host" (the server stays
# ACTIVE where it was), and the evacuation leaves the server in ERROR with that fault. An
# evacuated server is left SHUTOFF, as Nova does from microversion 2.95 on.
# Evacuation needs the source's compute service down: `compute service set --down` (forced
# down, microversion 2.11) does that, and `--up` undoes it.
#
# WAIT_TIMEOUT (seconds, default 60) bounds every wait for a server's state. Every name made
# here carries a per-run suffix, and everything made is deleted again: by the test itself, or
# on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

have ssh-keygen || die "ssh-keygen is missing: apt-get install openssh-client"
WAIT_TIMEOUT=${WAIT_TIMEOUT:-60}

# --- helpers of this test (the common ones are in tests/cli/lib.sh) ----------------------
# osc_member ARGS...: the openstack CLI as the member user of the second project (its
# credentials as --os-* options). member_cli is the same without the checking, for must_fail.
osc_member() { run_osc member_cli "$@"; }
member_cli() {
    env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" --os-auth-url "$AUTH_URL" \
        --os-identity-api-version 3 --os-region-name "$REGION" --os-username "ms-$S-member" \
        --os-user-domain-id "$DOMAIN" --os-password "$MEMBER_PW" --os-project-id "$MEMBER_PROJECT" "$@"
}

# api METHOD PATH [CURL-ARGS...]: a request to the compute API as the admin at microversion
# $MV (2.1 unless set); prints the HTTP status and leaves the body in $TMP/body.
api() {
    local method=$1 path=$2
    shift 2
    curl -sS -o "$TMP/body" -w '%{http_code}' -X "$method" -H "X-Auth-Token: $ADMIN_TOKEN" \
        -H "OpenStack-API-Version: compute ${MV:-2.1}" "$@" "$COMPUTE_URL$path"
}

# wait_server ID STATUS: polls GET /servers/{id} until its status is STATUS with no task in
# progress; ERROR (unless awaited) or WAIT_TIMEOUT seconds end the test.
wait_server() {
    local id=$1 want=$2 deadline=$((SECONDS + WAIT_TIMEOUT)) code status task
    stop_if_failed
    while :; do
        code=$(api GET "/servers/$id") || code=000
        [ "$code" = 200 ] || fail "GET /servers/$id returned $code while waiting for $want"
        status=$(jq -r .server.status "$TMP/body")
        task=$(jq -r '.server["OS-EXT-STS:task_state"]' "$TMP/body")
        if [ "$status" = "$want" ] && [ "$task" = null ]; then
            ok "server $(jq -r .server.name "$TMP/body") is $want"
            return 0
        fi
        if [ "$status" = ERROR ] && [ "$want" != ERROR ]; then
            fail "server $id went ERROR while waiting for $want: $(jq -r '.server.fault.message // "no fault"' "$TMP/body")"
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "server $id is still $status (task $task) after ${WAIT_TIMEOUT}s; expected $want"
        sleep 0.3
    done
}

# wait_gone ID: polls GET /servers/{id} until it answers 404.
wait_gone() {
    local id=$1 deadline=$((SECONDS + WAIT_TIMEOUT)) code
    stop_if_failed
    while :; do
        code=$(api GET "/servers/$1") || code=000
        [ "$code" != 404 ] || { ok "server $id is gone (GET answers 404)"; return 0; }
        [ "$SECONDS" -lt "$deadline" ] || fail "server $id still there after ${WAIT_TIMEOUT}s ($code, $(jq -r .server.status "$TMP/body" 2>/dev/null))"
        sleep 0.3
    done
}

# server_field ID FIELD: one field of `server show -f json`.
server_field() { j ".[\"$2\"]" "$(osc server show "$1" -f json)"; }

# power_state ID: the server's power state as the CLI's table shows it (Running, Shutdown...;
# the json and value formats print Nova's number).
power_state() {
    osc server show "$1" -c OS-EXT-STS:power_state -f table |
        awk -F'|' '$2 ~ /power_state/ {gsub(/^ +| +$/, "", $3); print $3}'
}

# actions ID: the server's instance actions, oldest first, comma-joined.
actions() { osc server event list "$1" -f json | jq -r 'sort_by(."Start Time") | [.[].Action] | join(",")'; }

# request_of ID ACTION: the request id of the server's latest ACTION.
request_of() {
    osc server event list "$1" -f json |
        jq -r --arg a "$2" '[.[] | select(.Action == $a)] | sort_by(."Start Time") | last | ."Request ID"'
}

# delete_server ID: the clean-up of a server: unlocked, then deleted.
delete_server() {
    "$OSC" server unlock "$1" || true
    "$OSC" server delete --wait "$1"
}
force_up() { "$OSC" compute service set --up "$1" nova-compute; }

cli_test_begin compute

# --- the service ------------------------------------------------------------------------
step "token issue; the compute endpoint in the catalog serves its version document"
tok=$(osc token issue -f json)
ADMIN_TOKEN=$(j .id "$tok")
ADMIN_PROJECT=$(j .project_id "$tok")
nonempty "admin token" "$ADMIN_TOKEN"
catalog=$(curl -sS -f -H "X-Auth-Token: $ADMIN_TOKEN" "$AUTH_URL/auth/catalog") || fail "GET /v3/auth/catalog failed"
COMPUTE_URL=$(j '.catalog[] | select(.type == "compute") | .endpoints[] | select(.interface == "public") | .url' "$catalog" | head -n1)
COMPUTE_URL=${COMPUTE_URL%/}
nonempty "public compute endpoint" "$COMPUTE_URL"
doc=$(curl -sS -f "$COMPUTE_URL/") || fail "GET $COMPUTE_URL/ failed"
eq "version" "$(j .version.id "$doc")" v2.1
eq "min_version" "$(j .version.min_version "$doc")" 2.1
nonempty "max_version" "$(j .version.version "$doc")"

step "a second project and user (role member)"
DOMAIN=$(osc project show "$ADMIN_PROJECT" -f value -c domain_id)
out=$(osc project create --domain "$DOMAIN" --description "compute test $S" "ms-$S-member" -f json)
MEMBER_PROJECT=$(j .id "$out")
defer "$OSC" project delete "$MEMBER_PROJECT"
nonempty "member project id" "$MEMBER_PROJECT"
MEMBER_PW="pw-$S-$RANDOM"
out=$(osc user create --domain "$DOMAIN" --project "$MEMBER_PROJECT" --password "$MEMBER_PW" "ms-$S-member" -f json)
MEMBER_USER=$(j .id "$out")
defer "$OSC" user delete "$MEMBER_USER"
osc role add --user "$MEMBER_USER" --project "$MEMBER_PROJECT" member >/dev/null
nonempty "member token" "$(osc_member token issue -f value -c id)"

step "image create: a few KB of raw bytes (public, for both projects)"
head -c 8192 /dev/urandom >"$TMP/disk.raw"
out=$(osc image create --file "$TMP/disk.raw" --disk-format raw --container-format bare --public "ms-$S-image" -f json)
IMAGE=$(j .id "$out")
defer "$OSC" image delete "$IMAGE"
eq "image status" "$(j .status "$out")" active
eq "image size" "$(j .size "$out")" 8192

# --- flavors ----------------------------------------------------------------------------
step "flavor create (public and --private), list, show"
out=$(osc flavor create --ram 256 --disk 1 --vcpus 1 --property "hw:cpu_policy=shared" "ms-$S-small" -f json)
FLAVOR_A=$(j .id "$out")
defer "$OSC" flavor delete "$FLAVOR_A"
eq "ram" "$(j .ram "$out")" 256
eq "vcpus" "$(j .vcpus "$out")" 1
eq "is_public" "$(j '."os-flavor-access:is_public"' "$out")" true
eq "property hw:cpu_policy" "$(j '.properties."hw:cpu_policy"' "$out")" shared
out=$(osc flavor create --ram 512 --disk 2 --vcpus 2 "ms-$S-bigger" -f json)
FLAVOR_B=$(j .id "$out")
defer "$OSC" flavor delete "$FLAVOR_B"
out=$(osc flavor create --ram 128 --disk 1 --vcpus 1 --private "ms-$S-private" -f json)
FLAVOR_P=$(j .id "$out")
defer "$OSC" flavor delete "$FLAVOR_P"
eq "private flavor is_public" "$(j '."os-flavor-access:is_public"' "$out")" false
out=$(osc flavor list -f value -c Name)
contains "flavor list" "$out" "ms-$S-small"
contains "flavor list (devstack's flavors)" "$out" m1.tiny
lacks "flavor list (private ones only with --all)" "$out" "ms-$S-private"
contains "flavor list --all" "$(osc flavor list --all -f value -c Name)" "ms-$S-private"
out=$(osc flavor show "ms-$S-bigger" -f json)
eq "show: id" "$(j .id "$out")" "$FLAVOR_B"
eq "show: disk" "$(j .disk "$out")" 2
eq "show: ram" "$(j .ram "$out")" 512

step "flavor set --property / unset --property"
osc flavor set --property "hw:mem_page_size=small" --property "ms:run=$S" "$FLAVOR_A" >/dev/null
out=$(osc flavor show "$FLAVOR_A" -f json)
eq "property hw:mem_page_size" "$(j '.properties."hw:mem_page_size"' "$out")" small
eq "property ms:run" "$(j '.properties."ms:run"' "$out")" "$S"
osc flavor unset --property "ms:run" --property "hw:mem_page_size" "$FLAVOR_A" >/dev/null
out=$(osc flavor show "$FLAVOR_A" -f json)
eq "properties after unset" "$(j '.properties | keys | join(",")' "$out")" "hw:cpu_policy"

step "flavor set --project: the member sees the private flavor"
must_fail "member shows a private flavor without access" member_cli flavor show "$FLAVOR_P" >/dev/null
ok "not visible to the member before access"
osc flavor set --project "$MEMBER_PROJECT" "$FLAVOR_P" >/dev/null
out=$(osc flavor show "$FLAVOR_P" -f json)
eq "access_project_ids" "$(j '.access_project_ids | join(",")' "$out")" "$MEMBER_PROJECT"
contains "member's flavor list" "$(osc_member flavor list -f value -c Name)" "ms-$S-private"
eq "member's flavor show" "$(osc_member flavor show "$FLAVOR_P" -f value -c name)" "ms-$S-private"
out=$(must_fail "a second flavor of the same name" "$OSC" flavor create --ram 128 --disk 1 --vcpus 1 "ms-$S-private")
contains "duplicate flavor refused" "$out" "already exists"

# --- key pairs --------------------------------------------------------------------------
step "keypair create (generated), create --public-key, list, show"
osc keypair create "ms-$S-gen" >"$TMP/gen.pem"
defer "$OSC" keypair delete "ms-$S-gen"
chmod 600 "$TMP/gen.pem"
contains "generated private key" "$(head -n1 "$TMP/gen.pem")" "PRIVATE KEY-----"
gen_pub=$(ssh-keygen -y -f "$TMP/gen.pem") || fail "ssh-keygen could not read the generated private key"
ssh-keygen -q -t ed25519 -N '' -C "ms-$S" -f "$TMP/imported"
out=$(osc keypair create --public-key "$TMP/imported.pub" "ms-$S-imported" -f json)
defer "$OSC" keypair delete "ms-$S-imported"
imported_fp=$(ssh-keygen -l -E md5 -f "$TMP/imported.pub" | awk '{print $2}')
eq "imported fingerprint (ssh-keygen -l -E md5)" "MD5:$(j .fingerprint "$out")" "$imported_fp"
out=$(osc keypair list -f value -c Name)
contains "keypair list" "$out" "ms-$S-gen"
contains "keypair list" "$out" "ms-$S-imported"
out=$(osc keypair show "ms-$S-gen" -f json)
eq "show: type" "$(j .type "$out")" ssh
eq "show --public-key: the private key's public half" "$(osc keypair show --public-key "ms-$S-gen" | awk '{print $1, $2}')" "$(awk '{print $1, $2}' <<<"$gen_pub")"
eq "show: fingerprint (ssh-keygen -l -E md5)" "MD5:$(j .fingerprint "$out")" \
    "$(ssh-keygen -l -E md5 -f <(echo "$gen_pub") | awk '{print $2}')"
out=$(must_fail "a second key pair of the same name" "$OSC" keypair create --public-key "$TMP/imported.pub" "ms-$S-imported")
contains "duplicate key pair refused" "$out" "already exists"

# --- quotas -----------------------------------------------------------------------------
step "quota set / show --compute (the member project)"
osc quota set --instances 1 --cores 4 --ram 2048 "$MEMBER_PROJECT" >/dev/null
out=$(osc quota show --compute "$MEMBER_PROJECT" -f json)
limit() { j ".[] | select(.Resource == \"$1\") | .Limit" "$2"; }
eq "instances" "$(limit instances "$out")" 1
eq "cores" "$(limit cores "$out")" 4
eq "ram" "$(limit ram "$out")" 2048
out=$(osc quota show --compute --default "$MEMBER_PROJECT" -f json)
eq "default instances" "$(limit instances "$out")" 10
out=$(osc_member quota show --compute -f json)
eq "as seen by the member" "$(limit instances "$out")" 1

# --- server groups ----------------------------------------------------------------------
step "server group create --policy anti-affinity, list, show"
out=$(osc server group create --policy anti-affinity "ms-$S-group" -f json)
GROUP=$(j .id "$out")
defer "$OSC" server group delete "$GROUP"
eq "policy" "$(j .policy "$out")" anti-affinity
eq "members" "$(j '.members | length' "$out")" 0
contains "server group list" "$(osc server group list -f value -c Name)" "ms-$S-group"
eq "show: name" "$(osc server group show "$GROUP" -f value -c name)" "ms-$S-group"

step "server create refused: a key pair that does not exist (400)"
out=$(must_fail "booting with a missing key pair" "$OSC" server create --flavor "$FLAVOR_A" --image "$IMAGE" --nic none \
    --key-name "ms-$S-nokey" "ms-$S-nokey")
contains "missing key pair" "$out" "400"
contains "missing key pair" "$out" "Invalid key_name provided"
lacks "server list" "$(osc server list -f value -c Name)" "ms-$S-nokey"

# --- services, hypervisors, zones, aggregates -------------------------------------------
step "compute service list; hypervisor list / show"
out=$(osc compute service list -f json)
mapfile -t HOSTS < <(j '[.[] | select(.Binary == "nova-compute" and .State == "up" and .Status == "enabled") | .Host] | sort | .[]' "$out")
[ "${#HOSTS[@]}" -ge 1 ] || fail "no nova-compute service is up and enabled: $(j '[.[] | "\(.Binary)@\(.Host) \(.Status) \(.State)"] | join("; ")' "$out")"
ok "${#HOSTS[@]} compute host(s) up: ${HOSTS[*]}"
contains "services" "$(j '[.[].Binary] | join(",")' "$out")" nova-compute
HOST=${HOSTS[0]}
out=$(osc hypervisor list -f json)
[ "$(j length "$out")" -ge "${#HOSTS[@]}" ] || fail "fewer hypervisors than compute hosts: $out"
ok "$(j length "$out") hypervisor(s): $(j '[.[]."Hypervisor Hostname"] | join(", ")' "$out")"
eq "hypervisor types" "$(j '[.[]."Hypervisor Type"] | unique | join(",")' "$out")" fake
HYPERVISOR=$(j '.[0]."Hypervisor Hostname"' "$out")
out=$(osc hypervisor show "$HYPERVISOR" -f json)
eq "show: state" "$(j .state "$out")" up
eq "show: status" "$(j .status "$out")" enabled
eq "show: hypervisor_type" "$(j .hypervisor_type "$out")" fake
contains "show: its service host" "${HOSTS[*]}" "$(j '.service_host // .service.host' "$out")"

step "compute service set --disable / --enable"
osc compute service set --disable --disable-reason "ms-$S maintenance" "$HOST" nova-compute >/dev/null
out=$(osc compute service list --host "$HOST" --service nova-compute --long -f json)
eq "status after --disable" "$(j '.[0].Status' "$out")" disabled
eq "disabled reason" "$(j '.[0]."Disabled Reason"' "$out")" "ms-$S maintenance"
osc compute service set --enable "$HOST" nova-compute >/dev/null
out=$(osc compute service list --host "$HOST" --service nova-compute --long -f json)
eq "status after --enable" "$(j '.[0].Status' "$out")" enabled

step "aggregate create --zone, add host, set --property, show; availability zone list"
# Nova refuses to move a host that runs servers into another zone: use one without any.
AGG_HOST=
for h in "${HOSTS[@]}"; do
    if [ -z "$(osc server list --all-projects --host "$h" -f value -c ID)" ]; then AGG_HOST=$h; break; fi
done
[ -n "$AGG_HOST" ] || fail "every compute host runs servers; this step needs one without (Nova refuses to move a host with servers to another zone)"
out=$(osc availability zone list --compute -f json)
contains "zones" "$(j '[.[]."Zone Name"] | join(",")' "$out")" nova
eq "zone nova" "$(j '[.[] | select(."Zone Name" == "nova") | ."Zone Status"] | unique | join(",")' "$out")" available
out=$(osc aggregate create --zone "ms-$S-az" "ms-$S-agg" -f json)
AGG=$(j .id "$out")
defer "$OSC" aggregate delete "$AGG"
eq "availability_zone" "$(j .availability_zone "$out")" "ms-$S-az"
lacks "zones (an empty aggregate's zone is not listed)" "$(osc availability zone list --compute -f value -c 'Zone Name')" "ms-$S-az"
osc aggregate add host "$AGG" "$AGG_HOST" >/dev/null
defer "$OSC" aggregate remove host "$AGG" "$AGG_HOST"
osc aggregate set --property "ms_run=$S" --property ssd=true "$AGG" >/dev/null
out=$(osc aggregate show "$AGG" -f json)
eq "show: hosts" "$(j '.hosts | join(",")' "$out")" "$AGG_HOST"
eq "show: property ssd" "$(j .properties.ssd "$out")" true
eq "show: property ms_run" "$(j .properties.ms_run "$out")" "$S"
contains "aggregate list" "$(osc aggregate list -f value -c Name)" "ms-$S-agg"
contains "zones (the aggregate's)" "$(osc availability zone list --compute -f value -c 'Zone Name')" "ms-$S-az"
out=$(must_fail "adding a host that does not exist" "$OSC" aggregate add host "$AGG" "ms-$S-nohost")
contains "unknown host refused" "$out" "could not be found"

step "aggregate remove host, unset --property, delete"
osc aggregate remove host "$AGG" "$AGG_HOST" >/dev/null
osc aggregate unset --property ms_run "$AGG" >/dev/null
out=$(osc aggregate show "$AGG" -f json)
eq "hosts after remove" "$(j '.hosts | length' "$out")" 0
eq "property ms_run after unset" "$(j '.properties.ms_run // "absent"' "$out")" absent
lacks "zones (the aggregate is empty again)" "$(osc availability zone list --compute -f value -c 'Zone Name')" "ms-$S-az"
osc aggregate delete "$AGG" >/dev/null
lacks "aggregate list after delete" "$(osc aggregate list -f value -c Name)" "ms-$S-agg"

# --- servers ----------------------------------------------------------------------------
step "server create --wait (key pair, property, --nic none)"
out=$(osc server create --flavor "$FLAVOR_A" --image "$IMAGE" --nic none --key-name "ms-$S-imported" \
    --property "ms_run=$S" --wait "ms-$S-vm" -f json)
VM=$(j .id "$out")
defer delete_server "$VM"
eq "status" "$(j .status "$out")" ACTIVE
VM_HOST=$(j '."OS-EXT-SRV-ATTR:host"' "$out")
contains "host (a compute host)" "${HOSTS[*]}" "$VM_HOST"
eq "key_name" "$(j .key_name "$out")" "ms-$S-imported"
eq "power_state" "$(power_state "$VM")" Running

step "server list, show"
out=$(osc server list --name "ms-$S-vm" -f json)
eq "list --name" "$(j '[.[].ID] | join(",")' "$out")" "$VM"
eq "list: status" "$(j '.[0].Status' "$out")" ACTIVE
eq "list: flavor" "$(j '.[0].Flavor' "$out")" "ms-$S-small"
# (the CLI's "Host" column shows the hypervisor, not the compute host)
VM_NODE=$(server_field "$VM" OS-EXT-SRV-ATTR:hypervisor_hostname)
eq "list --long: Host (the hypervisor)" "$(osc server list --name "ms-$S-vm" --long -f value -c Host)" "$VM_NODE"
out=$(osc server show "$VM" -f json)
eq "show: name" "$(j .name "$out")" "ms-$S-vm"
eq "show: flavor" "$(j .flavor.name "$out")" "ms-$S-small"
contains "show: image" "$(j .image "$out")" "$IMAGE"
eq "show: property" "$(j .properties.ms_run "$out")" "$S"
eq "show: vm_state" "$(j '."OS-EXT-STS:vm_state"' "$out")" active
eq "show: availability zone" "$(j '."OS-EXT-AZ:availability_zone"' "$out")" nova
nonempty "show: hypervisor" "$VM_NODE"
nonempty "show: launched_at" "$(j '."OS-SRV-USG:launched_at"' "$out")"

step "server stop; stopping it again is refused (409); start"
osc server stop "$VM" >/dev/null
wait_server "$VM" SHUTOFF
eq "power_state" "$(power_state "$VM")" Shutdown
out=$(must_fail "stopping a stopped server" "$OSC" server stop "$VM")
contains "stop refused" "$out" "409"
contains "stop refused" "$out" "vm_state stopped"
osc server start "$VM" >/dev/null
wait_server "$VM" ACTIVE
eq "power_state" "$(power_state "$VM")" Running

step "server reboot (soft, then --hard)"
osc server reboot "$VM" >/dev/null
wait_server "$VM" ACTIVE
osc server reboot --hard "$VM" >/dev/null
wait_server "$VM" ACTIVE

step "server pause / unpause, suspend / resume"
osc server pause "$VM" >/dev/null
wait_server "$VM" PAUSED
eq "power_state" "$(power_state "$VM")" Paused
osc server unpause "$VM" >/dev/null
wait_server "$VM" ACTIVE
osc server suspend "$VM" >/dev/null
wait_server "$VM" SUSPENDED
osc server resume "$VM" >/dev/null
wait_server "$VM" ACTIVE

step "server lock / unlock"
osc server lock --reason "ms-$S locked" "$VM" >/dev/null
out=$(osc server show "$VM" -f json)
eq "locked" "$(j .locked "$out")" true
eq "locked_reason" "$(j .locked_reason "$out")" "ms-$S locked"
contains "server list --locked" "$(osc server list --locked -f value -c ID)" "$VM"
osc server unlock "$VM" >/dev/null
eq "locked after unlock" "$(server_field "$VM" locked)" false

step "server rescue / unrescue"
osc server rescue --image "$IMAGE" "$VM" >/dev/null
wait_server "$VM" RESCUE
osc server unrescue "$VM" >/dev/null
wait_server "$VM" ACTIVE

step "server image create --wait (a snapshot in the image service)"
out=$(osc server image create --name "ms-$S-snap" --wait "$VM" -f json)
SNAP=$(j .id "$out")
defer "$OSC" image delete "$SNAP"
out=$(osc image show "$SNAP" -f json)
eq "snapshot status" "$(j .status "$out")" active
eq "snapshot image_type" "$(j '.properties.image_type // .image_type' "$out")" snapshot
eq "snapshot instance_uuid" "$(j '.properties.instance_uuid // .instance_uuid' "$out")" "$VM"
wait_server "$VM" ACTIVE

step "server rebuild --image (the snapshot) --wait"
osc server rebuild --image "$SNAP" --wait "$VM" >/dev/null # (--wait prints its progress before any -f json)
eq "status" "$(server_field "$VM" status)" ACTIVE
contains "image after rebuild" "$(server_field "$VM" image)" "$SNAP"
eq "host unchanged" "$(server_field "$VM" OS-EXT-SRV-ATTR:host)" "$VM_HOST"

step "server shelve (offloaded at once) / unshelve"
osc server shelve "$VM" >/dev/null
wait_server "$VM" SHELVED_OFFLOADED
out=$(osc server show "$VM" -f json)
eq "host while offloaded" "$(j '."OS-EXT-SRV-ATTR:host"' "$out")" null
osc server unshelve "$VM" >/dev/null
wait_server "$VM" ACTIVE
VM_HOST=$(server_field "$VM" OS-EXT-SRV-ATTR:host)
contains "host after unshelve" "${HOSTS[*]}" "$VM_HOST"

if [ "${#HOSTS[@]}" -ge 2 ]; then
    step "server migrate; resize confirm (the migration is confirmed on another host)"
    osc server migrate "$VM" >/dev/null
    wait_server "$VM" VERIFY_RESIZE
    new_host=$(server_field "$VM" OS-EXT-SRV-ATTR:host)
    [ "$new_host" != "$VM_HOST" ] || fail "migrated to its own host $VM_HOST"
    ok "migrated from $VM_HOST to $new_host"
    osc server resize confirm "$VM" >/dev/null
    wait_server "$VM" ACTIVE
    eq "host after confirm" "$(server_field "$VM" OS-EXT-SRV-ATTR:host)" "$new_host"
    VM_HOST=$new_host

    step "server resize --flavor; resize revert (back to the old flavor and host)"
    osc server resize --flavor "$FLAVOR_B" "$VM" >/dev/null
    wait_server "$VM" VERIFY_RESIZE
    eq "flavor while resized" "$(j .flavor.name "$(osc server show "$VM" -f json)")" "ms-$S-bigger"
    osc server resize revert "$VM" >/dev/null
    wait_server "$VM" ACTIVE
    out=$(osc server show "$VM" -f json)
    eq "flavor after revert" "$(j .flavor.name "$out")" "ms-$S-small"
    eq "host after revert" "$(j '."OS-EXT-SRV-ATTR:host"' "$out")" "$VM_HOST"

    step "server resize --flavor; resize confirm"
    osc server resize --flavor "$FLAVOR_B" "$VM" >/dev/null
    wait_server "$VM" VERIFY_RESIZE
    osc server resize confirm "$VM" >/dev/null
    wait_server "$VM" ACTIVE
    out=$(osc server show "$VM" -f json)
    eq "flavor after confirm" "$(j .flavor.name "$out")" "ms-$S-bigger"
    eq "flavor vcpus" "$(j .flavor.vcpus "$out")" 2
    VM_HOST=$(j '."OS-EXT-SRV-ATTR:host"' "$out")
else
    step "server migrate / resize on a single compute host: accepted, then no valid host"
    osc server migrate "$VM" >/dev/null
    wait_server "$VM" ACTIVE
    eq "host unchanged after migrate" "$(server_field "$VM" OS-EXT-SRV-ATTR:host)" "$VM_HOST"
    out=$(osc server event show "$VM" "$(request_of "$VM" migrate)" -f json)
    contains "migrate action's events" "$(j '[.events[] | "\(.event) \(.result)"] | join("; ")' "$out")" Error
    osc server resize --flavor "$FLAVOR_B" "$VM" >/dev/null
    wait_server "$VM" ACTIVE
    eq "flavor unchanged after resize" "$(j .flavor.name "$(osc server show "$VM" -f json)")" "ms-$S-small"
fi

step "server evacuate is refused while the host's compute service is up (400)"
out=$(must_fail "evacuating from a host that is up" "$OSC" server evacuate "$VM")
contains "evacuate refused" "$out" "400"
contains "evacuate refused" "$out" "is still in use"

step "compute service set --down; server evacuate"
osc compute service set --down "$VM_HOST" nova-compute >/dev/null
defer force_up "$VM_HOST"
out=$(osc compute service list --host "$VM_HOST" --service nova-compute --long -f json)
eq "state when forced down" "$(j '.[0].State' "$out")" down
eq "forced down" "$(j '.[0]."Forced Down"' "$out")" true
osc server evacuate "$VM" >/dev/null
if [ "${#HOSTS[@]}" -ge 2 ]; then
    # (the openstack CLI speaks the latest microversion: from 2.95 an evacuated server stops)
    wait_server "$VM" SHUTOFF
    new_host=$(server_field "$VM" OS-EXT-SRV-ATTR:host)
    [ "$new_host" != "$VM_HOST" ] || fail "evacuated to its own host $VM_HOST"
    ok "evacuated from $VM_HOST to $new_host"
    # Until the source's compute service restarts (and finds the guest gone) or the server is
    # deleted, its `done` evacuation keeps it from being forced up.
    out=$(must_fail "forcing up the source of a done evacuation" "$OSC" compute service set --up "$VM_HOST" nova-compute)
    contains "--up refused" "$out" "failed to set"
    svc=$(osc compute service list --host "$VM_HOST" --service nova-compute -f value -c ID)
    code=$(MV=2.53 api PUT "/os-services/$svc" -H 'Content-Type: application/json' -d '{"forced_down": false}')
    eq "PUT /os-services/{id} forced_down=false (what the CLI did not print)" "$code" 400
    contains "its reason" "$(jq -r .badRequest.message "$TMP/body")" "evacuation migration records remain"
else
    wait_server "$VM" ERROR
    out=$(osc server show "$VM" -f json)
    contains "fault after an evacuation with nowhere to go" "$(j .fault.message "$out")" "No valid host"
    eq "host unchanged" "$(j '."OS-EXT-SRV-ATTR:host"' "$out")" "$VM_HOST"
fi

step "server event list / show"
got=",$(actions "$VM"),"
want=(create stop start reboot pause unpause suspend resume lock unlock rescue unrescue createImage rebuild
    shelve unshelve migrate resize evacuate)
[ "${#HOSTS[@]}" -lt 2 ] || want+=(confirmResize revertResize)
for a in "${want[@]}"; do
    contains "actions" "$got" ",$a,"
done
out=$(osc server event show "$VM" "$(request_of "$VM" stop)" -f json)
eq "event show: action" "$(j .action "$out")" stop
eq "event show: request_id" "$(j .request_id "$out")" "$(request_of "$VM" stop)"
contains "event show: events" "$(j '[.events[] | "\(.event) \(.result)"] | join("; ")' "$out")" "compute_stop_instance Success"

step "server delete --wait; compute service set --up (the evacuation's source)"
osc server delete --wait "$VM" >/dev/null
wait_gone "$VM"
lacks "server list after delete" "$(osc server list -f value -c ID)" "$VM"
osc compute service set --up "$VM_HOST" nova-compute >/dev/null
out=$(osc compute service list --host "$VM_HOST" --service nova-compute --long -f json)
eq "state after --up" "$(j '.[0].State' "$out")" up
eq "forced down after --up" "$(j '.[0]."Forced Down"' "$out")" false

# --- server groups, quotas, locks of the member -----------------------------------------
step "server create --hint group=: the server joins the anti-affinity group"
out=$(osc server create --flavor "$FLAVOR_A" --image "$IMAGE" --nic none --hint "group=$GROUP" --wait "ms-$S-g1" -f json)
G1=$(j .id "$out")
defer delete_server "$G1"
G1_HOST=$(j '."OS-EXT-SRV-ATTR:host"' "$out")
eq "member of the group" "$(osc server group show "$GROUP" -f json | jq -r '.members | join(",")')" "$G1"
G2=$(osc server create --flavor "$FLAVOR_A" --image "$IMAGE" --nic none --hint "group=$GROUP" "ms-$S-g2" -f value -c id)
defer delete_server "$G2"
if [ "${#HOSTS[@]}" -ge 2 ]; then
    wait_server "$G2" ACTIVE
    g2_host=$(server_field "$G2" OS-EXT-SRV-ATTR:host)
    [ "$g2_host" != "$G1_HOST" ] || fail "both members of the anti-affinity group are on $G1_HOST"
    ok "the second member runs on $g2_host, the first on $G1_HOST"
else
    wait_server "$G2" ERROR
    contains "second member's fault (one host only)" "$(osc server show "$G2" -f json | jq -r .fault.message)" "No valid host"
fi
osc server delete --wait "$G1" "$G2" >/dev/null
eq "members after the delete" "$(osc server group show "$GROUP" -f json | jq -r '.members | length')" 0

step "the member boots on the private flavor, within its quota; a second boot is over quota"
out=$(osc_member server create --flavor "$FLAVOR_P" --image "$IMAGE" --nic none --wait "ms-$S-member-vm" -f json)
MVM=$(j .id "$out")
defer delete_server "$MVM"
eq "member's server status" "$(j .status "$out")" ACTIVE
out=$(osc quota show --compute --usage "$MEMBER_PROJECT" -f json)
eq "instances in use" "$(j '.[] | select(.Resource == "instances") | ."In Use"' "$out")" 1
out=$(must_fail "a boot over the instances quota" member_cli server create --flavor "$FLAVOR_P" --image "$IMAGE" --nic none "ms-$S-member-vm2")
contains "over quota" "$out" "403"
contains "over quota" "$out" "Quota exceeded for instances"
osc quota set --instances 20 "$MEMBER_PROJECT" >/dev/null
eq "instances after quota set" "$(limit instances "$(osc quota show --compute "$MEMBER_PROJECT" -f json)")" 20

step "a locked server cannot be deleted by the member (409); unlocked it can"
osc_member server lock "$MVM" >/dev/null
out=$(must_fail "the member deletes its locked server" member_cli server delete "$MVM")
contains "delete of a locked server" "$out" "409"
contains "delete of a locked server" "$out" "is locked"
eq "status after the refused delete" "$(server_field "$MVM" status)" ACTIVE
osc_member server unlock "$MVM" >/dev/null
osc_member server delete --wait "$MVM" >/dev/null
wait_gone "$MVM"

step "usage list"
# (the CLI asks for ?detailed=True, which Nova reads as not detailed: no server count)
out=$(osc usage list -f json)
usage_of() { jq -c --arg id "$1" '.[] | select(.Project == $id)' <<<"$out"; }
row=$(usage_of "$ADMIN_PROJECT")
nonempty "the admin project's usage" "$row"
awk -v h="$(j '."CPU Hours"' "$row")" 'BEGIN {exit !(h > 0)}' || fail "no CPU hours for the admin project: $row"
ok "admin project: $(j '."CPU Hours"' "$row") CPU hours, $(j '."RAM MB-Hours"' "$row") RAM MB-hours"
row=$(usage_of "$MEMBER_PROJECT")
nonempty "the member project's usage (its deleted server counts)" "$row"
# 128 MiB for the time the member's server lived
awk -v r="$(j '."RAM MB-Hours"' "$row")" -v c="$(j '."CPU Hours"' "$row")" 'BEGIN {d = r / c - 128; exit !(r > 0 && d < 0.01 && d > -0.01)}' ||
    fail "member project: RAM MB-hours should be 128 times its CPU hours: $row"
ok "member project: $(j '."RAM MB-Hours"' "$row") RAM MB-hours = 128 × $(j '."CPU Hours"' "$row") CPU hours"

# --- tearing down -----------------------------------------------------------------------
step "server group, key pairs, flavors, images, the member deleted"
osc server group delete "$GROUP" >/dev/null
lacks "server group list after delete" "$(osc server group list -f value -c ID)" "$GROUP"
osc keypair delete "ms-$S-gen" "ms-$S-imported" >/dev/null
lacks "keypair list after delete" "$(osc keypair list -f value -c Name)" "ms-$S-"
osc flavor unset --project "$MEMBER_PROJECT" "$FLAVOR_P" >/dev/null
eq "access after unset --project" "$(osc flavor show "$FLAVOR_P" -f json | jq -r '.access_project_ids | length')" 0
osc flavor delete "$FLAVOR_A" "$FLAVOR_B" "$FLAVOR_P" >/dev/null
lacks "flavor list --all after delete" "$(osc flavor list --all -f value -c Name)" "ms-$S-"
osc image delete "$SNAP" "$IMAGE" >/dev/null
osc user delete "$MEMBER_USER" >/dev/null
osc project delete "$MEMBER_PROJECT" >/dev/null
lacks "project list after delete" "$(osc project list -f value -c ID)" "$MEMBER_PROJECT"
CLEANUP=()
