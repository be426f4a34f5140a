//! Resource classes: the standard ones and the CUSTOM_ ones operators create.

use crate::db::{self, resource_classes};
use crate::error::{ConflictKind, PlacementError, PlacementResult};
use crate::standard;
use crate::PlacementService;

fn check_custom(name: &str) -> PlacementResult<()> {
    if standard::is_valid_custom_name(name) {
        Ok(())
    } else {
        Err(PlacementError::bad_request(format!(
            "JSON does not validate: '{name}' does not match '^CUSTOM_[A-Z0-9_]+$'"
        )))
    }
}

fn not_found(name: &str) -> PlacementError {
    PlacementError::not_found(format!("No such resource class {name}."))
}

impl PlacementService {
    pub async fn list_resource_classes(&self) -> PlacementResult<Vec<String>> {
        Ok(resource_classes::list(&self.db).await?.into_iter().map(|c| c.name).collect())
    }

    pub async fn resource_class(&self, name: &str) -> PlacementResult<String> {
        resource_classes::get(&self.db, name).await?.map(|c| c.name).ok_or_else(|| not_found(name))
    }

    /// `POST /resource_classes`.
    pub async fn create_resource_class(&self, name: &str) -> PlacementResult<()> {
        check_custom(name)?;
        db::write(&self.db, |tx| {
            let name = name.to_string();
            Box::pin(async move {
                if resource_classes::get_in(tx, &name).await?.is_some() {
                    return Err(PlacementError::conflict(ConflictKind::Duplicate, format!("Conflicting resource class already exists: {name}")));
                }
                resource_classes::insert(tx, &name).await
            })
        })
        .await
    }

    /// `PUT /resource_classes/{name}` from 1.7: creates a CUSTOM_ class if missing; true when
    /// it was created.
    pub async fn ensure_resource_class(&self, name: &str) -> PlacementResult<bool> {
        check_custom(name)?;
        db::write(&self.db, |tx| {
            let name = name.to_string();
            Box::pin(async move {
                if resource_classes::get_in(tx, &name).await?.is_some() {
                    return Ok(false);
                }
                resource_classes::insert(tx, &name).await?;
                Ok(true)
            })
        })
        .await
    }

    /// `PUT /resource_classes/{name}` before 1.7: renames a custom class.
    pub async fn rename_resource_class(&self, name: &str, new_name: &str) -> PlacementResult<()> {
        check_custom(new_name)?;
        db::write(&self.db, |tx| {
            let (name, new_name) = (name.to_string(), new_name.to_string());
            Box::pin(async move {
                let row = resource_classes::get_in(tx, &name).await?.ok_or_else(|| not_found(&name))?;
                if row.standard {
                    return Err(PlacementError::bad_request(format!("Cannot update standard resource class {name}")));
                }
                if resource_classes::get_in(tx, &new_name).await?.is_some() {
                    return Err(PlacementError::conflict(ConflictKind::Duplicate, format!("Resource class already exists: {new_name}")));
                }
                if resource_classes::in_use(tx, &name).await? {
                    return Err(PlacementError::conflict(ConflictKind::InUse, format!("Cannot rename resource class {name}: it is in use.")));
                }
                resource_classes::rename(tx, &name, &new_name).await
            })
        })
        .await
    }

    pub async fn delete_resource_class(&self, name: &str) -> PlacementResult<()> {
        db::write(&self.db, |tx| {
            let name = name.to_string();
            Box::pin(async move {
                let row = resource_classes::get_in(tx, &name).await?.ok_or_else(|| not_found(&name))?;
                if row.standard {
                    return Err(PlacementError::bad_request(format!(
                        "Error in delete resource class: Cannot delete standard resource class {name}."
                    )));
                }
                if resource_classes::in_use(tx, &name).await? {
                    return Err(PlacementError::conflict(
                        ConflictKind::InUse,
                        format!("Error in delete resource class: Cannot delete resource class {name}. Class is in use in inventory."),
                    ));
                }
                resource_classes::delete(tx, &name).await
            })
        })
        .await
    }
}
