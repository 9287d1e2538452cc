//! Method + path → what to do, without any web framework, so both Lambda
//! functions and verify-local dispatch the same way.
//!
//! A Lambda function URL delivers every path to its one function, so each
//! function knows which routes are its own: start-verify serves starting,
//! fetching and updating verifications and managing services; check-verify
//! serves checks. verify-local serves them all. The Safe List is
//! start-verify's (the geo rule it relaxes is applied there).

use super::ApiError;
use super::error::code;
use crate::access::permissions::Permission;
use http::Method;

/// Everything a caller can ask of any program, by what it does (not by
/// path: one route can be two operations, as cancel and approve are).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    StartVerification,
    CheckVerification,
    FetchVerification,
    CancelVerification,
    ApproveVerification,
    ReadServices,
    /// webhook-report's `/v2/Attempts`, `/v2/Attempts/Summary`, `/events`,
    /// `/dashboard` (served there and by verify-local).
    ReadReports,
    /// verify-local's `/_local/messages`.
    ReadLocalMessages,
    ManageSafeList,
    /// `/v2/Services/{sid}/RateLimits[/…/Buckets]`: define programmable rate limits.
    ManageRateLimits,
    /// `POST /v2/Services[/{sid}]`, `DELETE /v2/Services/{sid}`: create,
    /// update and delete services.
    ManageServices,
    /// `/v2/Services/{sid}/Webhooks[/{YW}]`: the webhooks created over the API.
    ManageWebhooks,
}

impl Operation {
    pub const ALL: [Operation; 12] = [
        Operation::StartVerification,
        Operation::CheckVerification,
        Operation::FetchVerification,
        Operation::CancelVerification,
        Operation::ApproveVerification,
        Operation::ReadServices,
        Operation::ReadReports,
        Operation::ReadLocalMessages,
        Operation::ManageSafeList,
        Operation::ManageRateLimits,
        Operation::ManageServices,
        Operation::ManageWebhooks,
    ];

    /// The permission each operation needs: the one table every program
    /// (start-verify, check-verify, webhook-report, verify-local) consults.
    pub fn permission(self) -> Permission {
        match self {
            Operation::StartVerification | Operation::CheckVerification | Operation::FetchVerification | Operation::CancelVerification => {
                Permission::Verify
            }
            Operation::ApproveVerification => Permission::Approve,
            // The outbox shows codes, and knowing a code is as good as
            // approving without one.
            Operation::ReadLocalMessages => Permission::Approve,
            Operation::ReadReports => Permission::Reports,
            Operation::ReadServices
            | Operation::ManageServices
            | Operation::ManageSafeList
            | Operation::ManageRateLimits
            | Operation::ManageWebhooks => Permission::Admin,
        }
    }
}

/// Which deployed program is routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    StartVerify,
    CheckVerify,
    /// verify-local: every route, the plain ones under `/start-verify` and
    /// `/check-verify`.
    Local,
}

/// A request's destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /v2/Services/{ServiceSid}/Verifications`
    CreateVerification { service_sid: String },
    /// `GET /v2/Services/{ServiceSid}/Verifications/{Sid}` (sid or E.164 number)
    FetchVerification { service_sid: String, id: String },
    /// `POST /v2/Services/{ServiceSid}/Verifications/{Sid}` with `Status`
    UpdateVerification { service_sid: String, id: String },
    /// `POST /v2/Services/{ServiceSid}/VerificationCheck`
    CreateVerificationCheck { service_sid: String },
    /// `GET /v2/Services/{Sid}`
    FetchService { sid: String },
    /// `GET /v2/Services`
    ListServices,
    /// `POST /v2/Services`
    CreateService,
    /// `POST /v2/Services/{Sid}`
    UpdateService { sid: String },
    /// `DELETE /v2/Services/{Sid}`
    DeleteService { sid: String },
    /// `POST /v2/SafeList/Numbers` with `PhoneNumber`
    CreateSafeListNumber,
    /// `GET /v2/SafeList/Numbers/{PhoneNumber}`
    FetchSafeListNumber { phone_number: String },
    /// `DELETE /v2/SafeList/Numbers/{PhoneNumber}`
    DeleteSafeListNumber { phone_number: String },
    /// `/v2/Services/{ServiceSid}/RateLimits…`: the method says what to do.
    RateLimits { service_sid: String, target: RateLimitTarget },
    /// `/v2/Services/{ServiceSid}/MessagingConfigurations[/{Country}]`: the
    /// method says what to do.
    MessagingConfigurations { service_sid: String, country: Option<String> },
    /// `/v2/Services/{ServiceSid}/Webhooks[/{Sid}]`: the method says what
    /// to do (create and list without a sid; fetch, update, delete with one).
    Webhooks { service_sid: String, sid: Option<String> },
    /// The function-URL start endpoint (default service).
    PlainStart,
    /// The function-URL check endpoint (default service).
    PlainCheck,
}

