//! DNS: the records a mail domain must publish to send clients here (pure
//! functions of domain, profile and this server's public identity), their
//! rendering as a zone-file fragment or JSON, the checker that compares them
//! with what DNS answers, and MX-based detection of Microsoft 365 domains
//! with a bounded TTL cache. Knows nothing of HTTP.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{RData, RecordType};
use serde::Serialize;

use crate::config::{DnsSettings, PublicIdentity};
use crate::email::DomainName;
use crate::profile::{Profile, Protocol, Security};
use crate::resolve::{ResolveError, Site, SiteSource};

/// TTL of the generated records: an hour lets an admin correct a mistake
/// the same day without making every client lookup hit the DNS servers.
pub const RECORD_TTL_SECS: u32 = 3600;

/// Microsoft 365 (Exchange Online Protection) mail exchangers are
/// `<tenant>.mail.protection.outlook.com`.
const MICROSOFT365_MX_SUFFIX: &str = "mail.protection.outlook.com";

/// The longest a positive MX verdict is kept, whatever the record's TTL.
const MAX_MX_CACHE_TTL: Duration = Duration::from_secs(86_400);

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

    fn record_type(&self) -> RecordType {
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

// ---------------------------------------------------------------------------
// Resolver

/// The system's resolver configuration (`/etc/resolv.conf`), or why it
/// cannot be used.
pub fn system_resolver_config() -> Result<(ResolverConfig, ResolverOpts), String> {
    let (config, options) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?;
    if config.name_servers().is_empty() {
        return Err("the system resolver configuration lists no name server".into());
    }
    Ok((config, options))
}

/// A resolver asking `server` (UDP, then TCP for truncated answers), or
/// the system's name servers. `cache_size` 0 turns hickory's own cache off.
pub fn build_resolver(
    server: Option<SocketAddr>,
    timeout: Duration,
    attempts: usize,
    cache_size: u64,
) -> Result<TokioResolver, String> {
    let (config, mut options) = match server {
        Some(addr) => {
            let mut name_server = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut name_server.connections {
                connection.port = addr.port();
            }
            (
                ResolverConfig::from_name_servers(vec![name_server]),
                ResolverOpts::default(),
            )
        }
        None => system_resolver_config()?,
    };
    options.timeout = timeout;
    options.attempts = attempts;
    options.cache_size = cache_size;
    // Names are always absolute: no search list, no hosts file.
    options.ndots = 0;
    options.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))
}

/// Why a lookup gave no answer: not "no such record", but "could not ask".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LookupFailure(pub String);

/// The records of `kind` at `owner`; `Ok(empty)` for NXDOMAIN and NODATA
/// (with the negative TTL when the answer carried an SOA).
async fn lookup(
    resolver: &TokioResolver,
    owner: &str,
    kind: RecordType,
    timeout: Duration,
) -> Result<Answer, LookupFailure> {
    let name = format!("{owner}.");
    let result = tokio::time::timeout(timeout, resolver.lookup(name.as_str(), kind)).await;
    match result {
        Err(_) => Err(LookupFailure(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
        Ok(Ok(lookup)) => Ok(Answer {
            records: lookup
                .answers()
                .iter()
                .map(|r| (r.data.clone(), r.ttl))
                .collect(),
            negative_ttl: None,
        }),
        Ok(Err(NetError::Dns(DnsError::NoRecordsFound(no_records)))) => Ok(Answer {
            records: Vec::new(),
            negative_ttl: no_records.negative_ttl,
        }),
        Ok(Err(NetError::Dns(DnsError::ResponseCode(code)))) => {
            Err(LookupFailure(format!("the DNS server answered {code}")))
        }
        Ok(Err(NetError::Timeout)) => Err(LookupFailure(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
        Ok(Err(error)) => Err(LookupFailure(format!("lookup failed: {error}"))),
    }
}

struct Answer {
    /// Every answer record (CNAME chains included) with its TTL.
    records: Vec<(RData, u32)>,
    negative_ttl: Option<u32>,
}

// ---------------------------------------------------------------------------
// Checker

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Wrong,
    Missing,
    /// The lookup itself failed; nothing is known about the record.
    Failed,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Wrong => "wrong",
            CheckStatus::Missing => "missing",
            CheckStatus::Failed => "failed",
        }
    }
}

/// The verdict on one name and record type.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The expected values in presentation format.
    pub expected: Vec<String>,
    /// What DNS answered, `TYPE value` each (a CNAME may stand where an
    /// address was expected).
    pub found: Vec<String>,
    pub status: CheckStatus,
    /// What to change, empty when OK.
    pub action: String,
}

