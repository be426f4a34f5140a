#!/usr/bin/env bash
# Drives the placement API of a running cloud through the openstack CLI (osc-placement), the
# way an operator would, and checks what every command printed (not only its exit status).
#
#   tests/cli/placement.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack; the placement endpoint comes from its catalog. The admin
# of clouds.yaml builds a small provider tree with inventories, traits and aggregates, asks
# for allocation candidates, allocates, and reads usages back. osc-placement negotiates the
# highest microversion both sides speak (1.29); a few steps pin others with
# --os-placement-api-version. Every name made here carries a per-run suffix, and everything
# made is deleted again: by the test itself, or on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$OPENSTACK_VENV/bin/python" -c 'import osc_placement' 2>/dev/null || die "osc-placement is missing: run tools/install-deps first"

# osc_at VERSION ARGS...: the openstack CLI at one placement microversion.
osc_at() {
    local v=$1
    shift
    run_osc "$OSC" --os-placement-api-version "$v" "$@"
}

# column NAME TABLE-JSON: the values of one column of a `-f json` listing, sorted, comma-joined.
column() { jq -r --arg c "$1" '[.[][$c] | tostring] | sort | join(",")' <<<"$2"; }

CLASS="CUSTOM_MS_${S}_FPGA"
TRAIT="CUSTOM_MS_${S}_FAST"
AGG=$(cat /proc/sys/kernel/random/uuid)
CONSUMER=$(cat /proc/sys/kernel/random/uuid)

cli_test_begin placement

# --- the service ------------------------------------------------------------------------
step "the placement endpoint in the catalog serves its version document without a token"
tok=$(osc token issue -f json)
ADMIN_TOKEN=$(j .id "$tok")
ADMIN_PROJECT=$(j .project_id "$tok")
ADMIN_USER=$(j .user_id "$tok")
catalog=$(curl -sS -f -H "X-Auth-Token: $ADMIN_TOKEN" "$AUTH_URL/auth/catalog") || fail "GET /v3/auth/catalog failed"
PLACEMENT_URL=$(j '.catalog[] | select(.type == "placement") | .endpoints[] | select(.interface == "public") | .url' "$catalog" | head -n1)
PLACEMENT_URL=${PLACEMENT_URL%/}
nonempty "public placement endpoint" "$PLACEMENT_URL"
doc=$(curl -sS -f "$PLACEMENT_URL/") || fail "GET / failed"
eq "max_version" "$(j '.versions[0].max_version' "$doc")" 1.39
eq "min_version" "$(j '.versions[0].min_version' "$doc")" 1.0

# --- providers --------------------------------------------------------------------------
step "resource provider create: a compute node and a child (its NUMA node)"
out=$(osc resource provider create "ms-$S-host" -f json)
HOST=$(j .uuid "$out")
defer "$OSC" resource provider delete "$HOST"
nonempty "host uuid" "$HOST"
eq "generation" "$(j .generation "$out")" 0
eq "root_provider_uuid" "$(j .root_provider_uuid "$out")" "$HOST"
out=$(osc resource provider create --parent-provider "$HOST" "ms-$S-host-numa0" -f json)
NUMA=$(j .uuid "$out")
defer "$OSC" resource provider delete "$NUMA"
eq "child's parent_provider_uuid" "$(j .parent_provider_uuid "$out")" "$HOST"
eq "child's root_provider_uuid" "$(j .root_provider_uuid "$out")" "$HOST"
out=$(must_fail "a second provider of the same name" "$OSC" resource provider create "ms-$S-host")
contains "duplicate name refused" "$out" "Conflicting resource provider name"

step "resource provider list (--name, --in-tree) and show"
out=$(osc resource provider list --name "ms-$S-host" -f json)
eq "list --name" "$(column uuid "$out")" "$HOST"
out=$(osc resource provider list --in-tree "$NUMA" -f json)
eq "list --in-tree (the whole tree)" "$(column name "$out")" "ms-$S-host,ms-$S-host-numa0"
out=$(osc resource provider show "$NUMA" -f json)
eq "show name" "$(j .name "$out")" "ms-$S-host-numa0"
out=$(must_fail "showing a provider that does not exist" "$OSC" resource provider show "$AGG")
contains "unknown provider" "$out" "No resource provider with uuid $AGG found"

step "resource provider set (rename)"
out=$(osc resource provider set --name "ms-$S-host-renamed" "$HOST" -f json)
eq "new name" "$(j .name "$out")" "ms-$S-host-renamed"
eq "shown name" "$(osc resource provider show "$HOST" -f value -c name)" "ms-$S-host-renamed"

