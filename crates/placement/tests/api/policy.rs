//! Policy: admin and the service role may use placement; project members may not; project
//! readers may read their own project's usages.

use crate::{Cloud, LATEST};
use http::{Method, StatusCode};
use serde_json::json;

/// A token of a user holding only the `service` role on a new project.
pub async fn service_token(c: &Cloud) -> String {
    let store = &c.identity.identity;
    let p = c.identity.call(Method::POST, "/v3/projects", Some(&c.admin), Some(json!({"project": {"name": "svc-project"}}))).await;
    let project_id = p.body["project"]["id"].as_str().expect("project").to_string();
    let user_id = c.identity.create_user("svc", "svc-password".into()).await;
    let role = monostack_identity::store::roles::get_by_name(store, "service", None).await.expect("db").expect("service role");
    monostack_identity::store::assignments::grant(store, &monostack_identity::store::assignments::Assignment {
        kind: monostack_identity::store::assignments::Kind::UserProject,
        actor_id: user_id,
        target_id: project_id.clone(),
        role_id: role.id,
        inherited: false,
    })
    .await
    .expect("grant");
    let t = c.identity.token_for("svc", "svc-password", Some(json!({"project": {"id": project_id}}))).await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    crate::identity_support::subject(&t)
}

#[tokio::test]
async fn roles_decide_who_may_do_what() {
    let c = Cloud::start().await;
    let (_, project, member) = c.identity.member(&c.admin, "erin").await;
    let denied = c.call_as(&member, Method::GET, "/resource_providers", LATEST, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.body["errors"][0]["detail"].as_str().unwrap().contains("placement:resource_providers:list"));
    assert_eq!(c.call_as(&member, Method::POST, "/resource_providers", LATEST, Some(json!({"name": "x"}))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(c.call_as(&member, Method::GET, &format!("/usages?project_id={project}"), LATEST, None).await.status, StatusCode::OK, "members read");
    assert_eq!(c.call_as(&member, Method::GET, "/usages?project_id=someone-else", LATEST, None).await.status, StatusCode::FORBIDDEN);
    let service = service_token(&c).await;
    let r = c.call_as(&service, Method::POST, "/resource_providers", LATEST, Some(json!({"name": "by-service"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(c.call_as(&service, Method::GET, "/allocation_candidates?resources=VCPU:1", LATEST, None).await.status, StatusCode::OK);
}
