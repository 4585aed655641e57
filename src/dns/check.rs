//! The record checker: looks every expected record up and says, per name
//! and type, whether DNS has exactly it and what to change if not.

use std::fmt::Write as _;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};
use serde::Serialize;

use super::records::DnsRecord;
use super::resolver::lookup;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Wrong,
    Missing,
    /// The lookup itself failed; nothing is known about the record.
    Failed,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Wrong => "wrong",
            CheckStatus::Missing => "missing",
            CheckStatus::Failed => "failed",
        }
    }
}

/// The verdict on one name and record type.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The expected values in presentation format.
    pub expected: Vec<String>,
    /// What DNS answered, `TYPE value` each (a CNAME may stand where an
    /// address was expected).
    pub found: Vec<String>,
    pub status: CheckStatus,
    /// What to change, empty when OK.
    pub action: String,
}

/// Looks every expected record up and says, per name and type, whether DNS
/// has exactly it. The lookups run concurrently, so an unreachable resolver
/// costs one timeout, not one per name.
pub async fn check_records(
    resolver: &TokioResolver,
    records: &[DnsRecord],
    timeout: Duration,
) -> Vec<CheckResult> {
    // Group by (owner, type), keeping the order of first appearance.
    let mut groups: Vec<(String, RecordType, Vec<DnsRecord>)> = Vec::new();
    for record in records {
        let kind = record.data.record_type();
        match groups
            .iter_mut()
            .find(|(o, k, _)| *o == record.owner && *k == kind)
        {
            Some(group) => group.2.push(record.clone()),
            None => groups.push((record.owner.clone(), kind, vec![record.clone()])),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (index, (owner, kind, expected)) in groups.into_iter().enumerate() {
        let resolver = resolver.clone();
        tasks.spawn(async move {
            let result = check_group(&resolver, &owner, kind, &expected, timeout).await;
            (index, result)
        });
    }
    let mut results: Vec<(usize, CheckResult)> = tasks.join_all().await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

async fn check_group(
    resolver: &TokioResolver,
    owner: &str,
    kind: RecordType,
    expected: &[DnsRecord],
    timeout: Duration,
) -> CheckResult {
    let expected_values: Vec<String> = expected.iter().map(|r| r.data.value()).collect();
    let mut result = CheckResult {
        name: format!("{owner}."),
        kind: expected[0].data.kind(),
        expected: expected_values.clone(),
        found: Vec::new(),
        status: CheckStatus::Ok,
        action: String::new(),
    };
    let answer = match lookup(resolver, owner, kind, timeout).await {
        Ok(answer) => answer,
        Err(failure) => {
            result.status = CheckStatus::Failed;
            result.action = format!("{failure}; check the resolver and try again");
            return result;
        }
    };
    let owner_name = format!("{owner}.");
    // Values of the asked type; for A/AAAA the resolver follows CNAMEs, so
    // the addresses at the end of the chain are what clients get.
    let mut found_values: Vec<String> = Vec::new();
    for (data, _ttl) in &answer.records {
        let value = match (data, kind) {
            (RData::CNAME(cname), RecordType::CNAME) => Some(lower(&cname.0.to_ascii())),
            (RData::A(a), RecordType::A) => Some(a.0.to_string()),
            (RData::AAAA(a), RecordType::AAAA) => Some(a.0.to_string()),
            (RData::SRV(srv), RecordType::SRV) => Some(format!(
                "{} {} {} {}",
                srv.priority,
                srv.weight,
                srv.port,
                lower(&srv.target.to_ascii())
            )),
            _ => None,
        };
        if let Some(value) = value {
            found_values.push(value);
        }
        result
            .found
            .push(format!("{} {}", data.record_type(), presentation(data)));
    }

    // A CNAME expected but none there: what is at the name instead?
    if kind == RecordType::CNAME && found_values.is_empty() {
        for other in [RecordType::A, RecordType::AAAA] {
            if let Ok(answer) = lookup(resolver, owner, other, timeout).await {
                for (data, _) in &answer.records {
                    result
                        .found
                        .push(format!("{} {}", data.record_type(), presentation(data)));
                }
            }
        }
    }

    let mut expected_sorted = expected_values.clone();
    expected_sorted.sort();
    let mut found_sorted = found_values.clone();
    found_sorted.sort();
    found_sorted.dedup();
    let lines: Vec<String> = expected.iter().map(|r| r.zone_line()).collect();
    if found_sorted == expected_sorted {
        result.status = CheckStatus::Ok;
    } else if result.found.is_empty() {
        result.status = CheckStatus::Missing;
        result.action = format!("add: {}", lines.join(" / "));
    } else {
        result.status = CheckStatus::Wrong;
        let what = if found_values.is_empty() {
            format!(
                "remove the {} record(s) at {owner_name}",
                found_kinds(&result.found)
            )
        } else {
            format!("replace the {} record(s)", result.kind)
        };
        result.action = format!("{what}; publish: {}", lines.join(" / "));
    }
    result
}

fn found_kinds(found: &[String]) -> String {
    let mut kinds: Vec<&str> = found.iter().filter_map(|f| f.split(' ').next()).collect();
    kinds.dedup();
    kinds.join("/")
}

fn lower(name: &str) -> String {
    let mut name = name.to_ascii_lowercase();
    if !name.ends_with('.') {
        name.push('.');
    }
    name
}

fn presentation(data: &RData) -> String {
    match data {
        RData::CNAME(cname) => lower(&cname.0.to_ascii()),
        RData::SRV(srv) => format!(
            "{} {} {} {}",
            srv.priority,
            srv.weight,
            srv.port,
            lower(&srv.target.to_ascii())
        ),
        other => other.to_string(),
    }
}

/// The check results as an aligned table for people.
pub fn render_check_table(results: &[CheckResult]) -> String {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.kind.to_owned(),
                r.expected.join(", "),
                if r.found.is_empty() {
                    "(none)".to_owned()
                } else {
                    r.found.join(", ")
                },
                r.status.label().to_owned(),
                r.action.clone(),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "TYPE",
        "EXPECTED",
        "FOUND",
        "STATUS",
        "WHAT TO CHANGE",
    ]
    .map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row.iter()) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        line.push_str(&row[5]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let count = |status| results.iter().filter(|r| r.status == status).count();
    let _ = writeln!(
        out,
        "{} OK, {} wrong, {} missing, {} failed",
        count(CheckStatus::Ok),
        count(CheckStatus::Wrong),
        count(CheckStatus::Missing),
        count(CheckStatus::Failed)
    );
    out
}
