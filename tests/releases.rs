//! Published releases never change; `as_of` gives the figures of any moment; the release
//! calendar lists what changed. On both databases.

mod common;

use common::{TestApp, TestDb};
use exemplar::domain::{Actor, Quarter, Role};

async fn send(app: &TestApp, token: &str, csv: String) {
    let (status, body) = app.post_submission(token, csv).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
}

async fn download(app: &TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let name = r.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, name, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_release_never_changes_as_of_reproduces_the_past_and_revisions_are_listed() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    app.user("lead@r0a.example", Role::Trust, Some("R0A")).await;
    let (rgt, r0a) = (app.token("lead@rgt.example").await, app.token("lead@r0a.example").await);
    let quarter = Quarter::last_ended(app.state.today());
    let q = quarter.to_string();
    let rows = |org: &str, wifi: f64| {
        format!(
            "org_code,metric_id,period,value\n{org},clinical_wifi_coverage,{q},{wifi}\n{org},digital_spend_share,{q},2.5\n"
        )
    };
    send(&app, &rgt, rows("RGT", 80.0)).await;
    send(&app, &r0a, rows("R0A", 60.0)).await;
    app.state.refresh().await.unwrap();

    let first = exemplar::publish::publish(&app.state.store, quarter, "First publication", true, &Actor::operator())
        .await
        .unwrap();
    assert_eq!(first.id, format!("{q}.1"));
    let refused = exemplar::publish::publish(&app.state.store, quarter, "Again", true, &Actor::operator()).await;
    assert!(refused.unwrap_err().to_string().contains("nothing has been submitted since release"));

    let release_path = format!("/export/trust_benchmarks.csv?release={}", first.id);
    let (status, name, published) = download(&app, &release_path).await;
    assert_eq!(status, 200);
    assert_eq!(name, format!("attachment; filename=\"trust_benchmarks_{}.csv\"", first.id));
    let (_, _, provisional_before) = download(&app, "/export/trust_benchmarks.csv").await;
    // Times are kept to the second: the moment before the revision is a second after the first values.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let moment = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // A revision: the release is byte-identical, the provisional figures are not.
    send(&app, &rgt, rows("RGT", 95.0)).await;
    app.state.refresh().await.unwrap();
    let (_, _, again) = download(&app, &release_path).await;
    assert!(again == published, "the release's CSV changed after a later submission");
    let (_, _, provisional_after) = download(&app, "/export/trust_benchmarks.csv").await;
    assert!(provisional_after != provisional_before, "the provisional figures show the revision");
    let (_, _, latest) = download(&app, "/export/trust_benchmarks.csv?release=latest").await;
    assert!(latest == published);

    // `as_of` reproduces the provisional figures of that moment.
    let (status, name, then) = download(&app, &format!("/export/trust_benchmarks.csv?as_of={moment}")).await;
    assert_eq!(status, 200);
    assert!(name.contains("trust_benchmarks_as_of_"), "{name}");
    assert!(then == provisional_before, "as_of gives the figures as they stood");

    // The next release lists the revision with the value published before.
    let second =
        exemplar::publish::publish(&app.state.store, quarter, "Revised", true, &Actor::operator()).await.unwrap();
    assert_eq!(second.id, format!("{q}.2"));
    let changes = exemplar::publish::Changes::of(&second);
    assert_eq!(changes.since.as_deref(), Some(first.id.as_str()));
    assert_eq!(changes.revised.len(), 1, "{changes:?}");
    let revised = &changes.revised[0];
    assert_eq!((revised.org_code.as_str(), revised.published, revised.now), ("RGT", 80.0, 95.0));
    let (status, _, revisions) = download(&app, "/export/revisions.csv").await;
    let (header, rows) = common::parse_csv(&String::from_utf8(revisions).unwrap());
    assert_eq!(status, 200);
    assert_eq!(header[..3], ["release", "published_at", "since_release"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0][0], &rows[0][2], &rows[0][3], &rows[0][6], &rows[0][7]),
        (&second.id, &first.id, &"RGT".to_string(), &"80".to_string(), &"95".to_string())
    );
    let (_, page) = (200, reqwest::get(format!("{}/releases", app.base)).await.unwrap().text().await.unwrap());
    assert!(
        page.contains(&first.id) && page.contains(&second.id) && page.contains("Revised in release"),
        "public calendar"
    );

    // Bad input.
    let (status, _, body) = download(&app, "/export/values.csv?release=1999-Q1.7").await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 404);
    assert!(body.contains(&first.id) && body.contains(&second.id), "the answer lists the releases: {body}");
    let (status, _, body) = download(&app, "/export/values.csv?as_of=yesterday").await;
    assert_eq!(status, 400);
    assert!(String::from_utf8(body).unwrap().contains("2026-10-01T12:00:00Z"));
    let (status, _, body) = download(&app, "/export/values.csv?as_of=2001-01-01T00:00:00Z").await;
    assert_eq!((status, String::from_utf8(body).unwrap().lines().count()), (200, 1), "an empty export, not an error");
    let (status, page) = app.text("/trusts?release=latest").await;
    assert_eq!(status, 200, "a page shows a release");
    assert!(page.contains(&format!("release {}", second.id)), "the banner names the release shown");
    assert_eq!(app.get("/trusts?release=1999-Q1.7").await.status().as_u16(), 404, "an unknown release");
    assert_eq!(app.get("/trusts?as_of=2026-10-01T12:00:00Z").await.status().as_u16(), 400, "as_of is for downloads");
    let audit = app.state.store.audit_log(50).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "release.publish").count(), 2);
}

