#!/usr/bin/env bash
# Drives the image API of a running cloud through the openstack CLI and python-glanceclient, the
# way an operator would, and checks what every command printed (not only its exit status).
#
#   tests/cli/image.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack; the image endpoint comes from its catalog. The admin of
# clouds.yaml uploads qcow2 and raw images made here with qemu-img, and checks their checksums,
# sizes and bytes; a second project and user (role member) made here takes part in sharing.
# Every name made here carries a per-run suffix, and everything made is deleted again: by the
# test itself, or on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GLANCE="$OPENSTACK_VENV/bin/glance"
[ -x "$GLANCE" ] || die "no $GLANCE: run tools/install-deps first"
have qemu-img || die "qemu-img is missing: run tools/install-deps first"

# python-glanceclient does not read clouds.yaml: it gets the admin's credentials as OS_*
# variables, one NAME=VALUE a line (OS_AUTH_URL first).
mapfile -t GLANCE_ENV < <("$OPENSTACK_VENV/bin/python" - "$CLOUDS" "$CLOUD" <<'EOF'
import sys, yaml
clouds = yaml.safe_load(open(sys.argv[1]))["clouds"]
cloud = clouds.get(sys.argv[2]) or next(iter(clouds.values()))
auth = cloud["auth"]
url = auth["auth_url"].rstrip("/")
print("OS_AUTH_URL=" + (url if url.endswith("/v3") else url + "/v3"))
print("OS_USERNAME=" + auth["username"])
print("OS_PASSWORD=" + auth["password"])
print("OS_PROJECT_NAME=" + auth["project_name"])
print("OS_USER_DOMAIN_NAME=" + auth.get("user_domain_name", "Default"))
print("OS_PROJECT_DOMAIN_NAME=" + auth.get("project_domain_name", "Default"))
print("OS_REGION_NAME=" + cloud.get("region_name", "RegionOne"))
print("OS_IDENTITY_API_VERSION=3")
EOF
)
[ "${#GLANCE_ENV[@]}" -gt 0 ] || die "could not read the admin's credentials from $CLOUDS"

# --- helpers of this test (the common ones are in tests/cli/lib.sh) ----------------------
# osc_member ARGS...: the openstack CLI as the member user of the second project (its
# credentials as --os-* options). member_cli is the same without the checking, for must_fail.
osc_member() { run_osc member_cli "$@"; }
member_cli() {
    env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" --os-auth-url "$AUTH_URL" \
        --os-identity-api-version 3 --os-region-name "$REGION" --os-username "ms-$S-member" \
        --os-user-domain-id "$DOMAIN" --os-password "$MEMBER_PW" --os-project-id "$MEMBER_PROJECT" "$@"
}

# glance ARGS...: python-glanceclient as the admin (credentials in the environment of a
# subshell, so they never reach the openstack CLI or a failure message).
glance() { run_osc glance_cli "$@"; }
glance_cli() (
    unset OS_CLOUD OS_CLIENT_CONFIG_FILE
    export "${GLANCE_ENV[@]}"
    exec "$GLANCE" "$@"
)

# same_bytes WHAT FILE EXPECTED-FILE
same_bytes() {
    stop_if_failed
    cmp -s "$2" "$3" || fail "$1: $2 differs from $3"
    ok "$1: the same $(stat -c %s "$3") bytes"
}

# api TOKEN METHOD PATH [CURL-ARGS...]: a request to the image API; prints the HTTP status and
# leaves the body in $TMP/body.
api() {
    local token=$1 method=$2 path=$3
    shift 3
    curl -sS -o "$TMP/body" -w '%{http_code}' -X "$method" -H "X-Auth-Token: $token" "$@" "$IMAGE_URL$path"
}

