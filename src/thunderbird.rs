//! Thunderbird autoconfig: the `config-v1.1.xml` document ("clientConfig
//! version 1.1", also read by K-9/Thunderbird for Android, Evolution, KMail
//! and others). A pure function of an `Account`; the markup lives in
//! `templates/config-v1.1.xml`.
//!
//! Deliberate differences from Thunderbird's own ISPDB entries are listed in
//! README.md ("Differences from Thunderbird's ISPDB").

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use hashbrown::HashTable;

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
#[derive(Debug)]
pub struct DocumentCache {
    /// One row per profile of the configuration, found by the profile's
    /// address: no lock and no string hash per request. A profile that is
    /// not here (none is) would be rendered whole. (No `Default`: an empty
    /// cache would render every document whole.)
    rows: HashTable<CacheRow>,
}

#[derive(Debug)]
struct CacheRow {
    /// Held so that its address is not reused while the row lives.
    profile: Arc<Profile>,
    /// By `Shape::index`, cut on first use. `None`: the document cannot
    /// be cut (see `Pieces::new`), so it is rendered whole every time.
    shapes: [OnceLock<Option<Pieces>>; Shape::COUNT],
}

/// A profile's address, spread over the hash's bits (addresses are
/// aligned, so their low bits are all zero).
fn address_hash(profile: &Arc<Profile>) -> u64 {
    (Arc::as_ptr(profile) as usize as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

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
    /// A cache for the documents of `profiles` (a configuration's).
    pub fn new<'a>(profiles: impl IntoIterator<Item = &'a Arc<Profile>>) -> DocumentCache {
        let mut rows = HashTable::new();
        for profile in profiles {
            rows.entry(
                address_hash(profile),
                |row: &CacheRow| Arc::ptr_eq(&row.profile, profile),
                |row| address_hash(&row.profile),
            )
            .or_insert_with(|| CacheRow {
                profile: profile.clone(),
                shapes: Default::default(),
            });
        }
        DocumentCache { rows }
    }

    /// Renders `config-v1.1.xml` for an account.
    pub fn render(&self, account: Account<'_>, native: NativeTypes) -> Document {
        let profile = &account.site.profile;
        let shape = Shape::of(account, native);
        let pieces = self
            .rows
            .find(address_hash(profile), |row| {
                Arc::ptr_eq(&row.profile, profile)
            })
            .and_then(|row| {
                row.shapes[shape.index()]
                    .get_or_init(|| Pieces::new(account, shape))
                    .as_ref()
            });
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
    /// The parts' length together.
    parts_len: usize,
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
            .then(|| Pieces {
                parts_len: parts.iter().map(String::len).sum(),
                parts,
                slots,
            })
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
        let length = self.parts_len
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
        let cache = DocumentCache::new(config.profiles.values());
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
        let used: Vec<&CacheRow> = cache
            .rows
            .iter()
            .filter(|row| row.shapes.iter().any(|shape| shape.get().is_some()))
            .collect();
        assert_eq!(used.len(), 2, "{used:?}");
        for row in used {
            let shapes = row.shapes.iter().filter_map(OnceLock::get);
            assert!(shapes.clone().all(Option::is_some), "{:?}", row.shapes);
        }
    }
}
