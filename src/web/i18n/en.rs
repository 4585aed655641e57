//! English.

use super::{AddressErrors, AppText, Apps, Strings};

const OUTLOOK_MOBILE_PERSONAL: &[&str] = &[
    "Install Microsoft Outlook from the App Store or Google Play.",
    "Open it and tap Add account.",
    "Type your email address and tap Continue.",
    "Sign in on the Microsoft page that opens. That is all: Outlook asks for no other password.",
];

const OUTLOOK_MOBILE_WORK: &[&str] = &[
    "Install Microsoft Outlook from the App Store or Google Play.",
    "Open it and tap Add account.",
    "Type your email address and tap Continue.",
    "Sign in on your organisation's Microsoft page. If it asks you to install Microsoft Authenticator or Company Portal, follow its prompts.",
];

const IOS_PERSONAL: &[&str] = &[
    "Open this page in Safari and tap Download the profile for iPhone and iPad, then Allow.",
    "Open Settings: tap Profile Downloaded at the top (or General › VPN & Device Management), then Install.",
    "Sign in on the Microsoft page when Mail asks. That is all: no password is stored in the profile.",
    "Without the profile: Settings › Apps › Mail › Mail Accounts › Add Account (Settings › Mail › Accounts before iOS 18), choose Outlook.com, type your address and sign in on the Microsoft page.",
];

const IOS_WORK: &[&str] = &[
    "Open this page in Safari and tap Download the profile for iPhone and iPad, then Allow.",
    "Open Settings: tap Profile Downloaded at the top (or General › VPN & Device Management), then Install.",
    "Sign in on your organisation's Microsoft page when Mail asks. No password is stored in the profile.",
    "Without the profile: Settings › Apps › Mail › Mail Accounts › Add Account (Settings › Mail › Accounts before iOS 18), choose Microsoft Exchange, type your address, tap Next, then Sign In (not Configure Manually).",
];

const MACOS_ALL: &[&str] = &[
    "Click Download the profile for Mac and open the downloaded file.",
    "In System Settings › General › Device Management (Privacy & Security › Profiles on older macOS), double-click the profile and click Install.",
    "Sign in on the Microsoft page when Mail asks. No password is stored in the profile.",
    "Without the profile: in Mail choose Mail › Add Account › Microsoft Exchange, type your name and address, click Sign In (not Configure Manually) and sign in on the Microsoft page.",
];

const THUNDERBIRD_ALL: &[&str] = &[
    "Open the ≡ menu › Account Settings › Account Actions › Add Mail Account (or File › New › Existing Mail Account).",
    "Type your name and your email address. Leave the password empty and click Continue.",
    "Thunderbird finds the settings by itself: IMAP with OAuth2 is selected automatically. Click Done.",
    "Sign in in the Microsoft window that opens.",
];

const OUTLOOK_NEW_ALL: &[&str] = &[
    "Open Outlook and go to Settings › Accounts › Email accounts › Add account.",
    "Type your email address and click Continue.",
    "Sign in on the Microsoft page. Outlook adds the mailbox as Outlook.com or Microsoft 365, not as IMAP.",
];

const OUTLOOK_CLASSIC_ALL: &[&str] = &[
    "Click File › Add Account.",
    "Type your email address and click Connect. Leave Advanced options alone: do not choose IMAP or POP.",
    "Sign in in the Microsoft window. Outlook adds the mailbox as Exchange, with all its folders, calendar and contacts.",
    "If a small grey Windows box keeps asking for a password instead, this Outlook is out of date: install its updates (File › Office Account › Update Options › Update Now).",
];

const LEGACY_PERSONAL: &[&str] = &[
    "These cannot show the Microsoft sign-in window, and Outlook.com no longer lets them in with any password.",
    "Update the app: current versions of most mail apps sign in with Microsoft (Thunderbird and the mobile apps above are free).",
    "Or use Outlook's own app (Outlook mobile, the new Outlook for Windows, Outlook for Mac) or the web: outlook.com in any browser.",
    "Nothing else works: no setting or password brings an older app back, and a printer or scanner that can only send with a password can no longer send from an Outlook.com address.",
];

const LEGACY_WORK: &[&str] = &[
    "These cannot show the Microsoft sign-in window, and Microsoft 365 does not accept passwords from them for reading mail.",
    "The real fix: update the client, or replace it with one of the apps above.",
    "App passwords are not an option for work or school accounts.",
];

const MAC_AFTER_EWS: &[&str] = &[
    "Outlook for Mac: install Microsoft Outlook from the Mac App Store (free), open it, type your email address and sign in on the Microsoft page.",
    "Or Thunderbird: install it from thunderbird.net, type your name and email address, leave the password empty and click Continue. It finds the settings on this server (IMAP with OAuth2); sign in in the Microsoft window.",
    "Apple has announced nothing else for Mail on the Mac (not verified).",
];

