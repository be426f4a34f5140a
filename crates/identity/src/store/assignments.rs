//! Role assignments: an actor (user or group) holds a role on a target (project, domain or
//! the system), possibly inherited by the target's subtree (OS-INHERIT).

use super::RowExt;
use crate::Identity;
use monostack_common::ApiError;

/// The system target's id in the `assignments` table.
pub const SYSTEM_TARGET: &str = "system";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UserProject,
    GroupProject,
    UserDomain,
    GroupDomain,
    UserSystem,
    GroupSystem,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UserProject => "UserProject",
            Kind::GroupProject => "GroupProject",
            Kind::UserDomain => "UserDomain",
            Kind::GroupDomain => "GroupDomain",
            Kind::UserSystem => "UserSystem",
            Kind::GroupSystem => "GroupSystem",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UserProject" => Kind::UserProject,
            "GroupProject" => Kind::GroupProject,
            "UserDomain" => Kind::UserDomain,
            "GroupDomain" => Kind::GroupDomain,
            "UserSystem" => Kind::UserSystem,
            "GroupSystem" => Kind::GroupSystem,
            _ => return None,
        })
    }
    pub fn is_group(self) -> bool {
        matches!(self, Kind::GroupProject | Kind::GroupDomain | Kind::GroupSystem)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub kind: Kind,
    pub actor_id: String,
    pub target_id: String,
    pub role_id: String,
    pub inherited: bool,
}

pub async fn grant(state: &Identity, a: &Assignment) -> Result<(), ApiError> {
    if exists(state, a).await? {
        return Ok(());
    }
    sqlx::query(&state.db.sql("INSERT INTO assignments (kind, actor_id, target_id, role_id, inherited) VALUES (?, ?, ?, ?, ?)"))
        .bind(a.kind.as_str())
        .bind(&a.actor_id)
        .bind(&a.target_id)
        .bind(&a.role_id)
        .bind(i64::from(a.inherited))
        .execute(&state.db.pool)
        .await?;
    state.changed();
    Ok(())
}

pub async fn exists(state: &Identity, a: &Assignment) -> Result<bool, ApiError> {
    let row = sqlx::query(&state.db.sql(
        "SELECT role_id FROM assignments WHERE kind = ? AND actor_id = ? AND target_id = ? AND role_id = ? AND inherited = ?",
    ))
    .bind(a.kind.as_str())
    .bind(&a.actor_id)
    .bind(&a.target_id)
    .bind(&a.role_id)
    .bind(i64::from(a.inherited))
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(row.is_some())
}

/// Removes an assignment; false when it did not exist.
pub async fn revoke(state: &Identity, a: &Assignment) -> Result<bool, ApiError> {
    let done = sqlx::query(&state.db.sql(
        "DELETE FROM assignments WHERE kind = ? AND actor_id = ? AND target_id = ? AND role_id = ? AND inherited = ?",
    ))
    .bind(a.kind.as_str())
    .bind(&a.actor_id)
    .bind(&a.target_id)
    .bind(&a.role_id)
    .bind(i64::from(a.inherited))
    .execute(&state.db.pool)
    .await?;
    state.changed();
    Ok(done.rows_affected() > 0)
}

/// Every assignment, for filtering in memory (the table is small: users × targets × roles).
pub async fn list_all(state: &Identity) -> Result<Vec<Assignment>, ApiError> {
    let rows = sqlx::query("SELECT kind, actor_id, target_id, role_id, inherited FROM assignments ORDER BY kind, actor_id, target_id, role_id")
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Assignment {
                kind: Kind::parse(&r.text("kind")?).ok_or_else(|| ApiError::internal("bad assignment kind"))?,
                actor_id: r.text("actor_id")?,
                target_id: r.text("target_id")?,
                role_id: r.text("role_id")?,
                inherited: r.flag("inherited")?,
            })
        })
        .collect()
}

/// Role ids held directly (not through implication) by any of `actors` on `direct_targets`
/// (non-inherited assignments) or on `inheriting_targets` (inherited assignments only).
pub async fn role_ids_for(
    state: &Identity,
    actors: &[String],
    direct_targets: &[String],
    inheriting_targets: &[String],
) -> Result<Vec<String>, ApiError> {
    if actors.is_empty() || (direct_targets.is_empty() && inheriting_targets.is_empty()) {
        return Ok(Vec::new());
    }
    let marks = |n: usize| vec!["?"; n].join(", ");
    let mut sql = format!(
        "SELECT DISTINCT role_id FROM assignments WHERE actor_id IN ({}) AND ((inherited = 0 AND target_id IN ({}))",
        marks(actors.len()),
        marks(direct_targets.len().max(1))
    );
    if !inheriting_targets.is_empty() {
        sql.push_str(&format!(" OR (inherited = 1 AND target_id IN ({}))", marks(inheriting_targets.len())));
    }
    sql.push(')');
    let sql = state.db.sql(&sql);
    let mut q = sqlx::query(&sql);
    for a in actors {
        q = q.bind(a);
    }
    if direct_targets.is_empty() {
        q = q.bind("");
    }
    for t in direct_targets.iter().chain(inheriting_targets) {
        q = q.bind(t);
    }
    let rows = q.fetch_all(&state.db.pool).await?;
    rows.iter().map(|r| r.text("role_id")).collect()
}
