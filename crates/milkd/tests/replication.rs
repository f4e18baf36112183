//! Replication across real `milkd` processes on loopback: three of TICA's nodes replicate
//! every chain; leaders are SIGKILLed under load and restarted; a minority accepts no
//! writes; a wiped replica catches up from a snapshot. Afterwards every acknowledged
//! transaction is committed, once, every replica holds the same blocks and state roots, and
//! every chain replays from genesis conserving every asset.

mod support;

use milk_core::chain::Verifier;
use milk_core::genesis::Genesis;
use milk_core::genesis::demo_key;
use milk_core::tx::TxId;
use milk_core::tx::{
    Action, BrandAction, ExchangeAction, OrderSize, SignedTransaction, Transaction,
};
use milk_core::{Address, Amount, ChainId, Hash, Keypair};
use milkd::replica::cluster::{Cluster, ClusterNode};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::faultnet::{FaultNet, Route, Weather};
use support::{Http, account, transfer};

/// Accounts sending transfers.
const ACCOUNTS: usize = 6;
/// Accounts (after the senders) that have cinema points converted and trade them.
const TRADERS: usize = 3;

/// A free loopback port that nothing else takes before the node does.
fn free_port() -> u16 {
    milkd::localnet::unused_port().expect("a free loopback port")
}

/// `port` on the loopback address.
fn loopback(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}

/// Three nodes' data directories, each with the test genesis, the producer key, the test
/// credentials and its own node key, and the cluster file naming them.
struct Net {
    dir: tempfile::TempDir,
    genesis: Genesis,
    nodes: Vec<Node>,
    cluster: PathBuf,
    /// Arguments every node also gets.
    extra: Vec<String>,
    /// Log entries between snapshots.
    snapshot_every: u64,
}

struct Node {
    id: u64,
    data: PathBuf,
    api: String,
    child: Option<Child>,
    /// A partner's node: it never gets TICA's producer key.
    partner: bool,
    /// Where its peers reach it (the cluster file's peer port).
    peer: u16,
    /// Where it listens to them, when not there (behind a proxy).
    peer_listen: Option<u16>,
}

impl Node {
    /// Where the node's log goes (warnings and errors, or what `MILK_TEST_LOG` asks for).
    fn log(&self) -> PathBuf {
        self.data.with_extension("log")
    }

    /// What went wrong in the node's log, if anything: its panics and errors.
    fn troubles(&self) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.contains("panicked") || l.contains("Error: ") || l.contains("ERROR milkd")
            })
            .collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }
}

impl Net {
    fn new(n: u64) -> Net {
        Net::with_joining(n, &[])
    }

    /// `n` nodes whose peers reach each other only through a misbehaving network.
    fn behind_faults(n: u64, seed: u64) -> (Net, FaultNet) {
        let mut net = Net::new(n);
        let routes: Vec<Route> = net
            .nodes
            .iter_mut()
            .map(|node| {
                let listen = free_port();
                node.peer_listen = Some(listen);
                (node.id, loopback(node.peer), loopback(listen))
            })
            .collect();
        (net, FaultNet::start(&routes, seed))
    }

    /// `n` nodes, those in `joining` left out of the chains' first membership.
    fn with_joining(n: u64, joining: &[u64]) -> Net {
        let dir = tempfile::tempdir().unwrap();
        let genesis = support::genesis(ACCOUNTS + TRADERS);
        let mut nodes = Vec::new();
        let mut entries = Vec::new();
        for id in 1..=n {
            let data = dir.path().join(format!("n{id}"));
            support::write_credentials(&data);
            let key = milkd::node::node_key(&data).unwrap().address();
            let (api, peer) = (free_port(), free_port());
            let mut entry = ClusterNode::new(id, loopback(api), loopback(peer), key);
            entry.joining = joining.contains(&id);
            entries.push(entry);
            nodes.push(Node {
                id,
                data,
                api: format!("http://127.0.0.1:{api}"),
                child: None,
                partner: false,
                peer,
                peer_listen: None,
            });
        }
        let cluster = dir.path().join("cluster.json");
        Cluster { nodes: entries }.save(&cluster).unwrap();
        support::write_genesis(dir.path(), &genesis);
        Net {
            dir,
            genesis,
            nodes,
            cluster,
            extra: Vec::new(),
            snapshot_every: 40,
        }
    }

    fn start(&mut self, i: usize) {
        let g = self.dir.path().join("test-genesis.json");
        let k = self.dir.path().join("test-producer.key");
        let node = &mut self.nodes[i];
        let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
        let mut args: Vec<String> = vec!["--data-dir".into(), path(&node.data)];
        args.extend([
            "--listen".into(),
            node.api.trim_start_matches("http://").into(),
        ]);
        args.extend(["--genesis".into(), path(&g)]);
        if !node.partner {
            args.extend(["--producer-key".into(), path(&k)]);
        }
        args.extend(["--cluster".into(), path(&self.cluster)]);
        args.extend(["--node-id".into(), node.id.to_string()]);
        if let Some(port) = node.peer_listen {
            args.extend(["--peer-listen".into(), format!("127.0.0.1:{port}")]);
        }
        args.extend(["--election-timeout-ms".into(), "300".into()]);
        args.extend(["--snapshot-every".into(), self.snapshot_every.to_string()]);
        args.extend(self.extra.iter().cloned());
        node.child = Some(support::spawn_milkd_logging(args, &node.log()).0);
    }

