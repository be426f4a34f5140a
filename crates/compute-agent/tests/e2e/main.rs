//! End-to-end compute tests: a whole in-process cloud (identity, image, placement, the compute
//! API, the conductor and several simulated compute hosts on the in-process bus, temporary
//! SQLite databases) driven through the compute API as clients drive it, checking Nova's
//! resulting states and placement's allocations after every operation.
#![allow(clippy::unwrap_used)]

#[path = "../../../identity/tests/api/support/mod.rs"]
mod identity_support;
mod support;

mod boot;
mod hosts;
mod power;
mod images;
mod moves;
mod live;
mod periodic;
mod concurrency;
mod networking;
mod volumes;
