//! The dated client table: for each mail client and account kind, what this
//! server answers (account type, protocol, authentication), from which day
//! until which day, and why. Every document and the landing page ask this
//! table; no renderer or route decides a protocol on its own.
//!
//! The dates are facts about Microsoft and the clients (sources in
//! README.md, "Native account types by client and day"). A profile file can
//! move a row's dates (`[[offer]]` in a profile) without a rebuild, e.g.
//! for a tenant that allow-lists Thunderbird for EWS, or when Microsoft
//! shifts a date again.

use std::fmt;

use crate::date::Date;

/// Outlook.com ends password and app-password sign-in for third-party
/// apps (Microsoft, "Modern authentication methods now needed...").
pub const OUTLOOK_COM_PASSWORDS_END: Date = Date::ymd(2024, 9, 16);
/// Thunderbird's readFromXML accepts `ews`/`graph` incoming servers
/// (Bugzilla 1995836, shipped in Thunderbird 153).
pub const THUNDERBIRD_EXCHANGE_TYPES: Date = Date::ymd(2026, 3, 6);
/// Exchange Online blocks EWS per tenant unless the app is allow-listed
/// (MC1227454).
pub const EWS_BLOCKED_BY_DEFAULT: Date = Date::ymd(2026, 10, 1);
/// EWS in Exchange Online is switched off, no exceptions (MC1227454).
pub const EWS_END: Date = Date::ymd(2027, 4, 1);
/// SMTP AUTH with a password becomes a per-tenant exception (MC786329).
pub const SMTP_PASSWORD_EXCEPTION: Date = Date::ymd(2027, 1, 1);
/// The first Thunderbird whose autoconfig reader knows `graph` and `ews`.
pub const THUNDERBIRD_EXCHANGE_VERSION: u32 = 153;
/// Thunderbird gained OAuth2 for Microsoft accounts in 78 (older ones can
/// only send a password, which Microsoft refuses).
pub const THUNDERBIRD_OAUTH2_VERSION: u32 = 78;

/// Entra application IDs a Microsoft 365 admin allows (or consents to).
pub const THUNDERBIRD_APP_ID: &str = "9e5f94bc-e8a4-4e73-b8be-63364c29d753";
pub const APPLE_APP_ID: &str = "f8d98a96-0999-43f5-8af3-69971c7bb423";

/// Personal (Outlook.com) or work/school (Microsoft 365) mailbox; a
/// profile's `audience`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    Personal,
    Work,
}

impl AccountKind {
    pub const ALL: [AccountKind; 2] = [AccountKind::Personal, AccountKind::Work];

    pub fn label(self) -> &'static str {
        match self {
            AccountKind::Personal => "Outlook.com",
            AccountKind::Work => "Microsoft 365",
        }
    }
}

/// A mail client as this server can tell it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Thunderbird with its major version, from its User-Agent.
    Thunderbird(u32),
    IosMail,
    MacMail,
    OutlookClassic,
    NewOutlook,
    OutlookMobile,
    GmailAndroid,
    ActiveSyncApp,
    LegacyImap,
    /// No User-Agent, or one the table has no row for: the conservative
    /// answer (IMAP/SMTP with OAuth2), never a password.
    Other,
}

impl Client {
    /// Thunderbird says who it is in every autoconfig request:
    /// `... Gecko/20100101 Thunderbird/153.8.0`. Anything else is `Other`.
    pub fn from_user_agent(user_agent: Option<&str>) -> Client {
        let Some(user_agent) = user_agent else {
            return Client::Other;
        };
        let version = user_agent
            .split_whitespace()
            .find_map(|token| token.strip_prefix("Thunderbird/"))
            .and_then(|version| version.split('.').next())
            .and_then(|major| major.parse::<u32>().ok());
        match version {
            Some(major) => Client::Thunderbird(major),
            None => Client::Other,
        }
    }
}

/// Which clients a row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clients {
    /// Thunderbird from this major version on (inclusive) up to `below`.
    Thunderbird {
        from: u32,
        below: Option<u32>,
    },
    One(Client),
    /// Every client with no row of its own.
    Others,
}

impl Clients {
    fn matches(self, client: Client) -> bool {
        match (self, client) {
            (Clients::Thunderbird { from, below }, Client::Thunderbird(version)) => {
                version >= from && below.is_none_or(|below| version < below)
            }
            (Clients::One(one), client) => one == client,
            (Clients::Others, client) => client == Client::Other,
            _ => false,
        }
    }

