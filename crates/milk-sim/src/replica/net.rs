//! The network between the simulated nodes: each Raft message is a call on the target's
//! `Raft` handle, after a delay, unless the seed drops it (the request or its answer), the
//! two nodes are on two sides of a partition, or the target is down. Delays differ from
//! message to message, so messages overtake each other. A lost message is a network error
//! to openraft (not `Unreachable`: its back-off races a timer against a channel in an
//! unbiased `select!`, which would make a run depend on more than its seed).

use super::{C, Raft};
use crate::rng::Rng;
use openraft::BasicNode;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the network does to messages now.
pub struct Weather {
    /// Per mille of messages (and of answers) lost.
    pub loss: u64,
    /// The longest delay, ms.
    pub max_delay_ms: u64,
    /// Which side of a partition each node is on (all on side 0: no partition).
    pub side: BTreeMap<u64, u8>,
}

/// The network's state: the nodes up, the weather, its own randomness.
pub struct NetState {
    rafts: BTreeMap<u64, Raft>,
    /// What the network does now.
    pub weather: Weather,
    rng: Rng,
    /// Messages and answers sent.
    pub sent: u64,
    /// Messages (or answers) lost.
    pub lost: u64,
}

/// The network, shared by every node's connections and the simulator.
#[derive(Clone)]
pub struct Net(Arc<Mutex<NetState>>);

type Rpc<T, E = openraft::error::Infallible> =
    Result<T, RPCError<u64, BasicNode, RaftError<u64, E>>>;

async fn lost<T, E: std::error::Error>(ttl: Duration, why: &str) -> Rpc<T, E> {
    tokio::time::sleep(ttl).await;
    Err(RPCError::Network(NetworkError::new(
        &std::io::Error::other(why.to_owned()),
    )))
}

impl Net {
    /// A calm network whose faults come from `seed`.
    pub fn new(seed: u64) -> Net {
        Net(Arc::new(Mutex::new(NetState {
            rafts: BTreeMap::new(),
            weather: Weather {
                loss: 0,
                max_delay_ms: 1,
                side: BTreeMap::new(),
            },
            rng: Rng::new(seed),
            sent: 0,
            lost: 0,
        })))
    }

    /// The state, to change the weather or read the counts.
    pub fn state(&self) -> std::sync::MutexGuard<'_, NetState> {
        self.0.lock().expect("net lock")
    }

    /// `id` is up, reachable through `raft`.
    pub fn up(&self, id: u64, raft: Raft) {
        self.state().rafts.insert(id, raft);
    }

    /// `id` is down.
    pub fn down(&self, id: u64) {
        self.state().rafts.remove(&id);
    }

    /// Whether a message from `from` reaches `to` now, and its delay: none if lost.
    fn roll(&self, from: u64, to: u64) -> Option<Duration> {
        let mut s = self.state();
        s.sent += 1;
        let apart = s.weather.side.get(&from) != s.weather.side.get(&to);
        let (loss, max) = (s.weather.loss, s.weather.max_delay_ms);
        let dropped = s.rng.below(1_000) < loss;
        let delay = s.rng.below(max.max(1));
        if apart || dropped {
            s.lost += 1;
            return None;
        }
        Some(Duration::from_millis(delay))
    }

    /// Delivers a message from `from` to `to` and its answer back, through the weather. A
    /// message or answer lost, or a node down, is known only when `ttl` has passed.
    async fn deliver<T, E, F, Fut>(
        &self,
        (from, to): (u64, u64),
        ttl: Duration,
        call: F,
    ) -> Rpc<T, E>
    where
        E: std::error::Error,
        F: FnOnce(Raft) -> Fut,
        Fut: Future<Output = Result<T, RaftError<u64, E>>>,
    {
        let Some(there) = self.roll(from, to) else {
            return lost(ttl, "the message was lost").await;
        };
        tokio::time::sleep(there).await;
        let Some(raft) = self.state().rafts.get(&to).cloned() else {
            return lost(ttl, "the node is down").await;
        };
        let answer = call(raft).await;
        let Some(back) = self.roll(to, from) else {
            return lost(ttl, "the answer was lost").await;
        };
        tokio::time::sleep(back).await;
        match answer {
            Ok(a) => Ok(a),
            Err(RaftError::Fatal(_)) => lost(ttl, "the node stopped").await,
            Err(e) => Err(RPCError::RemoteError(RemoteError::new(to, e))),
        }
    }
}

/// Makes one node's connections.
pub struct Connections {
    /// The node.
    pub me: u64,
    /// The network.
    pub net: Net,
}

impl RaftNetworkFactory<C> for Connections {
    type Network = Connection;

    async fn new_client(&mut self, target: u64, _node: &BasicNode) -> Connection {
        Connection {
            me: self.me,
            target,
            net: self.net.clone(),
        }
    }
}

/// A connection from one node to another.
pub struct Connection {
    me: u64,
    target: u64,
    net: Net,
}

impl RaftNetwork<C> for Connection {
    async fn append_entries(
        &mut self,
        req: AppendEntriesRequest<C>,
        option: RPCOption,
    ) -> Rpc<AppendEntriesResponse<u64>> {
        let call = |raft: Raft| async move { raft.append_entries(req).await };
        self.net
            .deliver((self.me, self.target), option.hard_ttl(), call)
            .await
    }

    async fn install_snapshot(
        &mut self,
        req: InstallSnapshotRequest<C>,
        option: RPCOption,
    ) -> Rpc<InstallSnapshotResponse<u64>, InstallSnapshotError> {
        let call = |raft: Raft| async move { raft.install_snapshot(req).await };
        self.net
            .deliver((self.me, self.target), option.hard_ttl(), call)
            .await
    }

    async fn vote(&mut self, req: VoteRequest<u64>, option: RPCOption) -> Rpc<VoteResponse<u64>> {
        let call = |raft: Raft| async move { raft.vote(req).await };
        self.net
            .deliver((self.me, self.target), option.hard_ttl(), call)
            .await
    }
}

/// Puts every node on side 0 or 1 (a partition), or all on one side (healed).
pub fn sides(nodes: &[u64], rng: &mut Rng, split: bool) -> BTreeMap<u64, u8> {
    let cut: BTreeSet<u64> = match split {
        true => nodes
            .iter()
            .copied()
            .filter(|_| rng.below(2) == 0)
            .collect(),
        false => BTreeSet::new(),
    };
    nodes
        .iter()
        .map(|n| (*n, u8::from(cut.contains(n))))
        .collect()
}
