//! The application: start-up (database, reference data, demo data, figures) and the server.

use crate::config::Config;
use crate::demo::seed::load_demo;
use crate::figures::Figures;
use crate::store::Store;
pub use crate::web::AppState;
use anyhow::{Context, Result};
use std::sync::Arc;
use tokio::net::TcpListener;

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
/// snapshot, or computed when there is none); until they are ready, reads that show figures
/// wait for them and then answer 503 (`web::middleware::front`).
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

/// Serves on `listener` until interrupted, keeping the figures in step with the database.
pub async fn serve(listener: TcpListener, state: AppState) -> Result<()> {
    serve_until(listener, state, stopped()).await
}

/// Serves on `listener` until `stop` completes (see `stopped`).
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
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
    // Sessions and tokens are kept in memory for seconds; a sign-out or revocation anywhere
    // empties every instance's within `WATCH_EVERY`.
    tokio::spawn(state.store.clone().watch_auth());
    let purger = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10 * 60));
        loop {
            every.tick().await;
            if let Err(e) = purger.purge().await {
                tracing::warn!(error = ?e, "could not purge expired sessions and previews");
            }
        }
    });
    let app = crate::web::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(stop).await?;
    Ok(())
}

/// A stop asked for: Ctrl+C, or the SIGTERM with which service managers and containers stop a
/// server. The handlers are in place when this returns (a signal that comes before the future
/// is first awaited still stops the server, rather than killing it).
pub fn stopped() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (int, term) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()));
        async move {
            match (int, term) {
                (Ok(mut int), Ok(mut term)) => {
                    tokio::select! {
                        _ = int.recv() => {}
                        _ = term.recv() => {}
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
