//! Every profile we generate, checked against Apple's published schema
//! (the facts in tests/data/apple_schema.toml, taken from Apple's
//! device-management YAML): each key must exist for its payload, have the
//! schema's type, take one of the allowed values, be available on the
//! target platform, and every required key must be present.

use std::collections::BTreeMap;

use http::StatusCode;
use plist::{Dictionary, Value};
use serde::Deserialize;

use crate::apple_support::{
    PASSWORD_DOMAIN, UNSIGNED, get_with_agent, start_with_password_profile,
};
use crate::common::{TestServer, encode};

/// Where the facts live, for messages that ask to look a key up.
const FACTS_PATH: &str = "tests/data/apple_schema.toml";

/// One payload type's schema: its keys and where it is available.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Schema {
    /// The schema file in Apple's repository the facts come from.
    file: String,
    /// Platforms (`iOS`, `macOS`) where the payload type is `n/a`.
    #[serde(default)]
    unavailable_on: Vec<String>,
    keys: BTreeMap<String, KeySpec>,
}

/// What the schema says about one key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySpec {
    /// The plist type, e.g. `string` for Apple's `<string>`.
    #[serde(rename = "type")]
    plist_type: String,
    #[serde(default)]
    required: bool,
    /// The schema's `rangelist`: the only values the key may take.
    allowed: Option<Vec<toml::Value>>,
    /// Platforms where the key is `n/a`.
    #[serde(default)]
    unavailable_on: Vec<String>,
}

impl Schema {
    fn key(&self, name: &str) -> Option<&KeySpec> {
        self.keys.get(name)
    }
}

/// All of Apple's schema we use.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Schemas {
    /// The profile's outer dictionary (`TopLevel.yaml`).
    top_level: Schema,
    /// Keys every payload has (`CommonPayloadKeys.yaml`).
    common: Schema,
    /// Each payload type we serve, by `PayloadType`.
    payload: BTreeMap<String, Schema>,
}

impl Schemas {
    fn load() -> Schemas {
        toml::from_str(include_str!("../data/apple_schema.toml"))
            .unwrap_or_else(|e| panic!("{FACTS_PATH}: {e}"))
    }
}

/// The schema's OS name for a `platform=` value.
fn os_name(platform: &str) -> &'static str {
    match platform {
        "ios" => "iOS",
        "macos" => "macOS",
        other => panic!("unknown platform {other}"),
    }
}

/// The plist type of `value`, named as Apple's schema names it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Boolean(_) => "boolean",
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        Value::Data(_) => "data",
        Value::Date(_) => "date",
        Value::Real(_) => "real",
        _ => "unknown",
    }
}

fn matches_allowed(value: &Value, allowed: &toml::Value) -> bool {
    match (value, allowed) {
        (Value::String(s), toml::Value::String(a)) => s == a,
        (Value::Integer(i), toml::Value::Integer(a)) => i.as_signed() == Some(*a),
        (Value::Boolean(b), toml::Value::Boolean(a)) => b == a,
        _ => false,
    }
}

/// `introduced: n/a` for this OS, on a payload or a key.
fn unavailable_on(unavailable: &[String], os: &str) -> bool {
    unavailable.iter().any(|name| name == os)
}

/// Checks one dictionary against the union of `schemas`; returns every
/// problem found, each naming `context` and the key.
fn check_keys(dict: &Dictionary, schemas: &[&Schema], os: &str, context: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, value) in dict {
        let Some(spec) = schemas.iter().find_map(|s| s.key(name)) else {
            let files: Vec<&str> = schemas.iter().map(|s| s.file.as_str()).collect();
            problems.push(format!(
                "{context}: key {name} is not in Apple's schema \
                 (a new key? look it up in {files:?} and add it to {FACTS_PATH})"
            ));
            continue;
        };
        let expected = spec.plist_type.as_str();
        if expected != "any" && expected != type_name(value) {
            problems.push(format!(
                "{context}: {name} is <{}> but the schema says <{expected}>",
                type_name(value)
            ));
        }
        if let Some(allowed) = &spec.allowed
            && !allowed.iter().any(|a| matches_allowed(value, a))
        {
            problems.push(format!(
                "{context}: {name} = {value:?} is not one of {allowed:?}"
            ));
        }
        if unavailable_on(&spec.unavailable_on, os) {
            problems.push(format!("{context}: {name} is not available on {os}"));
        }
    }
    for schema in schemas {
        for (name, spec) in &schema.keys {
            if spec.required && !dict.contains_key(name) {
                problems.push(format!("{context}: required key {name} is missing"));
            }
        }
    }
    problems
}

