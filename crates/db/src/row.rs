//! Typed column access on `Any` rows, shared by every service's queries.

use monostack_common::ApiError;
use sqlx::any::AnyRow;
use sqlx::Row;

/// Typed column access on `Any` rows; a type mismatch is a server error.
pub trait RowExt {
    fn text(&self, col: &str) -> Result<String, ApiError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, ApiError>;
    fn int(&self, col: &str) -> Result<i64, ApiError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, ApiError>;
    fn flag(&self, col: &str) -> Result<bool, ApiError>;
    /// A JSON object stored as TEXT; NULL or empty is `{}`.
    fn json(&self, col: &str) -> Result<serde_json::Map<String, serde_json::Value>, ApiError>;
    /// Any JSON value stored as TEXT; NULL or empty is None.
    fn opt_json(&self, col: &str) -> Result<Option<serde_json::Value>, ApiError>;
}

impl RowExt for AnyRow {
    fn text(&self, col: &str) -> Result<String, ApiError> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, ApiError> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn int(&self, col: &str) -> Result<i64, ApiError> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>, ApiError> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn flag(&self, col: &str) -> Result<bool, ApiError> {
        Ok(self.try_get::<i64, _>(col)? != 0)
    }
    fn json(&self, col: &str) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        match self.opt_text(col)? {
            Some(s) if !s.is_empty() => serde_json::from_str(&s).map_err(ApiError::internal),
            _ => Ok(serde_json::Map::new()),
        }
    }
    fn opt_json(&self, col: &str) -> Result<Option<serde_json::Value>, ApiError> {
        match self.opt_text(col)? {
            Some(s) if !s.is_empty() => serde_json::from_str(&s).map(Some).map_err(ApiError::internal),
            _ => Ok(None),
        }
    }
}

