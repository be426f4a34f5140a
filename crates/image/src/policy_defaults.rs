//! Default policy rules of the image service, as Glance registers them in
//! code with the secure-RBAC personas (what applies with
//! `enforce_new_defaults = True`): `admin` anywhere, `member` and `reader`
//! of the project that owns the resource, plus the `service` role for the
//! service-to-service location API.
//!
//! Use with `monostack_auth::policy::Enforcer::new(DEFAULT_RULES)` and
//! `enforcer.enforce(action, &target, ctx.policy_creds())`. Rule names and
//! check strings match Glance, so operators' policy files keep working.
//!
//! # What the rules read from the target
//!
//! Only four target keys are read: `project_id`, `owner`, `member_id` and
//! `visibility`. Glance builds its targets as follows, and callers must do
//! the same or the decisions differ.
//!
//! **An existing image** (every image action except `add_image` and
//! `get_images`; also the member actions and `list_cached_nodes`): Glance
//! passes the image itself, so the target is the image's attributes and
//! its extra properties, with three renamed keys:
//! - `project_id`: the image's `owner` (the owning project id);
//! - `owner`: the same owner value;
//! - `member_id`: the *caller's* project id when the image's visibility is
//!   `shared`, the caller's project is not the owner and the caller found
//!   the image through a membership row (any member status). Otherwise
//!   Glance puts `None`. It is not the member named in the URL: for the
//!   member actions too the target is the image;
//! - `visibility`: `public`, `community`, `shared` or `private`;
//! - `id`: the image id; every other image attribute and extra property
//!   under its own name (no rule reads them, but operators' rules may).
//!
//! **A proposed image** (`add_image`, and `publicize_image` /
//! `communitize_image` checked on create): `{"project_id": O, "owner": O,
//! "visibility": V}` where O is the `owner` in the request body or, when
//! absent, the caller's project id, and V is the requested visibility or
//! `private`.
//!
//! **Listing** (`get_images`): `{"project_id": <caller's project id>}`;
//! each listed image is then filtered with `get_image` on its own target.
//!
//! **Metadef namespaces and their contents**: `{"project_id": <namespace
//! owner>, "visibility": <namespace visibility>}`, or
//! `{"project_id": <caller's project id>}` when there is no namespace yet.
//!
//! **Tasks, store discovery and the image cache without an image**: `{}`.
//!
//! Leave a key out rather than setting it to JSON `null`: the policy
//! language compares text, and a null target value renders as `None`,
//! which equals a null `project_id` in the creds of a token with no project
//! scope. Glance avoids that case by rejecting non-project-scoped tokens
//! (`scope_types = ['project']`); leaving the key out makes the check fail
//! instead.
//!
//! # What the rules do not do
//!
//! The rules are not the whole access check; Glance also relies on the
//! following, and so must the caller:
//! - Visibility is filtered by the data layer first: an image is visible to
//!   admins, to its owner, to everyone when public or community or without
//!   an owner, and to members (any status) when shared; an invisible image
//!   is 404 before any rule runs. Without that, `get_image` would let any
//!   reader see every `shared` image.
//! - When any image action other than `get_image` is denied, Glance checks
//!   `get_image`: if that is denied too the answer is 404, else 403.
//! - Member actions first enforce `get_image` on the image, then the member
//!   rule on the same target.
//! - PATCH enforces `publicize_image` before setting visibility `public`
//!   and `communitize_image` before `community`, then `modify_image`;
//!   creating an image enforces `add_image` and then the same visibility
//!   rule for the proposed visibility. PATCH of `locations` uses
//!   `set_image_location` (add or replace) and `delete_image_location`
//!   (remove); image tags use `modify_image`.
//! - Only an admin may change `owner` (checked in code, not by a rule).

