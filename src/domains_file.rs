//! The domains file: a hoster's domain table as plain lines, the fast path
//! for large tables (`domains_file = "PATH"` in `mailsetup.toml`).
//!
//! ```text
//! # domain        profile       display name (optional, the rest of the line)
//! contoso.com     microsoft365  Contoso Ltd.
//! fabrikam.net    outlook
//! ```
//!
//! One `domain profile [display name]` per line, separated by spaces or
//! tabs; `#` starts a comment line; blank lines are skipped. Every line is
//! checked (domain syntax, known profile, no domain twice) and every bad
//! line is reported at once with its line number, so a hoster fixes a file
//! in one pass. The lines go straight into the `DomainTable` `config` has
//! filled from the `[[domain]]` table; a domain in both is a bad line.

use std::io::BufRead;
use std::path::Path;

use ring::digest::{Context, SHA256};

use crate::domain_table::{DomainTable, InsertError};
use crate::email::DomainName;
use crate::source::{ConfigError, digest_bytes};

/// At most this many bad lines are listed; the count says how many more.
const MAX_LISTED_PROBLEMS: usize = 100;

/// Longest line read: a domain (253 bytes), a profile id and a display
/// name fit many times over. A longer line is a bad line and is skipped
/// without being held, so a wrong file (a binary, a log) cannot fill memory.
const MAX_LINE_BYTES: usize = 4096;

/// Most rows (and text bytes) reserved up front from the file's size. The
/// table still grows past them; they only keep a wrong file (a billion
/// lines) from reserving gigabytes before its first line is refused.
const MAX_RESERVED_ROWS: usize = 16 << 20;
const MAX_RESERVED_TEXT: usize = 1 << 30;

/// The next field separated by spaces or tabs, and `rest` moved past it.
fn next_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let text = rest.trim_start();
    if text.is_empty() {
        return None;
    }
    let end = text.find([' ', '\t']).unwrap_or(text.len());
    let (field, after) = text.split_at(end);
    *rest = after;
    Some(field)
}

/// What the first pass over a domains file found: its size, and the
/// SHA-256 of its bytes (which says whether a reload may keep the table
/// in service, see `Config::load_reusing`).
#[derive(Debug, Clone)]
pub struct Scan {
    lines: usize,
    bytes: usize,
    pub digest: [u8; 32],
}

/// The first pass: lines (a last line without a line end counts), bytes
/// and digest of `file` from where it stands.
pub fn scan_domains_file(path: &Path, file: &mut impl BufRead) -> Result<Scan, ConfigError> {
    let mut digest = Context::new(&SHA256);
    let (mut lines, mut bytes, mut last) = (0, 0, b'\n');
    loop {
        let chunk = file
            .fill_buf()
            .map_err(|cause| ConfigError::io(path, cause))?;
        let Some(&end) = chunk.last() else {
            break;
        };
        lines += chunk.iter().filter(|&&byte| byte == b'\n').count();
        bytes += chunk.len();
        last = end;
        digest.update(chunk);
        let read = chunk.len();
        file.consume(read);
    }
    Ok(Scan {
        lines: lines + usize::from(last != b'\n'),
        bytes,
        digest: digest_bytes(digest.finish()),
    })
}