    pub fn label(self) -> String {
        match self {
            Clients::Thunderbird { from, below: None } => format!("Thunderbird {from}+"),
            Clients::Thunderbird {
                from: 0,
                below: Some(below),
            } => format!("Thunderbird before {below}"),
            Clients::Thunderbird {
                from,
                below: Some(below),
            } => format!("Thunderbird {from}–{}", below - 1),
            Clients::One(client) => match client {
                Client::IosMail => "iPhone/iPad Mail",
                Client::MacMail => "Mac Mail",
                Client::OutlookClassic => "Outlook (classic, Windows)",
                Client::NewOutlook => "new Outlook (Windows, Mac)",
                Client::OutlookMobile => "Outlook mobile",
                Client::GmailAndroid => "Gmail for Android",
                Client::ActiveSyncApp => "other ActiveSync apps",
                Client::LegacyImap => "IMAP-only legacy devices and apps",
                Client::Thunderbird(_) | Client::Other => "other clients",
            }
            .into(),
            Clients::Others => "any other client".into(),
        }
    }
}

/// What a row answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Offer {
    /// IMAP (and POP) with SMTP, OAuth2: config-v1.1 for every client.
    MailOAuth2,
    /// Thunderbird's native Exchange through Microsoft Graph.
    ThunderbirdGraph,
    /// Thunderbird's native Exchange through EWS.
    ThunderbirdEws,
    /// `com.apple.eas.account` with OAuth.
    IosActiveSync,
    /// `com.apple.ews.account` with OAuth.
    MacEws,
    /// POX autodiscover: the redirect to Exchange Online.
    OutlookRedirect,
    /// Autodiscover v2 (`AutodiscoverV1`, `ActiveSync`).
    AutodiscoverV2,
    /// Autodiscover v2 `Protocol=EWS`: the EWS URL.
    AutodiscoverV2Ews,
    /// POX `mobilesync`: the ActiveSync URL.
    ActiveSync,
    /// Advice only: IMAP/SMTP with a password for a device that cannot sign
    /// in with Microsoft.
    LegacyPassword,
    /// Advice only: a connector (SMTP relay) for a device that can only
    /// send with a password.
    SmtpRelay,
    /// Nothing works for this client: the page says what to use instead.
    Nothing,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// What a profile's `[[offer]] id` names to move this row's dates.
    pub id: &'static str,
    pub clients: Clients,
    pub account: AccountKind,
    pub offer: Offer,
    /// Account type and protocol, as a person reads it.
    pub answer: &'static str,
    pub auth: &'static str,
    /// First day the row applies (inclusive); `None`: always did.
    pub valid_from: Option<Date>,
    /// First day it no longer applies; `None`: no end known.
    pub valid_until: Option<Date>,
    /// Latest `valid_until` a profile may set: a hard end nobody can move.
    pub hard_end: Option<Date>,
    pub reason: &'static str,
}

impl Row {
    pub fn applies_on(&self, day: Date) -> bool {
        self.valid_from.is_none_or(|from| day >= from)
            && self.valid_until.is_none_or(|until| day < until)
    }
}

// One argument per column of the table, in the order the table is read.
#[allow(clippy::too_many_arguments)]
const fn row(
    id: &'static str,
    clients: Clients,
    account: AccountKind,
    offer: Offer,
    answer: &'static str,
    auth: &'static str,
    valid_from: Option<Date>,
    valid_until: Option<Date>,
    reason: &'static str,
) -> Row {
    Row {
        id,
        clients,
        account,
        offer,
        answer,
        auth,
        valid_from,
        valid_until,
        hard_end: None,
        reason,
    }
}

const TB_OAUTH2: Clients = Clients::Thunderbird {
    from: THUNDERBIRD_OAUTH2_VERSION,
    below: None,
};
const TB_OLD: Clients = Clients::Thunderbird {
    from: 0,
    below: Some(THUNDERBIRD_OAUTH2_VERSION),
};
const TB_EXCHANGE: Clients = Clients::Thunderbird {
    from: THUNDERBIRD_EXCHANGE_VERSION,
    below: None,
};
use AccountKind::{Personal, Work};

