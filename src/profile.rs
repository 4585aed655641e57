//! Provider profiles: how to reach one provider's mail service. Owns the
//! profile model, the built-in profiles and the loading of profile files;
//! knows nothing of domains, clients or HTTP.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::clients::{AccountKind, ClientTable, DateChange, TableError, check_change};
use crate::date::Date;
use crate::email::DomainName;
use crate::source::{ConfigError, SourceFile};

/// The profiles compiled into the binary, so it runs with no files at all.
/// `(id, file name, contents)`.
pub const BUILT_IN: &[(&str, &str, &str)] = &[
    (
        "outlook",
        "profiles/outlook.toml",
        include_str!("../profiles/outlook.toml"),
    ),
    (
        "microsoft365",
        "profiles/microsoft365.toml",
        include_str!("../profiles/microsoft365.toml"),
    ),
];

/// One provider's mail service, as read from `profiles/<id>.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The file stem; filled in by the loader, not written in the file.
    #[serde(skip)]
    pub id: String,
    /// SHA-256 of the file's text: two profiles with the same id and
    /// digest are the same profile (a reload keeps a domain table built
    /// with them, see `Config::load_reusing`).
    #[serde(skip)]
    pub source_digest: [u8; 32],
    /// Long name shown to people and in `displayName`.
    pub name: String,
    /// Short name for client account lists (`displayShortName`).
    pub short_name: String,
    /// Whose accounts these are; decides the wording of the landing page and
    /// whether an app password can ever be the answer.
    pub audience: Audience,
    /// Domains that belong to this provider for everyone (Microsoft's
    /// consumer domains). The domain table takes precedence over them.
    #[serde(default)]
    pub domains: Vec<Spanned<HostName>>,
    pub documentation: Documentation,
    /// IMAP and POP3 endpoints, in the order clients should prefer them.
    pub incoming: Vec<MailServer>,
    /// The SMTP submission endpoint.
    pub outgoing: MailServer,
    /// Needed when any server lists `oauth2`.
    pub oauth2: Option<OAuth2>,
    pub exchange: Exchange,
    pub autodiscover: AutodiscoverPolicy,
    /// Dates of the client table this profile moves (`[[offer]]`).
    #[serde(default, rename = "offer")]
    offers: Vec<OfferDates>,
    /// The client table for this profile's audience with its dates
    /// applied; built by `parse`.
    #[serde(skip, default = "empty_table")]
    pub clients: ClientTable,
}

/// `[[offer]]`: a row of the client table whose dates this profile moves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct OfferDates {
    id: Spanned<String>,
    valid_from: Option<Spanned<String>>,
    valid_until: Option<Spanned<String>>,
}

fn empty_table() -> ClientTable {
    ClientTable::new(AccountKind::Work, &[]).unwrap_or_else(|e| unreachable!("{e}"))
}

impl Audience {
    /// The client table's account kind.
    pub fn account_kind(self) -> AccountKind {
        match self {
            Audience::Personal => AccountKind::Personal,
            Audience::Work => AccountKind::Work,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Personal Microsoft accounts (Outlook.com, Hotmail, Live).
    Personal,
    /// Work or school accounts in an organisation's tenant.
    Work,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Documentation {
    pub url: HttpsUrl,
    /// One paragraph for people: what the settings are and any caveat.
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    /// The lower-case name used by Thunderbird's `type` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Imap => "imap",
            Protocol::Pop3 => "pop3",
            Protocol::Smtp => "smtp",
        }
    }

    /// The upper-case name used by Outlook and people.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
            Protocol::Smtp => "SMTP",
        }
    }
}

/// How the connection is secured. Plain-text connections are not offered:
/// no Microsoft endpoint accepts them and no admin should publish them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (ports 993, 995, 465): "SSL/TLS".
    Tls,
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
}