# field NAME TABLE: the value of row NAME in a table that python-glanceclient printed; a long
# value is wrapped onto rows with an empty name, which are joined again.
field() {
    awk -F'|' -v k="$1" '
        NF < 4 { on = 0; next }
        { key = $2; value = $3; gsub(/^ +| +$/, "", key); gsub(/^ +| +$/, "", value) }
        key == k { out = value; on = 1; next }
        on && key == "" { out = out value; next }
        { on = 0 }
        END { print out }' <<<"$2"
}

# What the openstack CLI shows of an image: os_hash_* sit among the properties.
hash_value() { j '.os_hash_value // .properties.os_hash_value' "$1"; }
hash_algo() { j '.os_hash_algo // .properties.os_hash_algo' "$1"; }

md5_of() { md5sum "$1" | cut -d' ' -f1; }
sha512_of() { sha512sum "$1" | cut -d' ' -f1; }
virtual_size_of() { qemu-img info --output=json "$1" | jq -r '."virtual-size"'; }

cleanup_image() { # a protected image must be unprotected first
    "$OSC" image set --unprotected "$1" || true
    "$OSC" image delete "$1"
}

cli_test_begin image

# --- the image service ------------------------------------------------------------------
step "token issue; the image endpoint in the catalog answers"
tok=$(osc token issue -f json)
ADMIN_TOKEN=$(j .id "$tok")
ADMIN_PROJECT=$(j .project_id "$tok")
nonempty "admin token" "$ADMIN_TOKEN"
catalog=$(curl -sS -f -H "X-Auth-Token: $ADMIN_TOKEN" "$AUTH_URL/auth/catalog") || fail "GET /v3/auth/catalog failed"
IMAGE_URL=$(j '.catalog[] | select(.type == "image") | .endpoints[] | select(.interface == "public") | .url' "$catalog" | head -n1)
IMAGE_URL=${IMAGE_URL%/}
nonempty "public image endpoint" "$IMAGE_URL"
code=$(api "$ADMIN_TOKEN" GET /versions)
eq "GET /versions" "$code" 200
contains "current image API version" "$(jq -r '.versions[] | select(.status == "CURRENT") | .id' "$TMP/body")" v2.

step "a second project and user (role member) to share images with"
DOMAIN=$(osc project show "$ADMIN_PROJECT" -f value -c domain_id)
nonempty "admin's domain" "$DOMAIN"
out=$(osc project create --domain "$DOMAIN" --description "image sharing $S" "ms-$S-member" -f json)
MEMBER_PROJECT=$(j .id "$out")
defer "$OSC" project delete "$MEMBER_PROJECT"
nonempty "member project id" "$MEMBER_PROJECT"
MEMBER_PW="pw-$S-$RANDOM"
out=$(osc user create --domain "$DOMAIN" --project "$MEMBER_PROJECT" --password "$MEMBER_PW" "ms-$S-member" -f json)
MEMBER_USER=$(j .id "$out")
defer "$OSC" user delete "$MEMBER_USER"
nonempty "member user id" "$MEMBER_USER"
osc role add --user "$MEMBER_USER" --project "$MEMBER_PROJECT" member >/dev/null
MEMBER_TOKEN=$(osc_member token issue -f value -c id)
nonempty "member token" "$MEMBER_TOKEN"

step "image files: a qcow2 (qemu-img convert of random data), a raw file, a small raw file"
head -c 3M /dev/urandom >"$TMP/seed.raw"
qemu-img convert -f raw -O qcow2 "$TMP/seed.raw" "$TMP/disk.qcow2"
eq "qemu-img info: format" "$(qemu-img info --output=json "$TMP/disk.qcow2" | jq -r .format)" qcow2
QCOW2_VSIZE=$(virtual_size_of "$TMP/disk.qcow2")
eq "qemu-img info: virtual size" "$QCOW2_VSIZE" 3145728
head -c 1048583 /dev/urandom >"$TMP/disk.raw" # 1 MiB and 7 bytes: an odd size on purpose
printf 'monostack image test %s\n' "$S" >"$TMP/tiny.raw"
ok "made $(stat -c %s "$TMP/disk.qcow2") + $(stat -c %s "$TMP/disk.raw") + $(stat -c %s "$TMP/tiny.raw") bytes"

