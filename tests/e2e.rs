//! End to end: the real server on port 0 with a fresh database and the demo data; every page,
//! every export, and the benchmarks checked against the values the export itself lists.

mod common;

use common::{TestApp, TestDb, parse_csv};
use std::collections::HashMap;

const PAGES: &[&str] = &[
    "/",
    "/?period=2025/26 Q1",
    "/metrics",
    "/metrics/digital_leadership_capability",
    "/trusts",
    "/trusts?q=leeds",
    "/trusts/RGT",
    "/standards",
    "/gaps",
    "/methods",
    "/export",
];

const EXPORTS: &[(&str, &str)] = &[
    ("organisations", "org_code,org_name,trust_type,region,icb,exemplar,exemplar_cohort"),
    ("metrics", "metric_id,domain,name,unit,scale_min,scale_max,direction,applies_to"),
    (
        "values",
        "org_code,org_name,trust_type,region,icb,exemplar,metric_id,domain,period,period_start,period_end,value,revision,submitted_at",
    ),
    (
        "benchmarks",
        "metric_id,domain,period,peer_group,n,min,p25,median,p75,max,mean,exemplar_n,exemplar_median,national_median",
    ),
    (
        "trust_benchmarks",
        "org_code,trust_type,metric_id,period,value,rank,percentile,quartile,score,gap_to_exemplar,gap_to_median,behind_best_practice",
    ),
    ("indices", "org_code,trust_type,period,domain,domain_index,n_metrics,n_applicable"),
    ("trends", "org_code,metric_id,period,change,slope,trend"),
    ("gaps", "metric_id,period,peer_group,n,n_behind,share_behind,median_gap"),
    ("conformance", "subject,subject_kind,standard_id,result,assessed_on,assessor,current"),
    ("systems", "system_id,supplier,product,version,procurable,failing_standards"),
    ("trust_conformance", "org_code,required,passed,conformance_rate,failing"),
];

#[tokio::test]
async fn the_demo_server_shows_every_page_and_export_with_consistent_figures() {
    let app = TestApp::spawn(true).await;

    let (status, health) = app.text("/healthz").await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    // Twelve quarters, one set of corrections, the demo conformance results and two DSPT files.
    assert_eq!(health["data_version"], 17);

    for page in PAGES {
        let (status, body) = app.text(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(
            body.contains("data version 17") || !body.contains("Figures computed"),
            "{page} names its data version"
        );
        assert!(body.contains("<html lang=\"en\">"), "{page}");
    }
    let (_, overview) = app.text("/").await;
    assert!(overview.contains("<svg") && overview.contains("role=\"img\""), "the overview has a chart");
    assert!(overview.contains("Exemplar trust"), "exemplar trusts are marked in the legend");
    let (_, metric) = app.text("/metrics/digital_leadership_capability").await;
    assert_eq!(metric.matches("<desc id=").count(), 2, "distribution and trend charts");
    assert!(metric.contains("Lower quartile") && metric.contains("Exemplar median"));
    let (_, trust) = app.text("/trusts/RGT").await;
    assert!(trust.contains("Spine chart of"), "the trust page has a spine chart");
    assert!(trust.contains("Cambridge University Hospitals"));

    for (name, header) in EXPORTS {
        let response = app.get(&format!("/export/{name}.csv")).await;
        assert_eq!(response.status().as_u16(), 200, "{name}");
        assert_eq!(response.headers()["x-data-version"], "17");
        let body = response.text().await.unwrap();
        assert_eq!(body.lines().next().unwrap(), *header, "{name} columns");
        assert!(body.lines().count() > 5, "{name} has rows");
    }

    let (_, values) = app.text("/export/values.csv").await;
    let (_, benchmarks) = app.text("/export/benchmarks.csv").await;
    check_benchmarks_against_values(&values, &benchmarks);

    let (status, _) = app.text("/metrics/no_such_metric").await;
    assert_eq!(status, 404);
    let (status, _) = app.text("/export/benchmarks.csv?period=2024-Q5").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn exports_take_their_filters() {
    let app = TestApp::spawn(true).await;
    let (_, body) = app.text("/export/trust_benchmarks.csv?peer_group=ambulance&period=2025/26 Q1&metric_id=digital_leadership_capability").await;
    let (_, rows) = parse_csv(&body);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[1] == "ambulance" && r[2] == "digital_leadership_capability" && r[3] == "2025-Q2"));
    let (_, body) = app.text("/export/values.csv?region=London&org_code=RJ1").await;
    let (_, rows) = parse_csv(&body);
    assert!(!rows.is_empty() && rows.iter().all(|r| r[0] == "RJ1" && r[3] == "London"));
    let (_, body) = app.text("/export/values.csv?region=North West&org_code=RJ1").await;
    assert_eq!(parse_csv(&body).1.len(), 0, "RJ1 is not in the North West");
}

