//! Image rows with their custom properties and tags.

use monostack_common::time::now_micros;
use monostack_common::ApiError;
use monostack_db::{flag, Database, RowExt};
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, BTreeSet};

/// One image as stored: the core attributes, custom properties and tags.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageRecord {
    pub id: String,
    pub name: Option<String>,
    pub status: String,
    pub visibility: String,
    pub owner: Option<String>,
    pub size: Option<i64>,
    pub virtual_size: Option<i64>,
    pub checksum: Option<String>,
    pub os_hash_algo: Option<String>,
    pub os_hash_value: Option<String>,
    pub disk_format: Option<String>,
    pub container_format: Option<String>,
    pub min_disk: i64,
    pub min_ram: i64,
    pub protected: bool,
    pub os_hidden: bool,
    /// Ids of the stores holding the data, comma-separated as Glance shows them.
    pub stores: Option<String>,
    /// The data's location URL in its store.
    pub location: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted: bool,
    pub properties: BTreeMap<String, String>,
    pub tags: BTreeSet<String>,
}

impl ImageRecord {
    /// A new image of `owner` in `status`, with Glance's defaults (visibility `shared`).
    pub fn new(owner: Option<String>, status: &str) -> Self {
        let now = now_micros();
        ImageRecord {
            id: uuid::Uuid::new_v4().to_string(),
            status: status.into(),
            visibility: "shared".into(),
            owner,
            created_at: now,
            updated_at: now,
            ..Default::default()
        }
    }
}

pub const COLUMNS: &str = "id, name, status, visibility, owner, size, virtual_size, checksum, os_hash_algo, os_hash_value, disk_format, container_format, min_disk, min_ram, protected, os_hidden, stores, location, created_at, updated_at, deleted";

pub fn from_row(row: &AnyRow) -> Result<ImageRecord, ApiError> {
    Ok(ImageRecord {
        id: row.text("id")?,
        name: row.opt_text("name")?,
        status: row.text("status")?,
        visibility: row.text("visibility")?,
        owner: row.opt_text("owner")?,
        size: row.opt_int("size")?,
        virtual_size: row.opt_int("virtual_size")?,
        checksum: row.opt_text("checksum")?,
        os_hash_algo: row.opt_text("os_hash_algo")?,
        os_hash_value: row.opt_text("os_hash_value")?,
        disk_format: row.opt_text("disk_format")?,
        container_format: row.opt_text("container_format")?,
        min_disk: row.int("min_disk")?,
        min_ram: row.int("min_ram")?,
        protected: row.flag("protected")?,
        os_hidden: row.flag("os_hidden")?,
        stores: row.opt_text("stores")?,
        location: row.opt_text("location")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        deleted: row.flag("deleted")?,
        properties: BTreeMap::new(),
        tags: BTreeSet::new(),
    })
}

/// A live (not deleted) image with its properties and tags.
pub async fn get(db: &Database, id: &str) -> Result<Option<ImageRecord>, ApiError> {
    match get_row(db, id).await? {
        Some(img) if !img.deleted => Ok(Some(img)),
        _ => Ok(None),
    }
}

/// Whether an image ever had this id (deleted ids are never reused).
pub async fn id_taken(db: &Database, id: &str) -> Result<bool, ApiError> {
    let row = sqlx::query(&db.sql("SELECT id FROM images WHERE id = ?")).bind(id).fetch_optional(&db.pool).await?;
    Ok(row.is_some())
}

async fn get_row(db: &Database, id: &str) -> Result<Option<ImageRecord>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM images WHERE id = ?");
    let Some(row) = sqlx::query(&db.sql(&sql)).bind(id).fetch_optional(&db.pool).await? else {
        return Ok(None);
    };
    let mut images = vec![from_row(&row)?];
    load_details(db, &mut images).await?;
    Ok(images.pop())
}

