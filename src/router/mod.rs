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
            thunderbird: DocumentCache::default(),
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

impl Exchange<'_> {
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
    fn query_param(&self, name: &'static str) -> Result<Option<String>, RouteError> {
        query_value(self.request, name, false)
    }

    /// Like `query_param`, for values an HTML form sent
    /// (`application/x-www-form-urlencoded`): `+` is a space there, and a
    /// literal `+` arrives as `%2B`.
    fn form_param(&self, name: &'static str) -> Result<Option<String>, RouteError> {
        query_value(self.request, name, true)
    }

    fn query_address(&self, name: &'static str) -> Result<Option<EmailAddress>, RouteError> {
        self.query_param(name)?
            .map(|value| EmailAddress::parse(&value).map_err(RouteError::Address))
            .transpose()
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

/// A query key or value, percent-decoded.
fn percent_decoded(input: &str) -> Result<String, RouteError> {
    decoded(input).ok_or(RouteError::QueryEncoding)
}

/// A path segment, percent-decoded.
fn decoded_path(segment: &str) -> Result<String, RouteError> {
    decoded(segment).ok_or(RouteError::PathEncoding)
}

/// `input` with every `%XX` decoded (RFC 3986 §2.1; a `%` not followed by
/// two hex digits stays as it is), as UTF-8; `None` when it is not. One
/// pass into a buffer of the input's size: this is on every autoconfig
/// request's path.
fn decoded(input: &str) -> Option<String> {
    fn hex(digit: u8) -> Option<u8> {
        char::from(digit).to_digit(16).map(|value| value as u8)
    }
    let bytes = input.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte == b'%'
            && let Some(high) = bytes.get(at + 1).copied().and_then(hex)
            && let Some(low) = bytes.get(at + 2).copied().and_then(hex)
        {
            decoded.push(high << 4 | low);
            at += 3;
        } else {
            decoded.push(byte);
            at += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

fn query_value(
    request: &Request<Bytes>,
    name: &'static str,
    plus_is_space: bool,
) -> Result<Option<String>, RouteError> {
    let Some(query) = request.uri().query() else {
        return Ok(None);
    };
    let mut found = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Most keys and values carry no escapes: they are compared and
        // copied as they are, with no decoding pass.
        let key = if key.contains('%') {
            std::borrow::Cow::Owned(percent_decoded(key)?)
        } else {
            std::borrow::Cow::Borrowed(key)
        };
        if !key.eq_ignore_ascii_case(name) {
            continue;
        }
        if found.is_some() {
            return Err(RouteError::DuplicateParameter(name));
        }
        let value = if plus_is_space && value.contains('+') {
            value.replace('+', " ").into()
        } else {
            std::borrow::Cow::Borrowed(value)
        };
        let value = if value.contains('%') {
            percent_decoded(&value)?
        } else {
            value.into_owned()
        };
        found = Some(value);
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

#[cfg(test)]
mod tests {
    use super::percent_decoded;

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
            assert_eq!(percent_decoded(input).unwrap(), decoded, "{input}");
        }
        for input in ["%FF", "%C3", "a%80b"] {
            assert!(percent_decoded(input).is_err(), "{input}");
        }
    }
}
