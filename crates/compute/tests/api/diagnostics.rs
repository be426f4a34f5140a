//! `GET /servers/{id}/diagnostics`: admin only, and only for a server on a host (the agent's
//! answers are tested end to end with the agent).

use crate::servers::{create_server, fault_message};
use crate::support::Cloud;
use http::{Method, StatusCode};

#[tokio::test]
async fn diagnostics_need_an_admin_and_a_host() {
    let cloud = Cloud::start().await;
    let (_, _, member) = cloud.member("fay").await;
    let id = create_server(&cloud, &member, "diag").await;
    let path = format!("/v2.1/servers/{id}/diagnostics");
    let denied = cloud.call(Method::GET, &path, &member, None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.body);
    let building = cloud.call(Method::GET, &path, &cloud.admin, None).await;
    assert_eq!((building.status, fault_message(&building)), (StatusCode::CONFLICT, format!("Instance {id} is not ready")));
    let missing = cloud.call_at(Some("2.48"), Method::GET, "/v2.1/servers/8d5b4ac6-1e5f-4f0e-8d52-3c3c7c6b7a10/diagnostics", &cloud.admin, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
