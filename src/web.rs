//! The landing page for people: an address form, the account type, the
//! steps for the visitor's app, the three-question decision for apps that
//! cannot sign in with Microsoft, the manual settings table and the QR
//! code. A pure function of typed input (`LandingPage`, the day included)
//! returning a `Document`; what is offered on that day comes from the
//! profile's client table (`clients`), the markup from
//! `templates/landing.html`, the words from `web/i18n/`. Knows nothing of
//! HTTP: the router parses the request, picks the status and adds headers.

mod i18n;

use askama::Template;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::clients::{
    APPLE_APP_ID, Client, ClientTable, EWS_BLOCKED_BY_DEFAULT, EWS_END, OUTLOOK_COM_PASSWORDS_END,
    Offer, THUNDERBIRD_EXCHANGE_VERSION,
};
use crate::config::{Config, HelpContact, PageSettings};
use crate::date::Date;
use crate::document::{Document, media_type};
use crate::email::{AddressError, EmailAddress, is_format_character};
use crate::profile::{Audience, AuthMethod, MailServer, Profile, Security};
use crate::resolve::{Site, SiteSource};

pub use i18n::{AppText, Lang, Strings, Trouble};

/// Where the stylesheet is served; the page links to it (the CSP allows
/// styles from this origin only, no inline styles).
pub const STYLESHEET_PATH: &str = "/static/mailsetup.css";
pub const STYLESHEET: &str = include_str!("../static/mailsetup.css");

/// The page's only script: the Copy buttons of the settings table. It is
/// inlined in result pages (one request fewer) and allowed by the CSP
/// through the SHA-256 of these exact bytes (`copy_script_hash`).
const COPY_SCRIPT: &str = include_str!("../static/copy.js");

/// What crawlers may fetch: the form, not the pages and documents that
/// carry an address (see the file's comments).
pub const ROBOTS_PATH: &str = "/robots.txt";
pub const ROBOTS_TXT: &str = include_str!("../static/robots.txt");

/// The CSP source that allows the copy script and nothing else:
/// `'sha256-<base64 of its SHA-256>'` (CSP Level 3 §2.3.1), quotes
/// included. Computed from the bytes the binary carries, so the policy
/// cannot drift from the script.
pub fn copy_script_hash() -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, COPY_SCRIPT.as_bytes());
    format!("'sha256-{}'", base64(digest.as_ref()))
}

/// Standard base64 with padding (RFC 4648 §4), for the hash above.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (i, &byte)| {
            word | u32::from(byte) << (16 - 8 * i)
        });
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(word >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What kind of device a browser's `User-Agent` names: read once, for the
/// app the page preselects and for whether a QR code is of any use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// Thunderbird's own browser (its account setup opens pages).
    Thunderbird,
    /// iPhone, iPod, and iPads that still say so (iPadOS Safari says Mac).
    AppleHandheld,
    Android,
    /// Another phone or tablet ("Mobile" in the User-Agent).
    OtherHandheld,
    Mac,
    Windows,
    /// Linux, BSD and other X11 desktops.
    Unix,
    Unknown,
}

impl Device {
    pub fn from_user_agent(user_agent: &str) -> Device {
        let has = |needle: &str| user_agent.contains(needle);
        if has("Thunderbird/") {
            Device::Thunderbird
        } else if has("iPhone") || has("iPad") || has("iPod") {
            Device::AppleHandheld
        } else if has("Android") {
            Device::Android
        } else if has("Mobile") {
            Device::OtherHandheld
        } else if has("Macintosh") || has("Mac OS X") {
            Device::Mac
        } else if has("Windows") {
            Device::Windows
        } else if has("Linux") || has("X11") || has("BSD") {
            Device::Unix
        } else {
            Device::Unknown
        }
    }

    /// A phone or tablet: the QR code (for the computer next to it) is not
    /// sent to it. An iPad whose Safari says Mac still gets one, and the
    /// stylesheet hides it on any touch-only screen.
    pub fn is_handheld(self) -> bool {
        matches!(
            self,
            Device::AppleHandheld | Device::Android | Device::OtherHandheld
        )
    }
}

