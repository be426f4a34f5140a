//! Connecting: resolving the per-service database URL, creating the database when missing,
//! and the per-connection settings each backend needs.

use crate::Database;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;
use std::path::Path;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// The URL of `service`'s database given the configured connection (see
/// `[database] connection`): a SQLite file under `state_dir` when unset; `{service}`
/// substituted when present; otherwise the database name gets `_<service>` appended.
pub fn service_url(connection: Option<&str>, state_dir: &Path, service: &str) -> anyhow::Result<String> {
    let Some(conn) = connection else {
        let path = state_dir.join(format!("{service}.db"));
        return Ok(format!("sqlite://{}?mode=rwc", path.display()));
    };
    if conn.contains("{service}") {
        return Ok(conn.replace("{service}", service));
    }
    if conn.starts_with("sqlite:") {
        return Ok(conn.to_string());
    }
    let mut url = url::Url::parse(conn).map_err(|e| anyhow::anyhow!("invalid database URL: {e}"))?;
    let base = url.path().trim_start_matches('/');
    let base = if base.is_empty() { "monostack" } else { base };
    url.set_path(&format!("/{base}_{service}"));
    Ok(url.to_string())
}

fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        Ok(Backend::MySql)
    } else {
        anyhow::bail!("unsupported database URL scheme (use sqlite:, postgresql:// or mysql://)")
    }
}

impl Database {
    /// Opens `service`'s database, creating it (file or server database) when missing.
    pub async fn connect(
        connection: Option<&str>,
        state_dir: &Path,
        service: &str,
        max_connections: u32,
    ) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        if connection.is_none() {
            std::fs::create_dir_all(state_dir)?;
        }
        let url = service_url(connection, state_dir, service)?;
        let url = url.replacen("mariadb://", "mysql://", 1);
        let backend = backend_of(&url)?;
        if backend != Backend::Sqlite {
            create_server_database(&url, backend).await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match backend {
                        // WAL lets readers run beside the one writer; busy_timeout makes
                        // writers queue instead of failing with "database is locked".
                        Backend::Sqlite => {
                            conn.execute("PRAGMA journal_mode=WAL").await?;
                            conn.execute("PRAGMA busy_timeout=10000").await?;
                            conn.execute("PRAGMA synchronous=NORMAL").await?;
                            conn.execute("PRAGMA foreign_keys=ON").await?;
                        }
                        Backend::MySql => {
                            conn.execute("SET SESSION sql_mode='ANSI_QUOTES,STRICT_ALL_TABLES'").await?;
                        }
                        Backend::Postgres => {}
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the {service} database: {e}"))?;
        Ok(Database { pool, backend })
    }
}

/// Creates the database named in `url` on its server if it does not exist yet.
async fn create_server_database(url: &str, backend: Backend) -> anyhow::Result<()> {
    let mut parsed = url::Url::parse(url)?;
    let name = parsed.path().trim_start_matches('/').to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("database name '{name}' must be letters, digits and underscores");
    }
    let admin_db = if backend == Backend::Postgres { "/postgres" } else { "/" };
    parsed.set_path(admin_db);
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(parsed.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the database server: {e}"))?;
    let exists = match backend {
        Backend::Postgres => sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_optional(&mut conn)
            .await?
            .is_some(),
        _ => false,
    };
    if !exists {
        let stmt = match backend {
            Backend::Postgres => format!("CREATE DATABASE \"{name}\""),
            _ => format!("CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        };
        if let Err(e) = conn.execute(stmt.as_str()).await {
            // Another process may have created it between our check and now.
            let raced = matches!(&e, sqlx::Error::Database(d) if d.code().as_deref() == Some("42P04"));
            if !raced {
                return Err(anyhow::anyhow!("cannot create database {name}: {e}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn urls() {
        let d = Path::new("/s");
        assert_eq!(service_url(None, d, "identity").unwrap(), "sqlite:///s/identity.db?mode=rwc");
        assert_eq!(
            service_url(Some("postgresql://pg@h:5432/monostack"), d, "identity").unwrap(),
            "postgresql://pg@h:5432/monostack_identity"
        );
        assert_eq!(service_url(Some("mysql://root@h/"), d, "image").unwrap(), "mysql://root@h/monostack_image");
        assert_eq!(service_url(Some("mysql://root@h/{service}db"), d, "x").unwrap(), "mysql://root@h/xdb");
    }
}