    /// Rewrites the cluster file (nodes read it when they start).
    fn edit_cluster(&self, edit: impl FnOnce(&mut serde_json::Value)) {
        let text = std::fs::read_to_string(&self.cluster).unwrap();
        let mut cluster: serde_json::Value = serde_json::from_str(&text).unwrap();
        edit(&mut cluster);
        std::fs::write(&self.cluster, cluster.to_string()).unwrap();
    }

    /// The genesis chains' names.
    fn chains(&self) -> Vec<String> {
        self.genesis
            .chains
            .iter()
            .map(|c| c.id.to_string())
            .collect()
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            c.kill().unwrap(); // SIGKILL: nothing is flushed.
            c.wait().unwrap();
        }
    }

    fn http(&self, i: usize) -> Http {
        Http::new(&self.nodes[i].api).with_token(support::OPERATOR_TOKEN)
    }

    fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].child.is_some())
            .collect()
    }

    /// The node that leads `chain`, as a live node sees it, once one does.
    fn leader(&self, chain: &str, within: Duration) -> Option<usize> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            for i in self.live() {
                let Ok((200, v)) = self.http(i).try_get("/v1/cluster") else {
                    continue;
                };
                let c = v["chains"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["chain"] == chain)
                    .cloned();
                if let Some(c) = c
                    && c["role"] == "leader"
                {
                    return Some(i);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Waits until every live node has the same head on every chain, and returns it.
    fn converge(&self, within: Duration) -> Vec<(String, u64, String, String)> {
        self.converge_among(&self.live(), within)
    }

    /// Waits until the nodes `among` have the same head on every chain, and returns it.
    fn converge_among(
        &self,
        among: &[usize],
        within: Duration,
    ) -> Vec<(String, u64, String, String)> {
        let until = Instant::now() + within;
        loop {
            let views: Vec<Vec<(String, u64, String, String)>> = among
                .iter()
                .map(|&i| {
                    let v = self
                        .http(i)
                        .try_get("/v1/cluster")
                        .map_or(serde_json::Value::Null, |r| r.1);
                    v["chains"].as_array().map_or(Vec::new(), |cs| {
                        cs.iter()
                            .map(|c| {
                                let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                                (
                                    s("chain"),
                                    c["height"].as_u64().unwrap_or(0),
                                    s("hash"),
                                    s("state_root"),
                                )
                            })
                            .collect()
                    })
                })
                .collect();
            if !views[0].is_empty() && views.iter().all(|v| *v == views[0]) {
                return views[0].clone();
            }
            if Instant::now() >= until {
                let troubles: Vec<String> = among
                    .iter()
                    .map(|&i| format!("node {}: {}", i + 1, self.nodes[i].troubles()))
                    .collect();
                panic!(
                    "replicas never agreed: {views:#?}\nthe nodes' logs:\n{}",
                    troubles.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// Transfers from `ACCOUNTS` clients, each to any live node in turn, recording what a node
/// acknowledged as committed; a refused or unanswered batch is sent again from the
/// committed sequence.
fn load(
    net: &Net,
    acked: Arc<Mutex<Vec<TxId>>>,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let apis: Vec<String> = net.nodes.iter().map(|n| n.api.clone()).collect();
    (0..ACCOUNTS)
        .map(|i| {
            let (apis, acked, stop) = (apis.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let from = account(i);
                let to = account((i + 1) % ACCOUNTS).address();
                let mut turn = i;
                while !stop.load(Ordering::SeqCst) {
                    turn += 1;
                    let http =
                        Http::new(&apis[turn % apis.len()]).with_timeout(Duration::from_secs(2));
                    let Ok((status, v)) = http.try_get(&format!("/v1/accounts/{}", from.address()))
                    else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let Some(seq) = (status == 200)
                        .then(|| support::next_sequence(&v, "center"))
                        .flatten()
                    else {
                        continue;
                    };
                    let batch: Vec<_> = (0..10)
                        .map(|k| {
                            transfer(&from, to, 1 + k, seq + k as u64, support::now_ms() + 60_000)
                        })
                        .collect();
                    let Ok(resp) = http.submit("center", &batch, true) else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    for (tx, r) in batch.iter().zip(&resp.results) {
                        if r.status == "committed" {
                            acked.lock().unwrap().push(tx.tx.id());
                        }
                    }
                }
            })
        })
        .collect()
}

/// MLK's price from three local sources, for every node's oracle.
fn with_oracle(net: &mut Net) {
    let clock: Arc<dyn milkd::Clock> = Arc::new(milkd::SystemClock);
    let ticker = milkd::exchange::ticker::Ticker::new(10_000_000, 0, 1, clock);
    let skews = &milkd::exchange::ticker::SOURCE_SKEWS_BPS;
    for url in milkd::exchange::ticker::serve_sources(ticker, skews).unwrap() {
        net.extra.extend(["--oracle-url".into(), url]);
    }
    net.extra.extend(["--oracle-interval-s".into(), "1".into()]);
}

/// Signs `action` by `key` on `chain` at its next sequence and submits it to any live
/// node, again (numbered afresh) until it commits; returns its id.
fn commit(net: &Net, chain: &str, key: &Keypair, action: Action) -> TxId {
    for attempt in 0..100 {
        let live = net.live();
        let http = net
            .http(live[attempt % live.len()])
            .with_timeout(Duration::from_secs(3));
        if let Some(id) = try_commit(&http, chain, key, action.clone()) {
            return id;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{action:?} never committed on {chain}");
}

/// The signed transaction of `key` at its next sequence on `chain`, as a node sees it.
fn signed(http: &Http, chain: &str, key: &Keypair, action: Action) -> Option<SignedTransaction> {
    let (status, v) = http
        .try_get(&format!("/v1/accounts/{}", key.address()))
        .ok()?;
    let sequence = (status == 200)
        .then(|| support::next_sequence(&v, chain))
        .flatten()?;
    let tx = Transaction {
        chain: chain.parse().unwrap(),
        sender: key.address(),
        sequence,
        expires_at_ms: support::now_ms() + 60_000,
        action,
    };
    Some(tx.sign(key))
}

fn try_commit(http: &Http, chain: &str, key: &Keypair, action: Action) -> Option<TxId> {
    let tx = signed(http, chain, key, action)?;
    let r = http.submit(chain, std::slice::from_ref(&tx), true).ok()?;
    (r.results[0].status == "committed").then(|| tx.tx.id())
}

/// Links every trader to the cinema, as its partner countersigns.
fn link_traders(net: &Net) {
    let partner = demo_key("partner:cinema");
    let cinema: ChainId = "cinema".parse().unwrap();
    for t in 0..TRADERS {
        let key = account(ACCOUNTS + t);
        let customer = Hash::domain("test/customer", &[&[t as u8]]);
        let message = milk_core::brand::link_message(&cinema, &key.address(), &customer);
        let link = Action::Brand(BrandAction::Link {
            customer_hash: customer,
            partner_signature: partner.sign(&message.0),
        });
        commit(net, "cinema", &key, link);
    }
}

/// One round of trading: the cinema converts points for a trader, who sells cinema points
/// to TICA (even rounds) or buys some back (odd), sent to node `n` modulo their number.
/// Returns the conversion's id and the order placed, when taken.
fn trade_round(apis: &[String], n: usize) -> (Option<TxId>, Option<Placed>) {
    let http = Http::new(&apis[n % apis.len()])
        .with_token(support::OPERATOR_TOKEN)
        .with_timeout(Duration::from_secs(3));
    let trader = account(ACCOUNTS + n % TRADERS);
    let convert = Action::Brand(BrandAction::Convert {
        to: trader.address(),
        mileage: 20,
        reference: format!("conv-{n}"),
    });
    let converted = try_commit(&http, "cinema", &demo_key("partner:cinema"), convert);
    let (chain, order) = if n.is_multiple_of(2) {
        let sell = ExchangeAction::Sell {
            amount: Amount::new(500),
            min_out: Amount::new(1),
        };
        ("cinema", sell)
    } else {
        let mlk = Amount::new(100_000_000);
        let buy = ExchangeAction::Buy {
            asset: "CINE".parse().unwrap(),
            pay: "MLK".parse().unwrap(),
            size: OrderSize::Mlk(mlk),
            max_in: mlk,
        };
        ("center", buy)
    };
    (converted, place(&http, chain, &trader, order))
}

/// Trading rounds until `stop`; returns the conversions acknowledged and the orders placed.
fn trading(net: &Net, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(Vec<TxId>, Vec<Placed>)> {
    let apis: Vec<String> = net.nodes.iter().map(|n| n.api.clone()).collect();
    std::thread::spawn(move || {
        let (mut converted, mut orders) = (Vec::new(), Vec::new());
        for n in 0.. {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let (conversion, order) = trade_round(&apis, n);
            converted.extend(conversion);
            orders.extend(order);
        }
        (converted, orders)
    })
}

/// An order a node took: its id, and whether the answer was only that it waits for its
/// block (nothing locked yet: a leader deposed before that block forgets it, and the order
/// is then on no chain, which is an answer the client was warned of).
struct Placed {
    id: TxId,
    pending: bool,
}

/// Places a signed order through `/v1/trades`; what the node took, if it did.
fn place(http: &Http, chain: &str, key: &Keypair, order: ExchangeAction) -> Option<Placed> {
    let tx = signed(http, chain, key, Action::Exchange(order))?;
    let body = serde_json::json!({ "tx": milkd::brand::tx_hex(&tx) }).to_string();
    let (status, v) = http
        .try_post("/v1/trades", "application/json", body.as_bytes())
        .ok()?;
    let pending = v["error"]["code"] == "pending";
    (status == 200 || status == 202).then(|| Placed {
        id: tx.tx.id(),
        pending,
    })
}

/// Every order placed ends filled, refused or voided, as the center chain's leader tells,
/// once recovery has had its turn (one only said to wait for its block may instead be on no
/// chain); at least one of them filled.
fn check_trades(net: &Net, orders: &[Placed]) {
    let until = Instant::now() + Duration::from_secs(60);
    let (mut filled, mut forgotten) = (0, 0);
    for Placed { id, pending } in orders {
        loop {
            let leader = net
                .leader("center", Duration::from_secs(20))
                .expect("a leader");
            let (code, v) = net.http(leader).get(&format!("/v1/trades/{id}"));
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            if ["filled", "refused", "voided"].contains(&status.as_str()) {
                filled += usize::from(status == "filled");
                break;
            }
            if *pending && code == 404 && v["error"]["code"] == "unknown_trade" {
                forgotten += 1;
                break;
            }
            assert!(
                Instant::now() < until,
                "trade {id} is still {status}: half done"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "{} orders placed, {filled} filled, {forgotten} forgotten while waiting for their block",
        orders.len()
    );
    assert!(filled > 0, "no trade filled: the test would prove little");
}

/// Transfers and trades running against the network until finished.
struct Busy {
    acked: Arc<Mutex<Vec<TxId>>>,
    stop: Arc<AtomicBool>,
    clients: Vec<std::thread::JoinHandle<()>>,
    traders: std::thread::JoinHandle<(Vec<TxId>, Vec<Placed>)>,
}

impl Busy {
    /// Once the center chain has a leader: the traders linked, then transfers and trades.
    fn start(net: &Net) -> Busy {
        net.leader("center", Duration::from_secs(20))
            .expect("a leader is elected");
        link_traders(net);
        let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        Busy {
            clients: load(net, acked.clone(), stop.clone()),
            traders: trading(net, stop.clone()),
            acked,
            stop,
        }
    }

    /// Stops once the network commits again (failing with `what` if it does not), then
    /// checks every trade and every replica.
    fn finish(self, net: &Net, what: &str) {
        goes_on(&self.acked, what);
        self.stop.store(true, Ordering::SeqCst);
        for c in self.clients {
            c.join().unwrap();
        }
        let (converted, orders) = self.traders.join().unwrap();
        check_trades(net, &orders);
        let mut acked = self.acked.lock().unwrap().clone();
        eprintln!(
            "{} transfers and {} conversions acknowledged",
            acked.len(),
            converted.len()
        );
        acked.extend(converted);
        check_replicas(net, &acked);
    }
}

/// Waits until 50 more transactions are acknowledged; fails with `what` after 20 s.
fn goes_on(acked: &Mutex<Vec<TxId>>, what: &str) {
    let before = acked.lock().unwrap().len();
    let until = Instant::now() + Duration::from_secs(20);
    while acked.lock().unwrap().len() < before + 50 {
        assert!(Instant::now() < until, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every block of `chain` from one node.
fn blocks(http: &Http, chain: &str) -> Vec<milk_core::block::Block> {
    http.all_blocks(&chain.parse().unwrap())
}

/// Every live replica holds the same blocks, which replay from genesis conserving every
/// asset; and every acknowledged transaction is in them, once.
fn check_replicas(net: &Net, acked: &[TxId]) {
    let heads = net.converge(Duration::from_secs(20));
    let mut found = std::collections::HashSet::new();
    for (chain, height, hash, _) in &heads {
        // The center chain's services may have added blocks since: compare up to the head
        // every replica reached.
        let upto = |mut b: Vec<milk_core::block::Block>| {
            assert!(
                b.len() as u64 > *height,
                "{chain}: a replica's blocks stop short"
            );
            b.truncate(*height as usize + 1);
            b
        };
        let reference = upto(blocks(&net.http(net.live()[0]), chain));
        for i in net.live() {
            let theirs = upto(blocks(&net.http(i), chain));
            assert_eq!(theirs, reference, "{chain}: replica {} differs", i + 1);
        }
        let mut v = Verifier::start(&net.genesis, &chain.parse().unwrap(), &reference[0]).unwrap();
        for b in &reference[1..] {
            v.apply(b).unwrap();
        }
        v.state().check_conservation().unwrap();
        assert_eq!(&v.head().hash().to_hex(), hash);
        let mut seen = std::collections::HashMap::new();
        for b in &reference {
            for t in &b.txs {
                *seen.entry(t.tx.id()).or_insert(0) += 1;
            }
        }
        for id in acked.iter().filter(|id| seen.contains_key(*id)) {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "{id} is committed more than once on {chain}"
            );
            found.insert(*id);
        }
    }
    for id in acked {
        assert!(
            found.contains(id),
            "acknowledged {id} is not committed on any chain"
        );
    }
}

#[test]
fn leaders_killed_under_load_lose_no_acknowledged_transaction() {
    let seed = support::env_u64("MILK_TEST_SEED", 0x5eed);
    let kills = support::env_u64("MILK_REPLICATION_KILLS", 20) as usize;
    eprintln!("MILK_TEST_SEED={seed} MILK_REPLICATION_KILLS={kills}");
    let mut rng = seed | 1;
    let mut net = Net::new(3);
    with_oracle(&mut net);
    for i in 0..3 {
        net.start(i);
    }
    let busy = Busy::start(&net);
    for k in 0..kills {
        let chain = if k % 2 == 0 { "center" } else { "cinema" };
        let Some(victim) = net.leader(chain, Duration::from_secs(20)) else {
            panic!("kill {k}: no leader of {chain} within 20 s");
        };
        let before = busy.acked.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(
            100 + support::xorshift(&mut rng) % 400,
        ));
        net.kill(victim);
        // Back at once (it may resume leading where it stopped) or after an election.
        std::thread::sleep(Duration::from_millis(support::xorshift(&mut rng) % 1_500));
        net.start(victim);
        eprintln!(
            "kill {k}: node {} (leading {chain}); {} acknowledged so far",
            victim + 1,
            before
        );
    }
    // The cluster goes on after the last kill.
    busy.finish(&net, "the cluster stopped committing after the kills");
}

/// The next weather, from `rng`: calm, lossy, slow (chunks held longer than a heartbeat),
/// a node cut off, links cut one way, or a bridge (one node hears both others, who do not
/// hear each other); all but calm and slow also lose and hold a few chunks.
fn weather(rng: &mut u64, ids: &[u64]) -> Weather {
    let mut pick = |n: usize| (support::xorshift(rng) % n as u64) as usize;
    let mut w = Weather::default();
    let kind = pick(6);
    let a = ids[pick(ids.len())];
    let others: Vec<u64> = ids.iter().copied().filter(|b| *b != a).collect();
    match kind {
        0 => return w,
        1 => w.drop_per_mille = 30,
        2 => return Weather { delay_ms: 250, ..w },
        3 => w.cut.extend(others.iter().flat_map(|&b| [(a, b), (b, a)])),
        4 => w
            .cut
            .extend([(a, others[pick(others.len())]), (others[0], others[1])]),
        _ => w
            .cut
            .extend([(others[0], others[1]), (others[1], others[0])]),
    }
    w.drop_per_mille = w.drop_per_mille.max(5);
    w.delay_ms = 30;
    w
}

#[test]
fn partitions_and_a_lossy_network_lose_no_acknowledged_transaction() {
    let seed = support::env_u64("MILK_TEST_SEED", 0x5eed);
    let rounds = support::env_u64("MILK_PARTITION_ROUNDS", 30);
    eprintln!("MILK_TEST_SEED={seed} MILK_PARTITION_ROUNDS={rounds}");
    let (mut net, faults) = Net::behind_faults(3, seed);
    with_oracle(&mut net);
    for i in 0..3 {
        net.start(i);
    }
    let busy = Busy::start(&net);
    let mut rng = seed | 1;
    for round in 0..rounds {
        let w = weather(&mut rng, &[1, 2, 3]);
        let ms = 300 + support::xorshift(&mut rng) % 1_200;
        eprintln!("round {round}: {ms} ms of {w:?}");
        faults.set(w);
        std::thread::sleep(Duration::from_millis(ms));
    }
    faults.set(Weather::default());
    busy.finish(
        &net,
        "the cluster stopped committing once the network healed",
    );
    let c = faults.counts();
    let count = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::SeqCst);
    let (cut, dropped, delayed) = (count(&c.cut), count(&c.dropped), count(&c.delayed));
    eprintln!(
        "{} connections; {cut} cut, {dropped} dropped, {delayed} chunks held back",
        count(&c.connections)
    );
    assert!(
        rounds < 10 || (cut > 0 && dropped > 0 && delayed > 0),
        "the weather never turned: the test would prove little"
    );
}

#[test]
fn a_minority_takes_no_writes_and_a_wiped_replica_catches_up() {
    let mut net = Net::new(3);
    net.snapshot_every = 10;
    for i in 0..3 {
        net.start(i);
    }
    let leader = net
        .leader("center", Duration::from_secs(20))
        .expect("a leader is elected");
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&net, acked.clone(), stop.clone());
    std::thread::sleep(Duration::from_secs(2));
    // Cut the leader's two peers off: alone, it commits nothing.
    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for i in &others {
        net.kill(*i);
    }
    // What was in flight when they died settles within the clients' timeout.
    std::thread::sleep(Duration::from_secs(3));
    let lone = acked.lock().unwrap().len();
    let alone = net.http(leader).with_timeout(Duration::from_secs(2));
    let (_, v) = alone
        .try_get(&format!("/v1/accounts/{}", account(0).address()))
        .unwrap();
    let seq = support::next_sequence(&v, "center").unwrap();
    let t = transfer(
        &account(0),
        account(1).address(),
        7,
        seq,
        support::now_ms() + 60_000,
    );
    if let Ok(r) = alone.submit("center", &[t], true) {
        assert_ne!(
            r.results[0].status, "committed",
            "a lone node committed a transfer"
        );
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        acked.lock().unwrap().len(),
        lone,
        "a lone node acknowledged writes"
    );
    // It still answers plain reads from what it has, but refuses a linearizable one: it
    // cannot know whether a majority has moved on without it.
    let path = format!("/v1/accounts/{}", account(0).address());
    assert_eq!(alone.try_get(&path).unwrap().0, 200);
    let linearizable = [("x-milk-consistency", "linearizable".to_owned())];
    let (status, v) = alone.request_with(&path, &linearizable);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("no_leader")),
        "{v}"
    );
    // The majority returns and goes on; the lone node catches up.
    for i in &others {
        net.start(*i);
    }
    goes_on(&acked, "the majority did not go on");
    // A replica loses its chains and its log. It comes back the way the operator brings
    // back any replica that forgot its votes: taken out of every group, started as a
    // joining node, added as a learner (it catches up from a snapshot: the log it would
    // need is gone) and made a voter again.
    let wiped = others[0];
    let id = net.nodes[wiped].id;
    let chains = net.chains();
    let voters =
        |without: Option<u64>| -> Vec<u64> { (1..=3).filter(|n| Some(*n) != without).collect() };
    for chain in &chains {
        set_voters(&net, leader, chain, &voters(Some(id)));
    }
    net.kill(wiped);
    for sub in ["chains", "raft"] {
        std::fs::remove_dir_all(net.nodes[wiped].data.join(sub)).unwrap();
    }
    net.edit_cluster(|c| c["nodes"][wiped]["joining"] = serde_json::json!(true));
    net.start(wiped);
    for chain in &chains {
        add_learner(&net, leader, chain, id);
        set_voters(&net, leader, chain, &voters(None));
    }
    // Caught up means its log matches; applying it (installing the snapshot) follows.
    let has_block_1 = || {
        let raw = (net.http(wiped)).get_bytes("/v1/chains/center/raw-blocks?from=1&limit=1");
        milkd::api::decode_raw_blocks(&raw.1).unwrap().len()
    };
    let until = Instant::now() + Duration::from_secs(20);
    while has_block_1() == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        has_block_1(),
        1,
        "the wiped replica has the old blocks again"
    );
    // The install is counted once it is durable, which may come a little after the blocks
    // are readable: look again until a deadline rather than once.
    let installed = || {
        let metrics = String::from_utf8(net.http(wiped).get_bytes("/metrics").1).unwrap();
        let count = metrics
            .lines()
            .find_map(|l| l.strip_prefix("milk_snapshots_installed_total{chain=\"center\"} "));
        (
            count.is_some_and(|n| n.parse::<u64>().unwrap() > 0),
            metrics,
        )
    };
    let until = Instant::now() + Duration::from_secs(20);
    while !installed().0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (done, metrics) = installed();
    assert!(
        done,
        "the wiped replica caught up without a snapshot: {metrics}"
    );
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    check_replicas(&net, &acked);
}

/// Sends an operator's membership change to node `i` (it passes it to the leader), again
/// after a second while the node answers that no leader is known (as `Retry-After` says).
fn change(
    net: &Net,
    i: usize,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let auth = format!("Bearer {}", support::OPERATOR_TOKEN);
    for _ in 0..10 {
        let (status, v) = net
            .http(i)
            .request(method, path, Some(body.to_string()), Some(&auth));
        if status == 503 {
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        assert_eq!(status, 200, "{method} {path}: {v}");
        return v;
    }
    panic!("{method} {path}: no leader for ten seconds");
}

/// Adds `node` to `chain`'s group as a learner, through node `via`.
fn add_learner(net: &Net, via: usize, chain: &str, node: u64) -> serde_json::Value {
    let path = format!("/v1/cluster/{chain}/learners");
    change(net, via, "POST", &path, serde_json::json!({ "node": node }))
}

/// Sets `chain`'s voters, through node `via`.
fn set_voters(net: &Net, via: usize, chain: &str, nodes: &[u64]) -> serde_json::Value {
    let path = format!("/v1/cluster/{chain}/voters");
    change(
        net,
        via,
        "PUT",
        &path,
        serde_json::json!({ "nodes": nodes }),
    )
}

#[test]
fn a_node_joins_every_chain_and_another_leaves() {
    let mut net = Net::with_joining(4, &[4]);
    for i in 0..4 {
        net.start(i);
    }
    net.leader("center", Duration::from_secs(20))
        .expect("a leader is elected");
    let (_, v) = net.http(3).get("/v1/cluster");
    assert!(
        v["chains"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["voters"] == serde_json::json!([])),
        "a joining node waits to be added: {v}"
    );
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&net, acked.clone(), stop.clone());
    let chains = net.chains();
    for chain in &chains {
        // Sent to a founding node: the joining one does not know the leader yet.
        let v = add_learner(&net, 2, chain, 4);
        assert_eq!(v["voters"], serde_json::json!([1, 2, 3]), "{v}");
        let v = set_voters(&net, 0, chain, &[1, 2, 3, 4]);
        assert_eq!(v["voters"], serde_json::json!([1, 2, 3, 4]), "{v}");
    }
    // Node 1 leaves every chain, then goes away: the other three go on.
    for chain in &chains {
        set_voters(&net, 1, chain, &[2, 3, 4]);
    }
    net.kill(0);
    goes_on(&acked, "the three remaining nodes did not go on");
    let (_, v) = net.http(3).get("/v1/cluster");
    for c in v["chains"].as_array().unwrap() {
        assert_eq!(c["voters"], serde_json::json!([2, 3, 4]), "{c}");
    }
    // An unknown node, and a change by someone else than the operator, are refused.
    let (status, v) = net.http(1).request(
        "POST",
        "/v1/cluster/center/learners",
        Some(r#"{"node":9}"#.into()),
        Some(&format!("Bearer {}", support::OPERATOR_TOKEN)),
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("unknown_node")),
        "{v}"
    );
    // A linearizable read on a follower is answered by the leader, after it confirmed it
    // still leads: it shows a transfer acknowledged by another node just before.
    let key = demo_key("bob");
    let pay = Action::Token(milk_core::tx::TokenAction::Transfer {
        to: account(0).address(),
        asset: "MLK".parse().unwrap(),
        amount: Amount::new(1),
        memo: String::new(),
    });
    let sent = loop {
        let tx = signed(&net.http(1), "center", &key, pay.clone()).unwrap();
        let r = net
            .http(1)
            .submit("center", std::slice::from_ref(&tx), true)
            .unwrap();
        if r.results[0].status == "committed" {
            break tx.tx.sequence;
        }
    };
    let path = format!("/v1/accounts/{}", key.address());
    let linearizable = [("x-milk-consistency", "linearizable".to_owned())];
    let (status, v) = net.http(3).request_with(&path, &linearizable);
    assert_eq!(status, 200, "{v}");
    assert_eq!(support::next_sequence(&v, "center"), Some(sent + 1), "{v}");
    // A transaction waiting in the leader's pool (for the sequence number before it) is
    // reported pending by every node, not unknown: the leader answers for its pool. Its
    // sequence is one past the next (`sent + 1`, read linearizably above): node 1's own
    // view may lag a block behind.
    let tx = signed(&net.http(1), "center", &key, pay.clone()).unwrap();
    let waiting = Transaction {
        sequence: sent + 2,
        ..tx.tx.clone()
    }
    .sign(&key);
    let r = net
        .http(1)
        .submit("center", std::slice::from_ref(&waiting), false)
        .unwrap();
    assert_eq!(r.results[0].status, "pending", "{:?}", r.results[0]);
    for i in 1..4 {
        let (status, v) = net
            .http(i)
            .get(&format!("/v1/chains/center/txs/{}", waiting.tx.id()));
        assert_eq!(
            (status, v["status"].as_str()),
            (200, Some("pending")),
            "node {}: {v}",
            i + 1
        );
    }
    let (status, _) = net.http(1).request(
        "PUT",
        "/v1/cluster/center/voters",
        Some(r#"{"nodes":[2]}"#.into()),
        None,
    );
    assert_eq!(status, 401);
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    check_replicas(&net, &acked);
}

#[test]
fn a_partners_node_holds_its_own_chain_and_nothing_else() {
    let mut net = Net::with_joining(4, &[4]);
    // Node 4 is the cinema's: it holds its brand chain and follows the public center chain.
    net.edit_cluster(|c| c["nodes"][3]["holds"] = serde_json::json!(["center", "cinema"]));
    net.nodes[3].partner = true;
    for i in 0..4 {
        net.start(i);
    }
    net.leader("center", Duration::from_secs(20))
        .expect("a leader is elected");
    for chain in ["center", "cinema"] {
        let v = add_learner(&net, 0, chain, 4);
        assert_eq!(v["voters"], serde_json::json!([1, 2, 3]), "{v}");
    }
    // It may not join a chain the cluster file does not give it.
    let auth = format!("Bearer {}", support::OPERATOR_TOKEN);
    let (status, v) = net.http(0).request(
        "POST",
        "/v1/cluster/skyway/learners",
        Some(r#"{"node":4}"#.into()),
        Some(&auth),
    );
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (400, Some("unknown_node")),
        "{v}"
    );
    // Traffic on every chain: transfers on the center, links on the cinema, miles on Skyway.
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(&net, acked.clone(), stop.clone());
    link_traders(&net);
    let sky = Action::Token(milk_core::tx::TokenAction::Transfer {
        to: account(0).address(),
        asset: "SKY".parse().unwrap(),
        amount: Amount::new(1),
        memo: String::new(),
    });
    commit(&net, "skyway", &demo_key("alice"), sky);
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let heads = net.converge_among(&[0, 1, 2], Duration::from_secs(20));
    // The partner's node has the same center and cinema chains as TICA's nodes.
    let v = partner_catches_up(&net, &heads);
    let roles = v["chains"].as_array().unwrap().iter();
    assert!(roles.clone().all(|c| c["role"] == "learner"), "{v}");
    // On its disk: the two chains and their logs, nothing of anyone else's.
    for sub in ["chains", "raft"] {
        let mut files: Vec<String> = std::fs::read_dir(net.nodes[3].data.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.ends_with(".redb"))
            .collect();
        files.sort();
        assert_eq!(files, ["center.redb", "cinema.redb"], "{sub}");
    }
    // On the wire: every peer message it took was about those two chains.
    let (_, metrics) = net.http(3).get_bytes("/metrics");
    let metrics = String::from_utf8(metrics).unwrap();
    let chains: std::collections::BTreeSet<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("milk_peer_messages_total{"))
        .filter_map(|l| l.split('"').nth(1))
        .collect();
    assert_eq!(
        chains.into_iter().collect::<Vec<_>>(),
        ["center", "cinema"],
        "{metrics}"
    );
    // And it holds no key of TICA's: it signs as itself.
    let own = std::fs::read_to_string(net.nodes[3].data.join("producer.key")).unwrap();
    assert_ne!(own.trim(), hex::encode(demo_key("operator").secret()));
    the_partners_node_makes_its_chains_blocks_with_its_own_key(&net);
}

/// Waits until node 4 (the cinema's) has the center and cinema heads of `heads`; returns its
/// cluster view.
fn partner_catches_up(net: &Net, heads: &[(String, u64, String, String)]) -> serde_json::Value {
    let theirs: Vec<(String, u64, String)> = heads
        .iter()
        .filter(|h| h.0 == "center" || h.0 == "cinema")
        .map(|h| (h.0.clone(), h.1, h.2.clone()))
        .collect();
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = net.http(3).get("/v1/cluster");
        let mine: Vec<(String, u64, String)> = (v["chains"].as_array().unwrap().iter())
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap().to_owned();
                (s("chain"), c["height"].as_u64().unwrap(), s("hash"))
            })
            .collect();
        if mine == theirs {
            return v;
        }
        assert!(
            Instant::now() < until,
            "the partner's node never caught up: {mine:?} vs {theirs:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The cinema chain's producer set: its genesis producer's key and the partner node's.
fn cinema_producers(net: &Net) -> (String, Address) {
    let cinema: ChainId = "cinema".parse().unwrap();
    let tica = net.genesis.chain(&cinema).unwrap().producer.to_string();
    (
        tica,
        milkd::node::node_key(&net.nodes[3].data).unwrap().address(),
    )
}

/// Asks node `i` to stand for election in the cinema chain.
fn elect_cinema(net: &Net, i: usize) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {}", support::OPERATOR_TOKEN);
    (net.http(i)).request("POST", "/v1/cluster/cinema/elect", None, Some(&auth))
}

/// A refusal's code.
fn refusal(v: &serde_json::Value) -> Option<String> {
    v["error"]["code"].as_str().map(str::to_owned)
}

const CINEMA_PRODUCERS: &str = "/v1/cluster/cinema/producers";

/// Sets the cinema chain's producer set through node `via`; returns the chain's replication
/// there, checked to show the set.
fn set_cinema_producers(net: &Net, via: usize, set: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({ "producers": set });
    let v = change(net, via, "PUT", CINEMA_PRODUCERS, body);
    assert_eq!(v["producers"], set, "{v}");
    v
}

/// TICA names the partner's node key in the cinema's producer set; the node, made a voter,
/// stands for election and makes cinema blocks with its own key, which TICA's replicas
/// check against the set on their chain and keep. Then TICA takes the chain back.
fn the_partners_node_makes_its_chains_blocks_with_its_own_key(net: &Net) {
    let auth = format!("Bearer {}", support::OPERATOR_TOKEN);
    let (tica, own) = cinema_producers(net);
    let (status, v) = elect_cinema(net, 3);
    assert_eq!(
        (status, refusal(&v)),
        (409, Some("not_a_producer".into())),
        "{v}"
    );
    // Only the chain's genesis producer and keys of nodes that hold the chain.
    let stranger = Keypair::from_label("stranger").address().to_string();
    let body = serde_json::json!({ "producers": [tica, stranger] }).to_string();
    let (status, v) = (net.http(2)).request("PUT", CINEMA_PRODUCERS, Some(body), Some(&auth));
    assert_eq!(
        (status, refusal(&v)),
        (400, Some("unknown_producer".into())),
        "{v}"
    );
    set_cinema_producers(net, 2, serde_json::json!([tica, own.to_string()]));
    // Three voters: the center chain's leader, another of TICA's nodes and the partner's. A
    // node standing for election wins with the leader's vote and its own (in a larger group
    // the followers' leader leases would refuse it while the leader lives).
    let center = net.leader("center", Duration::from_secs(20)).unwrap() as u64 + 1;
    let other = if center == 1 { 2 } else { 1 };
    set_voters(net, 0, "cinema", &[center, other, 4]);
    // The third of TICA's nodes keeps the chain as a learner.
    add_learner(net, 0, "cinema", 6 - center - other);
    // It stands; it hands the chain back to the center chain's leader within seconds, so it
    // stands again until one of its blocks is in.
    let (partner, trader) = (demo_key("partner:cinema"), account(ACCOUNTS).address());
    let ours = || (blocks(&net.http(0), "cinema").iter()).any(|b| b.header.producer == own);
    let until = Instant::now() + Duration::from_secs(60);
    for n in 0.. {
        if ours() {
            break;
        }
        assert!(
            Instant::now() < until,
            "the partner's node never made a block"
        );
        let (status, v) = elect_cinema(net, 3);
        assert_eq!(status, 200, "{v}");
        let reference = format!("own-key-{n}");
        let convert = Action::Brand(BrandAction::Convert {
            to: trader,
            mileage: 20,
            reference,
        });
        try_commit(&net.http(3), "cinema", &partner, convert);
    }
    // TICA's replicas took its blocks (checked against the set): all four agree.
    let heads = net.converge_among(&[0, 1, 2], Duration::from_secs(20));
    partner_catches_up(net, &heads);
    tica_takes_the_cinema_chain_back(net);
}

/// TICA takes the partner's key out of the set: the node may no longer stand, and its key
/// signs nothing after the change.
fn tica_takes_the_cinema_chain_back(net: &Net) {
    let (tica, own) = cinema_producers(net);
    let v = set_cinema_producers(net, 0, serde_json::json!([tica]));
    let changed_at = v["height"].as_u64().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while net.http(3).get("/v1/cluster").1["chains"][1]["produces"] != false {
        assert!(
            Instant::now() < until,
            "the partner's node never saw the change"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, v) = elect_cinema(net, 3);
    assert_eq!(
        (status, refusal(&v)),
        (409, Some("not_a_producer".into())),
        "{v}"
    );
    let convert = Action::Brand(BrandAction::Convert {
        to: account(ACCOUNTS).address(),
        mileage: 20,
        reference: "after-the-change".into(),
    });
    commit(net, "cinema", &demo_key("partner:cinema"), convert);
    let heads = net.converge_among(&[0, 1, 2], Duration::from_secs(20));
    partner_catches_up(net, &heads);
    let after = blocks(&net.http(0), "cinema");
    let late: Vec<_> = (after.iter())
        .filter(|b| b.header.height > changed_at)
        .collect();
    assert!(!late.is_empty() && late.iter().all(|b| b.header.producer != own));
}
