//! The request log line: one per answered request, written straight into
//! the batched log sink (`log_writer`) in the same text or JSON form that
//! `tracing_subscriber` gives every other line. Owns the line's format and
//! its escaping; does not decide what a request's fields are (see
//! `server::log_request`) nor when lines reach the disk (`log_writer`).
//!
//! Why not `tracing::info!` for this one line: at tens of thousands of
//! requests per second, `tracing_subscriber` spent most of the log's cost
//! visiting each field through `dyn Debug`, formatting the timestamp from
//! scratch and escaping through `core::fmt` (BENCHMARKS.md, "Logs for
//! free"). Here the timestamp's date and time of day are formatted once a
//! second, plain ASCII fields are copied as they are, and the line is built
//! in a per-thread buffer that is reused: no allocation per line.
//!
//! Processes that did not install a sink (the library embedded in tests, a
//! terminal with colours) get the same fields through `tracing`.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::date::Date;
use crate::log_writer::BatchedLog;

/// One request, as logged. Strings are borrowed from the request and its
/// answer; nothing is copied until the line is written.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// A name of the code's own (`http`, ...): written without a check.
    pub listener: &'static str,
    pub status: u16,
    pub latency_us: u64,
    /// A name of the code's own (`thunderbird`, ...): written without a check.
    pub endpoint: &'static str,
    /// Left out of the line when the request named no valid domain.
    pub domain: Option<&'a str>,
    pub profile: &'a str,
    /// Left out unless the admin asked for addresses (`[log] addresses`).
    pub address: Option<&'a str>,
}

/// The two line forms, matching `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    Text,
    Json,
}

struct Sink {
    log: BatchedLog,
    format: LineFormat,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sends request lines straight to `log` from now on, for the process's
/// lifetime. `main` calls it once, after `tracing` is set up with the same
/// writer and format, and only when request lines are wanted (level INFO or
/// finer) and not coloured. A second call is ignored.
pub fn install(log: BatchedLog, format: LineFormat) {
    let _ = SINK.set(Sink { log, format });
}

/// Logs one request line.
pub fn write(line: &RequestLine<'_>) {
    let Some(sink) = SINK.get() else {
        tracing::info!(
            target: "mailsetup::server",
            method = %line.method,
            path = line.path,
            listener = line.listener,
            status = line.status,
            latency_us = line.latency_us,
            endpoint = line.endpoint,
            domain = line.domain,
            profile = line.profile,
            address = line.address,
            "request"
        );
        return;
    };
    thread_local! {
        static BUFFER: RefCell<(Vec<u8>, SecondStamp)> =
            const { RefCell::new((Vec::new(), SecondStamp::NONE)) };
    }
    BUFFER.with(|cell| {
        let Ok(mut cell) = cell.try_borrow_mut() else {
            return;
        };
        let (buffer, stamp) = &mut *cell;
        buffer.clear();
        format_line(buffer, stamp, SystemTime::now(), line, sink.format);
        sink.log.append_line(buffer);
        // A rare huge line (a long path) must not keep its buffer forever.
        if buffer.capacity() > 16 * 1024 {
            *buffer = Vec::new();
        }
    });
}

/// The `YYYY-MM-DDTHH:MM:SS` of one second, kept per thread: consecutive
/// lines almost always fall in the same second.
struct SecondStamp {
    unix_seconds: u64,
    text: [u8; 19],
}

impl SecondStamp {
    const NONE: SecondStamp = SecondStamp {
        unix_seconds: u64::MAX,
        text: [0; 19],
    };