/// The built-in table, before any profile moves a date.
pub fn default_rows() -> Vec<Row> {
    let mut rows = vec![
        row(
            "thunderbird-mail-oauth2",
            TB_OAUTH2,
            Personal,
            Offer::MailOAuth2,
            "IMAP + SMTP",
            "OAuth2",
            None,
            None,
            "Outlook.com accepts only OAuth2 from third-party apps since 2024-09-16; \
             Microsoft offers no Exchange type for personal accounts in Thunderbird (ISPDB lists none)",
        ),
        row(
            "thunderbird-mail-oauth2",
            TB_OAUTH2,
            Work,
            Offer::MailOAuth2,
            "IMAP + SMTP (first, recommended)",
            "OAuth2",
            None,
            None,
            "works in every tenant that has IMAP and SMTP AUTH on for the mailbox",
        ),
        row(
            "thunderbird-graph",
            TB_EXCHANGE,
            Work,
            Offer::ThunderbirdGraph,
            "Exchange (Microsoft Graph), after IMAP",
            "OAuth2",
            Some(THUNDERBIRD_EXCHANGE_TYPES),
            None,
            "Thunderbird 153 reads `graph` servers when mail.graph.enabled is on (the default from 154) \
             and skips them otherwise",
        ),
        Row {
            hard_end: Some(EWS_END),
            ..row(
                "thunderbird-ews",
                TB_EXCHANGE,
                Work,
                Offer::ThunderbirdEws,
                "Exchange (EWS), after IMAP",
                "OAuth2",
                Some(THUNDERBIRD_EXCHANGE_TYPES),
                Some(EWS_BLOCKED_BY_DEFAULT),
                "since 2026-10-01 tenants block EWS unless Thunderbird's app ID is allow-listed, and \
                 EWS ends 2027-04-01; a tenant that allows it may move this row's end up to 2027-04-01",
            )
        },
        row(
            "thunderbird-old",
            TB_OLD,
            Personal,
            Offer::Nothing,
            "nothing: update Thunderbird",
            "—",
            Some(OUTLOOK_COM_PASSWORDS_END),
            None,
            "Thunderbird before 78 cannot sign in with Microsoft, and passwords are refused",
        ),
        row(
            "thunderbird-old",
            TB_OLD,
            Work,
            Offer::Nothing,
            "nothing: update Thunderbird",
            "—",
            None,
            None,
            "Thunderbird before 78 cannot sign in with Microsoft, and Microsoft 365 refuses passwords for IMAP",
        ),
    ];
    for account in AccountKind::ALL {
        rows.extend([
            row(
                "ios-activesync",
                Clients::One(Client::IosMail),
                account,
                Offer::IosActiveSync,
                "Exchange ActiveSync profile",
                "OAuth (Microsoft sign-in sheet)",
                None,
                None,
                "ActiveSync is not affected by the EWS retirement",
            ),
            Row {
                hard_end: Some(EWS_END),
                ..row(
                    "mac-ews",
                    Clients::One(Client::MacMail),
                    account,
                    Offer::MacEws,
                    "Exchange (EWS) profile",
                    "OAuth (Microsoft sign-in sheet)",
                    None,
                    Some(EWS_END),
                    match account {
                        Personal => {
                            "the Mac's Exchange account is EWS, which ends 2027-04-01 \
                             (whether Outlook.com accepts it at all is unverified)"
                        }
                        Work => {
                            "the Mac's Exchange account is EWS: since 2026-10-01 the admin must allow \
                             Apple's app (f8d98a96-0999-43f5-8af3-69971c7bb423); it ends 2027-04-01"
                        }
                    },
                )
            },
            row(
                "mac-after-ews",
                Clients::One(Client::MacMail),
                account,
                Offer::Nothing,
                "no profile (410 Gone): Outlook for Mac, or Thunderbird with autoconfig",
                "OAuth2",
                Some(EWS_END),
                None,
                "macOS has no ActiveSync and its managed IMAP account has no OAuth",
            ),
            row(
                "outlook-classic",
                Clients::One(Client::OutlookClassic),
                account,
                Offer::OutlookRedirect,
                "redirect to Exchange Online autodiscover (native account)",
                "modern authentication",
                None,
                None,
                "Outlook sets the account up as Outlook.com or Microsoft 365 itself",
            ),
            row(
                "outlook-new",
                Clients::One(Client::NewOutlook),
                account,
                Offer::AutodiscoverV2,
                "autodiscover v2 (native account)",
                "modern authentication",
                None,
                None,
                "new Outlook uses Microsoft's own protocols",
            ),
            row(
                "outlook-mobile",
                Clients::One(Client::OutlookMobile),
                account,
                Offer::AutodiscoverV2,
                "autodiscover v2 (native account)",
                "modern authentication",
                None,
                None,
                "Outlook mobile uses Microsoft's own protocols",
            ),
            Row {
                hard_end: Some(EWS_END),
                ..row(
                    "autodiscover-v2-ews",
                    Clients::One(Client::NewOutlook),
                    account,
                    Offer::AutodiscoverV2Ews,
                    "autodiscover v2 Protocol=EWS: the EWS URL",
                    "modern authentication",
                    None,
                    Some(EWS_END),
                    "Exchange Online answers its EWS URL while EWS lives",
                )
            },
            row(
                "gmail-android",
                Clients::One(Client::GmailAndroid),
                account,
                Offer::ActiveSync,
                "Exchange and Microsoft 365 (ActiveSync)",
                "OAuth",
                None,
                None,
                "ActiveSync is not affected by the EWS retirement",
            ),
            row(
                "activesync-apps",
                Clients::One(Client::ActiveSyncApp),
                account,
                Offer::ActiveSync,
                "ActiveSync (mobilesync autodiscover)",
                "OAuth where the app supports it",
                None,
                None,
                "Exchange Online refuses Basic authentication for ActiveSync",
            ),
            row(
                "others-mail-oauth2",
                Clients::Others,
                account,
                Offer::MailOAuth2,
                "IMAP + SMTP (config-v1.1)",
                "OAuth2",
                None,
                None,
                "the conservative answer: no new account types, never a password",
            ),
        ]);
    }
    rows.extend([
        row(
            "legacy-outlook-com",
            Clients::One(Client::LegacyImap),
            Personal,
            Offer::Nothing,
            "nothing: update the app, or use Outlook's app or the web",
            "—",
            Some(OUTLOOK_COM_PASSWORDS_END),
            None,
            "Outlook.com refuses passwords and app passwords since 2024-09-16",
        ),
        row(
            "legacy-smtp-password",
            Clients::One(Client::LegacyImap),
            Work,
            Offer::LegacyPassword,
            "SMTP with a password (sending only)",
            "password (SMTP AUTH)",
            None,
            Some(SMTP_PASSWORD_EXCEPTION),
            "Microsoft 365 refuses passwords for IMAP/POP; SMTP AUTH with a password is off by default \
             from the end of 2026",
        ),
        row(
            "legacy-smtp-relay",
            Clients::One(Client::LegacyImap),
            Work,
            Offer::SmtpRelay,
            "a connector (SMTP relay) set up by the admin",
            "connector (IP or certificate)",
            None,
            None,
            "SMTP AUTH with a password is a per-tenant exception from 2027; a connector does not need it",
        ),
    ]);
    rows
}

