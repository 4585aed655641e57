//! Routing: an HTTP request (head and an already size-capped body) becomes a
//! typed input, is resolved, rendered, and turned into a response. Owns the
//! URL space, status codes and error bodies; does not do I/O (see `server`).
//!
//! Every client mistake becomes a 4xx with a plain-text body that says what
//! was wrong. Bodies only ever contain parsed, validated values (domain
//! names, fixed messages), never raw request input.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use percent_encoding::percent_decode_str;

use crate::acme::ChallengeStore;
use crate::apple::{
    AppleError, Platform, ProfileKind, ProfileOptions, UnknownValue, profile_file_name,
    render_apple_profile,
};
use crate::autodiscover::{
    ErrorCode, JSON_PROTOCOLS, JsonProtocol, parse_autodiscover_request, render_autodiscover_error,
    render_autodiscover_json, render_autodiscover_json_error, render_autodiscover_response,
};
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
use crate::web::{self, AppId, InputError, LandingPage, Lang, Lookup, render_landing_page};

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

/// An Apple configuration profile for `address`: `kind` and `platform` from
/// the query (the platform otherwise from the User-Agent), signed when a
/// signer is configured, offered as a download.
async fn apple_profile(
    app: &App,
    request: &Request<Bytes>,
    address: EmailAddress,
    log: &mut RequestLog,
    extra_headers: &mut http::HeaderMap,
) -> Result<Document, RouteError> {
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    let kind = match query_param(request, "kind")? {
        Some(kind) => kind.parse::<ProfileKind>()?,
        None => ProfileKind::default(),
    };
    // An explicit platform always wins: iPadOS Safari in desktop mode
    // sends a Mac User-Agent.
    let platform = match query_param(request, "platform")? {
        Some(platform) => platform.parse::<Platform>()?,
        None => {
            extra_headers.insert(header::VARY, HeaderValue::from_static("User-Agent"));
            let user_agent = request
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            Platform::from_user_agent(user_agent)
        }
    };
    let site = app.resolve(address.domain()).await?;
    let mut document = render_apple_profile(&site, &address, ProfileOptions { kind, platform })?;
    if let Some(signer) = &app.profile_signer {
        document.body = signer.sign(&document.body)?;
    }
    // The name is built from the parsed address and holds only header-safe
    // characters; the check is belt and braces.
    let disposition = format!(
        "attachment; filename=\"{}\"",
        profile_file_name(&address, kind)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        extra_headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(document)
}

/// `GET /`: the landing page. Whatever the visitor typed, the answer is the
/// page itself with a message next to the form, never a plain-text error;
/// only the status says what happened, as for the other endpoints: 400 for
/// an unreadable address, 404 for a domain this server does not serve, 200
/// otherwise. Browsers show the page whatever the status, and link
/// checkers and scripts get the truth.
async fn landing_page(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Response<Full<Bytes>> {
    log.endpoint = "landing";
    if let Err(error) = require_get(request) {
        return error_response(&error);
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // `lang` and `app` are only preferences: an unknown value is ignored.
    let chosen_lang = form_param(request, "lang")
        .ok()
        .flatten()
        .and_then(|code| Lang::from_code(&code));
    let lang = chosen_lang
        .or_else(|| header(header::ACCEPT_LANGUAGE).and_then(Lang::from_accept_language))
        .unwrap_or(Lang::ALL[0]);
    let chosen_app = form_param(request, "app")
        .ok()
        .flatten()
        .and_then(|id| AppId::from_id(&id));
    let app_id = chosen_app
        .unwrap_or_else(|| AppId::from_user_agent(header(header::USER_AGENT).unwrap_or_default()));
    // The landing page's QR code needs an absolute URL.
    let scheme = match request.extensions().get::<ConnectionInfo>() {
        Some(connection) if connection.listener == Listener::Https => "https",
        Some(_) => "http",
        None => request.uri().scheme_str().unwrap_or("https"),
    };
    let host = match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => header(header::HOST),
    };
    let origin = host.and_then(|host| web::page_origin(scheme, host));

    let typed = form_param(request, "email");
    let address = match &typed {
        Ok(Some(typed)) => Some(EmailAddress::parse(typed).map_err(InputError::Address)),
        Ok(None) => None,
        Err(RouteError::DuplicateParameter(_)) => Some(Err(InputError::Repeated)),
        Err(_) => Some(Err(InputError::Encoding)),
    };
    let site = match &address {
        Some(Ok(address)) => {
            log.domain = Some(address.domain().clone());
            log.address = Some(address.clone());
            Some(app.resolve(address.domain()).await)
        }
        _ => None,
    };
    let (status, lookup) = match (&address, &site) {
        (None, _) => (StatusCode::OK, Lookup::Form),
        (Some(Err(error)), _) => (
            StatusCode::BAD_REQUEST,
            Lookup::Invalid {
                typed: typed.as_ref().ok().and_then(Option::as_deref).unwrap_or(""),
                error: error.clone(),
            },
        ),
        (Some(Ok(address)), Some(Ok(site))) => (StatusCode::OK, Lookup::Found { address, site }),
        (Some(Ok(address)), _) => (StatusCode::NOT_FOUND, Lookup::UnknownDomain { address }),
    };
    let document = render_landing_page(&LandingPage {
        lookup,
        lang,
        lang_chosen: chosen_lang.is_some(),
        app: app_id,
        app_chosen: chosen_app.is_some(),
        origin,
    });
    let mut response = document_response(document);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    // The page depends on the address, the language and the device, and
    // an address is personal: no shared cache keeps it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, User-Agent"),
    );
    response
}

/// The headers every HTML response carries: no script at all, styles and
/// images from this origin (and the QR code's `data:` image), forms only to
/// this origin, never framed, no base URL games, no MIME sniffing, no
/// Referer leaking the address to the sites the page links to.
fn add_html_security_headers(headers: &mut http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
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

/// The POX endpoint and the v2 JSON lookup, or `None` for other paths.
async fn autodiscover_routes(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Option<Result<Document, RouteError>> {
    let path = request.uri().path();
    const JSON_PATH: &str = "/autodiscover/autodiscover.json";
    if path.eq_ignore_ascii_case("/autodiscover/autodiscover.xml") {
        log.endpoint = "autodiscover";
        return Some(pox(app, request, log).await);
    }
    if path.eq_ignore_ascii_case(JSON_PATH) {
        log.endpoint = "autodiscover-json";
        return Some(autodiscover_json(app, request, log, None).await);
    }
    // `/autodiscover/autodiscover.json/v1.0/<address>`
    let lower = path.get(..JSON_PATH.len() + "/v1.0/".len())?;
    if lower.eq_ignore_ascii_case("/autodiscover/autodiscover.json/v1.0/") {
        log.endpoint = "autodiscover-json";
        let address = &path[lower.len()..];
        return Some(autodiscover_json(app, request, log, Some(address)).await);
    }
    None
}

fn pox_error(status: StatusCode, code: ErrorCode, reason: String) -> RouteError {
    RouteError::Protocol {
        status,
        document: render_autodiscover_error(code, &reason),
        reason,
    }
}

/// POX autodiscover ([MS-OXDSCLI], [MS-ASCMD]). Answers in XML, errors
/// included: 600 (invalid request) with 400, 601 (schema not provided)
/// with 200 as Exchange does, and 601 with 404 for a domain not served
/// here. Credentials are never asked for: no `WWW-Authenticate`, ever.
async fn pox(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Result<Document, RouteError> {
    if request.method() != Method::POST {
        return Err(RouteError::MethodNotAllowed { allow: POST });
    }
    let parsed = parse_autodiscover_request(request.body()).map_err(|error| {
        let status = match error.code() {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ProviderUnavailable => StatusCode::OK,
        };
        pox_error(status, error.code(), error.to_string())
    })?;
    let address = EmailAddress::parse(&parsed.email_address).map_err(|error| {
        pox_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            format!("invalid email address: {error}"),
        )
    })?;
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    // Unknown domain: 404; resolver down (MX detection): 503.
    let site = app.resolve(address.domain()).await.map_err(|error| {
        pox_error(
            RouteError::Resolve(error.clone()).status(),
            ErrorCode::ProviderUnavailable,
            error.to_string(),
        )
    })?;
    Ok(render_autodiscover_response(
        Account {
            site: &site,
            address: Some(&address),
        },
        parsed.schema,
    ))
}

fn json_error(status: StatusCode, code: &str, reason: String) -> RouteError {
    RouteError::Protocol {
        status,
        document: render_autodiscover_json_error(code, &reason),
        reason,
    }
}

/// Autodiscover v2: `?Email=<address>&Protocol=<p>` or `/v1.0/<address>?Protocol=<p>`.
async fn autodiscover_json(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
    path_address: Option<&str>,
) -> Result<Document, RouteError> {
    require_get(request)?;
    let to_json =
        |error: RouteError| json_error(error.status(), "InvalidRequest", error.to_string());
    let address = match path_address {
        Some(raw) => Some(
            percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| to_json(RouteError::QueryEncoding))?
                .into_owned(),
        ),
        None => query_param(request, "Email").map_err(to_json)?,
    };
    let Some(address) = address.filter(|a| !a.is_empty()) else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "MandatoryParameterMissing",
            "A valid value must be provided for the query parameter 'Email'.".into(),
        ));
    };
    let address = EmailAddress::parse(&address).map_err(|error| {
        json_error(
            StatusCode::BAD_REQUEST,
            "InvalidEmailAddress",
            format!("invalid email address: {error}"),
        )
    })?;
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    let Some(name) = query_param(request, "Protocol").map_err(to_json)? else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "MissingProtocol",
            "A valid value must be provided for the query parameter 'Protocol'.".into(),
        ));
    };
    let Some(protocol) = JsonProtocol::parse(&name) else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "InvalidProtocol",
            format!("The given protocol value is invalid. Supported values are '{JSON_PROTOCOLS}'"),
        ));
    };
    let site = app.resolve(address.domain()).await.map_err(|error| {
        let status = RouteError::Resolve(error.clone()).status();
        let code = if status == StatusCode::NOT_FOUND {
            "DomainNotFound"
        } else {
            "ServiceUnavailable"
        };
        json_error(status, code, error.to_string())
    })?;
    Ok(render_autodiscover_json(
        Account {
            site: &site,
            address: Some(&address),
        },
        protocol,
        &name,
    ))
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

