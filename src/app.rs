//! The application: shared state, start-up (database, reference data, demo data, figures),
//! the router and the server.

use crate::config::Config;
use crate::demo::{DemoOptions, quarter_rows};
use crate::domain::Quarter;
use crate::figures::Figures;
use crate::store::Store;
use crate::submit::{Answer, Submitter, submit_metrics};
use anyhow::{Context, Result};
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;

/// What every handler shares: the store, the current figures and the configuration.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub limiter: Arc<crate::auth::rate::SignInLimiter>,
    /// Rendered pages of the current data version, before the account links are added.
    pub pages: Arc<PageCache>,
    figures: Arc<RwLock<Arc<Figures>>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
    snapshot_pending: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    pub fn new(store: Store, config: Config, figures: Arc<Figures>) -> Self {
        Self {
            store,
            config: Arc::new(config),
            limiter: Arc::default(),
            pages: Arc::default(),
            figures: Arc::new(RwLock::new(figures)),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            snapshot_pending: Arc::default(),
        }
    }

    /// The figures of the latest data version this instance has loaded.
    pub fn figures(&self) -> Arc<Figures> {
        self.figures.read().expect("figures lock").clone()
    }

    /// Brings the figures up to the store's data version if it is newer than the ones held:
    /// after a submission here, or one made by another instance or the command line. Only the
    /// quarters the new values can change are recomputed; the snapshot that instances start
    /// from is then stored in the background.
    pub async fn refresh(&self) -> Result<()> {
        let _one_at_a_time = self.refresh.lock().await;
        let started = std::time::Instant::now();
        let previous = self.figures();
        let figures = Figures::refresh(previous.clone(), &self.store).await?;
        if Arc::ptr_eq(&figures, &previous) {
            return Ok(());
        }
        tracing::info!(
            from = previous.data_version,
            to = figures.data_version,
            milliseconds = started.elapsed().as_secs_f64() * 1000.0,
            "the figures are refreshed"
        );
        *self.figures.write().expect("figures lock") = figures.clone();
        self.pages.clear();
        if !self.snapshot_pending.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let state = self.clone();
            tokio::spawn(async move {
                // The newest figures when the previous write ends: writes never queue up.
                let latest = state.figures();
                if let Err(e) = latest.store_snapshot(&state.store).await {
                    tracing::warn!(error = ?e, "could not store the snapshot");
                }
                state.snapshot_pending.store(false, std::sync::atomic::Ordering::SeqCst);
            });
        }
        Ok(())
    }
}

/// Rendered pages, keyed by a string that starts with the data version; bounded in size.
#[derive(Default)]
pub struct PageCache {
    pages: std::sync::Mutex<std::collections::HashMap<String, Arc<String>>>,
}

impl PageCache {
    const MAX_PAGES: usize = 2000;

    pub fn get(&self, key: &str) -> Option<Arc<String>> {
        self.pages.lock().expect("page cache lock").get(key).cloned()
    }

    pub fn put(&self, key: String, html: String) {
        let mut pages = self.pages.lock().expect("page cache lock");
        if pages.len() >= Self::MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, Arc::new(html));
    }

    /// Drops every page, when the data version changes.
    pub fn clear(&self) {
        self.pages.lock().expect("page cache lock").clear();
    }
}

/// Opens the database, creating and migrating it when needed, and loads the reference data
/// into a database that has none.
pub async fn open_store(url: &str) -> Result<Store> {
    let store = Store::open(url).await?;
    let reference = crate::ingest::reference::bundled().context("reading the reference data in data/")?;
    if store.ensure_reference(&reference).await? {
        tracing::info!("loaded the reference data into a new database");
    }
    Ok(store)
}

/// Prepares everything `serve` needs: the store, demo data when asked, and the figures.
pub async fn prepare(config: Config) -> Result<AppState> {
    let store = open_store(&config.database_url).await?;
    if config.demo {
        load_demo(&store).await?;
    }
    let figures = Figures::load(&store).await?;
    Ok(AppState::new(store, config, figures))
}

/// Like `prepare`, but answers at once: the figures load in the background (from the stored
/// snapshot, or computed when there is none) and pages say so until they are ready.
pub async fn prepare_in_background(config: Config) -> Result<AppState> {
    let store = open_store(&config.database_url).await?;
    if config.demo {
        load_demo(&store).await?;
    }
    let state = AppState::new(store.clone(), config, Arc::new(Figures::loading(store.reference().await?)));
    let loader = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match loader.refresh().await {
            Ok(()) => tracing::info!(seconds = started.elapsed().as_secs_f64(), "the figures are loaded"),
            Err(e) => tracing::error!(error = ?e, "could not load the figures"),
        }
    });
    Ok(state)
}