/// A row's dates moved by a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateChange {
    pub id: String,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
}

/// Why a profile's date change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("unknown client table row {id:?}; known rows: {known}")]
    UnknownRow { id: String, known: String },
    #[error("the dates of {id} run backwards: valid_from {from} is not before valid_until {until}")]
    Backwards { id: String, from: Date, until: Date },
    #[error("{id} cannot run past {hard_end}: {reason}")]
    PastHardEnd {
        id: String,
        hard_end: Date,
        reason: &'static str,
    },
}

/// The table for one account kind with a profile's date changes applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTable {
    rows: Vec<Row>,
    /// Row numbers by `Offer`, in table order: `offers` runs on every
    /// Thunderbird request and looks only at its offer's rows.
    by_offer: Vec<Vec<usize>>,
}

impl ClientTable {
    /// The rows for `account`, with `changes` applied; every change is
    /// checked (known row, dates forward, no EWS past its end).
    pub fn new(account: AccountKind, changes: &[DateChange]) -> Result<ClientTable, TableError> {
        let mut rows: Vec<Row> = default_rows()
            .into_iter()
            .filter(|row| row.account == account)
            .collect();
        for change in changes {
            check_change(change, account)?;
            for row in rows.iter_mut().filter(|row| row.id == change.id) {
                row.valid_from = change.valid_from;
                row.valid_until = change.valid_until;
            }
        }
        let mut by_offer = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            let offer = row.offer as usize;
            if by_offer.len() <= offer {
                by_offer.resize(offer + 1, Vec::new());
            }
            by_offer[offer].push(index);
        }
        Ok(ClientTable { rows, by_offer })
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// True when `client` is offered `offer` on `day`.
    pub fn offers(&self, client: Client, offer: Offer, day: Date) -> bool {
        self.of_offer(offer)
            .any(|row| row.clients.matches(client) && row.applies_on(day))
    }

