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
//!
//! A reload that changes only this file does not parse it whole again:
//! `update_domains_file` walks it beside the table in service and applies
//! the lines that changed to a copy (see `FileRows` for how it knows which
//! row each line made).

use std::borrow::Cow;
use std::io::BufRead;
use std::ops::ControlFlow;
use std::path::Path;

use crate::domain_table::{DomainTable, InsertError};
use crate::email::DomainName;
use crate::source::ConfigError;

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

/// What one line of a domains file says.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// A blank or comment line.
    Skip,
    /// Why the line is bad, when that can be said without the table.
    Bad(&'static str),
    /// `domain profile [display name]`, as written (the domain not yet
    /// checked, the profile not yet looked up).
    Entry {
        domain: &'a str,
        profile: &'a str,
        display_name: Option<&'a str>,
    },
}

/// Splits one line (its line end included, or not) into its fields.
fn split_line(bytes: &[u8]) -> Line<'_> {
    let Ok(raw) = std::str::from_utf8(bytes) else {
        return Line::Bad("the line is not UTF-8 text");
    };
    if raw.is_ascii() {
        split_ascii(raw)
    } else {
        split_text(raw)
    }
}

/// `split_line` of any text: the fields are separated by spaces or tabs,
/// the line and its fields trimmed of white space as Unicode defines it.
fn split_text(raw: &str) -> Line<'_> {
    // Also drops the line end, `\n` or `\r\n`.
    let content = raw.trim();
    if content.is_empty() || content.starts_with('#') {
        return Line::Skip;
    }
    let mut rest = content;
    let (Some(domain), Some(profile)) = (next_field(&mut rest), next_field(&mut rest)) else {
        return Line::Bad(MISSING_PROFILE);
    };
    Line::Entry {
        domain,
        profile,
        display_name: Some(rest.trim()).filter(|name| !name.is_empty()),
    }
}

const MISSING_PROFILE: &str = "expected `domain profile [display name]`: the profile is missing";

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

/// `split_text` of an ASCII line, a byte at a time: most lines, read on
/// every reload. White space among ASCII characters, as `str::trim` has
/// it: tab, line feed, vertical tab, form feed, carriage return, space.
fn split_ascii(raw: &str) -> Line<'_> {
    let content = trim_ascii_space(raw);
    if content.is_empty() || content.starts_with('#') {
        return Line::Skip;
    }
    let mut rest = content;
    let (Some(domain), Some(profile)) = (ascii_field(&mut rest), ascii_field(&mut rest)) else {
        return Line::Bad(MISSING_PROFILE);
    };
    Line::Entry {
        domain,
        profile,
        display_name: Some(trim_ascii_space(rest)).filter(|name| !name.is_empty()),
    }
}

fn is_ascii_space(byte: &u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ')
}

/// Every byte is a character of an ASCII `text`, so any index is a
/// character boundary.
fn trim_ascii_space(text: &str) -> &str {
    let bytes = text.as_bytes();
    let Some(start) = bytes.iter().position(|byte| !is_ascii_space(byte)) else {
        return "";
    };
    let end = bytes
        .iter()
        .rposition(|byte| !is_ascii_space(byte))
        .map_or(start, |end| end + 1);
    &text[start..end]
}

/// `next_field` of an ASCII `rest`.
fn ascii_field<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let bytes = rest.as_bytes();
    let start = bytes.iter().position(|byte| !is_ascii_space(byte))?;
    let len = memchr::memchr2(b' ', b'\t', &bytes[start..]).unwrap_or(bytes.len() - start);
    let field = &rest[start..start + len];
    *rest = &rest[start + len..];
    Some(field)
}

