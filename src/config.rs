//! `mailsetup.toml`: loading, defaults and complete validation of the
//! server's configuration and domain table. Errors name the file, line and
//! reason. Does not resolve requests (see `resolve`) or open sockets.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::domain_table::DomainTable;
use crate::domains_file::{
    FileRows, Update, parse_domains_file, scan_domains_file, update_domains_file,
};
use crate::profile::{HostName, Profiles, load_profiles};
use crate::source::{ConfigError, SourceFile};

/// The configuration used when `--config` is not given: the listeners of
/// the README, a self-signed certificate, and a demo domain table.
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");
const EMBEDDED_DEFAULT_NAME: &str = "(embedded default configuration)";

/// The file as written. Every section is optional; defaults are safe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// Extra or overriding profiles, one `<id>.toml` each.
    profiles_dir: Option<PathBuf>,
    /// A domains file: one `domain profile [display name]` per line, the
    /// fast path for large tables (see `domains_file`). Relative to this
    /// file. Its domains join the `[[domain]]` table; a domain in both is
    /// an error.
    domains_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    server: ServerSection,
    tls: Option<TlsSection>,
    apple: Option<AppleSection>,
    #[serde(default)]
    limits: LimitsSection,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    dns: DnsSection,
    #[serde(default)]
    domain: Vec<DomainSection>,
    acme: Option<AcmeSection>,
    #[serde(default)]
    page: PageSection,
}

/// `[page]`: who runs the landing page, how people reach it and whom they
/// ask for help. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PageSection {
    /// `https://autoconfig.example.com`: the address the QR code opens.
    public_url: Option<Spanned<String>>,
    /// Proxies whose `X-Forwarded-Proto` / `Forwarded: proto=` is believed.
    trust_forwarded_proto_from: Vec<Spanned<IpAddr>>,
    organization: Option<Spanned<String>>,
    /// Inline SVG text, or the path of an SVG file read at load.
    logo: Option<Spanned<String>>,
    /// `mailto:`/an address, or an `https://` page.
    help: Option<Spanned<String>>,
}

/// `[acme]`: automatic certificates for `autoconfig.<d>` and
/// `autodiscover.<d>` (see `acme`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcmeSection {
    #[serde(default)]
    enabled: bool,
    directory_url: Option<Spanned<String>>,
    contact: Option<Spanned<String>>,
    state_dir: Option<PathBuf>,
    directory_ca: Option<PathBuf>,
    renew_after_secs: Option<Spanned<u64>>,
}

/// Let's Encrypt's production directory, the default.
pub const LETS_ENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, high limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// A validated, enabled `[acme]` section.
#[derive(Debug, Clone)]
pub struct AcmeConfig {
    pub directory_url: String,
    /// An email address for the CA's expiry and policy notices.
    pub contact: Option<String>,
    /// Account and certificates live here (see `acme` for the layout).
    pub state_dir: PathBuf,
    /// A PEM root to trust for the ACME directory's own HTTPS (test CAs
    /// such as Pebble); the system roots otherwise.
    pub directory_ca: Option<PathBuf>,
    /// Renew this long after issuance instead of at 2/3 of the lifetime
    /// (for trying renewal out).
    pub renew_after_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    #[serde(default)]
    http: Vec<Spanned<SocketAddr>>,
    #[serde(default)]
    https: Vec<Spanned<SocketAddr>>,
    /// Operator listeners: only /metrics and /healthz, plain HTTP.
    #[serde(default)]
    admin: Vec<Spanned<SocketAddr>>,
    #[serde(default)]
    http_policy: HttpPolicy,
    /// Whether the public listeners answer `/metrics` to clients on this
    /// machine (when there is no admin listener). Default: yes under the
    /// `redirect` policy, no under `serve`, where a TLS proxy on the same
    /// host makes every client look local.
    #[serde(default)]
    metrics_from_loopback: Option<bool>,
    /// The name clients reach this server by; what `mailsetup dns` tells
    /// domains to point their CNAME and SRV records at.
    #[serde(default)]
    public_name: Option<Spanned<HostName>>,
    /// Addresses for A/AAAA records when there is no `public_name`.
    #[serde(default)]
    public_ipv4: Option<Spanned<Ipv4Addr>>,
    #[serde(default)]
    public_ipv6: Option<Spanned<Ipv6Addr>>,
    /// Reload this file by itself when it changes (a mounted ConfigMap);
    /// certificates are always watched.
    #[serde(default)]
    watch: bool,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            http: vec![Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], 8080)))],
            https: vec![Spanned::new(0..0, SocketAddr::from(([127, 0, 0, 1], 8443)))],
            admin: Vec::new(),
            http_policy: HttpPolicy::default(),
            metrics_from_loopback: None,
            public_name: None,
            public_ipv4: None,
            public_ipv6: None,
            watch: false,
        }
    }
}

/// What the plain-HTTP listeners answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpPolicy {
    /// Thunderbird's autoconfig URLs (its http:// fallback), ACME http-01
    /// challenges and /healthz are answered; everything else is redirected
    /// to HTTPS.
    #[default]
    Redirect,
    /// Everything is answered over HTTP too (behind a TLS-terminating proxy).
    Serve,
}

/// `[dns]`: MX-based detection of Microsoft 365 domains and the resolver
/// used for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DnsSection {
    detect_microsoft365_by_mx: bool,
    resolver: Option<ResolverAddress>,
    mx_timeout_ms: Spanned<u64>,
    cache_size: Spanned<usize>,
    negative_ttl_secs: Spanned<u64>,
    mx_lookups_per_client_per_sec: Spanned<u32>,
    mx_lookups_per_sec: Spanned<u32>,
    mx_lookups_in_flight: Spanned<usize>,
}

impl Default for DnsSection {
    fn default() -> Self {
        let defaults = DnsSettings::default();
        DnsSection {
            detect_microsoft365_by_mx: defaults.detect_microsoft365_by_mx,
            resolver: None,
            mx_timeout_ms: Spanned::new(0..0, defaults.mx_timeout.as_millis() as u64),
            cache_size: Spanned::new(0..0, defaults.cache_size),
            negative_ttl_secs: Spanned::new(0..0, defaults.negative_ttl.as_secs()),
            mx_lookups_per_client_per_sec: Spanned::new(0..0, defaults.lookups_per_client_per_sec),
            mx_lookups_per_sec: Spanned::new(0..0, defaults.lookups_per_sec),
            mx_lookups_in_flight: Spanned::new(0..0, defaults.lookups_in_flight),
        }
    }
}

