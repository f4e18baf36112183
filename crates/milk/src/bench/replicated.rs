//! `milk bench replicated`: the same signed transfers committed by one `milkd` process and
//! by a three-node replicated network on this machine, in one run, with the CPU time each
//! process spent per 1,000 transfers. The processes are the `milkd` built beside this
//! program; the three replicas share this machine's cores, and each checks every signature.

use super::{TransferBench, bench_genesis, presign_transfers, push_batches};
use crate::client::Client;
use anyhow::{Context, Result, bail};
use milk_core::Keypair;
use milk_core::genesis::{Genesis, demo_key};
use milkd::replica::cluster::{Cluster, ClusterNode};
use rayon::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `milkd` process of the benchmark.
struct Proc {
    child: Child,
    api: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// CPU seconds (user + system) the process has used so far.
    fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        Ok(ticks / clock_ticks())
    }
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), 100 where it cannot be asked.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}

fn milkd_path() -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("milkd");
    if !path.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release -p milkd)",
            path.display()
        );
    }
    Ok(path)
}

fn free_port() -> Result<u16> {
    Ok(milkd::localnet::unused_port()?)
}

/// Starts `milkd` on `data` with the benchmark's genesis and these extra arguments.
fn spawn(exe: &Path, dir: &Path, data: &Path, api: u16, extra: &[String]) -> Result<Proc> {
    let mut child = Command::new(exe)
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{api}")])
        .arg("--genesis")
        .arg(dir.join("bench-genesis.json"))
        .arg("--producer-key")
        .arg(dir.join("bench-producer.key"))
        .args(extra)
        .env("RUST_LOG", "warn,openraft=off")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting milkd")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("piped")?).read_line(&mut line)?;
    let api = line
        .trim()
        .strip_prefix("milkd listening on ")
        .context("milkd did not start")?;
    Ok(Proc {
        api: api.to_owned(),
        child,
    })
}

/// Three replicas' data directories and cluster file; returns their API ports.
fn cluster(dir: &Path, n: u64) -> Result<Vec<u16>> {
    let mut nodes = Vec::new();
    let mut apis = Vec::new();
    let loopback = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    for k in 1..=n {
        let key = milkd::node::node_key(&dir.join(format!("n{k}")))?.address();
        let (api, peer) = (free_port()?, free_port()?);
        apis.push(api);
        nodes.push(ClusterNode::new(k, loopback(api), loopback(peer), key));
    }
    Cluster { nodes }
        .save(&dir.join("cluster.json"))
        .map_err(anyhow::Error::msg)?;
    Ok(apis)
}

