//! Quality values (RFC 9110 §12.4.2), the `;q=` weights of
//! `Accept-Language` and `Accept-Encoding`. Owns only their syntax; what a
//! weight decides belongs to the header's reader (`web::i18n`,
//! `router::encoding`).

/// `0`, `0.5`, `0.125`, `1`, `1.000` in thousandths (0 to 1000); `None`
/// for anything else (`1.5`, `0.1234`, `-0`, empty). Surrounding
/// whitespace is ignored.
pub fn parse_qvalue(text: &str) -> Option<u16> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "5" is 500 thousandths, "05" 50, "125" 125: pad on the right.
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |value, digit| value * 10 + u16::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_qvalue;

    #[test]
    fn qvalues_parse_to_thousandths() {
        for (text, expected) in [
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.125", Some(125)),
            (" 0.8 ", Some(800)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.", Some(1000)),
            ("1.001", None),
            ("0.1234", None),
            ("2", None),
            ("-0", None),
            ("0.x", None),
            ("", None),
        ] {
            assert_eq!(parse_qvalue(text), expected, "{text:?}");
        }
    }
}
