//! keystonemiddleware-style remote validation against a real identity over HTTP, with the
//! cache flushed by revocations announced on the bus.


use http::{Method, StatusCode};
use monostack_auth::remote::{RemoteValidator, ServiceCredentials};
use monostack_auth::{AuthError, TokenValidator};
use std::sync::Arc;
use std::time::Duration;
use crate::support::{TestCloud, ADMIN_PASSWORD};

#[tokio::test]
async fn remote_validator_caches_and_follows_revocations() {
    let cloud = TestCloud::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = cloud.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let bus: Arc<dyn monostack_bus::Bus> = Arc::new(monostack_bus::InProcessBus::new());
    monostack_identity::validator::publish_revocations(&cloud.identity, bus.clone());
    let creds = ServiceCredentials { username: "admin".into(), password: ADMIN_PASSWORD.into(), project_name: "admin".into(), domain_id: "default".into() };
    let remote = Arc::new(RemoteValidator::new(&format!("http://127.0.0.1:{port}/v3"), creds, Duration::from_secs(300)));
    remote.follow_revocations(bus.as_ref(), "test-node").await.unwrap();

    let admin = cloud.admin_token().await;
    let (user_id, project_id, token) = cloud.member(&admin, "dave").await;
    let ctx = remote.validate(&token).await.expect("valid token");
    assert_eq!(ctx.user_id, user_id);
    assert_eq!(ctx.project_id.as_deref(), Some(project_id.as_str()));
    assert!(ctx.has_role("member") && ctx.has_role("reader"));

    let d = cloud.call_with(Method::DELETE, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &token)]).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    // The fanout is asynchronous; give it a moment, then the cached entry must be gone.
    let mut revoked = false;
    for _ in 0..50 {
        if matches!(remote.validate(&token).await, Err(AuthError::Unauthorized(_))) {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(revoked, "revoked token still accepted by the remote validator");
    assert!(matches!(remote.validate("garbage").await, Err(AuthError::Unauthorized(_))));
}
