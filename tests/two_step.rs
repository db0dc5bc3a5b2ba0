//! Two-step sign-in for privileged roles: set up with a QR code at the first sign-in when the
//! setting requires it, a code from the app (each once) or a recovery code (each once) after the
//! password, every step audited.

mod common;

use common::{TestApp, TestDb, csrf_of};
use exemplar::auth::mfa;
use exemplar::domain::Role;

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in with the password; answers the client and where it was sent.
async fn password(app: &TestApp, email: &str) -> (reqwest::Client, String) {
    let c = client();
    let page = c.get(format!("{}/sign-in?next=/trusts", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let r = c
        .post(format!("{}/sign-in", app.base))
        .form(&[("email", email), ("password", common::PASSWORD), ("csrf_token", &csrf), ("next", "/trusts")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    (c, r.headers()["location"].to_str().unwrap().to_string())
}

async fn post_code(app: &TestApp, c: &reqwest::Client, path: &str, code: &str) -> reqwest::Response {
    let page = c.get(format!("{}{path}?next=/trusts", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let form = [("csrf_token", csrf.as_str()), ("code", code), ("next", "/trusts")];
    c.post(format!("{}{path}", app.base)).form(&form).send().await.unwrap()
}

async fn status(app: &TestApp, c: &reqwest::Client, path: &str) -> u16 {
    c.get(format!("{}{path}", app.base)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_board_member_sets_up_an_app_then_signs_in_with_its_codes_or_a_recovery_code() {
    let app = TestApp::spawn_with(TestDb::new(), false, |c| c.require_mfa = true).await;
    let email = "chair@board.example";
    assert!(mfa_free_user(&app, email).await);

    // The first sign-in: the password, then setting up the app before anything else.
    let (c, to) = password(&app, email).await;
    assert_eq!(to, "/account/two-step?next=/trusts");
    assert_eq!(status(&app, &c, "/trusts").await, 303, "not signed in while the second factor is to come");
    let page = c.get(format!("{}{to}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg") && page.contains("app-key"), "a QR code drawn on the server, and the key");
    assert_eq!(post_code(&app, &c, "/account/two-step", "000000").await.status().as_u16(), 422);
    // Each visit to the form draws a new key, kept with the session until a code confirms it.
    let page = c.get(format!("{}/account/two-step?next=/trusts", app.base)).send().await.unwrap().text().await.unwrap();
    let secret: String = sqlx::query_scalar("SELECT enrolling_secret FROM sessions WHERE enrolling_secret IS NOT NULL")
        .fetch_one(app.state.store.pool())
        .await
        .unwrap();
    let now = mfa::now_unix();
    let first = mfa::code_at(&secret, email, now).unwrap();
    let form = [("csrf_token", csrf_of(&page)), ("code", first.clone()), ("next", "/trusts".into())];
    let done = c.post(format!("{}/account/two-step", app.base)).form(&form).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let codes_page = done.text().await.unwrap();
    let codes: Vec<String> =
        codes_page.split("<li><code>").skip(1).map(|s| s.split("</code>").next().unwrap().to_string()).collect();
    assert_eq!(codes.len(), mfa::RECOVERY_CODES);
    assert_eq!(status(&app, &c, "/trusts").await, 200, "signed in once the app is set up");

    // The next sign-in asks for the code; the one already used is refused (no replay).
    let (c2, to) = password(&app, email).await;
    assert_eq!(to, "/sign-in/code?next=/trusts");
    assert_eq!(post_code(&app, &c2, "/sign-in/code", &first).await.status().as_u16(), 401);
    assert_eq!(status(&app, &c2, "/trusts").await, 303);
    // A recovery code signs in once.
    let used = post_code(&app, &c2, "/sign-in/code", &codes[3].to_uppercase()).await;
    assert_eq!((used.status().as_u16(), used.headers()["location"].to_str().unwrap()), (303, "/trusts"));
    assert_eq!(status(&app, &c2, "/trusts").await, 200);
    let (c3, _) = password(&app, email).await;
    assert_eq!(post_code(&app, &c3, "/sign-in/code", &codes[3]).await.status().as_u16(), 401, "used once only");
    // The code of the next time step works.
    let next = mfa::code_at(&secret, email, now + 30).unwrap();
    assert_eq!(post_code(&app, &c3, "/sign-in/code", &next).await.status().as_u16(), 303);

    let audit = app.state.store.audit_log(100).await.unwrap();
    for action in ["mfa.enrol", "mfa.enrol_failure", "mfa.recovery_code", "mfa.failure", "mfa.success"] {
        assert!(audit.iter().any(|e| e.action == action && e.subject == email), "{action} audited");
    }
}

/// Adds a user with the test password (no second factor yet); answers whether it was added.
async fn mfa_free_user(app: &TestApp, email: &str) -> bool {
    let hash = exemplar::auth::password::hash(common::PASSWORD.into(), email).await.unwrap();
    let by = exemplar::store::Actor::new("test", None);
    app.state.store.add_user(email, Role::Board, None, Some(&hash), &by).await.is_ok()
}

#[tokio::test]
async fn without_the_setting_privileged_users_sign_in_with_a_password_and_may_turn_it_on() {
    let app = TestApp::spawn_on(TestDb::new(), false).await;
    assert!(mfa_free_user(&app, "member@board.example").await);
    let (c, to) = password(&app, "member@board.example").await;
    assert_eq!(to, "/trusts");
    assert_eq!(status(&app, &c, "/account/two-step").await, 200, "a signed-in user may set it up");
    // A trust's submitter is never asked, even with the setting on.
    let strict = TestApp::spawn_with(TestDb::new(), false, |c| c.require_mfa = true).await;
    strict.user("lead@rgt.example", Role::Trust, Some("RGT")).await;
    let (_, to) = password(&strict, "lead@rgt.example").await;
    assert_eq!(to, "/trusts");
    // Signed out, the pages send to the sign-in.
    assert_eq!(status(&app, &client(), "/sign-in/code").await, 303);
    assert_eq!(status(&app, &client(), "/account/two-step").await, 303);
}
