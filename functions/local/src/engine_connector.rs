//! The SDK's DynamoDB client connected to the embedded engine in process.
//!
//! Each request the SDK builds (and signs) is handed to the engine's own
//! operation for its `X-Amz-Target`, the `dynoxide::Database` method its
//! HTTP server calls, and the answer comes back as the HTTP response that
//! server writes (`serde_json` of the operation's response, or of the
//! refusal for a failed condition with the item that stood): the same
//! engine, items, conditions and stream records, without a loopback socket,
//! an HTTP exchange and a second parse of the body per request. verify-local
//! makes about ten such requests per verification, and the sockets, the
//! server and the parse were about a fifth of its CPU
//! (`bench/results/local-in-process.md`).
//!
//! Everything else goes to the engine's HTTP server on loopback, as every
//! request did before: a body that does not decode, an operation not served
//! here, and any error other than a failed condition (a failed operation
//! changed nothing, so the server runs it again and words the error exactly
//! as it does, with its own request checks and validation envelopes). What
//! the fast path does not repeat from the server is its check of the body's
//! JSON field types before decoding, which only a malformed request fails;
//! the SDK's serialisers do not make those.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use dynoxide::{Database, DynoxideError};
use serde::Serialize;
use serde::de::DeserializeOwned;

const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An SDK HTTP client that serves the requests it can by `db` in process and
/// sends the rest over `http` (to the engine's HTTP server).
#[derive(Clone)]
struct InProcess {
    db: Database,
    http: SharedHttpClient,
}

/// `plain`'s client (credentials, signing, retries, timeouts, endpoint: the
/// engine's HTTP server) with its requests answered by `db` where they can
/// be, and sent over `plain`'s own HTTP client otherwise.
pub fn client(plain: &aws_sdk_dynamodb::Client, db: Database) -> Result<aws_sdk_dynamodb::Client, String> {
    let http = plain.config().http_client().ok_or("the DynamoDB client has no HTTP client")?;
    Ok(aws_sdk_dynamodb::Client::from_conf(plain.config().to_builder().http_client(InProcess { db, http }).build()))
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcess")
    }
}

impl HttpClient for InProcess {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(Connector { db: self.db.clone(), over_http: self.http.http_connector(settings, components) })
    }
}

struct Connector {
    db: Database,
    over_http: SharedHttpConnector,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("over_http", &self.over_http).finish_non_exhaustive()
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        // The engine runs an operation to completion on this thread (SQLite
        // behind its lock), as its HTTP server's handler does on a runtime
        // worker.
        match answer(&self.db, &request) {
            Some(response) => HttpConnectorFuture::ready(Ok(response)),
            None => self.over_http.call(request),
        }
    }
}

/// The engine's answer to `request`, or `None` to send it over HTTP.
fn answer(db: &Database, request: &HttpRequest) -> Option<HttpResponse> {
    let operation = request.headers().get("x-amz-target")?.strip_prefix(TARGET_PREFIX)?;
    let (status, json) = match serve(db, operation, request.body().bytes()?)? {
        Ok(json) => (200, json),
        Err(refused @ DynoxideError::ConditionalCheckFailedException(..)) => (refused.status_code(), refused.to_json()),
        Err(_) => return None,
    };
    let mut response = HttpResponse::new(status.try_into().ok()?, SdkBody::from(json));
    response.headers_mut().insert("content-type", CONTENT_TYPE);
    Some(response)
}

/// One request, decoded and run by the engine's operation: its answer
/// encoded, or its error; `None` when it is not served here or its body does
/// not decode (nothing ran).
fn serve(db: &Database, operation: &str, body: &[u8]) -> Option<Result<String, DynoxideError>> {
    match operation {
        "GetItem" => run(body, |r| db.get_item(r)),
        "PutItem" => run(body, |r| db.put_item(r)),
        "UpdateItem" => run(body, |r| db.update_item(r)),
        "DeleteItem" => run(body, |r| db.delete_item(r)),
        "Query" => run(body, |r| db.query(r)),
        "BatchGetItem" => run(body, |r| db.batch_get_item(r)),
        _ => None,
    }
}

