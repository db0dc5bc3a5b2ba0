//! Test helpers: a fresh database per test (SQLite by default, PostgreSQL when
//! `EXEMPLAR_TEST_POSTGRES` gives a server URL) and the real server on port 0.

#![allow(dead_code, reason = "each test binary uses a different part of the helpers")]

use exemplar::app::{self, AppState};
use exemplar::config::Config;
use exemplar::domain::Role;

pub const PASSWORD: &str = "correct horse battery staple";

/// The CSRF token of a page's first form.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).expect("a form with a CSRF token") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of its own for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new() -> Self {
        match std::env::var("EXEMPLAR_TEST_POSTGRES") {
            Ok(server) if !server.is_empty() => {
                let n = COUNTER.fetch_add(1, Ordering::SeqCst);
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
                let name = format!("exemplar_test_{}_{n}_{nanos}", std::process::id());
                Self { url: format!("{}/{name}", server.trim_end_matches('/')), _dir: None }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Self { url, _dir: Some(dir) }
            }
        }
    }

    /// Another handle on the same database (for a second app instance).
    pub fn sharing(url: &str) -> Self {
        Self { url: url.to_string(), _dir: None }
    }
}

/// The real server, listening on a port of its own, with a fresh database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(demo: bool) -> Self {
        let db = TestDb::new();
        Self::spawn_on(db, demo).await
    }

    /// The server on `db`, with `client` signed in as an analyst.
    pub async fn spawn_on(db: TestDb, demo: bool) -> Self {
        Self::spawn_with(db, demo, |_| {}).await
    }

    /// The server on `db` with a configuration adjusted by `adjust`.
    pub async fn spawn_with(db: TestDb, demo: bool, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::new(db.url.clone(), "127.0.0.1:0".into(), demo);
        adjust(&mut config);
        let state = app::prepare(config).await.expect("the app starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(app::serve(listener, state.clone()));
        let mut app = Self { base, client: reqwest::Client::new(), state, db };
        app.client = app
            .user(&format!("analyst{}@test.example", COUNTER.fetch_add(1, Ordering::SeqCst)), Role::Analyst, None)
            .await;
        app
    }

    /// Adds a user with the test password and returns a client signed in as that user.
    pub async fn user(&self, email: &str, role: Role, org: Option<&str>) -> reqwest::Client {
        let hash = exemplar::auth::password::hash(PASSWORD.to_string(), email).await.unwrap();
        let by = exemplar::store::Actor::new("test", None);
        self.state.store.add_user(email, role, org, Some(&hash), &by).await.unwrap();
        self.sign_in(email, PASSWORD).await.expect("signs in")
    }

    /// A client with a cookie store that has signed in, or the sign-in page's status on failure.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<reqwest::Client, u16> {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(format!("{}/sign-in", self.base)).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let response = client
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", email), ("password", password), ("csrf_token", csrf.as_str()), ("next", "/")])
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 303 { Ok(client) } else { Err(response.status().as_u16()) }
    }

    /// A client that is not signed in.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Creates an API token for an existing user.
    pub async fn token(&self, email: &str) -> String {
        let token = exemplar::auth::random_token();
        let by = exemplar::store::Actor::new("test", None);
        self.state.store.create_token(email, "test", &exemplar::auth::hash_secret(&token), &by).await.unwrap();
        token
    }

    /// Posts a CSV submission to the API with `token`: the status and the answer's bytes.
    pub async fn post_submission(&self, token: &str, csv: impl Into<reqwest::Body>) -> (u16, Vec<u8>) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/submissions", self.base))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

/// A small metric CSV for a few real trusts.
pub fn small_csv(rows: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let mut s = String::from("org_code,metric_id,period,value\n");
    for (o, m, p, v) in rows {
        s.push_str(&format!("{o},{m},{p},{v}\n"));
    }
    s.into_bytes()
}

/// Parses CSV text into a header and rows of strings.
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

/// Submits a metric CSV as the command-line operator would, on `today`.
pub async fn submit_csv(
    store: &exemplar::store::Store,
    bytes: Vec<u8>,
    today: chrono::NaiveDate,
    dry_run: bool,
) -> exemplar::submit::Answer {
    use exemplar::submit::{Format, Options, Upload, submit};
    let reference = store.reference().await.unwrap();
    let upload = Upload::bytes(Format::MetricsCsv, bytes, None);
    let options = Options::on(today).dry_run(dry_run);
    submit(store, &reference, &exemplar::domain::Actor::operator(), upload, options).await.unwrap().answer
}