    /// The row for `client` and `offer` whatever the day (for the page's
    /// reasons and end dates).
    pub fn row(&self, client: Client, offer: Offer) -> Option<&Row> {
        self.of_offer(offer).find(|row| row.clients.matches(client))
    }

    /// The rows of `offer`, in table order.
    fn of_offer(&self, offer: Offer) -> impl Iterator<Item = &Row> {
        let rows = self
            .by_offer
            .get(offer as usize)
            .map_or(&[][..], Vec::as_slice);
        rows.iter().map(|&index| &self.rows[index])
    }
}

/// Checks one profile change against the built-in rows.
pub fn check_change(change: &DateChange, account: AccountKind) -> Result<(), TableError> {
    // Only the rows of this profile's account kind: a work-only row named
    // in a personal profile would otherwise be accepted and do nothing.
    let defaults: Vec<Row> = default_rows()
        .into_iter()
        .filter(|row| row.account == account)
        .collect();
    let Some(row) = defaults.iter().find(|row| row.id == change.id) else {
        let mut known: Vec<&str> = defaults.iter().map(|row| row.id).collect();
        known.dedup();
        return Err(TableError::UnknownRow {
            id: change.id.clone(),
            known: known.join(", "),
        });
    };
    if let (Some(from), Some(until)) = (change.valid_from, change.valid_until)
        && from >= until
    {
        return Err(TableError::Backwards {
            id: change.id.clone(),
            from,
            until,
        });
    }
    if let Some(hard_end) = row.hard_end
        && change.valid_until.is_none_or(|until| until > hard_end)
    {
        return Err(TableError::PastHardEnd {
            id: change.id.clone(),
            hard_end,
            reason: "EWS in Exchange Online is switched off that day, with no exceptions",
        });
    }
    Ok(())
}

/// Whether a row applies on a day, for printing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Active,
    NotYet,
    Ended,
}

impl Standing {
    pub fn of(row: &Row, day: Date) -> Standing {
        if row.valid_from.is_some_and(|from| day < from) {
            Standing::NotYet
        } else if row.valid_until.is_some_and(|until| day >= until) {
            Standing::Ended
        } else {
            Standing::Active
        }
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Standing::Active => "yes",
            Standing::NotYet => "not yet",
            Standing::Ended => "ended",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work() -> ClientTable {
        ClientTable::new(AccountKind::Work, &[]).unwrap()
    }

    /// `offers` and `row` look at their offer's rows only, and answer what
    /// a look at every row answers: every client, offer and row date.
    #[test]
    fn looking_at_one_offers_rows_answers_as_looking_at_all() {
        for account in AccountKind::ALL {
            let table = ClientTable::new(account, &[]).unwrap();
            let offers: Vec<Offer> = table.rows().iter().map(|row| row.offer).collect();
            let days: Vec<Date> = table
                .rows()
                .iter()
                .flat_map(|row| [row.valid_from, row.valid_until])
                .flatten()
                .chain(["2024-01-01".parse().unwrap(), "2030-01-01".parse().unwrap()])
                .collect();
            let clients = [
                Client::Thunderbird(115),
                Client::Thunderbird(145),
                Client::Thunderbird(154),
                Client::IosMail,
                Client::MacMail,
                Client::OutlookClassic,
                Client::NewOutlook,
                Client::OutlookMobile,
                Client::GmailAndroid,
                Client::ActiveSyncApp,
                Client::LegacyImap,
                Client::Other,
            ];
            let mut offered = 0;
            for &offer in &offers {
                for client in clients {
                    let all = table.rows().iter().filter(|row| row.offer == offer);
                    assert_eq!(
                        table.row(client, offer).map(|row| row.id),
                        all.clone()
                            .find(|row| row.clients.matches(client))
                            .map(|row| row.id)
                    );
                    for &day in &days {
                        let expected = all
                            .clone()
                            .any(|row| row.clients.matches(client) && row.applies_on(day));
                        assert_eq!(table.offers(client, offer, day), expected);
                        offered += usize::from(expected);
                    }
                }
            }
            assert!(offered > 0);
        }
    }

    #[test]
    fn thunderbird_is_told_apart_by_its_user_agent() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Thunderbird/153.8.0";
        assert_eq!(Client::from_user_agent(Some(ua)), Client::Thunderbird(153));
        for other in [
            None,
            Some(""),
            Some("curl/8.5.0"),
            Some("Mozilla/5.0 Firefox/140.0"),
            Some("Thunderbird/x"),
        ] {
            assert_eq!(Client::from_user_agent(other), Client::Other, "{other:?}");
        }
    }

