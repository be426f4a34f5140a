//! First-start bootstrap, idempotent on every start: the Default domain, the admin project,
//! user and roles, the service project with one user per OpenStack service, the region and the
//! catalog, and the admin's clouds.yaml/openrc in the state directory.

use crate::store::{self, assignments::{Assignment, Kind}, catalog::{Endpoint, Region, Service}, projects::Project, roles::Role, users::User, DEFAULT_DOMAIN_ID, ROOT_DOMAIN};
use crate::Identity;
use monostack_common::ApiError;
use rand::distributions::{Alphanumeric, DistString};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Service users created in the `service` project, one per OpenStack service.
pub const SERVICE_USERS: &[&str] = &["nova", "placement", "glance", "cinder", "neutron"];

/// What bootstrap established.
pub struct Bootstrapped {
    pub admin_password: Option<String>,
    pub created_admin: bool,
}

pub async fn run(state: &Identity) -> Result<Bootstrapped, ApiError> {
    let cfg = &state.config.identity;
    let domain = ensure_domain(state).await?;
    let admin_project = ensure_project(state, &cfg.admin_project_name, &domain.id, "Bootstrap project for initializing the cloud.").await?;
    let service_project = ensure_project(state, "service", &domain.id, "Project of the OpenStack service users.").await?;
    let admin_role = ensure_role(state, "admin").await?;
    let member_role = ensure_role(state, "member").await?;
    let reader_role = ensure_role(state, "reader").await?;
    let manager_role = ensure_role(state, "manager").await?;
    let service_role = ensure_role(state, "service").await?;
    ensure_implication(state, &admin_role.id, &manager_role.id).await?;
    ensure_implication(state, &manager_role.id, &member_role.id).await?;
    ensure_implication(state, &admin_role.id, &member_role.id).await?;
    ensure_implication(state, &member_role.id, &reader_role.id).await?;

    let (admin, created_admin, admin_password) = ensure_admin(state, &domain.id).await?;
    for (kind, target) in [(Kind::UserProject, admin_project.id.as_str()), (Kind::UserSystem, store::assignments::SYSTEM_TARGET), (Kind::UserDomain, domain.id.as_str())] {
        store::assignments::grant(state, &Assignment { kind, actor_id: admin.id.clone(), target_id: target.into(), role_id: admin_role.id.clone(), inherited: false }).await?;
    }
    let mut missing = Vec::new();
    for name in SERVICE_USERS {
        if store::users::get_by_name(state, &domain.id, name).await?.is_none() {
            missing.push((name.to_string(), random_password()));
        }
    }
    // bcrypt is deliberately slow: hash the new users' passwords side by side.
    let hashes = futures::future::try_join_all(missing.iter().map(|(_, p)| store::users::hash_password(state, p))).await?;
    let mut service_passwords = Vec::new();
    for ((name, password), hash) in missing.into_iter().zip(hashes) {
        let mut user = User::new(&name, &domain.id);
        user.password_hash = Some(hash);
        store::users::insert(state, &user).await?;
        for role in [&admin_role, &service_role] {
            store::assignments::grant(state, &Assignment { kind: Kind::UserProject, actor_id: user.id.clone(), target_id: service_project.id.clone(), role_id: role.id.clone(), inherited: false }).await?;
        }
        service_passwords.push((name, password));
    }
    ensure_catalog(state).await?;
    if !service_passwords.is_empty() {
        write_service_credentials(state, &service_passwords).map_err(ApiError::internal)?;
    }
    if let Some(password) = &admin_password {
        write_client_files(state, password).map_err(ApiError::internal)?;
    }
    Ok(Bootstrapped { admin_password, created_admin })
}

async fn ensure_domain(state: &Identity) -> Result<Project, ApiError> {
    if let Some(d) = store::projects::get(state, DEFAULT_DOMAIN_ID).await? {
        return Ok(d);
    }
    let mut d = Project::new("Default", ROOT_DOMAIN, None);
    d.id = DEFAULT_DOMAIN_ID.into();
    d.description = "The default domain".into();
    store::projects::insert(state, &d).await?;
    Ok(d)
}

async fn ensure_project(state: &Identity, name: &str, domain_id: &str, description: &str) -> Result<Project, ApiError> {
    if let Some(p) = store::projects::get_by_name(state, domain_id, name).await? {
        return Ok(p);
    }
    let mut p = Project::new(name, domain_id, Some(domain_id.to_string()));
    p.description = description.into();
    store::projects::insert(state, &p).await?;
    Ok(p)
}

async fn ensure_role(state: &Identity, name: &str) -> Result<Role, ApiError> {
    if let Some(r) = store::roles::get_by_name(state, name, None).await? {
        return Ok(r);
    }
    // Keystone marks the roles it bootstraps immutable, so they are not renamed or deleted by accident.
    let mut r = Role::new(name, None);
    r.options.insert("immutable".into(), serde_json::Value::Bool(true));
    store::roles::insert(state, &r).await?;
    Ok(r)
}