/// A DNS server address: `IP` (port 53) or `IP:port`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(try_from = "String")]
struct ResolverAddress(SocketAddr);

impl TryFrom<String> for ResolverAddress {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        parse_resolver_address(&value).map(ResolverAddress)
    }
}

/// Parses `IP`, `IP:port` or `[IPv6]:port`; a bare IP means port 53.
pub fn parse_resolver_address(value: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    value
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{value:?} is not a DNS server address (IP or IP:port)"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsSection {
    certificate: Option<Spanned<PathBuf>>,
    private_key: Option<Spanned<PathBuf>>,
    certificates_dir: Option<PathBuf>,
}

/// `[apple]`: how configuration profiles are signed. Every key is
/// optional: with none, profiles are signed with the `[tls]` certificate
/// when there is one, and unsigned with the self-signed default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppleSection {
    /// `false` serves unsigned profiles even when a certificate is there.
    sign: Option<bool>,
    /// PEM chain (signer first, then intermediates); default: `[tls]`'s.
    signing_certificate: Option<Spanned<PathBuf>>,
    /// PEM private key of the signer; default: `[tls]`'s.
    signing_key: Option<Spanned<PathBuf>>,
}

/// `[limits]` as written, each value with its place in the file so that
/// one out of range is refused with file, line and column.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LimitsSection {
    header_read_timeout_secs: Spanned<u64>,
    idle_timeout_secs: Spanned<u64>,
    max_connections: Spanned<usize>,
    max_body_bytes: Spanned<usize>,
    shutdown_grace_secs: Spanned<u64>,
    shutdown_delay_secs: Spanned<u64>,
    watch_interval_secs: Spanned<u64>,
}

impl Default for LimitsSection {
    fn default() -> Self {
        let defaults = Limits::default();
        LimitsSection {
            header_read_timeout_secs: Spanned::new(0..0, defaults.header_read_timeout_secs),
            idle_timeout_secs: Spanned::new(0..0, defaults.idle_timeout_secs),
            max_connections: Spanned::new(0..0, defaults.max_connections),
            max_body_bytes: Spanned::new(0..0, defaults.max_body_bytes),
            shutdown_grace_secs: Spanned::new(0..0, defaults.shutdown_grace_secs),
            shutdown_delay_secs: Spanned::new(0..0, defaults.shutdown_delay_secs),
            watch_interval_secs: Spanned::new(0..0, defaults.watch_interval_secs),
        }
    }
}

/// Resource limits, validated. Defaults suit a public server on a small
/// machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a complete request head (and, on HTTPS, to
    /// finish the TLS handshake). Cuts slow-header clients.
    pub header_read_timeout_secs: u64,
    /// Time an idle keep-alive connection is kept open.
    pub idle_timeout_secs: u64,
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Largest request body read (autodiscover requests are under 1 KiB).
    pub max_body_bytes: usize,
    /// Time in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Time between SIGTERM and the graceful drain, during which
    /// `/healthz` answers 503 and everything else is served as before: a
    /// load balancer that probes `/healthz` stops sending new clients
    /// before the listeners close. 0 (the default) stops at once, as an
    /// operator at a terminal expects; behind a load balancer, a few of
    /// its probe intervals.
    pub shutdown_delay_secs: u64,
    /// How often certificate files (and, with `[server] watch`, the
    /// configuration file) are looked at for changes.
    pub watch_interval_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 4096,
            max_body_bytes: 16 * 1024,
            shutdown_grace_secs: 10,
            shutdown_delay_secs: 0,
            // A renewed certificate is in service within seconds; five
            // `stat`s of a handful of files cost next to nothing.
            watch_interval_secs: 5,
        }
    }
}

impl Limits {
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
    pub fn shutdown_delay(&self) -> Duration {
        Duration::from_secs(self.shutdown_delay_secs)
    }
    pub fn watch_interval(&self) -> Duration {
        Duration::from_secs(self.watch_interval_secs)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    /// Write email addresses into request logs (off: only domains).
    #[serde(default)]
    addresses: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainSection {
    name: Spanned<HostName>,
    profile: Spanned<String>,
    display_name: Option<String>,
    organization: Option<String>,
}

/// Where the HTTPS certificates come from.
#[derive(Debug, Clone, Default)]
pub struct TlsSource {
    /// The certificate for names no other certificate covers (and for
    /// clients that send no SNI): PEM chain (leaf first) and key.
    pub default: Option<CertificateFiles>,
    /// A directory of `<name>/fullchain.pem` + `<name>/privkey.pem` (the
    /// layout of certbot's `live/` directory); each certificate answers for
    /// every DNS name in its subjectAltName.
    pub certificates_dir: Option<PathBuf>,
}

impl TlsSource {
    /// Without any certificate configured a self-signed one is generated.
    pub fn self_signed(&self) -> bool {
        self.default.is_none() && self.certificates_dir.is_none()
    }
}

/// How this server is reached from the Internet: what domains' DNS
/// records must point at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicIdentity {
    pub name: Option<crate::email::DomainName>,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
}

/// Validated `[dns]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSettings {
    /// Look up the MX of a domain that is not in the table; an MX under
    /// `mail.protection.outlook.com` makes it a Microsoft 365 domain.
    pub detect_microsoft365_by_mx: bool,
    /// The DNS server to ask; `None` means the system's (`/etc/resolv.conf`).
    pub resolver: Option<SocketAddr>,
    /// The longest an MX lookup may delay a request.
    pub mx_timeout: Duration,
    /// Most domains whose MX verdict is remembered.
    pub cache_size: usize,
    /// How long "no MX" (NXDOMAIN, no records) is remembered at most.
    pub negative_ttl: Duration,
    /// New domains (not cached) one client address (an IPv6 /64) may have
    /// looked up per second: a flood of random names must not reach other
    /// people's name servers through ours.
    pub lookups_per_client_per_sec: u32,
    /// New domains looked up per second by the whole server.
    pub lookups_per_sec: u32,
    /// Lookups waited for at once: a slow resolver must not pile up
    /// requests.
    pub lookups_in_flight: usize,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            detect_microsoft365_by_mx: false,
            resolver: None,
            mx_timeout: Duration::from_millis(2000),
            cache_size: 10_000,
            negative_ttl: Duration::from_secs(60),
            lookups_per_client_per_sec: 20,
            lookups_per_sec: 200,
            lookups_in_flight: 100,
        }
    }
}

