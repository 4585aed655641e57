//! `mailsetup dns` run as a process: the zone fragment loads in BIND's
//! `named-checkzone` and in the DNS stand-in, the JSON lists every record,
//! and `--check` against the stand-in reports correct, wrong, missing and
//! unresolvable records exactly, with a non-zero exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::tools;
use crate::dns_standin::{DnsStandIn, zone};

fn mailsetup() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailsetup"))
}

/// A configuration with a public name (or, with `addresses`, only
/// public addresses) and two table domains.
fn write_dns_config(dir: &Path, server: &str) -> PathBuf {
    let text = format!(
        r#"
[server]
http = ["127.0.0.1:0"]
https = []
{server}

[[domain]]
name = "contoso.test"
profile = "microsoft365"

[[domain]]
name = "fabrikam.test"
profile = "outlook"
"#
    );
    let path = dir.join("mailsetup.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const PUBLIC_NAME: &str = r#"public_name = "mailsetup.example.net""#;
const PUBLIC_ADDRESSES: &str = r#"public_ipv4 = "192.0.2.10"
public_ipv6 = "2001:db8::10""#;

fn dns(config: &Path, args: &[&str]) -> Output {
    mailsetup()
        .arg("dns")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// `named-checkzone`; `None` when it is not installed (see `skip_or_fail`).
fn named_checkzone() -> Option<&'static str> {
    const CHECKZONE: &str = "named-checkzone";
    tools::require_programs(&[CHECKZONE], "apt-get install bind9-utils").then_some(CHECKZONE)
}

/// Loads `fragment` into a zone for `origin` with BIND's checker, the way
/// an admin would `$INCLUDE` or paste it. Returns the checker's output.
fn check_with_bind(checkzone: &str, dir: &Path, origin: &str, fragment: &str) -> String {
    let fragment_path = dir.join("records.zone");
    std::fs::write(&fragment_path, fragment).unwrap();
    let zone_path = dir.join("zone.db");
    std::fs::write(
        &zone_path,
        zone(
            origin,
            300,
            &format!("$INCLUDE {}", fragment_path.display()),
        ),
    )
    .unwrap();
    // -i local: no integrity checks that would look names up on the
    // Internet (the tests have no DNS but the stand-in).
    let output = Command::new(checkzone)
        .args(["-i", "local", "-k", "fail", origin])
        .arg(&zone_path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "named-checkzone refused the zone:\n{text}\n{fragment}"
    );
    text
}

#[test]
fn zone_fragment_with_public_name_loads_in_named_checkzone() {
    let Some(checkzone) = named_checkzone() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let output = dns(&config, &["contoso.test"]);
    assert!(output.status.success(), "{output:?}");
    let text = check_with_bind(checkzone, dir.path(), "contoso.test", &stdout(&output));
    assert!(text.contains("loaded serial 1"), "{text}");
    assert!(text.trim_end().ends_with("OK"), "{text}");
}

#[test]
fn zone_fragment_with_addresses_loads_in_named_checkzone() {
    let Some(checkzone) = named_checkzone() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_ADDRESSES);
    let output = dns(&config, &["fabrikam.test"]);
    assert!(output.status.success(), "{output:?}");
    let fragment = stdout(&output);
    assert!(
        fragment.contains("autoconfig.fabrikam.test.\t3600\tIN\tA\t192.0.2.10"),
        "{fragment}"
    );
    let text = check_with_bind(checkzone, dir.path(), "fabrikam.test", &fragment);
    assert!(text.trim_end().ends_with("OK"), "{text}");
}

/// `(name, type, value)` of every record in the JSON output.
fn json_records(json: &Value) -> Vec<(String, String, String)> {
    json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["type"].as_str().unwrap().to_owned(),
                r["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn json_lists_every_record_of_a_microsoft365_domain() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let output = dns(&config, &["contoso.test", "--format", "json"]);
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["domain"], "contoso.test");
    assert_eq!(json["profile"], "microsoft365");
    let expected = [
        (
            "autoconfig.contoso.test.",
            "CNAME",
            "mailsetup.example.net.",
        ),
        (
            "autodiscover.contoso.test.",
            "CNAME",
            "mailsetup.example.net.",
        ),
        (
            "_autodiscover._tcp.contoso.test.",
            "SRV",
            "0 0 443 mailsetup.example.net.",
        ),
        (
            "_imaps._tcp.contoso.test.",
            "SRV",
            "0 0 993 outlook.office365.com.",
        ),
        ("_imap._tcp.contoso.test.", "SRV", "0 0 0 ."),
        (
            "_pop3s._tcp.contoso.test.",
            "SRV",
            "0 0 995 outlook.office365.com.",
        ),
        ("_pop3._tcp.contoso.test.", "SRV", "0 0 0 ."),
        (
            "_submission._tcp.contoso.test.",
            "SRV",
            "0 0 587 smtp.office365.com.",
        ),
        ("_submissions._tcp.contoso.test.", "SRV", "0 0 0 ."),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(n, t, v)| (n.to_string(), t.to_string(), v.to_string()))
        .collect();
    assert_eq!(json_records(&json), expected);
    for record in json["records"].as_array().unwrap() {
        assert_eq!(record["ttl"], 3600, "{record}");
    }
    // SRV fields are also given one by one.
    let imaps = &json["records"][3];
    assert_eq!(imaps["priority"], 0);
    assert_eq!(imaps["weight"], 0);
    assert_eq!(imaps["port"], 993);
    assert_eq!(imaps["target"], "outlook.office365.com.");
    assert_eq!(json["records"][4]["target"], ".");
}

#[test]
fn json_for_outlook_profile_uses_its_hosts_and_addresses_without_public_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_ADDRESSES);
    let output = dns(&config, &["fabrikam.test", "--format", "json"]);
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let records = json_records(&json);
    let find = |name: &str, kind: &str| -> Vec<String> {
        records
            .iter()
            .filter(|(n, t, _)| n == name && t == kind)
            .map(|(_, _, v)| v.clone())
            .collect()
    };
    assert_eq!(find("autoconfig.fabrikam.test.", "A"), ["192.0.2.10"]);
    assert_eq!(find("autoconfig.fabrikam.test.", "AAAA"), ["2001:db8::10"]);
    assert_eq!(find("autodiscover.fabrikam.test.", "A"), ["192.0.2.10"]);
    assert!(find("autoconfig.fabrikam.test.", "CNAME").is_empty());
    assert_eq!(
        find("_autodiscover._tcp.fabrikam.test.", "SRV"),
        ["0 0 443 autodiscover.fabrikam.test."]
    );
    assert_eq!(
        find("_imaps._tcp.fabrikam.test.", "SRV"),
        ["0 0 993 imap-mail.outlook.com."]
    );
    assert_eq!(
        find("_submission._tcp.fabrikam.test.", "SRV"),
        ["0 0 587 smtp-mail.outlook.com."]
    );
}