# --- create, show -----------------------------------------------------------------------
step "image create --file (qcow2, --shared, --property, --tag)"
out=$(osc image create --file "$TMP/disk.qcow2" --disk-format qcow2 --container-format bare --shared \
    --property ms_purpose=test --property "ms_run=$S" --tag "ms-$S-alpha" --tag "ms-$S-beta" \
    "ms-$S-qcow2" -f json)
IMG_Q=$(j .id "$out")
defer cleanup_image "$IMG_Q"
nonempty "qcow2 image id" "$IMG_Q"
eq "qcow2 image status" "$(j .status "$out")" active
eq "qcow2 image visibility" "$(j .visibility "$out")" shared

step "image create --file (raw, --public, --protected) and (raw, --community)"
out=$(osc image create --file "$TMP/disk.raw" --disk-format raw --container-format bare --public --protected \
    --property "ms_run=$S" --tag "ms-$S-gamma" "ms-$S-raw" -f json)
IMG_R=$(j .id "$out")
defer cleanup_image "$IMG_R"
nonempty "raw image id" "$IMG_R"
eq "raw image status" "$(j .status "$out")" active
eq "raw image visibility" "$(j .visibility "$out")" public
eq "raw image protected" "$(j .protected "$out")" true
out=$(osc image create --file "$TMP/tiny.raw" --disk-format raw --container-format bare --community \
    --property "ms_run=$S" "ms-$S-community" -f json)
IMG_C=$(j .id "$out")
defer cleanup_image "$IMG_C"
nonempty "community image id" "$IMG_C"
eq "community image visibility" "$(j .visibility "$out")" community

step "image show (qcow2): checksum, hashes, sizes, formats, properties, tags"
out=$(osc image show "$IMG_Q" -f json)
eq "name" "$(j .name "$out")" "ms-$S-qcow2"
eq "status" "$(j .status "$out")" active
eq "disk_format" "$(j .disk_format "$out")" qcow2
eq "container_format" "$(j .container_format "$out")" bare
eq "size (the file's)" "$(j .size "$out")" "$(stat -c %s "$TMP/disk.qcow2")"
eq "virtual_size (qemu-img info's)" "$(j .virtual_size "$out")" "$QCOW2_VSIZE"
eq "checksum (md5sum)" "$(j .checksum "$out")" "$(md5_of "$TMP/disk.qcow2")"
eq "os_hash_algo" "$(hash_algo "$out")" sha512
eq "os_hash_value (sha512sum)" "$(hash_value "$out")" "$(sha512_of "$TMP/disk.qcow2")"
eq "owner" "$(j .owner "$out")" "$ADMIN_PROJECT"
eq "protected" "$(j .protected "$out")" false
eq "property ms_purpose" "$(j .properties.ms_purpose "$out")" test
eq "tags" "$(j '.tags | sort | join(",")' "$out")" "ms-$S-alpha,ms-$S-beta"

step "image show (raw): checksum, hashes, sizes"
out=$(osc image show "$IMG_R" -f json)
eq "size (the file's)" "$(j .size "$out")" 1048583
eq "virtual_size (a raw image's is its size)" "$(j .virtual_size "$out")" 1048583
eq "checksum (md5sum)" "$(j .checksum "$out")" "$(md5_of "$TMP/disk.raw")"
eq "os_hash_value (sha512sum)" "$(hash_value "$out")" "$(sha512_of "$TMP/disk.raw")"
eq "protected" "$(j .protected "$out")" true
eq "tags" "$(j '.tags | join(",")' "$out")" "ms-$S-gamma"

