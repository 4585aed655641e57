//! Thunderbird autoconfig: the `config-v1.1.xml` document ("clientConfig
//! version 1.1", also read by K-9/Thunderbird for Android, Evolution, KMail
//! and others). A pure function of an `Account`; the markup lives in
//! `templates/config-v1.1.xml`.
//!
//! Deliberate differences from Thunderbird's own ISPDB entries are listed in
//! README.md ("Differences from Thunderbird's ISPDB").

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use askama::Template;

use crate::clients::{Client, Offer};
use crate::date::Date;
use crate::document::{Document, media_type};
use crate::email::DomainName;
use crate::profile::{AuthMethod, MailServer, Profile, Security};
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
    /// Native Exchange servers, after IMAP/POP (see `NativeTypes`).
    exchange: Vec<ExchangeView<'a>>,
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

/// An `ews` or `graph` incoming server: Thunderbird takes host and TLS
/// from the URL (readFromXML), in ISPDB's shape (username,
/// authentication, url).
struct ExchangeView<'a> {
    kind: &'static str,
    url: &'a str,
}

/// Which native Exchange types a document offers besides IMAP/SMTP. Only
/// the clients that read them get them (the client table decides, by the
/// client's User-Agent and the day): pimconf and other strict readers
/// reject a whole document with a type they do not know.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct NativeTypes {
    pub graph: bool,
    pub ews: bool,
}

impl NativeTypes {
    /// How many combinations there are, for arrays indexed by `index`.
    const COUNT: usize = 4;

    fn index(self) -> usize {
        usize::from(self.graph) | usize::from(self.ews) << 1
    }

    /// What the client table offers `client` on `today` for this profile
    /// (nothing where the profile has no URL for the type).
    pub fn for_client(profile: &Profile, client: Client, today: Date) -> NativeTypes {
        let table = &profile.clients;
        NativeTypes {
            graph: profile.exchange.graph_url.is_some()
                && table.offers(client, Offer::ThunderbirdGraph, today),
            ews: profile.exchange.ews_url.is_some()
                && table.offers(client, Offer::ThunderbirdEws, today),
        }
    }
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

/// Each site's document cut at its username slots, rendered on a site's
/// first request: the document differs between the accounts of one site
/// only in the username, so a request joins the pieces with its escaped
/// address. One cache per configuration generation; MX-detected sites use
/// it too. `render_thunderbird_config` is the reference; a test checks both give the
/// same bytes.
#[derive(Debug, Default)]
pub struct DocumentCache {
    /// `None`: the site's document cannot be cut (see `Pieces::new`), so
    /// it is rendered whole every time.
    /// By domain, then by `NativeTypes::index`: looked up with the
    /// request's borrowed domain, so a hit allocates nothing.
    sites: RwLock<HashMap<DomainName, [Option<CachedPieces>; NativeTypes::COUNT]>>,
}

/// A document cut into pieces, shared by the requests of one site.
type CachedPieces = Option<Arc<Pieces>>;

/// Most sites kept. Table and profile domains are bounded by the
/// configuration, MX-detected ones by the DNS cache; past this the cache
/// starts again rather than grow without bound.
const MAX_CACHED_SITES: usize = 100_000;

impl DocumentCache {
    /// Renders `config-v1.1.xml` for an account.
    pub fn render(&self, account: Account<'_>, native: NativeTypes) -> Document {
        let domain = &account.site.domain;
        let cached = self
            .sites
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(domain)
            .and_then(|variants| variants[native.index()].clone());
        let pieces = match cached {
            Some(pieces) => pieces,
            None => {
                let pieces = Pieces::new(account, native).map(Arc::new);
                let mut sites = self.sites.write().unwrap_or_else(|e| e.into_inner());
                if sites.len() >= MAX_CACHED_SITES {
                    sites.clear();
                }
                sites.entry(domain.clone()).or_default()[native.index()] = Some(pieces.clone());
                pieces
            }
        };
        match pieces {
            Some(pieces) => Document {
                content_type: media_type::XML,
                body: pieces.join(&escape(username(account))),
            },
            None => render_thunderbird_config(account, native),
        }
    }
}

fn username<'a>(account: Account<'a>) -> &'a str {
    account.address.map_or(EMAIL_PLACEHOLDER, |a| a.as_str())
}

