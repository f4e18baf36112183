//! The committed state table, opened once per commit and shared by every read until the
//! next one. Opening a read transaction and its table costs more than the lookup itself,
//! and a settling trade reads several records between two commits of its chain.
//!
//! A write clears the slot after its commit returns, under the slot's lock; a read that
//! finds the slot empty opens the table under the same lock. So a read that starts after a
//! commit returned sees that commit (it either finds the slot cleared, or waits for the
//! clear), and at most one snapshot is kept open between commits: redb frees nothing a
//! live read still sees, so an older one must not linger.

use super::{STATE, StoreError};
use redb::{Database, ReadOnlyTable, ReadableDatabase};
use std::sync::{Arc, Mutex, PoisonError};

type StateTable = ReadOnlyTable<&'static [u8], &'static [u8]>;

/// The latest committed state table, if any read opened it since the last commit.
#[derive(Default)]
pub(crate) struct Latest(Mutex<Option<Arc<StateTable>>>);

impl Latest {
    /// The state table as of the latest commit.
    pub(crate) fn state(&self, db: &Database) -> Result<Arc<StateTable>, StoreError> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(table) = slot.as_ref() {
            return Ok(table.clone());
        }
        let table = Arc::new(db.begin_read()?.open_table(STATE)?);
        *slot = Some(table.clone());
        Ok(table)
    }

    /// Forgets the table: a write committed after it was opened.
    pub(crate) fn clear(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
