//! Cinder runs each create as a taskflow flow (`volume_create_api`, `volume_create_scheduler`,
//! `volume_create_manager`) whose flow and task state transitions (PENDING → RUNNING →
//! SUCCESS, or FAILURE → REVERTED) are what operators read in the logs. [`Flow`] logs the same
//! transitions under the same names; the steps themselves are plain code.

/// A running flow: logs its start, each task's transitions, and its end.
pub struct Flow {
    name: &'static str,
    id: String,
    failed: bool,
}

impl Flow {
    /// Starts flow `name` for the resource `id`.
    pub fn start(name: &'static str, id: &str) -> Flow {
        tracing::debug!(
            "Flow '{name}' ({id}) transitioned into state 'RUNNING' from state 'PENDING'"
        );
        Flow {
            name,
            id: id.to_string(),
            failed: false,
        }
    }

    /// Runs one task, logging its transitions; an error marks the flow failed.
    pub async fn task<T, E: std::fmt::Display>(
        &mut self,
        task: &'static str,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        tracing::debug!(
            "Task '{task}' ({}) transitioned into state 'RUNNING' from state 'PENDING'",
            self.id
        );
        match work.await {
            Ok(v) => {
                tracing::debug!(
                    "Task '{task}' ({}) transitioned into state 'SUCCESS' from state 'RUNNING'",
                    self.id
                );
                Ok(v)
            }
            Err(e) => {
                tracing::warn!("Task '{task}' ({}) transitioned into state 'FAILURE' from state 'RUNNING': {e}", self.id);
                self.failed = true;
                Err(e)
            }
        }
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        if self.failed {
            tracing::warn!(
                "Flow '{}' ({}) transitioned into state 'REVERTED' from state 'RUNNING'",
                self.name,
                self.id
            );
        } else {
            tracing::debug!(
                "Flow '{}' ({}) transitioned into state 'SUCCESS' from state 'RUNNING'",
                self.name,
                self.id
            );
        }
    }
}
