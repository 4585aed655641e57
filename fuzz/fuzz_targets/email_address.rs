//! EmailAddress parsing on arbitrary text: it must return, never panic, and
//! anything it accepts must be safe to embed (no markup or control
//! characters, an ASCII lower-case domain) and parse again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::email::EmailAddress;

fuzz_target!(|input: &str| {
    let Ok(address) = EmailAddress::parse(input) else {
        return;
    };
    let text = address.as_str();
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>\"\\".contains(c)),
        "unsafe character in {text:?}"
    );
    let domain = address.domain().as_str();
    assert!(domain.is_ascii() && !domain.chars().any(|c| c.is_ascii_uppercase()));
    assert_eq!(text, format!("{}@{}", address.local_part(), domain));
    let again = EmailAddress::parse(text).expect("an accepted address parses again");
    assert_eq!(again.as_str(), text);
});