/// Looks every expected record up and says, per name and type, whether DNS
/// has exactly it. The lookups run concurrently, so an unreachable resolver
/// costs one timeout, not one per name.
pub async fn check_records(
    resolver: &TokioResolver,
    records: &[DnsRecord],
    timeout: Duration,
) -> Vec<CheckResult> {
    // Group by (owner, type), keeping the order of first appearance.
    let mut groups: Vec<(String, RecordType, Vec<DnsRecord>)> = Vec::new();
    for record in records {
        let kind = record.data.record_type();
        match groups
            .iter_mut()
            .find(|(o, k, _)| *o == record.owner && *k == kind)
        {
            Some(group) => group.2.push(record.clone()),
            None => groups.push((record.owner.clone(), kind, vec![record.clone()])),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (owner, kind, expected)) in groups.into_iter().enumerate() {
        let resolver = resolver.clone();
        tasks.spawn(async move {
            let result = check_group(&resolver, &owner, kind, &expected, timeout).await;
            (index, result)
        });
    }
    let mut results: Vec<(usize, CheckResult)> = tasks.join_all().await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

async fn check_group(
    resolver: &TokioResolver,
    owner: &str,
    kind: RecordType,
    expected: &[DnsRecord],
    timeout: Duration,
) -> CheckResult {
    let expected_values: Vec<String> = expected.iter().map(|r| r.data.value()).collect();
    let mut result = CheckResult {
        name: format!("{owner}."),
        kind: expected[0].data.kind(),
        expected: expected_values.clone(),
        found: Vec::new(),
        status: CheckStatus::Ok,
        action: String::new(),
    };
    let answer = match lookup(resolver, owner, kind, timeout).await {
        Ok(answer) => answer,
        Err(failure) => {
            result.status = CheckStatus::Failed;
            result.action = format!("{failure}; check the resolver and try again");
            return result;
        }
    };
    let owner_name = format!("{owner}.");
    // Values of the asked type; for A/AAAA the resolver follows CNAMEs, so
    // the addresses at the end of the chain are what clients get.
    let mut found_values: Vec<String> = Vec::new();
    for (data, _ttl) in &answer.records {
        let value = match (data, kind) {
            (RData::CNAME(cname), RecordType::CNAME) => Some(lower(&cname.0.to_ascii())),
            (RData::A(a), RecordType::A) => Some(a.0.to_string()),
            (RData::AAAA(a), RecordType::AAAA) => Some(a.0.to_string()),
            (RData::SRV(srv), RecordType::SRV) => Some(format!(
                "{} {} {} {}",
                srv.priority,
                srv.weight,
                srv.port,
                lower(&srv.target.to_ascii())
            )),
            _ => None,
        };
        if let Some(value) = value {
            found_values.push(value);
        }
        result
            .found
            .push(format!("{} {}", data.record_type(), presentation(data)));
    }

    // A CNAME expected but none there: what is at the name instead?
    if kind == RecordType::CNAME && found_values.is_empty() {
        for other in [RecordType::A, RecordType::AAAA] {
            if let Ok(answer) = lookup(resolver, owner, other, timeout).await {
                for (data, _) in &answer.records {
                    result
                        .found
                        .push(format!("{} {}", data.record_type(), presentation(data)));
                }
            }
        }
    }

    let mut expected_sorted = expected_values.clone();
    expected_sorted.sort();
    let mut found_sorted = found_values.clone();
    found_sorted.sort();
    found_sorted.dedup();
    let lines: Vec<String> = expected.iter().map(|r| r.zone_line()).collect();
    if found_sorted == expected_sorted {
        result.status = CheckStatus::Ok;
    } else if result.found.is_empty() {
        result.status = CheckStatus::Missing;
        result.action = format!("add: {}", lines.join(" / "));
    } else {
        result.status = CheckStatus::Wrong;
        let what = if found_values.is_empty() {
            format!(
                "remove the {} record(s) at {owner_name}",
                found_kinds(&result.found)
            )
        } else {
            format!("replace the {} record(s)", result.kind)
        };
        result.action = format!("{what}; publish: {}", lines.join(" / "));
    }
    result
}

fn found_kinds(found: &[String]) -> String {
    let mut kinds: Vec<&str> = found.iter().filter_map(|f| f.split(' ').next()).collect();
    kinds.dedup();
    kinds.join("/")
}

fn lower(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    if !name.ends_with('.') {
        name.push('.');
    }
    name
}

fn presentation(data: &RData) -> String {
    match data {
        RData::CNAME(cname) => lower(&cname.0.to_ascii()),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            lower(&srv.target.to_ascii())
        ),
        other => other.to_string(),
    }
}

/// The check results as an aligned table for people.
pub fn render_check_table(results: &[CheckResult]) -> String {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.kind.to_owned(),
                r.expected.join(", "),
                if r.found.is_empty() {
                    "(none)".to_owned()
                } else {
                    r.found.join(", ")
                },
                r.status.label().to_owned(),
                r.action.clone(),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "TYPE",
        "EXPECTED",
        "FOUND",
        "STATUS",
        "WHAT TO CHANGE",
    ]
    .map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        line.push_str(&row[5]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let count = |status| results.iter().filter(|r| r.status == status).count();
    let _ = writeln!(
        out,
        "{} OK, {} wrong, {} missing, {} failed",
        count(CheckStatus::Ok),
        count(CheckStatus::Wrong),
        count(CheckStatus::Missing),
        count(CheckStatus::Failed)
    );
    out
}

// ---------------------------------------------------------------------------
// Microsoft 365 detection by MX

/// What a domain's MX records say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxVerdict {
    /// The most preferred exchanger is under `mail.protection.outlook.com`.
    Microsoft365 { exchange: String },
    /// The most preferred exchangers are elsewhere (or the null MX `.`).
    Other { exchanges: Vec<String> },
    /// No MX records (or no such domain).
    NoMx,
}

