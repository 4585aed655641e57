//! `EmailAddress` and `DomainName`: parsed once from client input, valid and
//! normalised afterwards. Owns the syntax rules; knows nothing of profiles.
//!
//! Once a value of these types exists it is safe to embed in XML (after the
//! usual escaping), a plist, an HTTP header value or a file name: no control
//! characters, spaces, quotes, angle brackets, backslashes or path separators
//! other than what the type documents.

use std::fmt;

/// RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle
/// brackets, so an address is at most 254.
pub const MAX_ADDRESS_LEN: usize = 254;
/// RFC 5321 §4.5.3.1.1.
pub const MAX_LOCAL_PART_LEN: usize = 64;
/// RFC 1035 §2.3.4 (without the final dot).
pub const MAX_DOMAIN_LEN: usize = 253;
/// RFC 1035 §2.3.4.
pub const MAX_LABEL_LEN: usize = 63;

/// What `EmailAddress::parse_plain` lets through, by byte: a table is one
/// load a byte where the rules are several comparisons.
const PLAIN: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        if b.is_ascii_alphanumeric() {
            table[byte] = LOCAL | LABEL;
        }
        if b.is_ascii_digit() {
            table[byte] |= DIGIT;
        }
        if matches!(b, b'_' | b'+' | b'-' | b'.') {
            table[byte] |= LOCAL;
        }
        if b == b'-' {
            table[byte] |= LABEL;
        }
        byte += 1;
    }
    table
};
/// In an unquoted local part: letters, digits and `._+-`.
const LOCAL: u8 = 1;
/// In a domain label: letters, digits and `-`.
const LABEL: u8 = 2;
const DIGIT: u8 = 4;

/// Why a string is not an acceptable address or domain. Every message says
/// what is wrong in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address is longer than {MAX_ADDRESS_LEN} characters")]
    TooLong,
    #[error("the email address has no @")]
    MissingAt,
    #[error("the email address has more than one @")]
    MultipleAt,
    #[error("the part before the @ is empty")]
    EmptyLocalPart,
    #[error("the part before the @ is longer than {MAX_LOCAL_PART_LEN} characters")]
    LocalPartTooLong,
    #[error("the part before the @ starts or ends with a dot, or has two dots in a row")]
    LocalPartDots,
    #[error("the email address contains a control character")]
    ControlCharacter,
    #[error("the email address contains a space")]
    Space,
    /// A character the syntax does not allow, or an invisible one (see
    /// `describe_character`).
    #[error(
        "the email address contains {}, which is not allowed in an address",
        describe_character(*.0)
    )]
    ForbiddenCharacter(char),
    #[error("the domain is empty")]
    EmptyDomain,
    #[error("the domain is longer than {MAX_DOMAIN_LEN} characters")]
    DomainTooLong,
    #[error("the domain needs at least two labels, like example.com")]
    SingleLabel,
    #[error("the domain has an empty label (two dots in a row, or a leading dot)")]
    EmptyLabel,
    #[error("a label of the domain is longer than {MAX_LABEL_LEN} characters")]
    LabelTooLong,
    #[error("a label of the domain starts or ends with a hyphen")]
    LabelHyphen,
    #[error("the domain contains {0:?}; only letters, digits and hyphens are allowed")]
    DomainCharacter(char),
    #[error("the domain is an IP address; a mail domain name is needed")]
    IpLiteral,
    #[error("the domain is not a valid internationalised domain name")]
    InvalidIdn,
}

/// A DNS domain name in its ASCII (A-label), lower-case form, without a
/// trailing dot. Internationalised names are converted with UTS #46.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

