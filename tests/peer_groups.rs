//! Saved peer groups (docs/RULES.md §10.6): a group's benchmarks equal those computed from
//! scratch from its trusts' values; a private group is its owner's alone until shared; it is
//! chosen on the metric pages, in the exports and in the API; and the board's findings point to
//! blueprints.

mod common;

use common::{TestApp, csrf_of, parse_csv};
use exemplar::domain::{Quarter, Role, TrustType};
use exemplar::figures::Figures;

/// Type 7 quantile of sorted values (R's default; docs/RULES.md §4.2).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - h.floor()) * (sorted[hi] - sorted[lo])
}

fn median(sorted: &[f64]) -> Option<f64> {
    (!sorted.is_empty()).then(|| quantile(sorted, 0.5))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * (1.0 + a.abs())
}

/// Checks every benchmark and trust position of a group against the definitions, computed here
/// from the members' values alone.
fn check_from_scratch(f: &Figures, members: &[String], period: Quarter) -> usize {
    let g = f.for_group("saved-99", members).unwrap();
    let r = &f.reference;
    let mut checked = 0;
    for m in &r.metrics {
        let mut mine: Vec<(String, f64, bool)> = f
            .values()
            .filter(|v| v.period == period && *v.metric_id == *m.metric_id && members.iter().any(|c| *c == *v.org_code))
            .map(|v| (v.org_code.to_string(), v.value, r.organisation(&v.org_code).unwrap().exemplar.is_exemplar()))
            .collect();
        let b = g.benchmark(&m.metric_id, period);
        if mine.is_empty() {
            assert!(b.is_none(), "{}: no values, no benchmark", m.metric_id);
            continue;
        }
        let b = b.unwrap_or_else(|| panic!("{}: a benchmark", m.metric_id));
        mine.sort_by(|a, b| a.1.total_cmp(&b.1));
        let sorted: Vec<f64> = mine.iter().map(|x| x.1).collect();
        let exemplars: Vec<f64> = mine.iter().filter(|x| x.2).map(|x| x.1).collect();
        assert_eq!(b.n, sorted.len() as i64);
        assert_eq!(&*b.peer_group, "saved-99");
        assert!(close(b.min, sorted[0]) && close(b.max, *sorted.last().unwrap()));
        assert!(
            close(b.p25, quantile(&sorted, 0.25)),
            "{}: p25 {} against {}",
            m.metric_id,
            b.p25,
            quantile(&sorted, 0.25)
        );
        assert!(close(b.median, quantile(&sorted, 0.5)));
        assert!(close(b.p75, quantile(&sorted, 0.75)));
        assert!(close(b.mean, sorted.iter().sum::<f64>() / sorted.len() as f64));
        assert_eq!(b.exemplar_n, exemplars.len() as i64);
        assert_eq!(b.exemplar_median.is_some(), !exemplars.is_empty());
        if let (Some(x), Some(y)) = (b.exemplar_median, median(&exemplars)) {
            assert!(close(x, y));
        }
        // England's median is every trust's, not the group's.
        let england: Vec<f64> = {
            let mut all: Vec<f64> =
                f.values().filter(|v| v.period == period && *v.metric_id == *m.metric_id).map(|v| v.value).collect();
            all.sort_by(f64::total_cmp);
            all
        };
        assert!(close(b.national_median, quantile(&england, 0.5)));
        let d = m.direction.sign();
        for (code, v, _) in &mine {
            let t = g
                .trust_benchmarks
                .iter()
                .find(|t| *t.org_code == **code && *t.metric_id == *m.metric_id && t.period == period)
                .unwrap();
            let better = sorted.iter().filter(|x| d * **x > d * v).count() as i64;
            assert_eq!(t.rank, better + 1, "{code} {}: rank", m.metric_id);
            let q = if d > 0.0 {
                if *v >= b.p75 {
                    1
                } else if *v >= b.median {
                    2
                } else if *v >= b.p25 {
                    3
                } else {
                    4
                }
            } else if *v <= b.p25 {
                1
            } else if *v <= b.median {
                2
            } else if *v <= b.p75 {
                3
            } else {
                4
            };
            assert_eq!(t.quartile, q, "{code} {}: quartile", m.metric_id);
            match (t.gap_to_exemplar, b.exemplar_median) {
                (Some(gap), Some(e)) => assert!(close(gap, d * (e - v)), "{code}: gap"),
                (None, None) => {}
                other => panic!("{code} {}: gap {other:?}", m.metric_id),
            }
            checked += 1;
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_groups_benchmarks_equal_those_computed_from_scratch() {
    let app = TestApp::spawn(true).await;
    let f = app.state.figures();
    let latest = f.latest_period().unwrap();
    let r = &f.reference;
    // Trusts of several types, exemplars among them.
    let of_type = |t: TrustType, n: usize| {
        r.organisations.iter().filter(move |o| o.trust_type == t).take(n).map(|o| o.ods_code.clone())
    };
    let mut members: Vec<String> = of_type(TrustType::Acute, 9)
        .chain(of_type(TrustType::MentalHealth, 4))
        .chain(of_type(TrustType::Ambulance, 2))
        .collect();
    members.sort();
    assert!(check_from_scratch(&f, &members, latest) > 100);
    assert!(check_from_scratch(&f, &members, latest + -4) > 100);

    // A group of every acute trust is the acute peer group: its figures are the pipeline's.
    let acute: Vec<String> = of_type(TrustType::Acute, usize::MAX).collect();
    let g = f.for_group("saved-1", &acute).unwrap();
    let by_type: Vec<_> = f.benchmarks().filter(|b| &*b.peer_group == "acute").collect();
    assert_eq!(g.benchmarks.len(), by_type.len());
    for b in by_type {
        let x = g.benchmark(&b.metric_id, b.period).unwrap();
        assert_eq!(
            (x.n, x.min, x.p25, x.median, x.p75, x.max, x.exemplar_n, x.exemplar_median, x.national_median),
            (b.n, b.min, b.p25, b.median, b.p75, b.max, b.exemplar_n, b.exemplar_median, b.national_median),
            "{} {}",
            b.metric_id,
            b.period
        );
    }
    let positions: Vec<_> = f.trust_benchmarks().filter(|t| &*t.trust_type == "acute").collect();
    assert_eq!(g.trust_benchmarks.len(), positions.len());
    for t in positions.iter().take(5000) {
        let x = g
            .trust_benchmarks
            .iter()
            .find(|x| x.org_code == t.org_code && x.metric_id == t.metric_id && x.period == t.period)
            .unwrap();
        assert_eq!(
            (x.rank, x.quartile, x.gap_to_exemplar, x.percentile),
            (t.rank, t.quartile, t.gap_to_exemplar, t.percentile)
        );
    }
    // Kept for the data version: asked again, the same figures.
    let (a, b) = (f.group("saved-1", &acute).unwrap(), f.group("saved-1", &acute).unwrap());
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

async fn post(client: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = client.post(format!("{base}{path}")).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    let body = r.text().await.unwrap();
    (status, if status == 303 { location } else { body })
}

async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let r = client.get(format!("{base}{path}")).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn a_saved_group_is_private_until_shared_and_is_chosen_on_pages_exports_and_the_api() {
    let app = TestApp::spawn(true).await;
    let base = app.base.clone();
    let owner = app.user("lead@groups.example", Role::Trust, Some("RGT")).await;
    let other = app.user("analyst@groups.example", Role::Analyst, None).await;

    // Starting from a trust's nearest neighbours: the trust and its fifteen peers are ticked.
    let (status, page) = get(&owner, &base, "/peer-groups?from=RGT").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page.matches(" checked>").count(), 16, "RGT and its 15 peers");
    let csrf = csrf_of(&page);

    // Every problem is reported and nothing is stored.
    let (status, page) =
        post(&owner, &base, "/peer-groups", &[("csrf_token", &csrf), ("name", ""), ("members", "RGT")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("Give the peer group a name") && page.contains("Choose from 2 to 50 trusts; 1 was chosen"),
        "{page}"
    );
    let (status, page) = post(
        &owner,
        &base,
        "/peer-groups",
        &[("csrf_token", &csrf), ("name", "x"), ("members", "RGT"), ("members", "ZZZ")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("There is no trust &#39;ZZZ&#39;") || page.contains("There is no trust &#x27;ZZZ&#x27;"),
        "{page}"
    );
    assert!(app.state.store.peer_groups().await.unwrap().is_empty());

    let members = ["RGT", "RBL", "RJ1", "R0A"];
    let mut form = vec![("csrf_token", csrf.as_str()), ("name", "Teaching trusts we learn from")];
    form.extend(members.iter().map(|m| ("members", *m)));
    let (status, location) = post(&owner, &base, "/peer-groups", &form).await;
    assert_eq!(status, 303, "{location}");
    let id: i64 = location.trim_start_matches("/peer-groups/").parse().unwrap();
    let key = format!("saved-{id}");

    // The owner's page: the group's benchmarks and trusts.
    let (status, page) = get(&owner, &base, &location).await;
    assert_eq!(status, 200);
    assert!(page.contains("Teaching trusts we learn from") && page.contains("Benchmarks of the group"), "{page}");
    assert!(page.contains(&format!("peer_group={key}")));

    // Private: another user, and the exports and API with their token, do not find it.
    assert_eq!(get(&other, &base, &location).await.0, 404);
    assert_eq!(get(&other, &base, &format!("/export/benchmarks.csv?peer_group={key}")).await.0, 404);
    assert_eq!(get(&other, &base, &format!("/metrics/eprescribing_coverage?peer_group={key}")).await.0, 404);
    let (_, listed) = get(&other, &base, "/export/peer_groups.csv").await;
    assert!(parse_csv(&listed).1.is_empty(), "{listed}");

    // The owner's exports: the group's benchmarks, each member's place within it.
    let (status, csv) = get(&owner, &base, &format!("/export/benchmarks.csv?peer_group={key}")).await;
    assert_eq!(status, 200, "{csv}");
    let (header, rows) = parse_csv(&csv);
    let (pg, n) =
        (header.iter().position(|h| h == "peer_group").unwrap(), header.iter().position(|h| h == "n").unwrap());
    assert!(!rows.is_empty() && rows.iter().all(|r| r[pg] == key && r[n].parse::<usize>().unwrap() <= 4), "{csv}");
    let (_, csv) = get(&owner, &base, &format!("/export/trust_benchmarks.csv?peer_group={key}&period=latest")).await;
    let (header, rows) = parse_csv(&csv);
    let org = header.iter().position(|h| h == "org_code").unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| members.contains(&r[org].as_str())), "{csv}");
    let (_, csv) = get(&owner, &base, &format!("/export/values.csv?peer_group={key}&period=latest")).await;
    let (header, rows) = parse_csv(&csv);
    let org = header.iter().position(|h| h == "org_code").unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| members.contains(&r[org].as_str())), "values of members only");

    // The metric page ranks within the group.
    let (status, page) = get(&owner, &base, &format!("/metrics/eprescribing_coverage?peer_group={key}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Ranking of trusts of the peer group"), "{page}");
    assert!(page.contains(&format!("<option value=\"{key}\" selected>")), "the group is chosen");
    // The trust list keeps the group's trusts; a page that takes only a trust type says so.
    let (status, page) = get(&owner, &base, &format!("/trusts?peer_group={key}")).await;
    assert_eq!(status, 200, "{page}");
    // (The owner is RGT's user: the header links to their trust too.)
    let listed: std::collections::BTreeSet<&str> =
        page.split("href=\"/trusts/").skip(1).filter_map(|s| s.split('"').next()).filter(|c| c.len() <= 5).collect();
    assert_eq!(listed.len(), members.len(), "{listed:?}");
    assert!(listed.iter().all(|c| members.contains(c)), "{listed:?}");
    let (status, page) = get(&owner, &base, &format!("/gaps?peer_group={key}")).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("a saved peer group cannot be used here"), "{page}");

    // Shared: the other user sees it, in the list, the export and the API.
    let csrf = csrf_of(&get(&owner, &base, &location).await.1);
    let mut form = vec![("csrf_token", csrf.as_str()), ("name", "Teaching trusts we learn from"), ("shared", "yes")];
    form.extend(members.iter().map(|m| ("members", *m)));
    assert_eq!(post(&owner, &base, &location, &form).await.0, 303);
    let (status, _) = get(&other, &base, &location).await;
    assert_eq!(status, 200);
    let (_, listed) = get(&other, &base, "/export/peer_groups.csv").await;
    let (header, rows) = parse_csv(&listed);
    assert_eq!(rows.len(), 4, "{listed}");
    assert_eq!(header[..3], ["peer_group", "name", "shared"]);
    let token = app.token("analyst@groups.example").await;
    let r = reqwest::Client::new()
        .get(format!("{base}/api/v1/datasets/gaps?peer_group={key}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let rows = body["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["peer_group"] == key.as_str()), "{body}");

    // Only the owner changes or deletes it.
    let csrf_other = csrf_of(&get(&other, &base, "/peer-groups").await.1);
    assert_eq!(post(&other, &base, &format!("{location}/delete"), &[("csrf_token", &csrf_other)]).await.0, 403);
    assert_eq!(post(&owner, &base, &format!("{location}/delete"), &[("csrf_token", &csrf)]).await.0, 303);
    assert_eq!(get(&owner, &base, &location).await.0, 404);
    let audit: Vec<String> = app.state.store.audit_log(100).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in ["peer_group.add", "peer_group.update", "peer_group.delete"] {
        assert!(audit.iter().any(|a| a == action), "{action} audited: {audit:?}");
    }
}

