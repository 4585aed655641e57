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
use crate::dns::MxDetector;
use crate::document::{Document, media_type};
use crate::email::{AddressError, DomainName, EmailAddress};
use std::sync::Arc;

use crate::resolve::{Account, Directory, ResolveError, Site, mail_domain_of_host};
use crate::thunderbird::render_thunderbird_config;

/// What the router serves from: the validated configuration and the lookup
/// tables derived from it. Built once; shared by every connection.
pub struct App {
    pub config: Config,
    pub directory: Directory,
    /// Present when `[dns] detect_microsoft365_by_mx` is on.
    pub mx: Option<MxDetector>,
}

impl App {
    pub fn new(config: Config) -> App {
        let directory = Directory::new(&config);
        let mx = MxDetector::new(&config.dns, config.profiles.get("microsoft365"));
        App {
            config,
            directory,
            mx,
        }
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
    let result = dispatch(app, request, &mut log).await;
    let mut response = match result {
        Ok(document) => document_response(document),
        Err(error) => error_response(&error),
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
        let value = percent_decode_str(value)
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
    response
}

fn error_response(error: &RouteError) -> Response<Full<Bytes>> {
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
