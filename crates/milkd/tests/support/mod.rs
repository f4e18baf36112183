//! Helpers shared by the node's integration tests: a genesis with test accounts, signing,
//! and a small HTTP client.

#![allow(dead_code)]

pub mod faultnet;

use milk_core::genesis::{Allocation, Genesis, demo_key};
use milk_core::tx::TokenAction;
use milk_core::tx::{Action, SignedTransaction, Transaction};
use milk_core::{Address, Amount, ChainId, Keypair};
use milkd::api::SubmitResponse;
use std::time::Duration;

/// The test accounts' keys.
pub fn account(i: usize) -> Keypair {
    Keypair::from_label(&format!("milkd-test/{i}"))
}

/// The demo genesis plus `n` test accounts holding 1,000 MLK each (from the user bucket).
pub fn genesis(n: usize) -> Genesis {
    let mut g = Genesis::demo();
    // Not the demo network: a node started from it runs no demo activity of its own, so the
    // chains move only with what a test sends.
    g.network = "milk-test".to_owned();
    let each = Amount::from_whole(1_000, 8).unwrap();
    let center = &mut g.chains[0];
    let pool = center
        .allocations
        .iter_mut()
        .find(|a| a.label == "user-distribution")
        .unwrap();
    pool.amount = pool
        .amount
        .checked_sub(Amount::new(each.units() * n as u128))
        .unwrap();
    for i in 0..n {
        center.allocations.push(Allocation {
            label: format!("test:{i}"),
            account: account(i).address(),
            asset: "MLK".parse().unwrap(),
            amount: each,
        });
    }
    g.validate().unwrap();
    g
}