/// Where the signing certificate and key come from (see `[apple]` in the
/// configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningSource {
    /// Profiles are served unsigned.
    Off,
    /// PEM files: the chain (signer first, then intermediates) and its key.
    Files {
        certificate: PathBuf,
        private_key: PathBuf,
    },
}

/// Where the HTTPS certificate comes from.
#[derive(Debug, Clone)]
pub struct CertificateFiles {
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

/// The validated configuration: everything the server needs, nothing left
/// to check at request time.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, or a description of the embedded default.
    pub origin: PathBuf,
    /// That file as it was just before it was read (`None`: the embedded
    /// default): the watcher compares the file with it, so an edit made
    /// while the server was starting, or a SIGHUP reload, is seen for what
    /// it is.
    pub read_as: Option<crate::watch::Fingerprint>,
    pub http_listeners: Vec<SocketAddr>,
    pub https_listeners: Vec<SocketAddr>,
    pub admin_listeners: Vec<SocketAddr>,
    pub http_policy: HttpPolicy,
    /// The public listeners answer `/metrics` to loopback clients (only
    /// when there is no admin listener).
    pub metrics_from_loopback: bool,
    pub tls: TlsSource,
    /// How Apple configuration profiles are signed.
    pub apple_signing: SigningSource,
    pub limits: Limits,
    /// `[server] watch`: the configuration file is reloaded when it
    /// changes, as on SIGHUP (see `watch`).
    pub watch: bool,
    pub log_addresses: bool,
    pub profiles: Profiles,
    /// The `[[domain]]` table's rows, then the domains file's (in the
    /// file's order when built; `file_rows` has it after an update). Shared with `resolve::Directory`, which looks domains up in
    /// it: one copy per configuration, however many domains.
    pub domains: Arc<DomainTable>,
    /// What the profiles and the `[[domain]]` part of the table were built
    /// from (see `table_key`).
    base_key: [u8; 32],
    /// The table row of each of the domains file's domains, in the file's
    /// order, for the next reload to compare the file with.
    file_rows: Option<Arc<FileRows>>,
    /// How this configuration's table came to be.
    pub table_origin: TableOrigin,
    pub public: PublicIdentity,
    pub dns: DnsSettings,
    /// Present when `[acme] enabled = true`.
    pub acme: Option<AcmeConfig>,
    /// `[page]`: the landing page's operator, public URL and help contact.
    pub page: PageSettings,
}

/// How a configuration's domain table came to be, for the reload's log
/// line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOrigin {
    /// Filled from the `[[domain]]` table and the domains file.
    Built,
    /// The table in service, unchanged: so were its files.
    Kept,
    /// A copy of the table in service with the domains file's changed
    /// lines applied: only that file had changed.
    Updated,
}

impl TableOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            TableOrigin::Built => "built",
            TableOrigin::Kept => "kept",
            TableOrigin::Updated => "updated",
        }
    }
}

/// Validated `[page]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSettings {
    /// `scheme://host[:port]` without a trailing slash. The QR code opens
    /// it instead of the request's own scheme and host, which are wrong
    /// behind a TLS-terminating proxy.
    pub public_url: Option<String>,
    /// Peers whose forwarded scheme is believed; empty (the default) means
    /// a forwarded header is never trusted, since any client can send one.
    pub trust_forwarded_proto_from: Vec<IpAddr>,
    /// Who runs the page, as people know them ("Contoso IT").
    pub organization: Option<String>,
    /// The organisation's logo, SVG text (shown as an image, so its
    /// scripts never run).
    pub logo_svg: Option<String>,
    pub help: Option<HelpContact>,
}

/// Where people who are stuck get help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpContact {
    /// An address, shown as a `mailto:` link.
    Mail(String),
    /// An `https://` or `http://` page.
    Url(String),
}

/// The largest logo accepted: it is inlined in every page.
const MAX_LOGO_BYTES: usize = 32 * 1024;