/// Waits until one node has led the center chain for a second (the first elections of a
/// new cluster may take a few turns) and returns its index.
fn leader(procs: &[Proc]) -> Result<usize> {
    let until = Instant::now() + Duration::from_secs(30);
    let mut seen: Option<(usize, Instant)> = None;
    while Instant::now() < until {
        let now = procs.iter().position(|p| {
            let client = Client::new(&p.api).with_token(Some("bench-operator-token".into()));
            client
                .cluster()
                .is_ok_and(|view| view.chains.iter().all(|c| c.role == "leader"))
        });
        seen = match (now, seen) {
            (Some(i), Some((j, since))) if i == j => {
                if since.elapsed() > Duration::from_secs(1) {
                    return Ok(i);
                }
                Some((j, since))
            }
            (Some(i), _) => Some((i, Instant::now())),
            (None, _) => None,
        };
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("no steady leader within 30 s")
}

/// Pushes every body to `api`; returns transfers per second.
fn push(api: &str, bodies: &[Vec<u8>], clients: usize, total: usize) -> Result<f64> {
    let (committed, failures, secs) = push_batches(&Client::new(api), bodies, clients)?;
    if committed != total {
        bail!(
            "{} transfers were not committed: {failures:?}",
            total - committed
        );
    }
    Ok(committed as f64 / secs)
}

/// Runs the benchmark; returns the result object.
pub fn replicated(opts: &TransferBench) -> Result<serde_json::Value> {
    let exe = milkd_path()?;
    let total = opts.accounts * opts.per_account;
    eprintln!("bench replicated: {total} signed transfers, one node and then three replicas");
    let keys: Vec<Keypair> = (0..opts.accounts)
        .into_par_iter()
        .map(|i| Keypair::from_label(&format!("milk-bench/{i}")))
        .collect();
    let mut genesis: Genesis = bench_genesis(&keys)?;
    genesis.network = "milk-bench".into();
    let bodies: Vec<Vec<u8>> = presign_transfers(&keys, opts)
        .chunks(opts.batch)
        .map(milkd::api::encode_batch)
        .collect();
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("bench-genesis.json"),
        serde_json::to_vec(&genesis)?,
    )?;
    std::fs::write(
        dir.path().join("bench-producer.key"),
        hex::encode(demo_key("operator").secret()),
    )?;

    let single = spawn(
        &exe,
        dir.path(),
        &dir.path().join("single"),
        free_port()?,
        &[],
    )?;
    let cpu0 = single.cpu_seconds()?;
    let single_rate = push(&single.api, &bodies, opts.clients, total)?;
    let single_cpu = (single.cpu_seconds()? - cpu0) / total as f64 * 1000.0;
    drop(single);
    eprintln!("one node: {single_rate:.0} transfers/s");

    let (replicated_rate, cpu, lead) = three_replicas(&exe, dir.path(), &bodies, opts, total)?;
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let followers: Vec<f64> = (cpu.iter().enumerate())
        .filter(|(i, _)| *i != lead)
        .map(|(_, c)| round(*c))
        .collect();
    Ok(serde_json::json!({
        "bench": "replicated",
        "transfers": total,
        "single_per_s": single_rate.round(),
        "replicated_per_s": replicated_rate.round(),
        "ratio": round(replicated_rate / single_rate),
        "cpu_s_per_1000": {
            "single": round(single_cpu),
            "leader": round(cpu[lead]),
            "followers": followers,
        },
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
    }))
}

/// The same transfers through three replicas' leader: transfers per second, each node's
/// CPU seconds per 1,000, and which node led.
fn three_replicas(
    exe: &Path,
    dir: &Path,
    bodies: &[Vec<u8>],
    opts: &TransferBench,
    total: usize,
) -> Result<(f64, Vec<f64>, usize)> {
    let apis = cluster(dir, 3)?;
    let cluster_file = dir.join("cluster.json").to_string_lossy().into_owned();
    let mut procs = Vec::new();
    for (k, api) in apis.iter().enumerate() {
        let data = dir.join(format!("n{}", k + 1));
        write_credentials(&data)?;
        let extra = [
            "--cluster".into(),
            cluster_file.clone(),
            "--node-id".into(),
            (k + 1).to_string(),
        ];
        procs.push(spawn(exe, dir, &data, *api, &extra)?);
    }
    let lead = leader(&procs)?;
    let before: Vec<f64> = procs.iter().map(Proc::cpu_seconds).collect::<Result<_>>()?;
    let rate = push(&procs[lead].api, bodies, opts.clients, total)?;
    let cpu: Vec<f64> = (procs.iter().zip(&before))
        .map(|(p, b)| Ok((p.cpu_seconds()? - b) / total as f64 * 1000.0))
        .collect::<Result<_>>()?;
    eprintln!(
        "three replicas: {rate:.0} transfers/s (through the leader, node {})",
        lead + 1
    );
    Ok((rate, cpu, lead))
}

/// The benchmark's operator credential, so it can read the cluster view.
fn write_credentials(data: &Path) -> Result<()> {
    std::fs::create_dir_all(data)?;
    let mut file = milkd::auth::CredentialsFile::default();
    file.operator
        .push(milkd::auth::token_digest("bench-operator-token").to_hex());
    std::fs::write(data.join("credentials.json"), serde_json::to_vec(&file)?)?;
    Ok(())
}
