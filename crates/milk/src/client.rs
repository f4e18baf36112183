//! A small blocking client for the node's HTTP API.

use crate::failure::{Refused, Unreachable};
use anyhow::{Context, Result, anyhow};
use milk_api::chain::{AccountView, BlockView, ChainInfo, TxStatusView};
use milk_api::submit::SubmitResponse;
use milk_core::Keypair;
use milk_core::block::Block;
use milk_core::genesis::Genesis;
use milk_core::tx::SignedTransaction;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A node's API.
#[derive(Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Client {
    /// A client for the node at `base` (`http://127.0.0.1:7070`).
    pub fn new(base: &str) -> Client {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            agent,
            token: None,
        }
    }

    /// The node did not answer.
    fn unreachable(&self, e: impl std::fmt::Display) -> anyhow::Error {
        Unreachable(format!("cannot reach the node at {}: {e}", self.base)).into()
    }

    /// Sends `token` as the API credential (`Authorization: Bearer …`).
    pub fn with_token(mut self, token: Option<String>) -> Client {
        self.token = token;
        self
    }

    fn bearer(&self) -> Result<String> {
        self.token
            .as_ref()
            .map(|t| format!("Bearer {t}"))
            .ok_or_else(|| anyhow!("this needs an API credential: --token or MILK_API_TOKEN"))
    }

    /// A partner API read.
    pub fn partner_get(&self, chain: &str, path: &str) -> Result<serde_json::Value> {
        let url = self.url(&format!("/v1/partners/{chain}{path}"));
        let resp = self
            .agent
            .get(&url)
            .header("Authorization", &self.bearer()?)
            .call();
        self.read(path, resp)
    }

    /// A partner API call without a body (`POST` or `DELETE`).
    pub fn partner_call(&self, method: &str, chain: &str, path: &str) -> Result<serde_json::Value> {
        let url = self.url(&format!("/v1/partners/{chain}{path}"));
        let auth = self.bearer()?;
        let resp = match method {
            "DELETE" => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            _ => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .send_empty(),
        };
        self.read(path, resp)
    }

    /// A partner API `POST` with a JSON body.
    pub fn partner_json(
        &self,
        chain: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let url = self.url(&format!("/v1/partners/{chain}{path}"));
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer()?)
            .send_json(body);
        self.read(path, resp)
    }

    /// A partner API call carrying a signed transaction.
    pub fn partner_post(
        &self,
        chain: &str,
        path: &str,
        tx: &SignedTransaction,
    ) -> Result<serde_json::Value> {
        let body = serde_json::json!({ "tx": milk_api::wire::tx_hex(tx) });
        self.partner_json(chain, path, &body)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn read<T: DeserializeOwned>(
        &self,
        what: &str,
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T> {
        let mut resp = resp.map_err(|e| self.unreachable(e))?;
        let status = resp.status();
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .with_context(|| format!("reading {what}"))?;
        if !status.is_success() {
            #[derive(serde::Deserialize)]
            struct E {
                error: milk_api::error::ErrorBody,
            }
            return Err(match serde_json::from_slice::<E>(&body) {
                Ok(e) => Refused::new(e.error.code, e.error.message).into(),
                Err(_) => Refused::new(format!("http_{}", status.as_u16()), what).into(),
            });
        }
        serde_json::from_slice(&body).with_context(|| format!("{what}: unexpected answer"))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let mut req = self.agent.get(&self.url(path));
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        self.read(path, req.call())
    }

    /// A read signed by an account's own key: how a customer sees their own data on
    /// private brand chains.
    fn get_as<T: DeserializeOwned>(&self, path: &str, key: &Keypair) -> Result<T> {
        let expires = now_ms() + 60_000;
        let signature = key.sign(&milk_api::read::read_message(&key.address(), expires).0);
        let req = self
            .agent
            .get(&self.url(path))
            .header(milk_api::read::ACCOUNT_HEADER, &key.address().to_string())
            .header(milk_api::read::EXPIRES_HEADER, &expires.to_string())
            .header(milk_api::read::SIGNATURE_HEADER, &hex::encode(signature.0));
        self.read(path, req.call())
    }

    /// An account on every chain, as its owner sees it.
    pub fn account_as(&self, key: &Keypair) -> Result<AccountView> {
        self.get_as(&format!("/v1/accounts/{}", key.address()), key)
    }

    /// The genesis.
    pub fn genesis(&self) -> Result<Genesis> {
        self.get("/v1/genesis")
    }

    /// The alliance's partners and applicants.
    pub fn alliance(&self) -> Result<Vec<milk_api::alliance::MemberView>> {
        self.get("/v1/alliance")
    }

    /// Every Brand Token market.
    pub fn markets(&self) -> Result<Vec<milk_api::exchange::MarketView>> {
        self.get("/v1/markets")
    }

    /// One market.
    pub fn market(&self, asset: &str) -> Result<milk_api::exchange::MarketView> {
        self.get(&format!("/v1/markets/{}", segment(asset)))
    }

    /// A non-binding quote; `size` is `tokens=N` or `mlk=N` (base units).
    pub fn quote(
        &self,
        asset: &str,
        side: &str,
        size: &str,
    ) -> Result<milk_api::exchange::QuoteView> {
        self.get(&format!(
            "/v1/markets/{}/quote?side={side}&{size}",
            segment(asset)
        ))
    }

    /// The bridge to the main chain.
    pub fn bridge(&self) -> Result<milk_api::bridge::BridgeView> {
        self.get("/v1/bridge")
    }

    /// Withdrawals, newest first, of one account or everyone's: at most `limit`, numbered
    /// below `before` if given.
    pub fn withdrawals(
        &self,
        account: Option<&str>,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<milk_api::bridge::WithdrawalView>> {
        self.get(&format!(
            "/v1/bridge/withdrawals?{}",
            page(account, limit, before)
        ))
    }

    /// One withdrawal with its proof.
    pub fn withdrawal(&self, number: u64) -> Result<milk_api::bridge::WithdrawalView> {
        self.get(&format!("/v1/bridge/withdrawals/{number}"))
    }

    /// Deposits recorded, newest first, of one account or everyone's: at most `limit`,
    /// numbered below `before` if given.
    pub fn deposits(
        &self,
        account: Option<&str>,
        limit: usize,
        before: Option<u64>,
    ) -> Result<Vec<milk_api::bridge::DepositView>> {
        self.get(&format!(
            "/v1/bridge/deposits?{}",
            page(account, limit, before)
        ))
    }

    /// Where and how an account deposits main-chain MLK.
    pub fn deposit_address(&self, account: &str) -> Result<milk_api::bridge::DepositAddressView> {
        self.get(&format!("/v1/bridge/deposit-address/{}", segment(account)))
    }

    /// A member's level and credits.
    pub fn member(&self, address: &str) -> Result<milk_api::membership::MemberView> {
        self.get(&format!("/v1/members/{}", segment(address)))
    }

    /// A member as they see themselves: with their consents and the reads of their data.
    pub fn member_as(&self, key: &Keypair) -> Result<milk_api::membership::MemberView> {
        self.get_as(&format!("/v1/members/{}", key.address()), key)
    }

    /// The earning rules and levels.
    pub fn membership_rules(&self) -> Result<milk_api::membership::RulesView> {
        self.get("/v1/membership/rules")
    }

    /// Every premium offer.
    pub fn offers(&self) -> Result<Vec<milk_api::membership::OfferView>> {
        self.get("/v1/offers")
    }

    /// The circulating supply of the center chain's assets.
    pub fn supply(&self) -> Result<Vec<milk_api::membership::SupplyView>> {
        self.get("/v1/supply")
    }

    /// MLK's oracle price.
    pub fn oracle(&self) -> Result<milk_api::exchange::OracleView> {
        self.get("/v1/oracle")
    }

    /// TICA's treasury (operator credential).
    /// The same client (credential included) for another node.
    pub fn at(&self, base: &str) -> Client {
        Client::new(base).with_token(self.token.clone())
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn cluster(&self) -> Result<milk_api::cluster::ClusterView> {
        self.get("/v1/cluster")
    }

    /// Adds a node to a chain's group as a learner (operator credential).
    pub fn add_learner(&self, chain: &str, node: u64) -> Result<milk_api::cluster::ReplicaView> {
        let url = self.url(&format!("/v1/cluster/{}/learners", segment(chain)));
        let body = milk_api::cluster::LearnerRequest { node };
        let resp = self
            .agent
            .post(&url)
            .header("Authorization", &self.bearer()?)
            .send_json(&body);
        self.read("adding a learner", resp)
    }

    /// Sets a chain's voters (operator credential).
    pub fn set_voters(
        &self,
        chain: &str,
        nodes: Vec<u64>,
    ) -> Result<milk_api::cluster::ReplicaView> {
        let url = self.url(&format!("/v1/cluster/{}/voters", segment(chain)));
        let body = milk_api::cluster::VotersRequest { nodes };
        let resp = self
            .agent
            .put(&url)
            .header("Authorization", &self.bearer()?)
            .send_json(&body);
        self.read("setting the voters", resp)
    }

    /// Names the keys that may sign a chain's blocks (operator credential).
    pub fn set_producers(
        &self,
        chain: &str,
        producers: Vec<String>,
    ) -> Result<milk_api::cluster::ReplicaView> {
        let url = self.url(&format!("/v1/cluster/{}/producers", segment(chain)));
        let body = milk_api::cluster::ProducersRequest { producers };
        let resp = self
            .agent
            .put(&url)
            .header("Authorization", &self.bearer()?)
            .send_json(&body);
        self.read("setting the producers", resp)
    }

    /// Asks the node this client reaches to stand for election in a chain (operator
    /// credential).
    pub fn elect(&self, chain: &str) -> Result<milk_api::cluster::ReplicaView> {
        let url = self.url(&format!("/v1/cluster/{}/elect", segment(chain)));
        let resp = (self.agent.post(&url))
            .header("Authorization", &self.bearer()?)
            .send_empty();
        self.read("standing for election", resp)
    }

    pub fn treasury(&self) -> Result<serde_json::Value> {
        self.get("/v1/treasury")
    }

    /// A trade's status.
    pub fn trade_status(&self, id: &str) -> Result<milk_api::exchange::TradeView> {
        self.get(&format!("/v1/trades/{}", segment(id)))
    }

    /// Places a signed order and waits for its settlement.
    pub fn trade(&self, order: &SignedTransaction) -> Result<milk_api::exchange::TradeView> {
        let body = serde_json::json!({ "tx": milk_api::wire::tx_hex(order) });
        let resp = self.agent.post(&self.url("/v1/trades")).send_json(&body);
        let v: serde_json::Value = self.read("trade", resp)?;
        if let Some(e) = v.get("error") {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            return Err(Refused::new(text("code"), text("message")).into());
        }
        serde_json::from_value(v).context("trade: unexpected answer")
    }

    /// Has the node sign `action` on `chain` with the operator's key and commit it
    /// (operator credential): the key stays on the node.
    pub fn operator_action(
        &self,
        chain: &str,
        action: milk_core::tx::Action,
    ) -> Result<milk_api::submit::SubmitResult> {
        let body = milk_api::submit::OperatorActionRequest {
            chain: Some(chain.to_owned()),
            action,
        };
        let mut req = self.agent.post(&self.url("/v1/operator/actions"));
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        self.read("operator action", req.send_json(&body))
    }

    /// One partner or applicant.
    pub fn alliance_member(&self, chain: &str) -> Result<milk_api::alliance::MemberView> {
        self.get(&format!("/v1/alliance/{}", segment(chain)))
    }

    /// Every chain the node hosts.
    pub fn chains(&self) -> Result<Vec<ChainInfo>> {
        self.get("/v1/chains")
    }

    /// An account on every chain.
    pub fn account(&self, address: &str) -> Result<AccountView> {
        self.get(&format!("/v1/accounts/{address}"))
    }

    /// An account's history (`query` starts with `?`, or is empty): as its owner with `key`,
    /// else as the credential, if any, may see it.
    pub fn history(
        &self,
        address: &str,
        query: &str,
        key: Option<&Keypair>,
    ) -> Result<milk_api::chain::HistoryView> {
        let path = format!("/v1/accounts/{address}/history{query}");
        match key {
            Some(key) => self.get_as(&path, key),
            None => self.get(&path),
        }
    }

    /// The anchors of a brand chain recorded on the center chain.
    pub fn anchors(&self, chain: &str) -> Result<Vec<milk_api::chain::AnchorView>> {
        self.get(&format!("/v1/anchors/{chain}"))
    }

    /// A block with its transactions.
    pub fn block(&self, chain: &str, height: u64) -> Result<BlockView> {
        self.get(&format!("/v1/chains/{chain}/blocks/{height}"))
    }

    /// A transaction's status.
    pub fn tx(&self, chain: &str, id: &str) -> Result<TxStatusView> {
        self.get(&format!("/v1/chains/{chain}/txs/{id}"))
    }

    /// A transaction the key's account sent or received, on any chain (a signed read: how a
    /// customer sees their own on a private brand chain).
    pub fn tx_as(&self, chain: &str, id: &str, key: &Keypair) -> Result<TxStatusView> {
        self.get_as(&format!("/v1/chains/{chain}/txs/{id}"), key)
    }

    /// Submits signed transactions in one binary request.
    pub fn submit(
        &self,
        chain: &str,
        txs: &[SignedTransaction],
        wait: bool,
    ) -> Result<SubmitResponse> {
        let body = milk_api::wire::encode_batch(txs);
        self.submit_raw(chain, &body, wait)
    }

    /// Submits an already-encoded binary batch.
    pub fn submit_raw(&self, chain: &str, body: &[u8], wait: bool) -> Result<SubmitResponse> {
        let path = format!("/v1/chains/{chain}/txs?wait={wait}");
        let resp = self
            .agent
            .post(&self.url(&path))
            .header("Content-Type", "application/octet-stream")
            .send(body);
        self.read("submit", resp)
    }

    /// Committed blocks from `from` on (at most a page; fewer near the head).
    pub fn raw_blocks(&self, chain: &str, from: u64, limit: u64) -> Result<Vec<Block>> {
        let path = format!("/v1/chains/{chain}/raw-blocks?from={from}&limit={limit}");
        let mut req = self.agent.get(&self.url(&path));
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.call().map_err(|e| self.unreachable(e))?;
        if !resp.status().is_success() {
            let what = format!("blocks of {chain}");
            return self
                .read::<serde_json::Value>(&what, Ok(resp))
                .map(|_| Vec::new());
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_vec()
            .context("reading blocks")?;
        milk_api::wire::decode_raw_blocks(&body)
            .map_err(|e| anyhow!("node sent a malformed block: {e}"))
    }
}

/// Percent-encodes one URL path segment (everything but unreserved characters).
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The local clock, Unix ms.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A bridge list's query: whose, how many, and below which number.
fn page(account: Option<&str>, limit: usize, before: Option<u64>) -> String {
    let who = account.map_or(String::new(), |a| format!("&account={}", segment(a)));
    let below = before.map_or(String::new(), |b| format!("&before={b}"));
    format!("limit={limit}{who}{below}")
}
