//! Authentication and authorization shared by every service: who the caller is (token
//! validation, in-process or remote), and what they may do (the oslo.policy engine).

pub mod context;
pub mod limits;
pub mod middleware;
pub mod policy;
pub mod remote;
pub mod service_token;
pub mod token_body;
pub mod validator;

pub use context::{AuthContext, RoleRef};
pub use validator::{AuthError, SharedValidator, TokenValidator};
