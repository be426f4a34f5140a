//! Per-project quota limits and quota classes (only `default` is used), as set through
//! os-quota-sets and os-quota-class-sets.

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

pub async fn project_limits(
    db: &Database,
    project: &str,
) -> Result<BTreeMap<String, i64>, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT resource, hard_limit FROM quotas WHERE project_id = ?"))
        .bind(project)
        .fetch_all(&db.pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.text("resource")?, r.int("hard_limit")?)))
        .collect()
}

pub async fn class_limits(db: &Database, class: &str) -> Result<BTreeMap<String, i64>, ApiError> {
    let rows =
        sqlx::query(&db.sql("SELECT resource, hard_limit FROM quota_classes WHERE class_name = ?"))
            .bind(class)
            .fetch_all(&db.pool)
            .await?;
    rows.iter()
        .map(|r| Ok((r.text("resource")?, r.int("hard_limit")?)))
        .collect()
}

/// Sets limits of `project`.
pub async fn set_project(
    db: &Database,
    project: &str,
    limits: &BTreeMap<String, i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for (k, v) in limits {
        sqlx::query(&db.sql("DELETE FROM quotas WHERE project_id = ? AND resource = ?"))
            .bind(project)
            .bind(k)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            &db.sql("INSERT INTO quotas (project_id, resource, hard_limit) VALUES (?, ?, ?)"),
        )
        .bind(project)
        .bind(k)
        .bind(v)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Drops every limit of `project` (back to the defaults).
pub async fn delete_project(db: &Database, project: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("DELETE FROM quotas WHERE project_id = ?"))
        .bind(project)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Sets limits of quota class `class`.
pub async fn set_class(
    db: &Database,
    class: &str,
    limits: &BTreeMap<String, i64>,
) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    for (k, v) in limits {
        sqlx::query(&db.sql("DELETE FROM quota_classes WHERE class_name = ? AND resource = ?"))
            .bind(class)
            .bind(k)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            &db.sql(
                "INSERT INTO quota_classes (class_name, resource, hard_limit) VALUES (?, ?, ?)",
            ),
        )
        .bind(class)
        .bind(k)
        .bind(v)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