/// Classifies MX records `(preference, exchange)`: only the most preferred
/// exchangers count, since mail (and so the mailbox) goes there; a backup
/// MX at Microsoft does not make the domain a Microsoft 365 one.
pub fn classify_mx(records: &[(u16, String)]) -> MxVerdict {
    let Some(best) = records.iter().map(|(p, _)| *p).min() else {
        return MxVerdict::NoMx;
    };
    let mut exchanges: Vec<String> = records
        .iter()
        .filter(|(p, _)| *p == best)
        .map(|(_, e)| e.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    exchanges.sort();
    exchanges.dedup();
    if let Some(exchange) = exchanges.iter().find(|e| {
        e.strip_suffix(MICROSOFT365_MX_SUFFIX)
            .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1)
    }) {
        return MxVerdict::Microsoft365 {
            exchange: exchange.clone(),
        };
    }
    MxVerdict::Other { exchanges }
}

type MxOutcome = Result<(MxVerdict, Instant), LookupFailure>;

/// Looks up MX records for domains outside the table and remembers the
/// verdicts: for the record's TTL, "no MX" for at most `negative_ttl`;
/// failures are not remembered. At most `cache_size` domains are kept.
/// (Concurrent lookups of one name are merged by hickory's name server
/// pool, so a burst of requests for a new domain is one query.)
pub struct MxDetector {
    /// `Err` when the resolver could not be set up: every lookup fails with
    /// that reason, so no request gets a guessed profile.
    resolver: Result<TokioResolver, String>,
    microsoft365: Arc<Profile>,
    timeout: Duration,
    negative_ttl: Duration,
    cache_size: usize,
    /// Verdicts and when they expire.
    cache: Mutex<HashMap<DomainName, (MxVerdict, Instant)>>,
}

