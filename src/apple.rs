//! Apple configuration profiles (`.mobileconfig`): one account payload for
//! iPhone/iPad or Mac, built with the `plist` crate's types. A pure function
//! of a site, an address and the options; knows nothing of HTTP or signing
//! (see `signing`).
//!
//! Facts from Apple's device-management schema (iOS 18.1 / macOS 15.1):
//! `com.apple.eas.account` exists on iOS/iPadOS only (its `OAuth` key from
//! iOS 12); the Mac's Exchange payload is `com.apple.ews.account` (`OAuth`
//! from macOS 10.14). Neither carries a password when OAuth is on: the device
//! opens Microsoft's sign-in sheet. `com.apple.mail.managed` (IMAP) has no
//! OAuth at all; it is the documented last resort with an app password.

use std::fmt;
use std::str::FromStr;

use plist::{Dictionary, Value};
use uuid::Uuid;

use crate::clients::{APPLE_APP_ID, Client, EWS_BLOCKED_BY_DEFAULT, EWS_END, Offer};
use crate::date::Date;
use crate::document::{Document, media_type};
use crate::email::EmailAddress;
use crate::profile::{Audience, AuthMethod, MailServer, Protocol};
use crate::resolve::Site;

/// Which account the profile creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileKind {
    /// Exchange with OAuth: the native account type, the default.
    #[default]
    Exchange,
    /// IMAP + SMTP with a password (an app password for Outlook.com): the
    /// fallback for devices or accounts that cannot use OAuth.
    Imap,
}

impl ProfileKind {
    pub const ALLOWED: &'static str = "exchange, imap";

    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::Exchange => "exchange",
            ProfileKind::Imap => "imap",
        }
    }
}

impl FromStr for ProfileKind {
    type Err = UnknownValue;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "exchange" => Ok(ProfileKind::Exchange),
            "imap" => Ok(ProfileKind::Imap),
            _ => Err(UnknownValue {
                parameter: "kind",
                allowed: ProfileKind::ALLOWED,
            }),
        }
    }
}

/// The device family the profile is for: Apple's payload types differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    /// iPhone, iPad, iPod touch (and visionOS).
    #[default]
    Ios,
    Macos,
}

impl Platform {
    pub const ALLOWED: &'static str = "ios, macos";

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "ios",
            Platform::Macos => "macos",
        }
    }

    /// Guesses the platform from a browser's `User-Agent`. iOS user agents
    /// say "like Mac OS X", so the iOS device names are looked for first.
    /// iPadOS Safari in desktop mode (the default on iPad) sends a Mac user
    /// agent and gets the Mac payload: links meant for iPads must carry
    /// `platform=ios` explicitly. Anything unrecognised (no header, curl, a
    /// Windows or Android browser) gets the iOS profile, the common case.
    pub fn from_user_agent(user_agent: Option<&str>) -> Platform {
        let Some(user_agent) = user_agent else {
            return Platform::Ios;
        };
        if ["iPhone", "iPad", "iPod"]
            .iter()
            .any(|device| user_agent.contains(device))
        {
            Platform::Ios
        } else if user_agent.contains("Macintosh") || user_agent.contains("Mac OS X") {
            Platform::Macos
        } else {
            Platform::Ios
        }
    }

    /// The top-level `TargetDeviceType` (1 = iPhone/iPad, 5 = Mac): keeps
    /// a profile from being installed on the wrong kind of device.
    fn target_device_type(self) -> i64 {
        match self {
            Platform::Ios => 1,
            Platform::Macos => 5,
        }
    }
}

impl FromStr for Platform {
    type Err = UnknownValue;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "ios" => Ok(Platform::Ios),
            "macos" => Ok(Platform::Macos),
            _ => Err(UnknownValue {
                parameter: "platform",
                allowed: Platform::ALLOWED,
            }),
        }
    }
}

/// A parameter value that is not one of the allowed ones. The message names
/// the allowed values, never the (unchecked) value given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {parameter}; allowed values: {allowed}")]
pub struct UnknownValue {
    pub parameter: &'static str,
    pub allowed: &'static str,
}