/// Authentication methods that every client this server speaks to can
/// express. Anything else in a profile is refused at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// OAuth2 (SASL XOAUTH2) with the profile's `[oauth2]` provider.
    Oauth2,
    /// A password over the TLS connection (for Outlook.com, an app password).
    Password,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailServer {
    pub protocol: Protocol,
    pub host: HostName,
    pub port: Port,
    pub security: Security,
    /// In order of preference; clients take the first they support.
    pub auth: Spanned<Vec<AuthMethod>>,
    /// A disabled server stays in the file but is left out of documents.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl MailServer {
    pub fn auth_methods(&self) -> &[AuthMethod] {
        self.auth.get_ref()
    }

    pub fn allows_password(&self) -> bool {
        self.auth_methods().contains(&AuthMethod::Password)
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    /// The host name clients use to pick their registered OAuth2 client.
    pub issuer: HostName,
    pub scopes: Vec<String>,
    pub auth_url: HttpsUrl,
    pub token_url: HttpsUrl,
}

impl OAuth2 {
    /// The scopes as one space-separated string (RFC 6749 §3.3).
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// Exchange ActiveSync endpoint, for mobilesync autodiscover and Apple
    /// profiles.
    pub activesync_url: HttpsUrl,
    /// Exchange Web Services, for Thunderbird's `ews` type and autodiscover
    /// v2 `Protocol=EWS` while the client table offers EWS.
    pub ews_url: Option<HttpsUrl>,
    /// Microsoft Graph, for Thunderbird's `graph` type.
    pub graph_url: Option<HttpsUrl>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutodiscoverPolicy {
    pub policy: AutodiscoverAction,
    /// Where `redirect` sends Outlook.
    #[serde(default = "default_redirect_url")]
    pub redirect_url: HttpsUrl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutodiscoverAction {
    /// Answer with the IMAP/POP/SMTP settings.
    Settings,
    /// Send the client to the provider's own autodiscover service.
    Redirect,
}

fn default_redirect_url() -> HttpsUrl {
    HttpsUrl("https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml".into())
}

/// A TCP port, 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Port(pub u16);

impl TryFrom<i64> for Port {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        match u16::try_from(value) {
            Ok(port) if port > 0 => Ok(Port(port)),
            _ => Err(format!("port {value} is out of range (1-65535)")),
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A host name in a profile, validated like a mail domain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HostName(pub DomainName);

impl TryFrom<String> for HostName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DomainName::parse(&value)
            .map(HostName)
            .map_err(|e| format!("{value:?} is not a host name: {e}"))
    }
}

impl fmt::Display for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An absolute `https://` URL with a host, and nothing that would need
/// escaping in a header or break out of an attribute.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HttpsUrl(String);

impl HttpsUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host part: `https://outlook.office365.com/x` → `outlook.office365.com`.
    pub fn host(&self) -> &str {
        let rest = &self.0["https://".len()..];
        let end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
        &rest[..end]
    }
}

impl TryFrom<String> for HttpsUrl {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        let Some(rest) = value.strip_prefix("https://") else {
            return Err(format!("{value:?} must be an https:// URL"));
        };
        if let Some(c) = value
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || "\"'<>\\`{}|^".contains(*c))
        {
            return Err(format!(
                "{value:?} contains {c:?}, which is not allowed in a URL"
            ));
        }
        let host_end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
        DomainName::parse(&rest[..host_end])
            .map_err(|e| format!("{value:?} has no valid host name: {e}"))?;
        Ok(HttpsUrl(value))
    }
}

impl fmt::Display for HttpsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Profiles by id.
pub type Profiles = BTreeMap<String, std::sync::Arc<Profile>>;

impl Profile {
    /// Parses and validates one profile file. `id` comes from the file name.
    pub fn parse(id: &str, source: &SourceFile) -> Result<Profile, ConfigError> {
        if !is_valid_id(id) {
            return Err(source.error_at(
                None,
                format!(
                    "profile file name {id:?} is not a valid profile id \
                     (lower-case letters, digits and hyphens, e.g. `microsoft365.toml`)"
                ),
            ));
        }
        let mut profile: Profile = source.deserialize()?;
        profile.id = id.to_owned();
        profile.source_digest = source.digest();
        profile.validate(source)?;
        profile.clients = profile.client_table(source)?;
        Ok(profile)
    }

