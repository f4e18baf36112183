//! API credentials: who is calling.
//!
//! A credential is a bearer token. The node keeps only SHA-256 digests of tokens, in
//! `<data-dir>/credentials.json`, each naming a principal: the operator (TICA) or one
//! partner, scoped to that partner's brand chain. A leaked token alone can mint nothing:
//! every state-changing partner request also carries a transaction signed by the partner's
//! (or the customer's) own key.

use milk_core::{ChainId, Hash};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// TICA, the operator.
    Operator,
    /// The partner behind one brand chain.
    Partner(ChainId),
}

/// The credentials file: digests of tokens, by principal.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CredentialsFile {
    /// Operator token digests (hex).
    #[serde(default)]
    pub operator: Vec<String>,
    /// Partner token digests (hex), by brand chain.
    #[serde(default)]
    pub partners: BTreeMap<ChainId, Vec<String>>,
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
    }
}

/// Known token digests.
#[derive(Debug, Default)]
pub struct Credentials {
    by_digest: HashMap<Hash, Principal>,
}

impl Credentials {
    /// Reads a credentials file; a missing file means no credentials.
    pub fn load(path: &Path) -> Result<Credentials, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let file: CredentialsFile =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Credentials::from_file(&file).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Builds the lookup table from a file's contents.
    pub fn from_file(file: &CredentialsFile) -> Result<Credentials, String> {
        let mut by_digest = HashMap::new();
        let entries =
            file.operator
                .iter()
                .map(|d| (d, Principal::Operator))
                .chain(file.partners.iter().flat_map(|(c, ds)| {
                    ds.iter().map(move |d| (d, Principal::Partner(c.clone())))
                }));
        for (digest, principal) in entries {
            let digest = Hash::from_hex(digest)?;
            by_digest.insert(digest, principal);
        }
        Ok(Credentials { by_digest })
    }

    /// Who holds `token`, if anyone.
    pub fn principal(&self, token: &str) -> Option<&Principal> {
        self.by_digest.get(&token_digest(token))
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
        assert_eq!(c.principal("op"), Some(&Principal::Operator));
        assert_eq!(c.principal("sky"), Some(&Principal::Partner(skyway)));
        assert_eq!(c.principal("nope"), None);
        file.operator.push("zz".into());
        assert!(Credentials::from_file(&file).is_err());
    }
}
