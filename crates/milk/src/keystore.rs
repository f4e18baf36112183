//! Keys on disk, encrypted with a passphrase.
//!
//! One JSON file per key under `<home>/keys/`. The secret is sealed with
//! XChaCha20-Poly1305 under a key stretched from the passphrase by Argon2id; the address is
//! bound in as associated data, so a file edited to show another address fails to open.

use anyhow::{Context, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use milk_core::{Address, Keypair};
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

/// Argon2id cost: 19 MiB, 2 passes, 1 lane (OWASP's recommendation).
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    name: String,
    address: Address,
    kdf: Kdf,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

/// A directory of encrypted keys.
pub struct Keystore {
    dir: PathBuf,
}

fn valid_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        bail!("key name {name:?} must be 1-64 of letters, digits, '-', '_', '.', ':'")
    }
}

fn stretch(passphrase: &str, salt: &[u8], kdf: &Kdf) -> Result<[u8; 32]> {
    let params = Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32))
        .map_err(|e| anyhow!("bad key-derivation parameters: {e}"))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| anyhow!("key derivation failed: {e}"))?;
    Ok(out)
}

impl Keystore {
    /// The keystore under `home`.
    pub fn new(home: &Path) -> Keystore {
        Keystore {
            dir: home.join("keys"),
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        valid_name(name)?;
        Ok(self.dir.join(format!("{}.json", name.replace(':', "_"))))
    }

    /// Encrypts and stores a key under a new name; an empty passphrase is refused.
    pub fn add(&self, name: &str, key: &Keypair, passphrase: &str) -> Result<PathBuf> {
        if passphrase.is_empty() {
            bail!("a key needs a passphrase: an empty one protects nothing");
        }
        let path = self.path(name)?;
        if path.exists() {
            bail!("a key named {name:?} already exists ({})", path.display());
        }
        let salt: [u8; 16] = rand::random();
        let nonce: [u8; 24] = rand::random();
        let kdf = Kdf {
            algorithm: "argon2id".into(),
            m_cost_kib: M_COST_KIB,
            t_cost: T_COST,
            p_cost: P_COST,
            salt: hex::encode(salt),
        };
        let sealing = stretch(passphrase, &salt, &kdf)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&sealing).expect("32-byte key");
        let address = key.address();
        let ciphertext = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &key.secret(),
                    aad: address.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("encryption failed"))?;
        let file = KeyFile {
            version: 1,
            name: name.to_owned(),
            address,
            kdf,
            cipher: "xchacha20poly1305".into(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        };
        fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let tmp = path.with_extension("tmp");
        fs::write(&tmp, serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
        }
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    fn read(&self, name: &str) -> Result<KeyFile> {
        let path = self.path(name)?;
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "no key named {name:?} (looked for {}); see `milk key list`",
                path.display()
            )
        })?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a milk key file", path.display()))
    }

    /// A key's address, without the passphrase.
    pub fn address(&self, name: &str) -> Result<Address> {
        Ok(self.read(name)?.address)
    }

    /// Decrypts a key.
    pub fn unlock(&self, name: &str, passphrase: &str) -> Result<Keypair> {
        let file = self.read(name)?;
        if file.version != 1
            || file.cipher != "xchacha20poly1305"
            || file.kdf.algorithm != "argon2id"
        {
            bail!("key {name:?} uses a format this version does not read");
        }
        let salt = hex::decode(&file.kdf.salt).context("key file salt")?;
        let nonce: [u8; 24] = hex::decode(&file.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| anyhow!("key file nonce is malformed"))?;
        let ciphertext = hex::decode(&file.ciphertext).context("key file ciphertext")?;
        let sealing = stretch(passphrase, &salt, &file.kdf)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&sealing).expect("32-byte key");
        let secret = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: file.address.as_bytes(),
                },
            )
            .map_err(|_| anyhow!("wrong passphrase for key {name:?} (or the file was altered)"))?;
        let secret: [u8; 32] = secret
            .try_into()
            .map_err(|_| anyhow!("key file holds a secret of the wrong length"))?;
        let key = Keypair::from_secret(secret);
        if key.address() != file.address {
            bail!("key {name:?} decrypts to another address than its file says");
        }
        Ok(key)
    }

    /// Every stored key's name and address, sorted by name.
    pub fn list(&self) -> Result<Vec<(String, Address)>> {
        let mut out = Vec::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.dir.display())),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = fs::read_to_string(&path)?;
                if let Ok(file) = serde_json::from_str::<KeyFile>(&text) {
                    out.push((file.name, file.address));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_resist_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::new(dir.path());
        let key = Keypair::from_label("ks-test");
        ks.add("alice", &key, "correct horse").unwrap();
        assert!(ks.add("alice", &key, "x").is_err(), "no overwrite");
        let err = ks.add("bob", &key, "").unwrap_err().to_string();
        assert!(err.contains("needs a passphrase"), "{err}");
        assert!(ks.address("bob").is_err(), "nothing written");
        assert_eq!(ks.address("alice").unwrap(), key.address());
        assert_eq!(
            ks.unlock("alice", "correct horse").unwrap().address(),
            key.address()
        );
        let err = ks.unlock("alice", "wrong").unwrap_err().to_string();
        assert!(err.contains("wrong passphrase"), "{err}");
        assert_eq!(
            ks.list().unwrap(),
            vec![("alice".to_owned(), key.address())]
        );
        assert!(
            ks.unlock("nobody", "x")
                .unwrap_err()
                .to_string()
                .contains("no key named")
        );
        assert!(ks.add("../evil", &key, "x").is_err());

        // Pointing the file at another address makes it fail to open.
        let path = ks.path("alice").unwrap();
        let mut file: KeyFile = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        file.address = Keypair::from_label("other").address();
        fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
        assert!(ks.unlock("alice", "correct horse").is_err());
    }
}