#[test]
fn dns_without_public_identity_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), "");
    let output = dns(&config, &["contoso.test"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("set [server] public_name"), "{stderr}");
}

#[test]
fn dns_for_unknown_domain_needs_a_profile() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let output = dns(&config, &["unknown.test"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(stderr.contains("pass --profile"), "{stderr}");
    let output = dns(&config, &["unknown.test", "--profile", "microsoft365"]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output)
            .contains("_imaps._tcp.unknown.test.\t3600\tIN\tSRV\t0 0 993 outlook.office365.com.")
    );
}

#[test]
fn invalid_dns_settings_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    for (server, dns, expected) in [
        (
            "",
            "[dns]\nmx_timeout_ms = 0\n",
            ":7:17: dns.mx_timeout_ms must be between 1 and 30000",
        ),
        (
            "",
            "[dns]\ncache_size = 0\n",
            ":7:14: dns.cache_size must be at least 1",
        ),
        (
            "",
            "[dns]\nresolver = \"dns.example\"\n",
            "is not a DNS server address",
        ),
        (
            "public_ipv4 = \"127.0.0.1\"",
            "",
            "127.0.0.1 cannot be published in DNS",
        ),
    ] {
        let config = write_dns_config(dir.path(), &format!("{server}\n{dns}"));
        let output = mailsetup()
            .arg("check")
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{expected:?} not in {stderr}");
    }
}

// --- the checker ---------------------------------------------------------