/// Fills in the properties and tags of `images`.
pub async fn load_details(db: &Database, images: &mut [ImageRecord]) -> Result<(), ApiError> {
    if images.is_empty() {
        return Ok(());
    }
    let marks = vec!["?"; images.len()].join(", ");
    let index: BTreeMap<String, usize> = images.iter().enumerate().map(|(i, img)| (img.id.clone(), i)).collect();
    let sql = format!("SELECT image_id, name, value FROM image_properties WHERE image_id IN ({marks})");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for img in images.iter() {
        q = q.bind(img.id.clone());
    }
    for row in q.fetch_all(&db.pool).await? {
        if let Some(&i) = index.get(&row.text("image_id")?) {
            images[i].properties.insert(row.text("name")?, row.text("value")?);
        }
    }
    let sql = format!("SELECT image_id, value FROM image_tags WHERE image_id IN ({marks})");
    let sql = db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for img in images.iter() {
        q = q.bind(img.id.clone());
    }
    for row in q.fetch_all(&db.pool).await? {
        if let Some(&i) = index.get(&row.text("image_id")?) {
            images[i].tags.insert(row.text("value")?);
        }
    }
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds every column of `img` after `id`, in [`COLUMNS`] order.
fn bind_attributes<'q>(q: AnyQuery<'q>, img: &ImageRecord) -> AnyQuery<'q> {
    q.bind(img.name.clone())
        .bind(img.status.clone())
        .bind(img.visibility.clone())
        .bind(img.owner.clone())
        .bind(img.size)
        .bind(img.virtual_size)
        .bind(img.checksum.clone())
        .bind(img.os_hash_algo.clone())
        .bind(img.os_hash_value.clone())
        .bind(img.disk_format.clone())
        .bind(img.container_format.clone())
        .bind(img.min_disk)
        .bind(img.min_ram)
        .bind(flag(img.protected))
        .bind(flag(img.os_hidden))
        .bind(img.stores.clone())
        .bind(img.location.clone())
        .bind(img.created_at)
        .bind(img.updated_at)
        .bind(flag(img.deleted))
}

pub async fn insert(db: &Database, img: &ImageRecord) -> Result<(), ApiError> {
    let mut tx = db.begin_write().await?;
    let marks = vec!["?"; COLUMNS.split(',').count()].join(", ");
    let sql = db.sql(&format!("INSERT INTO images ({COLUMNS}) VALUES ({marks})")).into_owned();
    bind_attributes(sqlx::query(&sql).bind(img.id.clone()), img).execute(&mut *tx).await?;
    write_details(db, &mut tx, img).await?;
    tx.commit().await?;
    Ok(())
}

/// Saves every attribute of `img`, but only if its status is still `expected_status`: a
/// concurrent upload or state change makes this return false instead of overwriting it.
pub async fn save(db: &Database, img: &ImageRecord, expected_status: &str) -> Result<bool, ApiError> {
    let mut tx = db.begin_write().await?;
    let sets = COLUMNS.split(", ").skip(1).map(|c| format!("{c} = ?")).collect::<Vec<_>>().join(", ");
    let sql = db.sql(&format!("UPDATE images SET {sets} WHERE id = ? AND status = ?")).into_owned();
    let q = bind_attributes(sqlx::query(&sql), img).bind(img.id.clone()).bind(expected_status.to_string());
    if q.execute(&mut *tx).await?.rows_affected() == 0 {
        return Ok(false);
    }
    for table in ["image_properties", "image_tags"] {
        sqlx::query(&db.sql(&format!("DELETE FROM {table} WHERE image_id = ?"))).bind(img.id.clone()).execute(&mut *tx).await?;
    }
    write_details(db, &mut tx, img).await?;
    tx.commit().await?;
    Ok(true)
}

