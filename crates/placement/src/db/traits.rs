//! Traits (standard and CUSTOM_) and the traits of each provider.

use super::{fetch_all, fetch_optional, placeholders, Bind, Tx};
use crate::error::PlacementResult;
use monostack_common::time::now_micros;
use monostack_db::{Database, RowExt};
use std::collections::BTreeSet;

/// A trait row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitRow {
    pub name: String,
    pub standard: bool,
}

pub async fn get(db: &Database, name: &str) -> PlacementResult<Option<TraitRow>> {
    let row = fetch_optional(db, "SELECT name, standard FROM traits WHERE name = ?", &[Bind::Text(name)]).await?;
    row.map(|r| Ok(TraitRow { name: r.text("name")?, standard: r.flag("standard")? })).transpose()
}

pub async fn get_in(tx: &mut Tx, name: &str) -> PlacementResult<Option<TraitRow>> {
    let row = tx.fetch_optional("SELECT name, standard FROM traits WHERE name = ?", &[Bind::Text(name)]).await?;
    row.map(|r| Ok(TraitRow { name: r.text("name")?, standard: r.flag("standard")? })).transpose()
}

/// Trait names, optionally only those starting with `prefix`, in `names`, or (un)associated.
pub async fn list(db: &Database, prefix: Option<&str>, names: Option<&[String]>, associated: Option<bool>) -> PlacementResult<Vec<String>> {
    let mut sql = String::from("SELECT name FROM traits WHERE 1 = 1");
    let mut binds: Vec<Bind> = Vec::new();
    let like;
    if let Some(p) = prefix {
        like = format!("{}%", p.replace('!', "!!").replace('%', "!%").replace('_', "!_"));
        sql.push_str(" AND name LIKE ? ESCAPE '!'");
        binds.push(Bind::Text(&like));
    }
    if let Some(names) = names {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        sql.push_str(&format!(" AND name IN {}", placeholders(names.len())));
        binds.extend(names.iter().map(|n| Bind::Text(n)));
    }
    match associated {
        Some(true) => sql.push_str(" AND name IN (SELECT trait FROM provider_traits)"),
        Some(false) => sql.push_str(" AND name NOT IN (SELECT trait FROM provider_traits)"),
        None => {}
    }
    sql.push_str(" ORDER BY name");
    let rows = fetch_all(db, &sql, &binds).await?;
    rows.iter().map(|r| Ok(r.text("name")?)).collect()
}

pub async fn insert(tx: &mut Tx, name: &str) -> PlacementResult<()> {
    let now = now_micros();
    tx.exec("INSERT INTO traits (name, standard, created_at, updated_at) VALUES (?, 0, ?, ?)", &[Bind::Text(name), Bind::Int(now), Bind::Int(now)]).await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, name: &str) -> PlacementResult<()> {
    tx.exec("DELETE FROM traits WHERE name = ?", &[Bind::Text(name)]).await?;
    Ok(())
}

pub async fn in_use(tx: &mut Tx, name: &str) -> PlacementResult<bool> {
    Ok(tx.fetch_optional("SELECT provider_uuid FROM provider_traits WHERE trait = ? LIMIT 1", &[Bind::Text(name)]).await?.is_some())
}

/// The names among `names` that exist.
pub async fn existing_in(tx: &mut Tx, names: &BTreeSet<String>) -> PlacementResult<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    let all: Vec<&String> = names.iter().collect();
    for chunk in all.chunks(500) {
        let binds: Vec<Bind> = chunk.iter().map(|n| Bind::Text(n)).collect();
        for r in tx.fetch_all(&format!("SELECT name FROM traits WHERE name IN {}", placeholders(chunk.len())), &binds).await? {
            found.insert(r.text("name")?);
        }
    }
    Ok(found)
}

pub async fn of_provider(db: &Database, uuid: &str) -> PlacementResult<BTreeSet<String>> {
    let rows = fetch_all(db, "SELECT trait FROM provider_traits WHERE provider_uuid = ?", &[Bind::Text(uuid)]).await?;
    rows.iter().map(|r| Ok(r.text("trait")?)).collect()
}

pub async fn set_of_provider(tx: &mut Tx, uuid: &str, traits: &BTreeSet<String>) -> PlacementResult<()> {
    tx.exec("DELETE FROM provider_traits WHERE provider_uuid = ?", &[Bind::Text(uuid)]).await?;
    for t in traits {
        tx.exec("INSERT INTO provider_traits (provider_uuid, trait) VALUES (?, ?)", &[Bind::Text(uuid), Bind::Text(t)]).await?;
    }
    Ok(())
}
