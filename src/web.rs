//! The landing page for people: an address form, the account type, the
//! steps for the visitor's app, the three-question decision about app
//! passwords, the manual settings table and the QR code. A pure function of
//! typed input (`LandingPage`) returning a `Document`; the markup lives in
//! `templates/landing.html`, the words in `web/i18n/`. Knows nothing of
//! HTTP: the router parses the request, picks the status and adds headers.

mod i18n;

use askama::Template;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::document::{Document, media_type};
use crate::email::{AddressError, EmailAddress};
use crate::profile::{Audience, AuthMethod, MailServer, Profile, Security};
use crate::resolve::{Site, SiteSource};

pub use i18n::{AppText, Lang, Strings};

/// Where the stylesheet is served; the page links to it (the CSP allows
/// styles from this origin only, no inline styles).
pub const STYLESHEET_PATH: &str = "/static/mailsetup.css";
const STYLESHEET: &str = include_str!("../static/mailsetup.css");

/// The apps the page has steps for. The order is the order of the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppId {
    OutlookMobile,
    GmailAndroid,
    IosMail,
    MacosMail,
    Thunderbird,
    OutlookNew,
    OutlookClassic,
    /// Outlook 2010/2013, Windows Live Mail, SMTP-only printers and scanners.
    Legacy,
}

impl AppId {
    pub const ALL: [AppId; 8] = [
        AppId::OutlookMobile,
        AppId::GmailAndroid,
        AppId::IosMail,
        AppId::MacosMail,
        AppId::Thunderbird,
        AppId::OutlookNew,
        AppId::OutlookClassic,
        AppId::Legacy,
    ];

    /// The value of `?app=` and the section's `id`.
    pub fn id(self) -> &'static str {
        match self {
            AppId::OutlookMobile => "outlook-mobile",
            AppId::GmailAndroid => "gmail-android",
            AppId::IosMail => "ios-mail",
            AppId::MacosMail => "macos-mail",
            AppId::Thunderbird => "thunderbird",
            AppId::OutlookNew => "outlook-new",
            AppId::OutlookClassic => "outlook-classic",
            AppId::Legacy => "legacy",
        }
    }

    pub fn from_id(id: &str) -> Option<AppId> {
        AppId::ALL.into_iter().find(|app| app.id() == id)
    }

    /// The app a visitor most likely wants, from the browser's
    /// `User-Agent`: the device's own mail app where it can sign in with
    /// Microsoft (iPhone/iPad, Mac), Gmail on Android (its default mail
    /// app), the new Outlook on Windows, Thunderbird for Thunderbird and
    /// Linux desktops; Outlook mobile otherwise.
    pub fn from_user_agent(user_agent: &str) -> AppId {
        let has = |needle: &str| user_agent.contains(needle);
        if has("Thunderbird/") {
            AppId::Thunderbird
        } else if has("iPhone") || has("iPad") || has("iPod") {
            AppId::IosMail
        } else if has("Android") {
            AppId::GmailAndroid
        } else if has("Macintosh") || has("Mac OS X") {
            AppId::MacosMail
        } else if has("Windows") {
            AppId::OutlookNew
        } else if has("Linux") || has("X11") || has("BSD") {
            AppId::Thunderbird
        } else {
            AppId::OutlookMobile
        }
    }

    /// Apps that cannot show the Microsoft sign-in window.
    pub fn is_legacy(self) -> bool {
        self == AppId::Legacy
    }

    fn text(self, strings: &'static Strings) -> &'static AppText {
        let apps = &strings.apps;
        match self {
            AppId::OutlookMobile => &apps.outlook_mobile,
            AppId::GmailAndroid => &apps.gmail_android,
            AppId::IosMail => &apps.ios_mail,
            AppId::MacosMail => &apps.macos_mail,
            AppId::Thunderbird => &apps.thunderbird,
            AppId::OutlookNew => &apps.outlook_new,
            AppId::OutlookClassic => &apps.outlook_classic,
            AppId::Legacy => &apps.legacy,
        }
    }

    /// The Apple platform whose configuration profile this app installs.
    fn apple_platform(self) -> Option<&'static str> {
        match self {
            AppId::IosMail => Some("ios"),
            AppId::MacosMail => Some("macos"),
            _ => None,
        }
    }
}

