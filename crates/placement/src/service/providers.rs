//! Resource providers: create, show, list with filters, rename and re-parent, delete.

use super::{canonical_uuid, require_uuid};
use crate::db::{self, allocations, providers, snapshot::Snapshot};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::types::ResourceProvider;
use crate::PlacementService;
use std::collections::{BTreeMap, BTreeSet};

/// What `POST /resource_providers` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewProvider {
    pub uuid: Option<String>,
    pub name: String,
    pub parent_provider_uuid: Option<String>,
}

/// A change of parent requested by `PUT /resource_providers/{uuid}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentChange {
    Keep,
    Set(Option<String>),
}

/// The filters of `GET /resource_providers`.
#[derive(Debug, Clone, Default)]
pub struct ProviderFilter {
    pub name: Option<String>,
    pub uuid: Option<String>,
    pub in_tree: Option<String>,
    pub member_of: Vec<BTreeSet<String>>,
    pub forbidden_aggregates: BTreeSet<String>,
    pub resources: BTreeMap<String, i64>,
    pub required: Vec<BTreeSet<String>>,
    pub forbidden_traits: BTreeSet<String>,
}

fn create_error(name: &str, uuid: &str, why: &str) -> PlacementError {
    PlacementError::bad_request(format!("Unable to create resource provider \"{name}\", {uuid}: Object action create failed because: {why}"))
}

fn save_error(uuid: &str, why: &str) -> PlacementError {
    PlacementError::bad_request(format!("Unable to save resource provider {uuid}: Object action update failed because: {why}"))
}

fn check_name(name: &str) -> PlacementResult<()> {
    if name.is_empty() || name.chars().count() > 200 {
        return Err(PlacementError::bad_request("JSON does not validate: 'name' must be a string of 1 to 200 characters"));
    }
    Ok(())
}

impl PlacementService {
    pub async fn create_provider(&self, spec: NewProvider) -> PlacementResult<ResourceProvider> {
        check_name(&spec.name)?;
        let uuid = match &spec.uuid {
            Some(u) => require_uuid(u, "resource provider uuid")?,
            None => uuid::Uuid::new_v4().to_string(),
        };
        let parent = spec.parent_provider_uuid.as_deref().map(|p| require_uuid(p, "parent_provider_uuid")).transpose()?;
        if parent.as_deref() == Some(uuid.as_str()) {
            return Err(create_error(&spec.name, &uuid, "parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent."));
        }
        let name = spec.name.clone();
        let rp = db::write(&self.db, |tx| {
            let (uuid, name, parent) = (uuid.clone(), name.clone(), parent.clone());
            Box::pin(async move {
                if providers::get_in(tx, &uuid).await?.is_some() {
                    return Err(PlacementError::conflict(ConflictKind::Duplicate, format!("Conflicting resource provider uuid: {uuid} already exists.")));
                }
                if providers::name_taken(tx, &name, None).await? {
                    return Err(PlacementError::conflict(ConflictKind::Duplicate, format!("Conflicting resource provider name: {name} already exists.")));
                }
                let root = match &parent {
                    Some(p) => {
                        if !providers::touch(tx, p).await? {
                            return Err(create_error(&name, &uuid, "parent provider UUID does not exist."));
                        }
                        providers::require_in(tx, p).await?.root_provider_uuid
                    }
                    None => uuid.clone(),
                };
                let rp = ResourceProvider { uuid, name, generation: 0, parent_provider_uuid: parent, root_provider_uuid: root, updated_at: 0 };
                providers::insert(tx, &rp).await.map_err(|e| duplicate_or(e, &rp.name))?;
                providers::require_in(tx, &rp.uuid).await
            })
        })
        .await?;
        tracing::info!("resource provider {} ({}) created", rp.uuid, rp.name);
        Ok(rp)
    }

    pub async fn provider(&self, uuid: &str) -> PlacementResult<ResourceProvider> {
        providers::get(&self.db, uuid).await?.ok_or_else(|| providers::not_found(uuid))
    }

    /// Renames and/or re-parents a provider. Without `allow_reparenting` (before 1.37) a parent
    /// may only be set where there was none.
    pub async fn update_provider(&self, uuid: &str, name: &str, parent: ParentChange, allow_reparenting: bool) -> PlacementResult<ResourceProvider> {
        check_name(name)?;
        let parent = match parent {
            ParentChange::Set(Some(p)) => ParentChange::Set(Some(require_uuid(&p, "parent_provider_uuid")?)),
            other => other,
        };
        db::write(&self.db, |tx| {
            let (uuid, name, parent) = (uuid.to_string(), name.to_string(), parent.clone());
            Box::pin(async move {
                let current = providers::require_in(tx, &uuid).await?;
                if providers::name_taken(tx, &name, Some(&uuid)).await? {
                    return Err(PlacementError::conflict(ConflictKind::Duplicate, format!("Conflicting resource provider {name} already exists.")));
                }
                if name != current.name {
                    providers::rename(tx, &uuid, &name).await.map_err(|e| duplicate_or(e, &name))?;
                }
                if let ParentChange::Set(new_parent) = parent {
                    if new_parent != current.parent_provider_uuid {
                        reparent(tx, &current, new_parent.as_deref(), allow_reparenting).await?;
                    }
                }
                providers::require_in(tx, &uuid).await
            })
        })
        .await
    }

