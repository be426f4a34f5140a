//! Traits: the catalogue (standard and CUSTOM_) and the traits of each provider.

use crate::db::{self, providers, traits, Tx};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::standard;
use crate::PlacementService;
use std::collections::BTreeSet;

/// The filters of `GET /traits`.
#[derive(Debug, Clone, Default)]
pub struct TraitFilter {
    pub prefix: Option<String>,
    pub names: Option<Vec<String>>,
    pub associated: Option<bool>,
}

async fn lock(tx: &mut Tx, uuid: &str, expected: Option<i64>) -> PlacementResult<i64> {
    match providers::bump_generation(tx, uuid, expected).await? {
        Some(g) => Ok(g),
        None if providers::get_in(tx, uuid).await?.is_none() => Err(providers::not_found(uuid)),
        None => Err(PlacementError::conflict(
            ConflictKind::Generation,
            "Resource provider's generation already changed. Please update the generation and try again.",
        )),
    }
}

impl PlacementService {
    pub async fn list_traits(&self, filter: &TraitFilter) -> PlacementResult<Vec<String>> {
        traits::list(&self.db, filter.prefix.as_deref(), filter.names.as_deref(), filter.associated).await
    }

    pub async fn trait_exists(&self, name: &str) -> PlacementResult<bool> {
        Ok(traits::get(&self.db, name).await?.is_some())
    }

    /// Creates a CUSTOM_ trait if missing; true when it was created.
    pub async fn ensure_trait(&self, name: &str) -> PlacementResult<bool> {
        if !standard::is_valid_custom_name(name) {
            return Err(PlacementError::bad_request(
                "The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix \"CUSTOM_\" and use following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"",
            ));
        }
        db::write(&self.db, |tx| {
            let name = name.to_string();
            Box::pin(async move {
                if traits::get_in(tx, &name).await?.is_some() {
                    return Ok(false);
                }
                traits::insert(tx, &name).await?;
                Ok(true)
            })
        })
        .await
    }

    pub async fn delete_trait(&self, name: &str) -> PlacementResult<()> {
        db::write(&self.db, |tx| {
            let name = name.to_string();
            Box::pin(async move {
                let Some(row) = traits::get_in(tx, &name).await? else {
                    return Err(PlacementError::not_found(format!("No such trait(s): {name}.")));
                };
                if row.standard {
                    return Err(PlacementError::bad_request(format!("Cannot delete standard trait {name}.")));
                }
                if traits::in_use(tx, &name).await? {
                    return Err(PlacementError::conflict(ConflictKind::InUse, format!("The trait {name} is in use by a resource provider.")));
                }
                traits::delete(tx, &name).await
            })
        })
        .await
    }

    /// A provider's traits and generation.
    pub async fn provider_traits(&self, uuid: &str) -> PlacementResult<(i64, BTreeSet<String>)> {
        let rp = self.provider(uuid).await?;
        Ok((rp.generation, traits::of_provider(&self.db, uuid).await?))
    }

    /// Replaces a provider's traits at `generation` (None: whatever it is, for DELETE).
    pub async fn set_provider_traits(&self, uuid: &str, generation: Option<i64>, wanted: BTreeSet<String>) -> PlacementResult<i64> {
        db::write(&self.db, |tx| {
            let (uuid, wanted) = (uuid.to_string(), wanted.clone());
            Box::pin(async move {
                if providers::get_in(tx, &uuid).await?.is_none() {
                    return Err(providers::not_found(&uuid));
                }
                let known = traits::existing_in(tx, &wanted).await?;
                let missing: Vec<&str> = wanted.iter().filter(|t| !known.contains(*t)).map(String::as_str).collect();
                if !missing.is_empty() {
                    return Err(PlacementError::bad_request(format!("No such trait {}", missing.join(", "))));
                }
                let gen = lock(tx, &uuid, generation).await?;
                traits::set_of_provider(tx, &uuid, &wanted).await?;
                Ok(gen)
            })
        })
        .await
    }
}
