//! English. `**…**` marks a button or menu name exactly as the app shows
//! it; the page shows it as a UI label.

use super::{AddressErrors, AppText, Apps, Shown, Strings, Trouble};

const OUTLOOK_MOBILE_PERSONAL: &[&str] = &[
    "Install **Microsoft Outlook** from the App Store or Google Play.",
    "Open it and tap **Add account**.",
    "Type your email address and tap **Continue**.",
    "Sign in on the Microsoft page that opens. That is all: Outlook asks for no other password.",
];

const OUTLOOK_MOBILE_WORK: &[&str] = &[
    "Install **Microsoft Outlook** from the App Store or Google Play.",
    "Open it and tap **Add account**.",
    "Type your email address and tap **Continue**.",
    "Sign in on your organisation's Microsoft page. If it asks you to install **Microsoft Authenticator** or **Company Portal**, follow its prompts.",
];

const IOS_PERSONAL: &[&str] = &[
    "Open this page in Safari on the iPhone or iPad, tap **Download the profile for iPhone and iPad**, then **Allow**.",
    "Open **Settings**: tap **Profile Downloaded** at the top (or **General › VPN & Device Management**), then **Install**.",
    "Sign in on the Microsoft page when Mail asks. That is all: no password is stored in the profile.",
    "Without the profile: **Settings › Apps › Mail › Mail Accounts › Add Account** (**Settings › Mail › Accounts** before iOS 18), choose **Outlook.com**, type your address and sign in on the Microsoft page.",
];

const IOS_WORK: &[&str] = &[
    "Open this page in Safari on the iPhone or iPad, tap **Download the profile for iPhone and iPad**, then **Allow**.",
    "Open **Settings**: tap **Profile Downloaded** at the top (or **General › VPN & Device Management**), then **Install**.",
    "Sign in on your organisation's Microsoft page when Mail asks. No password is stored in the profile.",
    "Without the profile: **Settings › Apps › Mail › Mail Accounts › Add Account** (**Settings › Mail › Accounts** before iOS 18), choose **Microsoft Exchange**, type your address, tap **Next**, then **Sign In** (not **Configure Manually**).",
];

const MACOS_ALL: &[&str] = &[
    "On the Mac, click **Download the profile for Mac** and open the downloaded file.",
    "In **System Settings › General › Device Management** (**Privacy & Security › Profiles** on older macOS), double-click the profile and click **Install**.",
    "Sign in on the Microsoft page when Mail asks. No password is stored in the profile.",
    "Without the profile: in Mail choose **Mail › Add Account › Microsoft Exchange**, type your name and address, click **Sign In** (not **Configure Manually**) and sign in on the Microsoft page.",
];

const THUNDERBIRD_ALL: &[&str] = &[
    "Open the **≡** menu › **Account Settings › Account Actions › Add Mail Account** (or **File › New › Existing Mail Account**).",
    "Type your name and your email address. Leave the password empty and click **Continue**.",
    "Thunderbird finds the settings by itself: IMAP with OAuth2 is selected automatically. Click **Done**.",
    "Sign in in the Microsoft window that opens.",
];

const OUTLOOK_NEW_ALL: &[&str] = &[
    "Open Outlook and go to **Settings › Accounts › Email accounts › Add account**.",
    "Type your email address and click **Continue**.",
    "Sign in on the Microsoft page. Outlook adds the mailbox as Outlook.com or Microsoft 365, not as IMAP.",
];

const OUTLOOK_CLASSIC_ALL: &[&str] = &[
    "Click **File › Add Account**.",
    "Type your email address and click **Connect**. Leave **Advanced options** alone: do not choose IMAP or POP.",
    "Sign in in the Microsoft window. Outlook adds the mailbox as Exchange, with all its folders, calendar and contacts.",
    "If a small grey Windows box keeps asking for a password instead, this Outlook is out of date: install its updates (**File › Office Account › Update Options › Update Now**).",
];

