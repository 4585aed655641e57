//! The one reply type every handler returns, and the one place a reply
//! becomes an HTTP response: content type, caching, content coding, the
//! security headers (`X-Content-Type-Options` on everything, the HTML
//! policy on pages).

use std::sync::{LazyLock, OnceLock};

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
    /// What the reply depends on besides the URL.
    pub(super) vary: Vary,
    /// Headers beyond those every reply gets (download name, `Location`,
    /// ...); `Vary` is `vary`'s.
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
}

/// The request headers a reply depends on besides the URL, for its `Vary`
/// field (RFC 9110 §12.5.5). `Accept-Encoding` is added by
/// `Reply::into_response`, which alone knows whether the body may be
/// compressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Vary {
    pub(super) accept_language: bool,
    pub(super) user_agent: bool,
}

impl Vary {
    /// The field's value, the Accept-Encoding member last; `None` when the
    /// reply depends on nothing. Constants: nothing is formatted or checked
    /// per request.
    fn field_of_index(index: usize) -> Option<HeaderValue> {
        const fn value(members: &'static str) -> Option<HeaderValue> {
            Some(HeaderValue::from_static(members))
        }
        const VALUES: [Option<HeaderValue>; 8] = [
            None,
            value("Accept-Encoding"),
            value("User-Agent"),
            value("User-Agent, Accept-Encoding"),
            value("Accept-Language"),
            value("Accept-Language, Accept-Encoding"),
            value("Accept-Language, User-Agent"),
            value("Accept-Language, User-Agent, Accept-Encoding"),
        ];
        VALUES[index].clone()
    }

