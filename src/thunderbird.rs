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
    /// Shared with the bodies being sent, which may outlive a reload.
    shapes: [OnceLock<Option<Arc<Pieces>>>; Shape::COUNT],
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

    /// `config-v1.1.xml` for an account, as the pieces of its profile's
    /// document and this account's values (see `CutDocument`).
    pub fn render(&self, account: Account<'_>, native: NativeTypes) -> CutDocument {
        let profile = &account.site.profile;
        let shape = Shape::of(account, native);
        let pieces = self
            .rows
            .find(address_hash(profile), |row| {
                Arc::ptr_eq(&row.profile, profile)
            })
            .and_then(|row| {
                row.shapes[shape.index()]
                    .get_or_init(|| Pieces::new(account, shape).map(Arc::new))
                    .as_ref()
            });
        match pieces {
            Some(pieces) => CutDocument::new(pieces.clone(), account),
            None => CutDocument::whole(render_thunderbird_config(account, native).body),
        }
    }
}

fn username<'a>(account: Account<'a>) -> &'a str {
    account.address.map_or(EMAIL_PLACEHOLDER, |a| a.as_str())
}

/// The values a document is cut at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    // In the order of `CutDocument::values`.
    Username = 0,
    Domain = 1,
    DisplayName = 2,
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
    /// How often each slot occurs, by `Slot as usize`.
    slot_counts: [usize; 3],
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
        let slot_counts = [Slot::Username, Slot::Domain, Slot::DisplayName]
            .map(|slot| slots.iter().filter(|s| **s == slot).count());
        let usernames =
            profile.enabled_incoming().count() + exchange_servers(profile, shape.native).len() + 1;
        let domains = 1 + usize::from(!shape.profile_domains);
        (slot_counts == [usernames, domains, 1]).then(|| Pieces {
            parts_len: parts.iter().map(String::len).sum(),
            slot_counts,
            parts,
            slots,
        })
    }
}

/// A Thunderbird document as it is sent: its profile's pieces, shared, and
/// this account's values (escaped) between them, never joined into one
/// buffer. As a `Buf` it hands the socket every chunk at once
/// (`chunks_vectored`: one `writev`, the headers' chunk first), so a
/// request neither allocates nor copies the 2 KB document, only its
/// values; TLS and HTTP/2 copy it into their own records and frames
/// anyway.
#[derive(Debug)]
pub struct CutDocument {
    pieces: Arc<Pieces>,
    /// The escaped username, domain and display name, one after another.
    values: String,
    /// Where each of those values ends in `values`.
    ends: [usize; 3],
    /// The chunk being sent (parts at even indexes, values between them)
    /// and how much of it is sent.
    chunk: usize,
    offset: usize,
    remaining: usize,
}

impl CutDocument {
    fn new(pieces: Arc<Pieces>, account: Account<'_>) -> CutDocument {
        let username = escape(username(account));
        // Letters, digits, dots and hyphens: nothing to escape.
        let domain = account.site.domain.as_str();
        let display_name = escape(&account.site.display_name);
        let mut values = String::with_capacity(username.len() + domain.len() + display_name.len());
        let mut ends = [0; 3];
        for (end, value) in ends.iter_mut().zip([&*username, domain, &*display_name]) {
            values.push_str(value);
            *end = values.len();
        }
        CutDocument::with_values(pieces, values, ends)
    }

    /// A document that could not be cut, as one chunk.
    fn whole(body: Vec<u8>) -> CutDocument {
        let text = String::from_utf8(body)
            .unwrap_or_else(|e| unreachable!("the template renders UTF-8: {e}"));
        let pieces = Pieces {
            parts_len: text.len(),
            parts: vec![text],
            slots: Vec::new(),
            slot_counts: [0; 3],
        };
        CutDocument::with_values(Arc::new(pieces), String::new(), [0; 3])
    }

    fn with_values(pieces: Arc<Pieces>, values: String, ends: [usize; 3]) -> CutDocument {
        let mut start = 0;
        let mut remaining = pieces.parts_len;
        for (count, end) in pieces.slot_counts.iter().zip(ends) {
            remaining += count * (end - start);
            start = end;
        }
        CutDocument {
            pieces,
            values,
            ends,
            chunk: 0,
            offset: 0,
            remaining,
        }
    }

    fn chunk_count(&self) -> usize {
        self.pieces.parts.len() * 2 - 1
    }

    /// Chunk `index`: a part, or the value of the slot after part `index / 2`.
    fn chunk_at(&self, index: usize) -> &[u8] {
        if index % 2 == 0 {
            return self.pieces.parts[index / 2].as_bytes();
        }
        let value = self.pieces.slots[index / 2] as usize;
        let start = value.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.values.as_bytes()[start..self.ends[value]]
    }

    /// The whole document, joined (for compression and tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.remaining);
        let mut rest = CutDocumentChunks {
            document: self,
            chunk: self.chunk,
            offset: self.offset,
        };
        while let Some(chunk) = rest.next() {
            body.extend_from_slice(chunk);
        }
        body
    }
}

/// The unsent chunks of a document, from a position, empty ones skipped.
struct CutDocumentChunks<'a> {
    document: &'a CutDocument,
    chunk: usize,
    offset: usize,
}