    #[test]
    fn graph_goes_to_thunderbird_153_and_later_only() {
        let day = Date::ymd(2026, 12, 1);
        let table = work();
        assert!(table.offers(Client::Thunderbird(153), Offer::ThunderbirdGraph, day));
        assert!(table.offers(Client::Thunderbird(160), Offer::ThunderbirdGraph, day));
        assert!(!table.offers(Client::Thunderbird(152), Offer::ThunderbirdGraph, day));
        assert!(!table.offers(Client::Other, Offer::ThunderbirdGraph, day));
        assert!(table.offers(Client::Other, Offer::MailOAuth2, day));
        let personal = ClientTable::new(AccountKind::Personal, &[]).unwrap();
        assert!(!personal.offers(Client::Thunderbird(153), Offer::ThunderbirdGraph, day));
    }

    #[test]
    fn ews_ends_on_its_dates_and_no_profile_moves_it_past_2027_04_01() {
        let table = work();
        let tb = Client::Thunderbird(153);
        assert!(table.offers(tb, Offer::ThunderbirdEws, Date::ymd(2026, 9, 30)));
        assert!(!table.offers(tb, Offer::ThunderbirdEws, Date::ymd(2026, 10, 1)));
        assert!(table.offers(Client::MacMail, Offer::MacEws, Date::ymd(2027, 3, 31)));
        assert!(!table.offers(Client::MacMail, Offer::MacEws, Date::ymd(2027, 4, 1)));
        let allowed = DateChange {
            id: "thunderbird-ews".into(),
            valid_from: None,
            valid_until: Some(EWS_END),
        };
        let table = ClientTable::new(AccountKind::Work, std::slice::from_ref(&allowed)).unwrap();
        assert!(table.offers(tb, Offer::ThunderbirdEws, Date::ymd(2027, 3, 31)));
        assert!(!table.offers(tb, Offer::ThunderbirdEws, EWS_END));
        for until in [Some(Date::ymd(2027, 4, 2)), None] {
            let change = DateChange {
                valid_until: until,
                ..allowed.clone()
            };
            assert!(matches!(
                ClientTable::new(AccountKind::Work, &[change]),
                Err(TableError::PastHardEnd { .. })
            ));
        }
    }

    #[test]
    fn changes_must_name_a_row_and_run_forwards() {
        let backwards = DateChange {
            id: "thunderbird-graph".into(),
            valid_from: Some(Date::ymd(2027, 1, 1)),
            valid_until: Some(Date::ymd(2026, 1, 1)),
        };
        assert!(matches!(
            check_change(&backwards, AccountKind::Work),
            Err(TableError::Backwards { .. })
        ));
        let unknown = DateChange {
            id: "thunderbird-owa".into(),
            valid_from: None,
            valid_until: None,
        };
        assert!(matches!(
            check_change(&unknown, AccountKind::Work),
            Err(TableError::UnknownRow { .. })
        ));
        // Graph is a Microsoft 365 row: a personal profile cannot name it.
        let work_only = DateChange {
            id: "thunderbird-graph".into(),
            valid_from: None,
            valid_until: None,
        };
        assert!(matches!(
            check_change(&work_only, AccountKind::Personal),
            Err(TableError::UnknownRow { .. })
        ));
    }

    #[test]
    fn no_row_offers_outlook_com_a_password() {
        for row in default_rows() {
            if row.account == AccountKind::Personal {
                assert!(
                    !row.auth.contains("password") && row.offer != Offer::LegacyPassword,
                    "{row:?}"
                );
            }
        }
    }
}

