//! The URL space as a value: a request's listener and path become one
//! `Route`, parsed once, that knows its endpoint name (for logs and
//! metrics), the methods it allows, and whether plain HTTP serves it.

use http::Method;

use super::{App, ConnectionInfo, Listener, RouteError};
use crate::config::HttpPolicy;
use crate::web;

/// RFC 8555 §8.3: where http-01 challenges are fetched.
const ACME_CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";
const AUTODISCOVER_XML: &str = "/autodiscover/autodiscover.xml";
const AUTODISCOVER_JSON: &str = "/autodiscover/autodiscover.json";
const AUTODISCOVER_JSON_V1: &str = "/autodiscover/autodiscover.json/v1.0/";

/// What answered a request, as logs and `/metrics` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Thunderbird,
    Ispdb,
    Autodiscover,
    AutodiscoverJson,
    Apple,
    Landing,
    Stylesheet,
    Robots,
    Healthz,
    Metrics,
    AcmeChallenge,
    HttpsRedirect,
    /// No route matched.
    None,
}

impl Endpoint {
    pub const ALL: [Endpoint; 13] = [
        Endpoint::Thunderbird,
        Endpoint::Ispdb,
        Endpoint::Autodiscover,
        Endpoint::AutodiscoverJson,
        Endpoint::Apple,
        Endpoint::Landing,
        Endpoint::Stylesheet,
        Endpoint::Robots,
        Endpoint::Healthz,
        Endpoint::Metrics,
        Endpoint::AcmeChallenge,
        Endpoint::HttpsRedirect,
        Endpoint::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Thunderbird => "thunderbird",
            Endpoint::Ispdb => "ispdb",
            Endpoint::Autodiscover => "autodiscover",
            Endpoint::AutodiscoverJson => "autodiscover-json",
            Endpoint::Apple => "apple",
            Endpoint::Landing => "landing",
            Endpoint::Stylesheet => "stylesheet",
            Endpoint::Robots => "robots",
            Endpoint::Healthz => "healthz",
            Endpoint::Metrics => "metrics",
            Endpoint::AcmeChallenge => "acme-challenge",
            Endpoint::HttpsRedirect => "https-redirect",
            Endpoint::None => "none",
        }
    }
}

/// A parsed request target. Borrowed parts are still percent-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route<'a> {
    /// `GET /`
    Landing,
    /// Thunderbird's `/mail/config-v1.1.xml` and its `.well-known` form.
    Thunderbird,
    /// `/v1.1/<domain>`
    Ispdb {
        domain: &'a str,
    },
    Stylesheet,
    /// `/robots.txt`: what crawlers may fetch.
    Robots,
    /// The landing page's form: `/apple/profile?email=...`
    AppleForm,
    /// `/apple/<address>.mobileconfig`, the link people tap.
    AppleLink {
        address: &'a str,
    },
    /// `POST /autodiscover/autodiscover.xml` (any case: clients differ).
    AutodiscoverPox,
    /// `/autodiscover/autodiscover.json?Email=...` or
    /// `/autodiscover/autodiscover.json/v1.0/<address>`.
    AutodiscoverJson {
        address: Option<&'a str>,
    },
    Healthz,
    Metrics,
    AcmeChallenge {
        token: &'a str,
    },
    /// Plain HTTP under the `redirect` policy, for what only HTTPS serves.
    HttpsRedirect,
    NotFound,
}

