//! Every route × every role (and signed out): the status each gets, from the one route table.

mod common;

use common::{TestApp, TestDb, csrf_of, small_csv};
use exemplar::domain::Role;
use exemplar::web::access::{Access, ROUTES};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    SignedOut,
    As(Role),
}

/// A concrete path for a route pattern.
fn path_of(route: &str) -> String {
    route
        .replace("{metric_id}", "digital_leadership_capability")
        .replace("{ods_code}", "RGT")
        .replace("{file}", "organisations.csv")
        .replace("{upload_id}", "999999")
        .replace("{id}", "1")
        .replace("{standard_id}", "dspt")
        .replace("{system_id}", "epic_epr")
        .replace("{name}", "metrics")
        .replace("{code}", "QNC")
        .replace("{measure}", "registrations")
}

/// What a user who may use the route gets from these requests.
fn allowed_status(method: &str, route: &str, who: Who) -> u16 {
    let trust = who == Who::As(Role::Trust);
    match (method, route) {
        ("POST", "/sign-in") => 401,  // the password is wrong
        ("POST", "/sign-out") => 303, // back to the overview
        // No sign-in waits for a code: back to the sign-in form.
        (_, "/sign-in/code") => 303,
        // Setting up an app: a signed-in user gets the form (a post without a code is refused).
        ("GET", "/account/two-step") if who != Who::SignedOut => 200,
        ("POST", "/account/two-step") if who != Who::SignedOut => 303, // no key drawn yet: back to the form
        (_, "/account/two-step") => 303,
        ("POST", "/submit") => 422, // nothing chosen
        ("POST", "/submit/{upload_id}/confirm") => 404,
        ("POST", "/api/v1/submissions") => 415, // no media type
        (
            "POST",
            "/findings" | "/findings/{id}/status" | "/completeness/sign-off" | "/completeness/window" | "/releases",
        ) => 422, // the form lacks its fields
        ("GET", "/submissions/{id}" | "/api/v1/submissions/{id}") if trust => 404, // not its trust's
        ("GET", "/blueprints/{id}") => 404,     // no blueprint yet
        ("POST", "/blueprints") => 422,         // the form lacks its fields
        ("POST", "/blueprints/{id}/review") => 422, // no decision
        ("POST", "/peer-groups") => 422,        // no name, no trusts
        (_, "/peer-groups/{id}" | "/peer-groups/{id}/delete") => 404, // no group yet
        _ => 200,
    }
}