impl MxDetector {
    /// `None` when detection is off.
    pub fn new(settings: &DnsSettings, microsoft365: Option<&Arc<Profile>>) -> Option<MxDetector> {
        if !settings.detect_microsoft365_by_mx {
            return None;
        }
        let microsoft365 = microsoft365?.clone();
        // Our own cache keeps the verdicts; hickory's would keep answers a
        // second time with its own idea of negative TTLs.
        let resolver = build_resolver(settings.resolver, settings.mx_timeout, 1, 0);
        if let Err(reason) = &resolver {
            tracing::error!(%reason, "MX detection cannot work: every unknown domain gets 503");
        }
        Some(MxDetector {
            resolver,
            microsoft365,
            timeout: settings.mx_timeout,
            negative_ttl: settings.negative_ttl,
            cache_size: settings.cache_size,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The site for a domain that is not in the table.
    pub async fn resolve(&self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        match self.verdict(domain).await {
            Ok(MxVerdict::Microsoft365 { .. }) => Ok(Arc::new(Site {
                domain: domain.clone(),
                profile: self.microsoft365.clone(),
                display_name: self.microsoft365.name.clone(),
                organization: None,
                source: SiteSource::Mx,
                thunderbird_document: Default::default(),
            })),
            Ok(MxVerdict::Other { exchanges }) => Err(ResolveError::NotMicrosoft365 {
                domain: domain.clone(),
                exchanges: exchanges
                    .iter()
                    .map(|e| if e.is_empty() { "." } else { e.as_str() })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            Ok(MxVerdict::NoMx) => Err(ResolveError::NoMx(domain.clone())),
            Err(failure) => Err(ResolveError::ResolverFailed {
                domain: domain.clone(),
                reason: failure.0,
            }),
        }
    }

    /// The domain's verdict, from the cache or one lookup.
    pub async fn verdict(&self, domain: &DomainName) -> Result<MxVerdict, LookupFailure> {
        if let Some(verdict) = self.cached(domain) {
            return Ok(verdict);
        }
        let (verdict, expires) = self.lookup_verdict(domain).await?;
        self.remember(domain, &verdict, expires);
        Ok(verdict)
    }

    fn cached(&self, domain: &DomainName) -> Option<MxVerdict> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(domain) {
            Some((verdict, expires)) if *expires > Instant::now() => Some(verdict.clone()),
            Some(_) => {
                cache.remove(domain);
                None
            }
            None => None,
        }
    }

    /// Keeps a verdict until `expires`; when the cache is full, expired
    /// verdicts go first, then the one closest to expiring.
    fn remember(&self, domain: &DomainName, verdict: &MxVerdict, expires: Instant) {
        let now = Instant::now();
        if expires <= now {
            return; // TTL 0: the owner asked not to be cached.
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if !cache.contains_key(domain) && cache.len() >= self.cache_size {
            cache.retain(|_, (_, expires)| *expires > now);
            if cache.len() >= self.cache_size
                && let Some(victim) = cache
                    .iter()
                    .min_by_key(|(_, (_, expires))| *expires)
                    .map(|(d, _)| d.clone())
            {
                cache.remove(&victim);
            }
        }
        cache.insert(domain.clone(), (verdict.clone(), expires));
    }

    async fn lookup_verdict(&self, domain: &DomainName) -> MxOutcome {
        let resolver = self
            .resolver
            .as_ref()
            .map_err(|e| LookupFailure(e.clone()))?;
        let answer = lookup(resolver, domain.as_str(), RecordType::MX, self.timeout).await?;
        let now = Instant::now();
        let mx: Vec<(u16, String, u32)> = answer
            .records
            .iter()
            .filter_map(|(data, ttl)| match data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii(), *ttl)),
                _ => None,
            })
            .collect();
        let verdict = classify_mx(
            &mx.iter()
                .map(|(p, e, _)| (*p, e.clone()))
                .collect::<Vec<_>>(),
        );
        let ttl = match verdict {
            MxVerdict::NoMx => {
                let soa = answer
                    .negative_ttl
                    .map_or(self.negative_ttl, |t| Duration::from_secs(u64::from(t)));
                soa.min(self.negative_ttl)
            }
            _ => {
                let ttl = mx.iter().map(|(_, _, t)| *t).min().unwrap_or(0);
                Duration::from_secs(u64::from(ttl)).min(MAX_MX_CACHE_TTL)
            }
        };
        tracing::debug!(domain = %domain, ?verdict, ttl_secs = ttl.as_secs(), "MX lookup");
        Ok((verdict, now + ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(records: &[(u16, &str)]) -> MxVerdict {
        classify_mx(
            &records
                .iter()
                .map(|(p, e)| (*p, (*e).to_owned()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn mx_under_mail_protection_outlook_com_is_microsoft365() {
        assert_eq!(
            mx(&[(0, "contoso-com.mail.protection.outlook.com.")]),
            MxVerdict::Microsoft365 {
                exchange: "contoso-com.mail.protection.outlook.com".into()
            }
        );
    }

    #[test]
    fn look_alike_and_backup_mx_are_not_microsoft365() {
        for records in [
            vec![(10, "evilmail.protection.outlook.com.")],
            vec![(10, "mail.protection.outlook.com.evil.example.")],
            vec![(10, "mail.protection.outlook.com.")],
            vec![
                (10, "mx.example.net."),
                (20, "contoso-com.mail.protection.outlook.com."),
            ],
        ] {
            assert!(
                matches!(mx(&records), MxVerdict::Other { .. }),
                "{records:?}"
            );
        }
        assert_eq!(mx(&[]), MxVerdict::NoMx);
    }

    /// The records of a profile whose IMAP uses STARTTLS, whose POP3 is
    /// disabled and whose submission is implicit TLS (port 465).
    #[test]
    fn srv_records_follow_the_profile_security_and_disabled_servers() {
        use crate::config::SourceFile;
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