impl Config {
    /// Loads `path`, or the embedded default when `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load_reusing(path, None)
    }

    /// `load`, keeping `previous`'s domain table and profiles (the same
    /// `Arc`s) when they would be built from the same bytes: the same
    /// profiles, `[[domain]]` entries and domains file. A reload that
    /// leaves a million-line domains file alone then neither reads it
    /// twice nor builds a second table; one that changes a byte of it
    /// rebuilds the whole table, as before.
    pub fn load_reusing(
        path: Option<&Path>,
        previous: Option<&Config>,
    ) -> Result<Config, ConfigError> {
        match path {
            Some(path) => {
                let read_as = crate::watch::Fingerprint::of(&[path.to_path_buf()], false);
                let mut config = Config::from_source_reusing(&SourceFile::read(path)?, previous)?;
                config.read_as = Some(read_as);
                Ok(config)
            }
            None => Config::from_source_reusing(
                &SourceFile::new(
                    Path::new(EMBEDDED_DEFAULT_NAME),
                    EMBEDDED_DEFAULT.to_owned(),
                ),
                previous,
            ),
        }
    }

    pub fn from_source(source: &SourceFile) -> Result<Config, ConfigError> {
        Config::from_source_reusing(source, None)
    }

    fn from_source_reusing(
        source: &SourceFile,
        previous: Option<&Config>,
    ) -> Result<Config, ConfigError> {
        let file: ConfigFile = source.deserialize()?;
        // Relative paths are relative to the configuration file, so a
        // directory of files can be moved as a whole.
        let base = source.path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let profiles = load_profiles(file.profiles_dir.map(resolve).as_deref())?;
        let limits = validate_limits(source, file.limits)?;
        if file.server.http.is_empty() && file.server.https.is_empty() {
            return Err(source.error_at(None, "[server] has no http or https listener".into()));
        }
        check_listeners_apart(source, &file.server)?;

        // A reload whose profiles and `[[domain]]` table are those in
        // service reads the domains file once, beside the table in service
        // (`update_domains_file`); otherwise the file is read twice, for its
        // size and then to fill the table.
        let listed_at = file.domains_file.as_ref().map(Spanned::span);
        let unreadable = |path: &Path, cause: std::io::Error| {
            source.error_at(
                listed_at.clone(),
                format!("domains_file {}: {cause}", path.display()),
            )
        };
        let mut domains_file = match &file.domains_file {
            Some(listed) => {
                let path = resolve(listed.get_ref().clone());
                let file = std::fs::File::open(&path).map_err(|cause| unreadable(&path, cause))?;
                Some((path, std::io::BufReader::with_capacity(64 * 1024, file)))
            }
            None => None,
        };
        let base_key = table_key(&profiles, &file.domain);
        let same_base = previous.filter(|previous| previous.base_key == base_key);
        // The table in service, and what the domains file (if any) changes
        // in it, when the profiles and `[[domain]]` entries are unchanged.
        let update = match (same_base, &mut domains_file) {
            (Some(previous), None) if previous.file_rows.is_none() => Some((previous, None)),
            (Some(previous), Some((path, reader))) => match &previous.file_rows {
                Some(rows) => {
                    let update = update_domains_file(
                        &mut *reader,
                        rows,
                        file.domain.len(),
                        &previous.domains,
                    )
                    .map_err(|cause| unreadable(path, cause))?;
                    std::io::Seek::rewind(reader).map_err(|cause| unreadable(path, cause))?;
                    Some((previous, Some(update)))
                }
                None => None,
            },
            _ => None,
        };
        let (profiles, domains, file_rows, table_origin) = match update {
            Some((previous, None)) => (
                previous.profiles.clone(),
                previous.domains.clone(),
                None,
                TableOrigin::Kept,
            ),
            Some((previous, Some(Update::Unchanged { rows }))) => {
                let file_rows = match &previous.file_rows {
                    Some(kept) if **kept == rows => kept.clone(),
                    _ => Arc::new(rows),
                };
                (
                    previous.profiles.clone(),
                    previous.domains.clone(),
                    Some(file_rows),
                    TableOrigin::Kept,
                )
            }
            Some((previous, Some(Update::Changed { table, rows }))) => (
                previous.profiles.clone(),
                Arc::new(table),
                Some(Arc::new(rows)),
                TableOrigin::Updated,
            ),
            _ => {
                let listed = domains_file
                    .as_mut()
                    .map(|(path, reader)| (path.as_path(), reader));
                let (domains, rows) =
                    build_table(source, &profiles, file.domain, listed, unreadable)?;
                (
                    profiles,
                    Arc::new(domains),
                    rows.map(Arc::new),
                    TableOrigin::Built,
                )
            }
        };

        let public = PublicIdentity {
            name: file.server.public_name.map(|n| n.into_inner().0),
            ipv4: public_address(source, file.server.public_ipv4)?,
            ipv6: public_address(source, file.server.public_ipv6)?,
        };
        let dns = validate_dns(source, file.dns)?;

        let tls = match file.tls {
            None => TlsSource::default(),
            Some(tls) => {
                let default = match (tls.certificate, tls.private_key) {
                    (Some(certificate), Some(private_key)) => Some(CertificateFiles {
                        certificate: resolve(certificate.into_inner()),
                        private_key: resolve(private_key.into_inner()),
                    }),
                    (None, None) => None,
                    (Some(given), None) | (None, Some(given)) => {
                        return Err(source.error_at(
                            Some(given.span()),
                            "[tls] certificate and private_key go together: give both or neither"
                                .into(),
                        ));
                    }
                };
                TlsSource {
                    default,
                    certificates_dir: tls.certificates_dir.map(resolve),
                }
            }
        };
        let apple_signing = apple_signing(source, file.apple, &tls, &resolve)?;
        let acme = match file.acme {
            Some(section) if section.enabled => Some(acme_config(source, section, &resolve)?),
            _ => None,
        };
        let page = validate_page(source, file.page, &resolve)?;
        Ok(Config {
            acme,
            page,
            origin: source.path.clone(),
            read_as: None,
            http_listeners: file
                .server
                .http
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            https_listeners: file
                .server
                .https
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            admin_listeners: file
                .server
                .admin
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            http_policy: file.server.http_policy,
            metrics_from_loopback: file
                .server
                .metrics_from_loopback
                .unwrap_or(file.server.http_policy == HttpPolicy::Redirect),
            tls,
            apple_signing,
            limits,
            watch: file.server.watch,
            log_addresses: file.log.addresses,
            profiles,
            domains,
            base_key,
            file_rows,
            table_origin,
            public,
            dns,
        })
    }
}

/// Fills a new table from the `[[domain]]` entries, then the domains
/// file (`file` at its start).
fn build_table(
    source: &SourceFile,
    profiles: &Profiles,
    entries: Vec<DomainSection>,
    domains_file: Option<(&Path, &mut std::io::BufReader<std::fs::File>)>,
    unreadable: impl Fn(&Path, std::io::Error) -> ConfigError,
) -> Result<(DomainTable, Option<FileRows>), ConfigError> {
    let mut domains = DomainTable::new(profiles);
    domains.reserve(entries.len(), 0);
    for entry in entries {
        let name = &entry.name.get_ref().0;
        if domains.contains(name.as_str()) {
            return Err(source.error_at(
                Some(entry.name.span()),
                format!("domain {name} is listed twice"),
            ));
        }
        let Some(profile) = domains.profile(entry.profile.get_ref()) else {
            let known: Vec<&str> = domains.profile_ids().collect();
            return Err(source.error_at(
                Some(entry.profile.span()),
                format!(
                    "unknown profile {:?} for domain {name}; known profiles: {}",
                    entry.profile.get_ref(),
                    known.join(", ")
                ),
            ));
        };
        domains
            .insert(
                name,
                profile,
                entry.display_name.as_deref(),
                entry.organization.as_deref(),
            )
            .map_err(|_| {
                source.error_at(
                    Some(entry.name.span()),
                    "the domain table is full: its names pass 4 GiB".into(),
                )
            })?;
    }
    let rows = match domains_file {
        Some((path, reader)) => {
            let io_error = |error| match error {
                // A directory opens, then fails to read.
                ConfigError::Io { cause, .. } => unreadable(path, cause),
                other => other,
            };
            let scan = scan_domains_file(path, reader).map_err(io_error)?;
            std::io::Seek::rewind(reader).map_err(|cause| unreadable(path, cause))?;
            Some(
                parse_domains_file(path, reader, &scan, &mut domains, &source.path)
                    .map_err(io_error)?,
            )
        }
        None => None,
    };
    domains.shrink_to_fit();
    Ok((domains, rows))
}

