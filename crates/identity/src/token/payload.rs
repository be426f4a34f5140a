//! What a Fernet token carries, packed with msgpack as Keystone does: a small array
//! `[version, user_id, methods, scope…, expires_at, audit_ids, issued_at]`, with hex UUIDs
//! stored as 16 raw bytes and audit ids as their raw bytes, so tokens stay short (~200 chars).
//! Roles and names are not in the token: they are looked up at validation, so removing a
//! role or renaming a project takes effect at once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rmpv::Value;

/// What the token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Unscoped,
    Project(String),
    Domain(String),
    System,
    /// Scoped to a project through an application credential.
    ApplicationCredential { project_id: String, app_cred_id: String },
    /// Through a trust (OS-TRUST); the payload's user is the trustee. Project, roles and the
    /// user the token stands for (trustor when impersonating) come from the trust.
    Trust { trust_id: String },
}

/// The decoded contents of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub user_id: String,
    pub methods: Vec<String>,
    pub scope: Scope,
    /// Expiry, epoch microseconds.
    pub expires_at: i64,
    /// Issue time, epoch microseconds (finer than the Fernet timestamp, so a revocation and a
    /// new token in the same second are told apart).
    pub issued_at: i64,
    /// This token's audit id, then the audit id of the token it was re-scoped from.
    pub audit_ids: Vec<String>,
}

const METHODS: [&str; 4] = ["password", "token", "application_credential", "totp"];

const UNSCOPED: u64 = 0;
const DOMAIN: u64 = 1;
const PROJECT: u64 = 2;
const TRUST: u64 = 3;
const SYSTEM: u64 = 8;
const APP_CRED: u64 = 9;

#[derive(Debug, thiserror::Error)]
#[error("token payload is malformed")]
pub struct PayloadError;

pub fn methods_to_int(methods: &[String]) -> u64 {
    methods
        .iter()
        .filter_map(|m| METHODS.iter().position(|k| k == m))
        .fold(0, |acc, i| acc | (1 << i))
}

fn int_to_methods(bits: u64) -> Vec<String> {
    METHODS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, m)| m.to_string())
        .collect()
}

/// Hex UUIDs travel as 16 bytes; anything else as text.
fn pack_id(id: &str) -> Value {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        let bytes: Vec<u8> = (0..16)
            .filter_map(|i| u8::from_str_radix(&id[i * 2..i * 2 + 2], 16).ok())
            .collect();
        if bytes.len() == 16 {
            return Value::Binary(bytes);
        }
    }
    Value::String(id.into())
}

fn unpack_id(v: &Value) -> Result<String, PayloadError> {
    match v {
        Value::Binary(b) if b.len() == 16 => Ok(b.iter().map(|x| format!("{x:02x}")).collect()),
        Value::String(s) => s.as_str().map(str::to_string).ok_or(PayloadError),
        _ => Err(PayloadError),
    }
}

fn pack_audit(id: &str) -> Value {
    match URL_SAFE_NO_PAD.decode(id) {
        Ok(bytes) => Value::Binary(bytes),
        Err(_) => Value::String(id.into()),
    }
}

fn unpack_audit(v: &Value) -> Result<String, PayloadError> {
    match v {
        Value::Binary(b) => Ok(URL_SAFE_NO_PAD.encode(b)),
        Value::String(s) => s.as_str().map(str::to_string).ok_or(PayloadError),
        _ => Err(PayloadError),
    }
}

/// A fresh audit id: 16 random bytes, base64url, as Keystone makes them.
pub fn new_audit_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

impl Payload {
    pub fn encode(&self) -> Vec<u8> {
        let (version, scope_values) = match &self.scope {
            Scope::Unscoped => (UNSCOPED, vec![]),
            Scope::Domain(d) => (DOMAIN, vec![pack_id(d)]),
            Scope::Project(p) => (PROJECT, vec![pack_id(p)]),
            Scope::System => (SYSTEM, vec![Value::String("all".into())]),
            Scope::ApplicationCredential { project_id, app_cred_id } => {
                (APP_CRED, vec![pack_id(project_id), pack_id(app_cred_id)])
            }
            Scope::Trust { trust_id } => (TRUST, vec![pack_id(trust_id)]),
        };
        let mut items = vec![Value::from(version), pack_id(&self.user_id), Value::from(methods_to_int(&self.methods))];
        items.extend(scope_values);
        items.push(Value::from(self.expires_at));
        items.push(Value::Array(self.audit_ids.iter().map(|a| pack_audit(a)).collect()));
        items.push(Value::from(self.issued_at));
        let mut out = Vec::with_capacity(96);
        rmpv::encode::write_value(&mut out, &Value::Array(items)).expect("writing to a Vec cannot fail");
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        let value = rmpv::decode::read_value(&mut &bytes[..]).map_err(|_| PayloadError)?;
        let Value::Array(items) = value else { return Err(PayloadError) };
        let version = items.first().and_then(Value::as_u64).ok_or(PayloadError)?;
        let scope_len = match version {
            UNSCOPED => 0,
            DOMAIN | PROJECT | SYSTEM | TRUST => 1,
            APP_CRED => 2,
            _ => return Err(PayloadError),
        };
        if items.len() != 6 + scope_len {
            return Err(PayloadError);
        }
        let user_id = unpack_id(&items[1])?;
        let methods = int_to_methods(items[2].as_u64().ok_or(PayloadError)?);
        let scope = match version {
            UNSCOPED => Scope::Unscoped,
            DOMAIN => Scope::Domain(unpack_id(&items[3])?),
            PROJECT => Scope::Project(unpack_id(&items[3])?),
            SYSTEM => Scope::System,
            TRUST => Scope::Trust { trust_id: unpack_id(&items[3])? },
            _ => Scope::ApplicationCredential { project_id: unpack_id(&items[3])?, app_cred_id: unpack_id(&items[4])? },
        };
        let rest = &items[3 + scope_len..];
        let expires_at = rest[0].as_i64().ok_or(PayloadError)?;
        let audit_ids = match &rest[1] {
            Value::Array(a) => a.iter().map(unpack_audit).collect::<Result<Vec<_>, _>>()?,
            _ => return Err(PayloadError),
        };
        let issued_at = rest[2].as_i64().ok_or(PayloadError)?;
        Ok(Payload { user_id, methods, scope, expires_at, issued_at, audit_ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_scope() {
        let scopes = [
            Scope::Unscoped,
            Scope::Project("0123456789abcdef0123456789abcdef".into()),
            Scope::Domain("default".into()),
            Scope::System,
            Scope::ApplicationCredential { project_id: "p".into(), app_cred_id: "fedcba9876543210fedcba9876543210".into() },
            Scope::Trust { trust_id: "fedcba9876543210fedcba9876543210".into() },
            Scope::Trust { trust_id: "not-a-uuid".into() },
        ];
        for scope in scopes {
            let p = Payload {
                user_id: "0123456789abcdef0123456789abcdef".into(),
                methods: vec!["password".into(), "token".into()],
                scope,
                expires_at: 1_800_000_000_000_000,
                issued_at: 1_700_000_000_123_456,
                audit_ids: vec![new_audit_id(), new_audit_id()],
            };
            assert_eq!(Payload::decode(&p.encode()).unwrap(), p);
        }
        assert!(Payload::decode(b"\x93\x01\x02").is_err());
        assert!(Payload::decode(b"").is_err());
    }
}
