//! Operator endpoints (`/healthz`, `/metrics`), ACME http-01 challenges and
//! the redirect of plain HTTP to HTTPS.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use super::reply::Reply;
use super::{App, Exchange, RequestHost, RouteError};
use crate::document::{Document, media_type};
use crate::resolve::mail_domain_of_host;
use crate::services::ReadinessState;

/// 200 `ok` while the process wants traffic; 503 before everything is
/// loaded and from SIGTERM on (during `shutdown_delay_secs` and the drain),
/// so that a load balancer probing it sends new clients elsewhere before
/// the listeners close. Never cached: a proxy must not answer for us.
pub(super) fn healthz(app: &App) -> Reply {
    match app.services.readiness.get() {
        ReadinessState::Ready => Reply::plain(StatusCode::OK, "ok"),
        ReadinessState::Starting => Reply::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the configuration and certificates are still loading",
        ),
        ReadinessState::ShuttingDown => Reply::plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: shutting down; requests are still answered until the listeners close",
        ),
    }
}

pub(super) fn metrics(app: &App) -> Reply {
    let certificates = app
        .services
        .certificates
        .as_ref()
        .map(|c| c.certificates())
        .unwrap_or_default();
    Reply::document(Document {
        content_type: media_type::PROMETHEUS,
        body: app.services.metrics.render(&certificates).into_bytes(),
    })
}

/// The key authorization of a pending http-01 challenge: this replica's,
/// or one another replica published in the shared ACME state directory
/// (the CA's request may reach any replica behind the load balancer). A
/// token outside base64url is a 404 without a look at the disk
/// (`ChallengeStore::get`).
pub(super) fn acme_challenge(app: &App, token: &str) -> Result<Reply, RouteError> {
    let key_authorization = app
        .services
        .challenges
        .get(token)
        .ok_or(RouteError::NotFound)?;
    Ok(Reply::document(Document {
        content_type: media_type::TEXT,
        body: key_authorization.into_bytes(),
    }))
}

/// 302 for GET/HEAD (what Outlook's "HTTP redirect method" expects from
/// http://autodiscover.<domain>/...), 308 for other methods so that a POST
/// is repeated as a POST. The host must be a domain name: a redirect is
/// never built from an unvalidated Host header.
pub(super) fn redirect_to_https(exchange: &Exchange<'_>) -> Reply {
    let request = exchange.request;
    let Some(host) = RequestHost::of(request).and_then(|h| h.domain().cloned()) else {
        return Reply::plain(
            StatusCode::BAD_REQUEST,
            "this plain-HTTP listener answers only Thunderbird's autoconfig; use https:// with a host name",
        );
    };
    // Only to a name this server answers for: a domain it serves (or its
    // autoconfig./autodiscover. names) or its own public name. Anything
    // else would make this server an open redirector for any Host.
    let served = exchange
        .app
        .resolver
        .directory()
        .serves(&mail_domain_of_host(&host))
        || exchange.app.config.public.name.as_ref() == Some(&host);
    if !served {
        return Reply::plain(
            StatusCode::BAD_REQUEST,
            &format!("{host} is not a name this server answers for; nothing to redirect to"),
        );
    }
    let port = match exchange.app.services.https_port {
        Some(443) | None => String::new(),
        Some(port) => format!(":{port}"),
    };
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{port}{path_and_query}");
    let status = match *request.method() {
        Method::GET | Method::HEAD => StatusCode::FOUND,
        _ => StatusCode::PERMANENT_REDIRECT,
    };
    match HeaderValue::from_str(&location) {
        Ok(value) => Reply::plain(status, &format!("moved to {location}"))
            .with_header(header::LOCATION, value),
        Err(_) => Reply::plain(
            StatusCode::BAD_REQUEST,
            "the request URL cannot be redirected",
        ),
    }
}