#[tokio::test]
async fn starting_again_reuses_the_database_and_duplicates_nothing() {
    let db = TestDb::new();
    let url = db.url.clone();
    let first = TestApp::spawn_on(db, true).await;
    let values = first.state.figures().value_count();
    let version = first.state.figures().data_version;
    let again = TestApp::spawn_on(first.db, true).await;
    assert_eq!(again.db.url, url);
    assert_eq!(again.state.figures().value_count(), values);
    assert_eq!(again.state.figures().data_version, version);
}

#[tokio::test]
async fn without_demo_data_the_pages_say_there_is_no_data_yet() {
    let app = TestApp::spawn(false).await;
    assert_eq!(app.state.figures().data_version, 0);
    for page in ["/", "/trusts/RGT", "/metrics/digital_leadership_capability", "/gaps", "/standards"] {
        let (status, body) = app.text(page).await;
        assert_eq!(status, 200, "{page}");
        assert!(!body.contains("NaN"), "{page}");
    }
    let (_, overview) = app.text("/").await;
    assert!(overview.contains("No values have been submitted yet."));
    let (_, orgs) = app.text("/export/organisations.csv").await;
    assert!(parse_csv(&orgs).1.len() > 180);
}

/// Recomputes n, min, quartiles (type 7), max, mean and the exemplar and national medians
/// from values.csv and compares them with benchmarks.csv.
fn check_benchmarks_against_values(values: &str, benchmarks: &str) {
    let (vh, vrows) = parse_csv(values);
    let at = |name: &str| vh.iter().position(|h| h == name).unwrap();
    let (org, tt, ex, metric, period, value) =
        (at("org_code"), at("trust_type"), at("exemplar"), at("metric_id"), at("period"), at("value"));
    let mut groups: HashMap<(String, String, String), Vec<(f64, bool)>> = HashMap::new();
    let mut national: HashMap<(String, String), Vec<f64>> = HashMap::new();
    for r in &vrows {
        let v: f64 = r[value].parse().unwrap();
        assert!(!r[org].is_empty());
        groups.entry((r[metric].clone(), r[period].clone(), r[tt].clone())).or_default().push((v, r[ex] != "none"));
        national.entry((r[metric].clone(), r[period].clone())).or_default().push(v);
    }
    let (bh, brows) = parse_csv(benchmarks);
    assert_eq!(brows.len(), groups.len(), "one benchmark row per metric, quarter and peer group");
    let col = |name: &str| bh.iter().position(|h| h == name).unwrap();
    for r in &brows {
        let key = (r[col("metric_id")].clone(), r[col("period")].clone(), r[col("peer_group")].clone());
        let g = &groups[&key];
        let all = sorted(g.iter().map(|p| p.0).collect());
        let ex = sorted(g.iter().filter(|p| p.1).map(|p| p.0).collect());
        let nat = sorted(national[&(key.0.clone(), key.1.clone())].clone());
        let num = |name: &str| r[col(name)].parse::<f64>().unwrap();
        assert_eq!(num("n") as usize, all.len());
        let checks = [
            ("min", all[0]),
            ("p25", quantile(&all, 0.25)),
            ("median", quantile(&all, 0.5)),
            ("p75", quantile(&all, 0.75)),
            ("max", all[all.len() - 1]),
            ("mean", all.iter().sum::<f64>() / all.len() as f64),
            ("national_median", quantile(&nat, 0.5)),
        ];
        for (name, expected) in checks {
            assert!(
                (num(name) - expected).abs() < 1e-9 * expected.abs().max(1.0),
                "{key:?} {name}: {} != {expected}",
                num(name)
            );
        }
        assert_eq!(num("exemplar_n") as usize, ex.len());
        if ex.is_empty() {
            assert_eq!(r[col("exemplar_median")], "");
        } else {
            assert!((num("exemplar_median") - quantile(&ex, 0.5)).abs() < 1e-9);
        }
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn quantile(s: &[f64], p: f64) -> f64 {
    let h = (s.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    s[lo] + (h - lo as f64) * (s[h.ceil() as usize] - s[lo])
}

/// An instance that starts in the background answers at once; until its figures are loaded a
/// page waits for them, for a bounded time, then answers 503 with `Retry-After` — never a page
/// with figures missing; once they are loaded the page shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_figures_load_pages_wait_or_answer_503_and_then_show_them() {
    use exemplar::app::AppState;
    use exemplar::figures::Figures;
    let first = TestApp::spawn(true).await;
    let store = exemplar::app::open_store(&first.db.url).await.unwrap();
    let mut config = exemplar::config::Config::new(first.db.url.clone(), "127.0.0.1:0".into(), false);
    // No waiting, and no refresh but the test's own.
    (config.load_wait_seconds, config.poll_seconds) = (0.0, 3600.0);
    let loading = Figures::loading(store.reference().await.unwrap());
    let state = AppState::new(store, config, std::sync::Arc::new(loading));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(exemplar::app::serve(listener, state.clone()));
    let client = reqwest::Client::new();
    let health: serde_json::Value = client.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["figures"], "loading");
    let response = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let page = response.text().await.unwrap();
    assert!(page.contains("still being loaded"), "{page}");
    assert!(!page.contains("Provisional figures"));
    state.refresh().await.unwrap();
    let health: serde_json::Value = client.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["figures"], "ready");
    assert_eq!(health["data_version"], first.state.figures().data_version);
    let response = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    // Signed out, the page shows the newest release (the demo publishes its last two quarters),
    // no longer the loading notice.
    let newest = first.state.store.releases().await.unwrap()[0].id.clone();
    assert!(page.contains(&format!("release {newest}")) && !page.contains("still being loaded"), "{page}");
}