pub(super) const STRINGS: Strings = Strings {
    code: "en",
    name: "English",
    page_title: "Set up your Outlook.com or Microsoft 365 mailbox",
    intro: "Type your email address. This page tells you which kind of account it is and how to add it to your app by signing in with Microsoft.",
    language_switch: "Language",
    email_label: "Your email address",
    email_placeholder: "you@example.com",
    submit: "Show me the steps",
    invalid_address: "This is not a valid email address: {reason}.",
    repeated_parameter: "The link gives the address more than once; type it again.",
    bad_encoding: "The link is damaged (it is not valid UTF-8); type the address again.",
    unknown_domain: "This server has no settings for {domain}. Check the address for typos; if it is right, ask whoever runs your email which settings to use.",
    account_heading: "Your account",
    kind_personal: "Outlook.com personal account (Microsoft account: Outlook.com, Hotmail, Live, MSN)",
    kind_work: "Microsoft 365 work or school account",
    answer_heading: "How your app signs in",
    answer_modern: "With Microsoft: your app opens a Microsoft sign-in window, you sign in there, and that is all.",
    answer_legacy_personal: "It cannot: since {date} Outlook.com lets other apps in only through the Microsoft sign-in window and refuses every password typed into them.",
    answer_legacy_work: "It cannot read your mail: Microsoft 365 accepts only the Microsoft sign-in window for that, and work and school accounts cannot use app passwords. For a device that only sends mail, see the steps.",
    answer_mac_ended: "Not any more: Mail on the Mac added this mailbox as Exchange, through Exchange Web Services (EWS), which Microsoft switched off on {date}.",
    recommended: "Recommended:",
    recommended_modern: "Add the account in {app} and sign in with Microsoft.",
    recommended_legacy_personal: "Update the app, or use Outlook's own app or outlook.com.",
    recommended_legacy_work: "Update or replace the client.",
    recommended_mac_ended: "Use Outlook for Mac, or Thunderbird.",
    app_switch: "Your app",
    app_switch_heading: "Not this app? Choose yours",
    steps_heading: "Steps for {app}",
    other_apps: "Other apps",
    profile_ios: "Download the profile for iPhone and iPad",
    profile_macos: "Download the profile for Mac",
    mac_ews_admin_from: "From {date}, Mail works only if your IT department allows Apple's app (Apple Internet Accounts, app ID {app_id}) to use Exchange Web Services (EWS).",
    mac_ews_admin_since: "Since {date}, Mail works only if your IT department allows Apple's app (Apple Internet Accounts, app ID {app_id}) to use Exchange Web Services (EWS). If Mail cannot connect, ask them.",
    mac_ews_end: "Mail's Exchange account on the Mac stops working on {date}, when Microsoft switches off EWS for good. Then use Outlook for Mac, or Thunderbird.",
    mac_after_ews_note: "Since {date}, Mail on the Mac cannot add this mailbox: its Exchange account used Exchange Web Services (EWS), which Microsoft has switched off. What works on a Mac:",
    mac_after_ews_steps: MAC_AFTER_EWS,
    thunderbird_graph_note: "Thunderbird {version} and later may also offer Exchange (Microsoft Graph) besides IMAP. IMAP, the first and recommended choice, works: keep it.",
    legacy_work_connector: "A device that only sends mail (a printer, a scanner): ask your IT department for an SMTP relay, a Microsoft 365 connector that accepts the device by its IP address or certificate, with no password. This is the way that lasts.",
    legacy_work_smtp_until: "Sending with a password (SMTP AUTH) is still possible where your admin allows it, {until}. After that Microsoft turns it off by default, and it works only where your tenant keeps an exception.",
    legacy_work_smtp_exception: "Sending with a password (SMTP AUTH) works only where your tenant keeps an exception: Microsoft has turned it off by default.",
    decision_heading: "Decide in three questions",
    question_sign_in: "Does the app show a Microsoft sign-in window (a Microsoft page asking for your password and, if you use it, the second step)?",
    answer_sign_in: "Sign in there. That is all.",
    question_update: "Can the app or device be updated, or replaced by one of the apps on this page?",
    answer_update: "Update or replace it, then sign in with Microsoft.",
    question_personal: "Is it a personal account (Outlook.com, Hotmail, Live, MSN)?",
    answer_personal_yes: "Then nothing else works: since {date} Outlook.com refuses every password typed into an app. Use Outlook's own app or outlook.com on the web.",
    answer_personal_no_until: "Ask your IT department for an SMTP relay (a Microsoft 365 connector) for a device that only sends mail. Sending with a password is still possible where your admin allows it, {until}.",
    answer_personal_no_exception: "Ask your IT department for an SMTP relay (a Microsoft 365 connector) for a device that only sends mail. Sending with a password works only where your tenant keeps an exception.",
    yes: "Yes",
    no: "No",
    settings_heading: "Manual settings",
    settings_username: "User name: your full email address",
    settings_caption: "Servers for {name}",
    column_protocol: "Protocol",
    column_server: "Server",
    column_port: "Port",
    column_encryption: "Encryption",
    column_authentication: "Authentication",
    auth_oauth2: "OAuth2 (Microsoft sign-in)",
    auth_password: "Password",
    settings_documentation: "Microsoft's page about these settings",
    phone_heading: "Open this page on your phone",
    qr_alt: "QR code that opens this page",
    qr_text: "Point the phone's camera at the code to open these steps there.",
    footer: "This page never asks for your password. Microsoft's own sign-in page does.",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    first_of_month: "1",
    date_format: "{day} {month} {year}",
    until_end_of_year: "until the end of {year}",
    until_day: "until {date}",
    until_unknown: "for now",
    apps: Apps {
        outlook_mobile: AppText {
            name: "Outlook mobile",
            summary: "Microsoft Outlook for iPhone, iPad and Android",
            steps_personal: OUTLOOK_MOBILE_PERSONAL,
            steps_work: OUTLOOK_MOBILE_WORK,
        },
        gmail_android: AppText {
            name: "Gmail for Android",
            summary: "The Gmail app on an Android phone or tablet",
            steps_personal: &[
                "In Gmail, tap your profile picture › Add another account.",
                "Choose Outlook, Hotmail, and Live.",
                "Type your email address and tap Next.",
                "Sign in on the Microsoft page and accept the permissions.",
            ],
            steps_work: &[
                "In Gmail, tap your profile picture › Add another account.",
                "Choose Exchange and Microsoft 365.",
                "Type your email address and tap Next.",
                "Sign in on your organisation's Microsoft page and accept the permissions. If your organisation asks, let Gmail apply its security rules.",
            ],
        },
        ios_mail: AppText {
            name: "iPhone and iPad Mail",
            summary: "The Mail app of iOS and iPadOS",
            steps_personal: IOS_PERSONAL,
            steps_work: IOS_WORK,
        },
        macos_mail: AppText {
            name: "Mac Mail",
            summary: "The Mail app of macOS",
            steps_personal: MACOS_ALL,
            steps_work: MACOS_ALL,
        },
        thunderbird: AppText {
            name: "Thunderbird",
            summary: "Thunderbird on Windows, Mac and Linux",
            steps_personal: THUNDERBIRD_ALL,
            steps_work: THUNDERBIRD_ALL,
        },
        outlook_new: AppText {
            name: "New Outlook for Windows",
            summary: "The Outlook that replaced Windows Mail on Windows 10 and 11",
            steps_personal: OUTLOOK_NEW_ALL,
            steps_work: OUTLOOK_NEW_ALL,
        },
        outlook_classic: AppText {
            name: "Classic Outlook for Windows",
            summary: "Outlook from Microsoft 365, 2016, 2019, 2021 or 2024",
            steps_personal: OUTLOOK_CLASSIC_ALL,
            steps_work: OUTLOOK_CLASSIC_ALL,
        },
        legacy: AppText {
            name: "Older apps and devices",
            summary: "Outlook 2010 and 2013, Windows Live Mail, printers and scanners that only do SMTP",
            steps_personal: LEGACY_PERSONAL,
            steps_work: LEGACY_WORK,
        },
    },
    errors: AddressErrors {
        empty: "it is empty",
        too_long: "it is longer than {max} characters",
        missing_at: "it has no @",
        multiple_at: "it has more than one @",
        empty_local_part: "nothing comes before the @",
        local_part_too_long: "the part before the @ is longer than {max} characters",
        local_part_dots: "the part before the @ starts or ends with a dot, or has two dots in a row",
        control_character: "it contains an invisible control character",
        space: "it contains a space",
        forbidden_character: "it contains {char}, which an address cannot contain",
        empty_domain: "nothing comes after the @",
        domain_too_long: "the part after the @ is longer than {max} characters",
        single_label: "the part after the @ needs a dot, like example.com",
        empty_label: "the part after the @ has two dots in a row, or starts with a dot",
        label_too_long: "a part of the domain between dots is longer than {max} characters",
        label_hyphen: "a part of the domain starts or ends with a hyphen",
        domain_character: "the part after the @ contains {char}; only letters, digits, hyphens and dots are allowed there",
        ip_literal: "the part after the @ is an IP address, not a domain name",
        invalid_idn: "the part after the @ is not a valid international domain name",
    },
};