/// What the page takes from the configuration, made once per
/// configuration rather than per view: the logo's `data:` URL and the
/// consumer domains typos are checked against.
#[derive(Debug, Clone, Default)]
pub struct PageAssets {
    /// The operator's SVG logo as a `data:` URL for an `<img>`.
    logo: Option<String>,
    /// Microsoft's consumer domains: the personal profiles' lists.
    consumer_domains: Vec<String>,
}

impl PageAssets {
    pub fn new(config: &Config) -> PageAssets {
        PageAssets {
            logo: config
                .page
                .logo_svg
                .as_deref()
                .map(|svg| format!("data:image/svg+xml,{}", utf8_percent_encode(svg, DATA_URL))),
            consumer_domains: config
                .profiles
                .values()
                .filter(|profile| profile.audience == Audience::Personal)
                .flat_map(|profile| {
                    profile
                        .domains
                        .iter()
                        .map(|d| d.get_ref().0.as_str().to_owned())
                })
                .collect(),
        }
    }

    pub fn consumer_domains(&self) -> impl Iterator<Item = &str> {
        self.consumer_domains.iter().map(String::as_str)
    }
}

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

    /// The app a visitor most likely wants on `device`: the device's own
    /// mail app where it can sign in with Microsoft (iPhone/iPad, Mac),
    /// Gmail on Android (its default mail app), the new Outlook on
    /// Windows, Thunderbird for Thunderbird and Linux desktops; Outlook
    /// mobile otherwise.
    pub fn for_device(device: Device) -> AppId {
        match device {
            Device::Thunderbird | Device::Unix => AppId::Thunderbird,
            Device::AppleHandheld => AppId::IosMail,
            Device::Android => AppId::GmailAndroid,
            Device::Mac => AppId::MacosMail,
            Device::Windows => AppId::OutlookNew,
            Device::OtherHandheld | Device::Unknown => AppId::OutlookMobile,
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
}

/// What the visitor asked about.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// No address yet: the form alone.
    Form,
    /// The form was submitted with something that is not an address. `typed`
    /// is put back into the form (escaped) so it can be corrected.
    Invalid { typed: &'a str, error: InputError },
    /// A valid address whose domain this server does not serve, and what
    /// the person most likely meant.
    UnknownDomain {
        address: &'a EmailAddress,
        hint: Option<DomainHint>,
    },
    Found {
        address: &'a EmailAddress,
        site: &'a Site,
    },
}

/// Why an unknown domain is unknown, when the page can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainHint {
    /// Close to one of Microsoft's consumer domains: the address with it.
    DidYouMean(String),
    /// A well-known mailbox provider that is not Microsoft.
    NotMicrosoft,
}

/// Mailbox providers people confuse with Outlook.com: the page says
/// plainly it is not for them instead of "no settings for gmail.com".
const NOT_MICROSOFT: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.fr",
    "ymail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.fr",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "sfr.fr",
];

/// What an unknown `address` most likely meant: a consumer domain of
/// Microsoft at most two edits away (transpositions count one: "hotmial"),
/// or a provider that is not Microsoft's.
pub fn domain_hint<'d>(
    address: &EmailAddress,
    consumer_domains: impl IntoIterator<Item = &'d str>,
) -> Option<DomainHint> {
    let domain = address.domain().as_str();
    if NOT_MICROSOFT.contains(&domain) {
        return Some(DomainHint::NotMicrosoft);
    }
    consumer_domains
        .into_iter()
        .map(|candidate| (edit_distance(domain, candidate), candidate))
        .filter(|(distance, _)| (1..=2).contains(distance))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| {
            DomainHint::DidYouMean(format!("{}@{candidate}", address.local_part()))
        })
}

/// Optimal string alignment distance: insertions, deletions,
/// substitutions and transpositions of neighbours each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
    /// `scheme://host[:port]` the QR code opens: `[page] public_url`, or
    /// this server as the visitor reached it (the router parses and
    /// normalises the host, and believes a forwarded scheme only from a
    /// trusted proxy); without it there is no QR code.
    pub origin: Option<String>,
    /// The visitor's device, from the `User-Agent`: a phone or tablet is
    /// sent no QR code (it is for the computer next to it).
    pub device: Device,
    /// The host people reached, to say whose page this is when no
    /// organisation is configured.
    pub host: Option<String>,
    /// `[page]`: who runs the page, their logo and help contact.
    pub operator: &'a PageSettings,
    /// What the page takes from the configuration, made once.
    pub assets: &'a PageAssets,
    /// Apple profiles are signed; when not, devices show "Not Verified"
    /// and the page says so before the download.
    pub profiles_signed: bool,
    /// The day the page answers for: the client table's rows are read on
    /// it (the router's clock; fixed by `serve --today` and in tests).
    pub today: Date,
}