#[tokio::test]
async fn every_route_gives_every_role_the_status_the_route_table_says() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    // One submission from the command line, so that /submissions/1 exists.
    let store = &app.state.store;
    let file = small_csv(&[("RGT", "digital_leadership_capability", "2025-Q1", "3")]);
    common::submit_csv(store, file, chrono::Utc::now().date_naive(), false).await;
    app.state.refresh().await.unwrap();

    let roles = [Role::Trust, Role::Board, Role::Analyst, Role::Assessor, Role::Admin];
    let mut checked = 0;
    for who in [Who::SignedOut].into_iter().chain(roles.iter().map(|r| Who::As(*r))) {
        for (method, route, access) in ROUTES {
            // A fresh session for each request, so that signing out does not end the others.
            let email = match who {
                Who::SignedOut => None,
                Who::As(role) => Some(format!("{}-{checked}@access.example", role.as_str())),
            };
            let client = match (who, &email) {
                (Who::As(role), Some(email)) => app.user(email, role, (role == Role::Trust).then_some("RGT")).await,
                _ => app.anonymous(),
            };
            let url = format!("{}{}", app.base, path_of(route));
            let csrf = if *method == "POST" {
                let page = client.get(format!("{}/sign-in", app.base)).send().await.unwrap().text().await.unwrap();
                csrf_of(&page)
            } else {
                String::new()
            };
            let response = match *method {
                "GET" => client.get(&url).send().await.unwrap(),
                // A change through the API needs a token (the session cookie alone is refused).
                _ if route.starts_with("/api/") => match &email {
                    Some(email) => {
                        let cookie_only = client.post(&url).body("x").send().await.unwrap();
                        assert_eq!(cookie_only.status().as_u16(), 401, "{route} with a session cookie only");
                        client.post(&url).bearer_auth(app.token(email).await).body("x").send().await.unwrap()
                    }
                    None => client.post(&url).body("x").send().await.unwrap(),
                },
                _ if *route == "/submit" => {
                    let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone());
                    client.post(&url).multipart(form).send().await.unwrap()
                }
                _ => client
                    .post(&url)
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("email", "nobody@example.org"),
                        ("password", "wrong password"),
                    ])
                    .send()
                    .await
                    .unwrap(),
            };
            // The wrong passwords sent to /sign-in must not lock out the next users of this test.
            app.state.limiter.reset();
            let status = response.status().as_u16();
            let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
            let is_json = response.headers().get("content-type").is_some_and(|c| c.to_str().unwrap().contains("json"));
            let may = match (access, who) {
                (Access::Public, _) => true,
                (_, Who::SignedOut) => false,
                (Access::SignedIn, Who::As(_)) => true,
                (Access::Roles(roles), Who::As(role)) => roles.contains(&role),
            };
            let context = format!("{method} {route} as {who:?}");
            match (may, who) {
                (true, _) => assert_eq!(status, allowed_status(method, route, who), "{context}"),
                (false, Who::SignedOut) if route.starts_with("/api/") => {
                    assert_eq!(status, 401, "{context}");
                    assert!(is_json, "{context} answers JSON");
                }
                (false, Who::SignedOut) => {
                    assert_eq!(status, 303, "{context}");
                    assert!(location.as_deref().is_some_and(|l| l.starts_with("/sign-in")), "{context}: {location:?}");
                }
                (false, Who::As(_)) => {
                    assert_eq!(status, 403, "{context}");
                    assert_eq!(is_json, route.starts_with("/api/"), "{context}: JSON for the API only");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 6);
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    let trust = app.user("csrf@trust.example", Role::Trust, Some("RGT")).await;
    let response = trust.post(format!("{}/sign-out", app.base)).form(&[("csrf_token", "forged")]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let form = reqwest::multipart::Form::new()
        .text("pasted", "org_code,metric_id,period,value\nRGT,digital_leadership_capability,2025-Q1,3\n");
    let response = trust.post(format!("{}/submit", app.base)).multipart(form).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(app.state.store.data_version().await.unwrap(), 0, "nothing stored");
    // Still signed in: the refused form changed nothing.
    assert_eq!(trust.get(format!("{}/submit", app.base)).send().await.unwrap().status().as_u16(), 200);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    for path in ["/", "/sign-in", "/static/css/app.css", "/no-such-page", "/healthz"] {
        let response = app.anonymous().get(format!("{}{path}", app.base)).send().await.unwrap();
        let h = response.headers();
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
}

#[tokio::test]
async fn sign_in_waits_after_five_failures_and_every_checked_attempt_is_audited() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("limited@board.example", Role::Board, None).await;
    for _ in 0..5 {
        assert_eq!(app.sign_in("limited@board.example", "not the password").await.err(), Some(401));
    }
    assert_eq!(
        app.sign_in("limited@board.example", common::PASSWORD).await.err(),
        Some(429),
        "even the right password waits"
    );
    // The attempt that waited was not checked, and is logged but not audited (a flood of them
    // would fill the audit log).
    let audit = app.state.store.audit_log(100).await.unwrap();
    let failures =
        audit.iter().filter(|e| e.action == "sign_in.failure" && e.subject == "limited@board.example").count();
    assert_eq!(failures, 5);
    assert!(audit.iter().any(|e| e.action == "sign_in.success" && e.origin.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_lax_and_renewed_at_sign_in() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    app.user("cookie@analyst.example", Role::Analyst, None).await;
    let client = app.anonymous();
    let first = client.get(format!("{}/sign-in", app.base)).send().await.unwrap();
    let before = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(before.contains("HttpOnly") && before.contains("SameSite=Lax"), "{before}");
    let csrf = csrf_of(&first.text().await.unwrap());
    let signed = client
        .post(format!("{}/sign-in", app.base))
        .form(&[("email", "cookie@analyst.example"), ("password", common::PASSWORD), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 303);
    let after = signed.headers()["set-cookie"].to_str().unwrap().to_string();
    assert_ne!(before.split(';').next(), after.split(';').next(), "a new session id at sign-in");
}
