//! Thunderbird autoconfig: the `config-v1.1.xml` document ("clientConfig
//! version 1.1", also read by K-9/Thunderbird for Android, Evolution, KMail
//! and others). A pure function of an `Account`; the markup lives in
//! `templates/config-v1.1.xml`.
//!
//! Deliberate differences from Thunderbird's own ISPDB entries are listed in
//! README.md ("Differences from Thunderbird's ISPDB").

use askama::Template;

use crate::document::{Document, media_type};
use crate::profile::{AuthMethod, MailServer, Security};
use crate::resolve::Account;

/// The placeholder Thunderbird replaces with the address the user typed;
/// used when the request carried no address.
const EMAIL_PLACEHOLDER: &str = "%EMAILADDRESS%";

#[derive(Template)]
#[template(path = "config-v1.1.xml")]
struct ClientConfig<'a> {
    provider_id: &'a str,
    domains: Vec<&'a str>,
    display_name: &'a str,
    display_short_name: &'a str,
    incoming: Vec<ServerView<'a>>,
    outgoing: ServerView<'a>,
    username: &'a str,
    documentation_url: &'a str,
    documentation_text: &'a str,
    oauth2: Option<OAuth2View<'a>>,
}

struct ServerView<'a> {
    protocol: &'static str,
    host: &'a str,
    port: u16,
    socket_type: &'static str,
    authentication: Vec<&'static str>,
}

struct OAuth2View<'a> {
    issuer: &'a str,
    scope: String,
    auth_url: &'a str,
    token_url: &'a str,
}

impl<'a> ServerView<'a> {
    fn new(server: &'a MailServer) -> Self {
        ServerView {
            protocol: server.protocol.as_str(),
            host: server.host.0.as_str(),
            port: server.port.0,
            socket_type: socket_type(server.security),
            // Thunderbird takes the first method it accepts, so the
            // profile's order of preference (OAuth2 first) is kept.
            authentication: server
                .auth_methods()
                .iter()
                .map(|m| authentication(*m))
                .collect(),
        }
    }
}

/// Thunderbird's values are case-sensitive: `SSL` and `STARTTLS`.
fn socket_type(security: Security) -> &'static str {
    match security {
        Security::Tls => "SSL",
        Security::Starttls => "STARTTLS",
    }
}

fn authentication(method: AuthMethod) -> &'static str {
    match method {
        AuthMethod::Oauth2 => "OAuth2",
        // Cleartext only inside the TLS connection the profile requires.
        AuthMethod::Password => "password-cleartext",
    }
}

/// Renders `config-v1.1.xml` for an account.
pub fn render_thunderbird_config(account: Account<'_>) -> Document {
    let profile = account.profile();
    let site = account.site;
    let config = ClientConfig {
        provider_id: site.domain.as_str(),
        domains: site
            .config_domains()
            .into_iter()
            .map(|d| d.as_str())
            .collect(),
        display_name: &site.display_name,
        display_short_name: &profile.short_name,
        incoming: profile.enabled_incoming().map(ServerView::new).collect(),
        outgoing: ServerView::new(&profile.outgoing),
        username: account.address.map_or(EMAIL_PLACEHOLDER, |a| a.as_str()),
        documentation_url: profile.documentation.url.as_str(),
        documentation_text: &profile.documentation.text,
        oauth2: profile.oauth2.as_ref().map(|o| OAuth2View {
            issuer: o.issuer.0.as_str(),
            scope: o.scope(),
            auth_url: o.auth_url.as_str(),
            token_url: o.token_url.as_str(),
        }),
    };
    // Rendering writes into a String; the only failure is a formatter
    // error from a Display impl, and ours cannot fail.
    let mut body = config
        .render()
        .unwrap_or_else(|e| unreachable!("config-v1.1.xml template failed: {e}"));
    body.push('\n');
    Document {
        content_type: media_type::XML,
        body: body.into_bytes(),
    }
}
