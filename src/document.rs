//! `Document`: what a renderer produces, bytes plus their media type.
//! Renderers return it; only the router turns it into an HTTP response.

/// A rendered document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The `Content-Type` the bytes must be served with.
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// Media types used by the renderers, in one place so tests and the router
/// agree on them.
pub mod media_type {
    /// Thunderbird accepts `text/xml` or `application/xml` only.
    pub const XML: &str = "application/xml; charset=utf-8";
    pub const TEXT: &str = "text/plain; charset=utf-8";
    /// What Exchange answers autodiscover with; Outlook and Thunderbird
    /// accept it.
    pub const TEXT_XML: &str = "text/xml; charset=utf-8";
    pub const JSON: &str = "application/json; charset=utf-8";
    /// The Prometheus text exposition format.
    pub const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";
    /// Apple configuration profiles, signed or not: what makes Safari hand
    /// the file to Settings instead of showing it.
    pub const APPLE_CONFIG: &str = "application/x-apple-aspen-config";
    pub const HTML: &str = "text/html; charset=utf-8";
    pub const CSS: &str = "text/css; charset=utf-8";
}
