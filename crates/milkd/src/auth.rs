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
use std::path::Path;

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

/// How far ahead a signed read request may expire.
pub const READ_SIGNATURE_MAX_AGE_MS: u64 = 5 * 60 * 1000;

/// What a customer signs to read their own data: the account and an expiry.
pub fn read_message(account: &Address, expires_at_ms: u64) -> Hash {
    Hash::domain(
        "milk/read/v1",
        &[account.as_bytes(), &expires_at_ms.to_be_bytes()],
    )
}

/// The account header of a signed read request.
pub const ACCOUNT_HEADER: &str = "x-milk-account";
/// The expiry header (Unix milliseconds).
pub const EXPIRES_HEADER: &str = "x-milk-expires";
/// The signature header (hex).
pub const SIGNATURE_HEADER: &str = "x-milk-signature";

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
                .chain(
                    file.partners.iter().flat_map(|(c, ds)| {
                        ds.iter().map(move |d| (d, Principal::Partner(c.clone())))
                    }),
                )
                .chain(file.auditors.iter().flat_map(|(c, ds)| {
                    ds.iter().map(move |d| (d, Principal::Auditor(c.clone())))
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