    /// The client table with this profile's `[[offer]]` dates; a date that
    /// is not a day, runs backwards, names no row or moves EWS past its end
    /// is refused at its line.
    fn client_table(&self, source: &SourceFile) -> Result<ClientTable, ConfigError> {
        let mut changes = Vec::new();
        for (index, offer) in self.offers.iter().enumerate() {
            let date = |value: &Option<Spanned<String>>| {
                value
                    .as_ref()
                    .map(|text| {
                        text.get_ref()
                            .parse::<Date>()
                            .map_err(|e| source.error_at(Some(text.span()), e.to_string()))
                    })
                    .transpose()
            };
            if self.offers[..index]
                .iter()
                .any(|earlier| earlier.id.get_ref() == offer.id.get_ref())
            {
                return Err(source.error_at(
                    Some(offer.id.span()),
                    format!(
                        "[[offer]] {:?} is listed twice: its dates would overlap",
                        offer.id.get_ref()
                    ),
                ));
            }
            let change = DateChange {
                id: offer.id.get_ref().clone(),
                valid_from: date(&offer.valid_from)?,
                valid_until: date(&offer.valid_until)?,
            };
            check_change(&change, self.audience.account_kind()).map_err(|e| {
                let span = match e {
                    TableError::UnknownRow { .. } => offer.id.span(),
                    _ => offer
                        .valid_until
                        .as_ref()
                        .or(offer.valid_from.as_ref())
                        .map_or(offer.id.span(), |s| s.span()),
                };
                source.error_at(Some(span), format!("[[offer]]: {e}"))
            })?;
            changes.push(change);
        }
        ClientTable::new(self.audience.account_kind(), &changes)
            .map_err(|e| source.error_at(None, e.to_string()))
    }

    /// The checks that span several fields; types already did the rest.
    fn validate(&self, source: &SourceFile) -> Result<(), ConfigError> {
        if self.incoming.is_empty() {
            return Err(source.error_at(None, "profile has no [[incoming]] server".into()));
        }
        for server in &self.incoming {
            if server.protocol == Protocol::Smtp {
                return Err(source.error_at(
                    Some(server.auth.span()),
                    "an [[incoming]] server must be imap or pop3, not smtp".into(),
                ));
            }
        }
        if !self.incoming.iter().any(|s| s.enabled) {
            return Err(source.error_at(None, "every [[incoming]] server is disabled".into()));
        }
        if self.outgoing.protocol != Protocol::Smtp {
            return Err(source.error_at(
                Some(self.outgoing.auth.span()),
                "the [outgoing] server must be smtp".into(),
            ));
        }
        for server in self.incoming.iter().chain([&self.outgoing]) {
            let methods = server.auth_methods();
            let span = Some(server.auth.span());
            if methods.is_empty() {
                return Err(source.error_at(span, "auth must list at least one method".into()));
            }
            if methods.len() == 2 && methods[0] == methods[1] {
                return Err(source.error_at(span, "auth lists a method twice".into()));
            }
            if methods.contains(&AuthMethod::Oauth2) && self.oauth2.is_none() {
                return Err(source.error_at(
                    span,
                    "auth lists oauth2 but the profile has no [oauth2] section".into(),
                ));
            }
        }
        if let Some(oauth2) = &self.oauth2
            && oauth2.scopes.is_empty()
        {
            return Err(source.error_at(None, "[oauth2] scopes is empty".into()));
        }
        Ok(())
    }

    /// The enabled incoming servers, in order of preference.
    pub fn enabled_incoming(&self) -> impl Iterator<Item = &MailServer> {
        self.incoming.iter().filter(|s| s.enabled)
    }

    /// The enabled server of one protocol, if any.
    pub fn server(&self, protocol: Protocol) -> Option<&MailServer> {
        self.enabled_incoming()
            .chain([&self.outgoing])
            .find(|s| s.protocol == protocol)
    }

