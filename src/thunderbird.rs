//! Thunderbird autoconfig: the `config-v1.1.xml` document ("clientConfig
//! version 1.1", also read by K-9/Thunderbird for Android, Evolution, KMail
//! and others). A pure function of an `Account`; the markup lives in
//! `templates/config-v1.1.xml`.
//!
//! Deliberate differences from Thunderbird's own ISPDB entries are listed in
//! README.md ("Differences from Thunderbird's ISPDB").

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use askama::Template;

use crate::clients::{Client, Offer};
use crate::date::Date;
use crate::document::{Document, media_type};
use crate::email::DomainName;
use crate::profile::{AuthMethod, MailServer, Profile, Security};
use crate::resolve::{Account, SiteSource};

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

/// Documents cut at their per-account slots, rendered once per profile:
/// within one profile a document depends on the site only through its
/// domain (`id` and, for a table or MX domain, the one `<domain>`), its
/// display name, and whether it is one of the profile's own domains (then
/// `<domain>` lists them all); and on the account only through the
/// username. A request joins the pieces with those values, escaped. So the
/// cache holds a few documents per profile however many domains there
/// are: no eviction, nothing to thrash (a cache per domain had to be
/// cleared past 100,000 domains, and then a million-domain table
/// re-rendered nearly every request). One cache per configuration
/// generation; MX-detected sites use it too. `render_thunderbird_config` is
/// the reference; a test checks both give the same bytes.
#[derive(Debug, Default)]
pub struct DocumentCache {
    /// By profile id, then by `Shape::index`. `None`: the document cannot
    /// be cut (see `Pieces::new`), so it is rendered whole every time.
    /// Looked up with the site's borrowed profile id, so a hit allocates
    /// nothing.
    profiles: RwLock<HashMap<String, [Option<CachedPieces>; Shape::COUNT]>>,
}

/// A document cut into pieces, shared by the requests of one profile.
type CachedPieces = Option<Arc<Pieces>>;

/// What, besides the profile, decides a document's pieces.
#[derive(Debug, Clone, Copy)]
struct Shape {
    native: NativeTypes,
    /// `<domain>` lists the profile's own domains (`SiteSource::Profile`)
    /// rather than the site's domain alone.
    profile_domains: bool,
}

impl Shape {
    const COUNT: usize = NativeTypes::COUNT * 2;

    fn of(account: Account<'_>, native: NativeTypes) -> Shape {
        Shape {
            native,
            profile_domains: account.site.source == SiteSource::Profile,
        }
    }

    fn index(self) -> usize {
        self.native.index() * 2 + usize::from(self.profile_domains)
    }
}

impl DocumentCache {
    /// Renders `config-v1.1.xml` for an account.
    pub fn render(&self, account: Account<'_>, native: NativeTypes) -> Document {
        let profile_id = account.site.profile_id();
        let shape = Shape::of(account, native);
        let cached = self
            .profiles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(profile_id)
            .and_then(|shapes| shapes[shape.index()].clone());
        let pieces = match cached {
            Some(pieces) => pieces,
            None => {
                let pieces = Pieces::new(account, shape).map(Arc::new);
                let mut profiles = self.profiles.write().unwrap_or_else(|e| e.into_inner());
                // Bounded by the configuration's profiles: MX-detected
                // sites all have the microsoft365 profile.
                profiles.entry(profile_id.to_owned()).or_default()[shape.index()] =
                    Some(pieces.clone());
                pieces
            }
        };
        match pieces {
            Some(pieces) => Document {
                content_type: media_type::XML,
                body: pieces.join(account),
            },
            None => render_thunderbird_config(account, native),
        }
    }
}

fn username<'a>(account: Account<'a>) -> &'a str {
    account.address.map_or(EMAIL_PLACEHOLDER, |a| a.as_str())
}

/// The values a document is cut at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Username,
    Domain,
    DisplayName,
}