/// Renders the page.
pub fn render_landing_page(page: &LandingPage<'_>) -> Document {
    let t = page.lang.strings();
    let typed: Option<&str> = match &page.lookup {
        Lookup::Form => None,
        Lookup::Invalid { typed, .. } => Some(typed),
        Lookup::UnknownDomain { address, .. } | Lookup::Found { address, .. } => {
            Some(address.as_str())
        }
    };
    let links = Links {
        email: typed,
        app: page.app_chosen.then_some(page.app),
        lang: page.lang_chosen.then_some(page.lang),
    };
    let error = match &page.lookup {
        Lookup::Invalid { error, .. } => Some(match error {
            InputError::Address(AddressError::Empty) => t.type_your_address.to_owned(),
            InputError::Address(error) => t
                .invalid_address
                .replace("{reason}", &t.errors.reason(error)),
            InputError::Repeated => t.repeated_parameter.to_owned(),
            InputError::Encoding => t.bad_encoding.to_owned(),
        }),
        Lookup::UnknownDomain {
            hint: Some(DomainHint::NotMicrosoft),
            address,
        } => Some(
            t.not_microsoft
                .replace("{domain}", &address.domain().to_unicode()),
        ),
        Lookup::UnknownDomain { address, .. } => Some(
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
    let suggestion = match &page.lookup {
        Lookup::UnknownDomain {
            hint: Some(DomainHint::DidYouMean(suggested)),
            ..
        } => Some(Suggestion {
            href: Links {
                email: Some(suggested),
                ..links
            }
            .href(""),
            address: suggested.clone(),
        }),
        _ => None,
    };
    let operator = &page.operator;
    let run_by = match (&operator.organization, &page.host) {
        (Some(name), _) => t.run_by.replace("{name}", name),
        (None, Some(host)) => t.run_by_host.replace("{host}", host),
        (None, None) => t.run_by_unknown.to_owned(),
    };
    let help = operator.help.as_ref().map(|help| match help {
        HelpContact::Mail(address) => HelpView {
            label: t.help_mail.replace("{contact}", address),
            href: format!("mailto:{address}"),
        },
        HelpContact::Url(url) => HelpView {
            label: t.help_url.replace("{contact}", url),
            href: url.clone(),
        },
    });
    // Only the form is for search engines, in each language: `/?lang=xx`,
    // and `/` for whoever has not chosen (x-default, RFC 8288 links as
    // search engines read them).
    let indexable = matches!(page.lookup, Lookup::Form) && !page.app_chosen;
    let (canonical, alternates) = match (&page.origin, indexable) {
        (Some(origin), true) => {
            let href = |lang: Option<Lang>| {
                let links = Links {
                    email: None,
                    app: None,
                    lang,
                };
                format!("{origin}{}", links.href(""))
            };
            let alternates = Lang::ALL
                .into_iter()
                .map(|lang| Alternate {
                    hreflang: lang.code(),
                    href: href(Some(lang)),
                })
                .chain([Alternate {
                    hreflang: "x-default",
                    href: href(None),
                }])
                .collect();
            (Some(href(links.lang)), alternates)
        }
        _ => (None, Vec::new()),
    };
    let template = LandingTemplate {
        t,
        stylesheet: STYLESHEET_PATH,
        script: COPY_SCRIPT,
        noindex: !indexable,
        canonical,
        alternates,
        languages,
        suggestion,
        run_by,
        help,
        organization: operator.organization.as_deref(),
        logo: page.assets.logo.as_deref(),
        form: FormView {
            // Whatever was typed, even hostile, goes back in escaped; it
            // is cut so a huge query does not make a huge page, and loses
            // invisible and text-direction characters, which would make
            // the field read differently from what it holds.
            value: typed
                .map(|v| {
                    v.chars()
                        .filter(|&c| !is_format_character(c))
                        .take(320)
                        .collect()
                })
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
    /// "Did you mean …?" for a typo'd consumer domain.
    suggestion: Option<Suggestion>,
    /// Whose page this is, said next to the form that asks for an address.
    run_by: String,
    help: Option<HelpView>,
    organization: Option<&'a str>,
    /// The operator's SVG logo as a `data:` URL for an `<img>`: shown as an
    /// image, its scripts never run, and the CSP needs no change.
    logo: Option<&'a str>,
    /// The copy buttons' script, inlined in result pages (the CSP allows
    /// it by hash).
    script: &'static str,
    /// Pages that carry an address (or a mistake) are not for search
    /// engines: `<meta name="robots" content="noindex">`.
    noindex: bool,
    /// The form's own absolute URL and its other languages', for search
    /// engines (`rel=canonical`, `hreflang`); only on the form, and only
    /// when the origin is known.
    canonical: Option<String>,
    alternates: Vec<Alternate>,
    result: Option<ResultView<'a>>,
}

/// `<link rel="alternate" hreflang>`: the same page in another language.
struct Alternate {
    hreflang: &'static str,
    href: String,
}

struct Suggestion {
    address: String,
    href: String,
}

struct HelpView {
    label: String,
    href: String,
}

/// A piece of a sentence: plain text, or a button or menu name as the app
/// shows it (`**…**` in the strings), which the page shows as a UI label.
struct Part {
    text: String,
    ui: bool,
}

/// Splits `text` at `**` into plain and UI-label parts.
fn rich(text: &str) -> Vec<Part> {
    text.split("**")
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(index, piece)| Part {
            text: piece.to_owned(),
            ui: index % 2 == 1,
        })
        .collect()
}

struct TroubleView {
    seen: Vec<Part>,
    fix: Vec<Part>,
}

/// The way from one device's Apple steps to the other's: iPadOS Safari
/// sends a Mac User-Agent, so an iPad first gets the Mac's steps.
struct DeviceSwitch {
    /// "These steps are for a Mac."
    intro: Option<&'static str>,
    label: &'static str,
    href: String,
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
    answer: String,
    recommended: String,
    selected: AppSection,
    others: Vec<AppSection>,
    decision: Decision,
    settings_caption: String,
    settings: Vec<SettingRow<'a>>,
    documentation_url: &'a str,
    /// `data:image/svg+xml,...` of the QR code, when the origin is known
    /// and the visitor is not on a phone.
    qr_code: Option<String>,
    /// The URL the QR code opens, written out for a phone without a
    /// camera app that reads codes.
    qr_url: String,
}

struct AppSection {
    id: &'static str,
    name: &'static str,
    summary: &'static str,
    heading: String,
    /// What the visitor must know before the steps, for this day: an
    /// admin's allow-list, an end date, why an app no longer works.
    notes: Vec<Vec<Part>>,
    steps: Vec<Vec<Part>>,
    downloads: Vec<Download>,
    /// The profile is unsigned: what the device will show.
    unsigned_warning: Option<&'static str>,
    device_switch: Option<DeviceSwitch>,
    /// `?app=` for this app: the other apps' folds offer to select it.
    choose_href: String,
    /// "Didn't work?": the exact message, and what to do.
    troubles: Vec<TroubleView>,
}

/// A link to the Apple configuration profile endpoint.
struct Download {
    label: &'static str,
    href: String,
}

/// The three questions, each with both answers, and which the visitor's
/// case takes. Question 3 and question 2's "No" are rare: they sit in a
/// fold, open only when the selected app is an older one.
struct Decision {
    /// The app can add the mailbox today: question 1 answers yes.
    modern: bool,
    /// Question 3's answer for this account.
    personal: bool,
    /// What question 3's answer says, for this account on this day.
    personal_answer: String,
    /// "For alice@contoso.com": question 3 is answered for this address.
    for_address: String,
}

/// One row of the manual settings table, straight from the profile.
struct SettingRow<'a> {
    protocol: &'static str,
    host: &'a str,
    /// The Copy button's name, "Copy outlook.office365.com", and what the
    /// live region says once it has copied.
    copy_label: String,
    copied: String,
    port: u16,
    encryption: &'static str,
    authentication: Vec<&'static str>,
}

/// What the profile's client table offers on the page's day: the page asks
/// it, and never decides a date on its own.
#[derive(Clone, Copy)]
struct Offers<'a> {
    table: &'a ClientTable,
    today: Date,
}

/// Password sending (SMTP AUTH) for a Microsoft 365 device that cannot
/// sign in with Microsoft.
enum SmtpPassword {
    /// Still possible where the admin allows it, until that day (the row's
    /// first day without it).
    Offered { until: Option<Date> },
    /// Off by default: only where the tenant keeps an exception.
    Exception,
}

impl Offers<'_> {
    /// The day the Mac's Exchange (EWS) profile ends, while it is still
    /// offered; `None` once it is not.
    fn mac_ews_until(self) -> Option<Date> {
        self.table
            .offers(Client::MacMail, Offer::MacEws, self.today)
            .then(|| self.mac_ews_end())
    }

    /// The first day without the Mac's EWS profile.
    fn mac_ews_end(self) -> Date {
        self.table
            .row(Client::MacMail, Offer::MacEws)
            .and_then(|row| row.valid_until)
            .unwrap_or(EWS_END)
    }

    fn ios_profile(self) -> bool {
        self.table
            .offers(Client::IosMail, Offer::IosActiveSync, self.today)
    }

    /// Thunderbird from the first version that reads `graph` may be
    /// offered Exchange (Microsoft Graph) besides IMAP.
    fn thunderbird_graph(self) -> bool {
        self.table.offers(
            Client::Thunderbird(THUNDERBIRD_EXCHANGE_VERSION),
            Offer::ThunderbirdGraph,
            self.today,
        )
    }

    /// Since when Outlook.com refuses every password from other apps.
    fn outlook_com_passwords_end(self) -> Date {
        self.table
            .row(Client::LegacyImap, Offer::Nothing)
            .and_then(|row| row.valid_from)
            .unwrap_or(OUTLOOK_COM_PASSWORDS_END)
    }

    /// `None` where the table has no such row (Outlook.com).
    fn smtp_password(self) -> Option<SmtpPassword> {
        let row = self.table.row(Client::LegacyImap, Offer::LegacyPassword)?;
        Some(if row.applies_on(self.today) {
            SmtpPassword::Offered {
                until: row.valid_until,
            }
        } else {
            SmtpPassword::Exception
        })
    }

    fn smtp_relay(self) -> bool {
        self.table
            .offers(Client::LegacyImap, Offer::SmtpRelay, self.today)
    }
}