/// The second pass, from the file's start: checks every line of the file
/// `path` (read from `file`) and adds its domains to `table`, sized once
/// from the first pass (`scan_domains_file`): the file is never held
/// whole, a line is parsed in place, and only the domain's lower-case
/// form is made, dropped once copied into the table. `table` may already
/// hold the `[[domain]]` table of `config_path`; a domain in both is a
/// bad line. On error `table` is left part-filled; the caller drops it.
/// Returns the SHA-256 of the bytes it read, which differs from
/// `scan.digest` if the file was written to between the passes.
pub fn parse_domains_file(
    path: &Path,
    mut file: impl BufRead,
    scan: &Scan,
    table: &mut DomainTable,
    config_path: &Path,
) -> Result<[u8; 32], ConfigError> {
    let io_error = |cause| ConfigError::io(path, cause);
    let (lines, bytes) = (scan.lines, scan.bytes);
    let mut digest = Context::new(&SHA256);
    // The lines bound the domains; the bytes bound their names and display
    // names (a Unicode name's punycode form may be a little longer; then
    // the text grows once). Reserved room costs no memory until written.
    table.reserve(lines.min(MAX_RESERVED_ROWS), bytes.min(MAX_RESERVED_TEXT));
    let rows_before = table.len();
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut more_problems = 0usize;
    let mut problem = |line: usize, reason: String| {
        if problems.len() < MAX_LISTED_PROBLEMS {
            problems.push((line, reason));
        } else {
            more_problems += 1;
        }
    };
    let mut buffer = Vec::with_capacity(256);
    let mut line = 0;
    loop {
        buffer.clear();
        let (read, whole) =
            read_bounded_line(&mut file, &mut buffer, &mut digest).map_err(io_error)?;
        if read == 0 {
            break;
        }
        line += 1;
        if !whole {
            problem(
                line,
                format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            );
            continue;
        }
        let Ok(raw) = std::str::from_utf8(&buffer) else {
            problem(line, "the line is not UTF-8 text".into());
            continue;
        };
        // Also drops the line end, `\n` or `\r\n`.
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut rest = content;
        let (Some(domain), Some(profile_id)) = (next_field(&mut rest), next_field(&mut rest))
        else {
            problem(
                line,
                "expected `domain profile [display name]`: the profile is missing".into(),
            );
            continue;
        };
        let display_name = Some(rest.trim()).filter(|name| !name.is_empty());
        let name = match DomainName::parse(domain) {
            Ok(name) => name,
            Err(error) => {
                problem(line, format!("{domain:?} is not a domain name: {error}"));
                continue;
            }
        };
        let Some(profile) = table.profile(profile_id) else {
            let known: Vec<&str> = table.profile_ids().collect();
            problem(
                line,
                format!(
                    "unknown profile {profile_id:?} for domain {name}; known profiles: {}",
                    known.join(", ")
                ),
            );
            continue;
        };
        match table.insert(&name, profile, display_name, None) {
            Ok(()) => {}
            Err(InsertError::Listed { row }) if row < rows_before => problem(
                line,
                format!(
                    "domain {name} is also in the [[domain]] table of {}",
                    config_path.display()
                ),
            ),
            Err(InsertError::Listed { .. }) => {
                problem(line, format!("domain {name} is listed twice"));
            }
            Err(InsertError::TooLarge) => {
                problem(
                    line,
                    "the domain table is full: its names pass 4 GiB; split the table across \
                     servers"
                        .into(),
                );
                break;
            }
        }
    }
    if problems.is_empty() {
        return Ok(digest_bytes(digest.finish()));
    }
    if more_problems > 0 {
        let last = problems.last().map_or(0, |(line, _)| *line);
        problems.push((
            last,
            format!("... and {more_problems} more bad lines after this one"),
        ));
    }
    Err(ConfigError::Lines {
        path: path.to_owned(),
        problems,
    })
}

