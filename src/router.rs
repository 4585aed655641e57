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
use crate::autodiscover::{
    ErrorCode, JSON_PROTOCOLS, JsonProtocol, parse_autodiscover_request, render_autodiscover_error,
    render_autodiscover_json, render_autodiscover_json_error, render_autodiscover_response,
};
use crate::config::Config;
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
    /// ACME http-01 answers being offered (empty without `[acme]`).
    pub challenges: Arc<ChallengeStore>,
}

impl App {
    pub fn new(config: Config) -> App {
        let directory = Directory::new(&config);
        App {
            config,
            directory,
            challenges: Arc::default(),
        }
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
    /// An error answered in the protocol's own format (autodiscover XML or
    /// JSON) rather than plain text.
    #[error("{reason}")]
    Protocol {
        status: StatusCode,
        document: Document,
        reason: String,
    },
}

impl RouteError {
    pub fn status(&self) -> StatusCode {
        match self {
            RouteError::NotFound | RouteError::Resolve(ResolveError::UnknownDomain(_)) => {
                StatusCode::NOT_FOUND
            }
            RouteError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteError::Protocol { status, .. } => *status,
            RouteError::Address(_)
            | RouteError::Domain(_)
            | RouteError::NoDomain
            | RouteError::DuplicateParameter(_)
            | RouteError::QueryEncoding => StatusCode::BAD_REQUEST,
        }
    }
}

const GET_HEAD: &str = "GET, HEAD";
const POST: &str = "POST";

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
            // Autodiscover paths: clients differ in case (`/Autodiscover/Autodiscover.xml`).
            if let Some(result) = autodiscover_routes(app, request, log).await {
                return result;
            }
            // ACME http-01 (RFC 8555 §8.3): the key authorization as is.
            if let Some(token) = path.strip_prefix("/.well-known/acme-challenge/") {
                log.endpoint = "acme-challenge";
                require_get(request)?;
                let key_authorization = app.challenges.get(token).ok_or(RouteError::NotFound)?;
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
    let site = app.resolve(address.domain()).await.map_err(|error| {
        pox_error(
            StatusCode::NOT_FOUND,
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
    let site = app
        .resolve(address.domain())
        .await
        .map_err(|error| json_error(StatusCode::NOT_FOUND, "DomainNotFound", error.to_string()))?;
    Ok(render_autodiscover_json(
        Account {
            site: &site,
            address: Some(&address),
        },
        protocol,
        &name,
    ))
}
