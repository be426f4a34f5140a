//! Address scopes: named sets of subnet pools of one IP version whose prefixes never overlap,
//! so that addresses inside a scope are routable without NAT. A pool joins a scope through its
//! `address_scope_id`; Neutron's rules are kept: the pool's ip_version must be the scope's, the
//! caller must own the scope or it must be shared, no two pools of a scope may share an
//! address, a shared scope cannot be unshared, and a scope with pools cannot be deleted.

use crate::db::{self, Bind, Cols, Tx};
use crate::error::{NeutronError, NeutronResult};
use crate::ipam::Cidr;
use crate::NetworkService;
use monostack_db::flag;

#[derive(Debug, Clone, PartialEq)]
pub struct AddressScope {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub ip_version: i64,
    pub shared: bool,
}

const COLUMNS: &str = "id, project_id, name, ip_version, shared";

pub fn not_found(id: &str) -> NeutronError {
    NeutronError::not_found("AddressScopeNotFound", format!("Address scope {id} could not be found."))
}

pub async fn load(tx: &mut Tx, filter: Option<&str>, binds: &[Bind<'_>]) -> NeutronResult<Vec<AddressScope>> {
    let sql = match filter {
        Some(f) => format!("SELECT {COLUMNS} FROM address_scopes WHERE {f} ORDER BY created_at, id"),
        None => format!("SELECT {COLUMNS} FROM address_scopes ORDER BY created_at, id"),
    };
    let mut out = Vec::new();
    for row in tx.fetch_all(&sql, binds).await? {
        out.push(AddressScope {
            id: row.s("id")?,
            project_id: row.s("project_id")?,
            name: row.s("name")?,
            ip_version: row.i("ip_version")?,
            shared: row.b("shared")?,
        });
    }
    Ok(out)
}

pub async fn must_get(tx: &mut Tx, id: &str) -> NeutronResult<AddressScope> {
    load(tx, Some("id = ?"), &[Bind::Text(id)]).await?.pop().ok_or_else(|| not_found(id))
}

pub async fn insert(svc: &NetworkService, scope: AddressScope) -> NeutronResult<AddressScope> {
    db::write(&svc.db, |tx, _| {
        let s = &scope;
        Box::pin(async move {
            let now = monostack_common::time::now_micros();
            tx.exec(
                "INSERT INTO address_scopes (id, project_id, name, ip_version, shared, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    Bind::Text(&s.id),
                    Bind::Text(&s.project_id),
                    Bind::Text(&s.name),
                    Bind::Int(s.ip_version),
                    Bind::Int(flag(s.shared)),
                    Bind::Int(now),
                ],
            )
            .await?;
            must_get(tx, &s.id).await
        })
    })
    .await
}

/// Renames or shares a scope; a shared scope stays shared (400 AddressScopeUpdateError).
pub async fn update(svc: &NetworkService, id: &str, name: Option<&str>, shared: Option<bool>) -> NeutronResult<AddressScope> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            let mut s = must_get(tx, id).await?;
            if s.shared && shared == Some(false) {
                return Err(NeutronError::bad(
                    "AddressScopeUpdateError",
                    format!("Unable to update address scope {id} : Shared address scope can't be unshared."),
                ));
            }
            if let Some(n) = name {
                s.name = n.to_string();
            }
            if let Some(v) = shared {
                s.shared = v;
            }
            tx.exec(
                "UPDATE address_scopes SET name = ?, shared = ? WHERE id = ?",
                &[Bind::Text(&s.name), Bind::Int(flag(s.shared)), Bind::Text(id)],
            )
            .await?;
            Ok(s)
        })
    })
    .await
}

/// Deletes a scope no subnet pool belongs to (409 AddressScopeInUse otherwise).
pub async fn delete(svc: &NetworkService, id: &str) -> NeutronResult<()> {
    db::write(&svc.db, |tx, _| {
        Box::pin(async move {
            must_get(tx, id).await?;
            // Under the scope's row lock, so that no pool joins it while it goes.
            tx.exec("UPDATE address_scopes SET shared = shared WHERE id = ?", &[Bind::Text(id)]).await?;
            if tx
                .fetch_optional("SELECT id FROM subnetpools WHERE address_scope_id = ?", &[Bind::Text(id)])
                .await?
                .is_some()
            {
                return Err(NeutronError::conflict(
                    "AddressScopeInUse",
                    format!("Unable to complete operation on address scope {id}. There are one or more subnet pools in use on the address scope."),
                ));
            }
            tx.exec("DELETE FROM address_scopes WHERE id = ?", &[Bind::Text(id)]).await?;
            Ok(())
        })
    })
    .await
}

/// Checks, inside the transaction that saves the pool, that pool `pool_id` (of `ip_version`,
/// with `prefixes`) may belong to scope `scope_id` for a caller of `project` (`admin` sees
/// every scope): the scope exists and is visible (404), is the caller's or shared (400), has
/// the pool's IP version (400), and no other pool of the scope overlaps these prefixes (409).
/// Takes the scope's row lock, so two pools joining at once are checked one after the other.
pub async fn check_membership(
    tx: &mut Tx,
    scope_id: &str,
    pool_id: &str,
    ip_version: i64,
    prefixes: &[String],
    project: &str,
    admin: bool,
) -> NeutronResult<()> {
    tx.exec("UPDATE address_scopes SET shared = shared WHERE id = ?", &[Bind::Text(scope_id)])
        .await?;
    let scope = must_get(tx, scope_id).await?;
    if !admin && scope.project_id != project && !scope.shared {
        return Err(not_found(scope_id));
    }
    if scope.ip_version != ip_version {
        return Err(NeutronError::bad(
            "IllegalSubnetPoolIpVersionAssociationToAddressScope",
            format!(
                "Illegal subnetpool association: subnetpool {pool_id} cannot associate with address scope {scope_id} because subnetpool ip_version is not {}.",
                scope.ip_version
            ),
        ));
    }
    let mine: Vec<Cidr> = prefixes.iter().filter_map(|p| Cidr::parse(p).ok()).collect();
    let rows = tx
        .fetch_all(
            &tx.latest("SELECT id, prefixes FROM subnetpools WHERE address_scope_id = ? AND id <> ?"),
            &[Bind::Text(scope_id), Bind::Text(pool_id)],
        )
        .await?;
    for row in rows {
        let theirs: Vec<String> = serde_json::from_value(row.doc("prefixes")?).map_err(NeutronError::internal)?;
        if theirs.iter().filter_map(|p| Cidr::parse(p).ok()).any(|t| mine.iter().any(|m| m.overlaps(&t))) {
            return Err(NeutronError::conflict(
                "AddressScopePrefixConflict",
                "Failed to associate address scope: subnetpools within an address scope must have unique prefixes.",
            ));
        }
    }
    Ok(())
}