/// The rules, as (name, check string) pairs in oslo.policy syntax.
pub const DEFAULT_RULES: &[(&str, &str)] = &[
    // Base rules that the others refer to.
    ("default", ALWAYS),
    ("context_is_admin", "role:admin"),
    // Glance still lets `admin` act as a service for clients that do not
    // send a service-role token.
    ("service_api", "role:service or role:admin"),
    // Images.
    ("add_image", ADMIN_OR_MEMBER_CREATING_FOR_OWN_PROJECT),
    ("get_image", ADMIN_OR_READER_WHO_CAN_SEE_IMAGE),
    ("get_images", ADMIN_OR_PROJECT_READER),
    ("modify_image", ADMIN_OR_PROJECT_MEMBER),
    ("publicize_image", ADMIN),
    ("communitize_image", ADMIN_OR_PROJECT_MEMBER),
    ("delete_image", ADMIN_OR_PROJECT_MEMBER),
    ("deactivate", ADMIN_OR_PROJECT_MEMBER),
    ("reactivate", ADMIN_OR_PROJECT_MEMBER),
    ("download_image", ADMIN_OR_MEMBER_WHO_CAN_SEE_IMAGE),
    ("download_from_store", ADMIN_OR_MEMBER_WHO_CAN_SEE_IMAGE),
    ("upload_image", ADMIN_OR_PROJECT_MEMBER),
    ("copy_image", ADMIN),
    // Image locations.
    ("get_image_location", ADMIN_OR_PROJECT_READER),
    ("set_image_location", ADMIN_OR_PROJECT_MEMBER),
    ("delete_image_location", ADMIN),
    (
        "add_image_location",
        SERVICE_OR_MEMBER_ADDING_TO_OWN_PROJECT,
    ),
    ("fetch_image_location", SERVICE),
    // Image members.
    ("add_member", ADMIN_OR_PROJECT_MEMBER),
    ("delete_member", ADMIN_OR_PROJECT_MEMBER),
    ("get_member", ADMIN_OR_READER_OF_OWNER_OR_IMAGE_MEMBER),
    ("get_members", ADMIN_OR_READER_OF_OWNER_OR_IMAGE_MEMBER),
    ("modify_member", ADMIN_OR_MEMBER_OF_IMAGE_MEMBER),
    // Image cache.
    ("manage_image_cache", ADMIN),
    ("list_cached_nodes", ADMIN),
    ("cache_image", ADMIN),
    ("cache_list", ADMIN),
    ("cache_delete", ADMIN),
    ("cache_clean", ADMIN),
    ("cache_prune", ADMIN),
    // Tasks: `tasks_api_access` guards the whole tasks API; the others are
    // only consulted internally (import) and are deliberately open.
    ("tasks_api_access", ADMIN),
    ("get_task", DEFAULT),
    ("get_tasks", DEFAULT),
    ("add_task", DEFAULT),
    ("modify_task", DEFAULT),
    // Store discovery.
    ("stores_info_detail", ADMIN_OR_SERVICE),
    // Metadata definitions.
    ("metadef_default", ALWAYS),
    ("metadef_admin", ADMIN),
    ("get_metadef_namespace", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("get_metadef_namespaces", ADMIN_OR_PROJECT_READER),
    ("add_metadef_namespace", METADEF_ADMIN),
    ("modify_metadef_namespace", METADEF_ADMIN),
    ("delete_metadef_namespace", METADEF_ADMIN),
    ("get_metadef_object", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("get_metadef_objects", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("add_metadef_object", METADEF_ADMIN),
    ("modify_metadef_object", METADEF_ADMIN),
    ("delete_metadef_object", METADEF_ADMIN),
    (
        "list_metadef_resource_types",
        ADMIN_OR_READER_OF_OWNER_OR_PUBLIC,
    ),
    (
        "get_metadef_resource_type",
        ADMIN_OR_READER_OF_OWNER_OR_PUBLIC,
    ),
    ("add_metadef_resource_type_association", METADEF_ADMIN),
    ("remove_metadef_resource_type_association", METADEF_ADMIN),
    ("get_metadef_property", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("get_metadef_properties", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("add_metadef_property", METADEF_ADMIN),
    ("modify_metadef_property", METADEF_ADMIN),
    ("remove_metadef_property", METADEF_ADMIN),
    ("get_metadef_tag", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("get_metadef_tags", ADMIN_OR_READER_OF_OWNER_OR_PUBLIC),
    ("add_metadef_tag", METADEF_ADMIN),
    ("add_metadef_tags", METADEF_ADMIN),
    ("modify_metadef_tag", METADEF_ADMIN),
    ("delete_metadef_tag", METADEF_ADMIN),
    ("delete_metadef_tags", METADEF_ADMIN),
];

// The check strings below are spelled out in full rather than composed, so
// each reads exactly as it appears in a generated policy file.

/// The empty rule: always allowed.
const ALWAYS: &str = "";
const DEFAULT: &str = "rule:default";
const ADMIN: &str = "rule:context_is_admin";
const SERVICE: &str = "rule:service_api";
const ADMIN_OR_SERVICE: &str = "rule:context_is_admin or rule:service_api";
const METADEF_ADMIN: &str = "rule:metadef_admin";

const ADMIN_OR_PROJECT_MEMBER: &str =
    "rule:context_is_admin or (role:member and project_id:%(project_id)s)";

const ADMIN_OR_PROJECT_READER: &str =
    "rule:context_is_admin or (role:reader and project_id:%(project_id)s)";

/// Creating is only for the caller's own project: the proposed owner must
/// be the caller's project too.
const ADMIN_OR_MEMBER_CREATING_FOR_OWN_PROJECT: &str = "rule:context_is_admin or \
     (role:member and project_id:%(project_id)s and project_id:%(owner)s)";

const SERVICE_OR_MEMBER_ADDING_TO_OWN_PROJECT: &str = "rule:service_api or \
     (role:member and project_id:%(project_id)s and project_id:%(owner)s)";

/// Reading an image: the owner, a member it is shared with, or anyone for
/// public, community and shared images (the data layer has already hidden
/// shared images from non-members).
const ADMIN_OR_READER_WHO_CAN_SEE_IMAGE: &str = "rule:context_is_admin or \
     (role:reader and (project_id:%(project_id)s or project_id:%(member_id)s \
     or 'community':%(visibility)s or 'public':%(visibility)s \
     or 'shared':%(visibility)s))";

/// Downloading needs the same visibility as reading, but the member role.
const ADMIN_OR_MEMBER_WHO_CAN_SEE_IMAGE: &str = "rule:context_is_admin or \
     (role:member and (project_id:%(project_id)s or project_id:%(member_id)s \
     or 'community':%(visibility)s or 'public':%(visibility)s \
     or 'shared':%(visibility)s))";

/// Glance writes this one without parentheses around the `and`; the
/// meaning is the same because `and` binds tighter than `or`.
const ADMIN_OR_READER_OF_OWNER_OR_IMAGE_MEMBER: &str = "rule:context_is_admin or \
     role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)";

/// Accepting or rejecting a share is for the project it was shared with.
const ADMIN_OR_MEMBER_OF_IMAGE_MEMBER: &str =
    "rule:context_is_admin or (role:member and project_id:%(member_id)s)";

const ADMIN_OR_READER_OF_OWNER_OR_PUBLIC: &str = "rule:context_is_admin or \
     (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;

    use monostack_auth::policy::Enforcer;
    use serde_json::{json, Value};

    use super::DEFAULT_RULES;

    const OWNER: &str = "0wner0000000000000000000000000000";
    const OTHER: &str = "0ther0000000000000000000000000000";

    fn enforcer() -> Enforcer {
        Enforcer::try_new(DEFAULT_RULES).unwrap()
    }

    fn creds(project_id: Option<&str>, roles: &[&str]) -> Value {
        json!({
            "user_id": "u1",
            "project_id": project_id,
            "roles": roles,
            "system_scope": null,
            "domain_id": null,
            "is_admin_project": true,
        })
    }

    fn image(visibility: &str) -> Value {
        json!({
            "id": "5c0a3d4e-1111-4222-8333-944455556666",
            "project_id": OWNER,
            "owner": OWNER,
            "visibility": visibility,
        })
    }

    #[test]
    fn every_rule_parses_and_names_are_unique() {
        enforcer();
        let names: HashSet<_> = DEFAULT_RULES.iter().map(|(name, _)| name).collect();
        assert_eq!(names.len(), DEFAULT_RULES.len());
    }

    #[test]
    fn every_referenced_rule_exists() {
        let names: HashSet<_> = DEFAULT_RULES.iter().map(|(name, _)| *name).collect();
        for (name, rule) in DEFAULT_RULES {
            for reference in rule
                .split_whitespace()
                .filter_map(|w| w.strip_prefix("rule:"))
            {
                let reference = reference.trim_end_matches(')');
                assert!(names.contains(reference), "{name} refers to {reference}");
            }
        }
    }

    #[test]
    fn only_admin_may_publicize() {
        let e = enforcer();
        let target = image("private");
        assert!(e.enforce("publicize_image", &target, &creds(Some(OTHER), &["admin"])));
        let member = creds(Some(OWNER), &["member", "reader"]);
        assert!(!e.enforce("publicize_image", &target, &member));
        assert!(e.enforce("communitize_image", &target, &member));
    }

    #[test]
    fn modify_needs_member_of_owning_project() {
        let e = enforcer();
        let target = image("private");
        let owner_member = creds(Some(OWNER), &["member", "reader"]);
        let other_member = creds(Some(OTHER), &["member", "reader"]);
        let owner_reader = creds(Some(OWNER), &["reader"]);
        assert!(e.enforce("modify_image", &target, &owner_member));
        assert!(!e.enforce("modify_image", &target, &other_member));
        assert!(!e.enforce("modify_image", &target, &owner_reader));
    }

    #[test]
    fn delete_by_member_of_owner_allowed() {
        let e = enforcer();
        let target = image("public");
        assert!(e.enforce("delete_image", &target, &creds(Some(OWNER), &["member"])));
        assert!(!e.enforce("delete_image", &target, &creds(Some(OTHER), &["member"])));
    }

    #[test]
    fn reader_sees_public_but_not_foreign_private() {
        let e = enforcer();
        let reader = creds(Some(OTHER), &["reader"]);
        assert!(e.enforce("get_image", &image("public"), &reader));
        assert!(e.enforce("get_image", &image("community"), &reader));
        assert!(!e.enforce("get_image", &image("private"), &reader));
        // Readers may look but not download.
        assert!(!e.enforce("download_image", &image("public"), &reader));
        let member = creds(Some(OTHER), &["member", "reader"]);
        assert!(e.enforce("download_image", &image("public"), &member));
    }

    #[test]
    fn add_image_only_for_own_project() {
        let e = enforcer();
        let member = creds(Some(OWNER), &["member", "reader"]);
        let own = json!({"project_id": OWNER, "owner": OWNER, "visibility": "private"});
        let foreign = json!({"project_id": OTHER, "owner": OTHER, "visibility": "private"});
        assert!(e.enforce("add_image", &own, &member));
        assert!(!e.enforce("add_image", &foreign, &member));
        assert!(e.enforce("add_image", &foreign, &creds(Some(OWNER), &["admin"])));
    }

    #[test]
    fn shared_image_member_may_answer_but_not_manage_members() {
        let e = enforcer();
        let mut target = image("shared");
        target["member_id"] = json!(OTHER);
        let consumer = creds(Some(OTHER), &["member", "reader"]);
        let producer = creds(Some(OWNER), &["member", "reader"]);
        assert!(e.enforce("modify_member", &target, &consumer));
        assert!(e.enforce("get_members", &target, &consumer));
        assert!(!e.enforce("add_member", &target, &consumer));
        assert!(e.enforce("add_member", &target, &producer));
        // Without a membership the owner cannot answer for the consumer.
        let without_member = image("shared");
        assert!(!e.enforce("modify_member", &without_member, &producer));
    }

    #[test]
    fn leaving_out_member_id_denies_unscoped_callers() {
        let e = enforcer();
        let unscoped = creds(None, &["member", "reader"]);
        assert!(!e.enforce("get_members", &image("private"), &unscoped));
    }

    #[test]
    fn tasks_api_and_cache_are_admin_only() {
        let e = enforcer();
        let target = json!({});
        let member = creds(Some(OWNER), &["member", "reader"]);
        assert!(!e.enforce("tasks_api_access", &target, &member));
        assert!(e.enforce("tasks_api_access", &target, &creds(Some(OWNER), &["admin"])));
        assert!(e.enforce("get_task", &target, &member));
        assert!(!e.enforce("cache_list", &target, &member));
    }

    #[test]
    fn store_details_for_admin_or_service() {
        let e = enforcer();
        let target = json!({});
        assert!(e.enforce(
            "stores_info_detail",
            &target,
            &creds(Some(OTHER), &["service"])
        ));
        assert!(!e.enforce(
            "stores_info_detail",
            &target,
            &creds(Some(OTHER), &["member"])
        ));
    }
}
