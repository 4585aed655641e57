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
//! in one pass. Knows nothing of the TOML table; `config` merges the two.

use std::collections::HashSet;
use std::path::Path;

use crate::email::DomainName;
use crate::profile::Profiles;
use crate::source::ConfigError;

/// One line of the file.
#[derive(Debug, Clone)]
pub struct FileDomain {
    pub name: DomainName,
    pub profile: String,
    pub display_name: Option<String>,
    /// 1-based, for errors found later (a clash with the TOML table).
    pub line: usize,
}

/// At most this many bad lines are listed; the count says how many more.
const MAX_LISTED_PROBLEMS: usize = 100;

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

/// Parses and checks the whole file.
pub fn parse_domains_file(
    path: &Path,
    text: &str,
    profiles: &Profiles,
) -> Result<Vec<FileDomain>, ConfigError> {
    let mut domains = Vec::with_capacity(text.len() / 32);
    let mut seen: HashSet<DomainName> = HashSet::with_capacity(text.len() / 32);
    let mut problems: Vec<(usize, String)> = Vec::new();
    let mut more_problems = 0usize;
    let mut problem = |line: usize, reason: String| {
        if problems.len() < MAX_LISTED_PROBLEMS {
            problems.push((line, reason));
        } else {
            more_problems += 1;
        }
    };
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let mut rest = content;
        let (Some(domain), Some(profile)) = (next_field(&mut rest), next_field(&mut rest)) else {
            problem(
                line,
                "expected `domain profile [display name]`: the profile is missing".into(),
            );
            continue;
        };
        let display_name = Some(rest.trim())
            .filter(|name| !name.is_empty())
            .map(str::to_owned);
        let name = match DomainName::parse(domain) {
            Ok(name) => name,
            Err(error) => {
                problem(line, format!("{domain:?} is not a domain name: {error}"));
                continue;
            }
        };
        if !profiles.contains_key(profile) {
            let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
            problem(
                line,
                format!(
                    "unknown profile {profile:?} for domain {name}; known profiles: {}",
                    known.join(", ")
                ),
            );
            continue;
        }
        if !seen.insert(name.clone()) {
            problem(line, format!("domain {name} is listed twice"));
            continue;
        }
        domains.push(FileDomain {
            name,
            profile: profile.to_owned(),
            display_name,
            line,
        });
    }
    if problems.is_empty() {
        return Ok(domains);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load_profiles;

    fn parse(text: &str) -> Result<Vec<FileDomain>, ConfigError> {
        parse_domains_file(
            Path::new("domains.txt"),
            text,
            &load_profiles(None).unwrap(),
        )
    }

    #[test]
    fn lines_give_domain_profile_and_optional_display_name() {
        let domains = parse(
            "# hoster's table\n\ncontoso.com microsoft365 Contoso Ltd.\n\
             \tFabrikam.NET\t\toutlook  \nbücher.example microsoft365   Bücher & Co\n",
        )
        .unwrap();
        let rows: Vec<(&str, &str, Option<&str>, usize)> = domains
            .iter()
            .map(|d| {
                (
                    d.name.as_str(),
                    d.profile.as_str(),
                    d.display_name.as_deref(),
                    d.line,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("contoso.com", "microsoft365", Some("Contoso Ltd."), 3),
                ("fabrikam.net", "outlook", None, 4),
                (
                    "xn--bcher-kva.example",
                    "microsoft365",
                    Some("Bücher & Co"),
                    5
                ),
            ]
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
}
