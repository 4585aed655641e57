//! The POX request parser on arbitrary bytes: it must return, never panic,
//! and anything it accepts must carry a non-empty address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailsetup::autodiscover::parse_autodiscover_request;

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = parse_autodiscover_request(body) {
        assert!(!request.email_address.trim().is_empty());
    }
});
