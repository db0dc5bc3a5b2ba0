//! What every handler shares: the store, the figures, the page cache, the clock and the
//! configuration; and bringing the figures up to the store's data version.

use crate::config::Config;
use crate::figures::Figures;
use crate::store::Store;
use anyhow::Result;
use std::sync::{Arc, RwLock};

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
    /// Today's date, which decides the standards in force; set by hand only in tests.
    pub clock: Arc<Clock>,
    /// Whether the figures held are loaded (not the placeholder of a start), for the front
    /// layer to read without the lock.
    loaded: Arc<std::sync::atomic::AtomicBool>,
    /// The key visitors' CSRF tokens are derived under, read from the database when first needed.
    csrf_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
    /// The figures of the releases asked for lately, by release id (a release never changes).
    releases: Arc<std::sync::Mutex<KeptReleases>>,
    /// The board's findings: pages show them on every request, and they change seldom.
    findings: Arc<Fresh<Vec<crate::store::Finding>>>,
    /// The release list: every visitor's and trust user's request asks which is the newest.
    releases_read: Arc<Fresh<Vec<crate::store::Release>>>,
    /// The published blueprints: the trust and metric pages show them on each request.
    blueprints: Arc<Fresh<Vec<crate::store::Blueprint>>>,
    /// Every saved peer group: pages that take a peer group list those the reader may see.
    peer_groups: Arc<Fresh<Vec<crate::store::PeerGroup>>>,
    /// The NHS App uptake figures and the data version they were computed at.
    uptake: Arc<tokio::sync::Mutex<Option<(i64, UptakeFigures)>>>,
}

/// A list read from the store and kept for `FRESH`: a change made on this server forgets it at
/// once; one made by another instance or the command line is seen within `FRESH`.
/// The NHS App uptake figures of one data version.
type UptakeFigures = Arc<Vec<crate::analytics::uptake::UptakeFigure>>;

pub struct Fresh<T> {
    kept: std::sync::Mutex<Option<(std::time::Instant, Arc<T>)>>,
}

impl<T> Default for Fresh<T> {
    fn default() -> Self {
        Self { kept: std::sync::Mutex::new(None) }
    }
}

impl<T> Fresh<T> {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(5);

    /// The list kept, or `read` again when it is older than `FRESH` or forgotten.
    async fn get(&self, read: impl std::future::Future<Output = Result<T>>) -> Result<Arc<T>> {
        if let Some((at, kept)) = self.kept.lock().expect("kept list lock").as_ref()
            && at.elapsed() < Self::FRESH
        {
            return Ok(kept.clone());
        }
        let read = Arc::new(read.await?);
        *self.kept.lock().expect("kept list lock") = Some((std::time::Instant::now(), read.clone()));
        Ok(read)
    }

    fn forget(&self) {
        *self.kept.lock().expect("kept list lock") = None;
    }
}

/// The releases' figures kept, newest asked for first, by release id.
type KeptReleases = Vec<(String, Arc<Figures>)>;

/// Today's date in UTC, or a date set by hand.
#[derive(Debug, Default)]
pub struct Clock {
    fixed: RwLock<Option<chrono::NaiveDate>>,
}

impl Clock {
    pub fn today(&self) -> chrono::NaiveDate {
        self.fixed.read().expect("clock lock").unwrap_or_else(|| chrono::Utc::now().date_naive())
    }

    /// Fixes the date (`None`: back to the real one).
    pub fn set_today(&self, date: Option<chrono::NaiveDate>) {
        *self.fixed.write().expect("clock lock") = date;
    }
}

impl AppState {
    pub fn new(store: Store, config: Config, figures: Arc<Figures>) -> Self {
        Self {
            store,
            config: Arc::new(config),
            limiter: Arc::default(),
            csrf_key: Arc::default(),
            releases: Arc::default(),
            findings: Arc::default(),
            releases_read: Arc::default(),
            peer_groups: Arc::default(),
            blueprints: Arc::default(),
            uptake: Arc::default(),
            pages: Arc::default(),
            loaded: Arc::new(std::sync::atomic::AtomicBool::new(!figures.loading)),
            figures: Arc::new(RwLock::new(figures)),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            snapshot_pending: Arc::default(),
            clock: Arc::default(),
        }
    }

    /// Today's date, for the standards in force.
    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// What the front layer needs to know of the figures: whether they are loaded.
    pub fn readiness(&self) -> super::middleware::Readiness {
        let wait = std::time::Duration::from_secs_f64(self.config.load_wait_seconds.max(0.0));
        super::middleware::Readiness { loaded: self.loaded.clone(), wait }
    }

    /// The NHS App uptake figures of the store's data version, computed once per data version
    /// (docs/RULES.md §9.3); one computation at a time.
    pub async fn uptake(&self) -> Result<UptakeFigures> {
        let version = self.store.data_version().await?;
        let mut kept = self.uptake.lock().await;
        if let Some((v, figures)) = kept.as_ref()
            && *v == version
        {
            return Ok(figures.clone());
        }
        let values = self.store.uptake().await?;
        let figures =
            Arc::new(tokio::task::spawn_blocking(move || crate::analytics::uptake::uptake_figures(&values)).await?);
        *kept = Some((version, figures.clone()));
        Ok(figures)
    }