/// Checks a whole profile: the top level, then each payload against the
/// common keys and its own type's schema.
fn check_profile(profile: &Dictionary, schemas: &Schemas, platform: &str) -> Vec<String> {
    let os = os_name(platform);
    let mut problems = check_keys(profile, &[&schemas.top_level], os, "top level");
    let Some(Value::Array(payloads)) = profile.get("PayloadContent") else {
        problems.push("top level: PayloadContent is not an array".into());
        return problems;
    };
    for (index, payload) in payloads.iter().enumerate() {
        let context = format!("PayloadContent[{index}]");
        let Value::Dictionary(payload) = payload else {
            problems.push(format!("{context} is not a dictionary"));
            continue;
        };
        let payload_type = payload
            .get("PayloadType")
            .and_then(Value::as_string)
            .unwrap_or_default();
        let Some(schema) = schemas.payload.get(payload_type) else {
            problems.push(format!(
                "{context}: no schema for PayloadType {payload_type:?} in {FACTS_PATH}"
            ));
            continue;
        };
        if unavailable_on(&schema.unavailable_on, os) {
            problems.push(format!("{context}: {payload_type} does not exist on {os}"));
        }
        problems.extend(check_keys(
            payload,
            &[&schemas.common, schema],
            os,
            &context,
        ));
    }
    problems
}

fn parse(bytes: &[u8]) -> Dictionary {
    match Value::from_reader_xml(bytes).unwrap() {
        Value::Dictionary(dict) => dict,
        other => panic!("not a dictionary: {other:?}"),
    }
}

#[tokio::test]
async fn every_generated_profile_matches_apples_schema() {
    let schemas = Schemas::load();
    let server = start_with_password_profile(UNSIGNED).await;
    let mut checked = 0;
    for address in [
        "alice@contoso.test",
        "bob@fabrikam.test",
        "eve@hotmail.fr",
        "carol@oldisp.test",
    ] {
        for kind in ["exchange", "imap"] {
            for platform in ["ios", "macos"] {
                let path = format!(
                    "/apple/profile?email={}&kind={kind}&platform={platform}",
                    encode(address)
                );
                let reply = get_with_agent(&server, &path, None).await;
                if kind == "imap" && !address.ends_with(PASSWORD_DOMAIN) {
                    // Microsoft 365 and Outlook.com refuse passwords: no
                    // IMAP profile.
                    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
                    continue;
                }
                assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
                let problems = check_profile(&parse(&reply.body), &schemas, platform);
                assert!(problems.is_empty(), "{path}:\n{}", problems.join("\n"));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10);
    server.shutdown().await;
}

/// The checker itself must catch a wrong key, type, value or platform;
/// otherwise the test above could never fail.
#[tokio::test]
async fn schema_check_catches_wrong_keys_types_values_and_platforms() {
    let schemas = Schemas::load();
    let server = TestServer::start_with(UNSIGNED).await;
    let reply = get_with_agent(
        &server,
        "/apple/profile?email=alice%40contoso.test&platform=ios",
        None,
    )
    .await;
    let good = parse(&reply.body);
    assert!(check_profile(&good, &schemas, "ios").is_empty());

    let mutate = |f: &dyn Fn(&mut Dictionary)| {
        let mut profile = good.clone();
        let Some(Value::Array(payloads)) = profile.get_mut("PayloadContent") else {
            unreachable!()
        };
        let Value::Dictionary(payload) = &mut payloads[0] else {
            unreachable!()
        };
        f(payload);
        check_profile(&profile, &schemas, "ios").join("\n")
    };
    let problems = mutate(&|p| {
        p.insert("Passwd".into(), "x".into());
    });
    assert!(
        problems.contains("key Passwd is not in Apple's schema"),
        "{problems}"
    );
    let problems = mutate(&|p| {
        p.insert("SSL".into(), "true".into());
    });
    assert!(
        problems.contains("SSL is <string> but the schema says <boolean>"),
        "{problems}"
    );
    let problems = mutate(&|p| {
        p.insert("MailNumberOfPastDaysToSync".into(), 30.into());
    });
    assert!(
        problems.contains("MailNumberOfPastDaysToSync = "),
        "{problems}"
    );
    let problems = mutate(&|p| {
        p.remove("PayloadUUID");
    });
    assert!(
        problems.contains("required key PayloadUUID is missing"),
        "{problems}"
    );
    // The iOS payload served to a Mac.
    let problems = check_profile(&good, &schemas, "macos").join("\n");
    assert!(
        problems.contains("com.apple.eas.account does not exist on macOS"),
        "{problems}"
    );
    server.shutdown().await;
}
