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

use crate::apple::{
    AppleError, Platform, ProfileKind, ProfileOptions, UnknownValue, profile_file_name,
    render_apple_profile,
};
use crate::config::Config;
use crate::document::{Document, media_type};
use crate::email::{AddressError, DomainName, EmailAddress};
use std::sync::Arc;

use crate::resolve::{Account, Directory, ResolveError, Site, mail_domain_of_host};
use crate::signing::{ProfileSigner, SigningError};
use crate::thunderbird::render_thunderbird_config;

/// What the router serves from: the validated configuration and the lookup
/// tables derived from it. Built once; shared by every connection.
pub struct App {
    pub config: Config,
    pub directory: Directory,
    /// Signs Apple profiles; loaded once at start-up (`None`: unsigned).
    pub profile_signer: Option<ProfileSigner>,
}

impl App {
    pub fn new(config: Config) -> App {
        let directory = Directory::new(&config);
        App {
            config,
            directory,
            profile_signer: None,
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
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
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

/// Answers one request. Never panics on client input; every error is a 4xx.
pub async fn route(app: &App, request: &Request<Bytes>) -> Response<Full<Bytes>> {
    let mut log = RequestLog::default();
    let mut extra_headers = http::HeaderMap::new();
    let result = dispatch(app, request, &mut log, &mut extra_headers).await;
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
        // Apple: the form on the landing page.
        "/apple/profile" => {
            log.endpoint = "apple";
            require_get(request)?;
            let address = query_address(request, "email")?.ok_or(RouteError::NoEmail)?;
            apple_profile(app, request, address, log, extra_headers).await
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
