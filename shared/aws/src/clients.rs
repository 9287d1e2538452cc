//! AWS clients, built once per process from the standard environment
//! (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB` / `_SNS` /
//! `_SECRETS_MANAGER` overrides).

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use std::sync::OnceLock;
use std::time::Duration;

/// How long one attempt of an AWS call may take before the SDK gives up on
/// it (and retries it, within [`OPERATION_TIMEOUT`]). The SDK's default is
/// no limit at all (only a 3.1 s connect timeout), so an answer DynamoDB or
/// SNS never sends held a function until Lambda killed it at its 10 s
/// timeout: the client got a bare 502/504 instead of a retryable 503
/// (measured by bench/src/faults.rs). A DynamoDB call answers in
/// milliseconds, and init has already opened the connection (`app::warm_up`).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one AWS call may take in all, retries and their backoff
/// included. A check makes at most three calls (find by sid, count, approve
/// or note), a start at most four (write, send, void twice when the send
/// failed; a write that failed is voided once and ends it), and a call that
/// times out mostly ends the request: three timeouts (9 s) still end under
/// the functions' 10 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The timeouts of every AWS client a Lambda function builds
/// ([`LambdaEnv`]; see [`ATTEMPT_TIMEOUT`]).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder().operation_attempt_timeout(ATTEMPT_TIMEOUT).operation_timeout(OPERATION_TIMEOUT).build()
}