/// What the visitor asked about.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// No address yet: the form alone.
    Form,
    /// The form was submitted with something that is not an address. `typed`
    /// is put back into the form (escaped) so it can be corrected.
    Invalid { typed: &'a str, error: InputError },
    /// A valid address whose domain this server does not serve.
    UnknownDomain { address: &'a EmailAddress },
    Found {
        address: &'a EmailAddress,
        site: &'a Site,
    },
}

/// Why the submitted address could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    Address(AddressError),
    /// `email` appears more than once in the query.
    Repeated,
    /// The query does not percent-decode to UTF-8.
    Encoding,
}

/// Everything the page depends on.
#[derive(Debug)]
pub struct LandingPage<'a> {
    pub lookup: Lookup<'a>,
    pub lang: Lang,
    /// The visitor chose the language (`?lang=`): links and the QR code
    /// keep it. Otherwise it came from `Accept-Language` and each device
    /// gets its own.
    pub lang_chosen: bool,
    pub app: AppId,
    /// The visitor chose the app (`?app=`): links and the QR code keep it.
    /// Otherwise it came from the `User-Agent`, and the phone that scans
    /// the QR code picks its own.
    pub app_chosen: bool,
    /// `scheme://host[:port]` of this server as the visitor reached it
    /// (the router parses and normalises the host); without it there is
    /// no QR code.
    pub origin: Option<String>,
}

/// Renders the page.
pub fn render_landing_page(page: &LandingPage<'_>) -> Document {
    let t = page.lang.strings();
    let typed: Option<&str> = match &page.lookup {
        Lookup::Form => None,
        Lookup::Invalid { typed, .. } => Some(typed),
        Lookup::UnknownDomain { address } | Lookup::Found { address, .. } => Some(address.as_str()),
    };
    let links = Links {
        email: typed,
        app: page.app_chosen.then_some(page.app),
        lang: page.lang_chosen.then_some(page.lang),
    };
    let error = match &page.lookup {
        Lookup::Invalid { error, .. } => Some(match error {
            InputError::Address(error) => t
                .invalid_address
                .replace("{reason}", &t.errors.reason(error)),
            InputError::Repeated => t.repeated_parameter.to_owned(),
            InputError::Encoding => t.bad_encoding.to_owned(),
        }),
        Lookup::UnknownDomain { address } => Some(
            t.unknown_domain
                .replace("{domain}", &address.domain().to_unicode()),
        ),
        _ => None,
    };
    let languages = Lang::ALL
        .into_iter()
        .map(|lang| Choice {
            label: lang.strings().name,
            code: lang.code(),
            href: Links {
                lang: Some(lang),
                ..links
            }
            .href(""),
            current: lang == page.lang,
        })
        .collect();
    let result = match &page.lookup {
        Lookup::Found { address, site } => Some(ResultView::new(page, t, address, site, links)),
        _ => None,
    };
    let template = LandingTemplate {
        t,
        stylesheet: STYLESHEET_PATH,
        languages,
        form: FormView {
            // Whatever was typed, even hostile, goes back in escaped; it
            // is cut so a huge query does not make a huge page.
            value: typed
                .map(|v| v.chars().take(320).collect())
                .unwrap_or_default(),
            error,
            lang: page.lang_chosen.then(|| page.lang.code()),
            app: page.app_chosen.then(|| page.app.id()),
        },
        result,
    };
    let body = template
        .render()
        .unwrap_or_else(|e| unreachable!("landing.html template failed: {e}"));
    Document {
        content_type: media_type::HTML,
        body: body.into_bytes(),
    }
}

/// The stylesheet, served from the binary.
pub fn stylesheet() -> Document {
    Document {
        content_type: media_type::CSS,
        body: STYLESHEET.as_bytes().to_vec(),
    }
}

/// Query components: everything but unreserved characters and `@` is
/// encoded, so `+` survives form decoding as itself.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// The state links on the page carry over.
#[derive(Debug, Clone, Copy)]
struct Links<'a> {
    email: Option<&'a str>,
    app: Option<AppId>,
    lang: Option<Lang>,
}

