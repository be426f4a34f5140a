//! Unified limits as services read them (oslo.limit's flat model): a project's limit on a
//! resource is its project limit in identity, else the registered default. Like token
//! validation, read in-process when identity runs beside the service.

use crate::validator::AuthError;
use async_trait::async_trait;
use std::collections::HashMap;

#[async_trait]
pub trait LimitSource: Send + Sync + 'static {
    /// The limits of `project_id` on every resource registered for the service of type
    /// `service_type`, by resource name. A resource with no registered limit is absent.
    async fn project_limits(&self, service_type: &str, project_id: &str) -> Result<HashMap<String, i64>, AuthError>;
}