/// Whether the selected app can add the mailbox on the page's day.
enum Verdict {
    /// It shows the Microsoft sign-in window.
    SignsIn,
    /// It cannot (`AppId::Legacy`).
    Legacy,
    /// Mac Mail after its Exchange (EWS) account ended that day.
    MacEnded(Date),
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
        let offers = Offers {
            table: &profile.clients,
            today: page.today,
        };
        let selected_text = page.app.text(t);
        let context = SectionContext {
            t,
            address,
            personal,
            offers,
            lang: page.lang,
            profiles_signed: page.profiles_signed,
            links,
        };
        let section = |app: AppId| app_section(app, &context);
        let verdict = if page.app.is_legacy() {
            Verdict::Legacy
        } else if page.app == AppId::MacosMail && offers.mac_ews_until().is_none() {
            Verdict::MacEnded(offers.mac_ews_end())
        } else {
            Verdict::SignsIn
        };
        let outlook_com_since = t.long_date(offers.outlook_com_passwords_end());
        let (answer, recommended) = match verdict {
            Verdict::SignsIn => (
                t.answer_modern.to_owned(),
                t.recommended_modern.replace("{app}", selected_text.name),
            ),
            Verdict::Legacy if personal => (
                t.answer_legacy_personal
                    .replace("{date}", &outlook_com_since),
                t.recommended_legacy_personal.to_owned(),
            ),
            Verdict::Legacy => (
                t.answer_legacy_work.to_owned(),
                t.recommended_legacy_work.to_owned(),
            ),
            Verdict::MacEnded(ended) => (
                t.answer_mac_ended.replace("{date}", &t.long_date(ended)),
                t.recommended_mac_ended.to_owned(),
            ),
        };
        let personal_answer = if personal {
            t.answer_personal_yes.replace("{date}", &outlook_com_since)
        } else {
            match offers.smtp_password() {
                Some(SmtpPassword::Offered { until }) => t
                    .answer_personal_no_until
                    .replace("{until}", &t.until(until)),
                Some(SmtpPassword::Exception) | None => t.answer_personal_no_exception.to_owned(),
            }
        };
        let servers = profile.enabled_incoming().chain([&profile.outgoing]);
        // The phone picks its own app: a desktop's choice (Thunderbird,
        // Outlook for Windows) is no use there.
        let qr_link = Links {
            email: Some(address.as_str()),
            app: None,
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
            selected: section(page.app),
            others: AppId::ALL
                .into_iter()
                .filter(|app| *app != page.app)
                .map(section)
                .collect(),
            decision: Decision {
                modern: matches!(verdict, Verdict::SignsIn),
                personal,
                personal_answer,
                for_address: t.for_address.replace("{address}", address.as_str()),
            },
            settings_caption: t.settings_caption.replace("{name}", &site.display_name),
            settings: servers.map(|s| setting_row(s, t)).collect(),
            documentation_url: profile.documentation.url.as_str(),
            qr_code: page
                .origin
                .as_deref()
                .filter(|_| !page.device.is_handheld())
                .and_then(|origin| qr_code_data_uri(&format!("{origin}{qr_link}"))),
            qr_url: format!("{}{qr_link}", page.origin.as_deref().unwrap_or_default()),
        }
    }
}