/// Calls `each` with every line of `file` from where it stands, its line
/// end included (the last line may have none), or with `None` for a line
/// longer than `MAX_LINE_BYTES`, which is skipped without being held.
/// Lines within the reader's buffer are passed where they lie, uncopied.
/// Stops early when `each` breaks.
fn for_each_line(
    file: &mut impl BufRead,
    mut each: impl FnMut(Option<&[u8]>) -> ControlFlow<()>,
) -> std::io::Result<()> {
    // The start of a line the buffer ended in, unless it was too long.
    let mut partial = Vec::new();
    let mut overlong = false;
    loop {
        let chunk = file.fill_buf()?;
        if chunk.is_empty() {
            if overlong {
                let _ = each(None);
            } else if !partial.is_empty() {
                let _ = each(Some(&partial));
            }
            return Ok(());
        }
        let mut start = 0;
        let mut stopped = false;
        for end in memchr::memchr_iter(b'\n', chunk) {
            let piece = &chunk[start..=end];
            start = end + 1;
            let flow = if overlong || partial.len() + piece.len() > MAX_LINE_BYTES {
                each(None)
            } else if partial.is_empty() {
                each(Some(piece))
            } else {
                partial.extend_from_slice(piece);
                each(Some(&partial))
            };
            partial.clear();
            overlong = false;
            if flow.is_break() {
                stopped = true;
                break;
            }
        }
        if !stopped {
            let rest = &chunk[start..];
            if !overlong && partial.len() + rest.len() > MAX_LINE_BYTES {
                overlong = true;
                partial.clear();
            } else if !overlong {
                partial.extend_from_slice(rest);
            }
            start = chunk.len();
        }
        file.consume(start);
        if stopped {
            return Ok(());
        }
    }
}

/// What the first pass over a domains file found: its size, which the
/// table is sized from.
#[derive(Debug, Clone)]
pub struct Scan {
    lines: usize,
    bytes: usize,
}

/// The first pass: lines (a last line without a line end counts) and
/// bytes of `file` from where it stands.
pub fn scan_domains_file(path: &Path, file: &mut impl BufRead) -> Result<Scan, ConfigError> {
    let (mut lines, mut bytes, mut last) = (0, 0, b'\n');
    loop {
        let chunk = file
            .fill_buf()
            .map_err(|cause| ConfigError::io(path, cause))?;
        let Some(&end) = chunk.last() else {
            break;
        };
        lines += memchr::memchr_iter(b'\n', chunk).count();
        bytes += chunk.len();
        last = end;
        let read = chunk.len();
        file.consume(read);
    }
    Ok(Scan {
        lines: lines + usize::from(last != b'\n'),
        bytes,
    })
}

