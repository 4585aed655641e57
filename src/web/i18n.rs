//! The landing page's words, one file per language (`i18n/en.rs`,
//! `i18n/fr.rs`). Owns the list of languages and how a request picks one;
//! holds no markup: every string is plain text, escaped by the template.
//!
//! To add a language: copy `en.rs`, translate it, add a `Lang` variant and
//! its line in `Lang::ALL`. A missing string is a compile error.

use crate::date::Date;
use crate::email::{AddressError, visible_form};

mod en;
mod fr;

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    /// Every language, in the order the switch shows them; the first is
    /// the default.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::En => &en::STRINGS,
            Lang::Fr => &fr::STRINGS,
        }
    }

    /// The BCP 47 tag, as in `?lang=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        self.strings().code
    }

    /// `en`, `fr`; case-insensitive, as people type URLs.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|lang| lang.code().eq_ignore_ascii_case(code))
    }

    /// The best language for an `Accept-Language` header (RFC 9110
    /// §12.5.4): highest q-value first, the header's order among equals;
    /// only the primary subtag is compared (`fr-CA` is French). `None` when
    /// nothing offered is acceptable.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, u16)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let mut quality = 1000;
            for parameter in parts {
                let Some((key, value)) = parameter.split_once('=') else {
                    continue;
                };
                if key.trim().eq_ignore_ascii_case("q") {
                    quality = crate::qvalue::parse_qvalue(value).unwrap_or(0);
                }
            }
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((lang, quality));
            }
        }
        best.map(|(lang, _)| lang)
    }
}

/// Steps for one app, for each kind of account.
pub struct AppText {
    pub name: &'static str,
    /// One line under the name: which devices or versions.
    pub summary: &'static str,
    pub steps_personal: &'static [&'static str],
    pub steps_work: &'static [&'static str],
    /// "Didn't work?": what the person sees and what to do, per account.
    pub trouble_personal: &'static [Trouble],
    pub trouble_work: &'static [Trouble],
}

/// One failure a person can meet: the exact message they see, and what to
/// do or forward to their admin.
pub struct Trouble {
    pub seen: &'static str,
    pub fix: &'static str,
    pub shown: Shown,
}

/// Where a `Trouble` can happen at all.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Always,
    /// Where the page offers an Apple profile (the Mac's Exchange account).
    WithProfile,
    /// Where that profile is unsigned ("Not Verified").
    WithUnsignedProfile,
}

