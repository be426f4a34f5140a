//! Cinder's `volume/api.py`: what the handlers ask of the service once the request is parsed
//! — lookups with Cinder's visibility rules, state checks, database records, and the casts
//! that start the flows on the scheduler and the volume managers.

pub mod attachments;
pub mod backups;
pub mod snapshots;
pub mod types;
pub mod volumes;
