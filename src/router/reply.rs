//! The one reply type every handler returns, and the one place a reply
//! becomes an HTTP response: content type, caching, the security headers
//! (`X-Content-Type-Options` on everything, the HTML policy on pages).

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;

use super::RouteError;
use crate::document::{Document, media_type};
use crate::resolve::ResolveError;

/// How long a shared cache may keep a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caching {
    /// Documents without an address change only when the admin changes
    /// the configuration.
    Public,
    /// Documents that carry an address: the browser or client may keep
    /// them, no shared cache may.
    Private,
    /// Errors, redirects and personal pages.
    NoStore,
}

/// A status, a document and the headers that go with it.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) document: Document,
    pub(super) caching: Caching,
    /// Headers beyond those every reply gets (download name, `Vary`,
    /// `Location`, ...).
    pub(super) headers: HeaderMap,
}

impl Reply {
    /// 200 with a document, cacheable.
    pub(super) fn document(document: Document) -> Reply {
        Reply {
            status: StatusCode::OK,
            document,
            caching: Caching::Public,
            headers: HeaderMap::new(),
        }
    }

    /// A plain-text message, never cached.
    pub(super) fn plain(status: StatusCode, message: &str) -> Reply {
        Reply {
            status,
            document: Document {
                content_type: media_type::TEXT,
                body: format!("{message}\n").into_bytes(),
            },
            caching: Caching::NoStore,
            headers: HeaderMap::new(),
        }
    }

    pub(super) fn with_status(mut self, status: StatusCode) -> Reply {
        self.status = status;
        self
    }

    pub(super) fn with_caching(mut self, caching: Caching) -> Reply {
        self.caching = caching;
        self
    }

    pub(super) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.insert(name, value);
        self
    }

    /// The answer to a request that could not be answered with a document:
    /// the protocol's own error document where it has one, else plain text
    /// that says what was wrong.
    pub(super) fn from_error(error: &RouteError) -> Reply {
        if let RouteError::Protocol {
            status, document, ..
        } = error
        {
            let reply = Reply::document(document.clone())
                .with_status(*status)
                .with_caching(Caching::NoStore);
            // A protocol's own 503 (resolver down, lookups limited) says
            // when to come back, like the plain one.
            return match *status {
                http::StatusCode::SERVICE_UNAVAILABLE => {
                    reply.with_header(header::RETRY_AFTER, HeaderValue::from_static("30"))
                }
                _ => reply,
            };
        }
        let mut reply = Reply::plain(error.status(), &error.to_string());
        if let RouteError::MethodNotAllowed { allow } = error {
            reply = reply.with_header(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let RouteError::Resolve(ResolveError::ResolverFailed { .. }) = error {
            // The lookup may well succeed in a moment: DNS hiccups are short.
            reply = reply.with_header(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        if let RouteError::Resolve(ResolveError::Busy {
            retry_after_secs, ..
        }) = error
        {
            // When a lookup would be admitted again (RFC 9110 §10.2.3).
            reply = reply.with_header(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        reply
    }

    pub(super) fn into_response(self) -> Response<Full<Bytes>> {
        let is_html = self.document.content_type == media_type::HTML;
        let mut response = Response::new(Full::new(Bytes::from(self.document.body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.document.content_type),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(match self.caching {
                Caching::Public => "public, max-age=3600",
                Caching::Private => "private, max-age=3600",
                Caching::NoStore => "no-store",
            }),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if is_html {
            add_html_security_headers(headers);
        }
        headers.extend(self.headers);
        response
    }
}

/// A plain-text error response for problems found before routing (body too
/// large, unreadable body): same shape as the router's own errors.
pub fn plain_error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    Reply::plain(status, message).into_response()
}

/// The headers every HTML response carries: no script at all, styles and
/// images from this origin (and the QR code's `data:` image), forms only to
/// this origin, never framed, no base URL games, no Referer leaking the
/// address to the sites the page links to.
fn add_html_security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
