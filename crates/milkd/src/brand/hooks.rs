//! The registered webhooks of every partner, kept in step with `webhooks.json` in the data
//! directory (mode 0600: it holds the HMAC secrets), and each one's delivery progress.

pub use milk_api::partner::WebhookView;
use milk_core::ChainId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed deliveries in a row after which the node's log warns (before, it notes them at
/// `info`: a partner's endpoint restarting, or not started yet, is no news).
pub(crate) const WARN_AFTER_FAILURES: u32 = 5;

/// One registered endpoint, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Hook {
    pub(crate) id: String,
    pub(crate) chain: ChainId,
    pub(crate) url: String,
    /// Hex; the HMAC key.
    pub(crate) secret: String,
    /// The last delivered event's id; `None`: nothing delivered yet.
    pub(crate) cursor: Option<String>,
    /// Warn of lots expiring within this many days; `None`: no warnings.
    #[serde(default)]
    pub(crate) warn_days: Option<u32>,
    /// The last UTC day (days since the epoch) whose warnings were delivered.
    #[serde(default)]
    pub(crate) warned_day: Option<u64>,
}

/// What one delivery round achieved.
pub(crate) enum Delivered {
    /// Chain events, up to this id.
    Events(String),
    /// The day's expiry warnings (possibly none to send).
    Warnings(u64),
    /// Nothing to send.
    Nothing,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct HookFile {
    pub(crate) hooks: Vec<Hook>,
}

/// How delivery to one endpoint is going (memory only: a restart retries at once).
#[derive(Debug, Default, Clone)]
pub(crate) struct Progress {
    pub(crate) failures: u32,
    pub(crate) last_error: Option<String>,
    pub(crate) next_attempt: Option<Instant>,
    pub(crate) in_flight: bool,
}

/// The registered webhooks, kept in step with `webhooks.json` in the data directory.
#[derive(Debug)]
pub struct Webhooks {
    pub(crate) path: PathBuf,
    pub(crate) file: Mutex<HookFile>,
    pub(crate) progress: Mutex<HashMap<String, Progress>>,
}

impl Webhooks {
    /// Reads the webhooks file (a missing one means none).
    pub fn load(path: &FsPath) -> Result<Webhooks, String> {
        let file = match std::fs::read_to_string(path) {
            Ok(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HookFile::default(),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        Ok(Webhooks {
            path: path.to_owned(),
            file: Mutex::new(file),
            progress: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn persist(&self, file: &HookFile) -> Result<(), String> {
        let tmp = self.path.with_extension("tmp");
        let json = serde_json::to_vec_pretty(file).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, json).map_err(|e| format!("{}: {e}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The file holds the signing secrets.
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| format!("{}: {e}", self.path.display()))
    }

    /// Changes the file, on disk first.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut HookFile) -> T) -> Result<T, String> {
        let mut file = self.file.lock().expect("webhooks lock");
        let mut next = file.clone();
        let out = change(&mut next);
        self.persist(&next)?;
        *file = next;
        Ok(out)
    }

    pub(crate) fn due(&self, now: Instant) -> Vec<Hook> {
        let file = self.file.lock().expect("webhooks lock");
        let mut progress = self.progress.lock().expect("webhooks lock");
        file.hooks
            .iter()
            .filter(|h| {
                let p = progress.entry(h.id.clone()).or_default();
                let due = !p.in_flight && p.next_attempt.is_none_or(|t| t <= now);
                if due {
                    p.in_flight = true;
                }
                due
            })
            .cloned()
            .collect()
    }

    pub(crate) fn delivered(&self, id: &str, delivered: Delivered) {
        if !matches!(delivered, Delivered::Nothing) {
            let moved = self.update(|f| {
                if let Some(h) = f.hooks.iter_mut().find(|h| h.id == id) {
                    match delivered {
                        Delivered::Events(cursor) => h.cursor = Some(cursor),
                        Delivered::Warnings(day) => h.warned_day = Some(day),
                        Delivered::Nothing => {}
                    }
                }
            });
            if let Err(e) = moved {
                // Not moved on disk: the batch goes again, which receivers tolerate.
                tracing::warn!(webhook = id, error = %e, "cannot record a delivery");
            }
        }
        let mut progress = self.progress.lock().expect("webhooks lock");
        progress.insert(id.to_owned(), Progress::default());
    }

    /// Records a failed delivery: the next attempt backs off; the node's log warns once the
    /// endpoint has failed [`WARN_AFTER_FAILURES`] times in a row.
    pub(crate) fn failed(&self, id: &str, why: String, base: Duration, max: Duration) {
        let mut progress = self.progress.lock().expect("webhooks lock");
        let p = progress.entry(id.to_owned()).or_default();
        p.failures = p.failures.saturating_add(1);
        let delay = base
            .saturating_mul(1u32 << (p.failures - 1).min(20))
            .min(max);
        if p.failures >= WARN_AFTER_FAILURES {
            tracing::warn!(webhook = id, failures = p.failures, error = %why, retry_in = ?delay, "webhook delivery failed");
        } else {
            tracing::info!(webhook = id, failures = p.failures, error = %why, retry_in = ?delay, "webhook delivery failed; retrying");
        }
        p.last_error = Some(why);
        p.next_attempt = Some(Instant::now() + delay);
        p.in_flight = false;
    }

    pub(crate) fn views(&self, chain: &ChainId) -> Vec<WebhookView> {
        let file = self.file.lock().expect("webhooks lock");
        let progress = self.progress.lock().expect("webhooks lock");
        file.hooks
            .iter()
            .filter(|h| &h.chain == chain)
            .map(|h| {
                let p = progress.get(&h.id).cloned().unwrap_or_default();
                WebhookView {
                    id: h.id.clone(),
                    url: h.url.clone(),
                    cursor: h.cursor.clone(),
                    warn_days: h.warn_days,
                    warned_day: h.warned_day,
                    failures: p.failures,
                    last_error: p.last_error,
                }
            })
            .collect()
    }
}