/// The certificate authorities the AWS clients trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsRoots {
    /// Amazon Trust Services' four roots and the Starfield Services G2 root
    /// that cross-signs them (`amazon_trust_services_roots.pem`, the
    /// certificates amazontrust.com/repository publishes): the CA of the AWS
    /// endpoints in the `aws` and `aws-us-gov` partitions. Five embedded
    /// roots parse in about 0.1 ms; the system's store took 3.5 ms on every
    /// cold start (Debian's 145 roots, read from a bundle and a directory
    /// and parsed), before the first AWS call could go out. It also means a
    /// certificate for an AWS host from any other CA is refused.
    AmazonTrustServices,
    /// The system's store (rustls-native-certs): for partitions whose CAs
    /// this project has not checked (China, the ISO regions, the European
    /// Sovereign Cloud, a region it does not know), an `https://` endpoint
    /// override (a proxy or emulator with its own certificate), and whenever
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR` names a store (a TLS-inspecting
    /// proxy's CA, say): the way to opt out.
    System,
}

impl AwsRoots {
    /// The roots for a process in `region`, calling `endpoints` (the
    /// overrides set; `None` for the service's own endpoint).
    /// `store_named`: `SSL_CERT_FILE` or `SSL_CERT_DIR` is set.
    pub fn choose<'a>(region: &str, endpoints: impl IntoIterator<Item = Option<&'a str>>, store_named: bool) -> AwsRoots {
        let https_override = endpoints.into_iter().flatten().any(|url| !url.trim_start().to_ascii_lowercase().starts_with("http://"));
        if store_named || https_override || !ats_partition(region) { AwsRoots::System } else { AwsRoots::AmazonTrustServices }
    }
}

/// Whether `region` is in the `aws` or `aws-us-gov` partition, by its name:
/// `us-gov-…`, or a commercial area prefix and no `iso` (the ISO regions,
/// `us-iso-east-1` and kin, are separate partitions). `cn-…` and `eusc-…`
/// do not match.
fn ats_partition(region: &str) -> bool {
    const COMMERCIAL: [&str; 9] = ["us-", "eu-", "ap-", "ca-", "sa-", "me-", "af-", "il-", "mx-"];
    !region.contains("iso") && COMMERCIAL.iter().any(|p| region.starts_with(p))
}

const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

/// What to add to the message of a failed AWS call whose endpoint's
/// certificate was refused (rustls: "invalid peer certificate"): which roots
/// were trusted and the way out. Empty for any other failure.
pub fn certificate_hint(error: &str) -> &'static str {
    if error.contains("invalid peer certificate") {
        " (the endpoint's certificate does not chain to the roots trusted for AWS calls: in the aws and \
         aws-us-gov partitions, without an https endpoint override or SSL_CERT_FILE / SSL_CERT_DIR, only \
         Amazon Trust Services'; set SSL_CERT_FILE=/etc/pki/tls/certs/ca-bundle.crt to trust the system's store)"
    } else {
        ""
    }
}

/// The one HTTPS client every AWS client in the process shares (per
/// [`AwsRoots`]): hyper and rustls with *ring* for its cryptography. The
/// SDK's default client uses aws-lc, which is about 1 MB more in every
/// bootstrap (size is cold start on Lambda); ring gives the same TLS 1.2/1.3
/// suites AWS endpoints use, but no post-quantum key exchange (see the
/// README's Security notes).
pub fn https_client(roots: AwsRoots) -> SharedHttpClient {
    static ATS: OnceLock<SharedHttpClient> = OnceLock::new();
    static SYSTEM: OnceLock<SharedHttpClient> = OnceLock::new();
    let client = match roots {
        AwsRoots::AmazonTrustServices => &ATS,
        AwsRoots::System => &SYSTEM,
    };
    client
        .get_or_init(|| {
            use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
            let store = match roots {
                AwsRoots::AmazonTrustServices => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS),
                AwsRoots::System => TrustStore::default(),
            };
            let context = TlsContext::builder().with_trust_store(store).build().expect("a trust store is a valid TLS context");
            aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).tls_context(context).build_https()
        })
        .clone()
}

/// What a Lambda function needs to reach DynamoDB and SNS, read from the
/// variables Lambda itself sets: the region (`AWS_REGION`), the execution
/// role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, valid for the life of the execution environment),
/// and for local runs the endpoint overrides (`AWS_ENDPOINT_URL_DYNAMODB`,
/// `AWS_ENDPOINT_URL_SNS`, else `AWS_ENDPOINT_URL`).
///
/// Unlike [`sdk_config`] (aws-config's loader) it reads no profile files and
/// sets up no metadata-service, container, SSO or STS web-identity providers
/// that a function never uses, so none of that code is linked into the
/// function binaries and init does no file I/O for it.
#[derive(Clone, Debug)]
pub struct LambdaEnv {
    region: String,
    credentials: aws_sdk_dynamodb::config::Credentials,
    dynamodb_endpoint: Option<String>,
    #[cfg_attr(not(feature = "sns"), allow(dead_code))]
    sns_endpoint: Option<String>,
    #[cfg_attr(not(feature = "ses"), allow(dead_code))]
    ses_endpoint: Option<String>,
    #[cfg_attr(not(feature = "sms-voice"), allow(dead_code))]
    voice_endpoint: Option<String>,
    #[cfg_attr(not(feature = "social"), allow(dead_code))]
    whatsapp_endpoint: Option<String>,
    #[cfg_attr(not(feature = "secrets"), allow(dead_code))]
    secrets_endpoint: Option<String>,
    /// [`timeouts`] for a function (its 10 s deadline); none for a local
    /// engine, which has no deadline and may be slow under a test's load.
    deadline: bool,
    roots: AwsRoots,
}

/// One SDK client from a [`LambdaEnv`]: every service gets the same region,
/// credentials, HTTPS client and (for a function) deadlines; only the crate
/// and the endpoint differ.
macro_rules! client_from_env {
    ($env:expr, $sdk:ident, $endpoint:expr) => {{
        use $sdk::config::{BehaviorVersion, Region};
        let mut config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new($env.region.clone()))
            .credentials_provider($env.credentials.clone())
            .http_client(https_client($env.roots));
        if $env.deadline {
            config = config.timeout_config(timeouts());
        }
        if let Some(url) = $endpoint {
            config = config.endpoint_url(url);
        }
        $sdk::Client::from_conf(config.build())
    }};
}

impl LambdaEnv {
    pub fn from_env() -> Result<LambdaEnv, String> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<LambdaEnv, String> {
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or("AWS_REGION is not set (Lambda always sets it; set it when running a function elsewhere)")?;
        let (Some(key), Some(secret)) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) else {
            return Err("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set (Lambda sets the execution role's)".into());
        };
        let credentials = aws_sdk_dynamodb::config::Credentials::new(key, secret, get("AWS_SESSION_TOKEN"), None, "lambda-environment");
        let any = get("AWS_ENDPOINT_URL");
        let endpoint = |service: &str| get(service).or_else(|| any.clone());
        let [dynamodb, sns, ses, voice, whatsapp, secrets] = [
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_SNS",
            "AWS_ENDPOINT_URL_SESV2",
            "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2",
            "AWS_ENDPOINT_URL_SOCIALMESSAGING",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        ]
        .map(endpoint);
        let store_named = get("SSL_CERT_FILE").is_some() || get("SSL_CERT_DIR").is_some();
        let overrides = [&dynamodb, &sns, &ses, &voice, &whatsapp, &secrets].map(Option::as_deref);
        let roots = AwsRoots::choose(&region, overrides, store_named);
        Ok(LambdaEnv {
            region,
            credentials,
            dynamodb_endpoint: dynamodb,
            sns_endpoint: sns,
            ses_endpoint: ses,
            voice_endpoint: voice,
            whatsapp_endpoint: whatsapp,
            secrets_endpoint: secrets,
            deadline: true,
            roots,
        })
    }

    /// Everything at one local endpoint, with region and credentials that
    /// only a local engine accepts.
    fn local(endpoint: &str) -> LambdaEnv {
        LambdaEnv {
            region: "us-east-1".into(),
            credentials: aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "verify-local"),
            dynamodb_endpoint: Some(endpoint.into()),
            sns_endpoint: Some(endpoint.into()),
            ses_endpoint: Some(endpoint.into()),
            voice_endpoint: Some(endpoint.into()),
            whatsapp_endpoint: Some(endpoint.into()),
            secrets_endpoint: Some(endpoint.into()),
            deadline: false,
            roots: AwsRoots::choose("us-east-1", [Some(endpoint)], false),
        }
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        client_from_env!(self, aws_sdk_dynamodb, &self.dynamodb_endpoint)
    }

    #[cfg(feature = "sns")]
    pub fn sns(&self) -> aws_sdk_sns::Client {
        client_from_env!(self, aws_sdk_sns, &self.sns_endpoint)
    }

    #[cfg(feature = "ses")]
    pub fn ses(&self) -> aws_sdk_sesv2::Client {
        client_from_env!(self, aws_sdk_sesv2, &self.ses_endpoint)
    }

    #[cfg(feature = "sms-voice")]
    pub fn voice(&self) -> aws_sdk_pinpointsmsvoicev2::Client {
        client_from_env!(self, aws_sdk_pinpointsmsvoicev2, &self.voice_endpoint)
    }

    #[cfg(feature = "social")]
    pub fn whatsapp(&self) -> aws_sdk_socialmessaging::Client {
        client_from_env!(self, aws_sdk_socialmessaging, &self.whatsapp_endpoint)
    }

    /// For the secrets read during init ([`crate::secrets`]).
    #[cfg(feature = "secrets")]
    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        client_from_env!(self, aws_sdk_secretsmanager, &self.secrets_endpoint)
    }
}

#[cfg(feature = "ses")]
pub fn ses(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// An SES v2 client for a local endpoint (moto), as [`dynamodb_at`].
#[cfg(feature = "ses")]
pub fn ses_at(endpoint: &str) -> aws_sdk_sesv2::Client {
    LambdaEnv::local(endpoint).ses()
}

/// aws-config's loader, for verify-local on AWS (`--aws`, or an endpoint
/// override): a developer's machine, perhaps behind a proxy whose CA only
/// the system's store holds, so the system's roots.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(https_client(AwsRoots::System)).load().await
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

#[cfg(feature = "sns")]
pub fn sns(config: &SdkConfig) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(config)
}

#[cfg(feature = "sms-voice")]
pub fn voice(config: &SdkConfig) -> aws_sdk_pinpointsmsvoicev2::Client {
    aws_sdk_pinpointsmsvoicev2::Client::new(config)
}

#[cfg(feature = "social")]
pub fn whatsapp(config: &SdkConfig) -> aws_sdk_socialmessaging::Client {
    aws_sdk_socialmessaging::Client::new(config)
}

/// A DynamoDB client for a local engine (embedded dynoxide, moto): fixed
/// region and dummy credentials, so nothing probes the environment or IMDS.
pub fn dynamodb_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    LambdaEnv::local(endpoint).dynamodb()
}

/// An SNS client for a local endpoint (moto), as [`dynamodb_at`].
#[cfg(feature = "sns")]
pub fn sns_at(endpoint: &str) -> aws_sdk_sns::Client {
    LambdaEnv::local(endpoint).sns()
}

/// A voice client for a local endpoint (the test suite's stand-in).
#[cfg(feature = "sms-voice")]
pub fn voice_at(endpoint: &str) -> aws_sdk_pinpointsmsvoicev2::Client {
    LambdaEnv::local(endpoint).voice()
}

/// An End User Messaging Social client for a local endpoint (the test
/// suite's stand-in).
#[cfg(feature = "social")]
pub fn whatsapp_at(endpoint: &str) -> aws_sdk_socialmessaging::Client {
    LambdaEnv::local(endpoint).whatsapp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn lambda_env_reads_what_lambda_sets() {
        let base = [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let e = LambdaEnv::from_lookup(env(&base)).unwrap();
        assert_eq!((e.region.as_str(), e.dynamodb_endpoint.as_deref(), e.sns_endpoint.as_deref()), ("eu-west-1", None, None));
        let mut with = base.to_vec();
        with.extend([("AWS_ENDPOINT_URL", "http://127.0.0.1:1"), ("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:2")]);
        let e = LambdaEnv::from_lookup(env(&with)).unwrap();
        assert_eq!(e.dynamodb_endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(e.sns_endpoint.as_deref(), Some("http://127.0.0.1:2"));
        assert!(LambdaEnv::from_lookup(env(&base[..1])).unwrap_err().contains("AWS_ACCESS_KEY_ID"));
        assert!(LambdaEnv::from_lookup(env(&base[1..])).unwrap_err().contains("AWS_REGION"));
    }

    #[test]
    fn function_clients_end_their_calls_before_the_function_does() {
        let base = [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let e = LambdaEnv::from_lookup(env(&base)).unwrap();
        let ddb = e.dynamodb();
        let t = ddb.config().timeout_config().expect("timeouts");
        assert_eq!((t.operation_attempt_timeout(), t.operation_timeout()), (Some(ATTEMPT_TIMEOUT), Some(OPERATION_TIMEOUT)));
        #[cfg(feature = "sns")]
        assert_eq!(e.sns().config().timeout_config().and_then(|t| t.operation_timeout()), Some(OPERATION_TIMEOUT));
        // A local engine has no deadline.
        let local = dynamodb_at("http://127.0.0.1:1");
        assert_eq!(local.config().timeout_config().and_then(|t| t.operation_timeout()), None);
    }

    #[test]
    fn aws_calls_trust_amazon_trust_services_where_that_is_its_ca() {
        use AwsRoots::{AmazonTrustServices as Ats, System};
        for region in ["us-east-1", "eu-central-2", "ap-southeast-7", "me-central-1", "mx-central-1", "il-central-1", "us-gov-west-1"] {
            assert_eq!(AwsRoots::choose(region, [None, None], false), Ats, "{region}");
        }
        // Partitions whose CAs were not checked, and names not known.
        for region in ["cn-north-1", "cn-northwest-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "eusc-de-east-1", "xx-east-1"] {
            assert_eq!(AwsRoots::choose(region, [None], false), System, "{region}");
        }
        // Plain-HTTP overrides use no TLS at all; an https one may be a
        // proxy or emulator with its own CA; a named store is the opt-out.
        assert_eq!(AwsRoots::choose("eu-west-1", [Some("http://127.0.0.1:4566"), None], false), Ats);
        assert_eq!(AwsRoots::choose("eu-west-1", [None, Some("https://localhost:4566")], false), System);
        assert_eq!(AwsRoots::choose("eu-west-1", [Some("HTTPS://proxy.example")], false), System);
        assert_eq!(AwsRoots::choose("eu-west-1", [None], true), System);
    }

    #[test]
    fn lambda_env_chooses_its_roots_from_what_lambda_sets() {
        let base = [("AWS_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "AKID"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let roots = |extra: &[(&str, &str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            LambdaEnv::from_lookup(env(&pairs)).unwrap().roots
        };
        assert_eq!(roots(&[]), AwsRoots::AmazonTrustServices);
        assert_eq!(roots(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]), AwsRoots::AmazonTrustServices);
        assert_eq!(roots(&[("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://vpce.example")]), AwsRoots::System);
        assert_eq!(roots(&[("SSL_CERT_FILE", "/etc/pki/tls/certs/ca-bundle.crt")]), AwsRoots::System);
        assert_eq!(roots(&[("SSL_CERT_DIR", "/etc/ssl/certs")]), AwsRoots::System);
        assert_eq!(roots(&[("AWS_REGION", "cn-north-1")]), AwsRoots::System);
    }

    /// Known answers: the SHA-256 fingerprints amazontrust.com/repository
    /// publishes for Amazon Root CA 1 to 4 and Starfield Services Root
    /// Certificate Authority - G2, in the file's order; and rustls takes each
    /// as a trust anchor.
    #[test]
    fn the_embedded_roots_are_the_published_amazon_trust_services_roots() {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        use sha2::{Digest, Sha256};
        let published = [
            "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e",
            "1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4",
            "18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4",
            "e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092",
            "568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5",
        ];
        let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS).collect::<Result<_, _>>().unwrap();
        let fingerprints: Vec<String> = certs.iter().map(|c| hex::encode(Sha256::digest(c.as_ref()))).collect();
        assert_eq!(fingerprints, published);
        let mut store = rustls::RootCertStore::empty();
        assert_eq!(store.add_parsable_certificates(certs), (5, 0));
    }

    #[test]
    fn a_refused_certificate_says_which_roots_and_the_way_out() {
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer).to_string();
        let hint = certificate_hint(&format!("DynamoDB: dispatch failure: io error: {refused}"));
        assert!(hint.contains("Amazon Trust Services") && hint.contains("SSL_CERT_FILE=/etc/pki/tls/certs/ca-bundle.crt"), "{hint}");
        assert_eq!(certificate_hint("DynamoDB: dispatch failure: io error: Connection refused (os error 111)"), "");
    }
}
