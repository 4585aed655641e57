//! Helpers for the Apple profile tests: requests with a User-Agent, plists
//! flattened by the plist crate and by Python's plistlib (an independent
//! parser).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;

use crate::common::{Reply, Scheme, TestServer, tools};

pub const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
/// Also what iPadOS Safari sends in desktop mode.
pub const MAC_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

/// `[apple] sign = false`: the server answers the plain plist.
pub const UNSIGNED: &str = "[apple]\nsign = false\n";

/// The domain of an operator's own profile for a provider that still
/// accepts passwords (`legacyisp`, see `start_with_password_profile`): the
/// only kind of domain an IMAP-with-password profile exists for.
pub const PASSWORD_DOMAIN: &str = "oldisp.test";

/// A server whose configuration adds `extra` and an operator's profile
/// `legacyisp` for `oldisp.test`: IMAP and SMTP with OAuth2 or a password
/// (Outlook.com's and Microsoft 365's built-in profiles take no password).
pub async fn start_with_password_profile(extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap().keep();
    let profile = include_str!("../../profiles/outlook.toml")
        .replace("name = \"Outlook.com\"", "name = \"Old ISP\"")
        .replace("short_name = \"Outlook\"", "short_name = \"Old ISP\"")
        .replace("imap-mail.outlook.com", "imap.oldisp.test")
        .replace(
            "outlook.office365.com\"\nport = 995",
            "pop.oldisp.test\"\nport = 995",
        )
        .replace("smtp-mail.outlook.com", "smtp.oldisp.test")
        .replace("auth = [\"oauth2\"]", "auth = [\"oauth2\", \"password\"]");
    let start = profile
        .find("domains = [")
        .expect("outlook.toml lists domains");
    let end = start + profile[start..].find(']').unwrap() + 1;
    let profile = format!("{}domains = []{}", &profile[..start], &profile[end..]);
    std::fs::write(dir.join("legacyisp.toml"), profile).unwrap();
    TestServer::start_with_config(
        &format!("profiles_dir = \"{}\"", dir.display()),
        &format!("{extra}\n[[domain]]\nname = \"{PASSWORD_DOMAIN}\"\nprofile = \"legacyisp\"\n"),
    )
    .await
}

/// GET over HTTPS with a User-Agent.
pub async fn get_with_agent(server: &TestServer, path: &str, user_agent: Option<&str>) -> Reply {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(http::header::HOST, "contoso.test");
    if let Some(user_agent) = user_agent {
        request = request.header(http::header::USER_AGENT, user_agent);
    }
    server
        .send_request(
            Scheme::Https,
            request.body(Full::new(Bytes::new())).unwrap(),
        )
        .await
}

/// A plist flattened to `path → (type, value)`, e.g.
/// `PayloadContent/0/SSL → ("bool", "true")`; types are Python's names.
pub type Flat = BTreeMap<String, (String, String)>;

/// Flattens with the plist crate.
pub fn flatten_with_plist_crate(bytes: &[u8]) -> Flat {
    fn walk(prefix: &str, value: &plist::Value, out: &mut Flat) {
        let join = |key: &str| {
            if prefix.is_empty() {
                key.to_owned()
            } else {
                format!("{prefix}/{key}")
            }
        };
        match value {
            plist::Value::Dictionary(dict) => {
                for (key, value) in dict {
                    walk(&join(key), value, out);
                }
            }
            plist::Value::Array(items) => {
                for (index, value) in items.iter().enumerate() {
                    walk(&join(&index.to_string()), value, out);
                }
            }
            plist::Value::String(s) => {
                out.insert(prefix.to_owned(), ("str".into(), s.clone()));
            }
            plist::Value::Integer(i) => {
                out.insert(prefix.to_owned(), ("int".into(), i.to_string()));
            }
            plist::Value::Boolean(b) => {
                out.insert(prefix.to_owned(), ("bool".into(), b.to_string()));
            }
            other => panic!("unexpected plist value at {prefix}: {other:?}"),
        }
    }
    let value = plist::Value::from_reader_xml(bytes).expect("the plist crate parses the profile");
    let mut out = Flat::new();
    walk("", &value, &mut out);
    out
}

const PLISTLIB_DUMP: &str = r#"
import plistlib, sys
root = plistlib.loads(sys.stdin.buffer.read())
def walk(path, value):
    if isinstance(value, dict):
        for key, item in value.items():
            walk(path + [key], item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            walk(path + [str(index)], item)
    else:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        print("/".join(path) + "\t" + type(value).__name__ + "\t" + text)
walk([], root)
"#;

/// Flattens with Python's plistlib; `None` (after "skipped: ...") when
/// python3 is missing outside CI.
pub fn flatten_with_plistlib(bytes: &[u8]) -> Option<Flat> {
    if !tools::require_python_module("plistlib") {
        return None;
    }
    let mut child = Command::new("python3")
        .args(["-c", PLISTLIB_DUMP])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "plistlib refused the profile: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    Some(
        text.lines()
            .map(|line| {
                let mut fields = line.splitn(3, '\t');
                let path = fields.next().unwrap().to_owned();
                let kind = fields.next().unwrap().to_owned();
                let value = fields.next().unwrap_or_default().to_owned();
                (path, (kind, value))
            })
            .collect(),
    )
}

/// Parses with both parsers, checks they agree on every key, and returns
/// the flattened profile.
pub fn parse_both(bytes: &[u8]) -> Flat {
    let ours = flatten_with_plist_crate(bytes);
    if let Some(theirs) = flatten_with_plistlib(bytes) {
        assert_eq!(ours, theirs, "the plist crate and plistlib disagree");
    }
    ours
}

/// Asserts `path` has this type and value.
pub fn assert_field(flat: &Flat, path: &str, kind: &str, value: &str) {
    assert_eq!(
        flat.get(path),
        Some(&(kind.to_owned(), value.to_owned())),
        "{path} in {flat:#?}"
    );
}

/// Runs a command, returning (success, stdout, stderr).
pub fn run(program: &str, args: &[&str]) -> (bool, Vec<u8>, String) {
    let output = Command::new(program).args(args).output().unwrap();
    (
        output.status.success(),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
