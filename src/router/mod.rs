//! Routing: an HTTP request (head and an already size-capped body) becomes a
//! typed input, is resolved, rendered, and turned into a response. Owns the
//! URL space, status codes and error bodies; does not do I/O (see `server`).
//!
//! Every client mistake becomes a 4xx with a plain-text body that says what
//! was wrong. Bodies only ever contain parsed, validated values (domain
//! names, fixed messages), never raw request input.

mod apple;
mod autodiscover;
mod encoding;
mod host;
mod landing;
mod operations;
mod reply;
mod route;

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http::header;
use http::{Request, Response, StatusCode};
use http_body_util::Full;

use crate::apple::{AppleError, UnknownValue};
use crate::clients::Client;
use crate::config::Config;
use crate::date::Date;
use crate::document::Document;
use crate::email::{AddressError, DomainName, EmailAddress};
use crate::resolve::{Account, ResolveError, Resolver, Site, mail_domain_of_host};
use crate::services::Services;
use crate::signing::{ProfileSigner, SigningError};
use crate::thunderbird::{DocumentCache, NativeTypes};
use crate::web;

use host::RequestHost;
pub use reply::plain_error;
use reply::{Caching, Reply, Vary};
pub use route::Endpoint;
use route::Route;

/// What the router serves from: the validated configuration and what is
/// derived from it. Built once per configuration; shared by every
/// connection.
pub struct App {
    pub config: Config,
    /// Every domain a request names is resolved here (table, then MX).
    pub resolver: Resolver,
    /// Thunderbird documents, cut once per site.
    thunderbird: DocumentCache,
    /// What the landing page takes from the configuration, made once.
    page_assets: web::PageAssets,
    /// Signs Apple profiles; loaded with the configuration (`None`: unsigned).
    pub profile_signer: Option<ProfileSigner>,
    /// What outlives a configuration reload.
    pub services: Arc<Services>,
}

impl App {
    /// An app with services of its own (the CLI, tests, fuzzing).
    pub fn new(config: Config) -> App {
        App::with_services(config, Arc::default())
    }

    pub fn with_services(config: Config, services: Arc<Services>) -> App {
        App {
            resolver: Resolver::new(&config),
            thunderbird: DocumentCache::new(config.profiles.values()),
            page_assets: web::PageAssets::new(&config),
            config,
            services,
            profile_signer: None,
        }
    }

    /// Sets the signer of Apple profiles (see `signing::ProfileSigner::load`).
    pub fn with_profile_signer(mut self, signer: Option<ProfileSigner>) -> App {
        self.profile_signer = signer;
        self
    }
}

/// What the request log line and the metrics say about a request besides
/// method and status; returned with the response by `route`.
#[derive(Debug, Clone)]
pub struct RequestLog {
    /// The route that answered.
    pub endpoint: Endpoint,
    /// The mail domain the request was about, once known to be valid,
    /// when it is not the address's (see `domain`).
    domain: Option<DomainName>,
    /// The address, when the request had a valid one.
    pub address: Option<EmailAddress>,
    /// The site the domain resolved to: its profile labels the request.
    pub site: Option<Arc<Site>>,
}

impl RequestLog {
    /// The profile id the request is counted under, `""` when the request
    /// resolved no domain.
    pub fn profile_id(&self) -> &str {
        self.site.as_deref().map_or("", Site::profile_id)
    }

    /// The mail domain the request was about, once known to be valid.
    pub fn domain(&self) -> Option<&DomainName> {
        self.domain
            .as_ref()
            .or_else(|| self.address.as_ref().map(EmailAddress::domain))
    }

    /// The log of a request the router never saw (refused before routing).
    pub fn unrouted() -> RequestLog {
        RequestLog {
            endpoint: Endpoint::None,
            domain: None,
            address: None,
            site: None,
        }
    }
}