    fn of(&mut self, unix_seconds: u64) -> &[u8; 19] {
        if self.unix_seconds != unix_seconds {
            let days = (unix_seconds / 86_400) as i64;
            let second_of_day = unix_seconds % 86_400;
            let mut text = [0u8; 19];
            let mut cursor = &mut text[..];
            // A date before 10000 always fits 10 bytes; the time 9 more.
            let _ = write!(
                cursor,
                "{}T{:02}:{:02}:{:02}",
                Date::from_days_since_epoch(days),
                second_of_day / 3600,
                second_of_day / 60 % 60,
                second_of_day % 60
            );
            self.text = text;
            self.unix_seconds = unix_seconds;
        }
        &self.text
    }
}

/// Writes one whole line, newline included, in the form `tracing_subscriber`
/// gives: text `<time>  INFO mailsetup::server: request key=value ...`
/// (strings quoted and escaped as Rust's `Debug` does, the method bare), or
/// JSON `{"timestamp":..,"level":"INFO","fields":{"message":"request",..},
/// "target":"mailsetup::server"}`.
fn format_line(
    out: &mut Vec<u8>,
    stamp: &mut SecondStamp,
    now: SystemTime,
    line: &RequestLine<'_>,
    format: LineFormat,
) {
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let timestamp = |out: &mut Vec<u8>, stamp: &mut SecondStamp| {
        out.extend_from_slice(stamp.of(since_epoch.as_secs()));
        out.push(b'.');
        push_padded(out, u64::from(since_epoch.subsec_micros()), 6);
        out.push(b'Z');
    };
    match format {
        LineFormat::Text => {
            timestamp(out, stamp);
            out.extend_from_slice(b"  INFO mailsetup::server: request method=");
            out.extend_from_slice(line.method.as_bytes());
            text_str(out, " path=", line.path);
            text_name(out, " listener=", line.listener);
            out.extend_from_slice(b" status=");
            push_number(out, u64::from(line.status));
            out.extend_from_slice(b" latency_us=");
            push_number(out, line.latency_us);
            text_name(out, " endpoint=", line.endpoint);
            if let Some(domain) = line.domain {
                text_str(out, " domain=", domain);
            }
            text_str(out, " profile=", line.profile);
            if let Some(address) = line.address {
                text_str(out, " address=", address);
            }
        }
        LineFormat::Json => {
            out.extend_from_slice(b"{\"timestamp\":\"");
            timestamp(out, stamp);
            out.extend_from_slice(
                b"\",\"level\":\"INFO\",\"fields\":{\"message\":\"request\",\"method\":",
            );
            json_str(out, line.method);
            out.extend_from_slice(b",\"path\":");
            json_str(out, line.path);
            out.extend_from_slice(b",\"listener\":");
            json_str(out, line.listener);
            out.extend_from_slice(b",\"status\":");
            push_number(out, u64::from(line.status));
            out.extend_from_slice(b",\"latency_us\":");
            push_number(out, line.latency_us);
            out.extend_from_slice(b",\"endpoint\":");
            json_str(out, line.endpoint);
            if let Some(domain) = line.domain {
                out.extend_from_slice(b",\"domain\":");
                json_str(out, domain);
            }
            out.extend_from_slice(b",\"profile\":");
            json_str(out, line.profile);
            if let Some(address) = line.address {
                out.extend_from_slice(b",\"address\":");
                json_str(out, address);
            }
            out.extend_from_slice(b"},\"target\":\"mailsetup::server\"}");
        }
    }
    out.push(b'\n');
}

/// ` key="value"` with the value escaped as `{:?}` escapes it. Printable
/// ASCII without `"` or `\` is copied; anything else goes through `Debug`
/// itself, so the rare escaped line is exactly what `tracing` writes.
/// Inlined: each call's key is then a copy of known length.
#[inline(always)]
fn text_str(out: &mut Vec<u8>, key: &str, value: &str) {
    out.extend_from_slice(key.as_bytes());
    if shown_as_is(value) {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{value:?}");
    }
}

/// ` key="value"` for a value of the code's own, which never needs
/// escaping (a test checks every one).
#[inline(always)]
fn text_name(out: &mut Vec<u8>, key: &str, value: &'static str) {
    debug_assert!(shown_as_is(value), "{value}");
    out.extend_from_slice(key.as_bytes());
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
}

/// Whether a text field shows `value` as it is, quoted.
pub fn shown_as_is(value: &str) -> bool {
    bytes_shown_as_is(value.as_bytes())
}

/// `shown_as_is` eight bytes at a time (every logged path, domain and
/// profile goes through it), the rest by the table.
fn bytes_shown_as_is(bytes: &[u8]) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    words
        .iter()
        .all(|word| word_shown_as_is(u64::from_le_bytes(*word)))
        && rest.iter().all(|b| SHOWN_AS_IS[usize::from(*b)])
}

