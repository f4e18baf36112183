//! A simulated disk for redb (its `StorageBackend`): it keeps what a sync made durable apart
//! from the writes since, so "the power fails" at a chosen operation and a chosen subset of
//! the unsynced writes reaches the platter; and it fails a chosen operation with an I/O
//! error. For the store's crash tests and the simulator; the node never uses it.

use redb::StorageBackend;
use std::io;
use std::sync::{Arc, Mutex};

/// A disk image: what a sync made durable, and the writes since.
#[derive(Debug, Default)]
struct Disk {
    view: Vec<u8>,
    durable: Vec<u8>,
    unsynced: Vec<(u64, Vec<u8>)>,
    ops: u64,
    /// At this operation the machine dies: the image is frozen and every later call fails.
    crash_at: Option<u64>,
    /// Which unsynced writes reach the platter at the crash (a bit per write, cycled).
    survivors: u64,
    crashed: Option<Vec<u8>>,
    /// Fail this operation with an I/O error, once, without crashing.
    fail_at: Option<u64>,
}

/// A simulated disk; clones share it.
#[derive(Debug, Clone, Default)]
pub struct SimDisk(Arc<Mutex<Disk>>);

impl SimDisk {
    /// A disk that holds `image`, all of it durable (a machine that restarted).
    pub fn from_image(image: Vec<u8>) -> SimDisk {
        SimDisk(Arc::new(Mutex::new(Disk {
            view: image.clone(),
            durable: image,
            ..Disk::default()
        })))
    }

    /// The power fails `after` operations from now; of the writes not yet synced then,
    /// those whose bit (cycled over 64) is set in `survivors` reach the platter.
    pub fn crash_after(&self, after: u64, survivors: u64) {
        let mut d = self.0.lock().unwrap();
        d.crash_at = Some(d.ops + after);
        d.survivors = survivors;
    }

    /// The operation `after` operations from now fails with an I/O error, once.
    pub fn fail_after(&self, after: u64) {
        let mut d = self.0.lock().unwrap();
        d.fail_at = Some(d.ops + after);
    }

    /// Whether a power failure or an I/O error is still to come.
    pub fn armed(&self) -> bool {
        let d = self.0.lock().unwrap();
        d.crashed.is_none() && (d.crash_at > Some(d.ops) || d.fail_at > Some(d.ops))
    }

    /// What the platter holds after the power failed, if it did.
    pub fn crashed(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap().crashed.clone()
    }

    /// What the platter holds: the image at the crash, or else what the last sync made
    /// durable (the power fails now).
    pub fn platter(&self) -> Vec<u8> {
        let d = self.0.lock().unwrap();
        d.crashed.clone().unwrap_or_else(|| d.durable.clone())
    }

    /// Counts an operation; errors once the machine is dead or on an injected failure.
    fn tick(d: &mut Disk) -> io::Result<()> {
        if d.crashed.is_some() {
            return Err(io::Error::other("machine is down"));
        }
        d.ops += 1;
        if d.fail_at == Some(d.ops) {
            return Err(io::Error::other("injected I/O error"));
        }
        if d.crash_at == Some(d.ops) {
            let mut image = d.durable.clone();
            for (i, (offset, data)) in d.unsynced.iter().enumerate() {
                if d.survivors >> (i % 64) & 1 == 1 {
                    let end = *offset as usize + data.len();
                    if image.len() < end {
                        image.resize(end, 0);
                    }
                    image[*offset as usize..end].copy_from_slice(data);
                }
            }
            d.crashed = Some(image);
            return Err(io::Error::other("power failure"));
        }
        Ok(())
    }
}

impl StorageBackend for SimDisk {
    fn len(&self) -> io::Result<u64> {
        Ok(self.0.lock().unwrap().view.len() as u64)
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let d = self.0.lock().unwrap();
        let start = offset as usize;
        let src = d
            .view
            .get(start..start + out.len())
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past end"))?;
        out.copy_from_slice(src);
        Ok(())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut d = self.0.lock().unwrap();
        SimDisk::tick(&mut d)?;
        d.view.resize(len as usize, 0);
        Ok(())
    }
    fn sync_data(&self) -> io::Result<()> {
        let mut d = self.0.lock().unwrap();
        SimDisk::tick(&mut d)?;
        // What was written since the last sync, in order, then the file's length: the view
        // without copying it whole (a simulation syncs thousands of times).
        let Disk {
            durable, unsynced, ..
        } = &mut *d;
        for (offset, data) in unsynced.drain(..) {
            let end = offset as usize + data.len();
            if durable.len() < end {
                durable.resize(end, 0);
            }
            durable[offset as usize..end].copy_from_slice(&data);
        }
        let len = d.view.len();
        d.durable.resize(len, 0);
        Ok(())
    }
    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut d = self.0.lock().unwrap();
        SimDisk::tick(&mut d)?;
        let end = offset as usize + data.len();
        if d.view.len() < end {
            d.view.resize(end, 0);
        }
        d.view[offset as usize..end].copy_from_slice(data);
        d.unsynced.push((offset, data.to_vec()));
        Ok(())
    }
}