# --- list and its filters ---------------------------------------------------------------
step "image list; --property, --tag, --status, --name, --sort, visibility filters"
out=$(osc image list -f value -c ID -c Name -c Status)
contains "image list" "$out" "$IMG_Q ms-$S-qcow2 active"
contains "image list" "$out" "$IMG_R ms-$S-raw active"
contains "image list (the owner sees its community image)" "$out" "$IMG_C ms-$S-community active"
out=$(osc image list --property ms_purpose=test -f value -c ID)
contains "image list --property ms_purpose=test" "$out" "$IMG_Q"
lacks "image list --property ms_purpose=test" "$out" "$IMG_R"
out=$(osc image list --tag "ms-$S-alpha" -f value -c ID)
eq "image list --tag ms-$S-alpha" "$out" "$IMG_Q"
out=$(osc image list --tag "ms-$S-gamma" -f value -c ID)
eq "image list --tag ms-$S-gamma" "$out" "$IMG_R"
contains "image list --status active" "$(osc image list --status active -f value -c ID)" "$IMG_Q"
lacks "image list --status queued" "$(osc image list --status queued -f value -c ID)" "$IMG_Q"
eq "image list --name ms-$S-raw" "$(osc image list --name "ms-$S-raw" -f value -c ID)" "$IMG_R"
out=$(osc image list --property "ms_run=$S" --sort name:desc -f value -c ID | paste -sd' ')
eq "image list --property ms_run --sort name:desc" "$out" "$IMG_R $IMG_Q $IMG_C"
out=$(osc image list --property "ms_run=$S" --sort name:asc -f value -c ID | paste -sd' ')
eq "image list --property ms_run --sort name:asc" "$out" "$IMG_C $IMG_Q $IMG_R"
out=$(osc image list --public -f value -c ID)
contains "image list --public" "$out" "$IMG_R"
lacks "image list --public" "$out" "$IMG_Q"
out=$(osc image list --shared -f value -c ID)
contains "image list --shared" "$out" "$IMG_Q"
lacks "image list --shared" "$out" "$IMG_R"
eq "image list --community --property ms_run" \
    "$(osc image list --community --property "ms_run=$S" -f value -c ID)" "$IMG_C"
out=$(osc image list --long --tag "ms-$S-gamma" -f json)
eq "image list --long: Visibility" "$(j '.[0].Visibility' "$out")" public
eq "image list --long: Protected" "$(j '.[0].Protected' "$out")" true
eq "image list --long: Disk Format" "$(j '.[0]["Disk Format"]' "$out")" raw
eq "image list --long: Checksum" "$(j '.[0].Checksum' "$out")" "$(md5_of "$TMP/disk.raw")"

# --- set, unset -------------------------------------------------------------------------
step "image set --name --property --tag --protected"
osc image set --name "ms-$S-qcow2-renamed" --property ms_extra=x1 --tag "ms-$S-delta" --protected "$IMG_Q" >/dev/null
out=$(osc image show "$IMG_Q" -f json)
eq "name after set" "$(j .name "$out")" "ms-$S-qcow2-renamed"
eq "property ms_extra after set" "$(j .properties.ms_extra "$out")" x1
eq "property ms_purpose kept" "$(j .properties.ms_purpose "$out")" test
eq "tags after set" "$(j '.tags | sort | join(",")' "$out")" "ms-$S-alpha,ms-$S-beta,ms-$S-delta"
eq "protected after set" "$(j .protected "$out")" true
eq "checksum unchanged" "$(j .checksum "$out")" "$(md5_of "$TMP/disk.qcow2")"

step "image unset --property --tag"
osc image unset --property ms_extra --tag "ms-$S-beta" "$IMG_Q" >/dev/null
out=$(osc image show "$IMG_Q" -f json)
eq "property ms_extra after unset" "$(j '.properties.ms_extra // "absent"' "$out")" absent
eq "property ms_purpose kept" "$(j .properties.ms_purpose "$out")" test
eq "tags after unset" "$(j '.tags | sort | join(",")' "$out")" "ms-$S-alpha,ms-$S-delta"
lacks "image list --tag ms-$S-beta" "$(osc image list --tag "ms-$S-beta" -f value -c ID)" "$IMG_Q"

