//! The key repository, laid out as Keystone's: files named by integers in one directory,
//! mode 0600. `0` is the staged key (next primary, already accepted so every node can
//! validate tokens issued right after a rotation), the highest number is the primary key
//! (used to encrypt), the rest are secondary keys (only decrypt). Rotation promotes the
//! staged key, stages a new one and drops the oldest secondaries beyond `max_active_keys`.

use super::FernetKey;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KeyRepositoryError {
    #[error("key repository {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("key file {0} is not a valid fernet key")]
    BadKey(PathBuf),
    #[error("key repository {0} holds no keys; run setup first")]
    Empty(PathBuf),
}

/// The loaded keys: primary first, then the others (staged and secondaries).
#[derive(Debug, Clone)]
pub struct KeyRepository {
    dir: PathBuf,
    keys: Vec<(u64, FernetKey)>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyRepositoryError + '_ {
    move |source| KeyRepositoryError::Io { path: path.to_path_buf(), source }
}

impl KeyRepository {
    /// Creates the repository with a staged and a primary key if it holds none.
    pub fn setup(dir: &Path) -> Result<Self, KeyRepositoryError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        if list_indexes(dir)?.is_empty() {
            write_key(dir, 0, &FernetKey::generate())?;
            write_key(dir, 1, &FernetKey::generate())?;
        }
        Self::load(dir)
    }

    pub fn load(dir: &Path) -> Result<Self, KeyRepositoryError> {
        let mut indexes = list_indexes(dir)?;
        if indexes.is_empty() {
            return Err(KeyRepositoryError::Empty(dir.to_path_buf()));
        }
        indexes.sort_unstable_by(|a, b| b.cmp(a));
        let mut keys = Vec::with_capacity(indexes.len());
        for i in indexes {
            let path = dir.join(i.to_string());
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let key = FernetKey::from_base64(&text).map_err(|_| KeyRepositoryError::BadKey(path))?;
            keys.push((i, key));
        }
        Ok(Self { dir: dir.to_path_buf(), keys })
    }

    /// The key new tokens are encrypted with.
    pub fn primary(&self) -> &FernetKey {
        &self.keys[0].1
    }

    /// Every key a token may be decrypted with, primary first.
    pub fn all(&self) -> impl Iterator<Item = &FernetKey> {
        self.keys.iter().map(|(_, k)| k)
    }

    /// Key indexes, highest (primary) first.
    pub fn indexes(&self) -> Vec<u64> {
        self.keys.iter().map(|(i, _)| *i).collect()
    }

    /// Promotes the staged key to primary, stages a new key, and keeps at most `max_active`.
    pub fn rotate(dir: &Path, max_active: usize) -> Result<Self, KeyRepositoryError> {
        let repo = Self::setup(dir)?;
        let mut indexes = repo.indexes();
        let next = indexes[0] + 1;
        let staged = dir.join("0");
        std::fs::rename(&staged, dir.join(next.to_string())).map_err(io(&staged))?;
        write_key(dir, 0, &FernetKey::generate())?;
        indexes.retain(|i| *i != 0);
        indexes.insert(0, next);
        // Keep the staged key, the new primary and the newest secondaries.
        let keep_secondaries = max_active.saturating_sub(2);
        for old in indexes.iter().skip(1 + keep_secondaries) {
            let path = dir.join(old.to_string());
            std::fs::remove_file(&path).map_err(io(&path))?;
        }
        Self::load(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn list_indexes(dir: &Path) -> Result<Vec<u64>, KeyRepositoryError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        if let Some(i) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) {
            out.push(i);
        }
    }
    Ok(out)
}

/// Writes a key atomically (temp file + rename) with mode 0600.
fn write_key(dir: &Path, index: u64, key: &FernetKey) -> Result<(), KeyRepositoryError> {
    let tmp = dir.join(format!(".{index}.tmp"));
    std::fs::write(&tmp, key.to_base64()).map_err(io(&tmp))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io(&tmp))?;
    let dest = dir.join(index.to_string());
    std::fs::rename(&tmp, &dest).map_err(io(&dest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fernet::{decrypt, encrypt};

    #[test]
    fn rotation_keeps_tokens_valid_until_purged() {
        let dir = tempfile::tempdir().unwrap();
        let repo = KeyRepository::setup(dir.path()).unwrap();
        assert_eq!(repo.indexes(), vec![1, 0]);
        let t1 = encrypt(repo.primary(), b"one", 1);

        let repo = KeyRepository::rotate(dir.path(), 3).unwrap();
        assert_eq!(repo.indexes(), vec![2, 1, 0]);
        assert!(decrypt(repo.all(), &t1).is_ok(), "secondary key still decrypts");

        let repo = KeyRepository::rotate(dir.path(), 3).unwrap();
        assert_eq!(repo.indexes(), vec![3, 2, 0]);
        assert!(decrypt(repo.all(), &t1).is_err(), "purged key no longer decrypts");
        let mode = std::fs::metadata(dir.path().join("3")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn staged_key_decrypts_before_promotion() {
        let dir = tempfile::tempdir().unwrap();
        KeyRepository::setup(dir.path()).unwrap();
        let staged = FernetKey::from_base64(&std::fs::read_to_string(dir.path().join("0")).unwrap()).unwrap();
        let token = encrypt(&staged, b"early", 1);
        let repo = KeyRepository::load(dir.path()).unwrap();
        assert!(decrypt(repo.all(), &token).is_ok());
    }
}