impl<'a> Iterator for CutDocumentChunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.chunk < self.document.chunk_count() {
            let chunk = &self.document.chunk_at(self.chunk)[self.offset..];
            self.chunk += 1;
            self.offset = 0;
            if !chunk.is_empty() {
                return Some(chunk);
            }
        }
        None
    }
}

impl bytes::Buf for CutDocument {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        CutDocumentChunks {
            document: self,
            chunk: self.chunk,
            offset: self.offset,
        }
        .next()
        .unwrap_or_default()
    }

    fn advance(&mut self, mut count: usize) {
        assert!(
            count <= self.remaining,
            "advanced past the end of a document"
        );
        self.remaining -= count;
        if self.remaining == 0 {
            // All of it, as a socket that takes the whole write does.
            self.chunk = self.chunk_count();
            self.offset = 0;
            return;
        }
        while count > 0 {
            let left = self.chunk_at(self.chunk).len() - self.offset;
            if count < left {
                self.offset += count;
                return;
            }
            count -= left;
            self.chunk += 1;
            self.offset = 0;
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        if self.chunk != 0 || self.offset != 0 {
            // The rest of a partial write.
            let chunks = CutDocumentChunks {
                document: self,
                chunk: self.chunk,
                offset: self.offset,
            };
            let mut filled = 0;
            for (slot, chunk) in dst.iter_mut().zip(chunks) {
                *slot = std::io::IoSlice::new(chunk);
                filled += 1;
            }
            return filled;
        }
        // The first write, nearly always the only one: parts and values
        // in turn, without working out each chunk's place.
        let values = self.values.as_bytes();
        let [username, domain, display_name] = self.ends;
        let values = [
            &values[..username],
            &values[username..domain],
            &values[domain..display_name],
        ];
        let mut filled = 0;
        // Adds a chunk; false when `dst` is full.
        let mut push = |chunk: &'a [u8]| {
            if chunk.is_empty() {
                return true;
            }
            let Some(slot) = dst.get_mut(filled) else {
                return false;
            };
            *slot = std::io::IoSlice::new(chunk);
            filled += 1;
            true
        };
        let pieces = &*self.pieces;
        let _ = pieces
            .parts
            .iter()
            .zip(&pieces.slots)
            .all(|(part, slot)| push(part.as_bytes()) && push(values[*slot as usize]))
            && pieces.parts.last().is_none_or(|last| push(last.as_bytes()));
        filled
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
                                String::from_utf8(cache.render(account, native).to_vec()).unwrap(),
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

    /// What a socket gets from a document written in parts of any size:
    /// every split point, through `chunk` and through `chunks_vectored`
    /// with room for a few slices at a time, gives the joined bytes.
    #[test]
    fn a_cut_document_is_sent_whole_however_it_is_split() {
        use bytes::Buf;
        let config = Config::from_source(&crate::source::SourceFile::new(
            std::path::Path::new("m.toml"),
            "[[domain]]\nname = \"contoso.example\"\nprofile = \"microsoft365\"\n\
             display_name = \"O'Brien & <Sons>\"\n"
                .into(),
        ))
        .unwrap();
        let site = Directory::new(&config)
            .resolve(&DomainName::parse("contoso.example").unwrap())
            .unwrap();
        let address = EmailAddress::parse("tom&jerry@contoso.example").unwrap();
        let account = Account {
            site: &site,
            address: Some(&address),
        };
        let cache = DocumentCache::new(config.profiles.values());
        let native = NativeTypes::default();
        let expected = render_thunderbird_config(account, native).body;
        let fresh = || cache.render(account, native);
        assert!(
            fresh().pieces.slots.len() >= 5,
            "{:?}",
            fresh().pieces.slots
        );
        assert_eq!(fresh().remaining(), expected.len());
        assert_eq!(fresh().to_vec(), expected);
        // A document that could not be cut is one chunk.
        let whole = CutDocument::whole(expected.clone());
        assert_eq!(whole.chunk(), &expected[..]);
        for split in 0..=expected.len() {
            let mut document = fresh();
            document.advance(split);
            assert_eq!(document.remaining(), expected.len() - split);
            assert_eq!(document.to_vec(), &expected[split..], "after {split}");
            // As hyper writes: up to `room` slices per write, then advance
            // by what the socket took (here, all but a byte when it can).
            for room in [1, 3, 64] {
                let mut document = fresh();
                document.advance(split);
                let mut sent = Vec::new();
                while document.has_remaining() {
                    let mut slices = vec![std::io::IoSlice::new(&[]); room];
                    let filled = document.chunks_vectored(&mut slices);
                    assert!(filled >= 1 && filled <= room);
                    assert!(slices[..filled].iter().all(|slice| !slice.is_empty()));
                    let offered: Vec<u8> = slices[..filled]
                        .iter()
                        .flat_map(|s| s.iter().copied())
                        .collect();
                    assert!(offered.starts_with(document.chunk()));
                    let taken = offered.len().saturating_sub(1).max(1);
                    sent.extend_from_slice(&offered[..taken]);
                    document.advance(taken);
                }
                assert_eq!(sent, &expected[split..], "after {split}, room {room}");
                assert!(document.chunk().is_empty());
            }
        }
    }
}