impl DomainName {
    /// Parses a domain name as a user or client may write it: any case,
    /// Unicode or punycode, with one optional trailing dot (the FQDN form).
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        let input = input.strip_suffix('.').unwrap_or(input);
        if input.is_empty() {
            return Err(AddressError::EmptyDomain);
        }
        // Check characters first so the error names the character instead
        // of reporting a generic IDNA failure. (ASCII input, nearly all of
        // it, is checked byte by byte: the same rules, no decoding.)
        if input.is_ascii() {
            if let Some(b) = input
                .bytes()
                .find(|&b| !(b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
            {
                let c = char::from(b);
                return Err(if c.is_control() {
                    AddressError::ControlCharacter
                } else if c.is_whitespace() {
                    AddressError::Space
                } else {
                    AddressError::DomainCharacter(c)
                });
            }
        } else {
            for c in input.chars() {
                if c.is_control() {
                    return Err(AddressError::ControlCharacter);
                }
                if c.is_whitespace() {
                    return Err(AddressError::Space);
                }
                if c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '.') {
                    return Err(AddressError::DomainCharacter(c));
                }
            }
        }
        if input.starts_with('.') || input.ends_with('.') || has_two_dots_in_a_row(input) {
            return Err(AddressError::EmptyLabel);
        }
        if input.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && input.parse::<std::net::Ipv4Addr>().is_ok()
        {
            return Err(AddressError::IpLiteral);
        }
        let ascii = if input.is_ascii() {
            input.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(input).map_err(|_| AddressError::InvalidIdn)?
        };
        Self::check_ascii(&ascii)?;
        Ok(DomainName(ascii))
    }

    fn check_ascii(ascii: &str) -> Result<(), AddressError> {
        if ascii.len() > MAX_DOMAIN_LEN {
            return Err(AddressError::DomainTooLong);
        }
        let mut labels = 0;
        for label in ascii.split('.') {
            labels += 1;
            if label.is_empty() {
                return Err(AddressError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(AddressError::LabelTooLong);
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(AddressError::LabelHyphen);
            }
            if let Some(b) = label
                .bytes()
                .find(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
            {
                // `ascii` is ASCII (lower-cased input or IDNA's output).
                return Err(AddressError::DomainCharacter(char::from(b)));
            }
            // A punycode label must decode; `xn--` garbage is refused here
            // rather than reaching DNS or a client.
            if label.starts_with("xn--") && idna::domain_to_unicode(label).1.is_err() {
                return Err(AddressError::InvalidIdn);
            }
        }
        if labels < 2 {
            return Err(AddressError::SingleLabel);
        }
        // The last label of a real domain is never all digits (RFC 3696 §2);
        // this also catches IPv4-looking input that IDNA mapped.
        if ascii
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AddressError::IpLiteral);
        }
        Ok(())
    }

    /// The ASCII form, as used on the wire and in DNS.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode form, for people. Falls back to the ASCII form.
    pub fn to_unicode(&self) -> String {
        let (unicode, result) = idna::domain_to_unicode(&self.0);
        if result.is_ok() {
            unicode
        } else {
            self.0.clone()
        }
    }

