//! The records a mail domain must publish to send clients here: pure
//! functions of domain, profile and this server's public identity, and
//! their rendering as a zone-file fragment or JSON.

use std::net::{Ipv4Addr, Ipv6Addr};

use askama::Template;
use hickory_resolver::proto::rr::RecordType;
use serde::Serialize;

use crate::config::PublicIdentity;
use crate::email::DomainName;
use crate::profile::{Profile, Protocol, Security};

/// TTL of the generated records: an hour lets an admin correct a mistake
/// the same day without making every client lookup hit the DNS servers.
pub const RECORD_TTL_SECS: u32 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum DnsRecordsError {
    #[error(
        "this server has no public name or address: set [server] public_name (or \
         public_ipv4/public_ipv6) in the configuration"
    )]
    NoPublicIdentity,
    #[error(
        "[server] public_name is {0} itself, which cannot be a CNAME to itself: set \
         [server] public_ipv4/public_ipv6 to publish addresses instead"
    )]
    PublicNameIsOwner(String),
}

/// One resource record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name, ASCII, without the trailing dot (SRV owners have
    /// `_service._tcp` labels, which a `DomainName` does not allow).
    pub owner: String,
    pub data: RecordData,
    /// Why the record exists, for people reading the zone or the table.
    pub purpose: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    Cname(DomainName),
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Srv(Srv),
}

/// An SRV record's data. `target: None` is the root name `.`: "this
/// service is not offered" (RFC 2782, RFC 6186 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: Option<DomainName>,
}

impl Srv {
    const NOT_OFFERED: Srv = Srv {
        priority: 0,
        weight: 0,
        port: 0,
        target: None,
    };
}

impl RecordData {
    pub fn kind(&self) -> &'static str {
        match self {
            RecordData::Cname(_) => "CNAME",
            RecordData::A(_) => "A",
            RecordData::Aaaa(_) => "AAAA",
            RecordData::Srv(_) => "SRV",
        }
    }

    pub(crate) fn record_type(&self) -> RecordType {
        match self {
            RecordData::Cname(_) => RecordType::CNAME,
            RecordData::A(_) => RecordType::A,
            RecordData::Aaaa(_) => RecordType::AAAA,
            RecordData::Srv(_) => RecordType::SRV,
        }
    }

    /// The RDATA in zone-file presentation format, names fully qualified.
    pub fn value(&self) -> String {
        match self {
            RecordData::Cname(target) => format!("{target}."),
            RecordData::A(ip) => ip.to_string(),
            RecordData::Aaaa(ip) => ip.to_string(),
            RecordData::Srv(srv) => format!(
                "{} {} {} {}",
                srv.priority,
                srv.weight,
                srv.port,
                srv.target
                    .as_ref()
                    .map_or_else(|| ".".to_owned(), |t| format!("{t}."))
            ),
        }
    }
}

impl DnsRecord {
    /// The whole record as one zone-file line.
    pub fn zone_line(&self) -> String {
        format!(
            "{}. {} IN {} {}",
            self.owner,
            RECORD_TTL_SECS,
            self.data.kind(),
            self.data.value()
        )
    }
}

