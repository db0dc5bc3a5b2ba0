//! Collection windows, reopenings and sign-offs, end to end on either database.

mod common;

use common::{TestApp, TestDb, csrf_of};
use exemplar::domain::{Actor, Quarter, Role};
use exemplar::store::Progress;

async fn send(app: &TestApp, token: &str, org: &str, quarter: &Quarter, value: f64) -> (u16, serde_json::Value) {
    let csv = format!("org_code,metric_id,period,value\n{org},clinical_wifi_coverage,{quarter},{value}\n");
    let (status, body) = app.post_submission(token, csv).await;
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn a_closed_window_refuses_submissions_until_reopened_and_a_change_withdraws_a_sign_off() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let store = &app.state.store;
    let admin = Actor::operator();
    let rgt = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    app.user("lead@r0a.example", Role::Trust, Some("R0A")).await;
    let (rgt_token, r0a_token) = (app.token("lead@rgt.example").await, app.token("lead@r0a.example").await);
    let quarter = Quarter::last_ended(app.state.today());
    let q = quarter.to_string();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert!(
        store.open_window(&q, "2020-01-01T00:00:00Z", &admin).await.unwrap_err().to_string().contains("in the past")
    );
    store.open_window(&q, &tomorrow, &admin).await.unwrap();

    assert_eq!(send(&app, &rgt_token, "RGT", &quarter, 70.0).await.0, 201);
    let orgs = ["RGT".to_string(), "R0A".to_string()];
    assert_eq!(store.progress(&quarter, &orgs).await.unwrap(), [Progress::Submitted, Progress::NotStarted]);
    let none = store.sign_off(&quarter, "R0A", &admin).await.unwrap_err();
    assert!(none.to_string().contains("nothing to sign off"));

    // The trust signs off on the completeness page.
    let page = rgt.get(format!("{}/completeness?period={q}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign off RGT"), "the trust's sign-off button");
    let form = [("csrf_token", csrf_of(&page)), ("period", q.clone())];
    let signed = rgt.post(format!("{}/completeness/sign-off", app.base)).form(&form).send().await.unwrap();
    assert_eq!(signed.status().as_u16(), 303);
    assert_eq!(store.progress(&quarter, &orgs).await.unwrap()[0], Progress::SignedOff);
    // A later change withdraws it.
    assert_eq!(send(&app, &rgt_token, "RGT", &quarter, 72.0).await.0, 201);
    assert_eq!(store.progress(&quarter, &orgs).await.unwrap()[0], Progress::Submitted);

    // Closed: 409 and nothing stored; another quarter (no window) is open.
    store.close_window(&q, &admin).await.unwrap();
    let (status, body) = send(&app, &rgt_token, "RGT", &quarter, 99.0).await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains(&format!("the collection of {q} closed")) && message.contains("reopen"), "{message}");
    let current = store.current_values().await.unwrap();
    let wifi = current.iter().find(|v| &*v.org_code == "RGT" && v.period == quarter).unwrap();
    assert_eq!(wifi.value, 72.0, "nothing stored");
    assert_eq!(send(&app, &rgt_token, "RGT", &quarter.previous(), 50.0).await.0, 201);

    // Reopened for one trust only.
    store.reopen_window(&q, "RGT", &admin).await.unwrap();
    assert_eq!(send(&app, &rgt_token, "RGT", &quarter, 99.0).await.0, 201);
    assert_eq!(send(&app, &r0a_token, "R0A", &quarter, 40.0).await.0, 409);

    let (_, page) = app.text(&format!("/completeness?period={q}")).await;
    assert!(page.contains("Collection closed") && page.contains("Submitted, not signed off"));
    let audit = store.audit_log(100).await.unwrap();
    for action in ["window.open", "window.close", "window.reopen", "quarter.sign_off"] {
        assert!(audit.iter().any(|e| e.action == action), "{action} audited");
    }
}

#[tokio::test]
async fn an_administrator_opens_closes_and_reopens_on_the_page_and_completeness_is_exported() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let admin = app.user("admin@nhs.example", Role::Admin, None).await;
    app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("lead@rgt.example").await;
    let quarter = Quarter::last_ended(app.state.today());
    let q = quarter.to_string();
    assert_eq!(send(&app, &token, "RGT", &quarter, 70.0).await.0, 201);
    let page_of = |client: &reqwest::Client| {
        let url = format!("{}/completeness?period={q}", app.base);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let page = page_of(&admin).await;
    assert!(page.contains("Open ") && page.contains("Reopen "), "an administrator's forms");
    let post = |form: Vec<(&'static str, String)>| {
        let (admin, url) = (admin.clone(), format!("{}/completeness/window", app.base));
        async move {
            let r = admin.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let csrf = csrf_of(&page);
    let form = |action: &str, closes: &str, org: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("period", q.clone()),
            ("action", action.to_string()),
            ("closes", closes.to_string()),
            ("org", org.to_string()),
        ]
    };
    let (status, body) = post(form("open", "2020-01-01", "")).await;
    assert_eq!(status, 422);
    assert!(body.contains("Nothing was changed") && body.contains("in the past"), "a refusal on the page");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let (status, body) = post(form("open", &tomorrow, "")).await;
    assert_eq!(status, 200);
    assert!(body.contains(&format!("{q} is open for collection until {tomorrow}T23:59:59Z")), "{body}");
    let (status, _) = post(form("close", "", "")).await;
    assert_eq!(status, 200);
    assert_eq!(send(&app, &token, "RGT", &quarter, 71.0).await.0, 409);
    let (status, body) = post(form("reopen", "", "rgt")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("{q} is reopened for RGT")));
    assert_eq!(send(&app, &token, "RGT", &quarter, 72.0).await.0, 201);
    let actions: Vec<String> = app.state.store.audit_log(20).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in ["window.open", "window.close", "window.reopen"] {
        assert!(actions.iter().any(|a| a == action), "{action} audited: {actions:?}");
    }

    // The completeness export: one row per trust, RGT submitted.
    let r = admin.get(format!("{}/export/completeness.csv?period={q}", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (header, rows) = common::parse_csv(&r.text().await.unwrap());
    assert_eq!(header.join(","), "period,org_code,org_name,trust_type,region,status,window_closes_at,window_closed");
    assert!(rows.len() > 180, "every trust");
    let rgt = rows.iter().find(|r| r[1] == "RGT").unwrap();
    assert_eq!((rgt[5].as_str(), rgt[7].as_str()), ("submitted", "true"));
    assert!(rows.iter().filter(|r| r[1] != "RGT").all(|r| r[5] == "not_started"));
}