    /// The name with its first label removed, if what is left is still a
    /// domain of two labels or more: `autoconfig.contoso.com` → `contoso.com`.
    pub fn parent(&self) -> Option<DomainName> {
        let (_, rest) = self.0.split_once('.')?;
        rest.contains('.').then(|| DomainName(rest.to_owned()))
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox address `local@domain`. The local part keeps its case (it is
/// the mail server's to interpret); the domain is a `DomainName`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress {
    /// `local@domain` with the normalised domain: what documents carry.
    full: String,
    /// Byte offset of the `@` in `full`.
    at: usize,
    domain: DomainName,
}

/// Characters RFC 5322 allows in an unquoted local part besides letters and
/// digits (`atext`). Quoted local parts are refused: no client needs them
/// for Microsoft mailboxes and they would carry quotes into documents.
fn is_local_part_symbol(c: char) -> bool {
    matches!(
        c,
        '!' | '#'
            | '$'
            | '%'
            | '&'
            | '\''
            | '*'
            | '+'
            | '-'
            | '/'
            | '='
            | '?'
            | '^'
            | '_'
            | '`'
            | '{'
            | '|'
            | '}'
            | '~'
            | '.'
    )
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        match Self::parse_plain(input) {
            Some(address) => Ok(address),
            None => Self::parse_general(input),
        }
    }

    /// Like `parse`, keeping `input`'s buffer for the address when it is
    /// plain (a decoded query value, say: no second copy).
    pub fn parse_owned(mut input: String) -> Result<Self, AddressError> {
        match Self::plain_at(&input) {
            Some(at) => {
                input[at + 1..].make_ascii_lowercase();
                Ok(Self::from_plain(input, at))
            }
            None => Self::parse_general(&input),
        }
    }

    /// The common case in one pass over the bytes: `local@domain` in
    /// ASCII letters, digits and `._+-`, nothing to trim, no punycode.
    /// `None` for anything else, which `parse_general` accepts or refuses
    /// with its reason; this never accepts what that refuses (a test
    /// compares them).
    fn parse_plain(input: &str) -> Option<Self> {
        let at = Self::plain_at(input)?;
        let mut full = String::with_capacity(input.len());
        full.push_str(input);
        full[at + 1..].make_ascii_lowercase();
        Some(Self::from_plain(full, at))
    }

    /// A plain address, its domain already lower-case.
    fn from_plain(full: String, at: usize) -> Self {
        let domain = DomainName(full[at + 1..].to_owned());
        EmailAddress { full, at, domain }
    }

    /// Where the `@` is, if `input` is a plain address (see `parse_plain`).
    /// (`@` is ASCII: `at + 1` is a character boundary of `input`.)
    fn plain_at(input: &str) -> Option<usize> {
        let bytes = input.as_bytes();
        if bytes.len() > MAX_ADDRESS_LEN {
            return None;
        }
        let at = memchr::memchr(b'@', bytes)?;
        let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
        if local.is_empty() || local.len() > MAX_LOCAL_PART_LEN || domain.len() > MAX_DOMAIN_LEN {
            return None;
        }
        let mut previous = b'.';
        for &b in local {
            if PLAIN[usize::from(b)] & LOCAL == 0 || (b == b'.' && previous == b'.') {
                return None;
            }
            previous = b;
        }
        if previous == b'.' {
            return None;
        }
        let plain_label = |label: &[u8]| {
            let (Some(&first), Some(&last)) = (label.first(), label.last()) else {
                return false;
            };
            label.len() <= MAX_LABEL_LEN
                && first != b'-'
                && last != b'-'
                && !label
                    .get(..4)
                    .is_some_and(|start| start.eq_ignore_ascii_case(b"xn--"))
        };
        let mut labels = 1;
        let mut label_start = 0;
        // Of the label being read; in the end, of the last one.
        let mut all_digits = true;
        for (index, &b) in domain.iter().enumerate() {
            let class = PLAIN[usize::from(b)];
            if b == b'.' {
                if !plain_label(&domain[label_start..index]) {
                    return None;
                }
                labels += 1;
                label_start = index + 1;
                all_digits = true;
            } else if class & LABEL != 0 {
                all_digits &= class & DIGIT != 0;
            } else {
                return None;
            }
        }
        if !plain_label(&domain[label_start..]) || labels < 2 || all_digits {
            return None;
        }
        Some(at)
    }

    fn parse_general(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        // A string is never longer in characters than in bytes.
        if input.len() > MAX_ADDRESS_LEN && input.chars().count() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong);
        }
        // ASCII input, nearly all of it, is checked byte by byte: the same
        // rules, no decoding.
        if input.is_ascii() {
            if input.bytes().any(|b| b.is_ascii_control()) {
                return Err(AddressError::ControlCharacter);
            }
            if input.bytes().any(|b| b == b' ') {
                return Err(AddressError::Space);
            }
        } else {
            if input.chars().any(char::is_control) {
                return Err(AddressError::ControlCharacter);
            }
            if input.chars().any(char::is_whitespace) {
                return Err(AddressError::Space);
            }
        }
        let mut parts = input.split('@');
        let local = parts.next().unwrap_or_default();
        let domain = parts.next().ok_or(AddressError::MissingAt)?;
        if parts.next().is_some() {
            return Err(AddressError::MultipleAt);
        }
        Self::check_local_part(local)?;
        let domain = DomainName::parse(domain)?;
        let mut full = String::with_capacity(local.len() + 1 + domain.as_str().len());
        full.push_str(local);
        full.push('@');
        full.push_str(domain.as_str());
        if full.len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong);
        }
        Ok(EmailAddress {
            at: local.len(),
            full,
            domain,
        })
    }

    fn check_local_part(local: &str) -> Result<(), AddressError> {
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart);
        }
        if local.len() > MAX_LOCAL_PART_LEN {
            return Err(AddressError::LocalPartTooLong);
        }
        if local.starts_with('.') || local.ends_with('.') || has_two_dots_in_a_row(local) {
            return Err(AddressError::LocalPartDots);
        }
        // Non-ASCII letters are allowed (RFC 6531, internationalised
        // addresses); ASCII is limited to atext. Invisible and bidi
        // characters (category Cf) are not: they would make the address in
        // a client's account list read as another one (`alice\u{202E}gpj.exe`
        // shows as `aliceexe.jpg`).
        match local.chars().find(|&c| {
            if c.is_ascii() {
                !(c.is_ascii_alphanumeric() || is_local_part_symbol(c))
            } else {
                is_format_character(c)
            }
        }) {
            Some(c) => Err(AddressError::ForbiddenCharacter(c)),
            None => Ok(()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }

    pub fn local_part(&self) -> &str {
        &self.full[..self.at]
    }

    pub fn domain(&self) -> &DomainName {
        &self.domain
    }
}

