//! Which addresses a webhook may be delivered to. Loopback, link-local
//! (including the cloud metadata address 169.254.169.254), private,
//! shared (CGNAT), unspecified, multicast and other special ranges are
//! refused unless the deployment explicitly allows them (`verify-local`
//! allows loopback for a receiver on the developer's machine). The check is
//! made on every address a name resolves to, at connection time, so DNS
//! rebinding cannot slip past it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not a public destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restricted {
    Loopback,
    LinkLocal,
    Private,
    /// Unspecified, multicast, broadcast, documentation, reserved…
    Special,
}

impl Restricted {
    pub fn as_str(self) -> &'static str {
        match self {
            Restricted::Loopback => "loopback",
            Restricted::LinkLocal => "link-local",
            Restricted::Private => "private",
            Restricted::Special => "special-purpose",
        }
    }
}

/// What a deployment allows besides public addresses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allow {
    pub loopback: bool,
    /// Private, shared and link-local ranges (e.g. a receiver in the same VPC).
    pub private: bool,
}

impl Allow {
    pub const NONE: Allow = Allow { loopback: false, private: false };
    pub const LOOPBACK: Allow = Allow { loopback: true, private: false };

    pub fn permits(&self, ip: IpAddr) -> Result<(), Restricted> {
        match classify(ip) {
            None => Ok(()),
            Some(Restricted::Loopback) if self.loopback => Ok(()),
            Some(Restricted::Private | Restricted::LinkLocal) if self.private => Ok(()),
            Some(r) => Err(r),
        }
    }
}

/// `None` for a public unicast address.
pub fn classify(ip: IpAddr) -> Option<Restricted> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let seg = v6.segments();
            if v6.is_loopback() {
                Some(Restricted::Loopback)
            } else if v6.is_unspecified() || v6.is_multicast() {
                Some(Restricted::Special)
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some(Restricted::LinkLocal)
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some(Restricted::Private) // unique local fc00::/7
            } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
                Some(Restricted::Special) // documentation
            } else if seg[0] == 0x0064 && seg[1] == 0xff9b {
                // NAT64 64:ff9b::/96 embeds an IPv4 address.
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                classify_v4(Ipv4Addr::new(a, b, c, d))
            } else if seg[0] == 0x2002 {
                // 6to4 embeds an IPv4 address.
                let [a, b] = seg[1].to_be_bytes();
                let [c, d] = seg[2].to_be_bytes();
                classify_v4(Ipv4Addr::new(a, b, c, d))
            } else if seg[0] == 0 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0 && seg[4] == 0 && seg[5] == 0 {
                Some(Restricted::Special) // IPv4-compatible, deprecated
            } else {
                None
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Restricted> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some(Restricted::Loopback)
    } else if ip.is_link_local() {
        Some(Restricted::LinkLocal)
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some(Restricted::Private) // RFC 1918 and shared address space (CGNAT)
    } else if a == 0
        || ip.is_broadcast()
        || ip.is_multicast()
        || a >= 240
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        Some(Restricted::Special)
    } else {
        None
    }
}

/// Whether a bare IPv6 literal is in brackets, as URLs write them.
pub fn parse_host_ip(host: &str) -> Option<IpAddr> {
    let h = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    h.parse::<IpAddr>().ok().or_else(|| h.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<Restricted> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn addresses_are_classified() {
        use Restricted::*;
        for (ip, want) in [
            ("127.0.0.1", Some(Loopback)),
            ("127.8.9.10", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(Private)),
            ("fd00::1", Some(Private)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("2002:7f00:0001::", Some(Loopback)),
            ("0.0.0.0", Some(Special)),
            ("::", Some(Special)),
            ("255.255.255.255", Some(Special)),
            ("224.0.0.1", Some(Special)),
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("2606:4700:4700::1111", None),
        ] {
            assert_eq!(class(ip), want, "{ip}");
        }
    }

    #[test]
    fn allowances_open_only_what_they_name() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert_eq!(Allow::NONE.permits(lo), Err(Restricted::Loopback));
        assert_eq!(Allow::LOOPBACK.permits(lo), Ok(()));
        assert_eq!(Allow::LOOPBACK.permits(private), Err(Restricted::Private));
        assert_eq!(Allow::LOOPBACK.permits(metadata), Err(Restricted::LinkLocal));
        assert_eq!(Allow { loopback: false, private: true }.permits(private), Ok(()));
        assert_eq!(Allow::NONE.permits("1.1.1.1".parse().unwrap()), Ok(()));
        assert_eq!(parse_host_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(parse_host_ip("example.com"), None);
    }
}
