//! Stored benchmark snapshots, so that a starting instance need not recompute every table nor
//! read the value table: one row per quarter, its head and its body apart (their format is the
//! figures' own), and in `app_state` the data version they hold (`snapshot_version`), when it was
//! computed and the payloads' format (`snapshot_format`). Writers rewrite only the quarters that
//! changed since the stored version; an instance that starts from an older snapshot brings it up
//! to date with an incremental refresh.
//!
//! A reader gets every head and the latest quarter's body at once, and the other bodies as a
//! background read brings them, newest first, in the same read transaction: at national scale
//! they are gigabytes, and the figures are ready without them (`Bodies`).

use super::Store;
use crate::domain::Quarter;
use anyhow::Result;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};

/// A stored snapshot: its data version, when it was computed, every quarter's head and their
/// bodies.
pub struct Snapshot {
    pub data_version: i64,
    pub computed_at: String,
    /// Each quarter's head, oldest first.
    pub heads: Vec<(Quarter, Vec<u8>)>,
    /// Each quarter's body: the latest's already read, the others as they come.
    pub bodies: Arc<Bodies>,
}

/// One quarter's payload as written: its head and its body.
pub struct QuarterPayload {
    pub period: Quarter,
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

/// The bodies of a snapshot's quarters, read in the background of a start, each taken once.
#[derive(Default)]
pub struct Bodies {
    state: Mutex<Arrivals>,
    arrived: Condvar,
}

#[derive(Default)]
struct Arrivals {
    bodies: BTreeMap<Quarter, Vec<u8>>,
    /// The quarters whose bodies readers wait for, not yet read.
    wanted: std::collections::BTreeSet<Quarter>,
    /// Set when the read has ended: `Some(Err)` when it failed.
    ended: Option<std::result::Result<(), String>>,
}

/// How many bodies may be read and not yet taken before the SQLite read pauses (unless a reader
/// waits for one further on): a start holds a few bodies at a time, not every quarter's.
const AHEAD: usize = 2;

impl Bodies {
    /// The body of quarter `p`, waiting for the read to bring it. Each body is given once.
    pub fn take(&self, p: Quarter) -> Result<Vec<u8>> {
        let mut state = self.state.lock().expect("the snapshot bodies' lock");
        loop {
            if let Some(body) = state.bodies.remove(&p) {
                state.wanted.remove(&p);
                // The read may go on.
                self.arrived.notify_all();
                return Ok(body);
            }
            match &state.ended {
                Some(Err(e)) => anyhow::bail!("reading the snapshot's quarter {p} failed: {e}"),
                Some(Ok(())) => anyhow::bail!("the snapshot has no body for quarter {p}, or it was taken"),
                None => {
                    state.wanted.insert(p);
                    self.arrived.notify_all();
                    state = self.arrived.wait(state).expect("the snapshot bodies' lock");
                }
            }
        }
    }

    /// Whether the read should pause before putting another body.
    fn full(state: &Arrivals) -> bool {
        state.bodies.len() >= AHEAD && state.wanted.is_empty()
    }

    fn put(&self, p: Quarter, body: Vec<u8>) {
        self.state.lock().expect("the snapshot bodies' lock").bodies.insert(p, body);
        self.arrived.notify_all();
    }

    /// Puts the body of quarter `p` once there is room (`AHEAD`), waiting on this thread; false,
    /// with nothing put, when no one can take it any more (the read should stop).
    fn put_when_room(self: &Arc<Self>, p: Quarter, body: Vec<u8>) -> bool {
        let mut state = self.state.lock().expect("the snapshot bodies' lock");
        while Self::full(&state) {
            if Arc::strong_count(self) == 1 {
                return false;
            }
            let timeout = std::time::Duration::from_millis(100);
            state = self.arrived.wait_timeout(state, timeout).expect("the snapshot bodies' lock").0;
        }
        state.wanted.remove(&p);
        state.bodies.insert(p, body);
        drop(state);
        self.arrived.notify_all();
        true
    }

    /// Whether taking the body of quarter `p` would fail now: the read has ended without it.
    pub fn missing(&self, p: Quarter) -> bool {
        let state = self.state.lock().expect("the snapshot bodies' lock");
        state.ended.is_some() && !state.bodies.contains_key(&p)
    }