/// What every app's section is built from.
struct SectionContext<'a> {
    t: &'static Strings,
    address: &'a EmailAddress,
    personal: bool,
    offers: Offers<'a>,
    lang: Lang,
    profiles_signed: bool,
    links: Links<'a>,
}

fn app_section(app: AppId, context: &SectionContext<'_>) -> AppSection {
    let SectionContext {
        t,
        address,
        personal,
        offers,
        ..
    } = *context;
    let text = app.text(t);
    let static_steps = if personal {
        text.steps_personal
    } else {
        text.steps_work
    };
    let mut steps: Vec<String> = static_steps.iter().map(|&step| step.to_owned()).collect();
    let mut notes = Vec::new();
    let mut downloads = Vec::new();
    let email = utf8_percent_encode(address.as_str(), QUERY_VALUE);
    // The profile's names and description follow the page's language.
    let lang = context.lang.code();
    let profile_link = |label: &'static str, platform: &str| Download {
        label,
        href: format!("/apple/profile?email={email}&kind=exchange&platform={platform}&lang={lang}"),
    };
    match app {
        // ActiveSync: not touched by the EWS retirement.
        AppId::IosMail if offers.ios_profile() => {
            downloads.push(profile_link(t.profile_ios, "ios"));
        }
        AppId::MacosMail => match offers.mac_ews_until() {
            Some(end) => {
                downloads.push(profile_link(t.profile_macos, "macos"));
                // Only tenants have an EWS allow-list (MC1227454).
                if !personal {
                    let admin = if offers.today >= EWS_BLOCKED_BY_DEFAULT {
                        t.mac_ews_admin_since
                    } else {
                        t.mac_ews_admin_from
                    };
                    notes.push(
                        admin
                            .replace("{date}", &t.long_date(EWS_BLOCKED_BY_DEFAULT))
                            .replace("{app_id}", APPLE_APP_ID),
                    );
                }
                notes.push(t.mac_ews_end.replace("{date}", &t.long_date(end)));
            }
            // macOS has no ActiveSync and its IMAP account no OAuth: no
            // profile, and the apps that do work on a Mac.
            None => {
                notes.push(
                    t.mac_after_ews_note
                        .replace("{date}", &t.long_date(offers.mac_ews_end())),
                );
                steps = t
                    .mac_after_ews_steps
                    .iter()
                    .map(|&step| step.to_owned())
                    .collect();
            }
        },
        AppId::Thunderbird if offers.thunderbird_graph() => {
            notes.push(
                t.thunderbird_graph_note
                    .replace("{version}", &THUNDERBIRD_EXCHANGE_VERSION.to_string()),
            );
        }
        AppId::Legacy => {
            if offers.smtp_relay() {
                steps.push(t.legacy_work_connector.to_owned());
            }
            match offers.smtp_password() {
                Some(SmtpPassword::Offered { until }) => {
                    steps.push(t.legacy_work_smtp_until.replace("{until}", &t.until(until)))
                }
                Some(SmtpPassword::Exception) => {
                    steps.push(t.legacy_work_smtp_exception.to_owned());
                }
                None => {}
            }
        }
        _ => {}
    }
    let device_link = |target: AppId| {
        Links {
            app: Some(target),
            email: Some(address.as_str()),
            ..context.links
        }
        .href("#steps")
    };
    let device_switch = match app {
        AppId::MacosMail => Some(DeviceSwitch {
            intro: Some(t.mac_only),
            label: t.on_ipad,
            href: device_link(AppId::IosMail),
        }),
        AppId::IosMail => Some(DeviceSwitch {
            intro: None,
            label: t.on_mac,
            href: device_link(AppId::MacosMail),
        }),
        _ => None,
    };
    let troubles = if personal {
        text.trouble_personal
    } else {
        text.trouble_work
    };
    let unsigned_profile = !downloads.is_empty() && !context.profiles_signed;
    AppSection {
        id: app.id(),
        name: text.name,
        summary: text.summary,
        heading: t.steps_heading.replace("{app}", text.name),
        notes: notes.iter().map(|note| rich(note)).collect(),
        steps: steps.iter().map(|step| rich(step)).collect(),
        unsigned_warning: unsigned_profile.then_some(t.unsigned_profile),
        troubles: troubles
            .iter()
            .filter(|trouble| match trouble.shown {
                i18n::Shown::Always => true,
                i18n::Shown::WithProfile => !downloads.is_empty(),
                i18n::Shown::WithUnsignedProfile => unsigned_profile,
            })
            .map(|trouble| TroubleView {
                seen: rich(trouble.seen),
                fix: rich(trouble.fix),
            })
            .collect(),
        choose_href: Links {
            app: Some(app),
            email: Some(address.as_str()),
            ..context.links
        }
        .href("#steps"),
        downloads,
        device_switch,
    }
}