const LEGACY_PERSONAL: &[&str] = &[
    "These cannot show the Microsoft sign-in window, and Outlook.com no longer lets them in with any password.",
    "Update the app: current versions of most mail apps sign in with Microsoft (Thunderbird, Outlook mobile and Gmail are free).",
    "Or use Outlook's own app (Outlook mobile, the new Outlook for Windows, Outlook for Mac) or the web: outlook.com in any browser.",
    "Nothing else works: no setting or password brings an older app back, and a printer or scanner that can only send with a password can no longer send from an Outlook.com address.",
];

const LEGACY_WORK: &[&str] = &[
    "These cannot show the Microsoft sign-in window, and Microsoft 365 does not accept passwords from them for reading mail.",
    "The real fix: update the client, or replace it with Outlook, Thunderbird or your device's own mail app.",
    "App passwords are not an option for work or school accounts.",
];

const MAC_AFTER_EWS: &[&str] = &[
    "Outlook for Mac: install **Microsoft Outlook** from the Mac App Store (free), open it, type your email address and sign in on the Microsoft page.",
    "Or Thunderbird: install it from thunderbird.net, type your name and email address, leave the password empty and click **Continue**. It finds the settings on this server (IMAP with OAuth2); sign in in the Microsoft window.",
    "Apple has announced nothing else for Mail on the Mac (not verified).",
];

const NO_SUCH_ACCOUNT: Trouble = Trouble {
    seen: "“That Microsoft account doesn't exist. Enter a different account or get a new one.”",
    fix: "The address has a typo, or the account was closed. Check it by signing in at outlook.com in a browser.",
    shown: Shown::Always,
};

const CONDITIONAL_ACCESS: Trouble = Trouble {
    seen: "“You cannot access this right now” (or “You can't get there from here”) after you signed in.",
    fix: "A Conditional Access policy of your organisation blocks this app or this device; nothing on the device changes that. Send a screenshot of the message, with its **Request Id** and time, to your IT department, or use the app they allow (often Outlook mobile).",
    shown: Shown::Always,
};

const NEED_ADMIN_THUNDERBIRD: Trouble = Trouble {
    seen: "“Need admin approval” on the Microsoft page.",
    fix: "Your organisation lets only approved apps read mail. Forward this to your IT department: “Please grant admin consent in Microsoft Entra for Mozilla Thunderbird (application ID 9e5f94bc-e8a4-4e73-b8be-63364c29d753).”",
    shown: Shown::Always,
};

const NEED_ADMIN_GMAIL: Trouble = Trouble {
    seen: "“Need admin approval” on the Microsoft page.",
    fix: "Your organisation lets only approved apps read mail. Forward this to your IT department: “Please grant admin consent in Microsoft Entra for the Gmail app (Google) so I can add my mailbox to it.” Or use Outlook mobile.",
    shown: Shown::Always,
};

const PROTOCOL_OFF: Trouble = Trouble {
    seen: "“AUTHENTICATE failed” (Thunderbird: “Login to server outlook.office365.com with username … failed”) right after a sign-in that worked.",
    fix: "IMAP or POP is switched off for your mailbox. Forward this to your IT department: “Please turn on IMAP for my mailbox (Exchange admin center › Mailboxes › my mailbox › Email apps).”",
    shown: Shown::Always,
};

const SMTP_AUTH_OFF: Trouble = Trouble {
    seen: "“5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant” (or “… for the Mailbox”) when sending.",
    fix: "Sending with SMTP AUTH is switched off. Forward the message to your IT department: they can turn on **Authenticated SMTP** for this one mailbox, or set up an SMTP relay (connector) for the device.",
    shown: Shown::Always,
};