/// One printed row of `mailsetup clients`.
#[derive(Debug, serde::Serialize)]
pub struct ReportRow {
    pub id: &'static str,
    pub account: &'static str,
    pub client: String,
    pub answer: &'static str,
    pub auth: &'static str,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// `yes`, `not yet` or `ended` on the report's day.
    pub applies: String,
    pub reason: &'static str,
}

/// The tables as they apply on `day`, row by row.
pub fn report(tables: &[&ClientTable], day: Date) -> Vec<ReportRow> {
    tables
        .iter()
        .flat_map(|table| table.rows())
        .map(|row| ReportRow {
            id: row.id,
            account: row.account.label(),
            client: row.clients.label(),
            answer: row.answer,
            auth: row.auth,
            valid_from: row.valid_from.map(|d| d.to_string()),
            valid_until: row.valid_until.map(|d| d.to_string()),
            applies: Standing::of(row, day).to_string(),
            reason: row.reason,
        })
        .collect()
}

/// The report as text: one block per row, for a terminal.
pub fn render_text(rows: &[ReportRow], day: Date) -> String {
    let mut out = format!("client table on {day}\n");
    for row in rows {
        out.push_str(&format!(
            "\n{} · {}  [{}]\n  answer: {} ({})\n  valid: {} → {}\n  why: {}\n",
            row.account,
            row.client,
            row.applies,
            row.answer,
            row.auth,
            row.valid_from.as_deref().unwrap_or("always"),
            row.valid_until.as_deref().unwrap_or("no end known"),
            row.reason,
        ));
    }
    out
}

/// What a Microsoft 365 administrator must allow for a row's answer to
/// work; empty where nothing is needed or the row is advice.
pub fn admin_requirement(id: &str) -> &'static str {
    match id {
        "thunderbird-mail-oauth2" => {
            "Thunderbird (app ID 9e5f94bc-e8a4-4e73-b8be-63364c29d753): user consent, or admin \
             consent where users may not consent; IMAP and SMTP AUTH on for the mailbox"
        }
        "thunderbird-graph" => {
            "consent to Thunderbird's Microsoft Graph permissions (User.Read, Mail.ReadWrite, \
             Mail.Send, MailboxFolder.ReadWrite)"
        }
        "thunderbird-ews" => {
            "EWS on for the tenant and Thunderbird's app ID in EWSAllowedAppIDs (possible until \
             2027-04-01 only)"
        }
        "ios-activesync" => {
            "ActiveSync on for the mailbox; consent to Apple Internet Accounts (app ID \
             f8d98a96-0999-43f5-8af3-69971c7bb423)"
        }
        "mac-ews" => {
            "consent to Apple Internet Accounts (app ID f8d98a96-0999-43f5-8af3-69971c7bb423) and, \
             since 2026-10-01, that app ID in EWSAllowedAppIDs"
        }
        "gmail-android" | "activesync-apps" => {
            "ActiveSync on for the mailbox; consent to the app where users may not consent"
        }
        "legacy-smtp-password" => {
            "SMTP AUTH on for the mailbox; from the end of 2026 the tenant's exception as well"
        }
        "legacy-smtp-relay" => "a connector for the device's IP address or certificate",
        _ => "",
    }
}

/// What a Microsoft 365 admin must allow, client by client, as Markdown.
pub fn render_admin_markdown(rows: &[ReportRow]) -> String {
    let mut out = String::from(
        "| client | answer | the Microsoft 365 admin must allow | until |\n|---|---|---|---|\n",
    );
    for row in rows {
        let need = admin_requirement(row.id);
        if row.account != AccountKind::Work.label() || need.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.client,
            row.answer,
            need,
            row.valid_until.as_deref().unwrap_or("—"),
        ));
    }
    out
}

/// The report as the README's Markdown table.
pub fn render_markdown(rows: &[ReportRow], day: Date) -> String {
    let mut out = format!(
        "Client table on {day} (`mailsetup clients --today {day} --format markdown`):\n\n\
         | account | client | answer | auth | from | until | on {day} | why |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    for row in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.account,
            row.client,
            row.answer,
            row.auth,
            row.valid_from.as_deref().unwrap_or("—"),
            row.valid_until.as_deref().unwrap_or("—"),
            row.applies,
            row.reason,
        ));
    }
    out
}
