//! Security groups named in a server create or `addSecurityGroup` (names or ids), resolved to
//! Neutron ids among the project's groups, as Nova's `_process_security_groups`.

use super::NetError;
use crate::network_client::{self as net, NetAuth, NetworkApi};
use serde_json::Value;

/// The ids of `requested` (names or ids) among the groups `project_id` sees, in order.
/// A name several groups carry is `NoUniqueMatch`; an unknown one `SecurityGroupNotFound`.
pub async fn resolve(
    api: &dyn NetworkApi,
    auth: &NetAuth,
    project_id: &str,
    requested: &[String],
) -> Result<Vec<String>, NetError> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups = net::list(
        api,
        auth,
        "security_groups",
        &[
            ("project_id", project_id),
            ("fields", "id"),
            ("fields", "name"),
        ],
    )
    .await?;
    if requested.iter().any(|r| !matches(&groups, r)) {
        groups.extend(
            net::list(
                api,
                auth,
                "security_groups",
                &[("shared", "true"), ("fields", "id"), ("fields", "name")],
            )
            .await
            .unwrap_or_default(),
        );
    }
    let mut ids: Vec<String> = Vec::new();
    for wanted in requested {
        let id = pick(&groups, wanted)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn matches(groups: &[Value], wanted: &str) -> bool {
    groups
        .iter()
        .any(|g| g["id"] == wanted || g["name"] == wanted)
}

/// Nova's `_get_security_group_ids`: an id matches first, then a unique name.
fn pick(groups: &[Value], wanted: &str) -> Result<String, NetError> {
    if groups.iter().any(|g| g["id"] == wanted) {
        return Ok(wanted.to_string());
    }
    let named: Vec<&Value> = groups.iter().filter(|g| g["name"] == wanted).collect();
    match named.as_slice() {
        [one] => Ok(one["id"].as_str().unwrap_or_default().to_string()),
        [] => Err(NetError::SecurityGroupNotFound(wanted.to_string())),
        _ => Err(NetError::NoUniqueMatch(wanted.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_then_unique_names() {
        let groups = vec![
            json!({"id": "g1", "name": "default"}),
            json!({"id": "g2", "name": "web"}),
            json!({"id": "g3", "name": "web"}),
        ];
        assert_eq!(pick(&groups, "g2").ok().as_deref(), Some("g2"));
        assert_eq!(pick(&groups, "default").ok().as_deref(), Some("g1"));
        assert_eq!(
            pick(&groups, "web"),
            Err(NetError::NoUniqueMatch("web".into()))
        );
        assert_eq!(
            pick(&groups, "db"),
            Err(NetError::SecurityGroupNotFound("db".into()))
        );
    }
}
