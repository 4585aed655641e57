//! The landing page's words, one file per language (`i18n/en.rs`,
//! `i18n/fr.rs`). Owns the list of languages and how a request picks one;
//! holds no markup: every string is plain text, escaped by the template.
//!
//! To add a language: copy `en.rs`, translate it, add a `Lang` variant and
//! its line in `Lang::ALL`. A missing string is a compile error.

use crate::email::AddressError;

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
                    quality = parse_quality(value.trim()).unwrap_or(0);
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

/// A q-value in thousandths: `1`, `0.8`, `0.125` (RFC 9110 §12.4.2).
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Steps for one app, for each kind of account.
pub struct AppText {
    pub name: &'static str,
    /// One line under the name: which devices or versions.
    pub summary: &'static str,
    pub steps_personal: &'static [&'static str],
    pub steps_work: &'static [&'static str],
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
    pub answer_legacy_personal: &'static str,
    pub answer_legacy_work: &'static str,
    pub recommended: &'static str,
    pub recommended_modern: &'static str,
    pub recommended_legacy: &'static str,
    /// The switch's label for assistive technology.
    pub app_switch: &'static str,
    /// The switch's visible heading, under the steps.
    pub app_switch_heading: &'static str,
    pub steps_heading: &'static str,
    pub other_apps: &'static str,
    pub profile_ios: &'static str,
    pub profile_macos: &'static str,
    pub profile_imap_fallback: &'static str,
    pub decision_heading: &'static str,
    pub question_sign_in: &'static str,
    pub answer_sign_in: &'static str,
    pub question_update: &'static str,
    pub answer_update: &'static str,
    pub question_personal: &'static str,
    pub answer_personal_yes: &'static str,
    pub answer_personal_no: &'static str,
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
    pub auth_password_personal: &'static str,
    pub auth_password_work: &'static str,
    pub settings_documentation: &'static str,
    pub phone_heading: &'static str,
    pub qr_alt: &'static str,
    pub qr_text: &'static str,
    pub footer: &'static str,
    pub apps: Apps,
    pub errors: AddressErrors,
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
        let with_char = |text: &str, c: char| text.replace("{char}", &c.to_string());
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
    fn every_language_has_its_own_code() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
    }
}