/// Which rate-limit resource a `/RateLimits…` path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateLimitTarget {
    /// `/RateLimits`: create (POST), list (GET).
    Limits,
    /// `/RateLimits/{RK}`: fetch, update, delete.
    Limit(String),
    /// `/RateLimits/{RK}/Buckets`: create, list.
    Buckets(String),
    /// `/RateLimits/{RK}/Buckets/{BL}`: fetch, update, delete.
    Bucket(String, String),
}

impl RateLimitTarget {
    /// The methods the resource answers.
    pub fn allows(&self, method: &Method) -> bool {
        match self {
            RateLimitTarget::Limits | RateLimitTarget::Buckets(_) => matches!(*method, Method::GET | Method::POST),
            RateLimitTarget::Limit(_) | RateLimitTarget::Bucket(..) => {
                matches!(*method, Method::GET | Method::POST | Method::DELETE)
            }
        }
    }
}

impl Route {
    /// The route's name for logs: never the path itself, which can hold a
    /// phone number.
    pub fn name(&self) -> &'static str {
        match self {
            Route::CreateVerification { .. } => "create_verification",
            Route::FetchVerification { .. } => "fetch_verification",
            Route::UpdateVerification { .. } => "update_verification",
            Route::CreateVerificationCheck { .. } => "create_verification_check",
            Route::FetchService { .. } => "fetch_service",
            Route::ListServices => "list_services",
            Route::CreateService => "create_service",
            Route::UpdateService { .. } => "update_service",
            Route::DeleteService { .. } => "delete_service",
            Route::CreateSafeListNumber => "create_safe_list_number",
            Route::FetchSafeListNumber { .. } => "fetch_safe_list_number",
            Route::DeleteSafeListNumber { .. } => "delete_safe_list_number",
            Route::RateLimits { .. } => "rate_limits",
            Route::MessagingConfigurations { .. } => "messaging_configurations",
            Route::Webhooks { .. } => "webhooks",
            Route::PlainStart => "start_verify",
            Route::PlainCheck => "check_verify",
        }
    }

    /// What the route does, for the permission table. An update is a
    /// cancel; approving through it is checked again once the body says so.
    pub fn operation(&self) -> Operation {
        match self {
            Route::CreateVerification { .. } | Route::PlainStart => Operation::StartVerification,
            Route::CreateVerificationCheck { .. } | Route::PlainCheck => Operation::CheckVerification,
            Route::FetchVerification { .. } => Operation::FetchVerification,
            Route::UpdateVerification { .. } => Operation::CancelVerification,
            Route::FetchService { .. } | Route::ListServices => Operation::ReadServices,
            Route::CreateService | Route::UpdateService { .. } | Route::DeleteService { .. } => Operation::ManageServices,
            Route::CreateSafeListNumber | Route::FetchSafeListNumber { .. } | Route::DeleteSafeListNumber { .. } => {
                Operation::ManageSafeList
            }
            Route::RateLimits { .. } => Operation::ManageRateLimits,
            // A service's own settings.
            Route::MessagingConfigurations { .. } => Operation::ManageServices,
            Route::Webhooks { .. } => Operation::ManageWebhooks,
        }
    }
}