/// What a profile is for besides the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileOptions {
    pub kind: ProfileKind,
    pub platform: Platform,
    /// The day the profile is for: the client table decides whether the
    /// Mac's Exchange (EWS) profile still works.
    pub today: Date,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppleError {
    #[error(
        "kind=imap needs password sign-in, which the {profile} profile does not allow for \
         {protocol} (the provider refuses passwords there); use kind=exchange"
    )]
    PasswordNotAllowed {
        profile: String,
        protocol: &'static str,
    },
    #[error("the {profile} profile has no enabled IMAP or POP3 server")]
    NoIncomingServer { profile: String },
    #[error("cannot write the profile: {0}")]
    Encoding(String),
    /// The profile would add an account that cannot work on that day.
    #[error(
        "no Mac Exchange profile from {ended}: the Mac's Exchange account uses Exchange Web \
         Services (EWS), which Microsoft switched off in Exchange Online on {ended}. On a Mac, \
         use Outlook for Mac, or Thunderbird (it sets the account up with OAuth2 from this \
         server's autoconfig); iPhone and iPad profiles (ActiveSync) still work"
    )]
    Gone { ended: Date },
}

impl AppleError {
    /// True when the request asked for something this domain cannot have,
    /// false for a fault of the server.
    pub fn is_client_error(&self) -> bool {
        !matches!(self, AppleError::Encoding(_))
    }

    /// True when the answer is gone for good (410), not a bad request.
    pub fn is_gone(&self) -> bool {
        matches!(self, AppleError::Gone { .. })
    }
}

/// `MailNumberOfPastDaysToSync`: a month, one of the schema's allowed
/// values (0, 1, 3, 7, 14, 31). A user adding an existing mailbox expects to
/// see more than the device's default week.
const PAST_DAYS_OF_MAIL_TO_SYNC: i64 = 31;

/// The language of the profile's names and description, which the device
/// shows while installing it: the landing page's language, so a French
/// visitor is not asked to install an English profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileLanguage {
    #[default]
    English,
    French,
}

/// Renders the XML `.mobileconfig` for `address` (unsigned), in English.
pub fn render_apple_profile(
    site: &Site,
    address: &EmailAddress,
    options: ProfileOptions,
) -> Result<Document, AppleError> {
    render_apple_profile_in(site, address, options, ProfileLanguage::English)
}

/// Renders the XML `.mobileconfig` for `address` (unsigned), its names and
/// description in `language`.
pub fn render_apple_profile_in(
    site: &Site,
    address: &EmailAddress,
    options: ProfileOptions,
    language: ProfileLanguage,
) -> Result<Document, AppleError> {
    let profile = build_apple_profile_in(site, address, options, language)?;
    let mut body = Vec::new();
    Value::Dictionary(profile)
        .to_writer_xml(&mut body)
        .map_err(|e| AppleError::Encoding(e.to_string()))?;
    Ok(Document {
        content_type: media_type::APPLE_CONFIG,
        body,
    })
}

/// The profile as a plist dictionary, its names and description in
/// `language`.
pub fn build_apple_profile_in(
    site: &Site,
    address: &EmailAddress,
    options: ProfileOptions,
    language: ProfileLanguage,
) -> Result<Dictionary, AppleError> {
    let identifier = profile_identifier(address);
    if options.kind == ProfileKind::Exchange
        && options.platform == Platform::Macos
        && !site
            .profile
            .clients
            .offers(Client::MacMail, Offer::MacEws, options.today)
    {
        // The day the table (with the profile's own dates) ends it.
        let ended = site
            .profile
            .clients
            .row(Client::MacMail, Offer::MacEws)
            .and_then(|row| row.valid_until)
            .unwrap_or(EWS_END);
        return Err(AppleError::Gone { ended });
    }
    let payload = match (options.kind, options.platform) {
        (ProfileKind::Exchange, Platform::Ios) => exchange_activesync_payload(site, address),
        (ProfileKind::Exchange, Platform::Macos) => exchange_web_services_payload(address),
        (ProfileKind::Imap, _) => mail_payload(site, address)?,
    };
    let payload = with_common_keys(payload, &identifier, site, options.kind);

    let mut profile = Dictionary::new();
    profile.insert("PayloadType".into(), "Configuration".into());
    profile.insert("PayloadVersion".into(), 1.into());
    profile.insert("PayloadIdentifier".into(), identifier.as_str().into());
    profile.insert("PayloadUUID".into(), stable_uuid(&identifier).into());
    profile.insert(
        "PayloadDisplayName".into(),
        match language {
            ProfileLanguage::English => format!("{} mail: {address}", site.display_name),
            ProfileLanguage::French => format!("Messagerie {} : {address}", site.display_name),
        }
        .into(),
    );
    profile.insert(
        "PayloadDescription".into(),
        match language {
            ProfileLanguage::English => profile_description(site, address, options),
            ProfileLanguage::French => profile_description_fr(site, address, options),
        }
        .into(),
    );
    if let Some(organization) = &site.organization {
        profile.insert("PayloadOrganization".into(), organization.as_str().into());
    }
    profile.insert("PayloadRemovalDisallowed".into(), false.into());
    profile.insert(
        "TargetDeviceType".into(),
        options.platform.target_device_type().into(),
    );
    profile.insert("PayloadContent".into(), Value::Array(vec![payload.into()]));
    Ok(profile)
}