#[tokio::test]
async fn a_publisher_publishes_on_the_web_and_visitors_see_only_published_figures() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let token = app.token("lead@rgt.example").await;
    let quarter = Quarter::last_ended(app.state.today());
    let q = quarter.to_string();
    send(&app, &token, format!("org_code,metric_id,period,value\nRGT,clinical_wifi_coverage,{q},80\n")).await;
    app.state.refresh().await.unwrap();
    let visitor = reqwest::get(format!("{}/", app.base)).await.unwrap().text().await.unwrap();
    assert!(visitor.contains("Nothing has been published yet"), "a visitor sees no provisional figures");

    let analyst = app.user("stats@dhsc.example", Role::Analyst, None).await;
    let page = analyst.get(format!("{}/releases", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Publish a release"), "only with the publisher permission");
    let form = |csrf: &str, confirm: bool| {
        let mut f = vec![("csrf_token", csrf.to_string()), ("period", q.clone()), ("note", "Quarterly figures".into())];
        if confirm {
            f.push(("confirm", "yes".into()));
        }
        f
    };
    let refused =
        analyst.post(format!("{}/releases", app.base)).form(&form(&common::csrf_of(&page), true)).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    app.state.store.set_publisher("stats@dhsc.example", true, &Actor::operator()).await.unwrap();
    let page = analyst.get(format!("{}/releases", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Publish a release"));
    let csrf = common::csrf_of(&page);
    let unconfirmed = analyst.post(format!("{}/releases", app.base)).form(&form(&csrf, false)).send().await.unwrap();
    assert_eq!(unconfirmed.status().as_u16(), 422);
    assert!(unconfirmed.text().await.unwrap().contains("have not signed them off: RGT"));
    let published = analyst.post(format!("{}/releases", app.base)).form(&form(&csrf, true)).send().await.unwrap();
    assert_eq!(published.status().as_u16(), 303);
    let visitor = reqwest::get(format!("{}/", app.base)).await.unwrap().text().await.unwrap();
    assert!(visitor.contains(&format!("release {q}.1")), "the visitor's page names the release");
    let (_, signed_in) = app.text("/").await;
    assert!(signed_in.contains("Provisional figures"), "signed in, the provisional figures, marked");
}

#[tokio::test]
async fn a_trust_sees_its_own_provisional_figures_and_everyone_else_as_published() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let rgt = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    app.user("lead@r0a.example", Role::Trust, Some("R0A")).await;
    let (rgt_token, r0a_token) = (app.token("lead@rgt.example").await, app.token("lead@r0a.example").await);
    let q = Quarter::last_ended(app.state.today()).to_string();
    let csv =
        |org: &str, value: u32| format!("org_code,metric_id,period,value\n{org},clinical_wifi_coverage,{q},{value}\n");
    send(&app, &rgt_token, csv("RGT", 80)).await;
    send(&app, &r0a_token, csv("R0A", 60)).await;
    app.state.refresh().await.unwrap();
    let get = |path: &str| {
        let (client, url) = (rgt.clone(), format!("{}{path}", app.base));
        async move {
            let r = client.get(url).send().await.unwrap();
            let status = r.headers().get("x-exemplar-status").map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), status, r.text().await.unwrap())
        }
    };
    // Nothing published: the trust's own page is provisional, another trust's is empty.
    let (_, _, own) = get("/trusts/RGT").await;
    assert!(own.contains("Provisional figures") && own.contains("Wi-Fi coverage"), "its own provisional figures");
    let (_, _, other) = get("/trusts/R0A").await;
    assert!(
        other.contains("Nothing has been published yet") && !other.contains("Wi-Fi coverage of clinical areas</a>")
    );
    let (status, word, body) = get("/export/values.csv").await;
    assert_eq!((status, word.as_deref(), body.lines().count()), (200, Some("unpublished"), 1), "an empty export");

    // Published, then R0A revises: the trust sees R0A's published value, the analyst the new one.
    let release =
        exemplar::publish::publish(&app.state.store, Quarter::parse(&q).unwrap(), "First", true, &Actor::operator())
            .await
            .unwrap();
    // Published outside this server's web form (as from the command line): seen once the kept
    // release list is read again.
    app.state.forget_releases();
    send(&app, &r0a_token, csv("R0A", 65)).await;
    app.state.refresh().await.unwrap();
    let (_, _, other) = get("/trusts/R0A").await;
    assert!(other.contains(&format!("release {}", release.id)), "the banner names the release");
    let (_, word, body) = get("/export/values.csv?org_code=R0A").await;
    assert_eq!(word.as_deref(), Some("published"));
    assert!(body.lines().nth(1).unwrap().contains(",60,"), "the published value: {body}");
    let (_, body) = app.text("/export/values.csv?org_code=R0A").await;
    assert!(body.lines().nth(1).unwrap().contains(",65,"), "the analyst sees the provisional value: {body}");
    let (status, _, _) = get("/export/values.csv?as_of=2026-10-01T12:00:00Z").await;
    assert_eq!(status, 403, "as_of would show unpublished figures of other trusts");
    let (_, _, own) = get("/trusts/RGT").await;
    assert!(own.contains("Provisional figures"), "its own page stays provisional");
    let (_, _, history) = get("/trusts/RGT/metrics/clinical_wifi_coverage").await;
    assert!(history.contains("Provisional figures"), "and so do the pages under it");
}