/// Finds the route, or answers 404 (no such path here) or 405 (the path
/// exists, the method does not).
pub fn route(function: Function, method: &Method, path: &str) -> Result<Route, ApiError> {
    let trimmed = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
    let (get, post) = (method == Method::GET, method == Method::POST);
    let starts = matches!(function, Function::StartVerify | Function::Local);
    let checks = matches!(function, Function::CheckVerify | Function::Local);
    let not_found = || ApiError::new(404, code::NOT_FOUND, format!("The requested resource {path} was not found"));
    let wrong_method =
        |allowed: &str| ApiError::new(405, code::METHOD_NOT_ALLOWED, format!("Method {method} not allowed on {path}; use {allowed}"));
    let found = |ok: bool, route: Route, allowed: &str| if ok { Ok(route) } else { Err(wrong_method(allowed)) };
    match segments.as_slice() {
        [""] if function == Function::StartVerify => found(post, Route::PlainStart, "POST"),
        [""] if function == Function::CheckVerify => found(post, Route::PlainCheck, "POST"),
        ["start-verify"] if starts => found(post, Route::PlainStart, "POST"),
        ["check-verify"] if checks => found(post, Route::PlainCheck, "POST"),
        ["v2", "Services"] if starts => {
            if post {
                Ok(Route::CreateService)
            } else {
                found(get, Route::ListServices, "GET or POST")
            }
        }
        ["v2", "Services", sid] if starts => {
            let sid = decode(sid);
            match *method {
                Method::GET => Ok(Route::FetchService { sid }),
                Method::POST => Ok(Route::UpdateService { sid }),
                Method::DELETE => Ok(Route::DeleteService { sid }),
                _ => Err(wrong_method("GET, POST or DELETE")),
            }
        }
        ["v2", "Services", sid, "Verifications"] if starts => found(post, Route::CreateVerification { service_sid: decode(sid) }, "POST"),
        ["v2", "Services", sid, "Verifications", id] if starts => {
            let (service_sid, id) = (decode(sid), decode(id));
            if get {
                Ok(Route::FetchVerification { service_sid, id })
            } else {
                found(post, Route::UpdateVerification { service_sid, id }, "GET or POST")
            }
        }
        ["v2", "Services", sid, "VerificationCheck"] if checks => {
            found(post, Route::CreateVerificationCheck { service_sid: decode(sid) }, "POST")
        }
        ["v2", "SafeList", "Numbers"] if starts => found(post, Route::CreateSafeListNumber, "POST"),
        ["v2", "SafeList", "Numbers", number] if starts => {
            let phone_number = decode(number);
            match *method {
                Method::GET => Ok(Route::FetchSafeListNumber { phone_number }),
                Method::DELETE => Ok(Route::DeleteSafeListNumber { phone_number }),
                _ => Err(wrong_method("GET or DELETE")),
            }
        }
        ["v2", "Services", sid, "RateLimits", rest @ ..] if starts => {
            let target = match rest {
                [] => RateLimitTarget::Limits,
                [rk] => RateLimitTarget::Limit(decode(rk)),
                [rk, "Buckets"] => RateLimitTarget::Buckets(decode(rk)),
                [rk, "Buckets", bl] => RateLimitTarget::Bucket(decode(rk), decode(bl)),
                _ => return Err(not_found()),
            };
            let allowed =
                if matches!(target, RateLimitTarget::Limits | RateLimitTarget::Buckets(_)) { "GET or POST" } else { "GET, POST or DELETE" };
            found(target.allows(method), Route::RateLimits { service_sid: decode(sid), target }, allowed)
        }
        ["v2", "Services", sid, "MessagingConfigurations", rest @ ..] if starts => {
            let (service_sid, country) = match rest {
                [] => (decode(sid), None),
                [country] => (decode(sid), Some(decode(country))),
                _ => return Err(not_found()),
            };
            let allowed = if country.is_none() { "GET or POST" } else { "GET, POST or DELETE" };
            let ok = get || post || (country.is_some() && method == Method::DELETE);
            found(ok, Route::MessagingConfigurations { service_sid, country }, allowed)
        }
        ["v2", "Services", sid, "Webhooks"] if starts => {
            found(get || post, Route::Webhooks { service_sid: decode(sid), sid: None }, "GET or POST")
        }
        ["v2", "Services", sid, "Webhooks", yw] if starts => {
            let allowed = matches!(*method, Method::GET | Method::POST | Method::DELETE);
            found(allowed, Route::Webhooks { service_sid: decode(sid), sid: Some(decode(yw)) }, "GET, POST or DELETE")
        }
        _ => Err(not_found()),
    }
}

