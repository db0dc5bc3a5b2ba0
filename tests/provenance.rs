//! What every page and download says about its figures: synthetic demonstration figures said
//! so everywhere, and downloads named after what they hold, with their provenance in Parquet's
//! metadata.

mod common;

use common::{TestApp, TestDb};
use parquet::file::reader::FileReader;

fn metadata(bytes: Vec<u8>) -> Vec<(String, String)> {
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(axum::body::Bytes::from(bytes)).unwrap();
    let kv = reader.metadata().file_metadata().key_value_metadata().cloned().unwrap_or_default();
    kv.into_iter().map(|kv| (kv.key, kv.value.unwrap_or_default())).collect()
}

#[tokio::test]
async fn demonstration_figures_say_so_on_every_page_and_in_every_download() {
    let app = TestApp::spawn(true).await;
    let version = app.state.figures().data_version;
    for path in ["/", "/trusts", "/metrics", "/gaps", "/export"] {
        let (status, html) = app.text(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("Demonstration data") && html.contains("They are not NHS data"), "{path}");
        assert!(html.contains(&format!("every submission up to number {version}")), "{path} names its figures");
    }
    let (_, public) = (200, reqwest::get(format!("{}/", app.base)).await.unwrap().text().await.unwrap());
    assert!(public.contains("Demonstration data"), "signed out too");

    let csv = app.get("/export/trust_benchmarks.csv").await;
    let name = csv.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(name, format!("attachment; filename=\"trust_benchmarks_provisional_v{version}_synthetic.csv\""));
    assert_eq!(csv.headers()["x-exemplar-synthetic"], "true");
    let parquet = app.get("/export/values.parquet").await.bytes().await.unwrap().to_vec();
    let kv = metadata(parquet);
    for (key, value) in [
        ("dataset", "values".to_string()),
        ("status", "provisional".to_string()),
        ("data_version", version.to_string()),
        ("synthetic", "true".to_string()),
    ] {
        assert!(kv.iter().any(|(k, v)| k == key && *v == value), "{key}={value} in {kv:?}");
    }
    assert!(kv.iter().any(|(k, v)| k == "licence" && v.contains("Open Government Licence")));
}

#[tokio::test]
async fn a_database_started_without_demo_data_never_says_it_is_synthetic() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let (_, html) = app.text("/trusts").await;
    assert!(!html.contains("Demonstration data"));
    let csv = app.get("/export/values.csv").await;
    let name = csv.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(name, "attachment; filename=\"values_provisional_v0.csv\"");
}
