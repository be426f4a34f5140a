//! Fernet: the symmetric token format Keystone uses (AES-128-CBC + HMAC-SHA256, spec at
//! github.com/fernet/spec), and the key repository that rotates its keys.

mod keys;
mod token;

pub use keys::{KeyRepository, KeyRepositoryError};
pub use token::{decrypt, encrypt, FernetError, FernetKey};
