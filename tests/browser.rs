//! In a real browser (headless Chromium through chromedriver): sign in, upload a file, see the
//! preview, confirm, and find the values on the trust page; and axe-core's WCAG 2.2 AA rules on
//! every page. Screenshots go to `target/screenshots/`.
//!
//! Needs `chromium` and `chromium-driver` (Debian); `.ci/run` installs them and sets
//! `EXEMPLAR_REQUIRE_BROWSER=1`, which turns a missing browser into a failure.

mod common;

use common::{TestApp, TestDb};
use exemplar::domain::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};

struct Browser {
    client: Client,
    driver: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn driver_path() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

async fn browser() -> Option<Browser> {
    let Some(driver) = driver_path() else {
        assert!(std::env::var_os("EXEMPLAR_REQUIRE_BROWSER").is_none(), "chromedriver is required but not installed");
        eprintln!("skipped: chromedriver is not installed (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child =
        Command::new(driver).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1600",
                     format!("--user-data-dir={}", tempfile::tempdir().unwrap().keep().display())]
        }),
    );
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return Some(Browser { client, driver: child }),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("chromedriver did not start: {last:?}");
}

async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), client.screenshot().await.unwrap()).unwrap();
}

/// A new user of `role` (not bound to a trust), signed in.
async fn signed_in_as(b: &Client, app: &TestApp, email: &str, role: Role) {
    let hash = exemplar::auth::password::hash(common::PASSWORD.into(), email).await.unwrap();
    let by = exemplar::store::Actor::new("test", None);
    app.state.store.add_user(email, role, None, Some(&hash), &by).await.unwrap();
    sign_in(b, &app.base, email).await;
    b.wait().for_element(Locator::XPath("//button[contains(., 'Sign out')]")).await.unwrap();
}

async fn sign_in(b: &Client, base: &str, email: &str) {
    b.goto(&format!("{base}/sign-in")).await.unwrap();
    b.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    b.find(Locator::Id("password")).await.unwrap().send_keys(common::PASSWORD).await.unwrap();
    b.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn a_trust_signs_in_uploads_previews_confirms_and_finds_its_values() {
    let Some(browser) = browser().await else { return };
    let b = &browser.client;
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let hash = exemplar::auth::password::hash(common::PASSWORD.into(), "browser@rgt.example").await.unwrap();
    let by = exemplar::store::Actor::new("test", None);
    app.state.store.add_user("browser@rgt.example", Role::Trust, Some("RGT"), Some(&hash), &by).await.unwrap();

    sign_in(b, &app.base, "browser@rgt.example").await;
    b.wait().for_element(Locator::XPath("//button[contains(., 'Sign out')]")).await.unwrap();
    let landed = b.current_url().await.unwrap();
    assert_eq!(landed.path(), "/trusts/RGT", "a trust's user lands on their trust");
    b.goto(&format!("{}/submit", app.base)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rgt.csv");
    std::fs::write(
        &file,
        "org_code,metric_id,period,value\r\nRGT,digital_leadership_capability,2025-Q4,4.7\r\nRGT,digital_spend_share,2025-Q4,3.25\r\n",
    )
    .unwrap();
    b.find(Locator::Id("file")).await.unwrap().send_keys(file.to_str().unwrap()).await.unwrap();
    screenshot(b, "submit").await;
    b.find(Locator::Css("#upload button[type=submit]")).await.unwrap().click().await.unwrap();

    let heading = b.wait().for_element(Locator::XPath("//h1[. != 'Submit for RGT']")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Check before storing");
    let preview = b.source().await.unwrap();
    assert!(
        preview.contains("2025/26 Q3") && preview.contains("digital_spend_share"),
        "the preview lists quarter and metrics"
    );
    screenshot(b, "preview").await;
    assert_eq!(app.state.store.current_values().await.unwrap().len(), 0, "nothing stored before confirming");
    b.find(Locator::XPath("//button[normalize-space()='Confirm and store']")).await.unwrap().click().await.unwrap();

    let heading = b.wait().for_element(Locator::XPath("//h1[starts-with(., 'Submission')]")).await.unwrap();
    let heading = heading.text().await.unwrap();
    assert!(heading.ends_with("accepted"), "{heading}");
    let panel = b.find(Locator::Css(".nhsuk-panel")).await.unwrap().text().await.unwrap();
    assert!(panel.contains("2 values stored: 2 new, 0 revised"), "the confirmation panel: {panel}");
    let stored = b.find(Locator::Css("main table")).await.unwrap().text().await.unwrap();
    assert!(stored.contains("Digital leadership capability") && stored.contains("new"), "what was stored: {stored}");
    screenshot(b, "submitted").await;
    b.find(Locator::XPath("//a[starts-with(., 'Your scorecard for')]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("h1")).await.unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/trusts/RGT");
    b.goto(&format!("{}/trusts/RGT?period=2025-Q4", app.base)).await.unwrap();
    let page = b.source().await.unwrap();
    assert!(page.contains("4.7") && page.contains("3.25"), "the values are on the trust page");
    screenshot(b, "trust").await;
    browser.client.clone().close().await.unwrap();
}

/// axe-core, installed by `.ci/run` (`npm install --prefix .ci/node axe-core@4`).
fn axe_source() -> Option<String> {
    let path = std::env::var("EXEMPLAR_AXE_JS").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/node/node_modules/axe-core/axe.min.js")
    });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var_os("EXEMPLAR_REQUIRE_BROWSER").is_none(),
                "axe-core is required but not at {}",
                path.display()
            );
            eprintln!("skipped: axe-core is not installed at {}", path.display());
            None
        }
    }
}