/// Whether none of a word's eight bytes is below 0x20, at or above 0x7f,
/// `"` or `\`. Each test sets a byte's high bit where it fails, exactly
/// when some byte fails (the "hasless" and "hasmore" tricks of Sean
/// Anderson's Bit Twiddling Hacks: a borrow or carry only ever starts at
/// a byte that already fails).
fn word_shown_as_is(word: u64) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH_BITS: u64 = ONES * 0x80;
    let below = |word: u64, bound: u8| word.wrapping_sub(ONES * u64::from(bound)) & !word;
    let failing = below(word, 0x20)
        | word.wrapping_add(ONES) // 0x7f and above
        | word
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1);
    failing & HIGH_BITS == 0
}

/// The bytes a text field shows as they are: printable ASCII but `"` and
/// `\` (a table: one load a byte instead of three comparisons).
const SHOWN_AS_IS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0x20;
    while byte < 0x7f {
        table[byte] = byte != b'"' as usize && byte != b'\\' as usize;
        byte += 1;
    }
    table
};

/// A JSON string (RFC 8259 §7): `"`, `\` and control characters escaped,
/// everything else (UTF-8 included) as it is.
fn json_str(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    let bytes = value.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.extend_from_slice(escape);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn push_number(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// `value` in decimal, zero-padded to at least `width` digits.
fn push_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value).as_bytes();
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(digits.len()),
    ));
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Eight at a time gives what the table gives: every byte value at
    /// every place of a word and of the tail, among bytes that pass and
    /// among bytes that fail (a borrow or carry must not hide or invent
    /// one).
    #[test]
    fn words_are_judged_as_the_table_judges_each_byte() {
        let by_table = |bytes: &[u8]| bytes.iter().all(|b| SHOWN_AS_IS[usize::from(*b)]);
        for length in [1, 7, 8, 9, 16, 21] {
            for place in 0..length {
                for filler in [b'a', b'~', b' ', 0x00, 0x7f, 0xff, b'"'] {
                    for byte in 0..=255u8 {
                        let mut bytes = vec![filler; length];
                        bytes[place] = byte;
                        assert_eq!(bytes_shown_as_is(&bytes), by_table(&bytes), "{bytes:?}");
                    }
                }
            }
        }
        assert!(bytes_shown_as_is(b"/mail/config-v1.1.xml"));
        assert!(!bytes_shown_as_is(b"/mail/config-v1.1.xm\\"));
    }

    /// A text field is its value's `Debug` form, whatever the byte: the
    /// table's shortcut only skips the formatter where that changes nothing.
    #[test]
    fn text_fields_are_the_debug_form_of_every_character() {
        let characters = (0u32..0x80)
            .chain([0xa0, 0xe9, 0x202e, 0xfeff, 0x1f600])
            .filter_map(char::from_u32);
        for c in characters {
            let value = format!("a{c}b");
            let mut out = Vec::new();
            text_str(&mut out, " k=", &value);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!(" k={value:?}"),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    fn line<'a>(path: &'a str, address: Option<&'a str>) -> RequestLine<'a> {
        RequestLine {
            method: "GET",
            path,
            listener: "https",
            status: 200,
            latency_us: 42,
            endpoint: "thunderbird",
            domain: Some("contoso.example"),
            profile: "microsoft365",
            address,
        }
    }

    fn formatted(line: &RequestLine<'_>, format: LineFormat, unix: Duration) -> String {
        let mut out = Vec::new();
        let mut stamp = SecondStamp::NONE;
        format_line(&mut out, &mut stamp, UNIX_EPOCH + unix, line, format);
        String::from_utf8(out).expect("the line is UTF-8")
    }

    /// 2026-12-02T01:31:23.000012Z
    const WHEN: Duration = Duration::new(1_796_175_083, 12_345);

    #[test]
    fn text_lines_have_tracing_subscribers_form() {
        assert_eq!(
            formatted(&line("/mail/config-v1.1.xml", None), LineFormat::Text, WHEN),
            "2026-12-02T01:31:23.000012Z  INFO mailsetup::server: request method=GET \
             path=\"/mail/config-v1.1.xml\" listener=\"https\" status=200 latency_us=42 \
             endpoint=\"thunderbird\" domain=\"contoso.example\" profile=\"microsoft365\"\n"
        );
    }

    #[test]
    fn text_escapes_like_debug() {
        let path = "/x\"y\\z\u{7}é\u{202e}";
        let text = formatted(&line(path, None), LineFormat::Text, WHEN);
        assert!(text.contains(&format!(" path={path:?} ")), "{text}");
    }

    #[test]
    fn json_lines_parse_back_to_the_same_fields() {
        let path = "/x\"y\\z\u{1}\n\té\u{202e}";
        for address in [None, Some("alice@contoso.example")] {
            let text = formatted(&line(path, address), LineFormat::Json, WHEN);
            assert!(text.ends_with("}\n"));
            let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(value["timestamp"], "2026-12-02T01:31:23.000012Z");
            assert_eq!(value["level"], "INFO");
            assert_eq!(value["target"], "mailsetup::server");
            let fields = &value["fields"];
            assert_eq!(fields["message"], "request");
            assert_eq!(fields["method"], "GET");
            assert_eq!(fields["path"], path);
            assert_eq!(fields["status"], 200);
            assert_eq!(fields["latency_us"], 42);
            assert_eq!(fields["domain"], "contoso.example");
            assert_eq!(fields["profile"], "microsoft365");
            match address {
                Some(address) => assert_eq!(fields["address"], address),
                None => assert!(fields.get("address").is_none()),
            }
        }
    }

    /// The same line through `tracing_subscriber` (the path every other
    /// line takes, and this one where no sink is installed), with its clock
    /// fixed at `WHEN`: both forms must be byte for byte the same, so log
    /// readers see one format.
    #[test]
    fn lines_equal_what_tracing_subscriber_writes() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::fmt::{format::Writer, time::FormatTime};

        struct FixedTime;
        impl FormatTime for FixedTime {
            fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
                w.write_str("2026-12-02T01:31:23.000012Z")
            }
        }
        #[derive(Clone, Default)]
        struct Captured(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Captured {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let mut quiet = line("/x\"y\\z\u{1}\n\té\u{202e}", Some("alice@contoso.example"));
        quiet.domain = None;
        for request in [line("/mail/config-v1.1.xml", None), quiet] {
            for format in [LineFormat::Text, LineFormat::Json] {
                let captured = Captured::default();
                let writer = {
                    let captured = captured.clone();
                    move || captured.clone()
                };
                let builder = tracing_subscriber::fmt()
                    .with_timer(FixedTime)
                    .with_ansi(false)
                    .with_writer(writer);
                match format {
                    LineFormat::Text => {
                        tracing::subscriber::with_default(builder.finish(), || write(&request))
                    }
                    LineFormat::Json => {
                        tracing::subscriber::with_default(builder.json().finish(), || {
                            write(&request)
                        })
                    }
                }
                let through_tracing =
                    String::from_utf8(captured.0.lock().unwrap().clone()).expect("UTF-8");
                assert_eq!(
                    formatted(&request, format, WHEN),
                    through_tracing,
                    "{format:?}"
                );
            }
        }
    }

    #[test]
    fn absent_domain_is_left_out() {
        let mut request = line("/", None);
        request.domain = None;
        let text = formatted(&request, LineFormat::Text, WHEN);
        assert!(!text.contains("domain="), "{text}");
        let json = formatted(&request, LineFormat::Json, WHEN);
        assert!(!json.contains("\"domain\""), "{json}");
    }

    #[test]
    fn the_second_stamp_follows_the_clock() {
        let mut stamp = SecondStamp::NONE;
        let mut out = Vec::new();
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00.000000Z"),
            (86_399, "1970-01-01T23:59:59.000000Z"),
            (951_782_400, "2000-02-29T00:00:00.000000Z"),
            (1_796_175_083, "2026-12-02T01:31:23.000000Z"),
        ] {
            out.clear();
            format_line(
                &mut out,
                &mut stamp,
                UNIX_EPOCH + Duration::from_secs(seconds),
                &line("/", None),
                LineFormat::Text,
            );
            assert!(out.starts_with(expected.as_bytes()), "{seconds}");
        }
    }

    #[test]
    fn numbers_are_decimal() {
        let mut out = Vec::new();
        for value in [0, 7, 10, 65_535, u64::MAX] {
            out.clear();
            push_number(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
        out.clear();
        push_padded(&mut out, 12, 6);
        assert_eq!(out, b"000012");
    }
}
