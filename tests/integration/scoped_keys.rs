//! Scoped API keys on verify-local over HTTP: a key holding `verify` only
//! (the browser-side key of an agent console) starts, checks and fetches,
//! and is refused 403/20403 for everything else, with nothing written or
//! sent; a `reports`-only key cannot send a code.

use crate::local_server::LocalServer;
use crate::support::fresh_number;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::Value;

const VA: &str = "VA0123456789abcdef0123456789abcdef";
const DEV: &str = "SKdev:dev-secret";

/// `printf %s panel-secret | sha256sum` and the same for `reader-secret`,
/// as the README tells an operator to configure a key.
const PANEL_SHA256: &str = "14c660b289912fe36e4caca8eb372106f19a9ed9d37adfd03c504648faa4b5e4";
const READER_SHA256: &str = "f03319dee240faa729e0cfa7ab5ffd80a1d64a127e3643f239009abff6382914";

fn keys_json() -> String {
    serde_json::json!([
        {"key_id": "SKpanel", "secret_sha256": PANEL_SHA256, "permissions": ["verify"]},
        {"key_id": "SKreader", "secret_sha256": READER_SHA256, "permissions": ["reports"]},
    ])
    .to_string()
}

fn panel(req: RequestBuilder) -> RequestBuilder {
    req.basic_auth("SKpanel", Some("panel-secret"))
}

fn reader(req: RequestBuilder) -> RequestBuilder {
    req.basic_auth("SKreader", Some("reader-secret"))
}

async fn forbidden(resp: reqwest::Response, what: &str) {
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{what}");
    if resp.headers()["content-type"].to_str().unwrap().starts_with("text/html") {
        // The dashboard's refusals are a page (only the dashboard's).
        assert_eq!(what, "/dashboard");
        let page = resp.text().await.unwrap();
        assert!(page.contains("(error 20403)"), "{what}: {page}");
        return;
    }
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["code"], 20403, "{what}: {v}");
    assert!(v["detail"].as_str().unwrap().contains("permission"), "{what}: {v}");
}

#[tokio::test]
async fn a_verify_only_key_verifies_and_does_nothing_else() {
    let keys = keys_json();
    let server =
        LocalServer::start_with_env(&["--memory", "--api-key", DEV], &[("VERIFY_SERVICE_SID", VA), ("VERIFY_API_KEYS", &keys)]).await;
    let client = Client::new();
    let to = fresh_number();
    let verifications = server.url(&format!("/v2/Services/{VA}/Verifications"));

    let started = panel(client.post(&verifications)).form(&[("To", to.as_str()), ("Channel", "sms")]).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::CREATED);
    let sid = started.json::<Value>().await.unwrap()["sid"].as_str().unwrap().to_owned();
    let one = server.url(&format!("/v2/Services/{VA}/Verifications/{sid}"));
    let wrong = panel(client.post(server.url("/check-verify"))).form(&[("To", to.as_str()), ("Code", "000000")]).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::OK, "a check is `verify`");

    // Approving without a code needs `approve`: refused, and the verification
    // is untouched.
    forbidden(panel(client.post(&one)).form(&[("Status", "approved")]).send().await.unwrap(), "approve").await;
    let fetched: Value = panel(client.get(&one)).send().await.unwrap().json().await.unwrap();
    assert_eq!(fetched["status"], "pending", "the refused approval wrote nothing");

    let service = format!("/v2/Services/{VA}");
    let safe = format!("/v2/SafeList/Numbers/{}", to.replace('+', "%2B"));
    for path in ["/v2/Services", &service, "/v2/Attempts", "/v2/Attempts/Summary", "/events", "/dashboard", "/_local/messages", &safe] {
        forbidden(panel(client.get(server.url(path))).send().await.unwrap(), path).await;
    }
    let list = panel(client.post(server.url("/v2/SafeList/Numbers"))).form(&[("PhoneNumber", to.as_str())]);
    forbidden(list.send().await.unwrap(), "Safe List create").await;
    let listed = reqwest::Client::new().get(server.url(&safe)).basic_auth("SKdev", Some("dev-secret")).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::NOT_FOUND, "the refused create listed nothing");
    // Still one message, and the right code approves.
    assert_eq!(server.message_count(&to).await, 1);
    let code = server.last_code(&to).await;
    let checked: Value = panel(client.post(server.url(&format!("/v2/Services/{VA}/VerificationCheck"))))
        .form(&[("To", to.as_str()), ("Code", code.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(checked["status"], "approved");

    // A reports-only key reads reports and cannot send a code.
    let other = fresh_number();
    forbidden(reader(client.post(&verifications)).form(&[("To", other.as_str())]).send().await.unwrap(), "start by reader").await;
    forbidden(reader(client.post(server.url("/start-verify"))).form(&[("To", other.as_str())]).send().await.unwrap(), "plain start").await;
    assert_eq!(server.message_count(&other).await, 0, "a refused start sends nothing");
    let summary = reader(client.get(server.url("/v2/Attempts/Summary"))).send().await.unwrap();
    assert_eq!(summary.status(), StatusCode::OK);
    server.stop().await;
}