/// Reads one line into `buffer`, at most `MAX_LINE_BYTES` of it: returns
/// the bytes consumed (0 at the end of the file) and whether the line fit.
/// The rest of a longer line is consumed without being kept.
fn read_bounded_line(
    file: &mut impl BufRead,
    buffer: &mut Vec<u8>,
    digest: &mut Context,
) -> std::io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut whole = true;
    loop {
        let chunk = file.fill_buf()?;
        if chunk.is_empty() {
            return Ok((consumed, whole));
        }
        let (taken, ended) = match chunk.iter().position(|&byte| byte == b'\n') {
            Some(end) => (end + 1, true),
            None => (chunk.len(), false),
        };
        if whole && buffer.len() + taken <= MAX_LINE_BYTES {
            buffer.extend_from_slice(&chunk[..taken]);
        } else {
            whole = false;
            buffer.clear();
        }
        digest.update(&chunk[..taken]);
        file.consume(taken);
        consumed += taken;
        if ended {
            return Ok((consumed, whole));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Seek;

    /// Both passes, as `Config` runs them.
    fn read_domains_file(
        path: &Path,
        mut file: impl BufRead + Seek,
        table: &mut DomainTable,
        config_path: &Path,
    ) -> Result<(), ConfigError> {
        let scan = scan_domains_file(path, &mut file)?;
        file.rewind().unwrap();
        parse_domains_file(path, file, &scan, table, config_path).map(drop)
    }
    use crate::profile::load_profiles;

    #[test]
    fn an_overlong_line_is_a_bad_line_and_the_next_line_is_read() {
        let long = format!("{}.test microsoft365\n", "a".repeat(MAX_LINE_BYTES));
        let text = format!("northwind.test microsoft365\n{long}{long}adatum.test outlook");
        let error = parse(&text).unwrap_err().to_string();
        assert!(
            error.contains(":2: the line is longer than 4096 bytes"),
            "{error}"
        );
        assert!(
            error.contains(":3: the line is longer than 4096 bytes"),
            "{error}"
        );
        assert!(!error.contains(":4:"), "{error}");
        // Exactly at the limit is a line like any other.
        let name = format!("{}.test", "b".repeat(60));
        let padded = format!("{name} outlook {}", "x".repeat(MAX_LINE_BYTES));
        let fits = &padded[..MAX_LINE_BYTES - 1];
        let table = parse(&format!("{fits}\n")).unwrap();
        assert_eq!(table.len(), 1);
    }

    fn parse(text: &str) -> Result<DomainTable, ConfigError> {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        read_domains_file(
            Path::new("domains.txt"),
            std::io::Cursor::new(text.as_bytes()),
            &mut table,
            Path::new("m.toml"),
        )?;
        Ok(table)
    }

    /// Both passes digest every byte they read, so equal digests mean the
    /// table came from the bytes scanned, and a file written to between
    /// the passes shows.
    #[test]
    fn both_passes_digest_the_same_bytes() {
        for text in [
            "",
            "# comment\n\ncontoso.com microsoft365 Contoso\r\n",
            "a.test outlook\nno-end.test outlook",
        ] {
            let scan = scan_domains_file(Path::new("d"), &mut text.as_bytes()).unwrap();
            let mut table = DomainTable::new(&load_profiles(None).unwrap());
            let read = parse_domains_file(
                Path::new("d"),
                text.as_bytes(),
                &scan,
                &mut table,
                Path::new("m.toml"),
            )
            .unwrap();
            assert_eq!(read, scan.digest, "{text:?}");
            let mut whole = Context::new(&SHA256);
            whole.update(text.as_bytes());
            assert_eq!(scan.digest, digest_bytes(whole.finish()), "{text:?}");
        }
        let scan = scan_domains_file(Path::new("d"), &mut &b"a.test outlook\n"[..]).unwrap();
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let read = parse_domains_file(
            Path::new("d"),
            &b"b.test outlook\n"[..],
            &scan,
            &mut table,
            Path::new("m.toml"),
        )
        .unwrap();
        assert_ne!(read, scan.digest);
    }

    #[test]
    fn lines_give_domain_profile_and_optional_display_name() {
        let table = parse(
            "# hoster's table\n\ncontoso.com microsoft365 Contoso Ltd.\n\
             \tFabrikam.NET\t\toutlook  \nbücher.example microsoft365   Bücher & Co\n",
        )
        .unwrap();
        let rows: Vec<(&str, &str, Option<&str>)> = table
            .iter()
            .map(|d| (d.name, d.profile.id.as_str(), d.display_name))
            .collect();
        assert_eq!(
            rows,
            [
                ("contoso.com", "microsoft365", Some("Contoso Ltd.")),
                ("fabrikam.net", "outlook", None),
                ("xn--bcher-kva.example", "microsoft365", Some("Bücher & Co")),
            ]
        );
    }

    #[test]
    fn a_domain_of_the_toml_table_is_a_bad_line() {
        let profiles = load_profiles(None).unwrap();
        let mut table = DomainTable::new(&profiles);
        let outlook = table.profile("outlook").unwrap();
        let contoso = DomainName::parse("contoso.com").unwrap();
        table.insert(&contoso, outlook, None, None).unwrap();
        let error = read_domains_file(
            Path::new("domains.txt"),
            std::io::Cursor::new("a.example outlook\nContoso.com outlook\na.example outlook\n"),
            &mut table,
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "domains.txt:2: domain contoso.com is also in the [[domain]] table of m.toml\n\
             domains.txt:3: domain a.example is listed twice"
        );
    }

    #[test]
    fn every_bad_line_is_reported_at_once_with_its_number() {
        let error = parse(
            "contoso.com microsoft365\nlonely.example\nbad_domain.example outlook\n\
             fine.example nosuchprofile\nCONTOSO.com outlook\n",
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "domains.txt:2: expected `domain profile [display name]`",
            "domains.txt:3: \"bad_domain.example\" is not a domain name",
            "domains.txt:4: unknown profile \"nosuchprofile\"",
            "domains.txt:5: domain contoso.com is listed twice",
        ] {
            assert!(error.contains(expected), "{expected}\n{error}");
        }
        assert!(!error.contains("domains.txt:1:"), "{error}");
    }

    #[test]
    fn the_list_of_problems_is_bounded() {
        let text: String = (0..250).map(|i| format!("bad_{i} outlook\n")).collect();
        let error = parse(&text).unwrap_err().to_string();
        assert_eq!(error.lines().count(), MAX_LISTED_PROBLEMS + 1, "{error}");
        assert!(error.contains("and 150 more bad lines"), "{error}");
    }

    #[test]
    fn a_line_not_in_utf8_is_a_bad_line_and_line_ends_do_not_matter() {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let error = read_domains_file(
            Path::new("domains.txt"),
            std::io::Cursor::new(
                b"a.example outlook\r\nb.example outl\xffook\r\n\
                  c.example microsoft365 C\xc3\xa9 Ltd"
                    .as_slice(),
            ),
            &mut table,
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error, "domains.txt:2: the line is not UTF-8 text");
        let rows: Vec<(&str, Option<&str>)> =
            table.iter().map(|d| (d.name, d.display_name)).collect();
        assert_eq!(rows, [("a.example", None), ("c.example", Some("Cé Ltd"))]);
    }
}
