//! Routing: an HTTP request (head and an already size-capped body) becomes a
//! typed input, is resolved, rendered, and turned into a response. Owns the
//! URL space, status codes and error bodies; does not do I/O (see `server`).
//!
//! Every client mistake becomes a 4xx with a plain-text body that says what
//! was wrong. Bodies only ever contain parsed, validated values (domain
//! names, fixed messages), never raw request input.

mod apple;
mod autodiscover;
mod landing;
mod operations;

use apple::apple_profile;
use autodiscover::autodiscover_routes;
use landing::{add_html_security_headers, landing_page};
use operations::{admin_dispatch, healthz, metrics, redirect_to_https, served_over_plain_http};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::percent_decode_str;

use crate::acme::ChallengeStore;
use crate::apple::{AppleError, UnknownValue};
use crate::config::{Config, HttpPolicy};
use crate::dns::MxDetector;
use crate::document::{Document, media_type};
use crate::email::{AddressError, DomainName, EmailAddress};
use crate::metrics::Metrics;
use crate::tls::CertResolver;
use std::sync::Arc;

use crate::resolve::{Account, Directory, ResolveError, Site, mail_domain_of_host};
use crate::signing::{ProfileSigner, SigningError};
use crate::thunderbird::render_thunderbird_config;
use crate::web;

/// What the router serves from: the validated configuration and the lookup
/// tables derived from it. Built once; shared by every connection.
pub struct App {
    pub config: Config,
    pub directory: Directory,
    /// Present when `[dns] detect_microsoft365_by_mx` is on (its cache
    /// starts empty after a reload).
    pub mx: Option<MxDetector>,
    /// Signs Apple profiles; loaded with the configuration (`None`: unsigned).
    pub profile_signer: Option<ProfileSigner>,
    /// What outlives a configuration reload.
    pub services: Arc<Services>,
}

/// State shared by every configuration generation: counters, the
/// certificates in service, pending ACME challenges.
#[derive(Debug, Default)]
pub struct Services {
    pub metrics: Metrics,
    /// Present when the server has HTTPS listeners.
    pub certificates: Option<Arc<CertResolver>>,
    pub challenges: ChallengeStore,
    /// The bound port of the first HTTPS listener, for redirects.
    pub https_port: Option<u16>,
}

impl App {
    /// An app with services of its own (the CLI, tests, fuzzing).
    pub fn new(config: Config) -> App {
        App::with_services(config, Arc::default())
    }

    pub fn with_services(config: Config, services: Arc<Services>) -> App {
        let directory = Directory::new(&config);
        let mx = MxDetector::new(&config.dns, config.profiles.get("microsoft365"));
        App {
            config,
            directory,
            services,
            profile_signer: None,
            mx,
        }
    }

    /// Sets the signer of Apple profiles (see `signing::ProfileSigner::load`).
    pub fn with_profile_signer(mut self, signer: Option<ProfileSigner>) -> App {
        self.profile_signer = signer;
        self
    }

    /// The site for a mail domain. Asynchronous because resolution may
    /// need the network (MX-based detection); table lookups do not wait.
    pub async fn resolve(&self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        match (self.directory.resolve(domain), &self.mx) {
            (Ok(site), _) => Ok(site.clone()),
            (Err(_), Some(mx)) => mx.resolve(domain).await,
            (Err(unknown), None) => Err(unknown),
        }
    }
}

