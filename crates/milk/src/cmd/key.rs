//! Keys: create, import and list.

use super::*;
use crate::keystore::Keystore;
use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use milk_core::Keypair;
use milk_core::genesis::demo_key;
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Make a new key.
    New(NewArgs),
    /// Import a secret key (64 hex digits) from a file or standard input.
    Import(ImportArgs),
    /// Import a well-known demo key (alice, bob, carol, operator, …). Demo keys are public.
    Demo(DemoArgs),
    /// List keys.
    List,
    /// Show a key's address.
    Show(ShowArgs),
}

#[derive(clap::Args)]
pub struct NewArgs {
    /// A name for it.
    pub name: String,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// A name for it.
    pub name: String,
    /// Read the secret from this file instead of standard input.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// The demo label; also the key's name unless --name is given.
    pub label: String,
    /// The name to store it under.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The key's name.
    pub name: String,
}

pub fn key_cmd(ks: &Keystore, cmd: KeyCmd, j: bool) -> Result<()> {
    match cmd {
        KeyCmd::New(args) => new(ks, j, args)?,
        KeyCmd::Import(args) => import(ks, j, args)?,
        KeyCmd::Demo(args) => demo(ks, j, args)?,
        KeyCmd::List => {
            let keys = ks.list()?;
            out(
                j,
                json!(
                    keys.iter()
                        .map(|(n, a)| json!({"name": n, "address": a}))
                        .collect::<Vec<_>>()
                ),
                || {
                    if keys.is_empty() {
                        return "no keys yet; try `milk key new NAME` or `milk key demo alice`"
                            .to_owned();
                    }
                    keys.iter()
                        .map(|(n, a)| format!("{n:<16} {a}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
        KeyCmd::Show(args) => show(ks, j, args)?,
    }
    Ok(())
}

pub fn new(ks: &Keystore, j: bool, args: NewArgs) -> Result<()> {
    let NewArgs { name } = args;
    let secret: [u8; 32] = rand::random();
    let key = Keypair::from_secret(secret);
    let path = ks.add(&name, &key, &passphrase(true)?)?;
    report(j, &name, &key, path);
    Ok(())
}

pub fn import(ks: &Keystore, j: bool, args: ImportArgs) -> Result<()> {
    let ImportArgs { name, secret_file } = args;
    let text = match secret_file {
        Some(f) => {
            std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_line(&mut s)
                .context("reading the secret from standard input")?;
            s
        }
    };
    let mut secret = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut secret)
        .map_err(|e| anyhow!("the secret must be 64 hex digits: {e}"))?;
    let key = Keypair::from_secret(secret);
    let path = ks.add(&name, &key, &passphrase(true)?)?;
    report(j, &name, &key, path);
    Ok(())
}

pub fn demo(ks: &Keystore, j: bool, args: DemoArgs) -> Result<()> {
    let DemoArgs { label, name } = args;
    let labels = milk_core::genesis::demo_labels();
    if !labels.contains(&label) {
        bail!(
            "no demo key {label:?}; the demo keys are {}",
            labels.join(", ")
        );
    }
    let key = demo_key(&label);
    let name = name.unwrap_or_else(|| label.clone());
    // Importing the same demo key under the same name again changes nothing.
    if ks.address(&name).is_ok_and(|a| a == key.address()) {
        out(j, json!({ "name": name, "address": key.address() }), || {
            format!("{name}: {} (already imported)", key.address())
        });
        return Ok(());
    }
    let path = ks.add(&name, &key, &passphrase(false)?)?;
    if !j {
        eprintln!("note: demo keys are public; never hold value with them");
    }
    report(j, &name, &key, path);
    Ok(())
}

pub fn show(ks: &Keystore, j: bool, args: ShowArgs) -> Result<()> {
    let ShowArgs { name } = args;
    let address = ks.address(&name)?;
    out(j, json!({ "name": name, "address": address }), || {
        address.to_string()
    });
    Ok(())
}

/// Prints a key saved to the keystore.
fn report(j: bool, name: &str, key: &Keypair, path: PathBuf) {
    out(
        j,
        json!({ "name": name, "address": key.address(), "file": path }),
        || format!("{name}: {}\nsaved to {}", key.address(), path.display()),
    );
}