/// Every string of the page in one language. `{domain}`, `{reason}`,
/// `{app}` are replaced by the page before escaping.
pub struct Strings {
    pub code: &'static str,
    /// The language's own name, for the switch.
    pub name: &'static str,
    pub page_title: &'static str,
    pub intro: &'static str,
    pub language_switch: &'static str,
    pub email_label: &'static str,
    pub email_placeholder: &'static str,
    pub submit: &'static str,
    pub invalid_address: &'static str,
    pub repeated_parameter: &'static str,
    pub bad_encoding: &'static str,
    pub unknown_domain: &'static str,
    pub account_heading: &'static str,
    pub kind_personal: &'static str,
    pub kind_work: &'static str,
    pub answer_heading: &'static str,
    pub answer_modern: &'static str,
    /// Outlook.com and an app that cannot sign in with Microsoft; `{date}`
    /// is the day Outlook.com stopped taking passwords.
    pub answer_legacy_personal: &'static str,
    pub answer_legacy_work: &'static str,
    /// Mac Mail once its Exchange (EWS) account has ended on `{date}`.
    pub answer_mac_ended: &'static str,
    pub recommended: &'static str,
    pub recommended_modern: &'static str,
    pub recommended_legacy_personal: &'static str,
    pub recommended_legacy_work: &'static str,
    pub recommended_mac_ended: &'static str,
    /// The switch's visible heading, under the steps.
    pub app_switch_heading: &'static str,
    pub steps_heading: &'static str,
    pub profile_ios: &'static str,
    pub profile_macos: &'static str,
    /// Microsoft 365 on the Mac before `{date}` (EWS blocked by default):
    /// the admin will have to allow Apple's app, `{app_id}`.
    pub mac_ews_admin_from: &'static str,
    /// The same from `{date}` on: the admin must allow it now.
    pub mac_ews_admin_since: &'static str,
    /// The Mac's Exchange account stops working on `{date}` (EWS ends).
    pub mac_ews_end: &'static str,
    /// From `{date}` (EWS ended): why Mac Mail cannot add the mailbox.
    pub mac_after_ews_note: &'static str,
    /// What works on a Mac once EWS has ended.
    pub mac_after_ews_steps: &'static [&'static str],
    /// Microsoft 365 in Thunderbird `{version}`+: Exchange (Graph) may be
    /// offered besides IMAP.
    pub thunderbird_graph_note: &'static str,
    /// Microsoft 365, a device that only sends: the connector (SMTP relay).
    pub legacy_work_connector: &'static str,
    /// SMTP AUTH with a password while the client table still offers it;
    /// `{until}` is `until_end_of_year`, `until_day` or `until_unknown`.
    pub legacy_work_smtp_until: &'static str,
    /// SMTP AUTH with a password once it is a per-tenant exception.
    pub legacy_work_smtp_exception: &'static str,
    pub decision_heading: &'static str,
    /// Question 1's "No": where to read on.
    pub go_to_question_2: &'static str,
    /// Question 2's "No": the rare case, behind `older_apps_summary`.
    pub go_to_older_apps: &'static str,
    pub older_apps_summary: &'static str,
    /// Question 3's answer for this address: "For {address}".
    pub for_address: &'static str,
    /// Under the Mac steps: they are for a Mac, and the way out for an
    /// iPad, whose Safari says it is a Mac.
    pub mac_only: &'static str,
    pub on_ipad: &'static str,
    /// Under the iPhone/iPad steps: the way to the Mac's.
    pub on_mac: &'static str,
    /// Why the device choice is in the link.
    pub device_choice_kept: &'static str,
    pub trouble_heading: &'static str,
    pub trouble_seen: &'static str,
    pub trouble_fix: &'static str,
    /// Who runs the page: `{name}`.
    pub run_by: &'static str,
    /// Without `[page] organization`: `{host}`.
    pub run_by_host: &'static str,
    pub run_by_unknown: &'static str,
    pub help_mail: &'static str,
    pub help_url: &'static str,
    /// Profiles are not signed: what the device shows.
    pub unsigned_profile: &'static str,
    /// A typo'd consumer domain: `{suggestion}` is a link.
    pub did_you_mean: &'static str,
    /// What ends the question after the link ("?", " ?").
    pub did_you_mean_end: &'static str,
    /// A well-known mailbox that is not Microsoft's: `{domain}`.
    pub not_microsoft: &'static str,
    /// An empty submit.
    pub type_your_address: &'static str,
    pub meta_description: &'static str,
    /// The Copy button's visible text, and after a copy.
    pub copy: &'static str,
    pub copied: &'static str,
    /// The button's accessible name: what it copies, `{host}`.
    pub copy_label: &'static str,
    /// Said by the live region after a copy: `{host}`.
    pub copied_host: &'static str,
    /// Said when the browser refused to write the clipboard.
    pub copy_failed: &'static str,
    /// In each other app's fold: make it the selected app.
    pub choose_app: &'static str,
    pub question_sign_in: &'static str,
    pub answer_sign_in: &'static str,
    pub question_update: &'static str,
    pub answer_update: &'static str,
    pub question_personal: &'static str,
    /// Outlook.com: nothing else works since `{date}`.
    pub answer_personal_yes: &'static str,
    /// Microsoft 365 while SMTP AUTH with a password is still offered
    /// (`{until}` as in `legacy_work_smtp_until`).
    pub answer_personal_no_until: &'static str,
    /// Microsoft 365 once SMTP AUTH with a password is an exception.
    pub answer_personal_no_exception: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub settings_heading: &'static str,
    pub settings_username: &'static str,
    pub settings_caption: &'static str,
    pub column_protocol: &'static str,
    pub column_server: &'static str,
    pub column_port: &'static str,
    pub column_encryption: &'static str,
    pub column_authentication: &'static str,
    pub auth_oauth2: &'static str,
    pub auth_password: &'static str,
    pub settings_documentation: &'static str,
    pub phone_heading: &'static str,
    pub qr_alt: &'static str,
    pub qr_text: &'static str,
    pub footer: &'static str,
    /// Month names for dates in sentences, January first.
    pub months: [&'static str; 12],
    /// How the first day of a month is written ("1", "1er").
    pub first_of_month: &'static str,
    /// A date in a sentence: `{day}`, `{month}`, `{year}`.
    pub date_format: &'static str,
    /// "until the end of `{year}`", for an end on 1 January.
    pub until_end_of_year: &'static str,
    /// "until `{date}`", the last day something still works.
    pub until_day: &'static str,
    /// When the table knows no end.
    pub until_unknown: &'static str,
    pub apps: Apps,
    pub errors: AddressErrors,
}

impl Strings {
    /// `date` as people write it in this language: "1 April 2027",
    /// "1er avril 2027".
    pub fn long_date(&self, date: Date) -> String {
        let (year, month, day) = (date.year(), date.month(), date.day());
        let day = if day == 1 {
            self.first_of_month.to_owned()
        } else {
            day.to_string()
        };
        self.date_format
            .replace("{day}", &day)
            .replace("{month}", self.months[usize::from(month) - 1])
            .replace("{year}", &year.to_string())
    }

    /// "until ..." for something that stops working on `end` (the first
    /// day it no longer works): "the end of 2026" when `end` is 1 January,
    /// otherwise the last day it still works.
    pub fn until(&self, end: Option<Date>) -> String {
        let Some(end) = end else {
            return self.until_unknown.to_owned();
        };
        let (year, month, day) = (end.year(), end.month(), end.day());
        if (month, day) == (1, 1) {
            return self
                .until_end_of_year
                .replace("{year}", &(year - 1).to_string());
        }
        self.until_day
            .replace("{date}", &self.long_date(end.previous_day()))
    }
}

