//! Content codings (RFC 9110 §8.4): which one a request accepts
//! (`Accept-Encoding`, §12.5.3), which replies are worth compressing, and
//! the compressed bytes. gzip only: see the README's landing-page section
//! for why not brotli. Knows nothing of routes.

use std::cell::RefCell;

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use http::HeaderValue;

use crate::document::media_type;
use crate::qvalue::parse_qvalue;

/// The coding a reply is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    Identity,
    Gzip,
}

/// Bodies smaller than this go as they are: a few hundred bytes fit in
/// the first packet either way, and gzip's 18-byte frame and the
/// `Content-Encoding` header would eat the saving.
pub(super) const MIN_COMPRESSED_BYTES: usize = 1024;

/// Text the server produces: pages, the stylesheet, XML, JSON, plain
/// text. Apple profiles are left alone: a signed one is CMS (DER, already
/// dense), and iOS hands the download to Settings, where a coding is one
/// more thing to go wrong for a 3 KB file.
pub(super) fn is_compressible(content_type: &str) -> bool {
    [
        media_type::HTML,
        media_type::CSS,
        media_type::TEXT,
        media_type::XML,
        media_type::TEXT_XML,
        media_type::JSON,
        media_type::PROMETHEUS,
    ]
    .contains(&content_type)
}

/// The coding to answer with, from every `Accept-Encoding` field of the
/// request. gzip when the client takes it at least as gladly as identity
/// (`x-gzip` is gzip, §8.4.1.3; `*` stands for codings not named; `q=0`
/// means "not acceptable"). No field means identity: RFC 9110 allows any
/// coding then, but a client that says nothing may not decode one. When
/// even identity is refused (`identity;q=0`) the reply is still sent
/// uncompressed rather than refused with 406: a readable page beats an
/// error, as §12.5.3 permits.
pub(super) fn negotiate<'a>(fields: impl IntoIterator<Item = &'a HeaderValue>) -> Coding {
    let mut gzip = None;
    let mut identity = None;
    let mut any = None;
    for field in fields {
        let Ok(field) = field.to_str() else { continue };
        for element in field.split(',') {
            let mut parts = element.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            if coding.is_empty() {
                continue;
            }
            let Some(weight) = parts
                .map(|parameter| parameter.trim())
                .find(|parameter| parameter.len() >= 2 && parameter[..2].eq_ignore_ascii_case("q="))
                .map_or(Some(1000), |parameter| parse_qvalue(&parameter[2..]))
            else {
                // An unreadable weight: the element is ignored.
                continue;
            };
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut identity
                } else if coding == "*" {
                    &mut any
                } else {
                    continue;
                };
            // Named twice: the higher weight counts.
            *slot = Some(slot.map_or(weight, |old: u16| old.max(weight)));
        }
    }
    let gzip = gzip.or(any).unwrap_or(0);
    // Identity is acceptable unless excluded by name or by `*;q=0`; when
    // not named it ranks below any coding the client did name.
    let identity = identity.or(any).unwrap_or(1);
    if gzip > 0 && gzip >= identity {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// `body` gzipped at the best level, or `None` when that saves nothing.
/// For bodies made once (see `Prepared`): the compressor is built for
/// the call and dropped.
pub(super) fn gzip_best(body: &[u8]) -> Option<Vec<u8>> {
    gzip_with(&mut Compress::new(Compression::best(), false), body)
}

thread_local! {
    /// The compressor for bodies made per request, one per thread and
    /// reset between bodies: miniz_oxide's state is some 300 KiB, which a
    /// new compressor per request would allocate and zero each time.
    static FRESH: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// `body` gzipped at the fast level, or `None` when that saves nothing.
/// For bodies made per request (the Thunderbird document, autodiscover
/// XML, result pages): a few KiB of repetitive XML shrink almost as much
/// at the fast level as at the best one, for much less work.
pub(super) fn gzip_fresh(body: &[u8]) -> Option<Vec<u8>> {
    FRESH.with(|compressor| gzip_with(&mut compressor.borrow_mut(), body))
}

/// The gzip member header (RFC 1952 §2.3): deflate, no flags, no
/// modification time, no extra flags, operating system unknown.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// `body` as one gzip member: the header, `body` raw-deflated by
/// `compressor` (reset first, so it may have been used before), and the
/// CRC-32 and length trailer. `None` when the result is not smaller.
fn gzip_with(compressor: &mut Compress, body: &[u8]) -> Option<Vec<u8>> {
    compressor.reset();
    // Text of the kind served here shrinks to well under half; the loop
    // grows the buffer when it does not.
    let mut compressed = Vec::with_capacity(GZIP_HEADER.len() + body.len() / 2 + 64);
    compressed.extend_from_slice(&GZIP_HEADER);
    loop {
        let consumed = usize::try_from(compressor.total_in()).ok()?;
        let status = compressor
            .compress_vec(
                body.get(consumed..)?,
                &mut compressed,
                FlushCompress::Finish,
            )
            .ok()?;
        if status == Status::StreamEnd {
            break;
        }
        // Out of room (the only reason to stop short of the end when
        // finishing): make some.
        compressed.reserve(compressed.capacity().max(64));
    }
    let mut crc = Crc::new();
    crc.update(body);
    compressed.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952 §2.3.1).
    compressed.extend_from_slice(&(body.len() as u32).to_le_bytes());
    (compressed.len() < body.len()).then_some(compressed)
}

/// A body that does not change while the process runs (the stylesheet,
/// robots.txt), with its gzip form made once, at the best level, instead
/// of per request. Cloning shares the bytes.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) content_type: &'static str,
    pub(super) identity: Bytes,
    /// `None`: not worth compressing.
    pub(super) gzip: Option<Bytes>,
}

