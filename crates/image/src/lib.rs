//! The Image service (Glance v2 compatible) for monostack.
//!
//! For now this crate holds only [`inspect`], the streaming disk-image
//! format inspector that every upload must pass before it is stored. The
//! API, the metadata store and the backends of the image service come later
//! and will build on it.

pub mod inspect;
