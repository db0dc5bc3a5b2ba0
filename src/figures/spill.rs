//! Records that wait on disk until asked for: the trust positions and trends of the older
//! quarters. Pages show the latest quarter and the one before it; an older quarter's positions
//! and trends are read by a page that asks for that quarter, by an export and by a refresh of
//! the quarter after it. At national scale they are most of the figures' memory (a position and
//! a trend for every value of every quarter), so they are written to a file of their own in the
//! temporary directory (`TMPDIR`), unnamed, gone with the process, and read back when asked for.
//!
//! The last few tables read back are kept (`KEEP`), so that a page asking for one trust's
//! position on every metric of an older quarter reads that quarter once. A file that cannot be
//! written leaves its records held in memory, as they were.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, Weak};

/// How many tables read back from their files are kept in memory, the latest read first.
const KEEP: usize = 4;

/// The tables read back last: held here so that their `Weak` in `Records` stays good.
static RECENT: Mutex<VecDeque<Arc<dyn Any + Send + Sync>>> = Mutex::new(VecDeque::new());

/// A table that can be written to disk: its records, and whatever look-up goes with them.
pub(super) trait Table: Serialize + DeserializeOwned + Send + Sync + 'static {
    fn is_empty(&self) -> bool;
}

/// A table of records, held in memory or written to its own file.
pub(super) struct Records<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    Held(Arc<T>),
    /// Written to `file`; `read` is the copy read back last, while it is kept.
    Spilled {
        file: File,
        read: Weak<T>,
    },
}

impl<T: Default> Default for Records<T> {
    fn default() -> Self {
        Self { state: Mutex::new(State::Held(Arc::default())) }
    }
}

impl<T> std::fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spilled = matches!(*self.lock(), State::Spilled { .. });
        f.write_str(if spilled { "Records(on disk)" } else { "Records(held)" })
    }
}

impl<T> Records<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A reader that panicked while holding the lock left the state whole: it is replaced
        // only by `spill`, in one assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Table> Records<T> {
    pub(super) fn new(table: T) -> Self {
        Self { state: Mutex::new(State::Held(Arc::new(table))) }
    }

    /// Whether records are held in memory (none are, when there are none).
    pub(super) fn held(&self) -> bool {
        matches!(&*self.lock(), State::Held(table) if !table.is_empty())
    }

    /// The table: a held one as it is, a spilled one as last read back or read now.
    ///
    /// # Panics
    /// When the file this process wrote can no longer be read back: the figures are then lost
    /// to it, as they would be with memory that could no longer be read.
    pub(super) fn get(&self) -> Arc<T> {
        let mut state = self.lock();
        match &mut *state {
            State::Held(table) => table.clone(),
            State::Spilled { file, read } => {
                if let Some(rows) = read.upgrade() {
                    return rows;
                }
                let rows = Arc::new(read_back(file).unwrap_or_else(|e| panic!("figures written to disk: {e:#}")));
                *read = Arc::downgrade(&rows);
                let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
                recent.push_front(rows.clone());
                recent.truncate(KEEP);
                rows
            }
        }
    }

    /// Writes the records to a file of their own and lets the memory go. Records already on
    /// disk stay so; records that cannot be written stay held (the reason is logged).
    pub(super) fn spill(&self) {
        let mut state = self.lock();
        let State::Held(table) = &*state else { return };
        if table.is_empty() {
            return;
        }
        match write_out(&**table) {
            Ok(file) => *state = State::Spilled { file, read: Weak::new() },
            Err(e) => tracing::warn!("figures kept in memory, not written to disk: {e:#}"),
        }
    }
}

fn write_out<T: Serialize>(table: &T) -> anyhow::Result<File> {
    let bytes = rmp_serde::to_vec(table)?;
    let mut file = tempfile::tempfile()?;
    file.write_all(&bytes)?;
    Ok(file)
}

/// A table as written (tables read their vectors with `columns::exact`, to hold no more room
/// than their records need).
fn read_back<T: DeserializeOwned>(mut file: &File) -> anyhow::Result<T> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    Ok(rmp_serde::from_slice(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize)]
    #[serde(bound(deserialize = "T: Deserialize<'de>"))]
    struct Exact<T>(#[serde(deserialize_with = "super::super::columns::exact")] Vec<T>);

    impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Table for Vec<T> {
        fn is_empty(&self) -> bool {
            self.is_empty()
        }
    }

    impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Table for Exact<T> {
        fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    #[test]
    fn spilled_records_read_back_as_they_were() {
        let rows: Vec<(u32, f64, Option<f64>)> =
            (0..10_000).map(|i| (i, i as f64 / 7.0, (i % 3 == 0).then_some(-0.0))).collect();
        let records = Records::new(Exact(rows.clone()));
        assert!(records.held());
        records.spill();
        assert!(!records.held());
        let back = records.get();
        assert_eq!(back.0, rows);
        assert_eq!(back.0.capacity(), rows.len(), "read back with room for its rows only");
        // Signs of zeros and absent values kept.
        assert!(back.0[0].2.unwrap().is_sign_negative());
        // Read once while kept: the same copy again.
        assert!(Arc::ptr_eq(&back, &records.get()));
        // Spilling again keeps them on disk.
        records.spill();
        assert!(!records.held());
        assert_eq!(records.get().0, rows);
    }

    #[test]
    fn only_the_last_few_tables_read_back_are_kept() {
        let tables: Vec<Records<Vec<u64>>> = (0..KEEP as u64 + 2).map(|i| Records::new(vec![i; 100])).collect();
        tables.iter().for_each(Records::spill);
        let first = Arc::downgrade(&tables[0].get());
        for t in &tables[1..] {
            assert_eq!(t.get().len(), 100);
        }
        // Other tests read back too: the first may have gone sooner, never later.
        assert!(first.upgrade().is_none(), "the first table read back was let go");
        assert_eq!(*tables[0].get(), vec![0; 100]);
    }

    #[test]
    fn empty_records_stay_held() {
        let records: Records<Vec<u64>> = Records::new(Vec::new());
        records.spill();
        assert!(!records.held());
        assert!(matches!(*records.lock(), State::Held(_)));
        assert!(records.get().is_empty());
    }
}