/// A path segment as text: `%2B1415…` and `+1415…` are the same number (a `+`
/// in a path is a plus, not a space).
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VA: &str = "VA0123456789abcdef0123456789abcdef";

    fn at(f: Function, m: Method, path: &str) -> Result<Route, u16> {
        route(f, &m, path).map_err(|e| e.status)
    }

    #[test]
    fn the_permission_table() {
        use Operation::*;
        use Permission::*;
        let expected = [
            (StartVerification, Verify),
            (CheckVerification, Verify),
            (FetchVerification, Verify),
            (CancelVerification, Verify),
            (ApproveVerification, Approve),
            (ReadLocalMessages, Approve),
            (ReadReports, Reports),
            (ReadServices, Admin),
            (ManageSafeList, Admin),
            (ManageRateLimits, Admin),
            (ManageServices, Admin),
            (ManageWebhooks, Admin),
        ];
        assert_eq!(expected.len(), Operation::ALL.len(), "every operation is listed here");
        for (op, p) in expected {
            assert_eq!(op.permission(), p, "{op:?}");
        }
        // Every route maps to an operation needing what its kind needs.
        let svc = VA.to_owned();
        let cases = [
            (Method::POST, format!("/v2/Services/{VA}/Verifications"), Verify),
            (Method::POST, "/start-verify".to_owned(), Verify),
            (Method::POST, "/check-verify".to_owned(), Verify),
            (Method::POST, format!("/v2/Services/{VA}/VerificationCheck"), Verify),
            (Method::GET, format!("/v2/Services/{VA}/Verifications/VE1"), Verify),
            (Method::POST, format!("/v2/Services/{VA}/Verifications/VE1"), Verify),
            (Method::GET, "/v2/Services".to_owned(), Admin),
            (Method::GET, format!("/v2/Services/{svc}"), Admin),
            (Method::POST, "/v2/Services".to_owned(), Admin),
            (Method::POST, format!("/v2/Services/{svc}"), Admin),
            (Method::DELETE, format!("/v2/Services/{svc}"), Admin),
            (Method::POST, "/v2/SafeList/Numbers".to_owned(), Admin),
            (Method::GET, "/v2/SafeList/Numbers/%2B14155550123".to_owned(), Admin),
            (Method::DELETE, "/v2/SafeList/Numbers/+14155550123".to_owned(), Admin),
            (Method::POST, format!("/v2/Services/{VA}/RateLimits"), Admin),
            (Method::DELETE, format!("/v2/Services/{VA}/RateLimits/RK1/Buckets/BL1"), Admin),
            (Method::POST, format!("/v2/Services/{VA}/MessagingConfigurations"), Admin),
            (Method::DELETE, format!("/v2/Services/{VA}/MessagingConfigurations/GB"), Admin),
            (Method::GET, format!("/v2/Services/{VA}/Webhooks"), Admin),
            (Method::DELETE, format!("/v2/Services/{VA}/Webhooks/YW1"), Admin),
        ];
        for (m, path, p) in cases {
            assert_eq!(route(Function::Local, &m, &path).unwrap().operation().permission(), p, "{m} {path}");
        }
    }

    #[test]
    fn v2_routes() {
        use Function::Local;
        let svc = VA.to_owned();
        assert_eq!(at(Local, Method::GET, "/v2/Services"), Ok(Route::ListServices));
        assert_eq!(at(Local, Method::POST, "/v2/Services"), Ok(Route::CreateService));
        assert_eq!(at(Local, Method::DELETE, "/v2/Services"), Err(405));
        assert_eq!(at(Local, Method::POST, &format!("/v2/Services/{VA}")), Ok(Route::UpdateService { sid: svc.clone() }));
        assert_eq!(at(Local, Method::DELETE, &format!("/v2/Services/{VA}")), Ok(Route::DeleteService { sid: svc.clone() }));
        assert_eq!(at(Local, Method::PUT, &format!("/v2/Services/{VA}")), Err(405));
        assert_eq!(at(Function::CheckVerify, Method::POST, "/v2/Services"), Err(404));
        assert_eq!(at(Local, Method::GET, &format!("/v2/Services/{VA}")), Ok(Route::FetchService { sid: svc.clone() }));
        assert_eq!(
            at(Local, Method::POST, &format!("/v2/Services/{VA}/Verifications")),
            Ok(Route::CreateVerification { service_sid: svc.clone() })
        );
        assert_eq!(
            at(Local, Method::GET, &format!("/v2/Services/{VA}/Verifications/VE1")),
            Ok(Route::FetchVerification { service_sid: svc.clone(), id: "VE1".into() })
        );
        assert_eq!(
            at(Local, Method::POST, &format!("/v2/Services/{VA}/Verifications/+14155550123")),
            Ok(Route::UpdateVerification { service_sid: svc.clone(), id: "+14155550123".into() })
        );
        assert_eq!(
            at(Local, Method::GET, &format!("/v2/Services/{VA}/Verifications/%2B14155550123")),
            Ok(Route::FetchVerification { service_sid: svc.clone(), id: "+14155550123".into() })
        );
        assert_eq!(
            at(Local, Method::POST, &format!("/v2/Services/{VA}/VerificationCheck/")),
            Ok(Route::CreateVerificationCheck { service_sid: svc })
        );
    }

    #[test]
    fn safe_list_routes() {
        use Function::{CheckVerify, Local, StartVerify};
        let number = || "+14155550123".to_owned();
        assert_eq!(at(Local, Method::POST, "/v2/SafeList/Numbers"), Ok(Route::CreateSafeListNumber));
        assert_eq!(
            at(StartVerify, Method::GET, "/v2/SafeList/Numbers/%2B14155550123"),
            Ok(Route::FetchSafeListNumber { phone_number: number() })
        );
        assert_eq!(
            at(Local, Method::DELETE, "/v2/SafeList/Numbers/+14155550123"),
            Ok(Route::DeleteSafeListNumber { phone_number: number() })
        );
        assert_eq!(at(Local, Method::GET, "/v2/SafeList/Numbers"), Err(405));
        assert_eq!(at(Local, Method::POST, "/v2/SafeList/Numbers/+14155550123"), Err(405));
        assert_eq!(at(CheckVerify, Method::POST, "/v2/SafeList/Numbers"), Err(404));
    }

    #[test]
    fn rate_limit_routes() {
        use Function::{CheckVerify, Local, StartVerify};
        let svc = || VA.to_owned();
        let at_rl = |m: Method, tail: &str| at(Local, m, &format!("/v2/Services/{VA}/RateLimits{tail}"));
        let rl = |target| Ok(Route::RateLimits { service_sid: svc(), target });
        assert_eq!(at_rl(Method::POST, ""), rl(RateLimitTarget::Limits));
        assert_eq!(at_rl(Method::GET, "/"), rl(RateLimitTarget::Limits));
        assert_eq!(at_rl(Method::DELETE, ""), Err(405));
        assert_eq!(at_rl(Method::DELETE, "/RK1"), rl(RateLimitTarget::Limit("RK1".into())));
        assert_eq!(at_rl(Method::GET, "/RK1/Buckets"), rl(RateLimitTarget::Buckets("RK1".into())));
        assert_eq!(at_rl(Method::DELETE, "/RK1/Buckets"), Err(405));
        assert_eq!(at_rl(Method::POST, "/RK1/Buckets/BL2"), rl(RateLimitTarget::Bucket("RK1".into(), "BL2".into())));
        assert_eq!(at_rl(Method::GET, "/RK1/Other"), Err(404));
        let path = format!("/v2/Services/{VA}/RateLimits");
        assert!(at(StartVerify, Method::GET, &path).is_ok());
        assert_eq!(at(CheckVerify, Method::GET, &path), Err(404));
    }

    #[test]
    fn messaging_configuration_routes() {
        use Function::{CheckVerify, Local, StartVerify};
        let at_mc = |m: Method, tail: &str| at(Local, m, &format!("/v2/Services/{VA}/MessagingConfigurations{tail}"));
        let mc =
            |country: Option<&str>| Ok(Route::MessagingConfigurations { service_sid: VA.to_owned(), country: country.map(str::to_owned) });
        assert_eq!(at_mc(Method::POST, ""), mc(None));
        assert_eq!(at_mc(Method::GET, "/"), mc(None));
        assert_eq!(at_mc(Method::DELETE, ""), Err(405));
        assert_eq!(at_mc(Method::GET, "/GB"), mc(Some("GB")));
        assert_eq!(at_mc(Method::POST, "/all"), mc(Some("all")));
        assert_eq!(at_mc(Method::DELETE, "/GB"), mc(Some("GB")));
        assert_eq!(at_mc(Method::PUT, "/GB"), Err(405));
        assert_eq!(at_mc(Method::GET, "/GB/x"), Err(404));
        let path = format!("/v2/Services/{VA}/MessagingConfigurations");
        assert!(at(StartVerify, Method::GET, &path).is_ok());
        assert_eq!(at(CheckVerify, Method::GET, &path), Err(404));
    }

    #[test]
    fn webhook_routes() {
        use Function::{CheckVerify, Local, StartVerify};
        let hooks = |sid: Option<&str>| Ok(Route::Webhooks { service_sid: VA.to_owned(), sid: sid.map(str::to_owned) });
        let path = format!("/v2/Services/{VA}/Webhooks");
        assert_eq!(at(Local, Method::POST, &path), hooks(None));
        assert_eq!(at(StartVerify, Method::GET, &format!("{path}/")), hooks(None));
        assert_eq!(at(Local, Method::DELETE, &path), Err(405));
        for m in [Method::GET, Method::POST, Method::DELETE] {
            assert_eq!(at(Local, m, &format!("{path}/YW1")), hooks(Some("YW1")));
        }
        assert_eq!(at(Local, Method::PUT, &format!("{path}/YW1")), Err(405));
        assert_eq!(at(Local, Method::GET, &format!("{path}/YW1/x")), Err(404));
        assert_eq!(at(CheckVerify, Method::GET, &path), Err(404));
    }

    #[test]
    fn wrong_methods_and_unknown_paths() {
        use Function::Local;
        assert_eq!(at(Local, Method::PATCH, "/v2/Services"), Err(405));
        assert_eq!(at(Local, Method::PATCH, &format!("/v2/Services/{VA}")), Err(405));
        assert_eq!(at(Local, Method::GET, &format!("/v2/Services/{VA}/VerificationCheck")), Err(405));
        assert_eq!(at(Local, Method::DELETE, &format!("/v2/Services/{VA}/Verifications/VE1")), Err(405));
        assert_eq!(at(Local, Method::GET, "/start-verify"), Err(405));
        for path in ["/", "/v2", "/v2/Services/x/RateLimits/RK1/Buckets/BL1/x", "/v1/Services", "/v2/Services/a/Verifications/b/c", ""] {
            assert_eq!(at(Local, Method::POST, path), Err(404), "{path}");
        }
        let e = route(Local, &Method::GET, "/nope").unwrap_err();
        assert_eq!(e.code, 20404);
        assert!(e.message.contains("/nope"));
    }

    #[test]
    fn each_function_serves_its_own_routes() {
        use Function::{CheckVerify, StartVerify};
        assert_eq!(at(StartVerify, Method::POST, "/"), Ok(Route::PlainStart));
        assert_eq!(at(StartVerify, Method::POST, "/start-verify"), Ok(Route::PlainStart));
        assert_eq!(at(CheckVerify, Method::POST, "/"), Ok(Route::PlainCheck));
        assert_eq!(at(CheckVerify, Method::POST, "/check-verify"), Ok(Route::PlainCheck));
        let check = format!("/v2/Services/{VA}/VerificationCheck");
        let start = format!("/v2/Services/{VA}/Verifications");
        assert_eq!(at(StartVerify, Method::POST, &check), Err(404));
        assert_eq!(at(CheckVerify, Method::POST, &start), Err(404));
        assert_eq!(at(CheckVerify, Method::GET, "/v2/Services"), Err(404));
        assert!(at(CheckVerify, Method::POST, &check).is_ok());
        assert!(at(StartVerify, Method::GET, "/v2/Services").is_ok());
        assert_eq!(at(Function::Local, Method::POST, "/"), Err(404), "verify-local has no plain root");
        assert_eq!(at(StartVerify, Method::GET, "/"), Err(405));
    }
}