async fn write_details(db: &Database, tx: &mut sqlx::Transaction<'_, sqlx::Any>, img: &ImageRecord) -> Result<(), ApiError> {
    let sql = db.sql("INSERT INTO image_properties (image_id, name, value) VALUES (?, ?, ?)").into_owned();
    for (name, value) in &img.properties {
        sqlx::query(&sql).bind(img.id.clone()).bind(name.clone()).bind(value.clone()).execute(&mut **tx).await?;
    }
    let sql = db.sql("INSERT INTO image_tags (image_id, value) VALUES (?, ?)").into_owned();
    for tag in &img.tags {
        sqlx::query(&sql).bind(img.id.clone()).bind(tag.clone()).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Moves an image from one of `from` to `to`; false when it was in none of them.
pub async fn transition(db: &Database, id: &str, from: &[&str], to: &str) -> Result<bool, ApiError> {
    let marks = vec!["?"; from.len()].join(", ");
    let sql = db.sql(&format!("UPDATE images SET status = ?, updated_at = ? WHERE id = ? AND deleted = 0 AND status IN ({marks})")).into_owned();
    let mut q = sqlx::query(&sql).bind(to.to_string()).bind(now_micros()).bind(id.to_string());
    for s in from {
        q = q.bind(s.to_string());
    }
    Ok(q.execute(&db.pool).await?.rows_affected() == 1)
}

/// Marks an image deleted (status `deleted`) and drops its members.
pub async fn soft_delete(db: &Database, id: &str) -> Result<(), ApiError> {
    let now = now_micros();
    let mut tx = db.begin_write().await?;
    sqlx::query(&db.sql("UPDATE images SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?"))
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&db.sql("DELETE FROM image_members WHERE image_id = ?")).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Live images of `owner` and, of those, how many are in one of `statuses` (for quotas).
pub async fn count_owned(db: &Database, owner: &str, statuses: Option<&[&str]>) -> Result<i64, ApiError> {
    let mut sql = "SELECT COUNT(*) AS n FROM images WHERE owner = ? AND deleted = 0".to_string();
    if let Some(s) = statuses {
        sql.push_str(&format!(" AND status IN ({})", vec!["?"; s.len()].join(", ")));
    }
    let sql = db.sql(&sql).into_owned();
    let mut q = sqlx::query(&sql).bind(owner.to_string());
    for s in statuses.unwrap_or(&[]) {
        q = q.bind(s.to_string());
    }
    q.fetch_one(&db.pool).await?.int("n")
}

/// Bytes of image data `owner` keeps in the stores. Summed here, not in SQL, because SUM of a
/// BIGINT is a NUMERIC on PostgreSQL and a DECIMAL on MariaDB.
pub async fn bytes_owned(db: &Database, owner: &str) -> Result<i64, ApiError> {
    let rows = sqlx::query(&db.sql("SELECT size FROM images WHERE owner = ? AND deleted = 0 AND location IS NOT NULL"))
        .bind(owner)
        .fetch_all(&db.pool)
        .await?;
    let mut total = 0i64;
    for row in &rows {
        total = total.saturating_add(row.opt_int("size")?.unwrap_or(0));
    }
    Ok(total)
}

/// Images whose work a crash interrupted: `(id, status)` for saving and importing ones.
pub async fn interrupted(db: &Database) -> Result<Vec<(String, String)>, ApiError> {
    let rows = sqlx::query("SELECT id, status FROM images WHERE deleted = 0 AND status IN ('saving', 'importing')")
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(|r| Ok((r.text("id")?, r.text("status")?))).collect()
}

/// Ids of the live images of `owner` in one of `statuses`.
pub async fn ids_owned(db: &Database, owner: &str, statuses: &[&str]) -> Result<Vec<String>, ApiError> {
    let sql = format!("SELECT id FROM images WHERE owner = ? AND deleted = 0 AND status IN ({})", vec!["?"; statuses.len()].join(", "));
    let sql = db.sql(&sql).into_owned();
    let mut q = sqlx::query(&sql).bind(owner.to_string());
    for s in statuses {
        q = q.bind(s.to_string());
    }
    let rows = q.fetch_all(&db.pool).await?;
    rows.iter().map(|r| r.text("id")).collect()
}