/// Why a request could not be answered with a document.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("no such resource; see the endpoint table in the README")]
    NotFound,
    #[error("method not allowed here; allowed: {allow}")]
    MethodNotAllowed { allow: &'static str },
    #[error("invalid email address: {0}")]
    Address(AddressError),
    #[error("invalid domain in the URL: {0}")]
    Domain(AddressError),
    #[error(
        "no email address given (add ?emailaddress=you@example.com) and the Host header \
         is not a mail domain"
    )]
    NoDomain,
    #[error("{0}")]
    BadHost(&'static str),
    #[error("the query parameter {0} is given more than once")]
    DuplicateParameter(&'static str),
    #[error("the query string is not valid UTF-8 after percent-decoding")]
    QueryEncoding,
    #[error("the URL path is not valid UTF-8 after percent-decoding")]
    PathEncoding,
    #[error("{0}")]
    Resolve(#[from] ResolveError),
    /// An error answered in the protocol's own format (autodiscover XML or
    /// JSON) rather than plain text.
    #[error("{reason}")]
    Protocol {
        status: StatusCode,
        document: Document,
        reason: String,
    },
    #[error("no email address given (add ?email=you@example.com)")]
    NoEmail,
    #[error("{0}")]
    UnknownValue(#[from] UnknownValue),
    #[error("{0}")]
    Apple(#[from] AppleError),
    #[error("{0}")]
    Signing(#[from] SigningError),
}

impl RouteError {
    pub fn status(&self) -> StatusCode {
        match self {
            RouteError::NotFound | RouteError::Resolve(ResolveError::UnknownDomain(_)) => {
                StatusCode::NOT_FOUND
            }
            RouteError::Resolve(ResolveError::NotMicrosoft365 { .. } | ResolveError::NoMx(_)) => {
                StatusCode::NOT_FOUND
            }
            RouteError::Resolve(
                ResolveError::ResolverFailed { .. } | ResolveError::Busy { .. },
            ) => StatusCode::SERVICE_UNAVAILABLE,
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteError::Protocol { status, .. } => *status,
            RouteError::Address(_)
            | RouteError::Domain(_)
            | RouteError::NoDomain
            | RouteError::DuplicateParameter(_)
            | RouteError::BadHost(_)
            | RouteError::QueryEncoding
            | RouteError::PathEncoding
            | RouteError::NoEmail
            | RouteError::UnknownValue(_) => StatusCode::BAD_REQUEST,
            RouteError::Apple(error) if error.is_gone() => StatusCode::GONE,
            RouteError::Apple(error) if error.is_client_error() => StatusCode::BAD_REQUEST,
            RouteError::Apple(_) | RouteError::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// One request being answered: what handlers read (the app, the request,
/// the connection) and what the log line learns on the way. Handlers
/// record what the request was about through `about` and `resolve`, so no
/// handler formats a log field itself.
struct Exchange<'a> {
    app: &'a App,
    request: &'a Request<Bytes>,
    /// `None`: routed without a connection, as the fuzzer does.
    connection: Option<ConnectionInfo>,
    log: RequestLog,
}

impl<'a> Exchange<'a> {
    /// The connection, or `ConnectionInfo::DIRECT` without one.
    fn connection(&self) -> ConnectionInfo {
        self.connection.unwrap_or(ConnectionInfo::DIRECT)
    }

    /// The request names this address.
    fn about(&mut self, address: &EmailAddress) {
        self.log.address = Some(address.clone());
    }

    /// Resolves the mail domain; the log is labelled with the site found.
    async fn resolve(&mut self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        if self.log.domain().is_none() {
            self.log.domain = Some(domain.clone());
        }
        let site = lookup(self.app, self.connection(), domain).await?;
        self.log.site = Some(site.clone());
        Ok(site)
    }

    /// The visitor's language: `lang` (the landing page's links carry
    /// it), else `Accept-Language`, else the first one; and whether `lang`
    /// chose it (otherwise the answer varies with `Accept-Language`). An
    /// unknown or repeated `lang` is only a preference and is ignored.
    fn language(&self) -> (web::Lang, bool) {
        let chosen = self
            .form_param("lang")
            .ok()
            .flatten()
            .and_then(|code| web::Lang::from_code(&code));
        let lang = chosen
            .or_else(|| {
                self.header(header::ACCEPT_LANGUAGE)
                    .and_then(web::Lang::from_accept_language)
            })
            .unwrap_or(web::Lang::ALL[0]);
        (lang, chosen.is_some())
    }

    /// The day every dated answer of this request is for.
    fn today(&self) -> Date {
        self.app.services.clock.today()
    }

    /// config-v1.1.xml with the native types the client table offers this
    /// client today; the answer depends on the User-Agent, and says so.
    fn thunderbird_document(&self, account: Account<'_>) -> Reply {
        let client = Client::from_user_agent(self.header(header::USER_AGENT));
        let native = NativeTypes::for_client(account.profile(), client, self.today());
        let reply = Reply::document(self.app.thunderbird.render(account, native)).with_vary(Vary {
            user_agent: true,
            ..Vary::default()
        });
        // A document with the user's address is theirs alone: a shared cache
        // that ignores the query string must not hand it to someone else.
        match account.address {
            Some(_) => reply.with_caching(Caching::Private),
            None => reply,
        }
    }

    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    }

    /// The value of query parameter `name` (matched case-insensitively:
    /// clients differ), percent-decoded. `+` is not a space here: it is a
    /// valid address character and RFC 3986 queries give it no special
    /// meaning.
    fn query_param(&self, name: &'static str) -> Result<Option<Cow<'a, str>>, RouteError> {
        query_value(self.request, name, false)
    }

    /// Like `query_param`, for values an HTML form sent
    /// (`application/x-www-form-urlencoded`): `+` is a space there, and a
    /// literal `+` arrives as `%2B`.
    fn form_param(&self, name: &'static str) -> Result<Option<Cow<'a, str>>, RouteError> {
        query_value(self.request, name, true)
    }

    fn query_address(&self, name: &'static str) -> Result<Option<EmailAddress>, RouteError> {
        let address = match self.query_param(name)? {
            None => return Ok(None),
            Some(Cow::Borrowed(value)) => EmailAddress::parse(value),
            // Decoded: its buffer becomes the address's.
            Some(Cow::Owned(value)) => EmailAddress::parse_owned(value),
        };
        address.map(Some).map_err(RouteError::Address)
    }
}

/// The site of a mail domain (table, then MX); a lookup refused for the
/// limit is counted.
async fn lookup(
    app: &App,
    connection: ConnectionInfo,
    domain: &DomainName,
) -> Result<Arc<Site>, ResolveError> {
    app.resolver
        .resolve(domain, connection.peer.ip())
        .await
        .inspect_err(|error| {
            if let ResolveError::Busy { limit, .. } = error {
                app.services.metrics.record_mx_lookup_refused(*limit);
            }
        })
}

/// Answers one request that came over `connection` (`None`: routed
/// without one, as the fuzzer does), and says what the log line needs
/// to know about it. Never panics on client input; every error is a 4xx.
pub async fn route(
    app: &App,
    request: &Request<Bytes>,
    connection: Option<ConnectionInfo>,
) -> (Response<Full<Bytes>>, RequestLog) {
    let route = Route::parse(
        app,
        connection.unwrap_or(ConnectionInfo::DIRECT),
        request.uri().path(),
    );
    let mut exchange = Exchange {
        app,
        request,
        connection,
        log: RequestLog {
            endpoint: route.endpoint(),
            domain: None,
            address: None,
            site: None,
        },
    };
    let result = match check_host(request).and_then(|()| route.check_method(request.method())) {
        Ok(()) => answer(&mut exchange, route).await,
        Err(error) => Err(error),
    };
    let coding = encoding::negotiate(request.headers().get_all(header::ACCEPT_ENCODING));
    let response = match result {
        Ok(reply) => reply.into_response(coding),
        Err(error) => Reply::from_error(&error).into_response(coding),
    };
    (response, exchange.log)
}

async fn answer(exchange: &mut Exchange<'_>, route: Route<'_>) -> Result<Reply, RouteError> {
    match route {
        Route::Landing => Ok(landing::landing_page(exchange).await),
        Route::Thunderbird => thunderbird(exchange).await,
        Route::Ispdb { domain } => ispdb(exchange, domain).await,
        Route::Stylesheet => Ok(landing::stylesheet()),
        Route::Robots => Ok(landing::robots_txt()),
        Route::AppleForm => {
            let address = exchange
                .query_address("email")?
                .ok_or(RouteError::NoEmail)?;
            apple::apple_profile(exchange, address).await
        }
        Route::AppleLink { address } => {
            let address = decoded_path(address)?;
            let address = EmailAddress::parse(&address).map_err(RouteError::Address)?;
            apple::apple_profile(exchange, address).await
        }
        Route::AutodiscoverPox => autodiscover::pox(exchange).await,
        Route::AutodiscoverJson { address } => {
            autodiscover::autodiscover_json(exchange, address).await
        }
        Route::Healthz => Ok(operations::healthz(exchange.app)),
        Route::Metrics => Ok(operations::metrics(exchange.app)),
        Route::AcmeChallenge { token } => operations::acme_challenge(exchange.app, token),
        Route::HttpsRedirect => Ok(operations::redirect_to_https(exchange)),
        Route::NotFound => Err(RouteError::NotFound),
    }
}

/// Thunderbird: `https://autoconfig.<d>/mail/config-v1.1.xml`, then
/// `https://<d>/.well-known/autoconfig/mail/config-v1.1.xml`. Without an
/// address the Host names the domain.
async fn thunderbird(exchange: &mut Exchange<'_>) -> Result<Reply, RouteError> {
    let site = match exchange.query_address("emailaddress")? {
        Some(address) => {
            // The log keeps the address; the document is rendered from it
            // there (the hot path: no copy).
            let address = &*exchange.log.address.insert(address);
            let connection = exchange.connection.unwrap_or(ConnectionInfo::DIRECT);
            let site = lookup(exchange.app, connection, address.domain()).await?;
            exchange.log.site = Some(site.clone());
            site
        }
        None => {
            let domain = host_mail_domain(exchange.request).ok_or(RouteError::NoDomain)?;
            exchange.resolve(&domain).await?
        }
    };
    Ok(exchange.thunderbird_document(Account {
        site: &site,
        address: exchange.log.address.as_ref(),
    }))
}

/// ISPDB style: `/v1.1/<domain>`, no address.
async fn ispdb(exchange: &mut Exchange<'_>, domain: &str) -> Result<Reply, RouteError> {
    let domain = decoded_path(domain)?;
    let domain = DomainName::parse(&domain).map_err(RouteError::Domain)?;
    let site = exchange.resolve(&domain).await?;
    Ok(exchange.thunderbird_document(Account {
        site: &site,
        address: None,
    }))
}

/// A query key or value, percent-decoded (see `decoded`).
fn percent_decoded(input: &str, plus_is_space: bool) -> Result<Cow<'_, str>, RouteError> {
    decoded(input, plus_is_space).ok_or(RouteError::QueryEncoding)
}

/// A path segment, percent-decoded.
fn decoded_path(segment: &str) -> Result<Cow<'_, str>, RouteError> {
    decoded(segment, false).ok_or(RouteError::PathEncoding)
}

/// `input` with every `%XX` decoded (RFC 3986 §2.1; a `%` not followed by
/// two hex digits stays as it is) and, when `plus_is_space` (HTML forms),
/// every `+` made a space; `None` when the result is not UTF-8. Input with
/// nothing to decode, nearly all of it, is borrowed as it is; otherwise
/// the runs between escapes are copied whole. This is on every autoconfig
/// request's query.
fn decoded(input: &str, plus_is_space: bool) -> Option<Cow<'_, str>> {
    fn hex(digit: Option<&u8>) -> Option<u8> {
        char::from(*digit?).to_digit(16).map(|value| value as u8)
    }
    let bytes = input.as_bytes();
    // Where the next byte to decode is, from `from` on.
    let next = |from: usize| {
        let rest = &bytes[from..];
        let found = if plus_is_space {
            memchr::memchr2(b'%', b'+', rest)
        } else {
            memchr::memchr(b'%', rest)
        };
        found.map_or(bytes.len(), |offset| from + offset)
    };
    let mut at = next(0);
    if at == bytes.len() {
        return Some(Cow::Borrowed(input));
    }
    let mut decoded = Vec::with_capacity(bytes.len());
    decoded.extend_from_slice(&bytes[..at]);
    while let Some(&byte) = bytes.get(at) {
        if byte == b'+' && plus_is_space {
            decoded.push(b' ');
            at += 1;
        } else if byte == b'%'
            && let Some(high) = hex(bytes.get(at + 1))
            && let Some(low) = hex(bytes.get(at + 2))
        {
            decoded.push(high << 4 | low);
            at += 3;
        } else {
            decoded.push(byte);
            at += 1;
        }
        let run_end = next(at);
        decoded.extend_from_slice(&bytes[at..run_end]);
        at = run_end;
    }
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

/// The value of query parameter `name` (its key matched case-insensitively
/// and after decoding), decoded; a parameter given twice is an error. One
/// pass over the query's bytes; a value with nothing to decode is borrowed.
fn query_value<'r>(
    request: &'r Request<Bytes>,
    name: &'static str,
    plus_is_space: bool,
) -> Result<Option<Cow<'r, str>>, RouteError> {
    let Some(query) = request.uri().query() else {
        return Ok(None);
    };
    let mut found = None;
    // `&` and `=` are ASCII: every index below is a character boundary.
    let mut start = 0;
    loop {
        let end = memchr::memchr(b'&', &query.as_bytes()[start..])
            .map_or(query.len(), |length| start + length);
        let pair = &query[start..end];
        let (key, value) = match memchr::memchr(b'=', pair.as_bytes()) {
            Some(equals) => (&pair[..equals], &pair[equals + 1..]),
            None => (pair, ""),
        };
        // Most keys carry no escapes: compared as they are.
        let matches = if memchr::memchr(b'%', key.as_bytes()).is_some() {
            percent_decoded(key, false)?.eq_ignore_ascii_case(name)
        } else {
            key.eq_ignore_ascii_case(name)
        };
        if matches {
            if found.is_some() {
                return Err(RouteError::DuplicateParameter(name));
            }
            found = Some(percent_decoded(value, plus_is_space)?);
        }
        if end == query.len() {
            break;
        }
        start = end + 1;
    }
    Ok(found)
}

/// RFC 9112 §3.2: a request with more than one `Host` is answered 400, and
/// so is an authority with userinfo (`user@host`, which HTTP/2's
/// `:authority` and absolute-form targets could otherwise carry).
fn check_host(request: &Request<Bytes>) -> Result<(), RouteError> {
    if request
        .headers()
        .get_all(header::HOST)
        .iter()
        .nth(1)
        .is_some()
    {
        return Err(RouteError::BadHost(
            "the request has more than one Host header",
        ));
    }
    if request
        .uri()
        .authority()
        .is_some_and(|authority| authority.as_str().contains('@'))
    {
        return Err(RouteError::BadHost(
            "the request's authority carries userinfo (user@host), which HTTP does not allow",
        ));
    }
    Ok(())
}

/// The mail domain named by the request's host, if it is a domain name at
/// all (not an IP address).
fn host_mail_domain(request: &Request<Bytes>) -> Option<DomainName> {
    RequestHost::of(request)?.domain().map(mail_domain_of_host)
}

/// Which listener a request came in on, and from where; put into the
/// request's extensions by the server.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionInfo {
    pub listener: Listener,
    pub peer: std::net::SocketAddr,
}

impl ConnectionInfo {
    /// For requests routed without a connection (CLI, fuzzing): HTTPS from
    /// an unspecified address.
    pub const DIRECT: ConnectionInfo = ConnectionInfo {
        listener: Listener::Https,
        peer: std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0),
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Http,
    Https,
    /// The operator's listener: /metrics and /healthz only.
    Admin,
}

impl Listener {
    pub const ALL: [Listener; 3] = [Listener::Http, Listener::Https, Listener::Admin];

    /// The name the request log gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::Http => "http",
            Listener::Https => "https",
            Listener::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Endpoint, Listener, decoded, percent_decoded};

    /// The request log writes these names without looking for characters
    /// to escape: none may have one.
    #[test]
    fn logged_names_need_no_escaping() {
        let names = Endpoint::ALL.map(Endpoint::as_str);
        let listeners = Listener::ALL.map(Listener::as_str);
        for name in names.iter().chain(&listeners) {
            assert!(crate::request_log::shown_as_is(name), "{name}");
        }
        assert!(!crate::request_log::shown_as_is("a\"b"));
    }

    #[test]
    fn percent_decoding_follows_rfc_3986_and_refuses_bad_utf8() {
        for (input, decoded) in [
            ("alice%40contoso.example", "alice@contoso.example"),
            ("%41%62c", "Abc"),
            ("caf%C3%A9", "café"),
            ("caf%c3%a9", "café"),
            ("100%", "100%"),
            ("%4", "%4"),
            ("%zz%4g", "%zz%4g"),
            ("%%41", "%A"),
            ("a+b", "a+b"),
            ("", ""),
        ] {
            assert_eq!(percent_decoded(input, false).unwrap(), decoded, "{input}");
        }
        for input in ["%FF", "%C3", "a%80b"] {
            assert!(percent_decoded(input, false).is_err(), "{input}");
        }
        // A form's `+` is a space; its literal `+` arrives as `%2B`.
        assert_eq!(percent_decoded("a+b%2Bc+", true).unwrap(), "a b+c ");
    }

    /// The one-pass decoder gives what decoding byte by byte gives (after
    /// a form's `+` became spaces), for every string of up to five
    /// characters from an alphabet of escapes, hex digits and UTF-8.
    #[test]
    fn decoding_in_runs_equals_decoding_byte_by_byte() {
        fn byte_by_byte(input: &str, plus_is_space: bool) -> Option<String> {
            let input = if plus_is_space {
                input.replace('+', " ")
            } else {
                input.to_owned()
            };
            let bytes = input.as_bytes();
            let hex = |at: usize| {
                bytes
                    .get(at)
                    .and_then(|b| char::from(*b).to_digit(16))
                    .map(|d| d as u8)
            };
            let (mut out, mut at) = (Vec::new(), 0);
            while at < bytes.len() {
                match (bytes[at], hex(at + 1), hex(at + 2)) {
                    (b'%', Some(high), Some(low)) => {
                        out.push(high << 4 | low);
                        at += 3;
                    }
                    (byte, _, _) => {
                        out.push(byte);
                        at += 1;
                    }
                }
            }
            String::from_utf8(out).ok()
        }
        let alphabet = ['%', '+', '2', 'B', 'c', '3', 'A', '9', 'e', 'g', '\u{e9}'];
        let mut inputs = vec![String::new()];
        let mut compared = 0;
        for _ in 0..5 {
            let mut longer = Vec::new();
            for input in &inputs {
                for c in alphabet {
                    let mut next = input.clone();
                    next.push(c);
                    for plus_is_space in [false, true] {
                        assert_eq!(
                            decoded(&next, plus_is_space).map(|d| d.into_owned()),
                            byte_by_byte(&next, plus_is_space),
                            "{next:?} plus_is_space={plus_is_space}"
                        );
                        compared += 1;
                    }
                    longer.push(next);
                }
            }
            inputs = longer;
        }
        assert_eq!(compared, 2 * (11 + 121 + 1331 + 14641 + 161051));
    }
}