const OLD_THUNDERBIRD: Trouble = Trouble {
    seen: "Thunderbird asks for a password and **OAuth2** is not in its **Authentication method** list.",
    fix: "This Thunderbird is older than 78 and cannot sign in with Microsoft. **Help › About Thunderbird** shows the version; install the current one from thunderbird.net.",
    shown: Shown::Always,
};

const NOT_VERIFIED: Trouble = Trouble {
    seen: "The profile is shown as “Not Verified” (in red) before you install it.",
    fix: "The profile is not signed by whoever runs this page. It is safe to install if you downloaded it from this page: it holds no password, and you sign in on Microsoft's own page. Ask them to sign profiles so it shows “Verified”.",
    shown: Shown::WithUnsignedProfile,
};

const MAC_EWS_BLOCKED: Trouble = Trouble {
    seen: "Mail says “Unable to verify account name or password” or keeps the account offline, although the Microsoft sign-in worked.",
    fix: "Your organisation blocks Exchange Web Services (EWS) for Apple's app. Forward this to your IT department: “Please allow Apple Internet Accounts (application ID f8d98a96-0999-43f5-8af3-69971c7bb423) to use EWS.” Or use Outlook for Mac.",
    shown: Shown::WithProfile,
};

const POP_OFF_OUTLOOK_COM: Trouble = Trouble {
    seen: "The app cannot log in over POP (outlook.office365.com, port 995), while IMAP works.",
    fix: "Outlook.com keeps POP off until you turn it on: at outlook.com open **Settings › Mail › Forwarding and IMAP** and set **Let devices and apps use POP** to **Yes**. IMAP is better: it keeps your folders in step.",
    shown: Shown::Always,
};

const PASSWORD_REFUSED: Trouble = Trouble {
    seen: "“Authentication failed” or the password is asked again and again.",
    fix: "Expected: Outlook.com refuses every password typed into an app. Update the app or use Outlook's own.",
    shown: Shown::Always,
};

