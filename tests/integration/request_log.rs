//! The request log of the real `serve` process: one line per request, in
//! the text or JSON form of every other log line, with the fields a log
//! reader needs, escaped so that any path reads back exactly.

use std::path::Path;

use crate::common::TestCa;
use crate::common::serve_process::{ServeProcess, serve_command};
use crate::common::write_config_with;

/// Sends raw HTTP/1.1 requests on one connection and returns the answers'
/// status lines.
fn send(addr: std::net::SocketAddr, requests: &[&str]) -> Vec<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut statuses = Vec::new();
    for request in requests {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
        statuses.push(status.trim_end().to_owned());
    }
    statuses
}

/// The requests every test sends, and what their answers start with.
const REQUESTS: &[(&str, &str)] = &[
    (
        "GET /mail/config-v1.1.xml?emailaddress=secret.person%40contoso.test HTTP/1.1\r\n\
         Host: localhost\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200",
    ),
    (
        "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200",
    ),
    (
        "GET /no/such%22thing\\here HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 404",
    ),
    (
        "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: text/xml\r\nContent-Length: 11\r\nConnection: close\r\n\r\nnot an xml!",
        "HTTP/1.1 400",
    ),
];

fn run_server(args: &[&str], log_section: &str) -> (TestCa, String) {
    let ca = TestCa::new();
    let config = write_config_with(&ca, "", log_section);
    let log_path = ca.dir.path().join("stderr.log");
    let mut serve = ServeProcess::spawn(
        serve_command(&config)
            .args(args)
            .stderr(std::fs::File::create(&log_path).unwrap()),
    );
    let requests: Vec<&str> = REQUESTS.iter().map(|(request, _)| *request).collect();
    let statuses = send(serve.http, &requests);
    for ((_, expected), status) in REQUESTS.iter().zip(&statuses) {
        assert!(
            status.starts_with(expected),
            "{status}, expected {expected}"
        );
    }
    assert!(serve.terminate().success());
    let log = read(&log_path);
    (ca, log)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// `key=value` pairs of a text line, values unquoted and unescaped as
/// Rust's `Debug` escaped them.
fn text_fields(rest: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut chars = rest.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some('t') => value.push('\t'),
                        Some(other) => value.push(other),
                        None => panic!("a dangling escape in {rest}"),
                    },
                    c => value.push(c),
                }
            }
            assert!(matches!(chars.next(), Some(' ') | None), "{rest}");
        } else {
            value = chars.by_ref().take_while(|&c| c != ' ').collect();
        }
        fields.push((key.trim().to_owned(), value));
    }
    fields
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, today (or yesterday, at midnight).
fn assert_timestamp(stamp: &str, line: &str) {
    let bytes = stamp.as_bytes();
    assert_eq!(bytes.len(), 27, "{line}");
    for (index, &byte) in bytes.iter().enumerate() {
        let expected = match index {
            4 | 7 => b'-',
            10 => b'T',
            13 | 16 => b':',
            19 => b'.',
            26 => b'Z',
            _ => {
                assert!(byte.is_ascii_digit(), "{line}");
                continue;
            }
        };
        assert_eq!(byte, expected, "{line}");
    }
    let today = mailsetup::date::Date::today_utc();
    let date = &stamp[..10];
    assert!(
        date == today.to_string() || date == today.previous_day().to_string(),
        "{line}"
    );
}

#[test]
fn text_request_lines_have_every_field_in_the_form_of_other_lines() {
    let (_ca, log) = run_server(&[], "");
    let mut request_lines = Vec::new();
    for line in log.lines() {
        // Every line, request or not: `<time>  LEVEL target: message`.
        let (stamp, rest) = line.split_once("  ").unwrap_or_else(|| panic!("{line}"));
        assert_timestamp(stamp, line);
        if let Some(fields) = rest.strip_prefix("INFO mailsetup::server: request ") {
            request_lines.push(text_fields(fields));
        } else {
            assert!(
                rest.split(' ')
                    .nth(1)
                    .is_some_and(|target| target.starts_with("mailsetup"))
            );
        }
    }
    assert_eq!(request_lines.len(), REQUESTS.len(), "{log}");
    let field = |line: &Vec<(String, String)>, key: &str| {
        line.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let keys: Vec<&str> = request_lines[0].iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "method",
            "path",
            "listener",
            "status",
            "latency_us",
            "endpoint",
            "domain",
            "profile"
        ]
    );
    let document = &request_lines[0];
    assert_eq!(field(document, "method").unwrap(), "GET");
    assert_eq!(field(document, "path").unwrap(), "/mail/config-v1.1.xml");
    assert_eq!(field(document, "listener").unwrap(), "http");
    assert_eq!(field(document, "status").unwrap(), "200");
    assert!(
        field(document, "latency_us")
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert_eq!(field(document, "endpoint").unwrap(), "thunderbird");
    assert_eq!(field(document, "domain").unwrap(), "contoso.test");
    assert_eq!(field(document, "profile").unwrap(), "microsoft365");

    let head = &request_lines[1];
    assert_eq!(field(head, "method").unwrap(), "HEAD");
    assert_eq!(field(head, "endpoint").unwrap(), "healthz");
    assert_eq!(field(head, "domain"), None, "no domain, no field");

    // The path reads back byte for byte, quote and backslash included.
    let odd = &request_lines[2];
    assert_eq!(field(odd, "path").unwrap(), "/no/such%22thing\\here");
    assert_eq!(field(odd, "status").unwrap(), "404");

    let post = &request_lines[3];
    assert_eq!(field(post, "method").unwrap(), "POST");
    assert_eq!(field(post, "status").unwrap(), "400");

    assert!(!log.contains("secret.person"), "{log}");
}

#[test]
fn json_request_lines_carry_the_address_only_when_asked() {
    for (log_section, logged) in [("", false), ("[log]\naddresses = true", true)] {
        let (_ca, log) = run_server(&["--log-format", "json"], log_section);
        let entries: Vec<serde_json::Value> = log
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        let requests: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|entry| entry["fields"]["message"] == "request")
            .collect();
        assert_eq!(requests.len(), REQUESTS.len(), "{log}");
        for entry in &requests {
            assert_eq!(entry["level"], "INFO");
            assert_eq!(entry["target"], "mailsetup::server");
            assert_timestamp(entry["timestamp"].as_str().unwrap(), &log);
        }
        let document = &requests[0]["fields"];
        assert_eq!(document["status"], 200);
        assert_eq!(document["domain"], "contoso.test");
        assert_eq!(requests[2]["fields"]["path"], "/no/such%22thing\\here");
        assert_eq!(requests[1]["fields"].get("domain"), None);
        if logged {
            assert_eq!(document["address"], "secret.person@contoso.test");
        } else {
            assert_eq!(document.get("address"), None);
            assert!(!log.contains("secret.person"), "{log}");
        }
    }
}

#[test]
fn warn_level_writes_no_request_lines() {
    let (_ca, log) = run_server(&["--log-level", "warn"], "");
    assert!(!log.contains("request"), "{log}");
}