/// What the request log line says about a request besides method and
/// status; put into the response's extensions by the router.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    /// The route's name, e.g. `thunderbird`; `none` when nothing matched.
    pub endpoint: &'static str,
    /// The mail domain the request was about, once known to be valid.
    pub domain: Option<DomainName>,
    /// The address, when the request had a valid one.
    pub address: Option<EmailAddress>,
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
    #[error("the query parameter {0} is given more than once")]
    DuplicateParameter(&'static str),
    #[error("the query string is not valid UTF-8 after percent-decoding")]
    QueryEncoding,
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
            RouteError::Resolve(ResolveError::ResolverFailed { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteError::Protocol { status, .. } => *status,
            RouteError::Address(_)
            | RouteError::Domain(_)
            | RouteError::NoDomain
            | RouteError::DuplicateParameter(_)
            | RouteError::QueryEncoding
            | RouteError::NoEmail
            | RouteError::UnknownValue(_) => StatusCode::BAD_REQUEST,
            RouteError::Apple(error) if error.is_client_error() => StatusCode::BAD_REQUEST,
            RouteError::Apple(_) | RouteError::Signing(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

const GET_HEAD: &str = "GET, HEAD";
/// RFC 8555 §8.3: where http-01 challenges are fetched.
const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";
const POST: &str = "POST";

/// Answers one request. Never panics on client input; every error is a 4xx.
pub async fn route(app: &App, request: &Request<Bytes>) -> Response<Full<Bytes>> {
    let mut log = RequestLog::default();
    let connection = request
        .extensions()
        .get::<ConnectionInfo>()
        .copied()
        .unwrap_or(ConnectionInfo::DIRECT);
    let mut extra_headers = http::HeaderMap::new();
    let result = match connection.listener {
        Listener::Admin => admin_dispatch(app, request, &mut log),
        Listener::Http
            if app.config.http_policy == HttpPolicy::Redirect
                && !served_over_plain_http(request.uri().path()) =>
        {
            log.endpoint = "https-redirect";
            return redirect_to_https(app, request, log);
        }
        _ if request.uri().path() == "/" => {
            let mut response = landing_page(app, request, &mut log).await;
            response.extensions_mut().insert(log);
            return response;
        }
        _ => dispatch(app, request, &mut log, connection, &mut extra_headers).await,
    };
    let mut response = match result {
        Ok(document) => {
            let mut response = document_response(document);
            response.headers_mut().extend(extra_headers);
            response
        }
        Err(error) => error_response(&error),
    };
    response.extensions_mut().insert(log);
    response
}

/// `extra_headers` are added to a successful response (e.g. the download
/// file name of a profile).
async fn dispatch(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
    connection: ConnectionInfo,
    extra_headers: &mut http::HeaderMap,
) -> Result<Document, RouteError> {
    let path = request.uri().path();
    match path {
        // Thunderbird: https://autoconfig.<d>/mail/config-v1.1.xml, then
        // https://<d>/.well-known/autoconfig/mail/config-v1.1.xml.
        "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml" => {
            log.endpoint = "thunderbird";
            require_get(request)?;
            let address = query_address(request, "emailaddress")?;
            let domain = match &address {
                Some(address) => address.domain().clone(),
                None => host_mail_domain(request).ok_or(RouteError::NoDomain)?,
            };
            log.domain = Some(domain.clone());
            log.address = address.clone();
            let site = app.resolve(&domain).await?;
            Ok(render_thunderbird_config(Account {
                site: &site,
                address: address.as_ref(),
            }))
        }
        web::STYLESHEET_PATH => {
            log.endpoint = "stylesheet";
            require_get(request)?;
            Ok(web::stylesheet())
        }
        // Apple: the form on the landing page.
        "/apple/profile" => {
            log.endpoint = "apple";
            require_get(request)?;
            let address = query_address(request, "email")?.ok_or(RouteError::NoEmail)?;
            apple_profile(app, request, address, log, extra_headers).await
        }
        "/healthz" => healthz(request, log),
        // Public listeners serve metrics only to the machine itself, and
        // not at all when the operator gave metrics a listener of their own.
        "/metrics"
            if app.config.admin_listeners.is_empty() && connection.peer.ip().is_loopback() =>
        {
            metrics(app, request, log)
        }
        _ => {
            // Autodiscover paths: clients differ in case (`/Autodiscover/Autodiscover.xml`).
            if let Some(result) = autodiscover_routes(app, request, log).await {
                return result;
            }
            if let Some(token) = path.strip_prefix(ACME_CHALLENGE_PREFIX) {
                log.endpoint = "acme-challenge";
                require_get(request)?;
                let key_authorization = app
                    .services
                    .challenges
                    .get(token)
                    .ok_or(RouteError::NotFound)?;
                return Ok(Document {
                    content_type: media_type::TEXT,
                    body: key_authorization.into_bytes(),
                });
            }
            // ISPDB style: /v1.1/<domain>, no address.
            if let Some(domain) = path.strip_prefix("/v1.1/") {
                log.endpoint = "ispdb";
                require_get(request)?;
                let domain = percent_decode_str(domain)
                    .decode_utf8()
                    .map_err(|_| RouteError::QueryEncoding)?;
                let domain = DomainName::parse(&domain).map_err(RouteError::Domain)?;
                log.domain = Some(domain.clone());
                let site = app.resolve(&domain).await?;
                return Ok(render_thunderbird_config(Account {
                    site: &site,
                    address: None,
                }));
            }
            // Apple: /apple/<address>.mobileconfig, the link people tap.
            if let Some(address) = path
                .strip_prefix("/apple/")
                .and_then(|rest| rest.strip_suffix(".mobileconfig"))
            {
                log.endpoint = "apple";
                require_get(request)?;
                let address = percent_decode_str(address)
                    .decode_utf8()
                    .map_err(|_| RouteError::QueryEncoding)?;
                let address = EmailAddress::parse(&address).map_err(RouteError::Address)?;
                return apple_profile(app, request, address, log, extra_headers).await;
            }
            log.endpoint = "none";
            Err(RouteError::NotFound)
        }
    }
}

fn require_get(request: &Request<Bytes>) -> Result<(), RouteError> {
    match *request.method() {
        Method::GET | Method::HEAD => Ok(()),
        _ => Err(RouteError::MethodNotAllowed { allow: GET_HEAD }),
    }
}

/// The value of query parameter `name` (matched case-insensitively: clients
/// differ), percent-decoded. `+` is not a space here: it is a valid address
/// character and RFC 3986 queries give it no special meaning.
fn query_param(request: &Request<Bytes>, name: &'static str) -> Result<Option<String>, RouteError> {
    query_value(request, name, false)
}

/// Like `query_param`, for values an HTML form sent
/// (`application/x-www-form-urlencoded`): `+` is a space there, and a
/// literal `+` arrives as `%2B`.
fn form_param(request: &Request<Bytes>, name: &'static str) -> Result<Option<String>, RouteError> {
    query_value(request, name, true)
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
        let key = percent_decode_str(key)
            .decode_utf8()
            .map_err(|_| RouteError::QueryEncoding)?;
        if !key.eq_ignore_ascii_case(name) {
            continue;
        }
        if found.is_some() {
            return Err(RouteError::DuplicateParameter(name));
        }
        let value = if plus_is_space {
            value.replace('+', " ").into()
        } else {
            std::borrow::Cow::Borrowed(value)
        };
        let value = percent_decode_str(&value)
            .decode_utf8()
            .map_err(|_| RouteError::QueryEncoding)?;
        found = Some(value.into_owned());
    }
    Ok(found)
}

fn query_address(
    request: &Request<Bytes>,
    name: &'static str,
) -> Result<Option<EmailAddress>, RouteError> {
    query_param(request, name)?
        .map(|value| EmailAddress::parse(&value).map_err(RouteError::Address))
        .transpose()
}

/// The mail domain named by the request's host (`:authority` in HTTP/2,
/// `Host` in HTTP/1.1), if it is a domain name at all (not an IP address).
fn host_mail_domain(request: &Request<Bytes>) -> Option<DomainName> {
    let host = match request.uri().host() {
        Some(host) => host,
        None => request.headers().get(header::HOST)?.to_str().ok()?,
    };
    if host.starts_with('[') {
        return None; // an IPv6 literal
    }
    let name = host.rsplit_once(':').map_or(host, |(name, _port)| name);
    DomainName::parse(name)
        .ok()
        .map(|d| mail_domain_of_host(&d))
}

fn document_response(document: Document) -> Response<Full<Bytes>> {
    let document_is_html = document.content_type == media_type::HTML;
    let mut response = Response::new(Full::new(Bytes::from(document.body)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(document.content_type),
    );
    // Documents change only when the admin changes the configuration.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if document_is_html {
        add_html_security_headers(headers);
    }
    response
}

fn error_response(error: &RouteError) -> Response<Full<Bytes>> {
    if let RouteError::Protocol {
        status, document, ..
    } = error
    {
        let mut response = document_response(document.clone());
        *response.status_mut() = *status;
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let mut response = plain_error(error.status(), &error.to_string());
    if let RouteError::MethodNotAllowed { allow } = error {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if let RouteError::Resolve(ResolveError::ResolverFailed { .. }) = error {
        // The lookup may well succeed in a moment: DNS hiccups are short.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

/// A plain-text error response for problems found before routing (body too
/// large, unreadable body): same shape as the router's own errors.
pub fn plain_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media_type::TEXT),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
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