/// The profile's `PayloadIdentifier`: the mail domain reversed, then
/// `mailsetup`, then the local part. It depends on the address only (not on
/// the request's host, kind or platform), so `mailsetup render` and every
/// server replica agree, and installing a new profile for the same address
/// replaces the old one instead of adding a second account. The local part
/// is lower-cased (Microsoft mailboxes ignore its case) and every character
/// other than a letter, digit or hyphen becomes `_` and its hex code, so the
/// identifier is reverse-DNS shaped and different addresses never collide.
pub fn profile_identifier(address: &EmailAddress) -> String {
    let mut identifier: String = address
        .domain()
        .as_str()
        .rsplit('.')
        .collect::<Vec<_>>()
        .join(".");
    identifier.push_str(".mailsetup.");
    for c in address.local_part().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            identifier.push(c);
        } else {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                identifier.push_str(&format!("_{byte:02X}"));
            }
        }
    }
    identifier
}

/// UUID version 5 (RFC 9562 §5.5) of `identifier` in the DNS namespace,
/// upper-case as Apple writes them: the same identifier always gets the same
/// UUID, which is what makes a re-install a replacement.
pub fn stable_uuid(identifier: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_DNS, identifier.as_bytes())
        .hyphenated()
        .to_string()
        .to_uppercase()
}

/// The file name offered in `Content-Disposition`: only ASCII letters,
/// digits, `@`, `.`, `-`, `+` and `_`, so it can never carry quotes, CR/LF,
/// path separators or anything else that needs quoting in a header.
pub fn profile_file_name(address: &EmailAddress, kind: ProfileKind) -> String {
    let mut name: String = address
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@.-+_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if kind == ProfileKind::Imap {
        name.push_str("-imap");
    }
    name.push_str(".mobileconfig");
    name
}

/// Adds the keys every payload has (Apple's "Common Payload Keys").
fn with_common_keys(
    mut payload: Dictionary,
    profile_identifier: &str,
    site: &Site,
    kind: ProfileKind,
) -> Dictionary {
    let (suffix, display_name) = match kind {
        ProfileKind::Exchange => ("exchange", format!("{} (Exchange)", site.display_name)),
        ProfileKind::Imap => ("imap", format!("{} (IMAP)", site.display_name)),
    };
    let identifier = format!("{profile_identifier}.{suffix}");
    payload.insert("PayloadVersion".into(), 1.into());
    payload.insert("PayloadUUID".into(), stable_uuid(&identifier).into());
    payload.insert("PayloadIdentifier".into(), identifier.into());
    payload.insert("PayloadDisplayName".into(), display_name.into());
    if let Some(organization) = &site.organization {
        payload.insert("PayloadOrganization".into(), organization.as_str().into());
    }
    payload
}