    /// The figures of the latest data version this instance has loaded.
    pub fn figures(&self) -> Arc<Figures> {
        self.figures.read().expect("figures lock").clone()
    }

    /// Brings the figures up to the store's data version if it is newer than the ones held:
    /// after a submission here, or one made by another instance or the command line. Only the
    /// quarters the new values can change are recomputed; the snapshot that instances start
    /// from is then stored in the background.
    #[tracing::instrument(skip_all, fields(from = tracing::field::Empty))]
    /// A release's figures: recomputed from the revision history at its data version the first
    /// time, then kept (the last few releases asked for).
    pub async fn release_figures(&self, release: &crate::store::Release) -> Result<Arc<Figures>> {
        const KEPT: usize = 4;
        if let Some((_, f)) = self.releases.lock().expect("releases lock").iter().find(|(id, _)| *id == release.id) {
            return Ok(f.clone());
        }
        let cut = crate::store::Cut::Version(release.data_version);
        let f = Figures::at(&self.store, cut, release.published_at.clone()).await?;
        let mut kept = self.releases.lock().expect("releases lock");
        kept.retain(|(id, _)| *id != release.id);
        kept.insert(0, (release.id.clone(), f.clone()));
        kept.truncate(KEPT);
        Ok(f)
    }

    /// The figures a request is shown (`auth::Shown`): the provisional ones, a release's, or
    /// none before anything is published.
    pub async fn shown_figures(&self, shown: &crate::auth::Shown) -> Result<Arc<Figures>> {
        use crate::auth::Shown;
        match shown {
            Shown::Provisional => Ok(self.figures()),
            Shown::Release(release) => self.release_figures(release).await,
            Shown::Unpublished => {
                let none = crate::store::Release {
                    id: "unpublished".into(),
                    quarter: String::new(),
                    sequence: 0,
                    data_version: 0,
                    published_at: String::new(),
                    published_by: String::new(),
                    note: String::new(),
                    changes: String::new(),
                };
                self.release_figures(&none).await
            }
        }
    }

    /// The board's findings, newest first (kept: see `Fresh`).
    pub async fn findings(&self) -> Result<Arc<Vec<crate::store::Finding>>> {
        self.findings.get(self.store.findings()).await
    }

    /// Drops the findings kept, after a change to them.
    pub fn forget_findings(&self) {
        self.findings.forget();
    }

    /// The published blueprints, newest first (kept: see `Fresh`).
    pub async fn published_blueprints(&self) -> Result<Arc<Vec<crate::store::Blueprint>>> {
        let read =
            async { Ok(self.store.blueprints().await?.into_iter().filter(|b| b.status == "published").collect()) };
        self.blueprints.get(read).await
    }

    /// Drops the blueprints kept, after one is submitted or reviewed.
    pub fn forget_blueprints(&self) {
        self.blueprints.forget();
    }

    /// Every saved peer group, by name (kept: see `Fresh`).
    pub async fn peer_groups(&self) -> Result<Arc<Vec<crate::store::PeerGroup>>> {
        self.peer_groups.get(self.store.peer_groups()).await
    }

    /// Drops the peer groups kept, after a change to one.
    pub fn forget_peer_groups(&self) {
        self.peer_groups.forget();
    }

    /// The published releases, newest first (kept: see `Fresh`).
    pub async fn releases(&self) -> Result<Arc<Vec<crate::store::Release>>> {
        self.releases_read.get(self.store.releases()).await
    }

    /// Drops the release list kept, after a publication.
    pub fn forget_releases(&self) {
        self.releases_read.forget();
    }

    /// The key visitors' CSRF tokens are derived under (`auth::visitor_csrf`).
    pub async fn csrf_key(&self) -> Result<Vec<u8>> {
        Ok(self.csrf_key.get_or_try_init(|| self.store.secret("csrf")).await?.clone())
    }

    /// Deletes what is kept only for a while: expired and idle sessions, stale previews.
    pub async fn purge(&self) -> Result<()> {
        let (sessions, uploads) =
            (self.store.purge_sessions(crate::auth::session_idle()).await?, self.store.purge_uploads().await?);
        if sessions + uploads > 0 {
            tracing::info!(sessions, uploads, "purged expired sessions and stale previews");
        }
        Ok(())
    }

    pub async fn refresh(&self) -> Result<()> {
        let _one_at_a_time = self.refresh.lock().await;
        let started = std::time::Instant::now();
        let previous = self.figures();
        tracing::Span::current().record("from", previous.data_version);
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
        self.loaded.store(!figures.loading, std::sync::atomic::Ordering::Release);
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
    pages: std::sync::Mutex<std::collections::HashMap<String, Arc<super::CachedPage>>>,
}

impl PageCache {
    const MAX_PAGES: usize = 2000;

    pub fn get(&self, key: &str) -> Option<Arc<super::CachedPage>> {
        self.pages.lock().expect("page cache lock").get(key).cloned()
    }

    pub fn put(&self, key: String, page: Arc<super::CachedPage>) {
        let mut pages = self.pages.lock().expect("page cache lock");
        if pages.len() >= Self::MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, page);
    }

    /// Drops every page, when the data version changes.
    pub fn clear(&self) {
        self.pages.lock().expect("page cache lock").clear();
    }
}
