//! The identity flows on PostgreSQL and MariaDB/MySQL. Each test skips with one line when its
//! server is not configured (`MONOSTACK_TEST_POSTGRES_URL`, `MONOSTACK_TEST_MYSQL_URL`, server
//! URLs without a database name; `tools/test` sets them).



use http::{Method, StatusCode};
use serde_json::json;
use crate::support::TestCloud;

/// A fresh database per run: `<url>/mstest_<random>_{service}`.
fn connection(var: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        eprintln!("skipping: {var} is not set");
        return None;
    };
    let mut url = url::Url::parse(&url).expect("valid URL");
    url.set_path(&format!("/mstest_{}_{{service}}", &uuid::Uuid::new_v4().simple().to_string()[..8]));
    Some(url.to_string().replace("%7B", "{").replace("%7D", "}"))
}

async fn exercise(connection: String) {
    let cloud = TestCloud::start_with(Some(connection)).await;
    let admin = cloud.admin_token().await;
    let (_, project, token) = cloud.member(&admin, "erin").await;
    let r = cloud.call(Method::GET, &format!("/v3/projects/{project}"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let dup = cloud.call(Method::POST, "/v3/projects", Some(&admin), Some(json!({"project": {"name": "erin-project"}}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let tags = cloud.call(Method::PUT, &format!("/v3/projects/{project}/tags"), Some(&admin), Some(json!({"tags": ["a", "b"]}))).await;
    assert_eq!(tags.status, StatusCode::OK, "{}", tags.body);
    let list = cloud.call(Method::GET, "/v3/projects?tags=a,b", Some(&admin), None).await;
    assert_eq!(list.body["projects"].as_array().unwrap().len(), 1);
    let d = cloud.call_with(Method::DELETE, "/v3/auth/tokens", Some(&admin), None, &[("x-subject-token", &token)]).await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let r = cloud.call(Method::GET, &format!("/v3/projects/{project}"), Some(&token), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Migrations are idempotent: opening again applies nothing and bootstrap changes nothing.
    assert_eq!(cloud.identity.db.migrate(monostack_identity::store::schema::MIGRATIONS).await.unwrap(), 0);
    monostack_identity::bootstrap::run(&cloud.identity).await.unwrap();
}

#[tokio::test]
async fn identity_on_postgresql() {
    if let Some(c) = connection("MONOSTACK_TEST_POSTGRES_URL") {
        exercise(c).await;
    }
}

#[tokio::test]
async fn identity_on_mysql() {
    if let Some(c) = connection("MONOSTACK_TEST_MYSQL_URL") {
        exercise(c).await;
    }
}