/// The second pass, from the file's start: checks every line of the file
/// `path` (read from `file`) and adds its domains to `table`, sized once
/// from the first pass (`scan_domains_file`): the file is never held
/// whole, a line is parsed in place, and only the domain's lower-case
/// form is made, dropped once copied into the table. `table` may already
/// hold the `[[domain]]` table of `config_path`; a domain in both is a
/// bad line. On error `table` is left part-filled; the caller drops it.
/// Returns the rows of the file's domains, in the file's order.
pub fn parse_domains_file(
    path: &Path,
    mut file: impl BufRead,
    scan: &Scan,
    table: &mut DomainTable,
    config_path: &Path,
) -> Result<FileRows, ConfigError> {
    let (lines, bytes) = (scan.lines, scan.bytes);
    // The lines bound the domains; the bytes bound their names and display
    // names (a Unicode name's punycode form may be a little longer; then
    // the text grows once). Reserved room costs no memory until written.
    table.reserve(lines.min(MAX_RESERVED_ROWS), bytes.min(MAX_RESERVED_TEXT));
    let rows_before = table.rows_inserted();
    // Inserted rows are numbered one after the other: a run.
    let mut count = 0u32;
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut more_problems = 0usize;
    let mut problem = |line: usize, reason: String| {
        if problems.len() < MAX_LISTED_PROBLEMS {
            problems.push((line, reason));
        } else {
            more_problems += 1;
        }
    };
    let mut line = 0;
    for_each_line(&mut file, |bytes| {
        line += 1;
        let Some(bytes) = bytes else {
            problem(
                line,
                format!("the line is longer than {MAX_LINE_BYTES} bytes"),
            );
            return ControlFlow::Continue(());
        };
        let (domain, profile_id, display_name) = match split_line(bytes) {
            Line::Skip => return ControlFlow::Continue(()),
            Line::Bad(reason) => {
                problem(line, reason.into());
                return ControlFlow::Continue(());
            }
            Line::Entry {
                domain,
                profile,
                display_name,
            } => (domain, profile, display_name),
        };
        let name = match DomainName::parse(domain) {
            Ok(name) => name,
            Err(error) => {
                problem(line, format!("{domain:?} is not a domain name: {error}"));
                return ControlFlow::Continue(());
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
            return ControlFlow::Continue(());
        };
        match table.insert(&name, profile, display_name, None) {
            // Rows are numbered below 2³² (`insert` refuses more).
            Ok(()) => count += 1,
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
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .map_err(|cause| ConfigError::io(path, cause))?;
    if problems.is_empty() {
        return Ok(FileRows::Run {
            // Rows are numbered below 2³² (`insert` refuses more).
            first: rows_before as u32,
            count,
        });
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

/// The table row of each of a domains file's domains, in the file's
/// order: what the next reload's `update_domains_file` walks beside the
/// new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRows {
    /// Rows `first..first + count`, in order: a table built from the file,
    /// or updated only at its end. Costs nothing per domain.
    Run { first: u32, count: u32 },
    /// Any other order, after an update: 4 bytes a domain.
    Listed(Vec<u32>),
}

impl FileRows {
    /// `rows` as a run when they are one.
    fn new(rows: Vec<u32>) -> FileRows {
        let first = rows.first().copied().unwrap_or(0);
        let is_run = rows
            .iter()
            .zip(first..)
            .all(|(&row, expected)| row == expected);
        match u32::try_from(rows.len()) {
            Ok(count) if is_run => FileRows::Run { first, count },
            _ => FileRows::Listed(rows),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            FileRows::Run { count, .. } => *count as usize,
            FileRows::Listed(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The row of the file's `index`th domain (0-based).
    pub fn get(&self, index: usize) -> Option<usize> {
        match self {
            FileRows::Run { first, count } => {
                (index < *count as usize).then(|| *first as usize + index)
            }
            FileRows::Listed(rows) => rows.get(index).map(|&row| row as usize),
        }
    }
}

/// Lines an update may add or change before rebuilding is as cheap and
/// leaves no removed rows behind.
fn max_changes(domains: usize) -> usize {
    (domains / 8).max(1000)
}

/// How far ahead in the previous file's order a line found elsewhere is
/// looked for, so that the lines after a removed one are again matched
/// by position.
const RESYNC_WINDOW: usize = 16;

/// What `update_domains_file` made of the file.
#[derive(Debug)]
pub enum Update {
    /// Every domain, profile and display name as in the table given:
    /// only comments, blank lines, spacing or the order changed. `rows`
    /// is the file's order.
    Unchanged { rows: FileRows },
    /// A copy of the table given, with the file's changes.
    Changed { table: DomainTable, rows: FileRows },
    /// A full parse must run instead: a bad line (the full parse words
    /// and numbers every one), more changes than `max_changes`, or more
    /// than a quarter of the table's rows removed (a rebuild leaves none).
    Declined,
}

/// A reload's one pass over a domains file when only that file may have
/// changed: `table` is the table in service, whose rows from the previous
/// file are `previous` (in that file's order; rows below `first_file_row`
/// are the `[[domain]]` table's). A line equal to its row costs a
/// comparison, found by position, then by name; the table is copied at
/// the first change; a changed line replaces its row, a new one is added,
/// and the rows no line names are removed.
pub fn update_domains_file(
    mut file: impl BufRead,
    previous: &FileRows,
    first_file_row: usize,
    table: &DomainTable,
) -> std::io::Result<Update> {
    let old_rows = table.rows_inserted();
    let mut table = Cow::Borrowed(table);
    // The previous file's rows a line of this one has claimed.
    let mut claimed = vec![false; old_rows];
    let mut rows = Vec::with_capacity(previous.len());
    // Where in `previous` the next line is expected.
    let mut next = 0;
    let mut changes = 0;
    let mut declined = false;
    let mut decline = || {
        declined = true;
        ControlFlow::Break(())
    };
    for_each_line(&mut file, |bytes| {
        let Some(bytes) = bytes else {
            return decline();
        };
        let (domain, profile_id, display_name) = match split_line(bytes) {
            Line::Skip => return ControlFlow::Continue(()),
            Line::Bad(_) => return decline(),
            Line::Entry {
                domain,
                profile,
                display_name,
            } => (domain, profile, display_name),
        };
        let Some(profile) = table.profile(profile_id) else {
            return decline();
        };
        // Most lines: the one the previous file had here, written the
        // way the table keeps it.
        if let Some(row) = previous.get(next)
            && !claimed[row]
            && table.row_is(row, domain, profile, display_name, None)
        {
            claimed[row] = true;
            rows.push(row as u32);
            next += 1;
            return ControlFlow::Continue(());
        }
        let Ok(name) = DomainName::parse(domain) else {
            return decline();
        };
        if let Some((row, _)) = table.get_row(name.as_str()) {
            if row < first_file_row || row >= old_rows || claimed[row] {
                // Also in the `[[domain]]` table, or listed twice.
                return decline();
            }
            claimed[row] = true;
            // Moved, or the lines before it were removed: carry on from it.
            if let Some(skipped) = (next..next + RESYNC_WINDOW)
                .map_while(|index| previous.get(index))
                .position(|r| r == row)
            {
                next += skipped + 1;
            }
            if table.row_is(row, name.as_str(), profile, display_name, None) {
                rows.push(row as u32);
                return ControlFlow::Continue(());
            }
            // Changed: replaced by the row inserted below.
            table.to_mut().remove(row);
        }
        changes += 1;
        if changes > max_changes(previous.len()) {
            return decline();
        }
        let row = table.rows_inserted();
        if table
            .to_mut()
            .insert(&name, profile, display_name, None)
            .is_err()
        {
            return decline();
        }
        rows.push(row as u32);
        ControlFlow::Continue(())
    })?;
    if declined {
        return Ok(Update::Declined);
    }
    for row in (0..previous.len()).filter_map(|index| previous.get(index)) {
        if !claimed[row] {
            table.to_mut().remove(row);
        }
    }
    let rows = FileRows::new(rows);
    Ok(match table {
        Cow::Borrowed(_) => Update::Unchanged { rows },
        Cow::Owned(_) if table.removed() * 4 > table.rows_inserted() => Update::Declined,
        Cow::Owned(table) => Update::Changed { table, rows },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain_table::DomainEntry;
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

    /// Lines come out the same whatever the reader's buffer size: split
    /// across buffers, the last one without a line end, and overlong ones
    /// (passed as `None`) however they fall.
    #[test]
    fn lines_are_the_same_whatever_the_buffer() {
        let long = "x".repeat(MAX_LINE_BYTES);
        let text = format!(
            "a.test outlook\n\n{long}\n{}\nb.test outlook B\r\n{long}y\nlast",
            &long[1..]
        );
        let expected: Vec<Option<String>> = text
            .split_inclusive('\n')
            .map(|line| (line.len() <= MAX_LINE_BYTES).then(|| line.to_owned()))
            .collect();
        assert_eq!(expected.iter().filter(|line| line.is_none()).count(), 2);
        for capacity in [1, 2, 3, 7, 64, 4095, 4096, 4097, 1 << 16] {
            let mut reader = std::io::BufReader::with_capacity(capacity, text.as_bytes());
            let mut lines = Vec::new();
            for_each_line(&mut reader, |line| {
                lines.push(line.map(|bytes| String::from_utf8(bytes.to_vec()).unwrap()));
                ControlFlow::Continue(())
            })
            .unwrap();
            assert_eq!(lines, expected, "capacity {capacity}");
        }
        // A break stops at once.
        let mut seen = 0;
        for_each_line(&mut text.as_bytes(), |_| {
            seen += 1;
            ControlFlow::Break(())
        })
        .unwrap();
        assert_eq!(seen, 1);
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

    /// Every entry of `table` and the file's order, for comparing an
    /// updated table with one built from scratch.
    fn contents(table: &DomainTable, rows: &FileRows) -> (Vec<String>, Vec<String>) {
        let describe = |entry: DomainEntry<'_>| {
            format!(
                "{} {} {:?} {:?}",
                entry.name, entry.profile.id, entry.display_name, entry.organization
            )
        };
        let mut all: Vec<String> = table.iter().map(describe).collect();
        all.sort();
        let in_file_order = (0..rows.len())
            .map(|index| describe(table.row(rows.get(index).unwrap()).expect("a live row")))
            .collect();
        (all, in_file_order)
    }

    /// A table with two `[[domain]]` rows, then `text` as the domains file.
    fn full_parse(text: &str) -> Result<(DomainTable, FileRows), ConfigError> {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let m365 = table.profile("microsoft365").unwrap();
        for name in ["toml-a.example", "toml-b.example"] {
            let name = DomainName::parse(name).unwrap();
            table.insert(&name, m365, None, Some("From TOML")).unwrap();
        }
        let scan = scan_domains_file(Path::new("d"), &mut text.as_bytes())?;
        let read = parse_domains_file(
            Path::new("d"),
            text.as_bytes(),
            &scan,
            &mut table,
            Path::new("m.toml"),
        )?;
        Ok((table, read))
    }

    /// Random edits, a few at a time, over many reloads: whenever the
    /// update applies, the table equals one built from the new file from
    /// scratch (same entries, same file order); whenever the new file has
    /// a bad line, the update declines and the full parse reports it.
    #[test]
    fn an_updated_table_equals_one_built_from_scratch() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        let mut lines: Vec<String> = (0..300)
            .map(|i| match i % 3 {
                0 => format!("d{i}.example outlook Customer {i}"),
                1 => format!("d{i}.example microsoft365"),
                _ => format!("# comment {i}"),
            })
            .collect();
        let (mut table, mut rows) = full_parse(&lines.join("\n")).unwrap();
        let (mut updated, mut unchanged, mut declined, mut bad) = (0, 0, 0, 0);
        let mut fresh_names = 1000;
        for _ in 0..400 {
            for _ in 0..1 + random(4) {
                let at = random(lines.len());
                match random(16) {
                    0 | 12 => lines[at] = format!("{} outlook Renamed {at}", field(&lines[at])),
                    1 => lines[at] = format!("{} microsoft365", field(&lines[at])),
                    2 | 15 => {
                        lines.remove(at);
                    }
                    3 | 4 | 13 | 14 => {
                        fresh_names += 1;
                        lines.insert(at, format!("n{fresh_names}.example outlook"));
                    }
                    5 => {
                        let line = lines.remove(at);
                        let to = random(lines.len() + 1);
                        lines.insert(to, line);
                    }
                    6 => lines.insert(at, String::new()),
                    // The same domain, written another way.
                    7 => {
                        lines[at] = lines[at]
                            .to_uppercase()
                            .replace("MICROSOFT365", "microsoft365")
                            .replace("OUTLOOK", "outlook")
                    }
                    8 => lines[at] = format!("\t{}  ", lines[at]),
                    9 => {
                        let copy = lines[at].clone();
                        lines.insert(random(lines.len()), copy);
                    }
                    10 => {
                        lines.insert(at, "toml-b.example outlook".to_owned());
                    }
                    _ => {
                        lines.insert(at, format!("bad_{at}.example outlook"));
                    }
                }
            }
            let text = lines.join("\n");
            let fresh = full_parse(&text);
            let update = update_domains_file(text.as_bytes(), &rows, 2, &table).unwrap();
            match (fresh, update) {
                (
                    Ok((fresh_table, fresh_rows)),
                    Update::Changed {
                        table: new,
                        rows: new_rows,
                    },
                ) => {
                    assert_eq!(
                        contents(&new, &new_rows),
                        contents(&fresh_table, &fresh_rows),
                        "{text}"
                    );
                    assert_eq!(new.len(), fresh_table.len());
                    (table, rows) = (new, new_rows);
                    updated += 1;
                }
                (Ok((fresh_table, fresh_rows)), Update::Unchanged { rows: new_rows }) => {
                    assert_eq!(
                        contents(&table, &new_rows),
                        contents(&fresh_table, &fresh_rows),
                        "{text}"
                    );
                    rows = new_rows;
                    unchanged += 1;
                }
                (Ok(fresh), Update::Declined) => {
                    (table, rows) = fresh;
                    declined += 1;
                }
                (Err(_), Update::Declined) => {
                    // Fix the file again: drop every line the full parse refuses.
                    bad += 1;
                    lines = valid_lines(&lines);
                    (table, rows) = full_parse(&lines.join("\n")).unwrap();
                }
                (Err(error), _) => panic!("a bad file was applied: {error}\n{text}"),
            }
        }
        // Most reloads took the update.
        assert!(
            updated > 150 && unchanged > 20 && bad > 20,
            "{updated} updated, {unchanged} unchanged, {declined} declined, {bad} bad"
        );
    }

    /// An update declines what a rebuild does better: more changed
    /// lines than `max_changes`, or a table left a quarter removed rows.
    #[test]
    fn an_update_declines_many_changes_and_many_removals() {
        let lines: Vec<String> = (0..4000).map(|i| format!("d{i}.example outlook")).collect();
        let (table, rows) = full_parse(&lines.join("\n")).unwrap();
        let update = |text: &str| update_domains_file(text.as_bytes(), &rows, 2, &table).unwrap();
        let changed_rows = |text: &str| match update(text) {
            Update::Changed { rows, .. } => Some(rows.len()),
            _ => None,
        };
        // Unchanged but for a comment: the same rows.
        match update(&format!("# new\n{}", lines.join("\n"))) {
            Update::Unchanged { rows: same } => assert_eq!(same, rows),
            other => panic!("{other:?}"),
        }
        // A thousand lines added: applied; one more is past `max_changes`.
        let added: Vec<String> = (0..1000).map(|i| format!("n{i}.example outlook")).collect();
        let grown = [&lines[..], &added[..]].concat().join("\n");
        assert_eq!(changed_rows(&grown), Some(5000));
        assert!(matches!(
            update(&format!("{grown}\nlast.example outlook")),
            Update::Declined
        ));
        // A quarter of the rows removed is applied; a few more are not.
        assert_eq!(changed_rows(&lines[1000..].join("\n")), Some(3000));
        assert!(matches!(
            update(&lines[1010..].join("\n")),
            Update::Declined
        ));
    }

    #[test]
    fn rows_one_after_the_other_are_kept_as_a_run() {
        assert_eq!(FileRows::new(vec![]), FileRows::Run { first: 0, count: 0 });
        let run = FileRows::new(vec![5, 6, 7]);
        assert_eq!(run, FileRows::Run { first: 5, count: 3 });
        assert_eq!(
            (run.get(0), run.get(2), run.get(3)),
            (Some(5), Some(7), None)
        );
        let listed = FileRows::new(vec![5, 7, 6]);
        assert_eq!(listed, FileRows::Listed(vec![5, 7, 6]));
        assert_eq!(
            (listed.len(), listed.get(1), listed.get(3)),
            (3, Some(7), None)
        );
        // A full parse gives a run; so does an update that only appends.
        let (table, rows) = full_parse("a.test outlook\n# c\nb.test outlook\n").unwrap();
        assert_eq!(rows, FileRows::Run { first: 2, count: 2 });
        match update_domains_file(
            &b"a.test outlook\nb.test outlook\nc.test outlook\n"[..],
            &rows,
            2,
            &table,
        )
        .unwrap()
        {
            Update::Changed { rows, .. } => assert_eq!(rows, FileRows::Run { first: 2, count: 3 }),
            other => panic!("{other:?}"),
        }
    }

    /// The ASCII path splits every ASCII line as the general one does,
    /// white space of every kind included.
    #[test]
    fn ascii_lines_split_the_same_both_ways() {
        let alphabet = [
            " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "#", "a", ".", "x", "\u{a0}", "é",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut ascii_lines = 0;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let length = (seed % 12) as usize;
            let line: String = (0..length)
                .map(|i| alphabet[((seed >> (4 * i + 8)) % alphabet.len() as u64) as usize])
                .collect();
            if line.is_ascii() {
                ascii_lines += 1;
                assert_eq!(split_ascii(&line), split_text(&line), "{line:?}");
            }
            assert_eq!(split_line(line.as_bytes()), split_text(&line), "{line:?}");
        }
        assert!(ascii_lines > 10_000, "{ascii_lines}");
    }

    fn field(line: &str) -> &str {
        line.split_whitespace().next().unwrap_or("x.example")
    }

    /// `lines` without the ones a full parse refuses: bad domains, the
    /// `[[domain]]` table's, and later lines of a domain listed already.
    fn valid_lines(lines: &[String]) -> Vec<String> {
        let mut seen = std::collections::HashSet::from([
            "toml-a.example".to_owned(),
            "toml-b.example".to_owned(),
        ]);
        lines
            .iter()
            .filter(|line| match split_line(line.as_bytes()) {
                Line::Skip => true,
                Line::Bad(_) => false,
                Line::Entry { domain, .. } => {
                    DomainName::parse(domain).is_ok_and(|name| seen.insert(name.to_string()))
                }
            })
            .cloned()
            .collect()
    }
}