/// The records `domain` must publish so that clients find this server and
/// the profile's mail servers:
/// - `autoconfig.<d>` and `autodiscover.<d>`: CNAME to the public name (or
///   A/AAAA to the public addresses), for Thunderbird and Outlook;
/// - `_autodiscover._tcp.<d>` SRV `0 0 443 <server>` (Outlook's fallback,
///   MS-OXDISCO §3.1.5.2);
/// - RFC 6186 / RFC 8314 SRV records for the profile's IMAP, POP3 and
///   submission servers, with `0 0 0 .` for the variants not offered.
pub fn expected_records(
    domain: &DomainName,
    profile: &Profile,
    public: &PublicIdentity,
) -> Result<Vec<DnsRecord>, DnsRecordsError> {
    let mut records = Vec::new();
    for (label, purpose) in [
        (
            "autoconfig",
            "Thunderbird autoconfig: https://<this name>/mail/config-v1.1.xml",
        ),
        (
            "autodiscover",
            "Outlook autodiscover: https://<this name>/autodiscover/autodiscover.xml",
        ),
    ] {
        let owner = format!("{label}.{domain}");
        match &public.name {
            Some(name) if name.as_str() != owner => records.push(DnsRecord {
                owner,
                data: RecordData::Cname(name.clone()),
                purpose,
            }),
            named_self => {
                if public.ipv4.is_none() && public.ipv6.is_none() {
                    return Err(match named_self {
                        Some(_) => DnsRecordsError::PublicNameIsOwner(owner),
                        None => DnsRecordsError::NoPublicIdentity,
                    });
                }
                for data in public
                    .ipv4
                    .map(RecordData::A)
                    .into_iter()
                    .chain(public.ipv6.map(RecordData::Aaaa))
                {
                    records.push(DnsRecord {
                        owner: owner.clone(),
                        data,
                        purpose,
                    });
                }
            }
        }
    }
    // Without a public name, the SRV target is the autodiscover name just
    // given addresses above.
    let autodiscover_target = public
        .name
        .clone()
        .or_else(|| DomainName::parse(&format!("autodiscover.{domain}")).ok());
    records.push(DnsRecord {
        owner: format!("_autodiscover._tcp.{domain}"),
        data: RecordData::Srv(Srv {
            priority: 0,
            weight: 0,
            port: 443,
            target: autodiscover_target,
        }),
        purpose: "Outlook autodiscover by SRV, tried when the autodiscover name does not answer",
    });

    // (protocol, service name with implicit TLS, with STARTTLS, label)
    let services = [
        (Protocol::Imap, "_imaps", "_imap", "IMAP"),
        (Protocol::Pop3, "_pop3s", "_pop3", "POP3"),
        (
            Protocol::Smtp,
            "_submissions",
            "_submission",
            "SMTP submission",
        ),
    ];
    for (protocol, tls_service, starttls_service, label) in services {
        let server = profile.server(protocol);
        // The offered variant first, then the other one as "not offered"
        // so a client does not try it (RFC 6186 §4; RFC 8314 §5.1 has
        // clients prefer implicit TLS when both exist).
        let mut variants = [
            (tls_service, Security::Tls),
            (starttls_service, Security::Starttls),
        ];
        if server.is_some_and(|s| s.security == Security::Starttls) {
            variants.swap(0, 1);
        }
        for (service, security) in variants {
            let (data, purpose) = match server {
                Some(server) if server.security == security => (
                    Srv {
                        priority: 0,
                        weight: 0,
                        port: server.port.0,
                        target: Some(server.host.0.clone()),
                    },
                    srv_purpose(label, security, true),
                ),
                _ => (Srv::NOT_OFFERED, srv_purpose(label, security, false)),
            };
            records.push(DnsRecord {
                owner: format!("{service}._tcp.{domain}"),
                data: RecordData::Srv(data),
                purpose,
            });
        }
    }
    Ok(records)
}

fn srv_purpose(label: &str, security: Security, offered: bool) -> &'static str {
    match (label, security, offered) {
        ("IMAP", Security::Tls, true) => "RFC 6186: IMAP over TLS",
        ("IMAP", Security::Starttls, true) => "RFC 6186: IMAP with STARTTLS",
        ("IMAP", Security::Tls, false) => "RFC 6186: IMAP over TLS is not offered",
        ("IMAP", Security::Starttls, false) => "RFC 6186: IMAP with STARTTLS is not offered",
        ("POP3", Security::Tls, true) => "RFC 6186: POP3 over TLS",
        ("POP3", Security::Starttls, true) => "RFC 6186: POP3 with STARTTLS",
        ("POP3", Security::Tls, false) => "RFC 6186: POP3 over TLS is not offered",
        ("POP3", Security::Starttls, false) => "RFC 6186: POP3 with STARTTLS is not offered",
        (_, Security::Tls, true) => "RFC 8314: SMTP submission over TLS",
        (_, Security::Starttls, true) => "RFC 6186: SMTP submission with STARTTLS",
        (_, Security::Tls, false) => "RFC 8314: SMTP submission over TLS is not offered",
        (_, Security::Starttls, false) => "RFC 6186: SMTP submission with STARTTLS is not offered",
    }
}

#[derive(Template)]
#[template(path = "dns-zone.txt")]
struct ZoneFragment<'a> {
    domain: &'a str,
    domain_unicode: String,
    profile: &'a str,
    records: Vec<ZoneLine>,
}

struct ZoneLine {
    purpose: &'static str,
    owner: String,
    ttl: u32,
    kind: &'static str,
    value: String,
}

