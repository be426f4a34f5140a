//! Key pair material: generating SSH keys and x509 certificates, and checking and
//! fingerprinting imported ones the way Nova does (MD5 of the SSH key blob, SHA-1 of the
//! certificate's DER, both as colon-separated hex).
//!
//! Generated x509 private keys are PKCS#8 PEM; Nova returns a base64 PKCS#12 bundle there
//! (openssl's export), which needs no password either but would pull a second generation of
//! the crypto crates into the build for little benefit.

use base64::Engine;
use md5::Digest as _;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use std::str::FromStr;
use std::time::Duration;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

/// Size of generated RSA keys, as Nova generates them.
const RSA_BITS: usize = 2048;
/// Generated certificates are valid for ten years (Nova's `-days 3650`).
const CERT_VALIDITY: Duration = Duration::from_secs(3650 * 24 * 3600);

/// Key material produced for a new key pair: the private key is shown to the user once.
#[derive(Debug, Clone)]
pub struct Generated {
    pub private_key: String,
    pub public_key: String,
    pub fingerprint: String,
}

/// Why key material was refused; the message completes Nova's "Keypair data is invalid: …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidKey(pub String);

/// A new RSA key: PKCS#1 PEM private key, `ssh-rsa … Generated-by-Nova` public key.
pub fn generate_ssh() -> Result<Generated, String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(|e| e.to_string())?;
    let private_key = key.to_pkcs1_pem(LineEnding::LF).map_err(|e| e.to_string())?.to_string();
    let ssh_public = ssh_key::public::RsaPublicKey::try_from(key.to_public_key()).map_err(|e| e.to_string())?;
    let blob = ssh_key::PublicKey::new(ssh_public.into(), "").to_bytes().map_err(|e| e.to_string())?;
    let public_key = format!("ssh-rsa {} Generated-by-Nova", base64::engine::general_purpose::STANDARD.encode(&blob));
    Ok(Generated { private_key, public_key, fingerprint: colon_hex(&md5::Md5::digest(&blob)) })
}

/// A new self-signed client certificate for `user_id` (CN=user_id, clientAuth, and the
/// `user_id@localhost` UPN Windows' certificate authentication maps to the user).
pub fn generate_x509(user_id: &str) -> Result<Generated, String> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(|e| e.to_string())?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key()).map_err(|e| e.to_string())?;
    let subject = Name::from_str(&format!("CN={}", escape_dn(user_id))).map_err(|e| e.to_string())?;
    let serial = SerialNumber::new(&rand::random::<[u8; 16]>().map(|b| b & 0x7f)).map_err(|e| e.to_string())?;
    let validity = Validity::from_now(CERT_VALIDITY).map_err(|e| e.to_string())?;
    let profile = Profile::Leaf { issuer: subject.clone(), enable_key_agreement: false, enable_key_encipherment: true };
    let mut builder = CertificateBuilder::new(profile, serial, validity, subject, spki, &signer).map_err(|e| e.to_string())?;
    builder.add_extension(&ExtendedKeyUsage(vec![const_oid_client_auth()])).map_err(|e| e.to_string())?;
    builder.add_extension(&upn_alt_name(user_id)?).map_err(|e| e.to_string())?;
    let cert: Certificate = builder.build::<rsa::pkcs1v15::Signature>().map_err(|e| e.to_string())?;
    let der = cert.to_der().map_err(|e| e.to_string())?;
    let public_key = pem_certificate(&der);
    let private_key = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| e.to_string())?.to_string();
    Ok(Generated { private_key, public_key, fingerprint: colon_hex(&sha1::Sha1::digest(&der)) })
}