fn profile_description(site: &Site, address: &EmailAddress, options: ProfileOptions) -> String {
    match options.kind {
        ProfileKind::Exchange if options.platform == Platform::Macos => {
            let mut text = format!(
                "Adds {address} ({}) as an Exchange account for Mail, Contacts and Calendars. \
                 You sign in with Microsoft when the account is added; this profile contains no \
                 password. The Mac's Exchange account uses Exchange Web Services (EWS), which \
                 Microsoft switches off on {EWS_END}; from then on use Outlook for Mac or \
                 Thunderbird.",
                site.profile.name
            );
            if site.profile.audience == Audience::Work && options.today >= EWS_BLOCKED_BY_DEFAULT {
                text.push_str(&format!(
                    " Since {EWS_BLOCKED_BY_DEFAULT} Microsoft 365 blocks EWS unless your \
                     administrator allows Apple's app (application ID {APPLE_APP_ID}) for EWS."
                ));
            }
            text
        }
        ProfileKind::Exchange => format!(
            "Adds {address} ({}) as an Exchange account for Mail, Contacts and Calendars. \
             You sign in with Microsoft when the account is added; this profile contains no \
             password.",
            site.profile.name
        ),
        ProfileKind::Imap => format!(
            "Adds {address} ({}) as an IMAP account. The device asks for the password when \
             the profile is installed: use an app password. Prefer the Exchange profile \
             whenever your device can use it.",
            site.profile.name
        ),
    }
}

/// `profile_description` in French.
fn profile_description_fr(site: &Site, address: &EmailAddress, options: ProfileOptions) -> String {
    let name = &site.profile.name;
    match options.kind {
        ProfileKind::Exchange if options.platform == Platform::Macos => {
            let mut text = format!(
                "Ajoute {address} ({name}) comme compte Exchange pour Mail, Contacts et \
                 Calendrier. Vous vous connectez avec Microsoft quand le compte est ajouté ; ce \
                 profil ne contient aucun mot de passe. Le compte Exchange du Mac passe par les \
                 services web Exchange (EWS), que Microsoft coupe le {EWS_END} ; utilisez alors \
                 Outlook pour Mac ou Thunderbird."
            );
            if site.profile.audience == Audience::Work && options.today >= EWS_BLOCKED_BY_DEFAULT {
                text.push_str(&format!(
                    " Depuis le {EWS_BLOCKED_BY_DEFAULT}, Microsoft 365 bloque EWS sauf si votre \
                     administrateur autorise l’application d’Apple (ID d’application \
                     {APPLE_APP_ID}) pour EWS."
                ));
            }
            text
        }
        ProfileKind::Exchange => format!(
            "Ajoute {address} ({name}) comme compte Exchange pour Mail, Contacts et Calendrier. \
             Vous vous connectez avec Microsoft quand le compte est ajouté ; ce profil ne \
             contient aucun mot de passe."
        ),
        ProfileKind::Imap => format!(
            "Ajoute {address} ({name}) comme compte IMAP. L’appareil demande le mot de passe à \
             l’installation du profil : utilisez un mot de passe d’application. Préférez le \
             profil Exchange dès que votre appareil peut l’utiliser."
        ),
    }
}

/// iPhone/iPad: Exchange ActiveSync with OAuth. No `OAuthSignInURL` or
/// `OAuthTokenRequestURL`: the schema says giving them turns auto-discovery
/// off, and Microsoft's sign-in is found by discovery.
fn exchange_activesync_payload(site: &Site, address: &EmailAddress) -> Dictionary {
    let mut payload = Dictionary::new();
    payload.insert("PayloadType".into(), "com.apple.eas.account".into());
    payload.insert("EmailAddress".into(), address.as_str().into());
    payload.insert("UserName".into(), address.as_str().into());
    // Ignored with OAuth and no sign-in URL, but shown in Settings and
    // harmless; `SSL` defaults to false in the schema, so it is written.
    payload.insert(
        "Host".into(),
        site.profile.exchange.activesync_url.host().into(),
    );
    payload.insert("SSL".into(), true.into());
    payload.insert("OAuth".into(), true.into());
    payload.insert(
        "MailNumberOfPastDaysToSync".into(),
        PAST_DAYS_OF_MAIL_TO_SYNC.into(),
    );
    payload
}

/// Mac: Exchange Web Services with OAuth. `Host` is "ignored if using
/// OAuth" and `SSL` defaults to true, so neither is written.
fn exchange_web_services_payload(address: &EmailAddress) -> Dictionary {
    let mut payload = Dictionary::new();
    payload.insert("PayloadType".into(), "com.apple.ews.account".into());
    payload.insert("EmailAddress".into(), address.as_str().into());
    payload.insert("UserName".into(), address.as_str().into());
    payload.insert("OAuth".into(), true.into());
    payload
}

