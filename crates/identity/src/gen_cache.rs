//! A value cached until the next identity write: tagged with the generation it was loaded
//! at, reloaded when the generation moved on. Identity data changes rarely and is read on
//! every request, so this turns most reads into a pointer copy.

use parking_lot::RwLock;
use std::future::Future;
use std::sync::Arc;

pub struct GenCache<T> {
    slot: RwLock<Option<(u64, Arc<T>)>>,
}

impl<T> Default for GenCache<T> {
    fn default() -> Self {
        GenCache { slot: RwLock::new(None) }
    }
}

impl<T> GenCache<T> {
    /// The cached value if loaded at `generation`, else `load()`'s result, cached.
    /// Callers read `generation` before loading, so a write racing the load leaves it stale.
    pub async fn get_or_load<E, F>(&self, generation: u64, load: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        if let Some((g, v)) = self.slot.read().as_ref() {
            if *g == generation {
                return Ok(v.clone());
            }
        }
        let value = Arc::new(load.await?);
        *self.slot.write() = Some((generation, value.clone()));
        Ok(value)
    }
}
