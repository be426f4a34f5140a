//! Image members: the projects a `shared` image is offered to, with their answer.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{Database, RowExt};
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub image_id: String,
    pub member: String,
    /// pending, accepted or rejected.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "image_id, member, status, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Member, ApiError> {
    Ok(Member {
        image_id: row.text("image_id")?,
        member: row.text("member")?,
        status: row.text("status")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

pub async fn list(db: &Database, image_id: &str) -> Result<Vec<Member>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM image_members WHERE image_id = ? ORDER BY created_at, member");
    let rows = sqlx::query(&db.sql(&sql)).bind(image_id).fetch_all(&db.pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(db: &Database, image_id: &str, member: &str) -> Result<Option<Member>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM image_members WHERE image_id = ? AND member = ?");
    let row = sqlx::query(&db.sql(&sql)).bind(image_id).bind(member).fetch_optional(&db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn count(db: &Database, image_id: &str) -> Result<usize, ApiError> {
    let row = sqlx::query(&db.sql("SELECT COUNT(*) AS n FROM image_members WHERE image_id = ?")).bind(image_id).fetch_one(&db.pool).await?;
    Ok(usize::try_from(row.int("n")?).unwrap_or(0))
}

/// Adds `member` as pending; a duplicate is a unique violation (409).
pub async fn insert(db: &Database, image_id: &str, member: &str) -> Result<Member, ApiError> {
    let now = now_micros();
    let m = Member { image_id: image_id.into(), member: member.into(), status: "pending".into(), created_at: now, updated_at: now };
    sqlx::query(&db.sql(&format!("INSERT INTO image_members ({COLUMNS}) VALUES (?, ?, ?, ?, ?)")))
        .bind(&m.image_id)
        .bind(&m.member)
        .bind(&m.status)
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute(&db.pool)
        .await?;
    Ok(m)
}

pub async fn set_status(db: &Database, image_id: &str, member: &str, status: &str) -> Result<(), ApiError> {
    sqlx::query(&db.sql("UPDATE image_members SET status = ?, updated_at = ? WHERE image_id = ? AND member = ?"))
        .bind(status)
        .bind(now_micros())
        .bind(image_id)
        .bind(member)
        .execute(&db.pool)
        .await?;
    Ok(())
}

pub async fn delete(db: &Database, image_id: &str, member: &str) -> Result<bool, ApiError> {
    let done = sqlx::query(&db.sql("DELETE FROM image_members WHERE image_id = ? AND member = ?"))
        .bind(image_id)
        .bind(member)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
