//! The one reply type every handler returns, and the one place a reply
//! becomes an HTTP response: content type, caching, content coding, the
//! security headers (`X-Content-Type-Options` on everything, the HTML
//! policy on pages).

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;

use super::RouteError;
use super::encoding::{self, Coding, MIN_COMPRESSED_BYTES, Prepared};
use crate::document::{Document, media_type};
use crate::resolve::ResolveError;
use crate::web;

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
    pub(super) content_type: &'static str,
    pub(super) body: Body,
    pub(super) caching: Caching,
    /// Headers beyond those every reply gets (download name, `Vary`,
    /// `Location`, ...).
    pub(super) headers: HeaderMap,
}

/// A reply's bytes: made for this request, or made once for all.
#[derive(Debug)]
pub(super) enum Body {
    /// Rendered for this request; compressed here if the client takes it.
    Fresh(Vec<u8>),
    /// Fixed for the life of the process, compressed once.
    Prepared(Prepared),
}

impl Reply {
    /// 200 with a document, cacheable.
    pub(super) fn document(document: Document) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: document.content_type,
            body: Body::Fresh(document.body),
            caching: Caching::Public,
            headers: HeaderMap::new(),
        }
    }

    /// 200 with a body made once (see `Prepared`), cacheable.
    pub(super) fn prepared(prepared: &Prepared) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: prepared.content_type,
            body: Body::Prepared(prepared.clone()),
            caching: Caching::Public,
            headers: HeaderMap::new(),
        }
    }

    /// A plain-text message, never cached.
    pub(super) fn plain(status: StatusCode, message: &str) -> Reply {
        Reply::document(Document {
            content_type: media_type::TEXT,
            body: format!("{message}\n").into_bytes(),
        })
        .with_status(status)
        .with_caching(Caching::NoStore)
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

    /// The response, in `coding` when the client takes it (see
    /// `encoding::negotiate`) and the body is text worth compressing.
    pub(super) fn into_response(mut self, coding: Coding) -> Response<Full<Bytes>> {
        let is_html = self.content_type == media_type::HTML;
        let identity_length = match &self.body {
            Body::Fresh(body) => body.len(),
            Body::Prepared(prepared) => prepared.identity.len(),
        };
        // Whether the bytes sent depend on Accept-Encoding: then caches
        // must know (RFC 9110 §12.5.5), whichever coding this client got.
        let varies =
            encoding::is_compressible(self.content_type) && identity_length >= MIN_COMPRESSED_BYTES;
        let (body, sent_coding) = match (self.body, varies, coding) {
            (Body::Fresh(body), true, Coding::Gzip) => match encoding::gzip_fresh(&body) {
                Some(compressed) => (Bytes::from(compressed), Coding::Gzip),
                None => (Bytes::from(body), Coding::Identity),
            },
            (Body::Fresh(body), _, _) => (Bytes::from(body), Coding::Identity),
            (Body::Prepared(prepared), true, Coding::Gzip) => match prepared.gzip {
                Some(compressed) => (compressed, Coding::Gzip),
                None => (prepared.identity, Coding::Identity),
            },
            (Body::Prepared(prepared), _, _) => (prepared.identity, Coding::Identity),
        };
        if varies {
            let vary = match self.headers.remove(header::VARY) {
                // The two lists the routes set, joined without formatting
                // per request (the Thunderbird document is the hot path).
                Some(other) if other == "User-Agent" => {
                    HeaderValue::from_static("User-Agent, Accept-Encoding")
                }
                Some(other) if other == "Accept-Language, User-Agent" => {
                    HeaderValue::from_static("Accept-Language, User-Agent, Accept-Encoding")
                }
                Some(other) => other
                    .to_str()
                    .ok()
                    .and_then(|other| {
                        HeaderValue::from_str(&format!("{other}, Accept-Encoding")).ok()
                    })
                    .unwrap_or(HeaderValue::from_static("Accept-Encoding")),
                None => HeaderValue::from_static("Accept-Encoding"),
            };
            self.headers.insert(header::VARY, vary);
        }
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if sent_coding == Coding::Gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
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
    Reply::plain(status, message).into_response(Coding::Identity)
}

/// The HTML pages' Content Security Policy: one script, the copy
/// buttons', allowed by the SHA-256 of its exact bytes (CSP Level 3
/// §8.4), so no other inline script or injected markup can run; styles
/// and images from this origin (and the QR code's `data:` image), forms
/// only to this origin, never framed, no base URL games. `connect-src
/// 'self'` lets only that script's origin be fetched from the page; it is
/// there because auditors read /robots.txt through the page's frame
/// (Lighthouse's SEO audit found none under `default-src 'none'`). Made
/// once, from the script the binary carries.
static HTML_POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
    let policy = format!(
        "default-src 'none'; script-src {}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        web::copy_script_hash()
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|e| unreachable!("a base64 hash is a valid header value: {e}"))
});

/// The headers every HTML response carries: the policy above, and no
/// Referer leaking the address to the sites the page links to.
fn add_html_security_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HTML_POLICY.clone());
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
