//! An in-process identity service on a temporary SQLite database, for API tests.
#![allow(dead_code)]

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use monostack_common::config::Config;
use monostack_identity::Identity;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-secret";

pub struct TestCloud {
    pub identity: Arc<Identity>,
    pub router: axum::Router,
    _dir: tempfile::TempDir,
}

/// A response: status, headers and the body parsed as JSON (Null when empty or not JSON).
pub struct Resp {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl TestCloud {
    /// A bootstrapped identity service (bcrypt cost 4 to keep tests fast).
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Like [`Self::start`], on the given `[database] connection` (None = SQLite).
    pub async fn start_with(connection: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.database.connection = connection;
        config.default.state_dir = Some(dir.path().to_path_buf());
        config.identity.admin_password = Some(ADMIN_PASSWORD.into());
        config.identity.password_hash_rounds = 4;
        let identity = Identity::open(Arc::new(config)).await.expect("open identity");
        monostack_identity::bootstrap::run(&identity).await.expect("bootstrap");
        let router = monostack_common::server::with_common_layers(
            monostack_identity::api::router(identity.clone()),
            monostack_common::FaultStyle::Identity,
            114_688,
        );
        TestCloud { identity, router, _dir: dir }
    }

    /// Sends a request; `token` goes in X-Auth-Token.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>, headers: &[(&str, &str)]) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("x-auth-token", t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, body }
    }

    /// A password token for `user` in the Default domain, scoped as `scope` (JSON or None).
    pub async fn token_for(&self, user: &str, password: &str, scope: Option<Value>) -> Resp {
        let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}}});
        if let Some(s) = scope {
            auth["scope"] = s;
        }
        self.call(Method::POST, "/v3/auth/tokens", None, Some(json!({ "auth": auth }))).await
    }

    /// A project-scoped admin token (admin project), as clouds.yaml gives.
    pub async fn admin_token(&self) -> String {
        let r = self.token_for("admin", ADMIN_PASSWORD, Some(json!({"project": {"name": "admin", "domain": {"id": "default"}}}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "admin token: {}", r.body);
        subject(&r)
    }

    /// Creates a user with a member role on a new project; returns (user_id, project_id, token).
    pub async fn member(&self, admin: &str, name: &str) -> (String, String, String) {
        let p = self.call(Method::POST, "/v3/projects", Some(admin), Some(json!({"project": {"name": format!("{name}-project")}}))).await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
        let project_id = p.body["project"]["id"].as_str().expect("id").to_string();
        let user_id = self.create_user(name, "pw-".to_string() + name).await;
        let role = monostack_identity::store::roles::get_by_name(&self.identity, "member", None).await.expect("db").expect("member role");
        monostack_identity::store::assignments::grant(&self.identity, &monostack_identity::store::assignments::Assignment {
            kind: monostack_identity::store::assignments::Kind::UserProject,
            actor_id: user_id.clone(), target_id: project_id.clone(), role_id: role.id, inherited: false,
        }).await.expect("grant");
        let t = self.token_for(name, &format!("pw-{name}"), Some(json!({"project": {"id": project_id}}))).await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        (user_id, project_id, subject(&t))
    }

    /// Creates a user directly in the store (no API), returning its id.
    pub async fn create_user(&self, name: &str, password: String) -> String {
        let mut user = monostack_identity::store::users::User::new(name, "default");
        user.password_hash = Some(monostack_identity::store::users::hash_password(&self.identity, &password).await.expect("hash"));
        monostack_identity::store::users::insert(&self.identity, &user).await.expect("insert user");
        user.id
    }
}

/// The X-Subject-Token of a token response.
pub fn subject(r: &Resp) -> String {
    r.headers.get("x-subject-token").and_then(|v| v.to_str().ok()).expect("x-subject-token").to_string()
}
