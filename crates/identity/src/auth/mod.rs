//! Authentication: turning a `POST /v3/auth/tokens` body into a token payload. One file per
//! method (`password`, `token`, `application_credential`), plus scope resolution.

pub mod methods;
pub mod request;
pub mod scope;

pub use request::authenticate;
