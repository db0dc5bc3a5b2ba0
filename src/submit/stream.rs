//! A metric CSV streamed from disk into the store: validated on one thread while the store
//! writes the valid rows on another, inside one transaction.

use super::{Actor, Answer, Options, trace_outcome};
use crate::domain::{Errors, Reference};
use crate::ingest::metrics::Rules;
use crate::store::{NewSubmission, Store, SubmissionKind};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

/// How many valid rows the validator hands the store at a time.
const CHUNK: usize = 8192;

/// Submits a metric CSV from disk, as `submit` would submit its bytes, streamed:
/// it is read and validated on one thread while the store writes the valid rows on another,
/// inside the submission's transaction, so that memory stays the same however long the file
/// (see `Store::store_metric_feed`).
pub(super) async fn submit_file(
    store: &Store,
    reference: &Reference,
    actor: &Actor,
    path: &std::path::Path,
    filename: Option<String>,
    options: Options,
) -> Result<Answer> {
    let (today, dry_run) = (options.today, options.dry_run);
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let (sender, feed) = tokio::sync::mpsc::channel(4);
    let end_sender = sender.clone();
    let (reference, actor_for_rules, send) = (reference.clone(), actor.clone(), !dry_run);
    // Answers (valid rows, content hash, data rows, errors).
    let validator = tokio::task::spawn_blocking(move || -> Result<(usize, String, usize, Errors)> {
        let rules = Rules::of(&reference, today, &actor_for_rules);
        let mut input = Tally::new(std::io::BufReader::with_capacity(1 << 16, file));
        let (mut chunk, mut valid) = (Vec::with_capacity(CHUNK), 0);
        let errors =
            crate::ingest::metrics::stream_csv(&mut input, &rules, crate::ingest::metrics::CSV_METRICS, |row| {
                valid += 1;
                if send {
                    chunk.push(row);
                    if chunk.len() == CHUNK {
                        // A closed channel means the store has failed: its error is the answer.
                        let _ = sender.blocking_send(crate::store::Feed::Rows(std::mem::take(&mut chunk)));
                    }
                }
            });
        // The whole file counts towards its hash and its rows, even after a row that stops the reader.
        let rest = std::io::copy(&mut input, &mut std::io::sink());
        if let Some(e) = input.error.take() {
            return Err(e.into());
        }
        rest?;
        if errors.is_empty() && !chunk.is_empty() {
            let _ = sender.blocking_send(crate::store::Feed::Rows(chunk));
        }
        let (content_hash, rows) = input.finish();
        Ok((valid, content_hash, rows, errors))
    });
    if dry_run {
        let (valid, _, rows, errors) = validator.await??;
        return Ok(if errors.is_empty() {
            Answer::DryRun { status: "valid", rows: valid, errors }
        } else {
            Answer::DryRun { status: "rejected", rows, errors }
        });
    }
    // The content hash is known at the end of the file, and sent with it.
    let sub = NewSubmission::by(actor, SubmissionKind::Metrics, String::new(), filename);
    // The end of the file is sent from here once the validator has sent its last rows.
    let (stored, ended) = tokio::join!(store.store_metric_feed(&sub, feed), async {
        let (_, content_hash, rows, errors) = validator.await??;
        let _ = end_sender.send(crate::store::Feed::End { content_hash, rows, errors }).await;
        anyhow::Ok(())
    });
    ended?;
    let stored = stored?;
    trace_outcome(&stored);
    Ok(Answer::Stored(stored))
}

/// Reads through, hashing the bytes and counting the data lines as `data_lines` does, and keeps
/// a read error for the caller (the CSV reader would report it as the end of the file).
struct Tally<R> {
    inner: R,
    hash: Sha256,
    lines: usize,
    line_has_text: bool,
    error: Option<std::io::Error>,
}

impl<R> Tally<R> {
    fn new(inner: R) -> Self {
        Self { inner, hash: Sha256::new(), lines: 0, line_has_text: false, error: None }
    }

    /// The content hash, and the lines after the header that are not blank.
    fn finish(self) -> (String, usize) {
        let lines = self.lines + usize::from(self.line_has_text);
        (hex::encode(self.hash.finalize()), lines.saturating_sub(1))
    }
}

impl<R: std::io::Read> std::io::Read for Tally<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.inner.read(out) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let kind = e.kind();
                self.error = Some(e);
                return Err(kind.into());
            }
        };
        self.hash.update(&out[..n]);
        for b in &out[..n] {
            if *b == b'\n' {
                self.lines += usize::from(self.line_has_text);
                self.line_has_text = false;
            } else if !b.is_ascii_whitespace() {
                self.line_has_text = true;
            }
        }
        Ok(n)
    }
}