impl Slot {
    /// What stands for the slot while a document is cut into pieces: text
    /// no escaping changes and no profile carries (`\u{1}` is not even
    /// allowed in XML). When one is found anywhere but in its slots, or
    /// `\u{1}` anywhere else, the document is rendered whole every time.
    const SENTINEL_USERNAME: &str = "\u{1}username\u{1}";
    const SENTINEL_DOMAIN: &str = "\u{1}domain\u{1}";
    const SENTINEL_DISPLAY_NAME: &str = "\u{1}display-name\u{1}";

    fn of_sentinel_name(name: &str) -> Option<Slot> {
        match name {
            "username" => Some(Slot::Username),
            "domain" => Some(Slot::Domain),
            "display-name" => Some(Slot::DisplayName),
            _ => None,
        }
    }
}

/// A document split at its slots: `parts[i]`, then `slots[i]`'s value,
/// ..., then the last part.
#[derive(Debug)]
pub struct Pieces {
    parts: Vec<String>,
    slots: Vec<Slot>,
}

impl Pieces {
    fn new(account: Account<'_>, shape: Shape) -> Option<Pieces> {
        let profile = account.profile();
        let domains = if shape.profile_domains {
            profile.domains().map(DomainName::as_str).collect()
        } else {
            vec![Slot::SENTINEL_DOMAIN]
        };
        let document = render_with(
            account,
            shape.native,
            Fill {
                username: Slot::SENTINEL_USERNAME,
                domain: Slot::SENTINEL_DOMAIN,
                display_name: Slot::SENTINEL_DISPLAY_NAME,
                domains,
            },
        );
        let text = String::from_utf8(document.body).ok()?;
        // Text and sentinel names alternate.
        let mut parts = Vec::new();
        let mut slots = Vec::new();
        for (i, piece) in text.split('\u{1}').enumerate() {
            if i % 2 == 0 {
                parts.push(piece.to_owned());
            } else {
                slots.push(Slot::of_sentinel_name(piece)?);
            }
        }
        if parts.len() != slots.len() + 1 {
            return None;
        }
        // Exactly where the template puts them: one username per server
        // (incoming, Exchange, outgoing), the domain as the provider id
        // (and as the one `<domain>`), the display name once.
        let count = |slot| slots.iter().filter(|s| **s == slot).count();
        let usernames =
            profile.enabled_incoming().count() + exchange_servers(profile, shape.native).len() + 1;
        let domains = 1 + usize::from(!shape.profile_domains);
        (count(Slot::Username) == usernames
            && count(Slot::Domain) == domains
            && count(Slot::DisplayName) == 1)
            .then_some(Pieces { parts, slots })
    }

    fn join(&self, account: Account<'_>) -> Vec<u8> {
        let username = escape(username(account));
        let display_name = escape(&account.site.display_name);
        // Letters, digits, dots and hyphens: nothing to escape.
        let domain = account.site.domain.as_str();
        let value = |slot: Slot| match slot {
            Slot::Username => &*username,
            Slot::Domain => domain,
            Slot::DisplayName => &*display_name,
        };
        let length = self.parts.iter().map(String::len).sum::<usize>()
            + self
                .slots
                .iter()
                .map(|slot| value(*slot).len())
                .sum::<usize>();
        let mut body = String::with_capacity(length);
        for (part, slot) in self.parts.iter().zip(&self.slots) {
            body.push_str(part);
            body.push_str(value(*slot));
        }
        if let Some(last) = self.parts.last() {
            body.push_str(last);
        }
        body.into_bytes()
    }
}

/// The address escaped exactly as the template escapes it (askama's XML
/// escaping: `&` and `'` may occur in a local part). Most values have
/// nothing to escape and are borrowed as they are.
fn escape(value: &str) -> Cow<'_, str> {
    if !value
        .bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'&' | b'"' | b'\''))
    {
        return Cow::Borrowed(value);
    }
    #[derive(Template)]
    #[template(source = "{{ value }}", ext = "xml")]
    struct Escaped<'a> {
        value: &'a str,
    }
    Cow::Owned(
        Escaped { value }
            .render()
            .unwrap_or_else(|e| unreachable!("escaping cannot fail: {e}")),
    )
}