impl Links<'_> {
    /// `/?email=...&app=...&lang=...` then `fragment`.
    fn href(&self, fragment: &str) -> String {
        let mut pairs = Vec::new();
        if let Some(email) = self.email {
            pairs.push(format!("email={}", utf8_percent_encode(email, QUERY_VALUE)));
        }
        if let Some(app) = self.app {
            pairs.push(format!("app={}", app.id()));
        }
        if let Some(lang) = self.lang {
            pairs.push(format!("lang={}", lang.code()));
        }
        let query = if pairs.is_empty() {
            String::new()
        } else {
            format!("?{}", pairs.join("&"))
        };
        format!("/{query}{fragment}")
    }
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingTemplate<'a> {
    t: &'static Strings,
    stylesheet: &'static str,
    languages: Vec<Choice>,
    form: FormView,
    result: Option<ResultView<'a>>,
}

/// A link in a switch (language or app).
struct Choice {
    label: &'static str,
    code: &'static str,
    href: String,
    current: bool,
}

struct FormView {
    value: String,
    error: Option<String>,
    /// Hidden fields so that submitting keeps a chosen language and app.
    lang: Option<&'static str>,
    app: Option<&'static str>,
}

struct ResultView<'a> {
    address: &'a str,
    /// The domain table's name for the organisation, e.g. "Contoso";
    /// absent for Microsoft's own consumer domains.
    display_name: Option<&'a str>,
    kind: &'static str,
    answer: &'static str,
    recommended: String,
    apps: Vec<Choice>,
    selected: AppSection,
    others: Vec<AppSection>,
    decision: Decision,
    settings_caption: String,
    settings: Vec<SettingRow<'a>>,
    documentation_url: &'a str,
    /// `data:image/svg+xml,...` of the QR code, when the origin is known.
    qr_code: Option<String>,
}

struct AppSection {
    id: &'static str,
    name: &'static str,
    summary: &'static str,
    heading: String,
    steps: &'static [&'static str],
    downloads: Vec<Download>,
}

/// A link to the Apple configuration profile endpoint.
struct Download {
    label: &'static str,
    href: String,
    /// The IMAP profile: a last resort, shown less prominently.
    fallback: bool,
}

/// The three questions, and which answer the visitor's case takes.
struct Decision {
    /// The app signs in with Microsoft: question 1 answers yes.
    modern: bool,
    /// Question 3's answer for this account.
    personal: bool,
}

/// One row of the manual settings table, straight from the profile.
struct SettingRow<'a> {
    protocol: &'static str,
    host: &'a str,
    port: u16,
    encryption: &'static str,
    authentication: Vec<&'static str>,
}

impl<'a> ResultView<'a> {
    fn new(
        page: &LandingPage<'_>,
        t: &'static Strings,
        address: &'a EmailAddress,
        site: &'a Site,
        links: Links<'_>,
    ) -> ResultView<'a> {
        let profile: &'a Profile = &site.profile;
        let personal = profile.audience == Audience::Personal;
        let selected_text = page.app.text(t);
        let section = |app: AppId| app_section(app, t, address, profile);
        let apps = AppId::ALL
            .into_iter()
            .map(|app| Choice {
                label: app.text(t).name,
                code: app.id(),
                href: Links {
                    app: Some(app),
                    ..links
                }
                .href("#steps"),
                current: app == page.app,
            })
            .collect();
        let (answer, recommended) = if page.app.is_legacy() {
            let answer = if personal {
                t.answer_legacy_personal
            } else {
                t.answer_legacy_work
            };
            (answer, t.recommended_legacy.to_owned())
        } else {
            (
                t.answer_modern,
                t.recommended_modern.replace("{app}", selected_text.name),
            )
        };
        let servers = profile.enabled_incoming().chain([&profile.outgoing]);
        let qr_link = Links {
            email: Some(address.as_str()),
            ..links
        }
        .href("");
        ResultView {
            address: address.as_str(),
            // A table domain without its own name shows the profile's
            // name, which the account type already says.
            display_name: (site.source == SiteSource::Table && site.display_name != profile.name)
                .then_some(site.display_name.as_str()),
            kind: if personal {
                t.kind_personal
            } else {
                t.kind_work
            },
            answer,
            recommended,
            apps,
            selected: section(page.app),
            others: AppId::ALL
                .into_iter()
                .filter(|app| *app != page.app)
                .map(section)
                .collect(),
            decision: Decision {
                modern: !page.app.is_legacy(),
                personal,
            },
            settings_caption: t.settings_caption.replace("{name}", &site.display_name),
            settings: servers.map(|s| setting_row(s, t, personal)).collect(),
            documentation_url: profile.documentation.url.as_str(),
            qr_code: page
                .origin
                .as_deref()
                .and_then(|origin| qr_code_data_uri(&format!("{origin}{qr_link}"))),
        }
    }
}

