//! The test cloud: identity + block storage in-process, with helpers to call the volume API
//! at a microversion.
#![allow(dead_code)]

use crate::identity_support::TestCloud;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use monostack_common::config::{Config, VolumeBackendSection};
use monostack_volume::VolumeService;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct Cloud {
    pub identity: TestCloud,
    /// The volume scheduler and managers running in-process (dropping them stops them).
    pub scheduler: Option<monostack_volume::scheduler::SchedulerHandle>,
    pub managers: Vec<monostack_volume::manager::ManagerHandle>,
    /// The backup service, when [`Cloud::with_backup_service`] started it.
    pub backup: Option<monostack_volume::backup::BackupHandle>,
    pub volume: Arc<VolumeService>,
    pub router: axum::Router,
    pub admin: String,
    pub admin_project: String,
    pub bus: monostack_bus::InProcessBus,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Cloud {
    /// The API alone, no scheduler or volume manager.
    pub async fn start() -> Cloud {
        Self::start_with(|_| {}, false).await
    }

    /// The API with a scheduler and two fake backends on host `node1`: `fake-1` (100 GiB)
    /// and `fake-2` (200 GiB).
    pub async fn with_backends() -> Cloud {
        Self::with_backends_on(None).await
    }

    /// [`Self::with_backends`] on the given `[database] connection`.
    pub async fn with_backends_on(connection: Option<String>) -> Cloud {
        Self::start_on(
            connection,
            |c| {
                c.volume.enabled_backends = vec!["fake-1".into(), "fake-2".into()];
                for (name, cap) in [("fake-1", 100), ("fake-2", 200)] {
                    let b = VolumeBackendSection {
                        volume_driver: "fake".into(),
                        capacity_gb: Some(cap),
                        ..Default::default()
                    };
                    c.volume_backends.insert(name.into(), b);
                }
            },
            true,
        )
        .await
    }

    /// A cloud whose configuration `tune` adjusts; `run_services` starts the scheduler and the
    /// enabled backends' managers.
    pub async fn start_with(tune: impl FnOnce(&mut Config), run_services: bool) -> Cloud {
        Self::start_on(None, tune, run_services).await
    }

    /// Like [`Self::start_with`], on the given `[database] connection` (None = SQLite).
    pub async fn start_on(
        connection: Option<String>,
        tune: impl FnOnce(&mut Config),
        run_services: bool,
    ) -> Cloud {
        let identity = TestCloud::start_with(connection).await;
        let in_process = monostack_bus::InProcessBus::new();
        let bus: Arc<dyn monostack_bus::Bus> = Arc::new(in_process.clone());
        let mut config = (*identity.identity.config).clone();
        config.volume.host = Some("node1".into());
        config.volume.enabled_backends = Vec::new();
        tune(&mut config);
        let volume = VolumeService::open(Arc::new(config), bus)
            .await
            .expect("open volume");
        let (scheduler, managers) = if run_services {
            let scheduler = monostack_volume::scheduler::VolumeScheduler::start(volume.clone())
                .await
                .expect("scheduler");
            let managers = monostack_volume::manager::start_all(volume.clone())
                .await
                .expect("managers");
            (Some(scheduler), managers)
        } else {
            (None, Vec::new())
        };
        let validator: monostack_auth::SharedValidator = Arc::new(
            monostack_identity::validator::LocalValidator(identity.identity.clone()),
        );
        let router = monostack_common::server::with_common_layers(
            monostack_volume::api::router(volume.clone(), validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Compute,
            1 << 20,
        );
        let admin = identity.admin_token().await;
        let admin_project = monostack_identity::store::projects::get_by_name(
            &identity.identity,
            "default",
            "admin",
        )
        .await
        .expect("db")
        .expect("admin project")
        .id;
        Cloud {
            identity,
            scheduler,
            managers,
            backup: None,
            volume,
            router,
            admin,
            admin_project,
            bus: in_process,
        }
    }

    /// A call at 3.0 (no version header).
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Resp {
        self.call_at(None, method, path, token, body).await
    }

    /// A call at `version` ("3.45", "latest"), or with no version header when None.
    pub async fn call_at(
        &self,
        version: Option<&str>,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if !token.is_empty() {
            req = req.header("x-auth-token", token);
        }
        if let Some(v) = version {
            req = req.header("openstack-api-version", format!("volume {v}"));
        }
        let body = body
            .map(|b| Body::from(b.to_string()))
            .unwrap_or_else(Body::empty);
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A new project with a member: (user id, project id, token).
    pub async fn member(&self, name: &str) -> (String, String, String) {
        self.identity.member(&self.admin, name).await
    }
}

impl Cloud {
    /// Starts this node's backup service (cinder-backup).
    pub async fn with_backup_service(mut self) -> Cloud {
        self.backup = Some(monostack_volume::backup::start(self.volume.clone()).await.expect("backup service"));
        self
    }

    /// A cloud with one file backend `file-1` (50 GiB) and the backup service; None (with a
    /// message) when qemu-img is missing.
    pub async fn with_file_backend_and_backups() -> Option<Cloud> {
        if !monostack_volume::drivers::qemu_img::available().await {
            eprintln!("skipping: qemu-img is not installed (Debian: qemu-utils)");
            return None;
        }
        let cloud = Cloud::start_with(
            |c| {
                c.volume.enabled_backends = vec!["file-1".into()];
                c.volume_backends.insert(
                    "file-1".into(),
                    VolumeBackendSection {
                        capacity_gb: Some(50),
                        ..Default::default()
                    },
                );
            },
            true,
        )
        .await;
        Some(cloud.with_backup_service().await)
    }

    /// Polls the backup until its status is `status`; returns its view.
    pub async fn wait_backup(&self, id: &str, status: &str) -> Value {
        self.wait_for(&format!("/v3/backups/{id}"), "backup", status, 4800).await
    }

    /// Polls the volume until its status is `status` (or fails after 10 s); returns its view.
    pub async fn wait_volume(&self, id: &str, status: &str) -> Value {
        self.wait(&format!("/v3/volumes/{id}"), "volume", status)
            .await
    }

    /// Polls the snapshot until its status is `status`.
    pub async fn wait_snapshot(&self, id: &str, status: &str) -> Value {
        self.wait(&format!("/v3/snapshots/{id}"), "snapshot", status)
            .await
    }

    async fn wait(&self, path: &str, key: &str, status: &str) -> Value {
        self.wait_for(path, key, status, 400).await
    }

    /// Polls `path` until its `key` object has `status`, at most `tries` times 25 ms.
    pub async fn wait_for(&self, path: &str, key: &str, status: &str, tries: usize) -> Value {
        let mut last = Value::Null;
        for _ in 0..tries {
            let r = self
                .call_at(Some("latest"), Method::GET, path, &self.admin, None)
                .await;
            if r.status == StatusCode::OK && r.body[key]["status"] == status {
                return r.body[key].clone();
            }
            last = r.body;
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{path} never became {status}: {last}");
    }

    /// Polls until the volume is gone (404).
    pub async fn wait_gone(&self, path: &str) {
        for _ in 0..400 {
            let r = self.call(Method::GET, path, &self.admin, None).await;
            if r.status == StatusCode::NOT_FOUND {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("{path} is still there");
    }

    /// Creates a volume as `token` and waits until it is available; returns its id.
    pub async fn volume(&self, token: &str, body: Value) -> String {
        let r = self
            .call(Method::POST, "/v3/volumes", token, Some(body))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
        let id = r.body["volume"]["id"].as_str().expect("id").to_string();
        self.wait_volume(&id, "available").await;
        id
    }
}

impl Cloud {
    /// A user with only the reader role on `project`: its token.
    pub async fn reader(&self, project: &str, name: &str) -> String {
        use monostack_identity::store::assignments::{grant, Assignment, Kind};
        let user_id = self.identity.create_user(name, format!("pw-{name}")).await;
        let role =
            monostack_identity::store::roles::get_by_name(&self.identity.identity, "reader", None)
                .await
                .expect("db")
                .expect("reader role");
        grant(
            &self.identity.identity,
            &Assignment {
                kind: Kind::UserProject,
                actor_id: user_id,
                target_id: project.to_string(),
                role_id: role.id,
                inherited: false,
            },
        )
        .await
        .expect("grant");
        let t = self
            .identity
            .token_for(
                name,
                &format!("pw-{name}"),
                Some(serde_json::json!({"project": {"id": project}})),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        crate::identity_support::subject(&t)
    }
}

impl Cloud {
    /// A cloud whose volume service reaches a real image service and identity over HTTP on
    /// 127.0.0.1 (ephemeral ports; the catalog's image endpoint is pointed at it), with
    /// `tune` adjusting the configuration (backends). Answers the cloud and the image API's
    /// base URL.
    pub async fn with_images(tune: impl FnOnce(&mut Config)) -> (Cloud, String) {
        let identity_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind identity");
        let image_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind image");
        let identity_port = identity_listener.local_addr().expect("identity address").port();
        let image_port = image_listener.local_addr().expect("image address").port();
        let cloud = Cloud::start_with(
            |c| {
                c.identity.port = identity_port;
                c.image.port = image_port;
                tune(c);
            },
            true,
        )
        .await;
        let identity_router = cloud.identity.router.clone();
        tokio::spawn(async move {
            let _ = axum::serve(identity_listener, identity_router).await;
        });
        let limits: Arc<dyn monostack_auth::limits::LimitSource> =
            Arc::new(monostack_identity::validator::LocalLimits::new(cloud.identity.identity.clone()));
        let image = monostack_image::ImageService::open(cloud.identity.identity.config.clone(), Some(limits))
            .await
            .expect("open image");
        let validator: monostack_auth::SharedValidator =
            Arc::new(monostack_identity::validator::LocalValidator(cloud.identity.identity.clone()));
        let router = monostack_common::server::with_common_layers(
            monostack_image::api::router(image, validator, "http://127.0.0.1:5000/v3"),
            monostack_common::FaultStyle::Image,
            1 << 20,
        );
        tokio::spawn(async move {
            let _ = axum::serve(image_listener, router).await;
        });
        let image_url = format!("http://127.0.0.1:{image_port}");
        // The catalog the bootstrap wrote names the identity's configured port: point its
        // image endpoints here.
        let services = cloud.identity.call(Method::GET, "/v3/services?type=image", Some(&cloud.admin), None).await;
        for s in services.body["services"].as_array().cloned().unwrap_or_default() {
            let sid = s["id"].as_str().unwrap_or_default();
            let eps = cloud
                .identity
                .call(Method::GET, &format!("/v3/endpoints?service_id={sid}"), Some(&cloud.admin), None)
                .await;
            for e in eps.body["endpoints"].as_array().cloned().unwrap_or_default() {
                let eid = e["id"].as_str().unwrap_or_default();
                let r = cloud
                    .identity
                    .call(
                        Method::PATCH,
                        &format!("/v3/endpoints/{eid}"),
                        Some(&cloud.admin),
                        Some(serde_json::json!({"endpoint": {"url": image_url}})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "endpoint update: {}", r.body);
            }
        }
        (cloud, image_url)
    }

    /// Creates an image (raw/bare unless `fields` say) as `token` and uploads `data`.
    pub async fn image(&self, base: &str, token: &str, mut fields: Value, data: &[u8]) -> String {
        for (k, v) in [("disk_format", "raw"), ("container_format", "bare")] {
            if fields.get(k).is_none() {
                fields[k] = Value::String(v.into());
            }
        }
        let client = reqwest::Client::new();
        let resp = client
            .post(format!("{base}/v2/images"))
            .header("x-auth-token", token)
            .json(&fields)
            .send()
            .await
            .expect("create image");
        assert_eq!(resp.status().as_u16(), 201, "create image");
        let body: Value = resp.json().await.expect("image body");
        let id = body["id"].as_str().expect("image id").to_string();
        let resp = client
            .put(format!("{base}/v2/images/{id}/file"))
            .header("x-auth-token", token)
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send()
            .await
            .expect("upload image");
        assert!(resp.status().is_success(), "upload: {}", resp.status());
        id
    }

    /// The image's record and data, as `token` sees them.
    pub async fn image_data(&self, base: &str, token: &str, id: &str) -> (Value, Vec<u8>) {
        let client = reqwest::Client::new();
        let meta: Value = client
            .get(format!("{base}/v2/images/{id}"))
            .header("x-auth-token", token)
            .send()
            .await
            .expect("show image")
            .json()
            .await
            .expect("image json");
        let data = client
            .get(format!("{base}/v2/images/{id}/file"))
            .header("x-auth-token", token)
            .send()
            .await
            .expect("download image")
            .bytes()
            .await
            .expect("image bytes")
            .to_vec();
        (meta, data)
    }
}
