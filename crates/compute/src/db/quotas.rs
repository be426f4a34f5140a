//! Quota limits: per project (`user_id` ''), per user within a project, and per quota class.

use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use std::collections::BTreeMap;

pub type Limits = BTreeMap<String, i64>;

/// The project-wide limits set for `project_id`.
pub async fn project_limits(db: &Database, project_id: &str) -> Result<Limits, ApiError> {
    user_limits(db, project_id, "").await
}

/// The limits set for `user_id` within `project_id` (`""` for the project-wide ones).
pub async fn user_limits(db: &Database, project_id: &str, user_id: &str) -> Result<Limits, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id = ?"))
        .bind(project_id.to_string())
        .bind(user_id.to_string())
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(|r| Ok((r.text("resource")?, r.int("hard_limit")?))).collect()
}

/// Per resource, the sum of the user-level limits set within `project_id` (summed here, not
/// in SQL, whose SUM types differ between backends).
pub async fn user_limit_sums(db: &Database, project_id: &str) -> Result<Limits, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT resource, hard_limit FROM quotas WHERE project_id = ? AND user_id <> ''"))
        .bind(project_id.to_string())
        .fetch_all(&db.pool)
        .await?;
    let mut sums = Limits::new();
    for r in rows {
        *sums.entry(r.text("resource")?).or_default() += r.int("hard_limit")?;
    }
    Ok(sums)
}

/// Sets limits of a project (`user_id` "") or of a user in it, in one transaction.
pub async fn set_limits(db: &Database, project_id: &str, user_id: &str, limits: &[(String, i64)]) -> Result<(), ApiError> {
    replace_limits(db, "quotas", &[("project_id", project_id), ("user_id", user_id)], limits).await
}

/// Replaces the rows of `table` identified by `owner` columns and `resource`, one per limit,
/// in one transaction.
async fn replace_limits(db: &Database, table: &str, owner: &[(&str, &str)], limits: &[(String, i64)]) -> Result<(), ApiError> {
    let key: Vec<String> = owner.iter().map(|(c, _)| format!("{c} = ?")).collect();
    let delete = format!("DELETE FROM {table} WHERE {} AND resource = ?", key.join(" AND "));
    let columns: Vec<&str> = owner.iter().map(|(c, _)| *c).collect();
    let insert = format!("INSERT INTO {table} ({}, resource, hard_limit) VALUES ({}, ?, ?)", columns.join(", "), vec!["?"; owner.len()].join(", "));
    let (delete, insert) = (db.sql(&delete), db.sql(&insert));
    let mut tx = db.begin_write().await?;
    for (resource, limit) in limits {
        let mut q = sqlx::query(&delete);
        for (_, v) in owner {
            q = q.bind(v.to_string());
        }
        q.bind(resource.clone()).execute(&mut *tx).await?;
        let mut q = sqlx::query(&insert);
        for (_, v) in owner {
            q = q.bind(v.to_string());
        }
        q.bind(resource.clone()).bind(*limit).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Forgets the limits of a project, its users' included (back to the defaults).
pub async fn delete_project(db: &Database, project_id: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("DELETE FROM quotas WHERE project_id = ?")).bind(project_id.to_string()).execute(&db.pool).await?;
    Ok(())
}

/// Forgets the limits of one user in a project.
pub async fn delete_user(db: &Database, project_id: &str, user_id: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("DELETE FROM quotas WHERE project_id = ? AND user_id = ?")).bind(project_id.to_string()).bind(user_id.to_string()).execute(&db.pool).await?;
    Ok(())
}

/// The limits of a quota class.
pub async fn class_limits(db: &Database, class: &str) -> Result<Limits, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT resource, hard_limit FROM quota_classes WHERE class_name = ?")).bind(class.to_string()).fetch_all(&db.pool).await?;
    rows.iter().map(|r| Ok((r.text("resource")?, r.int("hard_limit")?))).collect()
}

/// Sets limits of a quota class, in one transaction.
pub async fn set_class_limits(db: &Database, class: &str, limits: &[(String, i64)]) -> Result<(), ApiError> {
    replace_limits(db, "quota_classes", &[("class_name", class)], limits).await
}
