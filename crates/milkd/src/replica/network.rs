//! The peer protocol's client: each Raft message is one HTTP POST to the target's peer
//! address, `/raft/<chain>/<kind>`, its body the message in the replication codec, signed
//! with this node's key (see [`peer_message`]). The answer is the target's `Result`.

use super::{TypeConfig, codec};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use milk_core::{ChainId, Hash, Keypair};
use openraft::BasicNode;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The header naming the sending node.
pub const NODE_HEADER: &str = "x-milk-node";
/// The header carrying the sender's signature over [`peer_message`].
pub const SIGNATURE_HEADER: &str = "x-milk-signature";

/// What a node signs for each message: the chain, the kind and the body. A recorded message
/// replayed later is harmless to Raft (its term is stale), and cannot be moved to another
/// chain or kind.
pub fn peer_message(chain: &ChainId, kind: &str, body: &[u8]) -> Hash {
    Hash::domain(
        "milk/peer/v1",
        &[chain.as_str().as_bytes(), kind.as_bytes(), body],
    )
}

/// A node's identity on the peer network.
#[derive(Clone)]
pub struct Identity {
    /// Its number.
    pub id: u64,
    /// Its node key.
    pub key: Keypair,
}

/// Makes connections to one chain's peers.
#[derive(Clone)]
pub struct Network {
    chain: ChainId,
    me: Arc<Identity>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Network {
    /// The network of `chain`'s group, as `me`.
    pub fn new(chain: ChainId, me: Arc<Identity>) -> Network {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Network { chain, me, client }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Connection {
        Connection {
            net: self.clone(),
            target,
            addr: node.addr.clone(),
        }
    }
}

/// A connection to one peer.
pub struct Connection {
    net: Network,
    target: u64,
    addr: String,
}

type Rpc<T, E = openraft::error::Infallible> =
    Result<T, RPCError<u64, BasicNode, RaftError<u64, E>>>;

impl Connection {
    async fn call<Req, Resp, E>(&self, kind: &str, req: &Req, option: &RPCOption) -> Rpc<Resp, E>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let body = codec::encode(req);
        let signature = self
            .net
            .me
            .key
            .sign(&peer_message(&self.net.chain, kind, &body).0);
        let request = hyper::Request::post(format!(
            "http://{}/raft/{}/{kind}",
            self.addr, self.net.chain
        ))
        .header(NODE_HEADER, self.net.me.id.to_string())
        .header(SIGNATURE_HEADER, hex::encode(signature.0))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let sent = tokio::time::timeout(option.hard_ttl(), self.net.client.request(request)).await;
        let response = match sent {
            Err(elapsed) => return Err(RPCError::Unreachable(Unreachable::new(&elapsed))),
            Ok(Err(e)) if e.is_connect() => {
                return Err(RPCError::Unreachable(Unreachable::new(&e)));
            }
            Ok(Err(e)) => return Err(RPCError::Network(NetworkError::new(&e))),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| RPCError::Network(NetworkError::new(&e)))?
            .to_bytes();
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let e =
                std::io::Error::other(format!("peer {} answered {status}: {text}", self.target));
            return Err(RPCError::Network(NetworkError::new(&e)));
        }
        let answer: Result<Resp, RaftError<u64, E>> =
            codec::decode(&bytes).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        req: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Rpc<AppendEntriesResponse<u64>> {
        self.call("append", &req, &option).await
    }

    async fn install_snapshot(
        &mut self,
        req: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Rpc<InstallSnapshotResponse<u64>, InstallSnapshotError> {
        self.call("snapshot", &req, &option).await
    }

    async fn vote(&mut self, req: VoteRequest<u64>, option: RPCOption) -> Rpc<VoteResponse<u64>> {
        self.call("vote", &req, &option).await
    }
}
