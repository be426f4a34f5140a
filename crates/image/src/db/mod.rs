//! The image database: images with their custom properties and tags, and image members.

pub mod images;
pub mod list;
pub mod members;
pub mod schema;
pub mod tasks;

pub use images::ImageRecord;
pub use members::Member;