/// Renders the whole template for this account.
pub fn render_thunderbird_config(account: Account<'_>, native: NativeTypes) -> Document {
    let site = account.site;
    render_with(
        account,
        native,
        Fill {
            username: username(account),
            domain: site.domain.as_str(),
            display_name: &site.display_name,
            domains: site
                .config_domains()
                .into_iter()
                .map(DomainName::as_str)
                .collect(),
        },
    )
}

/// The per-account values of a document: the account's own, or the
/// sentinels `Pieces` cuts a document at.
struct Fill<'a> {
    username: &'a str,
    domain: &'a str,
    display_name: &'a str,
    /// The `<domain>` list (`Site::config_domains`).
    domains: Vec<&'a str>,
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

fn render_with(account: Account<'_>, native: NativeTypes, fill: Fill<'_>) -> Document {
    let profile = account.profile();
    let config = ClientConfig {
        provider_id: fill.domain,
        domains: fill.domains,
        display_name: fill.display_name,
        display_short_name: &profile.short_name,
        incoming: profile.enabled_incoming().map(ServerView::new).collect(),
        exchange: exchange_servers(profile, native),
        outgoing: ServerView::new(&profile.outgoing),
        username: fill.username,
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
    use crate::resolve::{Directory, Site};

    /// The borrowed fast path must give what the template's own escaping
    /// gives, for values with and without each character it escapes.
    #[test]
    fn escape_matches_the_templates_escaping() {
        #[derive(Template)]
        #[template(source = "{{ value }}", ext = "xml")]
        struct Escaped<'a> {
            value: &'a str,
        }
        for value in [
            "alice@contoso.example",
            "o'brien@contoso.example",
            "a&b@contoso.example",
            "Fabrikam <Sons>",
            "say \"hi\"",
            "José Müller",
            "",
        ] {
            let expected = Escaped { value }.render().unwrap();
            assert_eq!(escape(value), expected, "{value}");
            assert_eq!(matches!(escape(value), Cow::Borrowed(_)), expected == value);
        }
    }

    #[test]
    fn cached_pieces_give_the_same_bytes_as_the_template() {
        let config = Config::from_source(&crate::source::SourceFile::new(
            std::path::Path::new("m.toml"),
            "[[domain]]\nname = \"contoso.example\"\nprofile = \"microsoft365\"\n\
             display_name = \"O'Brien & <Sons>\"\n\
             [[domain]]\nname = \"fabrikam.example\"\nprofile = \"microsoft365\"\n"
                .into(),
        ))
        .unwrap();
        let directory = Directory::new(&config);
        let cache = DocumentCache::default();
        let mut sites: Vec<Arc<Site>> = [
            "contoso.example",
            "fabrikam.example",
            "hotmail.fr",
            "live.fr",
        ]
        .into_iter()
        .map(|domain| {
            directory
                .resolve(&DomainName::parse(domain).unwrap())
                .unwrap()
        })
        .collect();
        sites.push(Arc::new(Site::new(
            DomainName::parse("mx-detected.example").unwrap(),
            config.profiles["microsoft365"].clone(),
            None,
            None,
            SiteSource::Mx,
        )));
        // Twice: the second round is served from the pieces the first cut,
        // each document from pieces another site of its profile may have cut.
        for _ in 0..2 {
            for site in &sites {
                let domain = site.domain.as_str();
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
                        let account = Account { site, address };
                        for native in [
                            NativeTypes::default(),
                            NativeTypes {
                                graph: true,
                                ews: true,
                            },
                        ] {
                            assert_eq!(
                                String::from_utf8(cache.render(account, native).body).unwrap(),
                                String::from_utf8(render_thunderbird_config(account, native).body)
                                    .unwrap(),
                                "{local}@{domain}"
                            );
                        }
                    }
                }
            }
        }
        // A few documents per profile, whatever the number of domains, and
        // every one of them cut (none rendered whole each time).
        let cached = cache.profiles.read().unwrap();
        assert_eq!(cached.len(), 2, "{:?}", cached.keys());
        for shapes in cached.values() {
            assert!(shapes.iter().flatten().all(Option::is_some), "{shapes:?}");
        }
    }
}
