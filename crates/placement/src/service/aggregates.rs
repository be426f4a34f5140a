//! Aggregate membership of providers.

use super::require_uuid;
use crate::db::{self, aggregates, providers};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::PlacementService;
use std::collections::BTreeSet;

impl PlacementService {
    /// A provider's aggregates and generation.
    pub async fn provider_aggregates(&self, uuid: &str) -> PlacementResult<(i64, BTreeSet<String>)> {
        let rp = self.provider(uuid).await?;
        Ok((rp.generation, aggregates::of_provider(&self.db, uuid).await?))
    }

    /// Replaces a provider's aggregates. With a generation (1.19+) the write is checked against
    /// it and bumps it; without (1.1–1.18) it neither checks nor bumps, as placement did.
    pub async fn set_provider_aggregates(&self, uuid: &str, generation: Option<i64>, wanted: BTreeSet<String>) -> PlacementResult<i64> {
        let wanted: BTreeSet<String> = wanted.iter().map(|a| require_uuid(a, "aggregate uuid")).collect::<PlacementResult<_>>()?;
        db::write(&self.db, |tx| {
            let (uuid, wanted) = (uuid.to_string(), wanted.clone());
            Box::pin(async move {
                let gen = match generation {
                    Some(g) => match providers::bump_generation(tx, &uuid, Some(g)).await? {
                        Some(new) => new,
                        None if providers::get_in(tx, &uuid).await?.is_none() => return Err(providers::not_found(&uuid)),
                        None => {
                            return Err(PlacementError::conflict(
                                ConflictKind::Generation,
                                "Resource provider's generation already changed. Please update the generation and try again.",
                            ))
                        }
                    },
                    None => {
                        if !providers::touch(tx, &uuid).await? {
                            return Err(providers::not_found(&uuid));
                        }
                        providers::require_in(tx, &uuid).await?.generation
                    }
                };
                aggregates::set_of_provider(tx, &uuid, &wanted).await?;
                Ok(gen)
            })
        })
        .await
    }
}