fn app_section(
    app: AppId,
    t: &'static Strings,
    address: &EmailAddress,
    profile: &Profile,
) -> AppSection {
    let text = app.text(t);
    let personal = profile.audience == Audience::Personal;
    let mut downloads = Vec::new();
    if let Some(platform) = app.apple_platform() {
        let email = utf8_percent_encode(address.as_str(), QUERY_VALUE);
        let href =
            |kind: &str| format!("/apple/profile?email={email}&kind={kind}&platform={platform}");
        downloads.push(Download {
            label: if platform == "ios" {
                t.profile_ios
            } else {
                t.profile_macos
            },
            href: href("exchange"),
            fallback: false,
        });
        // Apple's IMAP payload has no OAuth2: it only works with an app
        // password, which only personal accounts can have.
        if personal && app_password_possible(profile) {
            downloads.push(Download {
                label: t.profile_imap_fallback,
                href: href("imap"),
                fallback: true,
            });
        }
    }
    AppSection {
        id: app.id(),
        name: text.name,
        summary: text.summary,
        heading: t.steps_heading.replace("{app}", text.name),
        steps: if personal {
            text.steps_personal
        } else {
            text.steps_work
        },
        downloads,
    }
}

/// Whether the profile accepts a password anywhere (an app password, for a
/// personal account).
fn app_password_possible(profile: &Profile) -> bool {
    profile
        .enabled_incoming()
        .chain([&profile.outgoing])
        .any(MailServer::allows_password)
}

fn setting_row<'a>(server: &'a MailServer, t: &'static Strings, personal: bool) -> SettingRow<'a> {
    SettingRow {
        protocol: server.protocol.label(),
        host: server.host.0.as_str(),
        port: server.port.0,
        encryption: match server.security {
            Security::Tls => "SSL/TLS",
            Security::Starttls => "STARTTLS",
        },
        authentication: server
            .auth_methods()
            .iter()
            .map(|method| match method {
                AuthMethod::Oauth2 => t.auth_oauth2,
                AuthMethod::Password if personal => t.auth_password_personal,
                AuthMethod::Password => t.auth_password_work,
            })
            .collect(),
    }
}

/// Characters a `data:` URL must not carry raw: `#` would start a fragment,
/// `%` an escape; the rest keeps the attribute tidy.
const DATA_URL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'\'');

/// The QR code for `url` as an SVG `data:` URL for an `<img>` (allowed by
/// the CSP's `img-src data:`), so no markup is spliced into the page. `None`
/// when the URL is too long for a QR code.
fn qr_code_data_uri(url: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<svg::Color<'_>>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml,{}",
        utf8_percent_encode(&svg, DATA_URL)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_pick_the_device_app() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                AppId::IosMail,
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
                AppId::IosMail,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                AppId::MacosMail,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
                AppId::GmailAndroid,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
                AppId::OutlookNew,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
                AppId::Thunderbird,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                AppId::Thunderbird,
            ),
            ("curl/8.5.0", AppId::OutlookMobile),
        ];
        for (user_agent, app) in cases {
            assert_eq!(AppId::from_user_agent(user_agent), app, "{user_agent}");
        }
    }

    #[test]
    fn every_language_has_steps_for_every_app_and_account_type() {
        for lang in Lang::ALL {
            for app in AppId::ALL {
                let text = app.text(lang.strings());
                assert!(!text.name.is_empty(), "{lang:?} {app:?}");
                assert!(text.steps_personal.len() >= 3, "{lang:?} {app:?}");
                assert!(text.steps_work.len() >= 3, "{lang:?} {app:?}");
            }
        }
    }

    #[test]
    fn app_ids_round_trip() {
        for app in AppId::ALL {
            assert_eq!(AppId::from_id(app.id()), Some(app));
        }
    }

    #[test]
    fn qr_code_is_an_svg_data_url_without_raw_fragment_or_quotes() {
        let uri =
            qr_code_data_uri("https://autoconfig.contoso.com/?email=alice@contoso.com").unwrap();
        assert!(uri.starts_with("data:image/svg+xml,"), "{uri}");
        assert!(!uri.contains(['#', '"', '<', '>', ' ']), "{uri}");
        assert!(uri.contains("%3Csvg"), "{uri}");
    }
}