    pub fn domains(&self) -> impl Iterator<Item = &DomainName> {
        self.domains.iter().map(|d| &d.get_ref().0)
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// How many profiles a configuration may have: the domain table gives
/// each domain's profile in two bytes (`domain_table::ProfileIndex`).
pub const MAX_PROFILES: usize = 1 << 16;

/// Loads the built-in profiles, then every `*.toml` in `dir` (if given),
/// which override built-ins of the same id or add new ones.
pub fn load_profiles(dir: Option<&Path>) -> Result<Profiles, ConfigError> {
    let mut profiles = Profiles::new();
    for (id, name, text) in BUILT_IN {
        let source = SourceFile::new(Path::new(name), (*text).to_owned());
        profiles.insert((*id).to_owned(), Profile::parse(id, &source)?.into());
    }
    let Some(dir) = dir else {
        return Ok(profiles);
    };
    let entries = std::fs::read_dir(dir).map_err(|e| ConfigError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| ConfigError::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    check_profile_count(dir, &paths, MAX_PROFILES)?;
    let mut sources = BTreeMap::new();
    for path in paths {
        let source = SourceFile::read(&path)?;
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let profile = Profile::parse(&id, &source)?;
        profiles.insert(id.clone(), profile.into());
        sources.insert(id, source);
    }
    check_domains_claimed_once(&profiles, &sources)?;
    Ok(profiles)
}

/// Refuses more than `limit` profiles (the built-in ones and the files in
/// `dir`, an override counted once) before any file is read, rather than
/// reporting domains of a profile past the limit as naming an unknown one.
fn check_profile_count(dir: &Path, paths: &[PathBuf], limit: usize) -> Result<(), ConfigError> {
    let count = BUILT_IN.len()
        + paths
            .iter()
            .filter(|path| {
                let stem = path.file_stem().and_then(|s| s.to_str());
                !BUILT_IN.iter().any(|(id, ..)| Some(*id) == stem)
            })
            .count();
    if count <= limit {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        path: dir.to_owned(),
        line: None,
        column: None,
        reason: format!(
            "{count} profiles (the built-in ones and this directory's .toml files); \
             mailsetup takes at most {limit}"
        ),
    })
}

/// A domain listed by two profiles would go to whichever was loaded last:
/// refuse it, naming both (a copied `outlook.toml` keeps its domain list).
fn check_domains_claimed_once(
    profiles: &Profiles,
    sources: &BTreeMap<String, SourceFile>,
) -> Result<(), ConfigError> {
    let mut owner: BTreeMap<&DomainName, &str> = BTreeMap::new();
    for (id, profile) in profiles {
        for domain in &profile.domains {
            let name = &domain.get_ref().0;
            if let Some(first) = owner.insert(name, id) {
                let reason = format!(
                    "domain {name} is already listed by profile {first:?}; \
                     a domain can belong to one profile only"
                );
                return Err(match sources.get(id) {
                    Some(source) => source.error_at(Some(domain.span()), reason),
                    None => ConfigError::Invalid {
                        path: format!("profiles/{id}.toml").into(),
                        line: None,
                        column: None,
                        reason,
                    },
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One more profile than the limit is refused with the directory, the
    /// count and the limit; an override of a built-in profile is not one
    /// more. (With a small limit: the real one would need 65,535 files.)
    #[test]
    fn too_many_profiles_are_refused_with_the_count() {
        let dir = Path::new("/etc/mailsetup/profiles");
        let mut paths: Vec<PathBuf> = (0..3).map(|n| dir.join(format!("p{n}.toml"))).collect();
        paths.push(dir.join(format!("{}.toml", BUILT_IN[0].0)));
        let limit = BUILT_IN.len() + 3;
        assert!(check_profile_count(dir, &paths, limit).is_ok());
        paths.push(dir.join("one-more.toml"));
        let error = check_profile_count(dir, &paths, limit)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "/etc/mailsetup/profiles: {} profiles (the built-in ones and this directory's \
                 .toml files); mailsetup takes at most {limit}",
                limit + 1
            )
        );
        assert!(MAX_PROFILES <= usize::from(u16::MAX) + 1);
    }

    fn parse(text: &str) -> Result<Profile, ConfigError> {
        Profile::parse(
            "test",
            &SourceFile::new(Path::new("test.toml"), text.into()),
        )
    }

    fn built_in(id: &str) -> String {
        BUILT_IN.iter().find(|p| p.0 == id).unwrap().2.to_owned()
    }

    #[test]
    fn built_in_profiles_load_with_the_reference_hosts() {
        let profiles = load_profiles(None).unwrap();
        let outlook = &profiles["outlook"];
        let imap = outlook.server(Protocol::Imap).unwrap();
        assert_eq!(
            (imap.host.to_string(), imap.port.0),
            ("imap-mail.outlook.com".into(), 993)
        );
        // Outlook.com refuses passwords and app passwords since 2024-09-16.
        for server in outlook.incoming.iter().chain([&outlook.outgoing]) {
            assert_eq!(server.auth_methods(), [AuthMethod::Oauth2], "{server:?}");
        }
        let m365 = &profiles["microsoft365"];
        let smtp = m365.server(Protocol::Smtp).unwrap();
        assert_eq!(
            (smtp.host.to_string(), smtp.port.0),
            ("smtp.office365.com".into(), 587)
        );
        assert_eq!(smtp.security, Security::Starttls);
        assert_eq!(smtp.auth_methods(), [AuthMethod::Oauth2]);
    }

    #[test]
    fn offer_dates_move_a_row_of_the_client_table() {
        let text = built_in("microsoft365")
            + "\n[[offer]]\nid = \"thunderbird-ews\"\nvalid_until = \"2027-04-01\"\n";
        let profile = parse(&text).unwrap();
        let row = profile
            .clients
            .rows()
            .iter()
            .find(|row| row.id == "thunderbird-ews")
            .unwrap();
        assert_eq!(row.valid_until.unwrap().to_string(), "2027-04-01");
    }

    #[test]
    fn bad_offer_dates_are_refused_at_their_line_and_column() {
        let base = built_in("microsoft365");
        // (the [[offer]] lines, the key the error points at, its column, reason)
        for (offer, key, column, reason) in [
            (
                "id = \"thunderbird-graph\"\nvalid_from = \"2027-01-01\"\nvalid_until = \"2026-01-01\"",
                "valid_until",
                15,
                "run backwards",
            ),
            (
                "id = \"thunderbird-ews\"\nvalid_until = \"2027-05-01\"",
                "valid_until",
                15,
                "cannot run past 2027-04-01",
            ),
            (
                "id = \"thunderbird-graph\"\nvalid_until = \"2026-13-40\"",
                "valid_until",
                15,
                "the month must be 01 to 12",
            ),
            (
                "id = \"thunderbird-owa\"",
                "id",
                6,
                "unknown client table row",
            ),
        ] {
            let text = format!("{base}\n[[offer]]\n{offer}\n");
            let line = text
                .lines()
                .collect::<Vec<_>>()
                .iter()
                .rposition(|l| l.starts_with(&format!("{key} =")))
                .unwrap()
                + 1;
            let error = parse(&text).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("test.toml:{line}:{column}:")),
                "{offer}: {error}"
            );
            assert!(error.contains(reason), "{offer}: {error}");
        }
        let twice = format!(
            "{base}\n[[offer]]\nid = \"thunderbird-graph\"\n[[offer]]\nid = \"thunderbird-graph\"\n"
        );
        let error = parse(&twice).unwrap_err().to_string();
        assert!(error.contains("listed twice"), "{error}");
    }

    #[test]
    fn unknown_key_is_refused_with_its_line() {
        let text = built_in("outlook").replace("short_name =", "shortname =");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("test.toml:10:1"), "{err}");
        assert!(err.contains("unknown field `shortname`"), "{err}");
    }

    #[test]
    fn port_out_of_range_is_refused_with_its_line() {
        let text = built_in("microsoft365").replacen("port = 993", "port = 99300", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("port 99300 is out of range"), "{err}");
        assert!(err.contains("test.toml:23:8"), "{err}");
    }

    #[test]
    fn auth_method_clients_cannot_express_is_refused() {
        let text = built_in("microsoft365").replacen("auth = [\"oauth2\"]", "auth = [\"ntlm\"]", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("unknown variant `ntlm`"), "{err}");
    }

    #[test]
    fn missing_host_is_refused() {
        let text = built_in("microsoft365").replacen("host = \"outlook.office365.com\"\n", "", 1);
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("missing field `host`"), "{err}");
    }
}