/// A node on a loopback port from the four-account test genesis, in `dir`, with the test
/// credentials, its clock frozen at `now_ms`; `tweak` adjusts its settings first.
pub fn test_node(
    dir: &std::path::Path,
    now_ms: u64,
    tweak: impl FnOnce(&mut milkd::NodeConfig),
) -> milkd::Spawned {
    let (g, k) = write_genesis(dir, &genesis(4));
    let mut config = milkd::NodeConfig::new(dir.join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.genesis = Some(g);
    config.producer_key = Some(k);
    write_credentials(&config.data_dir);
    tweak(&mut config);
    let clock = std::sync::Arc::new(milkd::ManualClock::new(now_ms));
    milkd::spawn(config, clock).unwrap()
}

/// Writes a genesis and the demo producer key into `dir`, for `--genesis`/`--producer-key`.
pub fn write_genesis(
    dir: &std::path::Path,
    g: &Genesis,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let gp = dir.join("test-genesis.json");
    std::fs::write(&gp, serde_json::to_vec(g).unwrap()).unwrap();
    let kp = dir.join("test-producer.key");
    std::fs::write(&kp, hex::encode(demo_key("operator").secret())).unwrap();
    (gp, kp)
}

/// A signed MLK transfer on the center chain.
pub fn transfer(
    from: &Keypair,
    to: Address,
    units: u128,
    sequence: u64,
    expires_at_ms: u64,
) -> SignedTransaction {
    Transaction {
        chain: ChainId::center(),
        sender: from.address(),
        sequence,
        expires_at_ms,
        action: Action::Token(TokenAction::Transfer {
            to,
            asset: "MLK".parse().unwrap(),
            amount: Amount::new(units),
            memo: String::new(),
        }),
    }
    .sign(from)
}

/// Starts the real `milkd` with `args` and returns it with the API URL it printed first. Its
/// log (warnings, or what `MILK_TEST_LOG` asks for) is dropped, or appended to the file
/// `MILK_TEST_LOG_FILE` names, for a failing test's story.
pub fn spawn_milkd<I, S>(args: I) -> (std::process::Child, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_milkd"));
    cmd.args(args);
    spawn_command(cmd)
}

/// [`spawn_milkd`], its log appended to `log` unless `MILK_TEST_LOG_FILE` names another file.
pub fn spawn_milkd_logging<I, S>(args: I, log: &std::path::Path) -> (std::process::Child, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_milkd"));
    cmd.args(args);
    spawn_logging(cmd, Some(log))
}

/// Starts a prepared `milkd` command (logging as [`spawn_milkd`] does) and returns it with
/// the API URL it printed first.
pub fn spawn_command(cmd: std::process::Command) -> (std::process::Child, String) {
    spawn_logging(cmd, None)
}

fn spawn_logging(
    mut cmd: std::process::Command,
    log: Option<&std::path::Path>,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let path = std::env::var_os("MILK_TEST_LOG_FILE")
        .map(std::path::PathBuf::from)
        .or(log.map(std::path::Path::to_path_buf));
    let log = path.map(|path| {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        std::process::Stdio::from(file.expect("the test log file opens"))
    });
    let filter = std::env::var("MILK_TEST_LOG").unwrap_or_else(|_| "warn".into());
    let mut child = cmd
        .env("RUST_LOG", filter)
        .stdout(std::process::Stdio::piped())
        .stderr(log.unwrap_or_else(std::process::Stdio::null))
        .spawn()
        .expect("milkd starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("milkd listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

/// A number from the environment (a seed, a count), or `default`.
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// An account view's next sequence number on `chain`.
pub fn next_sequence(account: &serde_json::Value, chain: &str) -> Option<u64> {
    account["chains"]
        .as_array()?
        .iter()
        .find(|c| c["chain"] == chain)?["next_sequence"]
        .as_u64()
}

/// A blocking client that reads any status's body.
pub struct Http {
    pub base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// The operator credential the tests' data directories get.
pub const OPERATOR_TOKEN: &str = "test-operator-token";

/// Writes a credentials file with [`OPERATOR_TOKEN`] into a data directory.
pub fn write_credentials(data_dir: &std::path::Path) {
    std::fs::create_dir_all(data_dir).unwrap();
    let mut file = milkd::auth::CredentialsFile::default();
    file.operator
        .push(milkd::auth::token_digest(OPERATOR_TOKEN).to_hex());
    std::fs::write(
        data_dir.join("credentials.json"),
        serde_json::to_vec(&file).unwrap(),
    )
    .unwrap();
}

impl Http {
    pub fn new(base: &str) -> Http {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Http {
            base: base.to_owned(),
            agent,
            token: None,
        }
    }

    /// Gives up on any request after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Http {
        self.agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        self
    }

    /// GET, with transport failures (a node that died) as errors.
    pub fn try_get(&self, path: &str) -> Result<(u16, serde_json::Value), String> {
        let mut r = self
            .auth(self.agent.get(&format!("{}{path}", self.base)))
            .call()
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_vec().map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// Sends `token` as the credential on every request but [`Http::request`].
    pub fn with_token(mut self, token: &str) -> Http {
        self.token = Some(token.to_owned());
        self
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("Authorization", &format!("Bearer {t}")),
            None => req,
        }
    }

    /// GET, returning the status and the JSON body.
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let mut r = self
            .auth(self.agent.get(&format!("{}{path}", self.base)))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_vec().unwrap();
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Any method, with an optional JSON body and `Authorization` header.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        auth: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let url = format!("{}{path}", self.base);
        let mut r = match (method, body) {
            ("GET", _) => {
                let mut req = self.agent.get(&url);
                if let Some(a) = auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            ("DELETE", _) => {
                let mut req = self.agent.delete(&url);
                if let Some(a) = auth {
                    req = req.header("Authorization", a);
                }
                req.call()
            }
            (method, body) => {
                let req = match method {
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.post(&url),
                };
                let mut req = req.header("Content-Type", "application/json");
                if let Some(a) = auth {
                    req = req.header("Authorization", a);
                }
                req.send(body.unwrap_or_default().as_bytes())
            }
        }
        .unwrap();
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_vec().unwrap();
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// GET with extra headers (and no default credential).
    pub fn request_with(&self, path: &str, headers: &[(&str, String)]) -> (u16, serde_json::Value) {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let mut r = req.call().unwrap();
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_vec().unwrap();
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// GET, returning the raw body.
    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let mut r = self
            .auth(self.agent.get(&format!("{}{path}", self.base)))
            .call()
            .unwrap();
        let status = r.status().as_u16();
        (
            status,
            r.body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap(),
        )
    }

    /// Every block of `chain`, page by page (a loaded run makes many small blocks).
    pub fn all_blocks(&self, chain: &ChainId) -> Vec<milk_core::block::Block> {
        self.blocks_from(chain, 0)
    }

    /// The blocks of `chain` from height `from` to its head, page by page.
    pub fn blocks_from(&self, chain: &ChainId, from: u64) -> Vec<milk_core::block::Block> {
        let mut blocks = Vec::new();
        loop {
            let (_, raw) = self.get_bytes(&format!(
                "/v1/chains/{chain}/raw-blocks?from={}&limit=1000",
                from + blocks.len() as u64
            ));
            let page = milkd::api::decode_raw_blocks(&raw).unwrap();
            if page.is_empty() {
                return blocks;
            }
            blocks.extend(page);
        }
    }

    /// POST raw bytes with a content type.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
        self.try_post(path, content_type, body).unwrap()
    }

    /// POST, with transport failures (a node that died) as errors.
    pub fn try_post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, serde_json::Value), String> {
        let mut r = self
            .auth(self.agent.post(&format!("{}{path}", self.base)))
            .header("Content-Type", content_type)
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_vec().map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        ))
    }

    /// Submits signed transactions to a chain in one binary request.
    pub fn submit(
        &self,
        chain: &str,
        txs: &[SignedTransaction],
        wait: bool,
    ) -> Result<SubmitResponse, String> {
        let body = milkd::api::encode_batch(txs);
        let path = format!("/v1/chains/{chain}/txs?wait={wait}");
        let (status, v) = self.try_post(&path, "application/octet-stream", &body)?;
        if status != 200 {
            return Err(format!("HTTP {status}: {v}"));
        }
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    /// Signs `action` on the center chain with `key` and waits for its block. The node's
    /// lane signs with the operator's key too: when it took the sequence number first, the
    /// action is signed again with the next one. Panics if the chain refuses it otherwise.
    #[allow(dead_code)]
    pub fn center_tx(&self, now_ms: u64, key: &Keypair, action: Action) {
        for _ in 0..20 {
            let (_, sequence) = self.account(&key.address(), "center", "MLK");
            let tx = Transaction {
                chain: ChainId::center(),
                sender: key.address(),
                sequence,
                expires_at_ms: now_ms + 60_000,
                action: action.clone(),
            }
            .sign(key);
            let r = self.submit("center", &[tx], true).unwrap();
            match r.results[0].error.as_ref().map(|e| e.code.as_str()) {
                None => return,
                Some("sequence_pending" | "sequence_used") => continue,
                Some(other) => panic!("refused: {other}"),
            }
        }
        panic!("the transaction never went through");
    }

    /// The balance of `asset` (base units) and next sequence of an address on a chain.
    pub fn account(&self, address: &Address, chain: &str, asset: &str) -> (u128, u64) {
        let (status, v) = self.get(&format!("/v1/accounts/{address}"));
        assert_eq!(status, 200, "{v}");
        let c = v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["chain"] == chain)
            .unwrap();
        let amount = c["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset)
            .map_or(0, |b| b["amount"].as_str().unwrap().parse().unwrap());
        (amount, c["next_sequence"].as_u64().unwrap())
    }
}

/// `user`'s first link to the demo partner of `chain` (its customer id `customer`, salted
/// with `salt`), countersigned by the partner's issuer key, valid for a minute from `now`.
#[allow(dead_code)] // not every test binary links customers
pub fn demo_link(chain: &str, user: &Keypair, customer: &str, now: u64) -> SignedTransaction {
    let id: ChainId = chain.parse().unwrap();
    let hash = milk_core::brand::customer_hash("salt", customer);
    let message = milk_core::brand::link_message(&id, &user.address(), &hash);
    let countersign = demo_key(&format!("partner:{chain}")).sign(&message.0);
    Transaction {
        chain: id,
        sender: user.address(),
        sequence: 0,
        expires_at_ms: now + 60_000,
        action: Action::Brand(milk_core::tx::BrandAction::Link {
            customer_hash: hash,
            partner_signature: countersign,
        }),
    }
    .sign(user)
}

/// The wall clock, Unix ms (for expiries of transactions sent to a real node).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A tiny deterministic generator (kill moments, amounts); tests print its seed.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Every chain of the node replays from genesis to its head, conserving every asset;
/// `what` names the case in a failure.
pub fn replays_from_genesis(http: &Http, what: &str) {
    let (_, g) = http.get("/v1/genesis");
    let g: Genesis = serde_json::from_value(g).unwrap();
    for spec in &g.chains {
        let blocks = http.all_blocks(&spec.id);
        let mut v = milk_core::chain::Verifier::start(&g, &spec.id, &blocks[0]).unwrap();
        for b in &blocks[1..] {
            v.apply(b)
                .unwrap_or_else(|e| panic!("{what}: {} block {}: {e}", spec.id, b.header.height));
        }
        v.state().check_conservation().unwrap();
    }
}