fn setting_row<'a>(server: &'a MailServer, t: &'static Strings) -> SettingRow<'a> {
    let host = server.host.0.as_str();
    SettingRow {
        protocol: server.protocol.label(),
        host,
        copy_label: t.copy_label.replace("{host}", host),
        copied: t.copied_host.replace("{host}", host),
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
                AuthMethod::Password => t.auth_password,
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
            assert_eq!(
                AppId::for_device(Device::from_user_agent(user_agent)),
                app,
                "{user_agent}"
            );
        }
    }

    #[test]
    fn phones_and_tablets_are_handheld_desktops_are_not() {
        let handheld = [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
            "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Mozilla/5.0 (Mobile; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5",
        ];
        let desktop = [
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Version/18.1 Safari/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
            "curl/8.5.0",
        ];
        for user_agent in handheld {
            assert!(
                Device::from_user_agent(user_agent).is_handheld(),
                "{user_agent}"
            );
        }
        for user_agent in desktop {
            assert!(
                !Device::from_user_agent(user_agent).is_handheld(),
                "{user_agent}"
            );
        }
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn copy_script_can_be_inlined_and_its_hash_is_a_csp_source() {
        // Inside <script>, only "</script" (any case) and "<!--" change
        // how the HTML parser reads the text.
        let lower = COPY_SCRIPT.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--"));
        // LF only, whatever the checkout (`.gitattributes`): the hash is
        // of the bytes, and the page is checked against it.
        assert!(!COPY_SCRIPT.contains('\r'), "copy.js has CR line ends");
        let hash = copy_script_hash();
        let digest = hash
            .strip_prefix("'sha256-")
            .and_then(|h| h.strip_suffix('\''))
            .unwrap();
        // 32 bytes: 43 characters and one '='.
        assert_eq!(digest.len(), 44, "{hash}");
        assert!(digest.ends_with('='), "{hash}");
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
