//! Services, endpoints and regions: the service catalog.

use super::{new_id, to_json_text, RowExt};
use crate::Identity;
use monostack_common::ApiError;
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub service_type: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub id: String,
    pub service_id: String,
    pub interface: String,
    pub region_id: Option<String>,
    pub url: String,
    pub enabled: bool,
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub id: String,
    pub description: String,
    pub parent_region_id: Option<String>,
    pub extra: Map<String, Value>,
}

fn service_from_row(row: &AnyRow) -> Result<Service, ApiError> {
    Ok(Service {
        id: row.text("id")?,
        service_type: row.text("service_type")?,
        name: row.opt_text("name")?,
        description: row.opt_text("description")?,
        enabled: row.flag("enabled")?,
        extra: row.json("extra")?,
    })
}

fn endpoint_from_row(row: &AnyRow) -> Result<Endpoint, ApiError> {
    Ok(Endpoint {
        id: row.text("id")?,
        service_id: row.text("service_id")?,
        interface: row.text("interface")?,
        region_id: row.opt_text("region_id")?,
        url: row.text("url")?,
        enabled: row.flag("enabled")?,
        extra: row.json("extra")?,
    })
}

fn region_from_row(row: &AnyRow) -> Result<Region, ApiError> {
    Ok(Region {
        id: row.text("id")?,
        description: row.opt_text("description")?.unwrap_or_default(),
        parent_region_id: row.opt_text("parent_region_id")?,
        extra: row.json("extra")?,
    })
}

impl Service {
    pub fn new(service_type: &str, name: Option<&str>) -> Self {
        Service {
            id: new_id(),
            service_type: service_type.into(),
            name: name.map(str::to_string),
            description: None,
            enabled: true,
            extra: Map::new(),
        }
    }
}

impl Endpoint {
    pub fn new(service_id: &str, interface: &str, region_id: Option<&str>, url: &str) -> Self {
        Endpoint {
            id: new_id(),
            service_id: service_id.into(),
            interface: interface.into(),
            region_id: region_id.map(str::to_string),
            url: url.into(),
            enabled: true,
            extra: Map::new(),
        }
    }
}

pub async fn list_services(state: &Identity) -> Result<Vec<Service>, ApiError> {
    let rows = sqlx::query("SELECT id, service_type, name, description, enabled, extra FROM services ORDER BY service_type, id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(service_from_row).collect()
}

pub async fn get_service(state: &Identity, id: &str) -> Result<Option<Service>, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT id, service_type, name, description, enabled, extra FROM services WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(service_from_row).transpose()
}

pub async fn upsert_service(state: &Identity, s: &Service, insert: bool) -> Result<(), ApiError> {
    let sql = if insert {
        "INSERT INTO services (service_type, name, description, enabled, extra, id) VALUES (?, ?, ?, ?, ?, ?)"
    } else {
        "UPDATE services SET service_type = ?, name = ?, description = ?, enabled = ?, extra = ? WHERE id = ?"
    };
    sqlx::query(&state.db.sql(sql))
        .bind(&s.service_type)
        .bind(&s.name)
        .bind(&s.description)
        .bind(i64::from(s.enabled))
        .bind(to_json_text(&s.extra))
        .bind(&s.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

/// Deletes a service and its endpoints.
pub async fn delete_service(state: &Identity, id: &str) -> Result<(), ApiError> {
    super::delete_cascade(state, &["DELETE FROM endpoints WHERE service_id = ?", "DELETE FROM services WHERE id = ?"], id).await?;
    Ok(())
}

pub async fn list_endpoints(state: &Identity) -> Result<Vec<Endpoint>, ApiError> {
    let rows = sqlx::query("SELECT id, service_id, interface, region_id, url, enabled, extra FROM endpoints ORDER BY service_id, interface, id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(endpoint_from_row).collect()
}

pub async fn get_endpoint(state: &Identity, id: &str) -> Result<Option<Endpoint>, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT id, service_id, interface, region_id, url, enabled, extra FROM endpoints WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(endpoint_from_row).transpose()
}

pub async fn upsert_endpoint(state: &Identity, e: &Endpoint, insert: bool) -> Result<(), ApiError> {
    let sql = if insert {
        "INSERT INTO endpoints (service_id, interface, region_id, url, enabled, extra, id) VALUES (?, ?, ?, ?, ?, ?, ?)"
    } else {
        "UPDATE endpoints SET service_id = ?, interface = ?, region_id = ?, url = ?, enabled = ?, extra = ? WHERE id = ?"
    };
    sqlx::query(&state.db.sql(sql))
        .bind(&e.service_id)
        .bind(&e.interface)
        .bind(&e.region_id)
        .bind(&e.url)
        .bind(i64::from(e.enabled))
        .bind(to_json_text(&e.extra))
        .bind(&e.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn delete_endpoint(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM endpoints WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

pub async fn list_regions(state: &Identity) -> Result<Vec<Region>, ApiError> {
    let rows = sqlx::query("SELECT id, description, parent_region_id, extra FROM regions ORDER BY id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(region_from_row).collect()
}

pub async fn get_region(state: &Identity, id: &str) -> Result<Option<Region>, ApiError> {
    let row = sqlx::query(&state.db.sql("SELECT id, description, parent_region_id, extra FROM regions WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(region_from_row).transpose()
}

pub async fn upsert_region(state: &Identity, r: &Region, insert: bool) -> Result<(), ApiError> {
    let sql = if insert {
        "INSERT INTO regions (description, parent_region_id, extra, id) VALUES (?, ?, ?, ?)"
    } else {
        "UPDATE regions SET description = ?, parent_region_id = ?, extra = ? WHERE id = ?"
    };
    sqlx::query(&state.db.sql(sql))
        .bind(&r.description)
        .bind(&r.parent_region_id)
        .bind(to_json_text(&r.extra))
        .bind(&r.id)
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn delete_region(state: &Identity, id: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql("DELETE FROM regions WHERE id = ?")).bind(id).execute(&state.db.pool).await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// The catalog as tokens carry it: enabled services with their enabled endpoints.
pub async fn token_catalog(state: &Identity) -> Result<Value, ApiError> {
    let services = list_services(state).await?;
    let endpoints = list_endpoints(state).await?;
    let catalog: Vec<Value> = services
        .iter()
        .filter(|s| s.enabled)
        .map(|s| {
            let eps: Vec<Value> = endpoints
                .iter()
                .filter(|e| e.enabled && e.service_id == s.id)
                .map(|e| {
                    json!({"id": e.id, "interface": e.interface, "region": e.region_id,
                           "region_id": e.region_id, "url": e.url})
                })
                .collect();
            json!({"endpoints": eps, "id": s.id, "type": s.service_type, "name": s.name.clone().unwrap_or_default()})
        })
        .collect();
    Ok(Value::Array(catalog))
}

/// Deletes several regions at once (a region with its descendants).
pub async fn delete_regions(state: &Identity, ids: &[String]) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    for id in ids {
        sqlx::query(&state.db.sql("DELETE FROM regions WHERE id = ?")).bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}
