//! Operator endpoints (`/healthz`, `/metrics`, the admin listener) and the
//! plain-HTTP policy (what is answered, what is redirected to HTTPS).

use super::*;

pub(super) fn healthz(
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Result<Document, RouteError> {
    log.endpoint = "healthz";
    require_get(request)?;
    Ok(Document {
        content_type: media_type::TEXT,
        body: b"ok\n".to_vec(),
    })
}

pub(super) fn metrics(
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

pub(super) fn admin_dispatch(
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
pub(super) fn served_over_plain_http(path: &str) -> bool {
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
pub(super) fn redirect_to_https(
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
