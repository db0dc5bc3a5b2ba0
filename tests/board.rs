//! The board's pages: findings recorded and shown where they belong, the compare heat map, gaps
//! by domain and trust, and the data dictionary.

mod common;

use common::{TestApp, csrf_of, parse_csv};
use exemplar::domain::Role;

/// A page without its comments: what a reader sees.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("-->").map_or("", |end| &rest[start + end + 3..]);
    }
    out + rest
}

#[tokio::test]
async fn a_board_member_records_a_finding_by_name_that_shows_on_its_metric_page_and_in_the_export() {
    let app = TestApp::spawn(true).await;
    let board = app.user("member@board.example", Role::Board, None).await;
    let latest = app.state.figures().latest_period().unwrap();
    let previous = latest.previous().to_string();

    // A gap page offers the board a pre-filled "Record a finding" for each metric; the form
    // names metrics, domains and trusts, never raw ids.
    let gaps = board.get(format!("{}/gaps", app.base)).send().await.unwrap().text().await.unwrap();
    let link = format!("/findings?about=metric:digital_leadership_capability&#38;period={latest}#record");
    assert!(
        gaps.contains(&link),
        "the gap row links to the pre-filled form: {}",
        gaps.split("Record a finding")
            .next()
            .unwrap()
            .chars()
            .rev()
            .take(400)
            .collect::<String>()
            .chars()
            .rev()
            .collect::<String>()
    );
    let (_, analyst_gaps) = app.text("/gaps").await;
    assert!(gaps.contains("Record a finding on this quarter&#39;s gaps</a>"));
    assert!(!visible(&analyst_gaps).contains("Record a finding"), "only the board is offered the form");
    let page = board
        .get(format!("{}/findings?about=metric:digital_leadership_capability&period={previous}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(
        r#"<option value="metric:digital_leadership_capability" selected>Digital leadership capability</option>"#
    ));
    assert!(page.contains("<optgroup label=\"Trusts\">") && page.contains("Cambridge University Hospitals"));
    assert!(page.contains(&format!(r#"<option value="{previous}" selected>"#)), "the quarter is pre-filled");
    let csrf = csrf_of(&page);

    // Every problem at once, in an error summary, with what was typed kept.
    let bad = [
        ("csrf_token", csrf.as_str()),
        ("about", "metric:nope"),
        ("period", previous.as_str()),
        ("title", "Kept title"),
        ("body", ""),
        ("owner", ""),
    ];
    let refused = board.post(format!("{}/findings", app.base)).form(&bad).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let refused = refused.text().await.unwrap();
    assert!(refused.contains("There is a problem") && refused.contains("<title>Error: Findings"));
    for (field, message) in [
        ("about", "There is no metric &#39;nope&#39;"),
        ("body", "Write the finding or recommendation."),
        ("owner", "Say who is to act on it."),
    ] {
        assert!(refused.contains(&format!("<a href=\"#{field}\">{message}")), "{field}: {message}");
    }
    assert!(refused.contains(r#"value="Kept title""#), "what was typed is kept");
    assert!(app.state.store.findings().await.unwrap().is_empty(), "nothing stored");

    let form = [
        ("csrf_token", csrf.as_str()),
        ("about", "metric:digital_leadership_capability"),
        ("period", previous.as_str()),
        ("title", "Leadership lags in community trusts"),
        ("body", "Recommend a chief clinical information officer at every community trust."),
        ("owner", "NHS England regions"),
    ];
    let added = board.post(format!("{}/findings", app.base)).form(&form).send().await.unwrap();
    assert_eq!(added.status().as_u16(), 303);
    let to = added.headers()["location"].to_str().unwrap().to_string();
    let done = board.get(format!("{}{to}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(done.contains("Finding recorded: Leadership lags in community trusts"), "a success message");
    let stored = &app.state.store.findings().await.unwrap()[0];
    assert_eq!(stored.period, previous, "the quarter it looked at is recorded");
    assert_eq!(stored.based_on, format!("data version {}", app.state.figures().data_version));

    let (_, metric) = app.text("/metrics/digital_leadership_capability").await;
    assert!(metric.contains("Leadership lags in community trusts"), "the finding shows on its metric's page");
    assert!(metric.contains(&latest.previous().financial_label()), "with the quarter it looked at");
    let (status, _) = app.text("/findings").await;
    assert_eq!(status, 200, "analysts read findings");
    let analyst_post = app.client.post(format!("{}/findings", app.base)).form(&form).send().await.unwrap();
    assert_eq!(analyst_post.status().as_u16(), 403, "only the board records findings");

    let id = stored.id;
    let moved = board
        .post(format!("{}/findings/{id}/status", app.base))
        .form(&[("csrf_token", csrf.as_str()), ("status", "accepted")])
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status().as_u16(), 303);
    let (_, csv) = app.text("/export/findings.csv").await;
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header[0], "finding_id");
    assert_eq!(&header[10..], ["period", "based_on", "due_on", "status_history", "blueprint_ids"]);
    assert_eq!((rows.len(), rows[0][5].as_str(), rows[0][10].as_str()), (1, "accepted", previous.as_str()));
    assert!(app.state.store.audit_log(10).await.unwrap().iter().any(|e| e.action == "finding.status"));

    // A recommendation with a due date gone by is overdue until it is done or declined; every
    // change of its status is kept with who made it and why.
    let mut due = form.to_vec();
    due.push(("due_on", "31/03/2027"));
    let refused = board.post(format!("{}/findings", app.base)).form(&due).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 422, "a due date not written YYYY-MM-DD");
    due.pop();
    due.push(("due_on", "2020-03-31"));
    due[3] = ("title", "Shared care record lags");
    let added = board.post(format!("{}/findings", app.base)).form(&due).send().await.unwrap();
    assert_eq!(added.status().as_u16(), 303);
    let late =
        app.state.store.findings().await.unwrap().into_iter().find(|x| x.title == "Shared care record lags").unwrap();
    assert!(late.is_overdue(chrono::Utc::now().date_naive()));
    let (_, list) = app.text("/findings").await;
    assert!(list.contains("Overdue"), "the list marks it overdue");
    for (status, note) in [("in_progress", "pilot under way"), ("declined", "superseded by national programme")] {
        let moved = board
            .post(format!("{}/findings/{}/status", app.base, late.id))
            .form(&[("csrf_token", csrf.as_str()), ("status", status), ("note", note)])
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status().as_u16(), 303);
    }
    let bad = board
        .post(format!("{}/findings/{}/status", app.base, late.id))
        .form(&[("csrf_token", csrf.as_str()), ("status", "shelved")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let late = app.state.store.findings().await.unwrap().into_iter().find(|x| x.id == late.id).unwrap();
    let history: Vec<(&str, &str)> = late.history.iter().map(|c| (c.status.as_str(), c.note.as_str())).collect();
    assert_eq!(
        history,
        [("open", "recorded"), ("in_progress", "pilot under way"), ("declined", "superseded by national programme")]
    );
    assert!(!late.is_overdue(chrono::Utc::now().date_naive()), "declined is no longer overdue");
    let (_, overview) = app.text("/").await;
    assert!(!overview.contains("Shared care record lags"), "the overview lists only live recommendations");
    let (_, csv) = app.text("/export/findings.csv").await;
    assert!(csv.contains("declined at ") && csv.contains("(pilot under way)"), "{csv}");
}

#[tokio::test]
async fn compare_is_a_tartan_rug_of_named_trusts_and_metrics_paged_beyond_twenty() {
    let app = TestApp::spawn(true).await;
    let (status, page) = app.text("/compare?orgs=RGT,RJ1,R0A").await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("class=\"app-rug__trust\"").count(), 3, "one column per trust");
    assert!(page.contains("Cambridge University Hospitals"), "trusts by name");
    assert!(page.contains("<th scope=\"colgroup\""), "metrics grouped by domain");
    assert!(page.contains("Digital leadership capability") && page.contains("England median"));
    assert!(page.contains("Peer median") && page.contains("Exemplar median"), "three acute trusts: their peer group");
    assert!(page.contains("Top 25% of its type"), "a colour key");
    assert!(page.contains("(top 25%)") || page.contains("(bottom 25%)"), "each colour said in words");

    // Every acute trust, 20 to a page, with a next page.
    let (_, all_acute) = app.text("/compare?peer_group=acute").await;
    assert_eq!(all_acute.matches("class=\"app-rug__trust\"").count(), 20);
    assert!(all_acute.contains("on page 1 of"), "{}", &all_acute[..200]);
    let next = all_acute.split("nhsuk-pagination__link--next\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    let (status, second) = app.text(&next.replace("&#38;", "&").replace("#rug", "")).await;
    assert_eq!(status, 200);
    assert!(second.contains("on page 2 of"));

    // By name, without a script: search, then follow "Add".
    let (_, found) = app.text("/compare?orgs=RGT&q=leeds").await;
    let add = found.split("href=\"/compare?orgs=RGT%2C").nth(1).expect("an Add link").split('"').next().unwrap();
    let code = add.split('&').next().unwrap().to_string();
    let (_, two) = app.text(&format!("/compare?orgs=RGT,{code}")).await;
    assert_eq!(two.matches("class=\"app-rug__trust\"").count(), 2);
    assert!(two.contains("Leeds"));

    // Ordered by a metric, best first; an unknown order or trust is refused.
    let (status, ordered) = app.text("/compare?orgs=RGT,RJ1,R0A&sort=digital_leadership_capability").await;
    assert_eq!(status, 200);
    assert!(ordered.contains("by score on Digital leadership capability, best first"));
    assert_eq!(app.text("/compare?orgs=RGT&sort=height").await.0, 400);
    assert_eq!(app.text("/compare?orgs=RGT,XXX").await.0, 400);
    let (_, none) = app.text("/compare").await;
    assert!(none.contains("Choose trusts to compare"));

    let (_, gaps) = app.text("/gaps?peer_group=mental_health").await;
    assert!(gaps.contains("By domain") && gaps.contains("Where the NHS is furthest behind"));
    assert!(gaps.contains("Which trusts most need help") && gaps.contains("id=\"priority-title\""));
    // The metric table is in priority order: each row's priority no larger than the one above.
    let table = &gaps[gaps.find("Gaps by metric and peer group").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let priorities: Vec<f64> = table
        .split("<tr>")
        .skip(2)
        .filter_map(|row| row.split("<td class=\"app-num\">").nth(5)?.split('<').next()?.parse().ok())
        .collect();
    assert!(priorities.len() > 5 && priorities.windows(2).all(|w| w[0] >= w[1]), "{priorities:?}");
    // Every trust, 25 a page, lowest maturity first.
    let (_, all) = app.text("/gaps").await;
    assert!(all.contains("page 1 of") && all.contains("page=2#by-trust"), "paged");
    let (status, second) = app.text("/gaps?page=2").await;
    assert_eq!(status, 200);
    assert!(second.contains("page 2 of"));
    assert_eq!(app.text("/gaps?page=99").await.0, 400);
    let (_, exports) = app.text("/export").await;
    assert!(exports.contains("Data dictionary") && exports.contains("id=\"dict-trust_benchmarks\""));
    // The filter form builds the download links.
    let (status, exports) = app.text("/export?period=latest&peer_group=ambulance&region=").await;
    assert_eq!(status, 200);
    assert!(
        exports.contains("href=\"/export/values.csv?period=latest&#38;peer_group=ambulance\""),
        "the links carry the filters"
    );
    assert!(exports.contains("<option value=\"latest\" selected>"));
}

#[tokio::test]
async fn the_trust_list_filters_by_cohort_and_sorts_by_links_keeping_its_filters() {
    let app = TestApp::spawn(true).await;
    let (_, page) = app.text("/trusts?peer_group=acute&exemplar=gde&sort=maturity&dir=desc").await;
    let gde = app
        .state
        .figures()
        .reference
        .organisations
        .iter()
        .filter(|o| o.exemplar.as_str() == "gde" && o.trust_type.as_str() == "acute")
        .count();
    assert!(page.contains(&format!("{gde} trusts;")), "only the acute GDE trusts");
    assert!(page.contains("aria-sort=\"descending\""));
    // The header links keep the filters and flip the direction of the active column.
    assert!(
        page.contains("href=\"/trusts?peer_group=acute&#38;exemplar=gde&#38;sort=maturity&#38;dir=asc\""),
        "{}",
        &page[page.find("<thead>").unwrap()..][..600]
    );
    let values: Vec<f64> = page
        .split("<td class=\"app-num\">")
        .skip(1)
        .filter_map(|cell| cell.split('<').next().and_then(|v| v.parse().ok()))
        .collect();
    assert!(values.len() == gde && values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let (_, csv) = app.text("/export/organisations.csv?peer_group=acute&region=London").await;
    assert!(parse_csv(&csv).1.iter().all(|r| r[2] == "acute" && r[3] == "London"));
}

#[tokio::test]
async fn the_ranked_table_of_a_metric_filters_by_region_and_sorts_by_gap() {
    let app = TestApp::spawn(true).await;
    let (status, page) =
        app.text("/metrics/digital_leadership_capability?peer_group=acute&region=London&sort=gap&dir=desc").await;
    assert_eq!(status, 200);
    let london: Vec<String> = app
        .state
        .figures()
        .reference
        .organisations
        .iter()
        .filter(|o| o.region == "London" && o.trust_type.as_str() == "acute")
        .map(|o| o.ods_code.clone())
        .collect();
    let table = &page[page.find("Ranking of acute trusts").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let linked: Vec<&str> = table.split("href=\"/trusts/").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert!(!linked.is_empty() && linked.iter().all(|c| london.iter().any(|l| l == c)), "{linked:?}");
    assert!(page.contains("aria-sort=\"descending\""));
    assert!(page.contains("National median"), "the distribution marks the national median");
}

#[tokio::test]
async fn a_trust_lands_on_its_trust_and_the_overview_lists_what_the_board_recommended() {
    use exemplar::domain::{Actor, Role};
    let app = TestApp::spawn_on(common::TestDb::new(), false).await;
    // A trust's user signing in from the sign-in page lands on its own trust, with "My trust".
    let trust = app.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{}/sign-in", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = common::csrf_of(&page);
    let form =
        [("email", "lead@rgt.example"), ("password", common::PASSWORD), ("csrf_token", csrf.as_str()), ("next", "/")];
    let r = client.post(format!("{}/sign-in", app.base)).form(&form).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/trusts/RGT"));
    let home = trust.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("href=\"/trusts/RGT\">My trust</a>"), "the navigation has My trust");

    let finding = exemplar::store::NewFinding {
        subject_kind: "metric".into(),
        subject: "eprescribing_coverage".into(),
        title: "Close the electronic prescribing gap".into(),
        body: "Fund the last acute trusts".into(),
        owner: "Board".into(),
        period: "2025-Q4".into(),
        based_on: "data version 1".into(),
        due_on: String::new(),
        blueprints: Vec::new(),
    };
    app.state.store.add_finding(&finding, &Actor::operator()).await.unwrap();
    // Recorded outside this server's web forms (as on another instance): seen once the kept
    // findings are read again.
    app.state.forget_findings();
    let (_, overview) = app.text("/").await;
    assert!(
        overview.contains("What the board has recommended")
            && overview.contains("Close the electronic prescribing gap")
    );
    let visitor = reqwest::get(format!("{}/", app.base)).await.unwrap().text().await.unwrap();
    assert!(!visitor.contains("Close the electronic prescribing gap"), "findings are for signed-in readers");
}

#[tokio::test]
async fn a_visitor_is_not_offered_pages_that_need_an_account_and_is_told_who_can_have_one() {
    let app = TestApp::spawn(true).await;
    let visitor = reqwest::Client::new();
    let home = visitor.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    let shown = visible(&home);
    for href in ["href=\"/metrics", "href=\"/export", "href=\"/gaps", "href=\"/trusts", "href=\"/board-pack"] {
        assert!(!shown.contains(href), "a visitor is offered {href}");
    }
    assert!(
        shown.contains("Accounts are made by Exemplar's administrators")
            || shown.contains("Accounts are made by Exemplar&#39;s administrators")
    );
    assert!(shown.contains(">Sign in</a>"));
    let sign_in = visitor.get(format!("{}/sign-in", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(sign_in.contains("Accounts are for NHS trusts"), "the sign-in page says who can have an account");

    // The same page for a signed-in reader links them, and says who is signed in.
    let (_, signed_in) = app.text("/").await;
    let shown = visible(&signed_in);
    assert!(shown.contains("href=\"/metrics/") && shown.contains("href=\"/board-pack?period="));
    assert!(shown.contains("(analyst)") && shown.contains(">Sign out</button>"), "who is signed in");
    assert!(!shown.contains("Accounts are made by"));
}

#[tokio::test]
async fn trusts_gaps_compare_and_exports_filter_by_integrated_care_board() {
    let app = TestApp::spawn(true).await;
    let west_yorkshire: Vec<String> = app
        .state
        .figures()
        .reference
        .organisations
        .iter()
        .filter(|o| o.icb == "QWO")
        .map(|o| o.ods_code.clone())
        .collect();
    assert!(west_yorkshire.len() >= 5, "the trust list carries each trust's ICB");

    let (status, trusts) = app.text("/trusts?icb=qwo").await;
    assert_eq!(status, 200);
    assert!(trusts.contains(&format!("<caption class=\"nhsuk-table__caption\">{} trusts", west_yorkshire.len())));
    assert!(trusts.contains("West Yorkshire (QWO)</option>") && trusts.contains("<td>West Yorkshire</td>"));
    let (status, wrong) = app.text("/trusts?icb=XYZ").await;
    assert_eq!(status, 400);
    assert!(wrong.contains("icb: &#39;XYZ&#39; is not the ODS code of an integrated care board"));

    let (_, csv) = app.text("/export/organisations.csv?icb=QWO").await;
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header[4], "icb");
    assert_eq!(rows.len(), west_yorkshire.len());
    assert!(rows.iter().all(|r| r[4] == "QWO" && west_yorkshire.contains(&r[0])));

    let (_, all_gaps) = app.text("/gaps").await;
    assert!(all_gaps.contains("Gaps by NHS England region") && all_gaps.contains("Gaps by integrated care board"));
    assert!(all_gaps.contains("<a href=\"/gaps?icb=QWO\">West Yorkshire (QWO)</a>"), "each ICB links to its own gaps");
    let (status, gaps) = app.text("/gaps?icb=QWO").await;
    assert_eq!(status, 200);
    let by_trust = gaps.split("id=\"by-trust\"").nth(1).unwrap();
    assert!(by_trust.contains(&format!("{} trusts, 25 a page", west_yorkshire.len())), "gaps by trust within the ICB");
    // Ranked by a stated measure, which the reader may change.
    assert!(by_trust.contains("the lowest maturity index first") && by_trust.contains("sort=need_worsening"));
    let (status, worsening) = app.text("/gaps?sort=need_worsening").await;
    assert_eq!(status, 200);
    let table = worsening.split("id=\"by-trust\"").nth(1).unwrap();
    assert!(table.contains("Trusts, the most metrics worsening first"));
    let counts: Vec<usize> = table
        .split("</tr>")
        .filter_map(|row| row.rsplit("<td class=\"app-num\">").next()?.split('<').next()?.parse().ok())
        .collect();
    assert!(counts.len() >= 10 && counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let (_, rug) = app.text("/compare?icb=QWO").await;
    assert_eq!(rug.matches("class=\"app-rug__trust\"").count(), west_yorkshire.len().min(20));

    // Each metric's definition, on its page and as an export.
    let (_, metric) = app.text("/metrics/eprescribing_coverage").await;
    assert!(metric.contains("Why it matters") && metric.contains("Inpatient beds where medicines are prescribed"));
    let (_, definitions) = app.text("/export/metric_definitions.csv").await;
    let (header, rows) = parse_csv(&definitions);
    assert_eq!(
        header,
        [
            "metric_id",
            "name",
            "rationale",
            "numerator_definition",
            "denominator_definition",
            "source",
            "frequency",
            "caveats"
        ]
    );
    assert_eq!(rows.len(), 57);
    assert!(rows.iter().all(|r| !r[2].is_empty() && !r[5].is_empty() && !r[7].is_empty()));
}