const CLASSIC_PASSWORD_BOX: Trouble = Trouble {
    seen: "A small grey Windows box asks for your password again and again.",
    fix: "This Outlook is out of date or set up as IMAP/POP. Install its updates (**File › Office Account › Update Options › Update Now**) and add the account again without **Advanced options**.",
    shown: Shown::Always,
};

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
    app_switch_heading: "Not this app? Choose yours",
    steps_heading: "Steps for {app}",
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
    go_to_question_2: "Go to question 2.",
    go_to_older_apps: "It is one of the older apps: open “Older apps that cannot be updated”.",
    older_apps_summary: "Older apps that cannot be updated (question 3)",
    for_address: "For {address}:",
    did_you_mean_end: "?",
    mac_only: "These steps are for a Mac.",
    on_ipad: "On an iPad or iPhone? Show its steps",
    on_mac: "On a Mac? Show the Mac steps",
    device_choice_kept: "Your choice is kept in this page's link.",
    trouble_heading: "Didn't work?",
    trouble_seen: "You see",
    trouble_fix: "What to do",
    run_by: "This page is run by {name}.",
    run_by_host: "This page is run by whoever runs {host}.",
    run_by_unknown: "This page is run by your email provider's helpers, not by Microsoft.",
    help_mail: "Help: write to {contact}",
    help_url: "Help: {contact}",
    unsigned_profile: "This profile is not signed: your iPhone, iPad or Mac will show it as “Not Verified”. That is expected; install it only if you downloaded it from this page.",
    did_you_mean: "Did you mean",
    not_microsoft: "{domain} is not a Microsoft mailbox. This page is only for Outlook.com (Hotmail, Live, MSN) and Microsoft 365 mailboxes; {domain}'s own help explains how to add it to your app.",
    type_your_address: "Type your email address.",
    meta_description: "Add your Outlook.com or Microsoft 365 mailbox to your mail app: which kind of account it is, the steps for your app, and what to do when it fails.",
    choose_app: "Choose this app",
    copy: "Copy",
    copied: "Copied",
    copy_label: "Copy {host}",
    copied_host: "Copied {host} to the clipboard.",
    copy_failed: "Could not copy: select the name and copy it yourself.",
    question_sign_in: "Does the app show a Microsoft sign-in window (a Microsoft page asking for your password and, if you use it, two-step verification)?",
    answer_sign_in: "Sign in in that window. That is all.",
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
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[CONDITIONAL_ACCESS],
        },
        gmail_android: AppText {
            name: "Gmail for Android",
            summary: "The Gmail app on an Android phone or tablet",
            steps_personal: &[
                "In Gmail, tap your profile picture › **Add another account**.",
                "Choose **Outlook, Hotmail, and Live**.",
                "Type your email address and tap **Next**.",
                "Sign in on the Microsoft page and accept the permissions.",
            ],
            steps_work: &[
                "In Gmail, tap your profile picture › **Add another account**.",
                "Choose **Exchange and Microsoft 365**.",
                "Type your email address and tap **Next**.",
                "Sign in on your organisation's Microsoft page and accept the permissions. If your organisation asks, let Gmail apply its security rules.",
            ],
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[NEED_ADMIN_GMAIL, CONDITIONAL_ACCESS, PROTOCOL_OFF],
        },
        ios_mail: AppText {
            name: "Mail on iPhone and iPad",
            summary: "The Mail app of iOS and iPadOS",
            steps_personal: IOS_PERSONAL,
            steps_work: IOS_WORK,
            trouble_personal: &[NOT_VERIFIED, NO_SUCH_ACCOUNT],
            trouble_work: &[NOT_VERIFIED, CONDITIONAL_ACCESS],
        },
        macos_mail: AppText {
            name: "Mail on a Mac",
            summary: "The Mail app of macOS",
            steps_personal: MACOS_ALL,
            steps_work: MACOS_ALL,
            trouble_personal: &[NOT_VERIFIED],
            trouble_work: &[NOT_VERIFIED, MAC_EWS_BLOCKED, CONDITIONAL_ACCESS],
        },
        thunderbird: AppText {
            name: "Thunderbird",
            summary: "Thunderbird on Windows, Mac and Linux",
            steps_personal: THUNDERBIRD_ALL,
            steps_work: THUNDERBIRD_ALL,
            trouble_personal: &[OLD_THUNDERBIRD, POP_OFF_OUTLOOK_COM],
            trouble_work: &[
                NEED_ADMIN_THUNDERBIRD,
                PROTOCOL_OFF,
                CONDITIONAL_ACCESS,
                OLD_THUNDERBIRD,
            ],
        },
        outlook_new: AppText {
            name: "New Outlook for Windows",
            summary: "The Outlook that replaced Windows Mail on Windows 10 and 11",
            steps_personal: OUTLOOK_NEW_ALL,
            steps_work: OUTLOOK_NEW_ALL,
            trouble_personal: &[NO_SUCH_ACCOUNT],
            trouble_work: &[CONDITIONAL_ACCESS],
        },
        outlook_classic: AppText {
            name: "Classic Outlook for Windows",
            summary: "Outlook from Microsoft 365, 2016, 2019, 2021 or 2024",
            steps_personal: OUTLOOK_CLASSIC_ALL,
            steps_work: OUTLOOK_CLASSIC_ALL,
            trouble_personal: &[CLASSIC_PASSWORD_BOX],
            trouble_work: &[CLASSIC_PASSWORD_BOX, CONDITIONAL_ACCESS],
        },
        legacy: AppText {
            name: "Older apps and devices",
            summary: "Outlook 2010 and 2013, Windows Live Mail, printers and scanners that only do SMTP",
            steps_personal: LEGACY_PERSONAL,
            steps_work: LEGACY_WORK,
            trouble_personal: &[PASSWORD_REFUSED, POP_OFF_OUTLOOK_COM],
            trouble_work: &[SMTP_AUTH_OFF, PROTOCOL_OFF],
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
