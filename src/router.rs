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

use crate::config::Config;
use crate::document::{Document, media_type};
use crate::email::{AddressError, DomainName, EmailAddress};
use std::sync::Arc;

use crate::resolve::{Account, Directory, ResolveError, Site, mail_domain_of_host};
use crate::thunderbird::render_thunderbird_config;
use crate::web::{self, AppId, InputError, LandingPage, Lang, Lookup, render_landing_page};

/// What the router serves from: the validated configuration and the lookup
/// tables derived from it. Built once; shared by every connection.
pub struct App {
    pub config: Config,
    pub directory: Directory,
}

impl App {
    pub fn new(config: Config) -> App {
        let directory = Directory::new(&config);
        App { config, directory }
    }

    /// The site for a mail domain. Asynchronous because resolution may
    /// need the network (MX-based detection); table lookups do not wait.
    pub async fn resolve(&self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        self.directory.resolve(domain).cloned()
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

/// How the request reached the server, put into the request's extensions
/// by `server`: the landing page's QR code needs an absolute URL.
#[derive(Debug, Clone, Copy)]
pub struct Transport {
    /// The connection is HTTPS.
    pub tls: bool,
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
}

impl RouteError {
    pub fn status(&self) -> StatusCode {
        match self {
            RouteError::NotFound | RouteError::Resolve(ResolveError::UnknownDomain(_)) => {
                StatusCode::NOT_FOUND
            }
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteError::Address(_)
            | RouteError::Domain(_)
            | RouteError::NoDomain
            | RouteError::DuplicateParameter(_)
            | RouteError::QueryEncoding => StatusCode::BAD_REQUEST,
        }
    }
}

const GET_HEAD: &str = "GET, HEAD";

/// Answers one request. Never panics on client input; every error is a 4xx.
pub async fn route(app: &App, request: &Request<Bytes>) -> Response<Full<Bytes>> {
    let mut log = RequestLog::default();
    let mut response = if request.uri().path() == "/" {
        landing_page(app, request, &mut log).await
    } else {
        match dispatch(app, request, &mut log).await {
            Ok(document) => document_response(document),
            Err(error) => error_response(&error),
        }
    };
    response.extensions_mut().insert(log);
    response
}

async fn dispatch(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
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
        "/healthz" => {
            log.endpoint = "healthz";
            require_get(request)?;
            Ok(Document {
                content_type: media_type::TEXT,
                body: b"ok\n".to_vec(),
            })
        }
        _ => {
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
            log.endpoint = "none";
            Err(RouteError::NotFound)
        }
    }
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
    let scheme = match request.extensions().get::<Transport>() {
        Some(transport) if transport.tls => "https",
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
    let mut response = plain_error(error.status(), &error.to_string());
    if let RouteError::MethodNotAllowed { allow } = error {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
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
