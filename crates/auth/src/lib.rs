pub mod context;
pub mod policy;
pub mod validator;

pub use context::{AuthContext, RoleRef};
pub use validator::{AuthError, SharedValidator, TokenValidator};
