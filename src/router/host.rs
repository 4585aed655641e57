//! The request's host, parsed once: HTTP/2's `:authority` or HTTP/1.1's
//! `Host`, as a name (a domain, `localhost`) or an IP address, with an
//! optional port. Every use of the host (the mail domain of an
//! `autoconfig.<d>` request, the HTTPS redirect, the landing page's QR
//! code) goes through here, so a malformed or hostile value is refused the
//! same way everywhere.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use http::Request;
use http::header;

use crate::email::DomainName;

/// A host as a client named it, normalised (lower case, canonical IP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHost {
    pub(crate) name: HostName,
    pub(crate) port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostName {
    Domain(DomainName),
    Localhost,
    Ip(IpAddr),
}

impl RequestHost {
    /// The host of a request, if it has one that parses.
    pub(crate) fn of(request: &Request<Bytes>) -> Option<RequestHost> {
        let raw = match request.uri().authority() {
            Some(authority) => authority.as_str(),
            None => request.headers().get(header::HOST)?.to_str().ok()?,
        };
        RequestHost::parse(raw)
    }

    /// `name[:port]` or `[v6][:port]`; `None` for anything else (userinfo,
    /// an empty or zero port, a name that is not a domain).
    pub(crate) fn parse(raw: &str) -> Option<RequestHost> {
        let (name, port) = if let Some(rest) = raw.strip_prefix('[') {
            let (literal, after) = rest.split_once(']')?;
            let address: Ipv6Addr = literal.parse().ok()?;
            (HostName::Ip(IpAddr::V6(address)), after)
        } else {
            let (name, port) = match raw.split_once(':') {
                Some((name, _)) => (name, &raw[name.len()..]),
                None => (raw, ""),
            };
            let name = if name.eq_ignore_ascii_case("localhost") {
                HostName::Localhost
            } else if let Ok(address) = name.parse::<Ipv4Addr>() {
                HostName::Ip(IpAddr::V4(address))
            } else {
                HostName::Domain(DomainName::parse(name).ok()?)
            };
            (name, port)
        };
        let port = match port.strip_prefix(':') {
            None if port.is_empty() => None,
            None => return None,
            Some(digits) => {
                if digits.is_empty()
                    || digits.len() > 5
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                match digits.parse::<u16>() {
                    Ok(number) if number > 0 => Some(number),
                    _ => return None,
                }
            }
        };
        Some(RequestHost { name, port })
    }

    /// The domain name, when the host is one (not an address).
    pub(crate) fn domain(&self) -> Option<&DomainName> {
        match &self.name {
            HostName::Domain(domain) => Some(domain),
            HostName::Localhost | HostName::Ip(_) => None,
        }
    }
}

impl fmt::Display for RequestHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            HostName::Domain(domain) => f.write_str(domain.as_str())?,
            HostName::Localhost => f.write_str("localhost")?,
            HostName::Ip(IpAddr::V4(address)) => write!(f, "{address}")?,
            HostName::Ip(IpAddr::V6(address)) => write!(f, "[{address}]")?,
        }
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_addresses_and_ports_parse_and_print_normalised() {
        for (raw, shown) in [
            ("contoso.test", "contoso.test"),
            (
                "Autoconfig.Contoso.TEST:8443",
                "autoconfig.contoso.test:8443",
            ),
            ("LOCALHOST:8080", "localhost:8080"),
            ("127.0.0.1:80", "127.0.0.1:80"),
            ("[::1]:8443", "[::1]:8443"),
            ("[0:0::1]", "[::1]"),
            ("bücher.example", "xn--bcher-kva.example"),
        ] {
            let host = RequestHost::parse(raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(host.to_string(), shown, "{raw}");
        }
    }

    #[test]
    fn hostile_or_malformed_hosts_are_refused() {
        for raw in [
            "",
            "evil.test@contoso.test",
            "contoso.test:",
            "contoso.test:0",
            "contoso.test:65536",
            "contoso.test:80:80",
            "contoso.test:+80",
            "[::1",
            "[not-v6]:80",
            "[::1]x",
            "a b.test",
            "contoso.test/path",
            "evil.com:80@other",
            "a.com:8a",
            "a\"><script>.com",
        ] {
            assert_eq!(RequestHost::parse(raw), None, "{raw:?}");
        }
    }
}