impl Prepared {
    pub(super) fn new(content_type: &'static str, body: &'static [u8]) -> Prepared {
        let gzip = (is_compressible(content_type) && body.len() >= MIN_COMPRESSED_BYTES)
            .then(|| gzip_best(body))
            .flatten()
            .map(Bytes::from);
        Prepared {
            content_type,
            identity: Bytes::from_static(body),
            gzip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(fields: &[&str]) -> Coding {
        let values: Vec<HeaderValue> = fields
            .iter()
            .map(|field| HeaderValue::from_str(field).unwrap())
            .collect();
        negotiate(&values)
    }

    #[test]
    fn accept_encoding_is_read_as_rfc_9110_says() {
        use Coding::{Gzip, Identity};
        let cases: &[(&[&str], Coding)] = &[
            (&[], Identity),
            (&["gzip"], Gzip),
            (&["GZIP"], Gzip),
            (&["x-gzip"], Gzip),
            (&["gzip, deflate, br, zstd"], Gzip),
            (&["br"], Identity),
            (&["deflate", "gzip;q=0.5"], Gzip),
            (&["gzip;q=0"], Identity),
            (&["gzip; q=0.000"], Identity),
            (&["*"], Gzip),
            (&["*;q=0"], Identity),
            (&["*, gzip;q=0"], Identity),
            (&["gzip;q=0.5, identity"], Identity),
            (&["gzip;q=1, identity;q=0.5"], Gzip),
            (&["identity;q=0"], Identity),
            (&["gzip;q=2"], Identity),
            (&["gzip;q=0.1234"], Identity),
            (&["gzip;q=abc, *;q=0.3"], Gzip),
            (&[""], Identity),
            (&[" , ,gzip"], Gzip),
        ];
        for (fields, expected) in cases {
            assert_eq!(pick(fields), *expected, "{fields:?}");
        }
    }

    #[test]
    fn small_and_binary_bodies_are_not_prepared_compressed() {
        let text: &'static [u8] = b"User-agent: *\n";
        assert!(Prepared::new(media_type::TEXT, text).gzip.is_none());
        let big: &'static [u8] = Box::leak(vec![b'a'; 4096].into_boxed_slice());
        assert!(Prepared::new(media_type::APPLE_CONFIG, big).gzip.is_none());
        assert!(Prepared::new(media_type::CSS, big).gzip.is_some());
    }

    fn gunzip(compressed: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(compressed)
            .read_to_end(&mut decoded)
            .expect("a valid gzip member");
        decoded
    }

    /// The per-thread compressor is reset between bodies: no state of one
    /// body leaks into the next, whatever their sizes and order.
    #[test]
    fn consecutive_fresh_bodies_each_decode_to_themselves() {
        let xml = "<emailProvider id=\"example.com\"><incomingServer type=\"imap\">\
                   <hostname>outlook.office365.com</hostname></incomingServer>"
            .repeat(40);
        // Not repetitive: deflate cannot shrink it, so no gzip form.
        let mut noise = Vec::with_capacity(8192);
        let mut state = 0x2545_f491_u32;
        for _ in 0..8192 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            noise.push(state.to_le_bytes()[0]);
        }
        let inputs: Vec<Vec<u8>> = vec![
            xml.clone().into_bytes(),
            vec![b'a'; 1024],
            Vec::new(),
            b"x".to_vec(),
            // Larger than miniz_oxide's 32 KiB window and output chunk.
            xml.repeat(20).into_bytes(),
            noise.clone(),
            xml.replace("imap", "pop3").into_bytes(),
            vec![b'a'; 1024],
        ];
        for round in 0..3 {
            for (index, input) in inputs.iter().enumerate() {
                match gzip_fresh(input) {
                    Some(compressed) => {
                        assert!(
                            compressed.len() < input.len(),
                            "round {round}, input {index}"
                        );
                        assert_eq!(gunzip(&compressed), *input, "round {round}, input {index}");
                    }
                    None => assert!(
                        input.len() < 64 || *input == noise,
                        "round {round}, input {index} ({} bytes) not compressed",
                        input.len()
                    ),
                }
            }
        }
        let best = gzip_best(xml.as_bytes()).expect("compressible");
        assert_eq!(gunzip(&best), xml.as_bytes());
    }
}