# --- classes and traits -----------------------------------------------------------------
step "resource class create/list/show; trait create/list/show"
osc resource class create "$CLASS" >/dev/null
defer "$OSC" resource class delete "$CLASS"
out=$(osc resource class list -f value -c name)
contains "resource class list" "$out" "$CLASS"
contains "standard classes" "$out" "MEMORY_MB"
osc trait create "$TRAIT" >/dev/null
defer "$OSC" trait delete "$TRAIT"
contains "trait list" "$(osc trait list -f value -c name)" "$TRAIT"
contains "standard traits" "$(osc trait list --name startswith:HW_CPU_X86_AVX -f value -c name)" "HW_CPU_X86_AVX2"
eq "trait show" "$(osc trait show "$TRAIT" -f value -c name)" "$TRAIT"
out=$(must_fail "a trait without CUSTOM_" "$OSC" trait create "MS_$S")
contains "invalid trait refused" "$out" "CUSTOM_"

# --- inventories, traits, aggregates of a provider -------------------------------------
step "resource provider inventory set/list/show"
out=$(osc resource provider inventory set "$HOST" --resource MEMORY_MB=4096 --resource MEMORY_MB:reserved=512 \
    --resource "$CLASS=2" -f json)
eq "classes set on the host" "$(column resource_class "$out")" "$CLASS,MEMORY_MB"
osc resource provider inventory set "$NUMA" --resource VCPU=8 --resource VCPU:allocation_ratio=2.0 >/dev/null
out=$(osc resource provider inventory list "$NUMA" -f json)
eq "VCPU total" "$(j '.[] | select(.resource_class == "VCPU") | .total' "$out")" 8
eq "VCPU allocation_ratio is 2" "$(j '.[] | select(.resource_class == "VCPU") | .allocation_ratio == 2' "$out")" true
out=$(osc resource provider inventory show "$HOST" MEMORY_MB -f json)
eq "MEMORY_MB reserved" "$(j .reserved "$out")" 512
eq "MEMORY_MB max_unit (placement's default)" "$(j .max_unit "$out")" 2147483647
out=$(must_fail "an inventory of an unknown class" "$OSC" resource provider inventory set "$HOST" --resource CUSTOM_MS_NOPE=1)
contains "unknown class refused" "$out" "No such resource class"

step "resource provider trait set/list"
out=$(osc resource provider trait set --trait "$TRAIT" --trait HW_CPU_X86_AVX2 "$NUMA" -f json)
eq "traits set" "$(column name "$out")" "$TRAIT,HW_CPU_X86_AVX2"
eq "trait list" "$(column name "$(osc resource provider trait list "$NUMA" -f json)")" "$TRAIT,HW_CPU_X86_AVX2"
out=$(must_fail "a trait in use cannot be deleted" "$OSC" trait delete "$TRAIT")
contains "trait in use" "$out" "in use"

step "resource provider aggregate set/list (with the provider generation, 1.19+)"
gen=$(osc resource provider show "$HOST" -f value -c generation)
out=$(osc resource provider aggregate set --aggregate "$AGG" --generation "$gen" "$HOST" -f json)
eq "aggregates set" "$(column uuid "$out")" "$AGG"
eq "aggregate list" "$(column uuid "$(osc resource provider aggregate list "$HOST" -f json)")" "$AGG"
out=$(must_fail "a stale generation" "$OSC" resource provider aggregate set --aggregate "$AGG" --generation "$gen" "$HOST")
contains "generation conflict" "$out" "generation"
eq "list --member-of" "$(column uuid "$(osc resource provider list --member-of "$AGG" -f json)")" "$HOST"

# --- candidates, allocations, usages ----------------------------------------------------
step "allocation candidate list --resource VCPU=1 (nested: VCPU from the NUMA node, memory from the host)"
out=$(osc allocation candidate list --resource VCPU=1 --resource MEMORY_MB=1024 -f json)
contains "candidate providers" "$(column 'resource provider' "$out")" "$HOST"
contains "candidate providers" "$(column 'resource provider' "$out")" "$NUMA"
out=$(osc allocation candidate list --resource VCPU=1 -f json)
contains "VCPU from the NUMA node" "$(column 'resource provider' "$out")" "$NUMA"
out=$(osc allocation candidate list --resource VCPU=1 --required "$TRAIT" -f json)
contains "--required" "$(column 'resource provider' "$out")" "$NUMA"
out=$(osc allocation candidate list --resource VCPU=1 --forbidden "$TRAIT" -f json)
lacks "--forbidden" "$(column 'resource provider' "$out")" "$NUMA"
out=$(osc allocation candidate list --resource VCPU=100 -f json)
eq "no candidate for too much" "$(j 'length' "$out")" 0