/// `..` anywhere (cheaper than a substring search for so short a needle).
fn has_two_dots_in_a_row(text: &str) -> bool {
    text.as_bytes().windows(2).any(|pair| pair == b"..")
}

/// The code points of Unicode general category Cf (format characters), as
/// of Unicode 15.1 (`DerivedGeneralCategory.txt`). The standard library has
/// no general-category query and the set changes rarely; a new Cf
/// character a future Unicode adds would still be refused by the mail
/// server it reaches, just with a vaguer message.
const FORMAT_CHARACTERS: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// A character as an error message shows it: visible ones quoted, format
/// characters by code point, since printing them would reorder or hide
/// the very message that names them.
fn describe_character(c: char) -> String {
    if is_format_character(c) {
        format!(
            "U+{:04X} (an invisible or text-direction formatting character, Unicode category Cf)",
            u32::from(c)
        )
    } else {
        format!("{c:?}")
    }
}

/// How a character is shown to people: itself, unless it is invisible or
/// reorders text (a format or control character), then as `U+XXXX`, so an
/// error message or an echoed input cannot be made to read differently
/// from what it says.
pub fn visible_form(c: char) -> String {
    if is_format_character(c) || c.is_control() {
        format!("U+{:04X}", u32::from(c))
    } else {
        c.to_string()
    }
}