/// SHA-256 of what the profiles and the `[[domain]]` part of the table
/// are built from: each profile's id and file digest and each entry's
/// fields, every field length-prefixed so that no two different inputs
/// give the same bytes. Equal keys let a reload keep the table in service,
/// or update it from the domains file alone.
fn table_key(profiles: &Profiles, entries: &[DomainSection]) -> [u8; 32] {
    let mut key = ring::digest::Context::new(&ring::digest::SHA256);
    let mut field = |bytes: Option<&[u8]>| match bytes {
        Some(bytes) => {
            key.update(&[1]);
            key.update(&(bytes.len() as u64).to_le_bytes());
            key.update(bytes);
        }
        None => key.update(&[0]),
    };
    for (id, profile) in profiles {
        field(Some(id.as_bytes()));
        field(Some(&profile.source_digest));
    }
    for entry in entries {
        field(Some(entry.name.get_ref().0.as_str().as_bytes()));
        field(Some(entry.profile.get_ref().as_bytes()));
        field(entry.display_name.as_deref().map(str::as_bytes));
        field(entry.organization.as_deref().map(str::as_bytes));
    }
    crate::source::digest_bytes(key.finish())
}

/// Decides who signs Apple profiles. A self-signed TLS certificate is never
/// used: devices would show "Not Verified", which is no better than
/// unsigned and alarms people more.
fn apple_signing(
    source: &SourceFile,
    apple: Option<AppleSection>,
    tls: &TlsSource,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<SigningSource, ConfigError> {
    // The default TLS certificate is the natural signer (the one of
    // autoconfig.<domain>); certificates-directory entries are per name and
    // would make the signer depend on the domain.
    let tls_signer = tls.default.as_ref().map(|files| SigningSource::Files {
        certificate: files.certificate.clone(),
        private_key: files.private_key.clone(),
    });
    let Some(apple) = apple else {
        return Ok(tls_signer.unwrap_or(SigningSource::Off));
    };
    if apple.sign == Some(false) {
        return Ok(SigningSource::Off);
    }
    match (apple.signing_certificate, apple.signing_key, tls_signer) {
        (Some(certificate), Some(key), _) => Ok(SigningSource::Files {
            certificate: resolve(certificate.into_inner()),
            private_key: resolve(key.into_inner()),
        }),
        (Some(only), None, _) | (None, Some(only), _) => Err(source.error_at(
            Some(only.span()),
            "[apple] needs both signing_certificate and signing_key, or neither (then the \
             [tls] files are used)"
                .into(),
        )),
        (None, None, Some(tls_signer)) => Ok(tls_signer),
        (None, None, None) if apple.sign == Some(true) => Err(source.error_at(
            None,
            "[apple] sign = true needs signing_certificate and signing_key, or a [tls] \
             certificate and private_key that can sign (a self-signed certificate cannot)"
                .into(),
        )),
        (None, None, None) => Ok(SigningSource::Off),
    }
}

/// `scheme://host[:port]` of a public base URL, lower-cased, or `None`
/// when it is not an http(s) origin: a path, query, user, a port that is
/// not 1-65535 or a host that is not a domain name or IP address.
fn public_origin(text: &str) -> Option<String> {
    let uri: http::Uri = text.trim().parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    if !matches!(scheme.as_str(), "https" | "http")
        || authority.as_str().contains('@')
        || uri
            .path_and_query()
            .is_some_and(|rest| rest.as_str() != "/")
    {
        return None;
    }
    let host = authority.host();
    let host_is_valid = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => ipv6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            host.parse::<std::net::Ipv4Addr>().is_ok()
                || crate::email::DomainName::parse(host)
                    .is_ok_and(|name| name.as_str() == host.to_ascii_lowercase())
        }
    };
    // `Authority` keeps a port it cannot read as a number (`a:b`): only
    // `host` or `host:<1-65535>` pass.
    let port = authority.as_str()[host.len()..].strip_prefix(':');
    let port_is_valid = port.is_none_or(|port| port.parse::<u16>().is_ok_and(|p| p > 0));
    (host_is_valid && port_is_valid)
        .then(|| format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

/// Checks `[page]`: a public URL is an origin only, a logo is SVG of a
/// sane size (a path is read now, so a missing file fails at start-up), a
/// help contact is an address or a web page.
fn validate_page(
    source: &SourceFile,
    page: PageSection,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<PageSettings, ConfigError> {
    let public_url = match page.public_url {
        None => None,
        Some(url) => {
            let Some(origin) = public_origin(url.get_ref()) else {
                return Err(source.error_at(
                    Some(url.span()),
                    format!(
                        "[page] public_url = {:?} must be https://host or https://host:port, \
                         with no path, query or user (the QR code adds the path)",
                        url.get_ref()
                    ),
                ));
            };
            Some(origin)
        }
    };
    let organization = match page.organization {
        None => None,
        Some(name) => {
            let text = name.get_ref().trim();
            if text.is_empty() || text.chars().count() > 100 || text.chars().any(char::is_control) {
                return Err(source.error_at(
                    Some(name.span()),
                    "[page] organization must be 1 to 100 characters on one line".into(),
                ));
            }
            Some(text.to_owned())
        }
    };
    let logo_svg = match page.logo {
        None => None,
        Some(logo) => {
            let given = logo.get_ref().trim();
            let svg = if given.starts_with('<') {
                given.to_owned()
            } else {
                let path = resolve(PathBuf::from(given));
                // Read at most one byte past the limit: a path to a huge
                // file (or /dev/zero) must not hang or exhaust the load.
                let mut text = String::new();
                std::fs::File::open(&path)
                    .and_then(|file| {
                        use std::io::Read;
                        file.take(MAX_LOGO_BYTES as u64 + 1)
                            .read_to_string(&mut text)
                    })
                    .map_err(|e| {
                        source.error_at(
                            Some(logo.span()),
                            format!("[page] logo: cannot read {}: {e}", path.display()),
                        )
                    })?;
                text
            };
            if !svg.contains("<svg") || svg.len() > MAX_LOGO_BYTES {
                return Err(source.error_at(
                    Some(logo.span()),
                    format!(
                        "[page] logo must be SVG (inline text starting with <svg, or an .svg \
                         file) of at most {MAX_LOGO_BYTES} bytes"
                    ),
                ));
            }
            Some(svg)
        }
    };
    let help = match page.help {
        None => None,
        Some(help) => {
            let text = help.get_ref().trim();
            let mail = text.strip_prefix("mailto:").unwrap_or(text);
            if text.starts_with("https://") || text.starts_with("http://") {
                if text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"')
                {
                    return Err(source.error_at(
                        Some(help.span()),
                        "[page] help: the URL contains a space or a quote".into(),
                    ));
                }
                Some(HelpContact::Url(text.to_owned()))
            } else if let Ok(address) = crate::email::EmailAddress::parse(mail) {
                Some(HelpContact::Mail(address.as_str().to_owned()))
            } else {
                return Err(source.error_at(
                    Some(help.span()),
                    format!(
                        "[page] help = {text:?} is neither an email address (it@example.com or \
                         mailto:it@example.com) nor a web page (https://...)"
                    ),
                ));
            }
        }
    };
    Ok(PageSettings {
        public_url,
        trust_forwarded_proto_from: page
            .trust_forwarded_proto_from
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        organization,
        logo_svg,
        help,
    })
}

/// An address other domains may publish: not loopback, unspecified or
/// multicast, which would send every client to itself or nowhere.
fn public_address<A: Copy + Into<IpAddr>>(
    source: &SourceFile,
    address: Option<Spanned<A>>,
) -> Result<Option<A>, ConfigError> {
    let Some(address) = address else {
        return Ok(None);
    };
    let ip: IpAddr = (*address.get_ref()).into();
    if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
        return Err(source.error_at(
            Some(address.span()),
            format!("{ip} cannot be published in DNS: it is a loopback, unspecified or multicast address"),
        ));
    }
    Ok(Some(*address.get_ref()))
}

/// The value of `key` when it lies in `allowed`; else an error at the
/// value that gives the range and what the setting means.
fn in_range<T>(
    source: &SourceFile,
    key: &str,
    value: Spanned<T>,
    allowed: RangeInclusive<T>,
    meaning: &str,
) -> Result<T, ConfigError>
where
    T: Copy + PartialOrd + std::fmt::Display,
{
    let given = *value.get_ref();
    if allowed.contains(&given) {
        return Ok(given);
    }
    Err(source.error_at(
        Some(value.span()),
        format!(
            "{key} = {given} is out of range: it must be between {} and {} ({meaning})",
            allowed.start(),
            allowed.end()
        ),
    ))
}

/// Every limit within a range a real server could want: a typo such as
/// `max_body_bytes = 99999999999` or a timeout of years would otherwise
/// be accepted and only show, if ever, as a server that can be exhausted.
fn validate_limits(source: &SourceFile, limits: LimitsSection) -> Result<Limits, ConfigError> {
    Ok(Limits {
        header_read_timeout_secs: in_range(
            source,
            "limits.header_read_timeout_secs",
            limits.header_read_timeout_secs,
            1..=300,
            "seconds a client has to send a request head",
        )?,
        idle_timeout_secs: in_range(
            source,
            "limits.idle_timeout_secs",
            limits.idle_timeout_secs,
            1..=3_600,
            "seconds an idle connection is kept open",
        )?,
        max_connections: in_range(
            source,
            "limits.max_connections",
            limits.max_connections,
            1..=100_000,
            "connections served at once",
        )?,
        max_body_bytes: in_range(
            source,
            "limits.max_body_bytes",
            limits.max_body_bytes,
            4_096..=1_048_576,
            "largest request body read; autodiscover requests are under 1 KiB",
        )?,
        shutdown_grace_secs: in_range(
            source,
            "limits.shutdown_grace_secs",
            limits.shutdown_grace_secs,
            0..=300,
            "seconds in-flight requests get after SIGTERM",
        )?,
        shutdown_delay_secs: in_range(
            source,
            "limits.shutdown_delay_secs",
            limits.shutdown_delay_secs,
            0..=300,
            "seconds /healthz answers 503 after SIGTERM before the listeners close",
        )?,
        watch_interval_secs: in_range(
            source,
            "limits.watch_interval_secs",
            limits.watch_interval_secs,
            1..=3_600,
            "seconds between looks at the certificate and configuration files",
        )?,
    })
}

/// No two listeners may need the same port: `serve` would fail to bind
/// the second, long after `check` said the file was fine. Port 0 (any
/// free port) never collides; a wildcard address collides with every
/// address of its family on that port. (`[::]` beside `0.0.0.0` on one
/// port depends on the host's `net.ipv6.bindv6only`, so it is not judged
/// here.)
fn check_listeners_apart(source: &SourceFile, server: &ServerSection) -> Result<(), ConfigError> {
    let listeners: Vec<(&str, &Spanned<SocketAddr>)> = [
        ("http", &server.http),
        ("https", &server.https),
        ("admin", &server.admin),
    ]
    .into_iter()
    .flat_map(|(kind, addrs)| addrs.iter().map(move |addr| (kind, addr)))
    .collect();
    for (i, (kind, addr)) in listeners.iter().enumerate() {
        for (earlier_kind, earlier) in &listeners[..i] {
            if listeners_collide(*earlier.get_ref(), *addr.get_ref()) {
                return Err(source.error_at(
                    Some(addr.span()),
                    format!(
                        "{kind} listener {} takes the port of {earlier_kind} listener {}: \
                         serve could not bind both; give each listener its own port",
                        addr.get_ref(),
                        earlier.get_ref()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn listeners_collide(a: SocketAddr, b: SocketAddr) -> bool {
    if a.port() != b.port() || a.port() == 0 {
        return false;
    }
    a.is_ipv4() == b.is_ipv4()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

fn validate_dns(source: &SourceFile, dns: DnsSection) -> Result<DnsSettings, ConfigError> {
    let timeout_ms = *dns.mx_timeout_ms.get_ref();
    if !(1..=30_000).contains(&timeout_ms) {
        return Err(source.error_at(
            Some(dns.mx_timeout_ms.span()),
            "dns.mx_timeout_ms must be between 1 and 30000: a request waits this long at most"
                .into(),
        ));
    }
    if *dns.cache_size.get_ref() == 0 {
        return Err(source.error_at(
            Some(dns.cache_size.span()),
            "dns.cache_size must be at least 1".into(),
        ));
    }
    if *dns.negative_ttl_secs.get_ref() > 86_400 {
        return Err(source.error_at(
            Some(dns.negative_ttl_secs.span()),
            "dns.negative_ttl_secs must be at most 86400 (one day)".into(),
        ));
    }
    let resolver = dns.resolver.map(|r| r.0);
    Ok(DnsSettings {
        detect_microsoft365_by_mx: dns.detect_microsoft365_by_mx,
        resolver,
        mx_timeout: Duration::from_millis(timeout_ms),
        cache_size: *dns.cache_size.get_ref(),
        negative_ttl: Duration::from_secs(*dns.negative_ttl_secs.get_ref()),
        lookups_per_client_per_sec: in_range(
            source,
            "dns.mx_lookups_per_client_per_sec",
            dns.mx_lookups_per_client_per_sec,
            1..=10_000,
            "new domains one client address may have looked up per second",
        )?,
        lookups_per_sec: in_range(
            source,
            "dns.mx_lookups_per_sec",
            dns.mx_lookups_per_sec,
            1..=100_000,
            "new domains the server looks up per second",
        )?,
        lookups_in_flight: in_range(
            source,
            "dns.mx_lookups_in_flight",
            dns.mx_lookups_in_flight,
            1..=10_000,
            "MX lookups waited for at once",
        )?,
    })
}

fn acme_config(
    source: &SourceFile,
    section: AcmeSection,
    resolve: &dyn Fn(PathBuf) -> PathBuf,
) -> Result<AcmeConfig, ConfigError> {
    let directory_url = match section.directory_url {
        Some(url) => {
            if !url.get_ref().starts_with("https://") {
                return Err(source.error_at(
                    Some(url.span()),
                    format!(
                        "acme.directory_url must be an https:// URL, e.g. {LETS_ENCRYPT_STAGING}"
                    ),
                ));
            }
            url.into_inner()
        }
        None => LETS_ENCRYPT_PRODUCTION.to_owned(),
    };
    let contact = match section.contact {
        Some(contact) => {
            let parsed = crate::email::EmailAddress::parse(contact.get_ref())
                .map_err(|e| source.error_at(Some(contact.span()), format!("acme.contact: {e}")))?;
            Some(parsed.as_str().to_owned())
        }
        None => None,
    };
    let state_dir = section.state_dir.map(resolve).ok_or_else(|| {
        source.error_at(
            None,
            "[acme] is enabled but has no state_dir (where the account and certificates are kept)"
                .into(),
        )
    })?;
    let directory_ca = section.directory_ca.map(resolve);
    if let Some(ca) = &directory_ca {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        if let Err(e) = CertificateDer::from_pem_file(ca) {
            return Err(source.error_at(None, format!("acme.directory_ca {}: {e}", ca.display())));
        }
    }
    let renew_after_secs = match section.renew_after_secs {
        Some(secs) if *secs.get_ref() == 0 => {
            return Err(source.error_at(
                Some(secs.span()),
                "acme.renew_after_secs must be at least 1".into(),
            ));
        }
        Some(secs) => Some(secs.into_inner()),
        None => None,
    };
    Ok(AcmeConfig {
        directory_url,
        contact,
        state_dir,
        directory_ca,
        renew_after_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_source(&SourceFile::new(Path::new("m.toml"), text.into()))
    }

    #[test]
    fn embedded_default_loads() {
        let config = Config::load(None).unwrap();
        assert_eq!(config.http_listeners, ["127.0.0.1:8080".parse().unwrap()]);
        assert_eq!(config.https_listeners, ["127.0.0.1:8443".parse().unwrap()]);
        assert!(config.tls.self_signed());
        let first = config.domains.row(0).unwrap();
        assert_eq!(first.name, "contoso.example");
        assert_eq!(first.profile.id, "microsoft365");
        assert_eq!(config.apple_signing, SigningSource::Off);
    }

    #[test]
    fn apple_signing_defaults_to_the_tls_files() {
        let config = load("[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\n").unwrap();
        assert_eq!(
            config.apple_signing,
            SigningSource::Files {
                certificate: PathBuf::from("c.pem"),
                private_key: PathBuf::from("k.pem"),
            }
        );
    }

    #[test]
    fn apple_sign_false_turns_signing_off() {
        let text =
            "[tls]\ncertificate = \"c.pem\"\nprivate_key = \"k.pem\"\n[apple]\nsign = false\n";
        assert_eq!(load(text).unwrap().apple_signing, SigningSource::Off);
    }

    #[test]
    fn apple_sign_true_without_a_certificate_is_refused() {
        let err = load("[apple]\nsign = true\n").unwrap_err().to_string();
        assert!(
            err.starts_with("m.toml: [apple] sign = true needs"),
            "{err}"
        );
    }

    #[test]
    fn apple_signing_key_without_certificate_is_refused_with_its_line() {
        let err = load("[apple]\nsigning_key = \"k.pem\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.toml:2:15: [apple] needs both"), "{err}");
    }

    #[test]
    fn unknown_profile_names_line_and_known_profiles() {
        let err = load("[[domain]]\nname = \"a.com\"\nprofile = \"gmail\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.toml:3:11: unknown profile \"gmail\" for domain a.com; known profiles: microsoft365, outlook"
        );
    }

    #[test]
    fn duplicate_domain_is_refused() {
        let text = "[[domain]]\nname = \"a.com\"\nprofile = \"outlook\"\n\
                    [[domain]]\nname = \"A.com\"\nprofile = \"outlook\"\n";
        assert_eq!(
            load(text).unwrap_err().to_string(),
            "m.toml:5:8: domain a.com is listed twice"
        );
    }

    #[test]
    fn acme_defaults_to_lets_encrypt_production() {
        let config = load("[acme]\nenabled = true\nstate_dir = \"/var/lib/m\"\n").unwrap();
        let acme = config.acme.unwrap();
        assert_eq!(acme.directory_url, LETS_ENCRYPT_PRODUCTION);
        assert_eq!(acme.state_dir, Path::new("/var/lib/m"));
        assert!(load("[acme]\nstate_dir = \"x\"\n").unwrap().acme.is_none());
    }

    #[test]
    fn acme_without_state_dir_is_refused() {
        let err = load("[acme]\nenabled = true\n").unwrap_err();
        assert!(err.to_string().contains("has no state_dir"), "{err}");
    }

    #[test]
    fn acme_plain_http_directory_is_refused() {
        let text = "[acme]\nenabled = true\nstate_dir = \"s\"\ndirectory_url = \"http://x/dir\"\n";
        let err = load(text).unwrap_err().to_string();
        assert!(
            err.starts_with("m.toml:4:17: acme.directory_url must be an https:// URL"),
            "{err}"
        );
    }

    #[test]
    fn bad_domain_name_is_refused_with_reason() {
        let err = load("[[domain]]\nname = \"a_b.com\"\nprofile = \"outlook\"\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.toml:2:8: \"a_b.com\" is not a host name"),
            "{err}"
        );
    }

    /// A reload keeps the domain table and profiles in service (the same
    /// `Arc`s) exactly when what they are built from is byte for byte the
    /// same, and rebuilds them when any of it changes: the domains file,
    /// a `[[domain]]` entry, or a profile file.
    #[test]
    fn a_reload_keeps_or_updates_the_table_only_as_far_as_its_files_changed() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("mailsetup.toml");
        let profiles = dir.path().join("profiles");
        std::fs::create_dir(&profiles).unwrap();
        let microsoft365 = include_str!("../profiles/microsoft365.toml");
        let write = |config_name: &str, fabrikam: &str, profile_name: &str| {
            std::fs::write(
                &config_path,
                format!(
                    "domains_file = \"domains.txt\"\nprofiles_dir = \"profiles\"\n\
                     [server]\nhttp = [\"127.0.0.1:8080\"]\n\
                     [[domain]]\nname = \"contoso.example\"\nprofile = \"microsoft365\"\n\
                     display_name = \"{config_name}\"\n"
                ),
            )
            .unwrap();
            // Enough lines that changing one is an update, not a rebuild.
            let others: String = (0..8).map(|i| format!("d{i}.example outlook\n")).collect();
            std::fs::write(
                dir.path().join("domains.txt"),
                format!("fabrikam.example microsoft365 {fabrikam}\n{others}"),
            )
            .unwrap();
            std::fs::write(
                profiles.join("microsoft365.toml"),
                microsoft365.replacen(
                    "name = \"Microsoft 365\"",
                    &format!("name = \"{profile_name}\""),
                    1,
                ),
            )
            .unwrap();
        };
        let load =
            |previous: Option<&Config>| Config::load_reusing(Some(&config_path), previous).unwrap();
        // Whether the profiles and the table are those of `before`.
        let kept = |before: &Config, after: &Config| {
            (
                Arc::ptr_eq(
                    &before.profiles["microsoft365"],
                    &after.profiles["microsoft365"],
                ),
                Arc::ptr_eq(&before.domains, &after.domains),
            )
        };
        write("Contoso", "Fabrikam", "Microsoft 365");
        let first = load(None);
        assert!(first.domains.contains("fabrikam.example"));
        assert_eq!(first.table_origin, TableOrigin::Built);

        // Nothing changed: kept, and a fresh load would build the same.
        let second = load(Some(&first));
        assert_eq!(kept(&first, &second), (true, true));
        assert_eq!(second.table_origin, TableOrigin::Kept);
        assert_eq!(kept(&first, &load(None)), (false, false));

        // One byte of the domains file: a copy of the table, updated; the
        // profiles kept.
        write("Contoso", "Fabrikan", "Microsoft 365");
        let third = load(Some(&second));
        assert_eq!(kept(&second, &third), (true, false));
        assert_eq!(third.table_origin, TableOrigin::Updated);
        assert_eq!(
            third.domains.get("fabrikam.example").unwrap().display_name,
            Some("Fabrikan")
        );
        assert_eq!(third.domains.len(), 10);

        // A `[[domain]]` entry: rebuilt.
        write("Contoso Ltd", "Fabrikan", "Microsoft 365");
        let fourth = load(Some(&third));
        assert_eq!(kept(&third, &fourth), (false, false));
        assert_eq!(fourth.table_origin, TableOrigin::Built);
        assert_eq!(
            fourth.domains.get("contoso.example").unwrap().display_name,
            Some("Contoso Ltd")
        );

        // A profile file, the domains unchanged: rebuilt.
        write("Contoso Ltd", "Fabrikan", "Microsoft 365 (work)");
        let fifth = load(Some(&fourth));
        assert_eq!(kept(&fourth, &fifth), (false, false));
        assert_eq!(fifth.table_origin, TableOrigin::Built);
        assert_eq!(fifth.profiles["microsoft365"].name, "Microsoft 365 (work)");
        let site_profile = &fifth.domains.get("fabrikam.example").unwrap().profile;
        assert!(Arc::ptr_eq(site_profile, &fifth.profiles["microsoft365"]));

        // And back to nothing changed.
        assert_eq!(kept(&fifth, &load(Some(&fifth))), (true, true));
    }
}
