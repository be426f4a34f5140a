//! The conductor's queries of the compute database beyond what `monostack_compute::db` offers.

pub mod instances;
pub mod migrations;