/// Fills a database that has never had demo data with twelve quarters of demo submissions
/// (one per quarter) and one set of corrections, so that revisions show.
pub async fn load_demo(store: &Store) -> Result<()> {
    if store.state("demo_loaded").await?.is_some() {
        return Ok(());
    }
    let reference = store.reference().await?;
    let today = chrono::Utc::now().date_naive();
    let options = DemoOptions { trusts: None, quarters: 12, seed: 2016, end: Quarter::last_ended(today) };
    let who = Submitter { name: "demo".into(), source: "demo".into(), own_org: None };
    for q in 0..options.quarters {
        let rows = quarter_rows(&reference, &options, q);
        let period = rows.first().map(|r| r.2.to_string()).unwrap_or_default();
        let csv = rows_to_csv(rows.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2, r.3)))?;
        check(submit_metrics(store, &reference, today, csv, Some(format!("demo-{period}.csv")), &who, false).await?)?;
    }
    // A restatement: some trusts correct a few of their latest values.
    let latest = quarter_rows(&reference, &options, options.quarters - 1);
    let corrections: Vec<_> = latest
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 97 == 0)
        .filter_map(|(_, r)| {
            let m = reference.metric(&r.1)?;
            let span = m.scale_max - m.scale_min;
            let v = if r.3 + span * 0.05 <= m.scale_max { r.3 + span * 0.05 } else { r.3 - span * 0.05 };
            let v = if m.unit == crate::domain::Unit::Boolean { 1.0 - r.3 } else { (v * 10.0).round() / 10.0 };
            Some((r.0.as_str(), r.1.as_str(), r.2, v))
        })
        .collect();
    let csv = rows_to_csv(corrections.into_iter())?;
    check(submit_metrics(store, &reference, today, csv, Some("demo-corrections.csv".into()), &who, false).await?)?;
    let conformance = crate::demo::conformance_csv(&reference, options.seed, today);
    let format = crate::submit::Format::ConformanceCsv;
    let name = Some("demo-conformance.csv".to_string());
    check(crate::submit::submit(store, &reference, today, conformance, format, name, &who, false).await?)?;
    for (file, bytes) in DSPT_FILES {
        import_dspt(store, &reference, bytes, file, &who).await?;
    }
    for (email, role, org) in DEMO_USERS {
        let hash = crate::auth::password::hash(DEMO_PASSWORD.to_string()).await?;
        let by = crate::store::Actor::new("demo", None);
        store.add_user(email, *role, *org, Some(&hash), &by).await?;
    }
    store.set_state("demo_loaded", &crate::store::now_text()).await?;
    Ok(())
}

/// The published DSPT files shipped in `data/`, loaded with the demo data.
pub const DSPT_FILES: &[(&str, &[u8])] = &[
    ("dspt_trusts_2021_22.csv", include_bytes!("../data/dspt_trusts_2021_22.csv")),
    ("dspt_trusts_2022_23.csv", include_bytes!("../data/dspt_trusts_2022_23.csv")),
];

/// Loads a published DSPT file as one conformance submission; returns what it found.
pub async fn import_dspt(
    store: &Store,
    reference: &crate::domain::Reference,
    bytes: &[u8],
    filename: &str,
    who: &Submitter,
) -> Result<(crate::ingest::dspt::DsptImport, crate::store::Outcome)> {
    let found = crate::ingest::dspt::parse_dspt(bytes, reference)?;
    let sub = crate::store::NewSubmission {
        kind: crate::store::SubmissionKind::Conformance,
        content_hash: crate::submit::content_hash(bytes),
        submitted_by: who.name.clone(),
        source: "dspt".into(),
        filename: Some(filename.to_string()),
        org_code: None,
    };
    let outcome = store.store_conformance_rows(&sub, &found.rows).await?;
    Ok((found, outcome))
}

/// The demo accounts, one per role, created with the demo data only.
pub const DEMO_USERS: &[(&str, crate::domain::Role, Option<&str>)] = &[
    ("trust@example.org", crate::domain::Role::Trust, Some("RGT")),
    ("board@example.org", crate::domain::Role::Board, None),
    ("analyst@example.org", crate::domain::Role::Analyst, None),
    ("admin@example.org", crate::domain::Role::Admin, None),
];

/// The demo accounts' password; no other account has a default password.
pub const DEMO_PASSWORD: &str = "exemplar-demo";

fn rows_to_csv<'a>(rows: impl Iterator<Item = (&'a str, &'a str, Quarter, f64)>) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["org_code", "metric_id", "period", "value"])?;
    for (org, metric, period, value) in rows {
        w.write_record([org, metric, &period.to_string(), &crate::demo::format_value(value)])?;
    }
    Ok(w.into_inner()?)
}

fn check(answer: Answer) -> Result<()> {
    if answer.is_rejected() {
        anyhow::bail!("the demo data was rejected: {answer:?}");
    }
    Ok(())
}

/// Serves on `listener` until interrupted, keeping the figures in step with the database.
pub async fn serve(listener: TcpListener, state: AppState) -> Result<()> {
    let poller = state.clone();
    // At least every 10 ms: a look at the data version is one small query.
    let every = std::time::Duration::from_secs_f64(state.config.poll_seconds.max(0.01));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = poller.refresh().await {
                tracing::warn!(error = ?e, "could not refresh the figures");
            }
        }
    });
    let app = crate::web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