fn run<Req: DeserializeOwned, Resp: Serialize>(
    body: &[u8],
    op: impl FnOnce(Req) -> dynoxide::Result<Resp>,
) -> Option<Result<String, DynoxideError>> {
    let request = serde_json::from_slice(body).ok()?;
    Some(op(request).and_then(|r| serde_json::to_string(&r).map_err(|e| DynoxideError::InternalServerError(e.to_string()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::{AttributeValue as AV, ReturnValuesOnConditionCheckFailure};

    /// A client for `endpoint`, in process over `db` when `db` is given.
    fn client_at(endpoint: &str, db: Option<&Database>) -> aws_sdk_dynamodb::Client {
        let plain = verify_aws::clients::dynamodb_at(endpoint);
        match db {
            None => plain,
            Some(db) => client(&plain, db.clone()).unwrap(),
        }
    }

    /// The engine's HTTP server for `db` on loopback; its endpoint.
    async fn http_server(db: &Database) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(dynoxide::server::serve_on(listener, db.clone()));
        endpoint
    }

    /// An endpoint nothing listens on: a request that reaches it fails.
    async fn nowhere() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    }

    fn item(v: &str) -> std::collections::HashMap<String, AV> {
        [("pk".to_owned(), AV::S("VER#a".into())), ("v".to_owned(), AV::S(v.into()))].into()
    }

    /// Reads, writes and a refused condition (with the item that stood,
    /// what a start re-plans from) are answered in process: the client's
    /// endpoint has no server behind it.
    #[tokio::test]
    async fn the_engine_answers_in_process() {
        let db = Database::memory().unwrap();
        verify_aws::store::ensure_table(&client_at(&http_server(&db).await, None), "verify").await.unwrap();
        let c = client_at(&nowhere().await, Some(&db));
        c.put_item().table_name("verify").set_item(Some(item("1"))).send().await.unwrap();
        let read = c.get_item().table_name("verify").key("pk", AV::S("VER#a".into())).consistent_read(true).send().await.unwrap();
        assert_eq!(read.item().and_then(|i| i.get("v")), Some(&AV::S("1".into())));
        let refused = c
            .put_item()
            .table_name("verify")
            .set_item(Some(item("2")))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        let PutItemError::ConditionalCheckFailedException(refused) = refused else { panic!("{refused:?}") };
        assert_eq!(refused.item.unwrap_or_default().get("v"), Some(&AV::S("1".into())), "the item that stood");
    }

    /// Any other error is the engine's HTTP server's own answer, word for
    /// word (here a table name DynamoDB refuses while decoding the request).
    #[tokio::test]
    async fn other_errors_are_the_http_servers_own() {
        let db = Database::memory().unwrap();
        let endpoint = http_server(&db).await;
        let refuse = |c: aws_sdk_dynamodb::Client| async move {
            let e = c.get_item().table_name("t").key("pk", AV::S("x".into())).send().await.unwrap_err();
            let meta = aws_sdk_dynamodb::error::ProvideErrorMetadata::meta(&e).clone();
            (meta.code().map(str::to_owned), meta.message().map(str::to_owned))
        };
        let over_http = refuse(client_at(&endpoint, None)).await;
        assert_eq!(over_http.0.as_deref(), Some("ValidationException"), "{over_http:?}");
        assert_eq!(refuse(client_at(&endpoint, Some(&db))).await, over_http);
        // And it was sent over HTTP: with no server, it fails to be sent.
        let nowhere = client_at(&nowhere().await, Some(&db));
        let unsent = nowhere.get_item().table_name("t").key("pk", AV::S("x".into())).send().await.unwrap_err();
        assert!(matches!(unsent, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)), "{unsent:?}");
    }
}