/// Nova's fingerprint of an imported SSH public key (`type base64 [comment]`): the MD5 of the
/// key blob. The key must parse and be a usable key of its type.
pub fn ssh_fingerprint(public_key: &str) -> Result<String, InvalidKey> {
    let invalid = || InvalidKey("failed to generate fingerprint".into());
    let parsed = ssh_key::PublicKey::from_openssh(public_key.trim()).map_err(|_| invalid())?;
    if let ssh_key::public::KeyData::Rsa(rsa_key) = parsed.key_data() {
        check_rsa(rsa_key).ok_or_else(invalid)?;
    }
    let encoded = public_key.split(' ').nth(1).ok_or_else(invalid)?;
    let blob = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
    Ok(colon_hex(&md5::Md5::digest(&blob)))
}

/// An RSA public key must be a usable one (odd modulus, exponent in range). Unlike
/// `ssh-key`'s own conversion this accepts the 1024-bit keys older clients still import.
fn check_rsa(key: &ssh_key::public::RsaPublicKey) -> Option<()> {
    let n = rsa::BigUint::from_bytes_be(key.n.as_positive_bytes()?);
    let e = rsa::BigUint::from_bytes_be(key.e.as_positive_bytes()?);
    rsa::RsaPublicKey::new_with_max_size(n, e, 16384).ok().map(|_| ())
}

/// Nova's fingerprint of an imported x509 certificate (PEM): the SHA-1 of its DER.
pub fn x509_fingerprint(pem: &str) -> Result<String, InvalidKey> {
    let invalid = |why: String| InvalidKey(format!("failed to generate X509 fingerprint. Error message: {why}"));
    let der = pem_body(pem).ok_or_else(|| invalid("Unable to load PEM file.".into()))?;
    Certificate::from_der(&der).map_err(|e| invalid(e.to_string()))?;
    Ok(colon_hex(&sha1::Sha1::digest(&der)))
}

/// The DER inside the first `CERTIFICATE` PEM block.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

fn pem_certificate(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Escapes the characters RFC 4514 reserves in a DN attribute value.
fn escape_dn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let leading = i == 0 && (c == '#' || c == ' ');
        if leading || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// id-kp-clientAuth (1.3.6.1.5.5.7.3.2).
fn const_oid_client_auth() -> x509_cert::der::oid::ObjectIdentifier {
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2")
}

/// subjectAltName with the Microsoft UPN other-name (1.3.6.1.4.1.311.20.2.3) `user@localhost`.
fn upn_alt_name(user_id: &str) -> Result<SubjectAltName, String> {
    let upn = format!("{user_id}@localhost");
    let value = x509_cert::der::Any::encode_from(&Utf8StringRef::new(&upn).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let other = OtherName { type_id: x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3"), value };
    Ok(SubjectAltName(vec![GeneralName::OtherName(other)]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    include!("../tests/fixtures/keys.rs");

    #[test]
    fn generated_ssh_key_round_trips_through_import() {
        let g = generate_ssh().unwrap();
        assert!(g.private_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        assert!(g.public_key.starts_with("ssh-rsa ") && g.public_key.ends_with(" Generated-by-Nova"));
        assert_eq!(ssh_fingerprint(&g.public_key).unwrap(), g.fingerprint);
    }

    #[test]
    fn generated_certificate_round_trips_through_import() {
        let g = generate_x509("0123456789abcdef").unwrap();
        assert!(g.public_key.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(g.private_key.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(x509_fingerprint(&g.public_key).unwrap(), g.fingerprint);
    }

    #[test]
    fn fingerprints_match_the_standard_tools() {
        assert_eq!(ssh_fingerprint(ED25519).unwrap(), ED25519_FP);
        assert_eq!(ssh_fingerprint(ECDSA).unwrap(), ECDSA_FP);
        assert_eq!(ssh_fingerprint(RSA).unwrap(), RSA_FP);
        assert_eq!(x509_fingerprint(CERT).unwrap(), CERT_FP);
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(ssh_fingerprint("ssh-rsa AAAA not-a-key").is_err());
        assert!(ssh_fingerprint("garbage").is_err());
        assert!(ssh_fingerprint(&ED25519.replace("AAAAIBUq", "AAAAIBU")).is_err());
        assert!(x509_fingerprint("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").is_err());
        assert!(x509_fingerprint(ED25519).is_err());
    }
}
