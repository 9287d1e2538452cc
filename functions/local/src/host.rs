//! Which `Host` verify-local answers to: the names it is really reached
//! by, so a web page cannot reach it through DNS rebinding (a page's own
//! name re-pointed at 127.0.0.1 makes the browser send that name as
//! `Host`, and treat the answers as the page's own).
//!
//! Allowed: `localhost`, loopback addresses, the address it is bound to
//! (any IP address when bound to all of them: which of the machine's
//! addresses a client used cannot be known, and an address cannot be
//! re-pointed the way a name can), and the host of `VERIFY_PUBLIC_BASE_URL`.
//! The port is not compared: the browser's port is the server's in a
//! rebinding as in honest use.

use std::net::IpAddr;

#[derive(Clone, Debug)]
pub struct AllowedHosts {
    bind: IpAddr,
    /// Lower-cased names besides the built-in ones.
    names: Vec<String>,
}

impl AllowedHosts {
    pub fn new(bind: IpAddr, public_base_url: Option<&str>) -> AllowedHosts {
        let names = public_base_url
            .and_then(|url| url.split_once("://").map(|(_, rest)| rest))
            .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""))
            .map(|authority| authority.rsplit_once('@').map_or(authority, |(_, h)| h))
            .and_then(host_of)
            .into_iter()
            .collect();
        AllowedHosts { bind, names }
    }

    /// Whether a request's `Host` header value names this server.
    pub fn allows(&self, host_header: Option<&str>) -> bool {
        let Some(host) = host_header.and_then(host_of) else { return false };
        if host == "localhost" || self.names.contains(&host) {
            return true;
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        match literal.parse::<IpAddr>() {
            Ok(ip) => ip.is_loopback() || ip == self.bind || self.bind.is_unspecified(),
            Err(_) => false,
        }
    }
}

/// The host of a `Host` value or URL authority, lower-cased, without its
/// port or a trailing dot; `None` when empty.
fn host_of(authority: &str) -> Option<String> {
    let authority = authority.trim();
    let host = if authority.starts_with('[') {
        // [v6]:port
        authority.split_once(']').map(|(h, _)| format!("{h}]"))?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h).to_owned()
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> AllowedHosts {
        AllowedHosts::new("127.0.0.1".parse().unwrap(), None)
    }

    #[test]
    fn loopback_names_and_addresses_are_allowed_with_any_port() {
        for host in ["127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LOCALHOST", "localhost.:1", "[::1]:8080", "127.1.2.3:9"] {
            assert!(loopback().allows(Some(host)), "{host}");
        }
    }

    #[test]
    fn other_names_are_refused() {
        for host in [
            Some("evil.example:8080"),
            Some("evil.example"),
            Some("localhost.evil.example"),
            Some("127.0.0.1.nip.io:8080"),
            Some("192.168.1.20:8080"),
            Some(""),
            None,
        ] {
            assert!(!loopback().allows(host), "{host:?}");
        }
    }

    #[test]
    fn the_bind_address_and_the_public_base_url_are_allowed() {
        let lan = AllowedHosts::new("192.168.1.20".parse().unwrap(), Some("https://Verify.Example.com:8443/base"));
        assert!(lan.allows(Some("192.168.1.20:8080")));
        assert!(lan.allows(Some("verify.example.com")));
        assert!(!lan.allows(Some("192.168.1.21:8080")));
        assert!(!lan.allows(Some("example.com")));
        let all = AllowedHosts::new("0.0.0.0".parse().unwrap(), None);
        assert!(all.allows(Some("10.1.2.3:8080")) && all.allows(Some("[fe80::1]:8080")));
        assert!(!all.allows(Some("evil.example:8080")));
    }
}