step "resource provider allocation set/show (a consumer on both providers)"
out=$(osc resource provider allocation set "$CONSUMER" --project-id "$ADMIN_PROJECT" --user-id "$ADMIN_USER" \
    --allocation "rp=$NUMA,VCPU=2" --allocation "rp=$HOST,MEMORY_MB=1024,$CLASS=1" -f json)
defer "$OSC" resource provider allocation delete "$CONSUMER"
eq "providers allocated" "$(column resource_provider "$out")" "$(printf '%s\n' "$HOST" "$NUMA" | sort | paste -sd,)"
out=$(osc resource provider allocation show "$CONSUMER" -f json)
eq "VCPU on the NUMA node" "$(j ".[] | select(.resource_provider == \"$NUMA\") | .resources.VCPU" "$out")" 2
eq "project of the consumer" "$(j '.[0].project_id' "$out")" "$ADMIN_PROJECT"
out=$(must_fail "more than the capacity" "$OSC" resource provider allocation set "$(cat /proc/sys/kernel/random/uuid)" \
    --project-id "$ADMIN_PROJECT" --user-id "$ADMIN_USER" --allocation "rp=$NUMA,VCPU=15")
contains "capacity refused" "$out" "exceed the capacity"

step "resource provider usage show; resource usage show"
out=$(osc resource provider usage show "$NUMA" -f json)
eq "NUMA VCPU usage" "$(j '.[] | select(.resource_class == "VCPU") | .usage' "$out")" 2
out=$(osc resource provider usage show "$HOST" -f json)
eq "host MEMORY_MB usage" "$(j '.[] | select(.resource_class == "MEMORY_MB") | .usage' "$out")" 1024
out=$(osc resource usage show "$ADMIN_PROJECT" -f json)
eq "project VCPU usage" "$(j '.[] | select(.resource_class == "VCPU") | .usage' "$out")" 2
eq "project $CLASS usage" "$(j ".[] | select(.resource_class == \"$CLASS\") | .usage" "$out")" 1
out=$(osc_at 1.38 resource usage show "$ADMIN_PROJECT" -f json)
eq "1.38 groups by consumer type (none given at 1.29: unknown)" "$(column resource_class "$out")" unknown
contains "1.38 counts consumers" "$out" '"consumer_count": 1'

step "what is in use cannot go away"
out=$(must_fail "deleting inventory in use" "$OSC" resource provider inventory delete "$NUMA" --resource-class VCPU)
contains "inventory in use" "$out" "in use"
out=$(must_fail "deleting a provider with allocations" "$OSC" resource provider delete "$NUMA")
contains "provider in use" "$out" "has allocations"
out=$(must_fail "deleting a parent" "$OSC" resource provider delete "$HOST")
contains "parent refused" "$out" "child resource providers"
out=$(must_fail "deleting a class in use" "$OSC" resource class delete "$CLASS")
contains "class in use" "$out" "in use"

# --- clean-up, as an operator would -----------------------------------------------------
step "allocation delete, inventory delete, trait/class/provider delete"
osc resource provider allocation delete "$CONSUMER" >/dev/null
eq "no allocations left" "$(osc resource provider allocation show "$CONSUMER" -f json)" "[]"
osc resource provider inventory delete "$NUMA" --resource-class VCPU >/dev/null
lacks "inventory after delete" "$(osc resource provider inventory list "$NUMA" -f value -c resource_class)" VCPU
osc resource provider trait delete "$NUMA" >/dev/null
eq "no traits left" "$(osc resource provider trait list "$NUMA" -f json)" "[]"
osc trait delete "$TRAIT" >/dev/null
lacks "trait list" "$(osc trait list -f value -c name)" "$TRAIT"
osc resource provider delete "$NUMA" >/dev/null
osc resource provider inventory delete "$HOST" >/dev/null
osc resource class delete "$CLASS" >/dev/null
lacks "resource class list" "$(osc resource class list -f value -c name)" "$CLASS"
osc resource provider delete "$HOST" >/dev/null
lacks "provider list" "$(osc resource provider list -f value -c uuid)" "$HOST"
CLEANUP=()
