//! API credentials: who is calling.
//!
//! A credential is a bearer token. The node keeps only SHA-256 digests of tokens, in
//! `<data-dir>/credentials.json`, each naming a principal: the operator (TICA) or one
//! partner, scoped to that partner's brand chain. A leaked token alone can mint nothing:
//! every state-changing partner request also carries a transaction signed by the partner's
//! (or the customer's) own key.

use milk_core::{Address, ChainId, Hash};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// Who holds a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// TICA, the operator.
    Operator,
    /// The partner behind one brand chain.
    Partner(ChainId),
    /// An auditor the partner of one brand chain granted read access to it.
    Auditor(ChainId),
}

/// Who a request comes from, as far as reading goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credential and no signature.
    Anonymous,
    /// A credential holder.
    Credential(Principal),
    /// A customer who signed the request with their own key.
    Account(Address),
}

impl Caller {
    /// Whether this caller may read all of a chain. The center chain is public; a brand
    /// chain is its partner's, TICA's and its auditors'.
    pub fn reads_chain(&self, chain: &ChainId, is_brand: bool) -> bool {
        match self {
            _ if !is_brand => true,
            Caller::Credential(Principal::Operator) => true,
            Caller::Credential(Principal::Partner(c) | Principal::Auditor(c)) => c == chain,
            Caller::Anonymous | Caller::Account(_) => false,
        }
    }

    /// Whether this caller is the customer who owns `account`.
    pub fn is_account(&self, account: &Address) -> bool {
        matches!(self, Caller::Account(a) if a == account)
    }
}

pub use milk_api::read::{
    ACCOUNT_HEADER, EXPIRES_HEADER, READ_SIGNATURE_MAX_AGE_MS, SIGNATURE_HEADER, read_message,
};

/// The credentials file: digests of tokens, by principal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CredentialsFile {
    /// Operator token digests (hex).
    #[serde(default)]
    pub operator: Vec<String>,
    /// Partner token digests (hex), by brand chain.
    #[serde(default)]
    pub partners: BTreeMap<ChainId, Vec<String>>,
    /// Auditor token digests (hex), by the brand chain they may read.
    #[serde(default)]
    pub auditors: BTreeMap<ChainId, Vec<String>>,
}

/// The digest under which a token is stored.
pub fn token_digest(token: &str) -> Hash {
    Hash::domain("milk/api-token/v1", &[token.as_bytes()])
}

/// The public demo tokens: `demo-operator-token` and `demo-<chain>-token` per partner.
pub fn demo_token(principal: &Principal) -> String {
    match principal {
        Principal::Operator => "demo-operator-token".to_owned(),
        Principal::Partner(chain) => format!("demo-{chain}-token"),
        Principal::Auditor(chain) => format!("demo-{chain}-auditor-token"),
    }
}

/// Known token digests, kept in step with the credentials file.
#[derive(Debug, Default)]
pub struct Credentials {
    path: Option<PathBuf>,
    inner: RwLock<Known>,
}

#[derive(Debug, Default)]
struct Known {
    file: CredentialsFile,
    by_digest: HashMap<Hash, Principal>,
}

/// The short id of a credential: the first 16 hex digits of its digest.
pub fn credential_id(digest_hex: &str) -> &str {
    &digest_hex[..digest_hex.len().min(16)]
}

impl Known {
    fn from_file(file: CredentialsFile) -> Result<Known, String> {
        let mut by_digest = HashMap::new();
        let entries =
            file.operator
                .iter()
                .map(|d| (d, Principal::Operator))
                .chain(
                    file.partners.iter().flat_map(|(c, ds)| {
                        ds.iter().map(move |d| (d, Principal::Partner(c.clone())))
                    }),
                )
                .chain(file.auditors.iter().flat_map(|(c, ds)| {
                    ds.iter().map(move |d| (d, Principal::Auditor(c.clone())))
                }));
        for (digest, principal) in entries {
            by_digest.insert(Hash::from_hex(digest)?, principal);
        }
        Ok(Known { file, by_digest })
    }
}

