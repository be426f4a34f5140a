# Shared by the benchmarks in benches/: a cloud to measure, and an admin token for it. Source
# it after tools/lib/common.sh, with TMP set to a scratch directory.
# shellcheck shell=bash disable=SC2034  # the variables set here are for the sourcing script

# bench_cloud: uses the cloud answering on the identity port, or builds monostack and starts
# an all-in-one in a temporary state directory (cloud_stop stops it). Sets STATE (its state
# directory), OPENRC (the admin's openrc) and SERVER_PID (the process serving identity).
bench_cloud() {
    if identity_ready; then
        STATE=$(state_dir)
        [ -z "${MONOSTACK_CLOUDS_YAML:-}" ] || STATE=$(dirname "$MONOSTACK_CLOUDS_YAML")
        OPENRC="$STATE/openrc"
        [ -r "$OPENRC" ] || die "a cloud answers on port $(identity_port), but there is no $OPENRC to log in with (set MONOSTACK__DEFAULT__STATE_DIR)"
        say "using the running cloud (credentials from $OPENRC)"
        SERVER_PID=$(ss -Hltnp "sport = :$(identity_port)" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true)
    else
        "$REPO_ROOT/tools/install-deps" --no-tempest --no-openstack --no-postgres
        say "cargo build --release -p monostack"
        cargo build --release -p monostack --manifest-path "$REPO_ROOT/Cargo.toml"
        unset MONOSTACK_CONFIG MONOSTACK__DATABASE__CONNECTION
        say "starting an all-in-one"
        cloud_start || { [ -z "$CLOUD_LOG" ] || tail -n 40 "$CLOUD_LOG"; die "the cloud did not start"; }
        STATE=$CLOUD_STATE
        OPENRC="$CLOUD_STATE/openrc"
        SERVER_PID=$CLOUD_PID
    fi
}

# bench_admin_token: a project-scoped admin token from OPENRC with the password method. Sets
# AUTH_URL (ending in /v3) and TOKEN, and leaves the token body in $TMP/token.json.
bench_admin_token() {
    have jq || die "jq is missing: run tools/install-deps"
    local username password project user_domain project_domain body
    # Read the credentials in a subshell, so that nothing else from openrc sticks.
    read -r AUTH_URL username password project user_domain project_domain < <(
        # shellcheck disable=SC1090
        . "$OPENRC"
        echo "${OS_AUTH_URL%/}" "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME" \
            "${OS_USER_DOMAIN_NAME:-Default}" "${OS_PROJECT_DOMAIN_NAME:-Default}"
    )
    case "$AUTH_URL" in */v3) ;; *) AUTH_URL="$AUTH_URL/v3" ;; esac
    body=$(jq -nc --arg u "$username" --arg p "$password" --arg pr "$project" --arg ud "$user_domain" --arg pd "$project_domain" \
        '{auth: {identity: {methods: ["password"], password: {user: {name: $u, password: $p, domain: {name: $ud}}}},
                 scope: {project: {name: $pr, domain: {name: $pd}}}}}')
    curl -sS -f -D "$TMP/headers" -o "$TMP/token.json" -H 'Content-Type: application/json' -d "$body" "$AUTH_URL/auth/tokens" ||
        die "could not get a token from $AUTH_URL"
    TOKEN=$(tr -d '\r' <"$TMP/headers" | awk 'tolower($1) == "x-subject-token:" {print $2}')
    [ -n "$TOKEN" ] || die "no token in the response"
}