/// Whether `c` is a format character (general category Cf).
pub fn is_format_character(c: char) -> bool {
    FORMAT_CHARACTERS
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_is_lower_cased_and_idna_normalised() {
        let a = EmailAddress::parse("  Alice@B\u{FC}CHER.Example ").unwrap();
        assert_eq!(a.as_str(), "Alice@xn--bcher-kva.example");
        assert_eq!(a.local_part(), "Alice");
        assert_eq!(a.domain().to_unicode(), "b\u{FC}cher.example");
    }

    #[test]
    fn trailing_dot_is_the_same_domain() {
        assert_eq!(
            DomainName::parse("contoso.com.").unwrap().as_str(),
            "contoso.com"
        );
    }

    #[test]
    fn each_bad_address_gets_its_reason() {
        let cases: &[(&str, AddressError)] = &[
            ("", AddressError::Empty),
            ("alice", AddressError::MissingAt),
            ("a@b@c.com", AddressError::MultipleAt),
            ("@contoso.com", AddressError::EmptyLocalPart),
            ("alice@", AddressError::EmptyDomain),
            ("al ice@contoso.com", AddressError::Space),
            ("al\u{7}ice@contoso.com", AddressError::ControlCharacter),
            (
                "\"alice\"@contoso.com",
                AddressError::ForbiddenCharacter('"'),
            ),
            ("<alice@contoso.com>", AddressError::ForbiddenCharacter('<')),
            (".alice@contoso.com", AddressError::LocalPartDots),
            ("alice@contoso", AddressError::SingleLabel),
            ("alice@contoso..com", AddressError::EmptyLabel),
            ("alice@-contoso.com", AddressError::LabelHyphen),
            ("alice@conto_so.com", AddressError::DomainCharacter('_')),
            ("alice@127.0.0.1", AddressError::IpLiteral),
            ("alice@xn--zz.com", AddressError::InvalidIdn),
        ];
        for (input, expected) in cases {
            assert_eq!(
                EmailAddress::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
    }

    /// ASCII input is checked on bytes, other input on characters: both
    /// paths give the same reason for the same fault.
    /// Every string of up to `max` characters from `alphabet`.
    fn all_strings(alphabet: &[char], max: usize) -> Vec<String> {
        let mut strings = vec![String::new()];
        let mut start = 0;
        for _ in 0..max {
            let end = strings.len();
            for i in start..end {
                for &c in alphabet {
                    let mut longer = strings[i].clone();
                    longer.push(c);
                    strings.push(longer);
                }
            }
            start = end;
        }
        strings
    }

    /// `parse_plain` is a shortcut: whatever it accepts, the general
    /// rules accept as the same address. Every string of up to five
    /// characters over an alphabet with each kind of character the rules
    /// treat apart; every short local part with every short domain, bare
    /// and before a TLD; then edge lengths and known traps.
    #[test]
    fn the_plain_shortcut_never_accepts_what_the_rules_refuse() {
        let alphabet = [
            'a', 'Z', '7', '.', '-', '_', '+', '@', ' ', '!', '\u{e9}', 'x', 'n',
        ];
        let mut inputs = all_strings(&alphabet, 5);
        let domains = all_strings(&['a', 'Z', '7', '.', '-', 'x', 'n'], 4);
        for local in all_strings(&alphabet, 2) {
            for domain in &domains {
                inputs.push(format!("{local}@{domain}"));
                inputs.push(format!("{local}@{domain}.co"));
            }
        }
        let long_local = "l".repeat(MAX_LOCAL_PART_LEN);
        let long_label = "d".repeat(MAX_LABEL_LEN);
        for extra in [
            format!("{long_local}@a.example"),
            format!("{long_local}x@a.example"),
            format!("a@{long_label}.example"),
            format!("a@{long_label}x.example"),
            format!("a@{}", [long_label.as_str(); 4].join(".")),
            format!("{long_local}@{}.ab", [long_label.as_str(); 3].join(".")),
            format!(
                "{long_local}@{}.abcdefgh",
                [long_label.as_str(); 3].join(".")
            ),
            "a@xn--bcher-kva.example".into(),
            "a@XN--bcher-kva.example".into(),
            "a@xn--zz.example".into(),
            "a@1.2.3.4".into(),
            "a@example.123".into(),
            "a@123.example".into(),
            "a@example.com.".into(),
            "Alice.B+tag@Contoso.EXAMPLE".into(),
            " a@example.com".into(),
            "a@-x.example".into(),
            "a@x-.example".into(),
        ] {
            inputs.push(extra);
        }
        let mut accepted = 0;
        for input in &inputs {
            // Parsing in the input's own buffer changes nothing either.
            assert_eq!(
                EmailAddress::parse_owned(input.clone()),
                EmailAddress::parse(input),
                "{input:?}"
            );
            if let Some(plain) = EmailAddress::parse_plain(input) {
                accepted += 1;
                assert_eq!(
                    EmailAddress::parse_general(input).as_ref(),
                    Ok(&plain),
                    "{input:?}"
                );
            }
        }
        // The shortcut is taken, or this compared nothing.
        assert!(accepted > 10_000, "{accepted}");
        assert!(EmailAddress::parse_plain("Alice.B+tag@Contoso.EXAMPLE").is_some());
    }

    #[test]
    fn ascii_and_unicode_input_get_the_same_reasons() {
        let address_cases: &[(&str, AddressError)] = &[
            ("al\tice@contoso.com", AddressError::ControlCharacter),
            ("alïce\t@contoso.com", AddressError::ControlCharacter),
            ("al\u{85}ice@contoso.com", AddressError::ControlCharacter),
            ("alïce @contoso.com", AddressError::Space),
            ("al\u{3000}ice@contoso.com", AddressError::Space),
            ("al..ice@contoso.com", AddressError::LocalPartDots),
            ("alï..ce@contoso.com", AddressError::LocalPartDots),
            ("alice.@contoso.com", AddressError::LocalPartDots),
            ("al(ice@contoso.com", AddressError::ForbiddenCharacter('(')),
            ("alï(ce@contoso.com", AddressError::ForbiddenCharacter('(')),
            (
                "al\u{202E}ice@contoso.com",
                AddressError::ForbiddenCharacter('\u{202E}'),
            ),
        ];
        for (input, expected) in address_cases {
            assert_eq!(
                EmailAddress::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
        let domain_cases: &[(&str, AddressError)] = &[
            (".contoso.com", AddressError::EmptyLabel),
            ("contoso.com..", AddressError::EmptyLabel),
            ("contoso..com", AddressError::EmptyLabel),
            ("müller..de", AddressError::EmptyLabel),
            (".müller.de", AddressError::EmptyLabel),
            ("con toso.com", AddressError::Space),
            ("mül ler.de", AddressError::Space),
            ("con\u{7}toso.com", AddressError::ControlCharacter),
            ("mül\u{7}ler.de", AddressError::ControlCharacter),
            ("conto_so.com", AddressError::DomainCharacter('_')),
            ("mül_ler.de", AddressError::DomainCharacter('_')),
        ];
        for (input, expected) in domain_cases {
            assert_eq!(
                DomainName::parse(input).as_ref(),
                Err(expected),
                "{input:?}"
            );
        }
        for (input, parsed) in [
            ("Contoso.COM.", "contoso.com"),
            ("Müller.de", "xn--mller-kva.de"),
        ] {
            assert_eq!(DomainName::parse(input).unwrap().as_str(), parsed);
        }
        assert_eq!(
            EmailAddress::parse("O'Brien+tag@Contoso.com")
                .unwrap()
                .as_str(),
            "O'Brien+tag@contoso.com"
        );
    }

    #[test]
    fn length_limits_are_enforced() {
        let long_local = format!("{}@contoso.com", "a".repeat(65));
        assert_eq!(
            EmailAddress::parse(&long_local),
            Err(AddressError::LocalPartTooLong)
        );
        let long_label = format!("a@{}.com", "b".repeat(64));
        assert_eq!(
            EmailAddress::parse(&long_label),
            Err(AddressError::LabelTooLong)
        );
        let long = format!("a@{}.com", vec!["c".repeat(60); 5].join("."));
        assert_eq!(EmailAddress::parse(&long), Err(AddressError::TooLong));
    }

    #[test]
    fn invisible_and_bidi_characters_in_the_local_part_are_refused_by_code_point() {
        for (c, code) in [
            ('\u{202E}', "U+202E"),
            ('\u{202A}', "U+202A"),
            ('\u{2066}', "U+2066"),
            ('\u{200B}', "U+200B"),
            ('\u{200D}', "U+200D"),
            ('\u{FEFF}', "U+FEFF"),
            ('\u{00AD}', "U+00AD"),
            ('\u{061C}', "U+061C"),
            ('\u{2060}', "U+2060"),
            ('\u{E0041}', "U+E0041"),
        ] {
            for input in [
                format!("ali{c}ce@contoso.com"),
                format!("{c}alice@contoso.com"),
                format!("alice{c}@contoso.com"),
            ] {
                let error = EmailAddress::parse(&input).unwrap_err();
                assert_eq!(error, AddressError::ForbiddenCharacter(c), "{input:?}");
                assert_eq!(
                    error.to_string(),
                    format!(
                        "the email address contains {code} (an invisible or text-direction \
                         formatting character, Unicode category Cf), which is not allowed in \
                         an address"
                    )
                );
            }
        }
    }

    #[test]
    fn the_format_character_table_is_sorted_and_spares_letters() {
        assert!(
            FORMAT_CHARACTERS
                .windows(2)
                .all(|pair| pair[0].1 < pair[1].0)
        );
        assert!(FORMAT_CHARACTERS.iter().all(|(first, last)| first <= last));
        for ok in [
            "zoë@contoso.com",
            "用户@contoso.com",
            "δοκιμή@contoso.com",
            "a-b_c@contoso.com",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        for c in ['\u{200A}', '\u{2010}', '\u{2065}', '\u{FFFC}'] {
            assert!(!is_format_character(c), "{c:?}");
        }
    }

    #[test]
    fn parent_strips_one_label_but_keeps_two() {
        let host = DomainName::parse("autoconfig.contoso.com").unwrap();
        assert_eq!(host.parent().unwrap().as_str(), "contoso.com");
        assert_eq!(DomainName::parse("contoso.com").unwrap().parent(), None);
    }
}