fn healthz(request: &Request<Bytes>, log: &mut RequestLog) -> Result<Document, RouteError> {
    log.endpoint = "healthz";
    require_get(request)?;
    Ok(Document {
        content_type: media_type::TEXT,
        body: b"ok\n".to_vec(),
    })
}

fn metrics(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Result<Document, RouteError> {
    log.endpoint = "metrics";
    require_get(request)?;
    let certificates = app
        .services
        .certificates
        .as_ref()
        .map(|c| c.certificates())
        .unwrap_or_default();
    Ok(Document {
        content_type: media_type::PROMETHEUS,
        body: app.services.metrics.render(&certificates).into_bytes(),
    })
}

fn admin_dispatch(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Result<Document, RouteError> {
    match request.uri().path() {
        "/metrics" => metrics(app, request, log),
        "/healthz" => healthz(request, log),
        _ => {
            log.endpoint = "none";
            Err(RouteError::NotFound)
        }
    }
}

/// What plain HTTP answers under the `redirect` policy: Thunderbird's
/// autoconfig URLs (it falls back to http:// when HTTPS fails, and the
/// document holds no secret), ISPDB-style lookups, ACME http-01 challenges
/// (which must be served over port 80), and health checks.
fn served_over_plain_http(path: &str) -> bool {
    matches!(
        path,
        "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml" | "/healthz"
    ) || path.starts_with("/v1.1/")
        || path.starts_with(ACME_CHALLENGE_PREFIX)
}

/// 302 for GET/HEAD (what Outlook's "HTTP redirect method" expects from
/// http://autodiscover.<domain>/...), 308 for other methods so that a POST
/// is repeated as a POST. The host must be a domain name: a redirect is
/// never built from an unvalidated Host header.
fn redirect_to_https(
    app: &App,
    request: &Request<Bytes>,
    log: RequestLog,
) -> Response<Full<Bytes>> {
    let host = request
        .uri()
        .host()
        .or_else(|| request.headers().get(header::HOST)?.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .and_then(|h| DomainName::parse(h).ok());
    let mut response = match host {
        None => plain_error(
            StatusCode::BAD_REQUEST,
            "this plain-HTTP listener answers only Thunderbird's autoconfig; use https:// with a host name",
        ),
        Some(host) => {
            let port = match app.services.https_port {
                Some(443) | None => String::new(),
                Some(port) => format!(":{port}"),
            };
            let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
            let location = format!("https://{host}{port}{path_and_query}");
            let status = match *request.method() {
                Method::GET | Method::HEAD => StatusCode::FOUND,
                _ => StatusCode::PERMANENT_REDIRECT,
            };
            let mut response = plain_error(status, &format!("moved to {location}"));
            match HeaderValue::from_str(&location) {
                Ok(value) => {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                Err(_) => {
                    response = plain_error(
                        StatusCode::BAD_REQUEST,
                        "the request URL cannot be redirected",
                    );
                }
            }
            response
        }
    };
    response.extensions_mut().insert(log);
    response
}