/// IMAP (or POP3 when the profile has no IMAP) and SMTP with a password the
/// device asks for at install: no password is ever written.
fn mail_payload(site: &Site, address: &EmailAddress) -> Result<Dictionary, AppleError> {
    let profile = &site.profile;
    let incoming = profile
        .server(Protocol::Imap)
        .or_else(|| profile.server(Protocol::Pop3))
        .ok_or_else(|| AppleError::NoIncomingServer {
            profile: profile.id.clone(),
        })?;
    let outgoing = &profile.outgoing;
    for server in [incoming, outgoing] {
        if !server.auth_methods().contains(&AuthMethod::Password) {
            return Err(AppleError::PasswordNotAllowed {
                profile: profile.id.clone(),
                protocol: server.protocol.label(),
            });
        }
    }
    let account_type = match incoming.protocol {
        Protocol::Pop3 => "EmailTypePOP",
        _ => "EmailTypeIMAP",
    };
    let mut payload = Dictionary::new();
    payload.insert("PayloadType".into(), "com.apple.mail.managed".into());
    payload.insert("EmailAccountType".into(), account_type.into());
    payload.insert(
        "EmailAccountDescription".into(),
        format!("{} (IMAP)", site.display_name).into(),
    );
    payload.insert("EmailAddress".into(), address.as_str().into());
    insert_server(&mut payload, "Incoming", incoming, address);
    insert_server(&mut payload, "Outgoing", outgoing, address);
    // Prompts once, for both servers (interactive installs only, which is
    // the only way this profile is installed).
    payload.insert("OutgoingPasswordSameAsIncomingPassword".into(), true.into());
    Ok(payload)
}

/// `<direction>MailServer...` keys for one server. The schema has no
/// STARTTLS key: `UseSSL` true on port 587 makes Apple Mail use STARTTLS,
/// and false would allow a plain-text connection.
fn insert_server(
    payload: &mut Dictionary,
    direction: &str,
    server: &MailServer,
    address: &EmailAddress,
) {
    payload.insert(
        format!("{direction}MailServerHostName"),
        server.host.0.as_str().into(),
    );
    payload.insert(
        format!("{direction}MailServerPortNumber"),
        i64::from(server.port.0).into(),
    );
    payload.insert(format!("{direction}MailServerUseSSL"), true.into());
    payload.insert(
        format!("{direction}MailServerAuthentication"),
        "EmailAuthPassword".into(),
    );
    payload.insert(
        format!("{direction}MailServerUsername"),
        address.as_str().into(),
    );
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    #[test]
    fn identifier_is_reversed_domain_and_escaped_local_part() {
        assert_eq!(
            profile_identifier(&address("Alice.Smith@contoso.example")),
            "example.contoso.mailsetup.alice_2Esmith"
        );
        assert_ne!(
            profile_identifier(&address("a+b@contoso.example")),
            profile_identifier(&address("a_b@contoso.example"))
        );
    }

    #[test]
    fn uuid_is_stable_and_differs_per_identifier() {
        assert_eq!(stable_uuid("a.b"), stable_uuid("a.b"));
        assert_ne!(stable_uuid("a.b"), stable_uuid("a.c"));
        // Python: str(uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")).upper()
        assert_eq!(
            stable_uuid("python.org"),
            "886313E1-3B8A-5372-9B90-0C9AEE199E5D"
        );
    }

    #[test]
    fn file_name_keeps_only_safe_characters() {
        let name = profile_file_name(&address("o'neil/x{y}@contoso.example"), ProfileKind::Imap);
        assert_eq!(name, "o_neil_x_y_@contoso.example-imap.mobileconfig");
    }

    #[test]
    fn platform_follows_the_user_agent() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15";
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15";
        assert_eq!(Platform::from_user_agent(Some(iphone)), Platform::Ios);
        assert_eq!(Platform::from_user_agent(Some(mac)), Platform::Macos);
        assert_eq!(Platform::from_user_agent(Some("curl/8.0")), Platform::Ios);
        assert_eq!(Platform::from_user_agent(None), Platform::Ios);
    }
}