impl<'a> Route<'a> {
    pub(super) fn parse(app: &App, connection: ConnectionInfo, path: &'a str) -> Route<'a> {
        if connection.listener == Listener::Admin {
            // The operator's listener: /metrics and /healthz only.
            return match path {
                "/metrics" => Route::Metrics,
                "/healthz" => Route::Healthz,
                _ => Route::NotFound,
            };
        }
        let route = Route::public(app, connection, path);
        if connection.listener == Listener::Http
            && app.config.http_policy == HttpPolicy::Redirect
            && !route.served_over_plain_http()
        {
            return Route::HttpsRedirect;
        }
        route
    }

    fn public(app: &App, connection: ConnectionInfo, path: &'a str) -> Route<'a> {
        match path {
            "/" => return Route::Landing,
            "/mail/config-v1.1.xml" | "/.well-known/autoconfig/mail/config-v1.1.xml" => {
                return Route::Thunderbird;
            }
            web::STYLESHEET_PATH => return Route::Stylesheet,
            web::ROBOTS_PATH => return Route::Robots,
            "/apple/profile" => return Route::AppleForm,
            "/healthz" => return Route::Healthz,
            // Public listeners serve metrics only to the machine itself,
            // not at all when the operator gave metrics a listener of their
            // own, and not under the `serve` policy unless the operator says
            // so: behind a TLS proxy on this host every client is local, and
            // the metrics name every tenant's certificates.
            "/metrics"
                if app.config.admin_listeners.is_empty()
                    && app.config.metrics_from_loopback
                    && connection.peer.ip().is_loopback() =>
            {
                return Route::Metrics;
            }
            _ => {}
        }
        if path.eq_ignore_ascii_case(AUTODISCOVER_XML) {
            return Route::AutodiscoverPox;
        }
        if path.eq_ignore_ascii_case(AUTODISCOVER_JSON) {
            return Route::AutodiscoverJson { address: None };
        }
        if let Some(prefix) = path.get(..AUTODISCOVER_JSON_V1.len())
            && prefix.eq_ignore_ascii_case(AUTODISCOVER_JSON_V1)
        {
            return Route::AutodiscoverJson {
                address: Some(&path[prefix.len()..]),
            };
        }
        if let Some(token) = path.strip_prefix(ACME_CHALLENGE_PREFIX) {
            return Route::AcmeChallenge { token };
        }
        if let Some(domain) = path.strip_prefix("/v1.1/") {
            return Route::Ispdb { domain };
        }
        if let Some(address) = path
            .strip_prefix("/apple/")
            .and_then(|rest| rest.strip_suffix(".mobileconfig"))
        {
            return Route::AppleLink { address };
        }
        Route::NotFound
    }

    pub(super) fn endpoint(&self) -> Endpoint {
        match self {
            Route::Landing => Endpoint::Landing,
            Route::Thunderbird => Endpoint::Thunderbird,
            Route::Ispdb { .. } => Endpoint::Ispdb,
            Route::Stylesheet => Endpoint::Stylesheet,
            Route::Robots => Endpoint::Robots,
            Route::AppleForm | Route::AppleLink { .. } => Endpoint::Apple,
            Route::AutodiscoverPox => Endpoint::Autodiscover,
            Route::AutodiscoverJson { .. } => Endpoint::AutodiscoverJson,
            Route::Healthz => Endpoint::Healthz,
            Route::Metrics => Endpoint::Metrics,
            Route::AcmeChallenge { .. } => Endpoint::AcmeChallenge,
            Route::HttpsRedirect => Endpoint::HttpsRedirect,
            Route::NotFound => Endpoint::None,
        }
    }

    /// What plain HTTP answers under the `redirect` policy: Thunderbird's
    /// autoconfig URLs (it falls back to http:// when HTTPS fails, and the
    /// document holds no secret), ISPDB-style lookups, ACME http-01
    /// challenges (which must be served over port 80), and health checks.
    pub(super) fn served_over_plain_http(&self) -> bool {
        matches!(
            self,
            Route::Thunderbird | Route::Ispdb { .. } | Route::AcmeChallenge { .. } | Route::Healthz
        )
    }

    /// Refuses a method the route does not answer. POX autodiscover is a
    /// POST; redirects and "not found" take any method; the rest is read
    /// with GET or HEAD.
    pub(super) fn check_method(&self, method: &Method) -> Result<(), RouteError> {
        match self {
            Route::HttpsRedirect | Route::NotFound => Ok(()),
            Route::AutodiscoverPox if method == Method::POST => Ok(()),
            Route::AutodiscoverPox => Err(RouteError::MethodNotAllowed { allow: "POST" }),
            _ if method == Method::GET || method == Method::HEAD => Ok(()),
            _ => Err(RouteError::MethodNotAllowed { allow: "GET, HEAD" }),
        }
    }
}