/// The records as a zone-file fragment (RFC 1035 §5) with absolute names
/// and explicit TTLs, to paste into (or `$INCLUDE` from) the domain's zone.
pub fn render_zone(domain: &DomainName, profile: &Profile, records: &[DnsRecord]) -> String {
    let fragment = ZoneFragment {
        domain: domain.as_str(),
        domain_unicode: domain.to_unicode(),
        profile: &profile.id,
        records: records
            .iter()
            .map(|r| ZoneLine {
                purpose: r.purpose,
                owner: format!("{}.", r.owner),
                ttl: RECORD_TTL_SECS,
                kind: r.data.kind(),
                value: r.data.value(),
            })
            .collect(),
    };
    // Rendering only fails on a formatter error, which a String never has.
    let mut text = fragment.render().unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
struct RecordsJson<'a> {
    domain: &'a str,
    profile: &'a str,
    records: Vec<RecordJson>,
}

#[derive(Serialize)]
struct RecordJson {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    ttl: u32,
    value: String,
    purpose: &'static str,
    #[serde(flatten)]
    srv: Option<SrvJson>,
}

#[derive(Serialize)]
struct SrvJson {
    priority: u16,
    weight: u16,
    port: u16,
    target: String,
}

/// The records as JSON, for provisioning scripts.
pub fn render_json(domain: &DomainName, profile: &Profile, records: &[DnsRecord]) -> String {
    let json = RecordsJson {
        domain: domain.as_str(),
        profile: &profile.id,
        records: records
            .iter()
            .map(|r| RecordJson {
                name: format!("{}.", r.owner),
                kind: r.data.kind(),
                ttl: RECORD_TTL_SECS,
                value: r.data.value(),
                purpose: r.purpose,
                srv: match &r.data {
                    RecordData::Srv(srv) => Some(SrvJson {
                        priority: srv.priority,
                        weight: srv.weight,
                        port: srv.port,
                        target: srv
                            .target
                            .as_ref()
                            .map_or_else(|| ".".to_owned(), |t| format!("{t}.")),
                    }),
                    _ => None,
                },
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&json).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of a profile whose IMAP uses STARTTLS, whose POP3 is
    /// disabled and whose submission is implicit TLS (port 465).
    #[test]
    fn srv_records_follow_the_profile_security_and_disabled_servers() {
        use crate::source::SourceFile;
        let (_, _, text) = crate::profile::BUILT_IN
            .iter()
            .find(|p| p.0 == "microsoft365")
            .unwrap();
        let text = text
            .replacen(
                "port = 993\nsecurity = \"tls\"",
                "port = 143\nsecurity = \"starttls\"",
                1,
            )
            .replacen(
                "port = 995\nsecurity = \"tls\"",
                "port = 995\nsecurity = \"tls\"\nenabled = false",
                1,
            )
            .replacen(
                "port = 587\nsecurity = \"starttls\"",
                "port = 465\nsecurity = \"tls\"",
                1,
            );
        let profile = Profile::parse(
            "custom",
            &SourceFile::new(std::path::Path::new("custom.toml"), text),
        )
        .unwrap();
        let public = PublicIdentity {
            name: Some(DomainName::parse("mailsetup.example.net").unwrap()),
            ..PublicIdentity::default()
        };
        let domain = DomainName::parse("example.org").unwrap();
        let records = expected_records(&domain, &profile, &public).unwrap();
        let srv: Vec<(String, String)> = records
            .iter()
            .filter(|r| matches!(r.data, RecordData::Srv(_)))
            .map(|r| (r.owner.clone(), r.data.value()))
            .collect();
        let expected = [
            (
                "_autodiscover._tcp.example.org",
                "0 0 443 mailsetup.example.net.",
            ),
            ("_imap._tcp.example.org", "0 0 143 outlook.office365.com."),
            ("_imaps._tcp.example.org", "0 0 0 ."),
            ("_pop3s._tcp.example.org", "0 0 0 ."),
            ("_pop3._tcp.example.org", "0 0 0 ."),
            (
                "_submissions._tcp.example.org",
                "0 0 465 smtp.office365.com.",
            ),
            ("_submission._tcp.example.org", "0 0 0 ."),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(o, v)| (o.to_string(), v.to_string()))
            .collect();
        assert_eq!(srv, expected);
    }

    #[test]
    fn srv_presentation_uses_root_for_not_offered() {
        assert_eq!(RecordData::Srv(Srv::NOT_OFFERED).value(), "0 0 0 .");
    }
}