/// One `AppText` per `web::AppId`.
pub struct Apps {
    pub outlook_mobile: AppText,
    pub gmail_android: AppText,
    pub ios_mail: AppText,
    pub macos_mail: AppText,
    pub thunderbird: AppText,
    pub outlook_new: AppText,
    pub outlook_classic: AppText,
    pub legacy: AppText,
}

/// One sentence per `AddressError`, completing "This is not a valid email
/// address: ...". `{char}` and `{max}` are filled in.
pub struct AddressErrors {
    pub empty: &'static str,
    pub too_long: &'static str,
    pub missing_at: &'static str,
    pub multiple_at: &'static str,
    pub empty_local_part: &'static str,
    pub local_part_too_long: &'static str,
    pub local_part_dots: &'static str,
    pub control_character: &'static str,
    pub space: &'static str,
    pub forbidden_character: &'static str,
    pub empty_domain: &'static str,
    pub domain_too_long: &'static str,
    pub single_label: &'static str,
    pub empty_label: &'static str,
    pub label_too_long: &'static str,
    pub label_hyphen: &'static str,
    pub domain_character: &'static str,
    pub ip_literal: &'static str,
    pub invalid_idn: &'static str,
}

impl AddressErrors {
    /// The reason, in this language, with its values filled in.
    pub fn reason(&self, error: &AddressError) -> String {
        use crate::email::{MAX_ADDRESS_LEN, MAX_DOMAIN_LEN, MAX_LABEL_LEN, MAX_LOCAL_PART_LEN};
        let with_max = |text: &str, max: usize| text.replace("{max}", &max.to_string());
        let with_char = |text: &str, c: char| text.replace("{char}", &visible_form(c));
        match error {
            AddressError::Empty => self.empty.into(),
            AddressError::TooLong => with_max(self.too_long, MAX_ADDRESS_LEN),
            AddressError::MissingAt => self.missing_at.into(),
            AddressError::MultipleAt => self.multiple_at.into(),
            AddressError::EmptyLocalPart => self.empty_local_part.into(),
            AddressError::LocalPartTooLong => {
                with_max(self.local_part_too_long, MAX_LOCAL_PART_LEN)
            }
            AddressError::LocalPartDots => self.local_part_dots.into(),
            AddressError::ControlCharacter => self.control_character.into(),
            AddressError::Space => self.space.into(),
            AddressError::ForbiddenCharacter(c) => with_char(self.forbidden_character, *c),
            AddressError::EmptyDomain => self.empty_domain.into(),
            AddressError::DomainTooLong => with_max(self.domain_too_long, MAX_DOMAIN_LEN),
            AddressError::SingleLabel => self.single_label.into(),
            AddressError::EmptyLabel => self.empty_label.into(),
            AddressError::LabelTooLong => with_max(self.label_too_long, MAX_LABEL_LEN),
            AddressError::LabelHyphen => self.label_hyphen.into(),
            AddressError::DomainCharacter(c) => with_char(self.domain_character, *c),
            AddressError::IpLiteral => self.ip_literal.into(),
            AddressError::InvalidIdn => self.invalid_idn.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality() {
        let cases = [
            ("fr-FR,fr;q=0.9,en;q=0.8", Some(Lang::Fr)),
            ("en-GB,en;q=0.9,fr;q=0.8", Some(Lang::En)),
            ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", Some(Lang::Fr)),
            ("en;q=0.2, fr;q=0.7", Some(Lang::Fr)),
            ("FR-ca", Some(Lang::Fr)),
            ("fr;q=0, en;q=0.1", Some(Lang::En)),
            ("de, *;q=0.5", None),
            ("fr;q=2", None),
            ("", None),
        ];
        for (header, expected) in cases {
            assert_eq!(Lang::from_accept_language(header), expected, "{header:?}");
        }
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let april = Date::new(2027, 4, 1).unwrap();
        let september = Date::new(2024, 9, 16).unwrap();
        assert_eq!(Lang::En.strings().long_date(april), "1 April 2027");
        assert_eq!(Lang::Fr.strings().long_date(april), "1er avril 2027");
        assert_eq!(Lang::Fr.strings().long_date(september), "16 septembre 2024");
        let new_year = Date::new(2027, 1, 1);
        assert_eq!(Lang::En.strings().until(new_year), "until the end of 2026");
        assert_eq!(Lang::Fr.strings().until(new_year), "jusqu’à fin 2026");
        assert_eq!(Lang::En.strings().until(Some(april)), "until 31 March 2027");
        let march = Date::new(2028, 3, 1);
        assert_eq!(Lang::En.strings().until(march), "until 29 February 2028");
        assert_eq!(Lang::Fr.strings().until(march), "jusqu’au 29 février 2028");
    }

    #[test]
    fn every_language_has_its_own_code() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
    }
}