    fn end(&self, result: Result<()>) {
        self.state.lock().expect("the snapshot bodies' lock").ended = Some(result.map_err(|e| format!("{e:#}")));
        self.arrived.notify_all();
    }
}

/// What the start of a read gives: the snapshot's state, or none.
struct State {
    data_version: i64,
    computed_at: String,
}

fn state_of(rows: &[(String, String)], format: i64) -> Option<State> {
    let get = |k: &str| rows.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    // A snapshot of another format (an older build's) is not read: the figures are computed in
    // full and it is replaced.
    if get("snapshot_format").and_then(|v| v.parse::<i64>().ok()).unwrap_or(1) != format {
        return None;
    }
    Some(State {
        data_version: get("snapshot_version")?.parse().ok()?,
        computed_at: get("snapshot_computed_at").unwrap_or_default(),
    })
}

const STATE: &str =
    "SELECT key, value FROM app_state WHERE key IN ('snapshot_version', 'snapshot_computed_at', 'snapshot_format')";

impl Store {
    /// The stored snapshot, if there is one of `format`: its heads and latest body now, its other
    /// bodies read on in the background, in the same read transaction so that every quarter is
    /// of the same data version whatever is written meanwhile. On SQLite through its own
    /// interface on a blocking thread: the payloads (gigabytes at national scale) are copied
    /// once, not once per layer of the pool's row types.
    pub async fn snapshot(&self, format: i64) -> Result<Option<Snapshot>> {
        let (first, rest) = tokio::sync::oneshot::channel();
        if let super::Backend::Sqlite = self.backend {
            let file = self.sqlite_file()?;
            tokio::task::spawn_blocking(move || sqlite_snapshot(&file, format, first));
        } else {
            let pool = self.pool.clone();
            tokio::spawn(postgres_snapshot(pool, format, first));
        }
        rest.await.map_err(|_| anyhow::anyhow!("the snapshot's read ended without an answer"))?
    }