/// `serve` as the command line starts it: answering before the figures are ready, then ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_start_becomes_ready_with_the_stored_snapshot() {
    let first = TestApp::spawn(true).await;
    let version = first.state.figures().data_version;
    let config = exemplar::config::Config::new(first.db.url.clone(), "127.0.0.1:0".into(), true);
    let state = exemplar::app::prepare_in_background(config).await.unwrap();
    for _ in 0..600 {
        if !state.figures().loading {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let f = state.figures();
    assert!(!f.loading, "the figures load within a minute");
    assert_eq!(f.data_version, version);
    assert_eq!(f.tables(), first.state.figures().tables(), "the snapshot gives the same figures");
}

#[tokio::test]
async fn every_export_in_parquet_holds_what_its_csv_holds_typed() {
    let app = TestApp::spawn(true).await;
    for (name, _) in exemplar::export::EXPORTS {
        let (_, csv) = app.text(&format!("/export/{name}.csv")).await;
        let response = app.get(&format!("/export/{name}.parquet?peer_group=acute")).await;
        assert_eq!(response.status().as_u16(), 200, "{name}.parquet");
        assert_eq!(response.headers()["content-type"], "application/vnd.apache.parquet");
        let unfiltered = app.get(&format!("/export/{name}.parquet")).await.bytes().await.unwrap();
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &unfiltered).unwrap();
        let (header, rows) = exemplar::export::parquet_rows(file).unwrap();
        let (csv_header, csv_rows) = parse_csv(&csv);
        assert_eq!(header, csv_header, "{name}: the same columns");
        assert_eq!(rows.len(), csv_rows.len(), "{name}: the same rows");
        for (row, csv_row) in rows.iter().zip(&csv_rows) {
            for ((cell, csv_cell), column) in row.iter().zip(csv_row).zip(&header) {
                // The CSV file guards text a spreadsheet would run; Parquet keeps it as it is.
                assert!(
                    cell == csv_cell || exemplar::export::guard(cell) == *csv_cell,
                    "{name}.{column}: {cell:?} in Parquet, {csv_cell:?} in CSV"
                );
            }
        }
    }
    let (status, _) = app.text("/export/benchmarks.xlsx").await;
    assert_eq!(status, 404);
}

/// A cached page asked for with gzip, as browsers ask, is the same page compressed: the
/// reader's own parts (who is signed in, the banner) in place, cached or not, and a reader who
/// does not take gzip gets the text.
#[tokio::test]
async fn pages_come_compressed_to_readers_that_take_gzip_with_their_own_parts() {
    use std::io::Read;
    let app = TestApp::spawn(true).await;
    let board = app.user("board-gzip@test.example", exemplar::domain::Role::Board, None).await;
    for path in ["/", "/metrics/digital_leadership_capability", "/trusts/RGT", "/evaluation"] {
        for (client, who) in [(&app.client, "analyst"), (&board, "board-gzip@test.example")] {
            let text = client.get(format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(text.headers().get("content-encoding"), None, "{path}");
            assert_eq!(text.headers()["vary"], "accept-encoding");
            let text = text.text().await.unwrap();
            assert!(text.contains(who) && text.contains("Sign out"), "{path}: the reader's own header");
            assert!(!text.contains("<!--who-->") && !text.contains("<!--banner-->"), "{path}");
            // Twice: built and cached by the first request, from the cache after.
            for round in 0..2 {
                let gz = client
                    .get(format!("{}{path}", app.base))
                    .header("accept-encoding", "gzip, deflate, br")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(gz.status(), 200);
                assert_eq!(gz.headers()["content-encoding"], "gzip", "{path}");
                assert_eq!(gz.headers()["content-type"], "text/html; charset=utf-8");
                let bytes = gz.bytes().await.unwrap();
                let mut page = String::new();
                flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut page).expect("one valid gzip member");
                assert_eq!(page, text, "{path}, round {round}");
                assert!(bytes.len() * 4 < text.len(), "{path}: {} bytes for {}", bytes.len(), text.len());
            }
        }
    }
    // A visitor's page says to sign in, compressed or not.
    let visitor = reqwest::Client::new();
    let gz = visitor.get(format!("{}/", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    let mut page = String::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..]).read_to_string(&mut page).unwrap();
    assert!(page.contains("Sign in") && !page.contains("Sign out"));
}