/// Runs `mailsetup dns <domain> --check --format json` against `resolver`.
fn check_json(config: &Path, domain: &str, resolver: &str) -> (Option<i32>, Vec<Value>, String) {
    let output = dns(
        config,
        &[
            domain,
            "--check",
            "--format",
            "json",
            "--resolver",
            resolver,
        ],
    );
    let results: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"));
    (
        output.status.code(),
        results.as_array().unwrap().clone(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn result<'a>(results: &'a [Value], name: &str, kind: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["name"] == name && r["type"] == kind)
        .unwrap_or_else(|| panic!("no result for {name} {kind}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn check_passes_when_the_zone_is_what_dns_prints() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let fragment = stdout(&dns(&config, &["contoso.test"]));
    let standin = DnsStandIn::start();
    // The generated fragment itself, loaded by hickory's zone parser.
    standin.load_zone("contoso.test", &zone("contoso.test", 300, &fragment));

    let output = dns(
        &config,
        &[
            "contoso.test",
            "--check",
            "--resolver",
            &standin.addr.to_string(),
        ],
    );
    let table = stdout(&output);
    assert!(output.status.success(), "{table}\n{output:?}");
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert_eq!(lines.len(), 1 + 9 + 1, "{table}");
    for line in &lines[1..10] {
        assert!(line.contains("  OK"), "{line}");
    }
    assert_eq!(lines[10], "9 OK, 0 wrong, 0 missing, 0 failed");
}

#[test]
fn check_reports_correct_wrong_and_missing_records_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let standin = DnsStandIn::start();
    standin.load_zone(
        "contoso.test",
        &zone(
            "contoso.test",
            300,
            "autoconfig IN CNAME mailsetup.example.net.\n\
             autodiscover IN A 192.0.2.99\n\
             _imaps._tcp IN SRV 0 0 143 outlook.office365.com.\n\
             _imap._tcp IN SRV 0 0 0 .\n\
             _pop3s._tcp IN SRV 0 0 995 outlook.office365.com.\n\
             _pop3s._tcp IN SRV 10 0 995 pop.elsewhere.example.\n\
             _submission._tcp IN SRV 0 0 587 SMTP.Office365.com.\n",
        ),
    );
    let (code, results, stderr) = check_json(&config, "contoso.test", &standin.addr.to_string());
    assert_eq!(code, Some(1), "{results:?}");
    assert!(
        stderr.contains(
            "6 of 9 record sets for contoso.test are wrong, missing or could not be looked up"
        ),
        "{stderr}"
    );

    let ok = result(&results, "autoconfig.contoso.test.", "CNAME");
    assert_eq!(ok["status"], "ok");
    assert_eq!(strings(&ok["found"]), ["CNAME mailsetup.example.net."]);
    assert_eq!(ok["action"], "");

    // An A record where the CNAME belongs.
    let a_instead = result(&results, "autodiscover.contoso.test.", "CNAME");
    assert_eq!(a_instead["status"], "wrong");
    assert_eq!(strings(&a_instead["found"]), ["A 192.0.2.99"]);
    assert_eq!(
        a_instead["action"],
        "remove the A record(s) at autodiscover.contoso.test.; publish: \
         autodiscover.contoso.test. 3600 IN CNAME mailsetup.example.net."
    );

    let missing = result(&results, "_autodiscover._tcp.contoso.test.", "SRV");
    assert_eq!(missing["status"], "missing");
    assert!(strings(&missing["found"]).is_empty());
    assert_eq!(
        missing["action"],
        "add: _autodiscover._tcp.contoso.test. 3600 IN SRV 0 0 443 mailsetup.example.net."
    );

    let wrong_port = result(&results, "_imaps._tcp.contoso.test.", "SRV");
    assert_eq!(wrong_port["status"], "wrong");
    assert_eq!(
        strings(&wrong_port["expected"]),
        ["0 0 993 outlook.office365.com."]
    );
    assert_eq!(
        strings(&wrong_port["found"]),
        ["SRV 0 0 143 outlook.office365.com."]
    );
    assert_eq!(
        wrong_port["action"],
        "replace the SRV record(s); publish: _imaps._tcp.contoso.test. 3600 IN SRV 0 0 993 outlook.office365.com."
    );

    assert_eq!(
        result(&results, "_imap._tcp.contoso.test.", "SRV")["status"],
        "ok"
    );

    // One right record plus an extra one is still wrong.
    let extra = result(&results, "_pop3s._tcp.contoso.test.", "SRV");
    assert_eq!(extra["status"], "wrong");
    assert_eq!(extra["found"].as_array().unwrap().len(), 2);

    assert_eq!(
        result(&results, "_pop3._tcp.contoso.test.", "SRV")["status"],
        "missing"
    );
    // Names compare case-insensitively.
    assert_eq!(
        result(&results, "_submission._tcp.contoso.test.", "SRV")["status"],
        "ok"
    );
    assert_eq!(
        result(&results, "_submissions._tcp.contoso.test.", "SRV")["status"],
        "missing"
    );
}

#[test]
fn check_table_shows_expected_found_status_and_change() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let standin = DnsStandIn::start();
    standin.load_zone(
        "contoso.test",
        &zone(
            "contoso.test",
            300,
            "autoconfig IN CNAME old-server.example.\n",
        ),
    );
    let output = dns(
        &config,
        &[
            "contoso.test",
            "--check",
            "--resolver",
            &standin.addr.to_string(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let table = stdout(&output);
    let row = table
        .lines()
        .find(|l| l.starts_with("autoconfig.contoso.test."))
        .unwrap();
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "autoconfig.contoso.test.",
            "CNAME",
            "mailsetup.example.net.",
            "CNAME old-server.example.",
            "wrong",
            "replace the CNAME record(s); publish: autoconfig.contoso.test. 3600 IN CNAME mailsetup.example.net."
        ]
    );
    assert_eq!(
        table.lines().last(),
        Some("0 OK, 1 wrong, 8 missing, 0 failed")
    );
}

#[test]
fn check_with_resolver_down_reports_failed_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_dns_config(dir.path(), PUBLIC_NAME);
    let down = DnsStandIn::down_address().to_string();
    let started = std::time::Instant::now();
    let (code, results, stderr) = check_json(&config, "contoso.test", &down);
    assert_eq!(code, Some(1), "{results:?}");
    assert!(stderr.contains("9 of 9 record sets"), "{stderr}");
    for result in &results {
        assert_eq!(result["status"], "failed", "{result}");
        assert!(
            result["action"]
                .as_str()
                .unwrap()
                .contains("check the resolver"),
            "{result}"
        );
    }
    eprintln!("check against a down resolver took {:?}", started.elapsed());
}