async fn ensure_implication(state: &Identity, prior: &str, implied: &str) -> Result<(), ApiError> {
    let existing = store::roles::implications(state).await?;
    if !existing.iter().any(|(p, i)| p == prior && i == implied) {
        store::roles::add_implication(state, prior, implied).await?;
    }
    Ok(())
}

/// The admin user; its password is set from config when given, generated when new.
async fn ensure_admin(state: &Identity, domain_id: &str) -> Result<(User, bool, Option<String>), ApiError> {
    let cfg = &state.config.identity;
    let configured = cfg.admin_password.clone();
    if let Some(mut user) = store::users::get_by_name(state, domain_id, &cfg.admin_username).await? {
        if let Some(password) = &configured {
            let matches = match &user.password_hash {
                Some(h) => store::users::verify_password(password, h).await,
                None => false,
            };
            if !matches {
                user.password_hash = Some(store::users::hash_password(state, password).await?);
                store::users::update(state, &user).await?;
            }
            return Ok((user, false, Some(password.clone())));
        }
        return Ok((user, false, None));
    }
    let password = configured.unwrap_or_else(random_password);
    let mut user = User::new(&cfg.admin_username, domain_id);
    user.password_hash = Some(store::users::hash_password(state, &password).await?);
    store::users::insert(state, &user).await?;
    tracing::info!("bootstrap created the admin user {}", user.id);
    Ok((user, true, Some(password)))
}

fn random_password() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 24)
}

/// The catalog every client sees from day one, even before the services exist.
async fn ensure_catalog(state: &Identity) -> Result<(), ApiError> {
    let cfg = &state.config;
    let region = cfg.default.region.clone();
    if store::catalog::get_region(state, &region).await?.is_none() {
        let r = Region { id: region.clone(), description: String::new(), parent_region_id: None, extra: Default::default() };
        store::catalog::upsert_region(state, &r, true).await?;
    }
    let host = cfg.public_host();
    let entries = [
        ("identity", "keystone", format!("http://{host}:{}/v3", cfg.identity.port)),
        ("compute", "nova", format!("http://{host}:{}/v2.1", cfg.compute.port)),
        ("placement", "placement", format!("http://{host}:{}", cfg.placement.port)),
        ("image", "glance", format!("http://{host}:{}", cfg.image.port)),
        ("volumev3", "cinderv3", format!("http://{host}:{}/v3", cfg.volume.port)),
        ("block-storage", "cinder", format!("http://{host}:{}/v3", cfg.volume.port)),
        ("network", "neutron", format!("http://{host}:{}", cfg.network.port)),
    ];
    let services = store::catalog::list_services(state).await?;
    for (service_type, name, url) in entries {
        if services.iter().any(|s| s.service_type == service_type) {
            continue;
        }
        let service = Service::new(service_type, Some(name));
        store::catalog::upsert_service(state, &service, true).await?;
        for interface in ["public", "internal", "admin"] {
            let e = Endpoint::new(&service.id, interface, Some(&region), &url);
            store::catalog::upsert_endpoint(state, &e, true).await?;
        }
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
    std::fs::rename(&tmp, path)
}

/// `<state>/clouds.yaml` (cloud `monostack`) and `<state>/openrc` for the admin.
fn write_client_files(state: &Identity, password: &str) -> std::io::Result<()> {
    let cfg = &state.config;
    let dir = cfg.state_dir();
    let auth_url = format!("{}/v3", state.public_url);
    let project = &cfg.identity.admin_project_name;
    let user = &cfg.identity.admin_username;
    let region = &cfg.default.region;
    let clouds = format!(
        "clouds:\n  monostack:\n    auth:\n      auth_url: {auth_url}\n      username: {user}\n      password: {password}\n      project_name: {project}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: {region}\n    interface: public\n    identity_api_version: 3\n  monostack-system-admin:\n    auth:\n      auth_url: {auth_url}\n      username: {user}\n      password: {password}\n      system_scope: all\n      user_domain_name: Default\n    region_name: {region}\n    interface: public\n    identity_api_version: 3\n"
    );
    write_private(&dir.join("clouds.yaml"), &clouds)?;
    let openrc = format!(
        "export OS_AUTH_URL={auth_url}\nexport OS_USERNAME={user}\nexport OS_PASSWORD={password}\nexport OS_PROJECT_NAME={project}\nexport OS_USER_DOMAIN_NAME=Default\nexport OS_PROJECT_DOMAIN_NAME=Default\nexport OS_IDENTITY_API_VERSION=3\nexport OS_REGION_NAME={region}\nexport OS_INTERFACE=public\n"
    );
    write_private(&dir.join("openrc"), &openrc)
}

/// `<state>/service-users.toml`: the service users' passwords, for services on other nodes.
fn write_service_credentials(state: &Identity, creds: &[(String, String)]) -> std::io::Result<()> {
    let path = state.config.state_dir().join("service-users.toml");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    for (name, password) in creds {
        text.push_str(&format!("[{name}]\nusername = \"{name}\"\npassword = \"{password}\"\nproject_name = \"service\"\n\n"));
    }
    write_private(&path, &text)
}