/// What makes the page scroll sideways (wider than the window, outside a scroll container), if
/// anything does.
async fn sideways(b: &Client) -> Option<String> {
    let found = b
        .execute(
            "const root = document.documentElement;
             if (root.scrollWidth <= window.innerWidth) return null;
             const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) {
                 const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
             const wide = [...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !inScroller(el));
             return 'page ' + root.scrollWidth + ' px wide: ' + wide.slice(0, 3).map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '')).join(', ');",
            vec![],
        )
        .await
        .unwrap();
    found.as_str().map(str::to_string)
}

/// The WCAG 2.2 AA violations axe-core finds on the current page, as "rule: target" lines.
async fn violations(b: &Client, axe: &str) -> Vec<String> {
    b.execute(axe, vec![]).await.unwrap();
    let result = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } })
                .then(r => done(r.violations.flatMap(v => v.nodes.map(n => v.id + ': ' + n.target.join(' ')))))
                .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(result).unwrap()
}

#[tokio::test]
async fn every_page_passes_axe_core_wcag_2_2_aa() {
    let Some(browser) = browser().await else { return };
    let Some(axe) = axe_source() else { return };
    let b = &browser.client;
    let app = TestApp::spawn(true).await;
    let system = app.state.figures().reference.systems[0].system_id.clone();
    let mut pages: Vec<String> = exemplar::web::access::ROUTES
        .iter()
        .filter(|(method, route, _)| {
            *method == "GET"
                && !route.starts_with("/api/")
                && !route.starts_with("/export/")
                && !route.ends_with(".csv")
                && *route != "/healthz"
        })
        .map(|(_, route, _)| {
            route
                .replace("{metric_id}", "digital_leadership_capability")
                .replace("{ods_code}", "RGT")
                .replace("{standard_id}", "dspt")
                .replace("{system_id}", &system)
                .replace("{id}", "1")
                .replace("{code}", "QNC")
                .replace("{measure}", "registrations")
        })
        .collect();
    pages.push("/trusts?peer_group=ambulance&region=London".into());
    // A shared peer group (/peer-groups/1), and a metric ranked within it.
    let owner = app.state.store.users().await.unwrap().remove(0);
    let group = exemplar::store::NewPeerGroup {
        name: "Teaching trusts".into(),
        shared: true,
        members: ["RGT", "RJ1", "RRV", "RTH", "R0A"].map(String::from).to_vec(),
    };
    app.state.store.add_peer_group(&group, &owner, &exemplar::store::Actor::new("test", None)).await.unwrap();
    pages.push("/metrics/eprescribing_coverage?peer_group=saved-1".into());
    // A proportion: its funnel plot, and a trust's Making Data Count chart of it.
    pages.push("/metrics/eprescribing_coverage".into());
    pages.push("/trusts/RGT/metrics/eprescribing_coverage".into());

    // Signed out first (the public pages and sign-in), then as a trust's submitter and an admin.
    let mut failures = Vec::new();
    for page in ["/", "/standards", "/methods", "/sign-in", "/app"] {
        b.goto(&format!("{}{page}", app.base)).await.unwrap();
        failures.extend(violations(b, &axe).await.into_iter().map(|v| format!("{page} (signed out): {v}")));
    }
    let hash = exemplar::auth::password::hash(common::PASSWORD.into(), "axe@example").await.unwrap();
    let by = exemplar::store::Actor::new("test", None);
    for (email, role, org) in [("axe@rgt.example", Role::Trust, Some("RGT")), ("axe@admin.example", Role::Admin, None)]
    {
        app.state.store.add_user(email, role, org, Some(&hash), &by).await.unwrap();
        sign_in(b, &app.base, email).await;
        b.wait().for_element(Locator::XPath("//button[contains(., 'Sign out')]")).await.unwrap();
        for page in &pages {
            // Pages a role may not use answer with a 403 page, which is checked too.
            b.goto(&format!("{}{page}", app.base)).await.unwrap();
            let slug = page.trim_start_matches('/').replace(['/', '?', '&', '='], "_");
            let name = format!("{}-{}", role.as_str(), if slug.is_empty() { "overview" } else { slug.as_str() });
            screenshot(b, &name).await;
            failures.extend(violations(b, &axe).await.into_iter().map(|v| format!("{page} ({role}): {v}")));
            // At a phone's width nothing scrolls sideways but inside a scroll container.
            b.set_window_size(390, 844).await.unwrap();
            if let Some(wide) = sideways(b).await {
                failures.push(format!("{page} ({role}) at 390 px: {wide}"));
            }
            screenshot(b, &format!("{name}-390")).await;
            failures.extend(violations(b, &axe).await.into_iter().map(|v| format!("{page} ({role}, 390 px): {v}")));
            b.set_window_size(1280, 1600).await.unwrap();
        }
        b.find(Locator::XPath("//button[contains(., 'Sign out')]")).await.unwrap().click().await.unwrap();
        b.wait().for_element(Locator::XPath("//a[normalize-space()='Sign in']")).await.unwrap();
    }
    assert!(failures.is_empty(), "{} WCAG violations:\n{}", failures.len(), failures.join("\n"));
    // The check itself can fail: an image without a text alternative is found.
    b.execute("const i = document.createElement('img'); i.src = '/assets/images/favicon.svg'; document.querySelector('main').appendChild(i);", vec![])
        .await
        .unwrap();
    let found = violations(b, &axe).await;
    assert!(found.iter().any(|v| v.starts_with("image-alt")), "{found:?}");
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_board_member_follows_filters_and_downloads_the_table_as_csv() {
    let Some(browser) = browser().await else { return };
    let b = &browser.client;
    let app = TestApp::spawn(true).await;
    signed_in_as(b, &app, "filters@board.example", Role::Board).await;

    b.goto(&format!("{}/trusts", app.base)).await.unwrap();
    b.find(Locator::Css("#peer_group option[value=ambulance]")).await.unwrap().click().await.unwrap();
    b.find(Locator::Css("main form button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait()
        .for_url(&format!("{}/trusts?q=&peer_group=ambulance&region=&icb=&exemplar=", app.base).parse().unwrap())
        .await
        .unwrap();
    let caption = b.find(Locator::Css("caption")).await.unwrap().text().await.unwrap();
    assert!(caption.starts_with("10 trusts"), "{caption}");
    screenshot(b, "filtered-trusts").await;

    // Sort by maturity with the header link: the filter stays in the URL.
    b.find(Locator::Css("th a[href*='sort=maturity']")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("th[aria-sort=ascending]")).await.unwrap();
    let url = b.current_url().await.unwrap().to_string();
    assert!(url.contains("peer_group=ambulance") && url.contains("sort=maturity"), "{url}");

    // The CSV link carries the same filter; the browser fetches it with its session.
    let href =
        b.find(Locator::LinkText("Download these trusts as CSV")).await.unwrap().attr("href").await.unwrap().unwrap();
    assert_eq!(href, "/export/organisations.csv?peer_group=ambulance");
    let csv = b
        .execute_async(
            "const done = arguments[0]; fetch(arguments[1]).then(r => r.text()).then(done);",
            vec![serde_json::json!(href)],
        )
        .await;
    let csv = match csv {
        Ok(v) => v,
        // Some drivers pass the callback last: try the other order.
        Err(_) => b
            .execute_async(
                "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);",
                vec![serde_json::json!(href)],
            )
            .await
            .unwrap(),
    };
    let csv = csv.as_str().unwrap_or_default().to_string();
    let (header, rows) = common::parse_csv(&csv);
    assert_eq!(header[0], "org_code");
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r[2] == "ambulance"));
    browser.client.clone().close().await.unwrap();
}

/// The pages a PDF has, from its page tree (`/Count N`) and its page objects.
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let objects = text.match_indices("/Type /Page").filter(|(i, _)| !text[i + 11..].starts_with('s')).count();
    let counted = text
        .match_indices("/Count ")
        .filter_map(|(i, _)| text[i + 7..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    assert_eq!(objects, counted, "the page tree and the page objects agree");
    objects
}

#[tokio::test]
async fn the_board_pack_prints_as_an_a4_document_with_a_cover_and_a_page_per_section() {
    let Some(browser) = browser().await else { return };
    let b = &browser.client;
    let app = TestApp::spawn(true).await;
    signed_in_as(b, &app, "pack@board.example", Role::Board).await;
    let latest = app.state.figures().latest_period().unwrap();
    b.goto(&format!("{}/board-pack?period={latest}", app.base)).await.unwrap();
    let title = b.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert!(title.contains(&latest.financial_label()), "{title}");
    let contents = b.find_all(Locator::Css(".app-pack__contents li")).await.unwrap();
    assert_eq!(contents.len(), 7, "a contents list of the seven sections");
    let cover = b.find(Locator::Css(".app-pack__cover")).await.unwrap().text().await.unwrap();
    assert!(cover.contains("data version") && cover.contains("Synthetic figures"), "{cover}");
    screenshot(b, "board-pack").await;

    let pdf = b.print(fantoccini::wd::PrintConfiguration::default()).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    std::fs::write(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots/board-pack.pdf"), &pdf)
        .unwrap();
    let pages = pdf_pages(&pdf);
    // The cover and contents, then each of the seven sections from a new page.
    assert!((8..=30).contains(&pages), "{pages} pages");
    browser.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn at_a_phone_width_the_header_menu_collapses_into_more() {
    let Some(browser) = browser().await else { return };
    let b = &browser.client;
    let app = TestApp::spawn(true).await;
    signed_in_as(b, &app, "phone@board.example", Role::Board).await;
    b.set_window_size(390, 844).await.unwrap();
    b.goto(&format!("{}/gaps", app.base)).await.unwrap();
    let toggle = b
        .wait()
        .for_element(Locator::Css(".nhsuk-header__menu:not([hidden]) .nhsuk-header__menu-toggle"))
        .await
        .unwrap();
    assert_eq!(toggle.attr("aria-expanded").await.unwrap().as_deref(), Some("false"));
    screenshot(b, "phone-menu-closed").await;
    toggle.click().await.unwrap();
    b.wait().for_element(Locator::Css(".nhsuk-header__menu-toggle[aria-expanded=true]")).await.unwrap();
    let listed = b.find_all(Locator::Css(".nhsuk-header__menu-list .nhsuk-header__navigation-link")).await.unwrap();
    assert!(listed.len() >= 3, "the links that did not fit are in the menu: {}", listed.len());
    screenshot(b, "phone-menu-open").await;
    assert_eq!(sideways(b).await, None);
    browser.client.clone().close().await.unwrap();
}
