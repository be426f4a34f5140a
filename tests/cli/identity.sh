#!/usr/bin/env bash
# Drives the identity API of a running cloud through the openstack CLI, the way an operator
# would, and checks what every command printed (not only its exit status).
#
#   tests/cli/identity.sh
#
# The cloud is the one in $MONOSTACK_CLOUDS_YAML, else <state>/clouds.yaml (see tools/tempest),
# cloud name $OS_CLOUD or monostack. Every name made here carries a per-run suffix, and
# everything made is deleted again: by the test itself, or on failure by a clean-up trap.
set -euo pipefail
# shellcheck source=tools/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib/common.sh"

# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# osc_bare ARGS...: the CLI without clouds.yaml, the credentials given as --os-* options
# (a user's password, a token, an application credential).
osc_bare() { run_osc env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" --os-auth-url "$AUTH_URL" \
    --os-identity-api-version 3 --os-region-name "$REGION" "$@"; }
cleanup_domain() { # disable, then delete
    "$OSC" domain set --disable "$1" || true
    "$OSC" domain delete "$1"
}

cli_test_begin identity

# --- tokens -----------------------------------------------------------------------------
step "token issue"
tok=$(osc token issue -f json)
ADMIN_TOKEN=$(j .id "$tok")
ADMIN_PROJECT=$(j .project_id "$tok")
ADMIN_USER=$(j .user_id "$tok")
nonempty "token id" "$ADMIN_TOKEN"
nonempty "token project_id" "$ADMIN_PROJECT"
nonempty "token user_id" "$ADMIN_USER"
nonempty "token expires" "$(j .expires "$tok")"
eq "admin project name" "$(osc project show "$ADMIN_PROJECT" -f value -c name)" admin

step "token validate (GET /v3/auth/tokens)"
body=$(curl -sS -f -H "X-Auth-Token: $ADMIN_TOKEN" -H "X-Subject-Token: $ADMIN_TOKEN" "$AUTH_URL/auth/tokens") ||
    fail "validating a fresh token failed"
eq "validated token's project" "$(j .token.project.id "$body")" "$ADMIN_PROJECT"
eq "validated token's user" "$(j .token.user.id "$body")" "$ADMIN_USER"
contains "validated token's roles" "$(j '.token.roles[].name' "$body")" admin

step "token revoke: the revoked token stops working"
victim=$(osc token issue -f value -c id)
nonempty "second token" "$victim"
out=$(osc_bare --os-auth-type token --os-token "$victim" --os-project-id "$ADMIN_PROJECT" project list -f value -c ID)
contains "project list with the token before revocation" "$out" "$ADMIN_PROJECT"
osc token revoke "$victim" >/dev/null
ok "token revoke exited 0"
out=$(must_fail "project list with a revoked token" env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" \
    --os-auth-url "$AUTH_URL" --os-identity-api-version 3 --os-auth-type token --os-token "$victim" \
    --os-project-id "$ADMIN_PROJECT" project list)
ok "project list with the revoked token failed: $(tail -n1 <<<"$out")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $ADMIN_TOKEN" -H "X-Subject-Token: $victim" "$AUTH_URL/auth/tokens")
eq "GET /v3/auth/tokens for the revoked token" "$code" 404

# --- catalog: region, service, endpoint -------------------------------------------------
step "region create/list/show/set"
REGION_ID="ms-$S-region"
out=$(osc region create --description "test region $S" "$REGION_ID" -f json)
defer "$OSC" region delete "$REGION_ID"
eq "region id" "$(j .region "$out")" "$REGION_ID"
contains "region list" "$(osc region list -f value -c Region)" "$REGION_ID"
osc region set --description "renamed $S" "$REGION_ID" >/dev/null
eq "region description after set" "$(osc region show "$REGION_ID" -f value -c description)" "renamed $S"

step "service create/list/show/set"
out=$(osc service create --name "ms-$S-svc" --description "test service" "ms-$S-type" -f json)
SVC_ID=$(j .id "$out")
defer "$OSC" service delete "$SVC_ID"
nonempty "service id" "$SVC_ID"
eq "service type" "$(j .type "$out")" "ms-$S-type"
contains "service list" "$(osc service list -f value -c ID -c Name)" "$SVC_ID ms-$S-svc"
osc service set --description "described $S" "$SVC_ID" >/dev/null
out=$(osc service show "$SVC_ID" -f json)
eq "service name" "$(j .name "$out")" "ms-$S-svc"
eq "service description after set" "$(j .description "$out")" "described $S"

step "endpoint create/list/show/set/delete"
url1="http://127.0.0.1:9/ms-$S/v1"
url2="http://127.0.0.1:9/ms-$S/v2"
out=$(osc endpoint create --region "$REGION_ID" "$SVC_ID" public "$url1" -f json)
EP_ID=$(j .id "$out")
defer "$OSC" endpoint delete "$EP_ID"
nonempty "endpoint id" "$EP_ID"
eq "endpoint interface" "$(j .interface "$out")" public
eq "endpoint region" "$(j .region_id "$out")" "$REGION_ID"
contains "endpoint list --service" "$(osc endpoint list --service "$SVC_ID" -f value -c ID -c URL)" "$EP_ID $url1"
osc endpoint set --url "$url2" "$EP_ID" >/dev/null
eq "endpoint url after set" "$(osc endpoint show "$EP_ID" -f value -c url)" "$url2"
osc endpoint delete "$EP_ID" >/dev/null
lacks "endpoint list after delete" "$(osc endpoint list -f value -c ID)" "$EP_ID"

step "service and region delete"
osc service delete "$SVC_ID" >/dev/null
lacks "service list after delete" "$(osc service list -f value -c ID)" "$SVC_ID"
osc region delete "$REGION_ID" >/dev/null
lacks "region list after delete" "$(osc region list -f value -c Region)" "$REGION_ID"
must_fail "region show after delete" "$OSC" region show "$REGION_ID" >/dev/null
ok "region show after delete failed"

step "catalog list / show"
out=$(osc catalog list -f json)
contains "catalog types" "$(j '.[].Type' "$out")" identity
contains "identity endpoints" "$(j '.[] | select(.Type == "identity") | .Endpoints' "$out")" "${AUTH_URL%/v3}"
out=$(osc catalog show identity -f json)
eq "catalog show identity: type" "$(j .type "$out")" identity

# --- domain, projects -------------------------------------------------------------------
step "domain create/list/show/set"
out=$(osc domain create --description "test domain $S" "ms-$S-domain" -f json)
DOM=$(j .id "$out")
defer cleanup_domain "$DOM"
nonempty "domain id" "$DOM"
eq "domain enabled" "$(j .enabled "$out")" true
contains "domain list" "$(osc domain list -f value -c ID -c Name)" "$DOM ms-$S-domain"
osc domain set --description "changed $S" "$DOM" >/dev/null
eq "domain description after set" "$(osc domain show "$DOM" -f value -c description)" "changed $S"

step "project create (with tags) / child project (--parent)"
out=$(osc project create --domain "$DOM" --description "parent $S" --tag alpha --tag beta "ms-$S-parent" -f json)
PROJ=$(j .id "$out")
defer "$OSC" project delete "$PROJ"
nonempty "project id" "$PROJ"
eq "project domain_id" "$(j .domain_id "$out")" "$DOM"
out=$(osc project create --domain "$DOM" --parent "$PROJ" "ms-$S-child" -f json)
CHILD=$(j .id "$out")
defer "$OSC" project delete "$CHILD"
eq "child parent_id" "$(j .parent_id "$out")" "$PROJ"

step "project list/show/set"
out=$(osc project list --domain "$DOM" -f value -c ID -c Name)
contains "project list --domain" "$out" "$PROJ ms-$S-parent"
contains "project list --domain" "$out" "$CHILD ms-$S-child"
contains "project list --tags alpha" "$(osc project list --tags alpha -f value -c ID)" "$PROJ"
lacks "project list --tags alpha" "$(osc project list --tags alpha -f value -c ID)" "$CHILD"
out=$(osc project show "$PROJ" -f json)
eq "project tags" "$(j '.tags | sort | join(",")' "$out")" "alpha,beta"
eq "project description" "$(j .description "$out")" "parent $S"
osc project set --tag gamma --description "reparented $S" "$PROJ" >/dev/null
osc project set --remove-tag alpha "$PROJ" >/dev/null
out=$(osc project show "$PROJ" -f json)
eq "project tags after set" "$(j '.tags | sort | join(",")' "$out")" "beta,gamma"
eq "project description after set" "$(j .description "$out")" "reparented $S"
osc project set --disable "$CHILD" >/dev/null
eq "child enabled after --disable" "$(osc project show "$CHILD" -f value -c enabled)" False
osc project set --enable "$CHILD" >/dev/null
eq "child enabled after --enable" "$(osc project show "$CHILD" -f value -c enabled)" True

# --- users, groups ----------------------------------------------------------------------
step "user create/list/show/set"
PW1="pw1-$S-$RANDOM"
out=$(osc user create --domain "$DOM" --project "$PROJ" --password "$PW1" --email "u$S@example.invalid" "ms-$S-user" -f json)
USR=$(j .id "$out")
defer "$OSC" user delete "$USR"
nonempty "user id" "$USR"
eq "user domain_id" "$(j .domain_id "$out")" "$DOM"
eq "user default_project_id" "$(j .default_project_id "$out")" "$PROJ"
lacks "user create output" "$out" "$PW1"
contains "user list --domain" "$(osc user list --domain "$DOM" -f value -c ID -c Name)" "$USR ms-$S-user"
osc user set --email "changed$S@example.invalid" "$USR" >/dev/null
eq "user email after set" "$(osc user show "$USR" -f value -c email)" "changed$S@example.invalid"

step "group create/list; add user / contains / remove user"
out=$(osc group create --domain "$DOM" --description "test group" "ms-$S-group" -f json)
GRP=$(j .id "$out")
defer "$OSC" group delete "$GRP"
nonempty "group id" "$GRP"
contains "group list --domain" "$(osc group list --domain "$DOM" -f value -c ID -c Name)" "$GRP ms-$S-group"
osc group add user "$GRP" "$USR" >/dev/null
contains "group contains user" "$(osc group contains user "$GRP" "$USR" 2>&1)" "in group"
contains "user list --group" "$(osc user list --group "$GRP" -f value -c ID)" "$USR"
contains "group list --user" "$(osc group list --user "$USR" -f value -c ID)" "$GRP"

# --- roles and assignments --------------------------------------------------------------
step "role create/list/show (global and domain-specific)"
out=$(osc role create --description "test role" "ms-$S-role" -f json)
ROLE=$(j .id "$out")
defer "$OSC" role delete "$ROLE"
nonempty "role id" "$ROLE"
contains "role list" "$(osc role list -f value -c ID -c Name)" "$ROLE ms-$S-role"
out=$(osc role create --domain "$DOM" "ms-$S-drole" -f json)
DROLE=$(j .id "$out")
defer "$OSC" role delete "$DROLE"
eq "domain role domain_id" "$(j .domain_id "$out")" "$DOM"
contains "role list --domain" "$(osc role list --domain "$DOM" -f value -c ID -c Name)" "$DROLE ms-$S-drole"
lacks "global role list" "$(osc role list -f value -c ID)" "$DROLE"
eq "role show --domain" "$(osc role show --domain "$DOM" "ms-$S-drole" -f value -c id)" "$DROLE"
osc role set --description "described $S" "$ROLE" >/dev/null
eq "role description after set" "$(osc role show "$ROLE" -f value -c description)" "described $S"

step "role add (user and group on a project) / role assignment list"
osc role add --user "$USR" --project "$PROJ" member >/dev/null
osc role add --group "$GRP" --project "$PROJ" "$ROLE" >/dev/null
out=$(osc role assignment list --project "$PROJ" --names -f json)
rows=$(j '.[] | "\(.Role) \(.User // "") \(.Group // "") \(.Project)"' "$out")
contains "assignments --names" "$rows" "member ms-$S-user@ms-$S-domain  ms-$S-parent@ms-$S-domain"
contains "assignments --names" "$rows" "ms-$S-role  ms-$S-group@ms-$S-domain ms-$S-parent@ms-$S-domain"
member_id=$(osc role show member -f value -c id)
out=$(osc role assignment list --user "$USR" --project "$PROJ" --effective -f json)
roles=$(j '[.[].Role] | join(" ")' "$out")
contains "effective role ids (direct)" "$roles" "$member_id"
contains "effective role ids (through the group)" "$roles" "$ROLE"
lacks "effective assignments (no group rows)" "$(j '[.[].Group // ""] | join("")' "$out")" "$GRP"

step "implied role create/list; effective assignments follow it; delete"
out=$(osc implied role create "$ROLE" --implied-role "$member_id" -f json)
defer "$OSC" implied role delete "$ROLE" --implied-role "$member_id"
eq "implied role: prior" "$(j .prior_role "$out")" "$ROLE"
eq "implied role: implied" "$(j .implies "$out")" "$member_id"
out=$(osc implied role list -f json)
contains "implied role list" "$(j '.[] | "\(.["Prior Role ID"]) \(.["Implied Role ID"])"' "$out")" "$ROLE $member_id"
osc role remove --user "$USR" --project "$PROJ" member >/dev/null
roles=$(osc role assignment list --user "$USR" --project "$PROJ" --effective -f value -c Role)
contains "effective roles without the direct member (group role implies it)" "$roles" "$member_id"
osc implied role delete "$ROLE" --implied-role "$member_id" >/dev/null
out=$(osc implied role list -f json)
lacks "implied role list after delete" "$(j '.[] | "\(.["Prior Role ID"]) \(.["Implied Role ID"])"' "$out")" "$ROLE $member_id"
roles=$(osc role assignment list --user "$USR" --project "$PROJ" --effective -f value -c Role)
lacks "effective roles once the implication is gone" "$roles" "$member_id"
osc role add --user "$USR" --project "$PROJ" member >/dev/null

# --- passwords --------------------------------------------------------------------------
user_token() { # user_token PASSWORD -> token id (fails the test if it can't log in)
    osc_bare --os-username "ms-$S-user" --os-user-domain-id "$DOM" --os-password "$1" \
        --os-project-id "$PROJ" token issue -f value -c id
}
user_login_fails() {
    must_fail "login with $2" env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" --os-auth-url "$AUTH_URL" \
        --os-identity-api-version 3 --os-username "ms-$S-user" --os-user-domain-id "$DOM" \
        --os-password "$1" --os-project-id "$PROJ" token issue >/dev/null
    ok "login with $2 refused"
}

step "user password: admin sets it; the user changes it"
nonempty "user token with the first password" "$(user_token "$PW1")"
PW2="pw2-$S-$RANDOM"
osc user set --password "$PW2" "$USR" >/dev/null
user_login_fails "$PW1" "the old password"
nonempty "user token with the password set by admin" "$(user_token "$PW2")"
PW3="pw3-$S-$RANDOM"
osc_bare --os-username "ms-$S-user" --os-user-domain-id "$DOM" --os-password "$PW2" \
    --os-project-id "$PROJ" user password set --original-password "$PW2" --password "$PW3" >/dev/null
user_login_fails "$PW2" "the replaced password"
tok=$(osc_bare --os-username "ms-$S-user" --os-user-domain-id "$DOM" --os-password "$PW3" \
    --os-project-id "$PROJ" token issue -f json)
eq "user token (own new password): project" "$(j .project_id "$tok")" "$PROJ"
eq "user token (own new password): user" "$(j .user_id "$tok")" "$USR"

# --- application credentials ------------------------------------------------------------
step "application credential create/list/show; authenticate with it; delete"
SECRET="sec-$S-$RANDOM"
out=$(osc application credential create --role admin --secret "$SECRET" --description "test $S" "ms-$S-appcred" -f json)
defer "$OSC" application credential delete "ms-$S-appcred"
# (the CLI has spelled these keys both ways across releases)
AC=$(j '.ID // .id' "$out")
nonempty "application credential id" "$AC"
eq "application credential project" "$(j '.["Project ID"] // .project_id' "$out")" "$ADMIN_PROJECT"
eq "application credential secret" "$(j '.Secret // .secret' "$out")" "$SECRET"
contains "application credential roles" "$(j '(.Roles // .roles) | if type == "array" then map(.name) | join(" ") else . end' "$out")" admin
contains "application credential list" "$(osc application credential list -f value -c ID -c Name)" "$AC ms-$S-appcred"
out=$(osc application credential show "$AC" -f json)
eq "application credential show: description" "$(j '.Description // .description' "$out")" "test $S"
tok=$(osc_bare --os-auth-type v3applicationcredential --os-application-credential-id "$AC" \
    --os-application-credential-secret "$SECRET" token issue -f json)
eq "token from the application credential: project" "$(j .project_id "$tok")" "$ADMIN_PROJECT"
eq "token from the application credential: user" "$(j .user_id "$tok")" "$ADMIN_USER"
must_fail "application credential with a wrong secret" env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" \
    --os-auth-url "$AUTH_URL" --os-identity-api-version 3 --os-auth-type v3applicationcredential \
    --os-application-credential-id "$AC" --os-application-credential-secret "wrong-$SECRET" token issue >/dev/null
ok "a wrong secret is refused"
osc application credential delete "$AC" >/dev/null
lacks "application credential list after delete" "$(osc application credential list -f value -c ID)" "$AC"
must_fail "application credential after delete" env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE "$OSC" \
    --os-auth-url "$AUTH_URL" --os-identity-api-version 3 --os-auth-type v3applicationcredential \
    --os-application-credential-id "$AC" --os-application-credential-secret "$SECRET" token issue >/dev/null
ok "the deleted application credential is refused"

# --- limits -----------------------------------------------------------------------------
step "registered limit create/list/show/set"
IDENTITY_SVC=$(osc service list -f json | jq -r '.[] | select(.Type == "identity") | .ID' | head -n1)
nonempty "identity service id" "$IDENTITY_SVC"
RES="ms_${S}_widgets"
out=$(osc registered limit create --service "$IDENTITY_SVC" --region "$REGION" --default-limit 10 \
    --description "test $S" "$RES" -f json)
RL=$(j .id "$out")
defer "$OSC" registered limit delete "$RL"
nonempty "registered limit id" "$RL"
eq "registered limit default" "$(j .default_limit "$out")" 10
contains "registered limit list" "$(osc registered limit list --service "$IDENTITY_SVC" -f value -c ID)" "$RL"
osc registered limit set --default-limit 20 "$RL" >/dev/null
out=$(osc registered limit show "$RL" -f json)
eq "registered limit default after set" "$(j .default_limit "$out")" 20
eq "registered limit resource" "$(j .resource_name "$out")" "$RES"

step "limit create/list/show/set/delete"
out=$(osc limit create --project "$PROJ" --service "$IDENTITY_SVC" --region "$REGION" --resource-limit 5 "$RES" -f json)
LIM=$(j .id "$out")
defer "$OSC" limit delete "$LIM"
nonempty "limit id" "$LIM"
eq "limit project" "$(j .project_id "$out")" "$PROJ"
contains "limit list --project" "$(osc limit list --project "$PROJ" -f value -c ID)" "$LIM"
osc limit set --resource-limit 7 "$LIM" >/dev/null
eq "limit after set" "$(osc limit show "$LIM" -f value -c resource_limit)" 7
osc limit delete "$LIM" >/dev/null
lacks "limit list after delete" "$(osc limit list --project "$PROJ" -f value -c ID)" "$LIM"
osc registered limit delete "$RL" >/dev/null
lacks "registered limit list after delete" "$(osc registered limit list -f value -c ID)" "$RL"

# --- credentials ------------------------------------------------------------------------
step "credential create/list/show/update/delete"
out=$(osc credential create --type cert "$USR" "blob-$S-one" -f json)
CRED=$(j .id "$out")
defer "$OSC" credential delete "$CRED"
nonempty "credential id" "$CRED"
eq "credential blob" "$(j .blob "$out")" "blob-$S-one"
contains "credential list --user" "$(osc credential list --user "$USR" -f value -c ID)" "$CRED"
# (`openstack credential set` always sends the type, which the API's update schema does not
# take; so the update goes straight to the API)
code=$(curl -s -o "$TMP/cred.json" -w '%{http_code}' -X PATCH -H "X-Auth-Token: $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"credential\": {\"blob\": \"blob-$S-two\"}}" \
    "$AUTH_URL/credentials/$CRED")
eq "PATCH /v3/credentials/{id}" "$code" 200
out=$(osc credential show "$CRED" -f json)
eq "credential blob after update" "$(j .blob "$out")" "blob-$S-two"
eq "credential user" "$(j .user_id "$out")" "$USR"
osc credential delete "$CRED" >/dev/null
lacks "credential list after delete" "$(osc credential list -f value -c ID)" "$CRED"

# --- tearing down -----------------------------------------------------------------------
step "role remove / group remove user"
osc role remove --user "$USR" --project "$PROJ" member >/dev/null
osc role remove --group "$GRP" --project "$PROJ" "$ROLE" >/dev/null
out=$(osc role assignment list --project "$PROJ" -f json)
eq "assignments on the project after role remove" "$(j 'length' "$out")" 0
osc group remove user "$GRP" "$USR" >/dev/null
# (the CLI reports a non-member on stderr, with exit status 0)
out=$("$OSC" group contains user "$GRP" "$USR" 2>&1 || true)
contains "group contains user after remove" "$out" "not in group"

step "delete group, user, projects, roles, domain"
osc group delete "$GRP" >/dev/null
lacks "group list after delete" "$(osc group list --domain "$DOM" -f value -c ID)" "$GRP"
osc user delete "$USR" >/dev/null
lacks "user list after delete" "$(osc user list --domain "$DOM" -f value -c ID)" "$USR"
out=$(must_fail "deleting a project that has a child" "$OSC" project delete "$PROJ")
ok "a project with a child can't be deleted"
osc project delete "$CHILD" >/dev/null
osc project delete "$PROJ" >/dev/null
lacks "project list after delete" "$(osc project list --domain "$DOM" -f value -c ID)" "$PROJ"
osc role delete "$ROLE" >/dev/null
lacks "role list after delete" "$(osc role list -f value -c ID)" "$ROLE"
osc role delete --domain "$DOM" "$DROLE" >/dev/null
lacks "domain role list after delete" "$(osc role list --domain "$DOM" -f value -c ID)" "$DROLE"
must_fail "deleting an enabled domain" "$OSC" domain delete "$DOM" >/dev/null
ok "an enabled domain can't be deleted"
osc domain set --disable "$DOM" >/dev/null
eq "domain enabled after --disable" "$(osc domain show "$DOM" -f value -c enabled)" False
osc domain delete "$DOM" >/dev/null
lacks "domain list after delete" "$(osc domain list -f value -c ID)" "$DOM"
CLEANUP=()
