//! One Fernet key and the token format:
//! `0x80 ‖ timestamp (u64 BE) ‖ IV (16) ‖ AES-128-CBC(PKCS7) ciphertext ‖ HMAC-SHA256 (32)`,
//! base64url. Like Keystone we strip the `=` padding from issued tokens and accept both.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;
type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 0x80;
const HEADER: usize = 1 + 8 + 16;
const MAC: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FernetError {
    #[error("invalid fernet key")]
    BadKey,
    #[error("token is not valid base64 or too short")]
    Malformed,
    #[error("token signature does not match any key")]
    BadSignature,
}

/// A 32-byte key: the first half signs, the second half encrypts.
#[derive(Clone)]
pub struct FernetKey {
    signing: [u8; 16],
    encryption: [u8; 16],
}

impl std::fmt::Debug for FernetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FernetKey(..)")
    }
}

impl FernetKey {
    pub fn generate() -> Self {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        Self::from_raw(&raw)
    }

    fn from_raw(raw: &[u8; 32]) -> Self {
        let mut signing = [0u8; 16];
        let mut encryption = [0u8; 16];
        signing.copy_from_slice(&raw[..16]);
        encryption.copy_from_slice(&raw[16..]);
        Self { signing, encryption }
    }

    /// Parses the base64url text stored in a key file.
    pub fn from_base64(text: &str) -> Result<Self, FernetError> {
        let bytes = URL_SAFE.decode(text.trim()).map_err(|_| FernetError::BadKey)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| FernetError::BadKey)?;
        Ok(Self::from_raw(&raw))
    }

    pub fn to_base64(&self) -> String {
        let mut raw = [0u8; 32];
        raw[..16].copy_from_slice(&self.signing);
        raw[16..].copy_from_slice(&self.encryption);
        URL_SAFE.encode(raw)
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.signing).expect("HMAC accepts any key length")
    }
}

/// Encrypts `plaintext` with `key`, stamping `timestamp` (seconds). Returns unpadded base64url.
pub fn encrypt(key: &FernetKey, plaintext: &[u8], timestamp: u64) -> String {
    let mut iv = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut iv);
    let ciphertext =
        Aes128CbcEnc::new(&key.encryption.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut out = Vec::with_capacity(HEADER + ciphertext.len() + MAC);
    out.push(VERSION);
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&ciphertext);
    let mut mac = key.mac();
    mac.update(&out);
    out.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(out)
}

/// Verifies and decrypts `token` with the first of `keys` whose signature matches.
/// Returns the plaintext and the token's timestamp. Expiry is the caller's business.
pub fn decrypt<'a>(keys: impl IntoIterator<Item = &'a FernetKey>, token: &str) -> Result<(Vec<u8>, u64), FernetError> {
    let data = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| FernetError::Malformed)?;
    if data.len() < HEADER + 16 + MAC || data[0] != VERSION || !(data.len() - HEADER - MAC).is_multiple_of(16) {
        return Err(FernetError::Malformed);
    }
    let (signed, tag) = data.split_at(data.len() - MAC);
    let mut timestamp = [0u8; 8];
    timestamp.copy_from_slice(&signed[1..9]);
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&signed[9..25]);
    for key in keys {
        let mut mac = key.mac();
        mac.update(signed);
        if mac.verify_slice(tag).is_err() {
            continue;
        }
        let plain = Aes128CbcDec::new(&key.encryption.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&signed[HEADER..])
            .map_err(|_| FernetError::Malformed)?;
        return Ok((plain, u64::from_be_bytes(timestamp)));
    }
    Err(FernetError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let k = FernetKey::generate();
        let t = encrypt(&k, b"hello", 42);
        assert!(!t.contains('='));
        assert_eq!(decrypt([&k], &t).unwrap(), (b"hello".to_vec(), 42));
        let other = FernetKey::generate();
        assert_eq!(decrypt([&other], &t), Err(FernetError::BadSignature));
        assert_eq!(decrypt([&other, &k], &t).unwrap().0, b"hello");
        let mut bytes = t.into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(decrypt([&k], &tampered).is_err());
        assert_eq!(decrypt([&k], "garbage!"), Err(FernetError::Malformed));
    }

    #[test]
    fn reads_spec_token() {
        // Test vector from the Fernet spec (generate.json).
        let key = FernetKey::from_base64("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=").unwrap();
        let token = "gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA==";
        let (plain, ts) = decrypt([&key], token).unwrap();
        assert_eq!(plain, b"hello");
        assert_eq!(ts, 499162800);
        assert_eq!(key.to_base64(), "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=");
    }
}