# --- download ---------------------------------------------------------------------------
step "image save --file: the bytes that were uploaded"
osc image save --file "$TMP/q.out" "$IMG_Q" >/dev/null
same_bytes "image save (qcow2)" "$TMP/q.out" "$TMP/disk.qcow2"
osc image save --file "$TMP/r.out" "$IMG_R" >/dev/null
same_bytes "image save (raw)" "$TMP/r.out" "$TMP/disk.raw"
code=$(api "$ADMIN_TOKEN" GET "/v2/images/$IMG_C/file")
eq "GET /v2/images/{id}/file (community)" "$code" 200
same_bytes "downloaded community image" "$TMP/body" "$TMP/tiny.raw"

# --- protection -------------------------------------------------------------------------
step "a protected image can't be deleted; once unprotected it can (later)"
out=$(must_fail "deleting a protected image" "$OSC" image delete "$IMG_Q")
ok "image delete of a protected image failed: $(tail -n1 <<<"$out")"
code=$(api "$ADMIN_TOKEN" DELETE "/v2/images/$IMG_Q")
eq "DELETE /v2/images/{id} of a protected image" "$code" 403
eq "status after the refused delete" "$(osc image show "$IMG_Q" -f value -c status)" active
osc image set --unprotected "$IMG_Q" >/dev/null
out=$(osc image show "$IMG_Q" -f json)
eq "protected after --unprotected" "$(j .protected "$out")" false

# --- sharing ----------------------------------------------------------------------------
step "visibility as seen by the member project"
out=$(osc_member image list -f value -c ID)
contains "member's image list (public)" "$out" "$IMG_R"
lacks "member's image list (shared, not yet a member)" "$out" "$IMG_Q"
lacks "member's image list (community images are not listed by default)" "$out" "$IMG_C"
contains "member's image list --community" "$(osc_member image list --community -f value -c ID)" "$IMG_C"
eq "member can show a community image" "$(osc_member image show "$IMG_C" -f value -c name)" "ms-$S-community"
must_fail "member shows an image not shared with it" member_cli image show "$IMG_Q" >/dev/null
ok "a shared image is hidden from a non-member"

step "image add project; the member accepts (image set --accept) and sees it"
out=$(osc image add project "$IMG_Q" "$MEMBER_PROJECT" -f json)
eq "member_id" "$(j .member_id "$out")" "$MEMBER_PROJECT"
eq "member status" "$(j .status "$out")" pending
contains "image member list" "$(osc image member list "$IMG_Q" -f value -c "Member ID" -c Status)" "$MEMBER_PROJECT pending"
lacks "member's image list while pending" "$(osc_member image list -f value -c ID)" "$IMG_Q"
osc_member image set --accept "$IMG_Q" >/dev/null
contains "image member list after accept" "$(osc image member list "$IMG_Q" -f value -c "Member ID" -c Status)" "$MEMBER_PROJECT accepted"
contains "member's image list after accept" "$(osc_member image list -f value -c ID -c Name)" "$IMG_Q ms-$S-qcow2-renamed"
out=$(osc_member image show "$IMG_Q" -f json)
eq "member's image show: checksum" "$(j .checksum "$out")" "$(md5_of "$TMP/disk.qcow2")"
osc_member image save --file "$TMP/m.out" "$IMG_Q" >/dev/null
same_bytes "member's image save" "$TMP/m.out" "$TMP/disk.qcow2"
must_fail "member renames an image it doesn't own" member_cli image set --name "stolen-$S" "$IMG_Q" >/dev/null
eq "name after the member's refused set" "$(osc image show "$IMG_Q" -f value -c name)" "ms-$S-qcow2-renamed"