    /// Which of the eight `Vary` values (none included) `field` gives.
    fn field_index(self, accept_encoding: bool) -> usize {
        usize::from(self.accept_language) << 2
            | usize::from(self.user_agent) << 1
            | usize::from(accept_encoding)
    }
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
            vary: Vary::default(),
            headers: Vec::new(),
        }
    }

    /// 200 with a body made once (see `Prepared`), cacheable.
    pub(super) fn prepared(prepared: &Prepared) -> Reply {
        Reply {
            status: StatusCode::OK,
            content_type: prepared.content_type,
            body: Body::Prepared(prepared.clone()),
            caching: Caching::Public,
            vary: Vary::default(),
            headers: Vec::new(),
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

    /// Adds a header (not `Vary`: see `with_vary`).
    pub(super) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        debug_assert!(name != header::VARY, "Vary is set with with_vary");
        self.headers.push((name, value));
        self
    }

    pub(super) fn with_vary(mut self, vary: Vary) -> Reply {
        self.vary = vary;
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
    pub(super) fn into_response(self, coding: Coding) -> Response<Full<Bytes>> {
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
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = self.status;
        let mut headers = base_headers(
            self.content_type,
            sent_coding,
            self.caching,
            self.vary.field_index(varies),
        );
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        *response.headers_mut() = headers;
        response
    }
}

/// Every media type a renderer uses, as a header value made at compile
/// time (`from_static` at run time checks each byte on every call).
const CONTENT_TYPE_COUNT: usize = 8;
const CONTENT_TYPES: [(&str, HeaderValue); CONTENT_TYPE_COUNT] = {
    use media_type::*;
    const fn entry(media_type: &'static str) -> (&'static str, HeaderValue) {
        (media_type, HeaderValue::from_static(media_type))
    }
    [
        entry(XML),
        entry(HTML),
        entry(TEXT_XML),
        entry(JSON),
        entry(APPLE_CONFIG),
        entry(TEXT),
        entry(CSS),
        entry(PROMETHEUS),
    ]
};

/// The `Content-Type` value for a document's media type.
fn content_type_value(content_type: &'static str) -> HeaderValue {
    CONTENT_TYPES
        .iter()
        .find(|(known, _)| *known == content_type)
        .map_or_else(
            || HeaderValue::from_static(content_type),
            |(_, value)| value.clone(),
        )
}

/// The headers a reply of one kind carries before its own (`Reply::
/// headers`): content type and coding, caching, `nosniff`, `Vary`, and a
/// page's security policy. Built once per kind and cloned: a clone is two
/// allocations and copies, where building the map hashes and places every
/// header again.
fn base_headers(
    content_type: &'static str,
    coding: Coding,
    caching: Caching,
    vary_index: usize,
) -> HeaderMap {
    const KINDS: usize = CONTENT_TYPE_COUNT * 2 * 3 * 8;
    static BASE: [OnceLock<HeaderMap>; KINDS] = [const { OnceLock::new() }; KINDS];
    let build = || build_headers(content_type, coding, caching, vary_index);
    // Media types outside the table (none is) are built every time.
    let Some(type_index) = CONTENT_TYPES
        .iter()
        .position(|(known, _)| *known == content_type)
    else {
        return build();
    };
    let kind = ((type_index * 2 + usize::from(coding == Coding::Gzip)) * 3 + caching as usize) * 8
        + vary_index;
    BASE[kind].get_or_init(build).clone()
}

/// What `base_headers` keeps, built.
fn build_headers(
    content_type: &'static str,
    coding: Coding,
    caching: Caching,
    vary_index: usize,
) -> HeaderMap {
    // Sized for every header here and a reply's own few.
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(header::CONTENT_TYPE, content_type_value(content_type));
    if coding == Coding::Gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // Constants: `from_static` outside a const context checks every
    // byte of the value on every call.
    const PUBLIC: HeaderValue = HeaderValue::from_static("public, max-age=3600");
    const PRIVATE: HeaderValue = HeaderValue::from_static("private, max-age=3600");
    const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
    const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");
    headers.insert(
        header::CACHE_CONTROL,
        match caching {
            Caching::Public => PUBLIC,
            Caching::Private => PRIVATE,
            Caching::NoStore => NO_STORE,
        },
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    if let Some(vary) = Vary::field_of_index(vary_index) {
        headers.insert(header::VARY, vary);
    }
    if content_type == media_type::HTML {
        add_html_security_headers(&mut headers);
    }
    headers
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

#[cfg(test)]
mod tests {
    use super::{
        CONTENT_TYPE_COUNT, CONTENT_TYPES, Caching, Coding, Vary, base_headers, build_headers,
        content_type_value,
    };
    use crate::document::media_type;
    use http::header;

    /// Every media type in `media_type` has its constant, equal to what
    /// `from_static` makes; others still get a value.
    #[test]
    fn content_type_values_are_the_media_types() {
        for known in [
            media_type::XML,
            media_type::TEXT,
            media_type::TEXT_XML,
            media_type::JSON,
            media_type::PROMETHEUS,
            media_type::APPLE_CONFIG,
            media_type::HTML,
            media_type::CSS,
        ] {
            assert!(CONTENT_TYPES.iter().any(|(t, _)| *t == known), "{known}");
            assert_eq!(content_type_value(known), known);
        }
        assert_eq!(content_type_value("image/png"), "image/png");
    }

    /// Each kind of reply gets its own headers from the cache: every kind,
    /// asked twice, gives what building it gives (a kind that shared
    /// another's slot would get that one's headers the second time).
    #[test]
    fn cached_base_headers_are_each_kinds_own() {
        let kinds = || {
            (0..CONTENT_TYPE_COUNT).flat_map(|index| {
                let content_type = CONTENT_TYPES[index].0;
                [Coding::Identity, Coding::Gzip]
                    .into_iter()
                    .flat_map(move |coding| {
                        [Caching::Public, Caching::Private, Caching::NoStore]
                            .into_iter()
                            .flat_map(move |caching| {
                                (0..8).map(move |vary| (content_type, coding, caching, vary))
                            })
                    })
            })
        };
        assert_eq!(kinds().count(), CONTENT_TYPE_COUNT * 2 * 3 * 8);
        for _ in 0..2 {
            for (content_type, coding, caching, vary) in kinds() {
                let built = build_headers(content_type, coding, caching, vary);
                assert_eq!(
                    base_headers(content_type, coding, caching, vary),
                    built,
                    "{content_type} {coding:?} {caching:?} {vary}"
                );
                assert_eq!(built[header::CONTENT_TYPE], content_type);
            }
        }
    }

    /// Every combination names exactly the headers its flags say.
    #[test]
    fn vary_field_lists_what_the_reply_depends_on() {
        for accept_language in [false, true] {
            for user_agent in [false, true] {
                for accept_encoding in [false, true] {
                    let vary = Vary {
                        accept_language,
                        user_agent,
                    };
                    let field = Vary::field_of_index(vary.field_index(accept_encoding));
                    let members: Vec<&str> = field
                        .as_ref()
                        .map(|value| value.to_str().unwrap().split(", ").collect())
                        .unwrap_or_default();
                    let expected: Vec<&str> = [
                        (accept_language, "Accept-Language"),
                        (user_agent, "User-Agent"),
                        (accept_encoding, "Accept-Encoding"),
                    ]
                    .into_iter()
                    .filter_map(|(on, name)| on.then_some(name))
                    .collect();
                    assert_eq!(members, expected);
                }
            }
        }
    }
}