    /// The data version of the stored snapshot, 0 when there is none or its payloads are not
    /// of `format`.
    pub async fn snapshot_version(&self, format: i64) -> Result<i64> {
        let stored = self.state("snapshot_format").await?.and_then(|v| v.parse().ok()).unwrap_or(1);
        if stored != format {
            return Ok(0);
        }
        Ok(self.state("snapshot_version").await?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Stores the snapshot of `data_version`, its payloads of `format`: `quarters` are the
    /// payloads of the quarters that differ from the stored version's (all of them when
    /// `replace_all`). A writer that finds a newer or equal version of the same format stored
    /// leaves it. Returns whether it wrote.
    pub async fn put_snapshot(
        &self,
        data_version: i64,
        computed_at: &str,
        format: i64,
        replace_all: bool,
        quarters: Vec<QuarterPayload>,
    ) -> Result<bool> {
        let (_guard, mut tx) = self.write().await?;
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM app_state WHERE key IN ('snapshot_version', 'snapshot_format')")
                .fetch_all(&mut *tx)
                .await?;
        let get = |k: &str| stored.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.parse::<i64>().ok());
        let same_format = get("snapshot_format").unwrap_or(1) == format;
        // Only the quarters that changed would leave the others in another format.
        if (same_format && get("snapshot_version").is_some_and(|v| v >= data_version)) || (!same_format && !replace_all)
        {
            return Ok(false);
        }
        if replace_all {
            sqlx::query("DELETE FROM snapshot_quarters").execute(&mut *tx).await?;
        }
        for q in quarters {
            sqlx::query(
                "INSERT INTO snapshot_quarters (period_index, head, payload) VALUES ($1, $2, $3) \
                 ON CONFLICT (period_index) DO UPDATE SET head = excluded.head, payload = excluded.payload",
            )
            .bind(i64::from(q.period.index()))
            .bind(q.head)
            .bind(q.body)
            .execute(&mut *tx)
            .await?;
        }
        for (key, value) in [
            ("snapshot_version", data_version.to_string()),
            ("snapshot_computed_at", computed_at.into()),
            ("snapshot_format", format.to_string()),
        ] {
            sqlx::query(
                "INSERT INTO app_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

type First = tokio::sync::oneshot::Sender<Result<Option<Snapshot>>>;

/// A snapshot read's two ends: the answer the start waits for (heads and latest body, or none,
/// or the error), then the other bodies, to whoever waits for them.
struct Reply {
    first: Option<First>,
    /// Weak: once every reader has let go of the bodies, the read stops.
    bodies: Option<std::sync::Weak<Bodies>>,
}

impl Reply {
    fn new(first: First) -> Self {
        Self { first: Some(first), bodies: None }
    }

    /// There is no snapshot of the format asked for.
    fn none(&mut self) {
        if let Some(f) = self.first.take() {
            let _ = f.send(Ok(None));
        }
    }

    /// Answers with the heads and the latest body; the `Bodies` the rest goes to.
    fn started(&mut self, state: State, heads: Vec<(Quarter, Vec<u8>)>, latest: Option<Vec<u8>>) -> Arc<Bodies> {
        let bodies = Arc::new(Bodies::default());
        if let (Some((p, _)), Some(body)) = (heads.last(), latest) {
            bodies.put(*p, body);
        }
        let snapshot = Snapshot {
            data_version: state.data_version,
            computed_at: state.computed_at,
            heads,
            bodies: bodies.clone(),
        };
        self.bodies = Some(Arc::downgrade(&bodies));
        if let Some(f) = self.first.take() {
            let _ = f.send(Ok(Some(snapshot)));
        }
        bodies
    }

    /// The read has ended: a failure goes to the start if it has no answer yet, else to the
    /// readers waiting for bodies.
    fn end(mut self, read: Result<()>) {
        match (self.bodies.take(), self.first.take()) {
            (Some(b), _) => {
                if let Some(b) = b.upgrade() {
                    b.end(read)
                }
            }
            (None, Some(f)) => {
                let _ = f.send(read.map(|()| None));
            }
            (None, None) => {}
        }
    }
}

/// A read dropped before it ended (its task cancelled as the runtime shuts down) tells whoever
/// waits for a body, rather than leave them waiting; the start learns it from its channel.
impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(b) = self.bodies.take().and_then(|b| b.upgrade()) {
            b.end(Err(anyhow::anyhow!("the read was stopped before it ended")));
        }
    }
}

/// `Store::snapshot` on the SQLite file `file`: answers `first`, then reads the other bodies.
fn sqlite_snapshot(file: &std::path::Path, format: i64, first: First) {
    use rusqlite::OpenFlags;
    let mut reply = Reply::new(first);
    let read = (|| -> Result<()> {
        let mut db = rusqlite::Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        db.busy_timeout(std::time::Duration::from_secs(30))?;
        let tx = db.transaction()?;
        let rows: Vec<(String, String)> =
            tx.prepare(STATE)?.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let Some(state) = state_of(&rows, format) else {
            reply.none();
            return Ok(());
        };
        let blob = |r: &rusqlite::Row, i| -> rusqlite::Result<Vec<u8>> { Ok(r.get_ref(i)?.as_blob()?.to_vec()) };
        let period =
            |r: &rusqlite::Row| -> rusqlite::Result<Quarter> { Ok(Quarter::from_index(r.get::<_, i64>(0)? as i32)) };
        let heads: Vec<(Quarter, Vec<u8>)> = tx
            .prepare("SELECT period_index, head FROM snapshot_quarters ORDER BY period_index")?
            .query_map([], |r| Ok((period(r)?, blob(r, 1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let newest = heads.last().map(|(p, _)| i64::from(p.index()));
        let latest = match newest {
            Some(p) => Some(
                tx.prepare("SELECT payload FROM snapshot_quarters WHERE period_index = ?1")?
                    .query_row([p], |r| blob(r, 0))?,
            ),
            None => None,
        };
        let rest = reply.started(state, heads, latest);
        let mut older = tx.prepare(
            "SELECT period_index, payload FROM snapshot_quarters WHERE period_index < ?1 ORDER BY period_index DESC",
        )?;
        let mut rows = older.query([newest.unwrap_or(i64::MIN)])?;
        while let Some(r) = rows.next()? {
            if !rest.put_when_room(period(r)?, blob(r, 1)?) {
                break;
            }
        }
        Ok(())
    })();
    reply.end(read);
}

/// `Store::snapshot` on PostgreSQL: answers `first`, then reads the other bodies, in one
/// repeatable-read transaction.
async fn postgres_snapshot(pool: sqlx::AnyPool, format: i64, first: First) {
    use futures_util::TryStreamExt;
    let mut reply = Reply::new(first);
    let read = async {
        let mut tx = pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(STATE).fetch_all(&mut *tx).await?;
        let Some(state) = state_of(&rows, format) else {
            reply.none();
            return Ok(());
        };
        let period = |r: &sqlx::any::AnyRow| -> Result<Quarter> { Ok(Quarter::from_index(r.try_get::<i64, _>(0)? as i32)) };
        let heads = sqlx::query("SELECT period_index, head FROM snapshot_quarters ORDER BY period_index")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((period(r)?, r.try_get::<Vec<u8>, _>(1)?)))
            .collect::<Result<Vec<_>>>()?;
        let newest = heads.last().map(|(p, _)| i64::from(p.index()));
        let latest = match newest {
            Some(p) => Some(
                sqlx::query_scalar::<_, Vec<u8>>("SELECT payload FROM snapshot_quarters WHERE period_index = $1")
                    .bind(p)
                    .fetch_one(&mut *tx)
                    .await?,
            ),
            None => None,
        };
        let rest = reply.started(state, heads, latest);
        {
            let mut rows = sqlx::query(
                "SELECT period_index, payload FROM snapshot_quarters WHERE period_index < $1 ORDER BY period_index DESC",
            )
            .bind(newest.unwrap_or(i64::MIN))
            .fetch(&mut *tx);
            // Not paused as the SQLite read is: this read runs on the runtime's workers, and a
            // reader who waits for a body blocks one of them; a read that waited for room could
            // then wait on the very worker it needs. It stops when no one is left to take a body.
            while let Some(r) = rows.try_next().await? {
                if Arc::strong_count(&rest) == 1 {
                    break;
                }
                rest.put(period(&r)?, r.try_get(1)?);
            }
        }
        tx.commit().await?;
        anyhow::Ok(())
    }
    .await;
    reply.end(read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_waited_for_given_once_and_a_failed_read_is_reported() {
        let bodies = Arc::new(Bodies::default());
        let (p, q) = (Quarter::from_index(8100), Quarter::from_index(8101));
        let reader = {
            let bodies = bodies.clone();
            std::thread::spawn(move || bodies.take(p))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        bodies.put(p, b"body".to_vec());
        assert_eq!(reader.join().unwrap().unwrap(), b"body");
        bodies.end(Err(anyhow::anyhow!("the database went away")));
        let again = bodies.take(p).unwrap_err().to_string();
        assert!(again.contains("the database went away"), "{again}");
        let fine = Bodies::default();
        fine.end(Ok(()));
        assert!(fine.take(q).unwrap_err().to_string().contains("no body"));
    }

    #[test]
    fn the_read_pauses_a_few_bodies_ahead_goes_on_for_a_reader_further_on_and_stops_when_none_is_left() {
        let bodies = Arc::new(Bodies::default());
        let quarters: Vec<Quarter> = (0..6).map(|k| Quarter::from_index(8110 - k)).collect();
        let (put, puts) = std::sync::mpsc::channel();
        let read = {
            let (bodies, quarters) = (bodies.clone(), quarters.clone());
            std::thread::spawn(move || {
                for p in quarters {
                    if !bodies.put_when_room(p, vec![1]) {
                        return false;
                    }
                    put.send(p).unwrap();
                }
                true
            })
        };
        let wait = std::time::Duration::from_millis(300);
        assert_eq!(puts.recv_timeout(wait).unwrap(), quarters[0]);
        assert_eq!(puts.recv_timeout(wait).unwrap(), quarters[1]);
        assert!(puts.recv_timeout(wait).is_err(), "the read pauses {AHEAD} bodies ahead");
        // A reader waiting for the fourth body lets the read go on past the limit, up to it.
        assert_eq!(bodies.take(quarters[3]).unwrap(), vec![1]);
        assert_eq!(puts.recv_timeout(wait).unwrap(), quarters[2]);
        assert_eq!(puts.recv_timeout(wait).unwrap(), quarters[3]);
        assert!(puts.recv_timeout(wait).is_err(), "and pauses again");
        assert_eq!(bodies.take(quarters[0]).unwrap(), vec![1]);
        assert!(puts.recv_timeout(wait).is_err(), "two bodies still wait");
        assert_eq!(bodies.take(quarters[1]).unwrap(), vec![1]);
        assert_eq!(puts.recv_timeout(wait).unwrap(), quarters[4]);
        // Once no reader holds the bodies, the read stops rather than wait for room.
        drop(bodies);
        assert!(!read.join().unwrap(), "the read stopped");
        assert!(puts.try_recv().is_err());
    }
}