# --- deactivation -----------------------------------------------------------------------
step "image set --deactivate: downloads refused (403 for non-admin); --activate"
osc image set --deactivate "$IMG_Q" >/dev/null
eq "status after --deactivate" "$(osc image show "$IMG_Q" -f value -c status)" deactivated
contains "image list --status deactivated" "$(osc image list --status deactivated -f value -c ID)" "$IMG_Q"
code=$(api "$MEMBER_TOKEN" GET "/v2/images/$IMG_Q/file")
eq "member's GET /v2/images/{id}/file of a deactivated image" "$code" 403
must_fail "member's image save of a deactivated image" member_cli image save --file "$TMP/m2.out" "$IMG_Q" >/dev/null
ok "member's image save refused"
# (as in Glance, an admin may still download a deactivated image, to inspect it)
code=$(api "$ADMIN_TOKEN" GET "/v2/images/$IMG_Q/file")
eq "admin's GET /v2/images/{id}/file of a deactivated image" "$code" 200
osc image set --activate "$IMG_Q" >/dev/null
eq "status after --activate" "$(osc image show "$IMG_Q" -f value -c status)" active
code=$(api "$MEMBER_TOKEN" GET "/v2/images/$IMG_Q/file")
eq "member's GET /v2/images/{id}/file after --activate" "$code" 200
same_bytes "member's download after --activate" "$TMP/body" "$TMP/disk.qcow2"

step "image remove project: the member loses the image"
osc image remove project "$IMG_Q" "$MEMBER_PROJECT" >/dev/null
lacks "image member list after remove" "$(osc image member list "$IMG_Q" -f value -c "Member ID")" "$MEMBER_PROJECT"
lacks "member's image list after remove" "$(osc_member image list -f value -c ID)" "$IMG_Q"
code=$(api "$MEMBER_TOKEN" GET "/v2/images/$IMG_Q")
eq "member's GET /v2/images/{id} after remove" "$code" 404

# --- uploads that must be refused -------------------------------------------------------
# refused_upload NAME FILE DISK-FORMAT: the same upload through the API, to see the status the
# image is left in (the openstack CLI deletes an image whose upload failed).
refused_upload() {
    local name=$1 file=$2 format=$3 code id
    code=$(api "$ADMIN_TOKEN" POST /v2/images -H 'Content-Type: application/json' \
        -d "{\"name\": \"$name\", \"disk_format\": \"$format\", \"container_format\": \"bare\"}")
    eq "POST /v2/images ($name)" "$code" 201
    id=$(jq -r .id "$TMP/body")
    defer "$OSC" image delete "$id"
    code=$(api "$ADMIN_TOKEN" PUT "/v2/images/$id/file" -H 'Content-Type: application/octet-stream' --data-binary "@$file")
    case "$code" in
        400 | 415) ok "PUT /v2/images/{id}/file refused with $code: $(jq -r '.. | .message? // empty' "$TMP/body" 2>/dev/null | head -n1)" ;;
        *) fail "PUT /v2/images/{id}/file: expected 400 or 415, got $code" ;;
    esac
    code=$(api "$ADMIN_TOKEN" GET "/v2/images/$id")
    eq "GET /v2/images/{id} after the refused upload" "$code" 200
    case "$(jq -r .status "$TMP/body")" in
        queued | killed) ok "status after the refused upload = $(jq -r .status "$TMP/body")" ;;
        *) fail "status after the refused upload: expected queued or killed, got $(jq -r .status "$TMP/body")" ;;
    esac
    eq "size after the refused upload" "$(jq -r .size "$TMP/body")" null
    code=$(api "$ADMIN_TOKEN" DELETE "/v2/images/$id")
    eq "DELETE /v2/images/{id} ($name)" "$code" 204
}

step "a qcow2 with a backing file (qemu-img create -b /etc/passwd) is refused"
qemu-img create -q -f qcow2 -b /etc/passwd -F raw "$TMP/backed.qcow2"
contains "qemu-img info: backing file" "$(qemu-img info --output=json "$TMP/backed.qcow2" | jq -r '."backing-filename"')" /etc/passwd
out=$(must_fail "image create of a qcow2 with a backing file" "$OSC" image create --file "$TMP/backed.qcow2" \
    --disk-format qcow2 --container-format bare "ms-$S-backed")