#[tokio::test]
async fn a_finding_points_to_a_blueprint_and_the_blueprint_lists_it() {
    let app = TestApp::spawn(true).await;
    let base = app.base.clone();
    let by = exemplar::store::Actor::operator();
    let blueprint = exemplar::store::NewBlueprint {
        org_code: "RGT".into(),
        title: "Bedside scanning closes the medicines loop".into(),
        summary: "Barcode scanning at the bedside.".into(),
        what_we_did: "Scanners on every ward.".into(),
        metrics: vec!["eprescribing_coverage".into()],
        started: "2025-Q1".into(),
        contact_role: "Chief Nursing Information Officer".into(),
        ..Default::default()
    };
    let id = app.state.store.add_blueprint(&blueprint, &by).await.unwrap();
    let board = app.user("chair@findings-blueprints.example", Role::Board, None).await;
    let page = get(&board, &base, "/findings").await.1;
    let at = page.find("Bedside scanning closes the medicines loop").unwrap_or(0);
    assert!(at == 0, "unpublished blueprints are not offered: {}", &page[at.saturating_sub(300)..at + 100]);
    let csrf = csrf_of(&get(&board, &base, &format!("/blueprints/{id}")).await.1);
    let review = [("csrf_token", csrf.as_str()), ("decision", "publish"), ("note", "")];
    assert_eq!(post(&board, &base, &format!("/blueprints/{id}/review"), &review).await.0, 303);
    let page = get(&board, &base, "/findings").await.1;
    assert!(page.contains(&format!("<option value=\"{id}\">Bedside scanning closes the medicines loop")), "{page}");
    let csrf = csrf_of(&page);
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("about", "metric:eprescribing_coverage"),
        ("title", "Too few trusts close the loop"),
        ("body", "Trusts below the median should follow the closed-loop blueprint."),
        ("owner", "Regional digital leads"),
        ("blueprint", "999999"),
    ];
    let (status, page) = post(&board, &base, "/findings", &form).await;
    assert_eq!(status, 422);
    assert!(page.contains("There is no published blueprint"), "{page}");
    let id_text = id.to_string();
    form.pop();
    form.push(("blueprint", id_text.as_str()));
    assert_eq!(post(&board, &base, "/findings", &form).await.0, 303);

    let (_, page) = get(&board, &base, "/metrics/eprescribing_coverage").await;
    assert!(
        page.contains(&format!("Blueprint to follow: <a href=\"/blueprints/{id}\">")),
        "shown where the finding is"
    );
    let (_, page) = get(&board, &base, &format!("/blueprints/{id}")).await;
    assert!(
        page.contains("recommendations that point here") && page.contains("Too few trusts close the loop"),
        "{page}"
    );
    let (_, csv) = get(&board, &base, "/export/findings.csv").await;
    let (header, rows) = parse_csv(&csv);
    let col = header.iter().position(|h| h == "blueprint_ids").unwrap();
    assert_eq!(rows[0][col], id_text);
    let (_, csv) = get(&board, &base, "/export/recommendations.csv").await;
    let (header, rows) = parse_csv(&csv);
    assert_eq!(
        header,
        [
            "recommendation_id",
            "about",
            "title",
            "owner",
            "status",
            "live",
            "due_on",
            "overdue",
            "last_changed_at",
            "last_changed_by",
            "blueprint_ids"
        ]
    );
    assert_eq!(
        (rows[0][1].as_str(), rows[0][4].as_str(), rows[0][5].as_str(), rows[0][7].as_str(), rows[0][10].as_str()),
        ("metric:eprescribing_coverage", "open", "true", "false", id_text.as_str())
    );
}
