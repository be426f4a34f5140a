//! Identity's data access: one file per entity, plain SQL through [`monostack_db`].
//! Handlers never write SQL; they call these functions.

pub mod app_creds;
pub mod assignments;
pub mod catalog;
pub mod credentials;
pub mod domain_configs;
pub mod endpoint_groups;
pub mod groups;
pub mod limits;
pub mod oauth1_consumers;
pub mod policies;
pub mod projects;
pub mod revocations;
pub mod roles;
pub mod schema;
pub mod trusts;
pub mod users;

use crate::Identity;
use monostack_common::ApiError;

/// `domain_id` of domains themselves (they are projects acting as domains).
pub const ROOT_DOMAIN: &str = "<<keystone.domain.root>>";
/// `domain_id` of global roles.
pub const NULL_DOMAIN: &str = "<<null>>";
/// The id of the `Default` domain.
pub const DEFAULT_DOMAIN_ID: &str = "default";

/// A new entity id: a hex UUID, as Keystone makes them.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub use monostack_db::RowExt;

/// Serialises a JSON object for a TEXT column.
pub fn to_json_text(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(map.clone()).to_string()
}

/// Runs `statements` in one transaction, binding `id` to every `?` of each, then marks the
/// caches stale: the shape of every cascading delete.
pub async fn delete_cascade(state: &Identity, statements: &[&str], id: &str) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    for stmt in statements {
        let sql = state.db.sql(stmt);
        let mut q = sqlx::query(&sql);
        for _ in 0..stmt.matches('?').count() {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    state.changed();
    Ok(())
}