ok "image create failed: $(tail -n1 <<<"$out")"
defer "$OSC" image delete "ms-$S-backed"
lacks "status of images named ms-$S-backed" "$(osc image list --name "ms-$S-backed" -f value -c Status)" active
refused_upload "ms-$S-backed-api" "$TMP/backed.qcow2" qcow2

step "a raw file declared qcow2 is refused"
out=$(must_fail "image create of raw data as qcow2" "$OSC" image create --file "$TMP/disk.raw" \
    --disk-format qcow2 --container-format bare "ms-$S-mislabelled")
ok "image create failed: $(tail -n1 <<<"$out")"
defer "$OSC" image delete "ms-$S-mislabelled"
lacks "status of images named ms-$S-mislabelled" "$(osc image list --name "ms-$S-mislabelled" -f value -c Status)" active
refused_upload "ms-$S-mislabelled-api" "$TMP/disk.raw" qcow2

# --- python-glanceclient ----------------------------------------------------------------
step "glance image-create --file --progress / image-list / image-show / image-download"
out=$(glance image-create --name "ms-$S-glance" --file "$TMP/disk.qcow2" --disk-format qcow2 \
    --container-format bare --property "ms_run=$S" --progress)
GID=$(field id "$out")
defer "$OSC" image delete "$GID"
nonempty "glance image-create: id" "$GID"
eq "glance image-create: status" "$(field status "$out")" active
eq "glance image-create: size" "$(field size "$out")" "$(stat -c %s "$TMP/disk.qcow2")"
contains "glance image-list" "$(glance image-list)" "$GID"
out=$(glance image-show "$GID")
eq "glance image-show: name" "$(field name "$out")" "ms-$S-glance"
eq "glance image-show: disk_format" "$(field disk_format "$out")" qcow2
eq "glance image-show: checksum (md5sum)" "$(field checksum "$out")" "$(md5_of "$TMP/disk.qcow2")"
eq "glance image-show: os_hash_value (sha512sum)" "$(field os_hash_value "$out")" "$(sha512_of "$TMP/disk.qcow2")"
eq "glance image-show: virtual_size" "$(field virtual_size "$out")" "$QCOW2_VSIZE"
eq "glance image-show: property ms_run" "$(field ms_run "$out")" "$S"
glance image-download --file "$TMP/g.out" "$GID" >/dev/null
same_bytes "glance image-download" "$TMP/g.out" "$TMP/disk.qcow2"

step "glance image-delete"
glance image-delete "$GID" >/dev/null
lacks "glance image-list after delete" "$(glance image-list)" "$GID"
must_fail "glance image-show after delete" glance_cli image-show "$GID" >/dev/null
ok "glance image-show of the deleted image failed"

# --- tearing down -----------------------------------------------------------------------
step "image delete: protected refused until --unprotected; then all gone"
must_fail "deleting the protected raw image" "$OSC" image delete "$IMG_R" >/dev/null
ok "the protected raw image can't be deleted"
osc image set --unprotected "$IMG_R" >/dev/null
osc image delete "$IMG_Q" "$IMG_R" "$IMG_C" >/dev/null
out=$(osc image list -f value -c ID)
lacks "image list after delete" "$out" "$IMG_Q"
lacks "image list after delete" "$out" "$IMG_R"
lacks "image list after delete" "$out" "$IMG_C"
must_fail "image show after delete" "$OSC" image show "$IMG_Q" >/dev/null
ok "image show of a deleted image failed"
code=$(api "$ADMIN_TOKEN" GET "/v2/images/$IMG_R/file")
eq "GET /v2/images/{id}/file after delete" "$code" 404

step "delete the member user and project"
osc user delete "$MEMBER_USER" >/dev/null
osc project delete "$MEMBER_PROJECT" >/dev/null
lacks "project list after delete" "$(osc project list -f value -c ID)" "$MEMBER_PROJECT"
CLEANUP=()