impl Credentials {
    /// Reads a credentials file (a missing one means none yet) and keeps it up to date.
    pub fn load(path: &Path) -> Result<Credentials, String> {
        let file = match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => CredentialsFile::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let known = Known::from_file(file).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Credentials {
            path: Some(path.to_owned()),
            inner: RwLock::new(known),
        })
    }

    /// Credentials held in memory only.
    pub fn from_file(file: &CredentialsFile) -> Result<Credentials, String> {
        Ok(Credentials {
            path: None,
            inner: RwLock::new(Known::from_file(file.clone())?),
        })
    }

    /// Who holds `token`, if anyone.
    pub fn principal(&self, token: &str) -> Option<Principal> {
        let inner = self.inner.read().expect("credentials lock");
        inner.by_digest.get(&token_digest(token)).cloned()
    }

    /// Grants `token` read access to `chain` as an auditor; returns the credential's id.
    pub fn grant_auditor(&self, chain: &ChainId, token: &str) -> Result<String, String> {
        self.grant(&Principal::Auditor(chain.clone()), token)
    }

    /// Makes `token` a credential of `principal`, on disk before it is usable; returns the
    /// credential's id.
    pub fn grant(&self, principal: &Principal, token: &str) -> Result<String, String> {
        let digest = token_digest(token).to_hex();
        let mut inner = self.inner.write().expect("credentials lock");
        let mut file = inner.file.clone();
        match principal {
            Principal::Operator => file.operator.push(digest.clone()),
            Principal::Partner(chain) => file
                .partners
                .entry(chain.clone())
                .or_default()
                .push(digest.clone()),
            Principal::Auditor(chain) => file
                .auditors
                .entry(chain.clone())
                .or_default()
                .push(digest.clone()),
        }
        self.persist(&file)?;
        *inner = Known::from_file(file)?;
        Ok(credential_id(&digest).to_owned())
    }

    /// The ids of a chain's auditor credentials.
    pub fn auditors(&self, chain: &ChainId) -> Vec<String> {
        let inner = self.inner.read().expect("credentials lock");
        inner
            .file
            .auditors
            .get(chain)
            .map(|ds| ds.iter().map(|d| credential_id(d).to_owned()).collect())
            .unwrap_or_default()
    }

    /// Revokes a chain's auditor credential by id; `false` if there was none.
    pub fn revoke_auditor(&self, chain: &ChainId, id: &str) -> Result<bool, String> {
        let mut inner = self.inner.write().expect("credentials lock");
        let mut file = inner.file.clone();
        let Some(list) = file.auditors.get_mut(chain) else {
            return Ok(false);
        };
        let before = list.len();
        list.retain(|d| credential_id(d) != id);
        if list.len() == before {
            return Ok(false);
        }
        self.persist(&file)?;
        *inner = Known::from_file(file)?;
        Ok(true)
    }

    fn persist(&self, file: &CredentialsFile) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let tmp = path.with_extension("tmp");
        let json = serde_json::to_vec_pretty(file).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_map_to_principals_by_digest_only() {
        let skyway: ChainId = "skyway".parse().unwrap();
        let mut file = CredentialsFile::default();
        file.operator.push(token_digest("op").to_hex());
        file.partners
            .insert(skyway.clone(), vec![token_digest("sky").to_hex()]);
        let json = serde_json::to_string(&file).unwrap();
        assert!(!json.contains("\"sky\""), "the file never holds a token");
        let c = Credentials::from_file(&file).unwrap();
        assert_eq!(c.principal("op"), Some(Principal::Operator));
        assert_eq!(c.principal("sky"), Some(Principal::Partner(skyway.clone())));
        assert_eq!(c.principal("nope"), None);
        file.operator.push("zz".into());
        assert!(Credentials::from_file(&file).is_err());
    }

    #[test]
    fn auditor_grants_persist_and_revoke() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        let skyway: ChainId = "skyway".parse().unwrap();
        let c = Credentials::load(&path).unwrap();
        let id = c.grant_auditor(&skyway, "audit-1").unwrap();
        assert_eq!(
            c.principal("audit-1"),
            Some(Principal::Auditor(skyway.clone()))
        );
        assert_eq!(c.auditors(&skyway), vec![id.clone()]);
        // A restart reads the grant back.
        let c = Credentials::load(&path).unwrap();
        assert_eq!(
            c.principal("audit-1"),
            Some(Principal::Auditor(skyway.clone()))
        );
        assert!(!c.revoke_auditor(&skyway, "nope").unwrap());
        assert!(c.revoke_auditor(&skyway, &id).unwrap());
        assert_eq!(c.principal("audit-1"), None);
        assert_eq!(Credentials::load(&path).unwrap().principal("audit-1"), None);
    }
}