    /// Deletes a provider that has neither children nor allocations.
    pub async fn delete_provider(&self, uuid: &str) -> PlacementResult<()> {
        db::write(&self.db, |tx| {
            let uuid = uuid.to_string();
            Box::pin(async move {
                if providers::bump_generation(tx, &uuid, None).await?.is_none() {
                    return Err(PlacementError::not_found(format!("No resource provider with uuid {uuid} found for delete")));
                }
                if providers::has_children(tx, &uuid).await? {
                    return Err(PlacementError::conflict(
                        ConflictKind::ProviderHasChildren,
                        format!("Unable to delete parent resource provider {uuid}: It has child resource providers."),
                    ));
                }
                if allocations::provider_has_any(tx, &uuid).await? {
                    return Err(PlacementError::conflict(
                        ConflictKind::ProviderInUse,
                        format!("Unable to delete resource provider {uuid}: Resource provider has allocations."),
                    ));
                }
                providers::delete(tx, &uuid).await
            })
        })
        .await?;
        tracing::info!("resource provider {uuid} deleted");
        Ok(())
    }

    pub async fn list_providers(&self, filter: &ProviderFilter) -> PlacementResult<Vec<ResourceProvider>> {
        let snap = Snapshot::load(&self.db).await?;
        for rc in filter.resources.keys() {
            if !snap.resource_classes.contains(rc) {
                return Err(PlacementError::bad_request(format!("Invalid resource class in resources parameter: No such resource class {rc}.")));
            }
        }
        let mut unknown: Vec<&String> = filter.required.iter().flatten().chain(filter.forbidden_traits.iter()).filter(|t| !snap.trait_names.contains(*t)).collect();
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            let names: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            return Err(PlacementError::bad_request(format!("Invalid trait(s) in \"required\" parameter: No such trait(s): {}.", names.join(", "))));
        }
        let tree_root = match &filter.in_tree {
            Some(t) => match canonical_uuid(t).and_then(|u| snap.root_of(&u).map(str::to_string)) {
                Some(root) => Some(root),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let uuid = filter.uuid.as_deref().and_then(canonical_uuid);
        Ok(snap
            .providers
            .iter()
            .filter(|p| filter.name.as_ref().is_none_or(|n| &p.name == n))
            .filter(|p| filter.uuid.is_none() || uuid.as_deref() == Some(p.uuid.as_str()))
            .filter(|p| tree_root.as_ref().is_none_or(|r| &p.root_provider_uuid == r))
            .filter(|p| {
                let aggs = snap.aggregates_of(&p.uuid);
                filter.member_of.iter().all(|any| any.iter().any(|a| aggs.contains(a))) && filter.forbidden_aggregates.is_disjoint(aggs)
            })
            .filter(|p| {
                let traits = snap.traits_of(&p.uuid);
                filter.required.iter().all(|any| any.iter().any(|t| traits.contains(t))) && filter.forbidden_traits.is_disjoint(traits)
            })
            .filter(|p| filter.resources.iter().all(|(rc, n)| snap.fits(&p.uuid, rc, *n)))
            .cloned()
            .collect())
    }
}

/// A unique-index violation on the name is a duplicate; anything else passes through.
fn duplicate_or(e: PlacementError, name: &str) -> PlacementError {
    match e {
        PlacementError::Conflict { kind: ConflictKind::Generation, .. } => {
            PlacementError::conflict(ConflictKind::Duplicate, format!("Conflicting resource provider name: {name} already exists."))
        }
        other => other,
    }
}

/// Moves `rp` (and its subtree) under `new_parent`, or makes it a root.
async fn reparent(tx: &mut db::Tx, rp: &ResourceProvider, new_parent: Option<&str>, allow: bool) -> PlacementResult<()> {
    if rp.parent_provider_uuid.is_some() && !allow {
        let why = if new_parent.is_some() { "re-parenting a provider is not currently allowed." } else { "un-parenting a provider is not currently allowed." };
        return Err(save_error(&rp.uuid, why));
    }
    let tree = providers::tree_in(tx, &rp.root_provider_uuid).await?;
    let subtree = subtree_of(&rp.uuid, &tree);
    let new_root = match new_parent {
        Some(p) => {
            if !providers::touch(tx, p).await? {
                return Err(save_error(&rp.uuid, "parent provider UUID does not exist."));
            }
            if subtree.iter().any(|u| u == p) {
                return Err(save_error(&rp.uuid, "creating loop in the provider tree is not allowed."));
            }
            providers::require_in(tx, p).await?.root_provider_uuid
        }
        None => rp.uuid.clone(),
    };
    providers::set_parent(tx, &rp.uuid, new_parent).await?;
    providers::set_root(tx, &subtree, &new_root).await
}

/// `uuid` and every provider below it in `tree`.
fn subtree_of(uuid: &str, tree: &[ResourceProvider]) -> Vec<String> {
    let mut out = vec![uuid.to_string()];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i].clone();
        out.extend(tree.iter().filter(|p| p.parent_provider_uuid.as_deref() == Some(cur.as_str())).map(|p| p.uuid.clone()));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(uuid: &str, parent: Option<&str>) -> ResourceProvider {
        ResourceProvider { uuid: uuid.into(), name: uuid.into(), generation: 0, parent_provider_uuid: parent.map(Into::into), root_provider_uuid: "r".into(), updated_at: 0 }
    }

    #[test]
    fn subtrees_include_every_descendant() {
        let tree = vec![rp("r", None), rp("a", Some("r")), rp("b", Some("a")), rp("c", Some("b")), rp("d", Some("r"))];
        let mut s = subtree_of("a", &tree);
        s.sort();
        assert_eq!(s, vec!["a", "b", "c"]);
        assert_eq!(subtree_of("d", &tree), vec!["d"]);
    }
}
