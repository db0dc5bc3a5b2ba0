//! What an attack-and-fault probe tried, kept as tests (see SECURITY.md): bounded error lists,
//! sign-in limits that cannot be raced or turned against a user, no stored state for anonymous
//! visitors, system-level conformance from assessors only, and the headers of signed-in pages.

mod common;

use common::{TestApp, TestDb};
use exemplar::domain::Role;
use serde_json::Value;

async fn trust_app() -> (TestApp, String) {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("submitter@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("submitter@rgt.example").await;
    (app, token)
}

async fn post_csv(app: &TestApp, token: &str, body: Vec<u8>) -> (u16, usize, Value) {
    let (status, bytes) = app.post_submission(token, body).await;
    (status, bytes.len(), serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A 5 MB request with a very wide header row once answered 312 MB; 40 MB of bad rows stored
/// 339 MB of errors. Now the answer and the stored errors are bounded, and every error counted.
#[tokio::test]
async fn error_lists_are_bounded_in_the_answer_and_in_the_database() {
    let (app, token) = trust_app().await;
    let mut wide = String::from("org_code,metric_id,period,value");
    while wide.len() < 5 << 20 {
        wide.push_str(",an_unknown_column");
    }
    wide.push_str("\nRGT,clinical_wifi_coverage,2024-Q1,50\n");
    let (status, size, body) = post_csv(&app, &token, wide.into_bytes()).await;
    assert_eq!(status, 422);
    assert!(size < 10_000, "the answer is {size} bytes");
    assert_eq!(body["error_count"], 1);

    let mut bad = String::from("org_code,metric_id,period,value\n");
    let mut n = 0;
    while bad.len() < 40 << 20 {
        bad.push_str(&format!("RGT,not_a_metric_{n},2024-Q1,50\n"));
        n += 1;
    }
    let (status, size, body) = post_csv(&app, &token, bad.into_bytes()).await;
    assert_eq!(status, 422);
    assert_eq!(body["error_count"], n, "every error is counted");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1_000, "the first thousand are listed");
    assert_eq!(body["error_summary"][0]["count"], n);
    assert!(size < 300_000, "the answer is {size} bytes");
    let id = body["submission_id"].as_i64().unwrap();
    let stored = app.state.store.submission(id).await.unwrap().unwrap();
    assert!(stored.errors.to_stored().len() < 300_000);
    assert_eq!(stored.errors.total(), n);

    // The submission's page shows the summary and the first thousand.
    let page = app.user("analyst@nhs.example", Role::Admin, None).await;
    let html = page.get(format!("{}/submissions/{id}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("All {n} problems, by column and kind")), "summary table");
    assert!(html.contains("The first 1000 problems"));
    assert!(html.len() < 1_000_000, "the page is {} bytes", html.len());
}

/// A small file system of its own (a tmpfs, which root may mount), unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: usize) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(Self { dir })
    }

    /// Fills what is left with one file, and answers its path.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 << 10];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("--lazy").arg(self.dir.path()).status();
    }
}

/// Once SQLite answered "database or disk is full", pooled connections stayed in a transaction
/// and every later request failed until a restart. Now the next requests work once space is free.
#[tokio::test]
async fn after_a_full_disk_the_next_requests_work_once_space_is_free() {
    let Some(disk) = SmallDisk::mount(24) else {
        // CI runs as root (and requires it); elsewhere this probe needs root (see SECURITY.md).
        assert!(std::env::var_os("EXEMPLAR_REQUIRE_TMPFS").is_none(), "mounting a tmpfs needs root");
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let url = format!("sqlite://{}", disk.dir.path().join("exemplar.db").display());
    let app = TestApp::spawn_on(TestDb::sharing(&url), false).await;
    app.user("submitter@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("submitter@rgt.example").await;
    let csv = |quarter: usize| {
        let mut text = String::from("org_code,metric_id,period,value,comment\n");
        for (i, metric) in ["clinical_wifi_coverage", "digital_spend_share"].iter().enumerate() {
            let comment = "a comment long enough to need pages ".repeat(100);
            text.push_str(&format!(
                "RGT,{metric},{}-Q{},{},\"{comment}\"\n",
                2010 + quarter / 4,
                quarter % 4 + 1,
                10 + i
            ));
        }
        text.into_bytes()
    };
    let filler = disk.fill();
    let full = std::fs::metadata(&filler).unwrap().len();
    let mut failed = 0;
    // Free a little more space each time, so that writes fail at every step of a transaction:
    // the first statement, a later one, and the COMMIT.
    for q in 0..16u64 {
        std::fs::OpenOptions::new().write(true).open(&filler).unwrap().set_len(full - q * 4096).unwrap();
        let (status, _, body) = post_csv(&app, &token, csv(q as usize)).await;
        if status != 201 {
            assert_eq!((status, body["title"].as_str()), (503, Some("The service cannot store anything just now")));
            failed += 1;
        }
    }
    assert!(failed >= 8, "the disk was full for most of them: {failed} failed");
    std::fs::remove_file(filler).unwrap();
    for q in 16..32 {
        let (status, _, body) = post_csv(&app, &token, csv(q)).await;
        assert_eq!(status, 201, "submission {q} after space came back: {body}");
    }
    for n in 0..4 {
        assert!(app.sign_in("submitter@rgt.example", common::PASSWORD).await.is_ok(), "sign-in {n}");
    }
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(check, "ok");
}

/// The figures snapshot written after one small submission once grew the database from 20 to
/// 83 MB. Now only the quarters a submission changes are rewritten, in place: the database grows
/// by at most one quarter's snapshot however many small submissions follow.
#[tokio::test]
async fn a_small_submission_grows_the_database_by_at_most_the_quarter_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("exemplar.db").display());
    let app = TestApp::spawn_on(TestDb::sharing(&url), true).await;
    let (store, state) = (&app.state.store, &app.state);
    state.figures().store_snapshot(store).await.unwrap();
    let pool = store.pool();
    let pages = || async { sqlx::query_scalar::<_, i64>("PRAGMA page_count").fetch_one(pool).await.unwrap() };
    let largest: i64 =
        sqlx::query_scalar("SELECT MAX(LENGTH(payload)) FROM snapshot_quarters").fetch_one(pool).await.unwrap();
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(pool).await.unwrap();
    let before = pages().await;
    let today = state.today();
    let quarter = exemplar::domain::Quarter::last_ended(today);
    for value in 60..66 {
        let csv = common::small_csv(&[("RGT", "clinical_wifi_coverage", &quarter.to_string(), &value.to_string())]);
        let answer = common::submit_csv(store, csv, today, false).await;
        assert!(!answer.is_rejected(), "{answer:?}");
        state.refresh().await.unwrap();
        state.figures().store_snapshot(store).await.unwrap();
    }
    let grown = (pages().await - before) * page_size;
    assert!(grown <= largest * 3 / 2 + (1 << 20), "grew {grown} bytes; the largest quarter is {largest}");
}

/// Posts the sign-in form as a client at `address` (behind the trusted proxy the test server has).
async fn sign_in_from(app: &TestApp, address: &str, email: &str, password: &str) -> (u16, Option<u64>) {
    let client = app.anonymous();
    let page = client.get(format!("{}/sign-in", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    let response = client
        .post(format!("{}/sign-in", app.base))
        .header("x-forwarded-for", address)
        .form(&[("email", email), ("password", password), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let retry = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
    (response.status().as_u16(), retry)
}

/// 200 wrong passwords at once got 102 checked; five from anyone locked the user out for 15
/// minutes; behind a load balancer everyone shared one address. Now the check and the count are
/// one step, a stranger's failures delay the user by a minute at most, and the client's address
/// comes from a trusted proxy's header only.
#[tokio::test]
async fn sign_in_limits_cannot_be_raced_or_turned_against_the_user() {
    let loopback = "127.0.0.1".parse().unwrap();
    let app = TestApp::spawn_with(TestDb::new(), false, |c| c.trusted_proxies = vec![loopback]).await;
    app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let attempts = (0..60).map(|_| sign_in_from(&app, "203.0.113.66", "lead@rgt.example", "not the password"));
    let answers = futures_util::future::join_all(attempts).await;
    let checked = answers.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(checked, 5, "only the free attempts are checked: {answers:?}");
    assert!(answers.iter().all(|(s, retry)| *s == 401 || (*s == 429 && retry.is_some())), "{answers:?}");
    // The user, from their own address, is not held up by the stranger's failures.
    assert_eq!(sign_in_from(&app, "198.51.100.7", "lead@rgt.example", common::PASSWORD).await.0, 303);
    // A header from a client that is not a trusted proxy would be ignored (see access.rs's tests);
    // here the stranger's address is still waiting.
    assert_eq!(sign_in_from(&app, "203.0.113.66", "lead@rgt.example", common::PASSWORD).await.0, 429);
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    sqlx::query_scalar(sql).fetch_one(app.state.store.pool()).await.unwrap()
}

/// Every cookie-less GET /sign-in stored a session row (87,476 in 10 s), and previews never
/// expired. Now a visitor gets a CSRF cookie and no stored state, a user's waiting previews are
/// bounded, and expired sessions and stale previews are purged.
#[tokio::test]
async fn anonymous_visitors_store_nothing_and_what_expires_is_purged() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let before = count(&app, "sessions").await;
    for _ in 0..50 {
        let response = reqwest::get(format!("{}/sign-in", app.base)).await.unwrap();
        assert!(response.headers()["set-cookie"].to_str().unwrap().starts_with("exemplar_csrf="));
    }
    assert_eq!(count(&app, "sessions").await, before, "no session row for a visitor");
    // The visitor's token still signs in, once, with the password.
    assert!(app.sign_in("nobody@example.org", "wrong password").await.is_err());

    // A trust leaves at most three previews waiting.
    let trust = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let page = trust.get(format!("{}/submit", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    for value in 0..6 {
        let pasted = format!("org_code,metric_id,period,value\nRGT,clinical_wifi_coverage,2025-Q1,{value}\n");
        let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).text("pasted", pasted);
        let status = trust.post(format!("{}/submit", app.base)).multipart(form).send().await.unwrap().status();
        assert_eq!(status.as_u16(), 200);
    }
    assert_eq!(count(&app, "uploads").await, 3);

    // Sessions past their expiry or idle time, and previews older than a day, are purged.
    let pool = app.state.store.pool();
    sqlx::query("UPDATE sessions SET last_seen_at = '2020-01-01T00:00:00Z'").execute(pool).await.unwrap();
    sqlx::query("UPDATE uploads SET created_at = '2020-01-01T00:00:00Z'").execute(pool).await.unwrap();
    app.state.purge().await.unwrap();
    assert_eq!((count(&app, "sessions").await, count(&app, "uploads").await), (0, 0));
}

#[tokio::test]
async fn a_session_ends_after_thirty_idle_minutes() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let board = app.user("member@board.example", Role::Board, None).await;
    assert_eq!(board.get(format!("{}/trusts", app.base)).send().await.unwrap().status().as_u16(), 200);
    let idle = (chrono::Utc::now() - chrono::Duration::minutes(31)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(idle).execute(app.state.store.pool()).await.unwrap();
    // The server keeps a checked session for seconds (docs/RULES.md §1.2); a session cannot sit
    // idle that long while kept, so here the change counter tells it to look again.
    sqlx::query("UPDATE auth_version SET n = n + 1").execute(app.state.store.pool()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let response = board.get(format!("{}/trusts", app.base)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 303, "sent to sign in again");
}

/// A trust could send results for a system it runs, which changed every other trust's
/// conformance. Now results for a system come from an assessor or an administrator only.
#[tokio::test]
async fn results_for_a_system_come_from_its_assessor_not_from_a_trust() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let reference = app.state.figures().reference.clone();
    let deployed = reference.deployments.iter().find(|d| d.ods_code == "RGT").expect("RGT runs a system");
    let system = deployed.system_id.clone();
    let csv = format!("subject,standard_id,result,assessed_on\n{system},fhir_uk_core,fail,2025-03-31\n");
    let post = |token: String, body: String| {
        let url = format!("{}/api/v1/submissions?kind=conformance", app.base);
        async move {
            let r = reqwest::Client::new().post(url).bearer_auth(token).header("content-type", "text/csv").body(body);
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let (status, body) = post(app.token("lead@rgt.example").await, csv.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("come from its assessor"), "{body}");
    // Its own organisation-level result is the trust's to send.
    let own = "subject,standard_id,result,assessed_on\nRGT,dspt,pass,2025-03-31\n".to_string();
    assert_eq!(post(app.token("lead@rgt.example").await, own).await.0, 201);

    app.user("tests@standards.example", Role::Assessor, None).await;
    let assessor = app.token("tests@standards.example").await;
    let (status, body) = post(assessor.clone(), csv).await;
    assert_eq!(status, 201, "{body}");
    // An assessor sends conformance results only.
    let values = "org_code,metric_id,period,value\nRGT,clinical_wifi_coverage,2025-Q1,50\n";
    assert_eq!(app.post_submission(&assessor, values).await.0, 403);
}

#[tokio::test]
async fn signed_in_pages_are_not_cached_and_https_turns_on_hsts() {
    let app =
        TestApp::spawn_with(TestDb::new(), false, |c| c.public_url = Some("https://exemplar.example".into())).await;
    let page = app.get("/trusts").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let public = reqwest::get(format!("{}/standards", app.base)).await.unwrap();
    assert!(public.headers().get("cache-control").is_none_or(|v| v != "no-store"));
}

/// Text users write (comments, file names, findings) is shown as text on every page, never as markup.
#[tokio::test]
async fn what_users_write_is_shown_as_text_everywhere() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let script = "<script>alert(1)</script>";
    let csv = format!("org_code,metric_id,period,value,comment\nRGT,clinical_wifi_coverage,2025-Q1,50,\"{script}\"\n");
    let trust = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let page = trust.get(format!("{}/submit", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    let file = reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(format!("{script}.csv"));
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).part("file", file);
    let preview =
        trust.post(format!("{}/submit", app.base)).multipart(form).send().await.unwrap().text().await.unwrap();
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    assert!(!preview.contains(script) && preview.contains(escaped), "the preview escapes the file name");
    let upload = preview.split("/submit/").nth(1).and_then(|s| s.split('/').next()).unwrap().to_string();
    let confirmed = trust
        .post(format!("{}/submit/{upload}/confirm", app.base))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status().as_u16(), 303);
    let board = app.user("member@board.example", Role::Board, None).await;
    let page = board.get(format!("{}/findings", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    let form =
        [("csrf_token", csrf.as_str()), ("about", "trust:RGT"), ("title", script), ("body", script), ("owner", script)];
    let added = board.post(format!("{}/findings", app.base)).form(&form).send().await.unwrap();
    assert!(added.status().is_redirection() || added.status().is_success(), "{}", added.status());
    for path in ["/trusts/RGT", "/submissions", "/submissions/1", "/findings"] {
        let html = board.get(format!("{}{path}", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains(script), "{path} shows the text as markup");
    }
    let html = board.get(format!("{}/trusts/RGT", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(escaped), "the comment and the finding are shown, escaped");
}

#[tokio::test]
async fn paths_outside_the_static_folder_are_not_served() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    for path in [
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2fCargo.toml",
        "/static/%2e%2e%2fsrc%2fmain.rs",
        "/assets/../../Cargo.toml",
        "/export/..%2f..%2fCargo.toml",
        "/static//etc/passwd",
    ] {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(!body.contains("[package]") && !body.contains("root:"), "{path} served a file outside static/");
    }
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let client = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("lead@rgt.example").await;
    let pool = app.state.store.pool();
    let tokens: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_tokens").fetch_all(pool).await.unwrap();
    assert!(!tokens.is_empty() && tokens.iter().all(|t| *t != token && t.len() == 64));
    let passwords: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users WHERE password_hash IS NOT NULL")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(passwords.iter().all(|p| p.starts_with("$argon2id$") && !p.contains(common::PASSWORD)));
    // The session cookie's value is not what the sessions table holds.
    let page = client.get(format!("{}/trusts", app.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let ids: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions").fetch_all(pool).await.unwrap();
    let dump = format!("{ids:?}");
    assert!(ids.iter().all(|i| i.len() == 64), "{dump}");
}

/// Every accepted submission has exactly the values it says it stored, and no value belongs to
/// a submission that is not accepted.
async fn all_or_nothing(store: &exemplar::store::Store) {
    let pool = store.pool();
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT s.id, s.rows_stored, (SELECT COUNT(*) FROM metric_values v WHERE v.submission_id = s.id) \
         FROM submissions s WHERE s.status = 'accepted'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (id, stored, found) in rows {
        assert_eq!(stored, found, "submission {id} stored {stored} values but {found} are there");
    }
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM metric_values v WHERE NOT EXISTS \
         (SELECT 1 FROM submissions s WHERE s.id = v.submission_id AND s.status = 'accepted')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "values of a submission that was not accepted");
}

/// `kill -9` of an import at any moment leaves all of it or none of it, on either database.
#[tokio::test]
async fn an_import_killed_at_any_moment_leaves_all_or_nothing() {
    let db = TestDb::new();
    let store = exemplar::app::open_store(&db.url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let exemplar = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_exemplar"));
        command.args(args).env("DATABASE_URL", &db.url).env("RUST_LOG", "off");
        command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        command
    };
    let mut files = Vec::new();
    for seed in 1..=3 {
        let file = dir.path().join(format!("values{seed}.csv"));
        let args =
            ["demo", "--trusts", "60", "--quarters", "6", "--seed", &seed.to_string(), "-o", file.to_str().unwrap()];
        assert!(exemplar(&args).status().unwrap().success());
        files.push(file);
    }
    // How long a whole import takes here, to kill the others at moments spread across it.
    let started = std::time::Instant::now();
    assert!(exemplar(&["import", "submissions", files[0].to_str().unwrap()]).status().unwrap().success());
    let whole = started.elapsed();
    let mut killed = 0;
    for k in 0..8u32 {
        let file = &files[1 + (k as usize % 2)];
        let mut child = exemplar(&["import", "submissions", file.to_str().unwrap()]).spawn().unwrap();
        std::thread::sleep(whole.mul_f64(f64::from(k) / 8.0 + 0.05));
        killed += usize::from(child.try_wait().unwrap().is_none());
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        all_or_nothing(&store).await;
    }
    assert!(killed >= 4, "most imports were killed before they finished ({killed} of 8)");
    if db.url.starts_with("sqlite:") {
        let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(store.pool()).await.unwrap();
        assert_eq!(check, "ok");
    }
    // What was killed can be imported again, whole.
    for file in &files[1..] {
        assert!(exemplar(&["import", "submissions", file.to_str().unwrap()]).status().unwrap().success());
    }
    all_or_nothing(&store).await;
}

/// Twenty submissions at once, from twenty trusts, while 64 connections read pages: every one
/// is stored, none is refused as busy or deadlocked, and the pages keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn submissions_at_once_under_page_load_all_arrive() {
    let app = TestApp::spawn_on(TestDb::new(), true).await;
    let codes: Vec<String> =
        app.state.figures().reference.organisations.iter().take(20).map(|o| o.ods_code.clone()).collect();
    let mut tokens = Vec::new();
    for code in &codes {
        let email = format!("lead@{}.example", code.to_lowercase());
        app.user(&email, Role::Trust, Some(code)).await;
        tokens.push(app.token(&email).await);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..64)
        .map(|i| {
            let (client, base, stop) = (app.client.clone(), app.base.clone(), stop.clone());
            tokio::spawn(async move {
                let paths = ["/", "/trusts", "/gaps", "/metrics/clinical_wifi_coverage", "/export/values.csv"];
                let mut failures = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let status = client.get(format!("{base}{}", paths[i % paths.len()])).send().await.unwrap().status();
                    failures += usize::from(status.is_server_error());
                }
                failures
            })
        })
        .collect();
    let quarter = exemplar::domain::Quarter::last_ended(app.state.today()).to_string();
    let app = &app;
    let sends = codes.iter().zip(&tokens).map(|(code, token)| {
        let body = format!("org_code,metric_id,period,value\n{code},clinical_wifi_coverage,{quarter},42.5\n");
        async move { post_csv(app, token, body.into_bytes()).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for (status, _, body) in &answers {
        assert_eq!(*status, 201, "{body}");
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), 0, "pages answered 5xx under load");
    }
    let index = exemplar::domain::Quarter::parse(&quarter).unwrap();
    let values = app.state.store.current_values().await.unwrap();
    for code in &codes {
        let found = values
            .iter()
            .find(|v| &*v.org_code == code && &*v.metric_id == "clinical_wifi_coverage" && v.period == index);
        assert_eq!(found.map(|v| v.value), Some(42.5), "{code}");
    }
}