/// A site's document split at its username slots.
#[derive(Debug)]
pub struct Pieces {
    parts: Vec<String>,
}

/// Stands for the username while a site's document is cut into pieces. It
/// holds characters no escaping changes and no profile text carries; when
/// it is found anywhere but in the username slots the site falls back to
/// rendering every request.
const SENTINEL: &str = "\u{1}mailsetup-username\u{1}";

impl Pieces {
    fn new(account: Account<'_>, native: NativeTypes) -> Option<Pieces> {
        let document = render_with_username(account, native, SENTINEL);
        let text = String::from_utf8(document.body).ok()?;
        let parts: Vec<String> = text.split(SENTINEL).map(str::to_owned).collect();
        // One slot per server: the incoming ones, the Exchange ones and the
        // outgoing one.
        let slots = account.profile().enabled_incoming().count()
            + exchange_servers(account.profile(), native).len()
            + 1;
        (parts.len() == slots + 1).then_some(Pieces { parts })
    }

    fn join(&self, username: &str) -> Vec<u8> {
        let length = self.parts.iter().map(String::len).sum::<usize>()
            + username.len() * (self.parts.len() - 1);
        let mut body = String::with_capacity(length);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                body.push_str(username);
            }
            body.push_str(part);
        }
        body.into_bytes()
    }
}

/// The address escaped exactly as the template escapes it (askama's XML
/// escaping: `&` and `'` may occur in a local part).
fn escape(value: &str) -> String {
    #[derive(Template)]
    #[template(source = "{{ value }}", ext = "xml")]
    struct Escaped<'a> {
        value: &'a str,
    }
    Escaped { value }
        .render()
        .unwrap_or_else(|e| unreachable!("escaping cannot fail: {e}"))
}

/// Renders the whole template for this account.
pub fn render_thunderbird_config(account: Account<'_>, native: NativeTypes) -> Document {
    render_with_username(account, native, username(account))
}

/// The Exchange servers `native` asks for, IMAP-first order kept: EWS
/// (while it lives) before Graph, as ISPDB lists them.
fn exchange_servers(profile: &Profile, native: NativeTypes) -> Vec<ExchangeView<'_>> {
    let mut servers = Vec::new();
    if let (true, Some(url)) = (native.ews, &profile.exchange.ews_url) {
        servers.push(ExchangeView {
            kind: "ews",
            url: url.as_str(),
        });
    }
    if let (true, Some(url)) = (native.graph, &profile.exchange.graph_url) {
        servers.push(ExchangeView {
            kind: "graph",
            url: url.as_str(),
        });
    }
    servers
}

fn render_with_username(account: Account<'_>, native: NativeTypes, username: &str) -> Document {
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
        exchange: exchange_servers(profile, native),
        outgoing: ServerView::new(&profile.outgoing),
        username,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::email::EmailAddress;
    use crate::resolve::Directory;

    #[test]
    fn cached_pieces_give_the_same_bytes_as_the_template() {
        let config = Config::load(None).unwrap();
        let directory = Directory::new(&config);
        let cache = DocumentCache::default();
        for domain in ["contoso.example", "hotmail.fr"] {
            let site = directory
                .resolve(&DomainName::parse(domain).unwrap())
                .unwrap();
            for local in [
                "alice",
                "o'brien",
                "tom&jerry",
                "x+tag",
                "zoë",
                "%EMAILADDRESS%x",
            ] {
                let address = EmailAddress::parse(&format!("{local}@{domain}")).unwrap();
                for address in [Some(&address), None] {
                    let account = Account {
                        site: &site,
                        address,
                    };
                    for native in [
                        NativeTypes::default(),
                        NativeTypes {
                            graph: true,
                            ews: true,
                        },
                    ] {
                        assert_eq!(
                            cache.render(account, native),
                            render_thunderbird_config(account, native),
                            "{local}@{domain}"
                        );
                    }
                }
            }
            let cached = cache.sites.read().unwrap().get(&site.domain).cloned();
            let cached =
                cached.and_then(|variants| variants[NativeTypes::default().index()].clone());
            assert!(cached.flatten().is_some(), "{domain} is cached");
        }
    }
}
