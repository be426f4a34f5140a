//! QoS specs: named sets of key/value limits for a consumer (`front-end`, `back-end` or
//! `both`), associated with volume types through `volume_types.qos_specs_id`.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct QosSpecs {
    pub id: String,
    pub name: String,
    pub consumer: String,
    pub specs: BTreeMap<String, String>,
    pub created_at: i64,
}

async fn specs_of(db: &Database, id: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let rows = sqlx::query(
        &db.sql("SELECT spec_key, spec_value FROM qos_specs_keys WHERE qos_specs_id = ?"),
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.text("spec_key")?, r.text("spec_value")?)))
        .collect()
}

pub async fn get(db: &Database, id: &str) -> Result<Option<QosSpecs>, ApiError> {
    let row =
        sqlx::query(&db.sql("SELECT id, name, consumer, created_at FROM qos_specs WHERE id = ?"))
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(QosSpecs {
        id: r.text("id")?,
        name: r.text("name")?,
        consumer: r.text("consumer")?,
        created_at: r.int("created_at")?,
        specs: specs_of(db, id).await?,
    }))
}

pub async fn list(db: &Database) -> Result<Vec<QosSpecs>, ApiError> {
    let rows =
        sqlx::query("SELECT id, name, consumer, created_at FROM qos_specs ORDER BY created_at, id")
            .fetch_all(&db.pool)
            .await?;
    let mut out = Vec::new();
    for r in &rows {
        let id = r.text("id")?;
        out.push(QosSpecs {
            name: r.text("name")?,
            consumer: r.text("consumer")?,
            created_at: r.int("created_at")?,
            specs: specs_of(db, &id).await?,
            id,
        });
    }
    Ok(out)
}

/// Inserts; a duplicate name is a unique violation (409).
pub async fn insert(db: &Database, q: &QosSpecs) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql(
        "INSERT INTO qos_specs (id, name, consumer, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
    ))
    .bind(&q.id)
    .bind(&q.name)
    .bind(&q.consumer)
    .bind(q.created_at)
    .bind(q.created_at)
    .execute(&mut *tx)
    .await?;
    for (k, v) in &q.specs {
        sqlx::query(&db.sql(
            "INSERT INTO qos_specs_keys (qos_specs_id, spec_key, spec_value) VALUES (?, ?, ?)",
        ))
        .bind(&q.id)
        .bind(k)
        .bind(v)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets keys (and the consumer, when `consumer` is given).
pub async fn update(
    db: &Database,
    id: &str,
    consumer: Option<&str>,
    specs: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    if let Some(c) = consumer {
        sqlx::query(&db.sql("UPDATE qos_specs SET consumer = ? WHERE id = ?"))
            .bind(c)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    for (k, v) in specs {
        sqlx::query(&db.sql("DELETE FROM qos_specs_keys WHERE qos_specs_id = ? AND spec_key = ?"))
            .bind(id)
            .bind(k)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&db.sql(
            "INSERT INTO qos_specs_keys (qos_specs_id, spec_key, spec_value) VALUES (?, ?, ?)",
        ))
        .bind(id)
        .bind(k)
        .bind(v)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(&db.sql("UPDATE qos_specs SET updated_at = ? WHERE id = ?"))
        .bind(now_micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes keys; the first key that is not there is returned as an error.
pub async fn delete_keys(
    db: &Database,
    id: &str,
    keys: &[String],
) -> Result<Option<String>, ApiError> {
    let have = specs_of(db, id).await?;
    if let Some(missing) = keys.iter().find(|k| !have.contains_key(*k)) {
        return Ok(Some(missing.clone()));
    }
    let mut tx = db.begin_write().await?;
    for k in keys {
        sqlx::query(&db.sql("DELETE FROM qos_specs_keys WHERE qos_specs_id = ? AND spec_key = ?"))
            .bind(id)
            .bind(k)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(None)
}

/// Deletes the specs, disassociating every type.
pub async fn delete(db: &Database, id: &str) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("UPDATE volume_types SET qos_specs_id = NULL WHERE qos_specs_id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&db.sql("DELETE FROM qos_specs_keys WHERE qos_specs_id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&db.sql("DELETE FROM qos_specs WHERE id = ?"))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The (id, name) of the types associated with the specs.
pub async fn associated_types(db: &Database, id: &str) -> Result<Vec<(String, String)>, ApiError> {
    let rows = sqlx::query(
        &db.sql("SELECT id, name FROM volume_types WHERE qos_specs_id = ? ORDER BY name"),
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.text("id")?, r.text("name")?)))
        .collect()
}

/// Sets (or clears) the QoS specs of a volume type.
pub async fn set_type_qos(
    db: &Database,
    type_id: &str,
    qos_id: Option<&str>,
) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE volume_types SET qos_specs_id = ?, updated_at = ? WHERE id = ?"))
        .bind(qos_id)
        .bind(now_micros())
        .bind(type_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
