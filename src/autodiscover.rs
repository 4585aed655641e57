//! Microsoft autodiscover: the POX request parser ([MS-OXDSCLI] outlook
//! schema and [MS-ASCMD] mobilesync schema), their responses, and the
//! Autodiscover v2 JSON lookup. Pure functions of bytes and an `Account`;
//! the markup lives in `templates/autodiscover/`. Knows nothing of HTTP.
//!
//! Why the Microsoft profiles redirect Outlook instead of answering with
//! IMAP/SMTP settings: POX has no way to say "OAuth2", and classic Outlook
//! does no OAuth for IMAP/POP, so an IMAP answer would leave the user with a
//! password prompt that Microsoft refuses. [MS-OXDSCLI] §2.2.4.1.1.2.2
//! (Action) offers two redirects: `redirectAddr` restarts discovery with
//! another *address* (§2.2.4.1.1.2.8), which needs the tenant's routing
//! address (user@tenant.mail.onmicrosoft.com) that we do not know;
//! `redirectUrl` (§2.2.4.1.1.2.9) makes the client send the *same* request
//! to another *server* (client processing, §3.1.5: "send a new Autodiscover
//! request to the URL contained in the value of the RedirectUrl element").
//! Exchange Online's autodiscover knows every tenant's domains, so the
//! same request sent there gets the mailbox's Exchange settings, and Outlook
//! creates a Microsoft 365 (Exchange, modern authentication) account: the
//! native type. This is what Microsoft's own DNS guidance achieves with a
//! CNAME of autodiscover.<domain> to autodiscover.outlook.com. Thunderbird
//! does not follow redirectUrl; it gets its OAuth2 configuration from
//! config-v1.1.xml, which wins over autodiscover in its wizard anyway.

use askama::Template;
use quick_xml::events::Event;
use serde::Serialize;

use crate::clients::{Client, EWS_END, Offer};
use crate::date::Date;
use crate::document::{Document, media_type};
use crate::profile::{AutodiscoverAction, Protocol, Security};
use crate::resolve::Account;

/// The response schema of Outlook's POX autodiscover ([MS-OXDSCLI]).
pub const OUTLOOK_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
/// The response schema of Exchange ActiveSync autodiscover ([MS-ASCMD]).
pub const MOBILESYNC_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

/// Deepest element nesting accepted: a real request is 3 levels deep.
const MAX_DEPTH: usize = 16;

/// Which answer the client asked for (`AcceptableResponseSchema`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseSchema {
    Outlook,
    MobileSync,
}

impl ResponseSchema {
    /// Matches a schema URI as clients write it: `http` or `https`, any
    /// case, surrounding white space.
    fn from_uri(uri: &str) -> Option<ResponseSchema> {
        let uri = uri.trim().to_ascii_lowercase();
        let path = uri
            .strip_prefix("http://")
            .or_else(|| uri.strip_prefix("https://"))?;
        [
            (OUTLOOK_RESPONSE_SCHEMA, ResponseSchema::Outlook),
            (MOBILESYNC_RESPONSE_SCHEMA, ResponseSchema::MobileSync),
        ]
        .into_iter()
        .find(|(known, _)| known.to_ascii_lowercase().strip_prefix("http://") == Some(path))
        .map(|(_, schema)| schema)
    }
}

/// A parsed POX request: the two values that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverRequest {
    /// `Request/EMailAddress`, as sent (parsed into an `EmailAddress` by
    /// the caller, so the error can say what is wrong with it).
    pub email_address: String,
    pub schema: ResponseSchema,
}

/// Why a POX request body cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoxError {
    #[error("the request body is empty")]
    Empty,
    #[error("the request body is not well-formed XML: {0}")]
    NotXml(String),
    #[error("the request body is not UTF-8")]
    NotUtf8,
    #[error("a DOCTYPE is not allowed in an autodiscover request")]
    Doctype,
    #[error("entity references other than the five predefined ones are not allowed")]
    Entity,
    #[error("elements are nested more than {MAX_DEPTH} deep")]
    TooDeep,
    #[error("the root element is <{0}>, not <Autodiscover>")]
    WrongRoot(String),
    #[error("Autodiscover/Request/EMailAddress is missing")]
    MissingAddress,
    #[error("Autodiscover/Request/EMailAddress is given more than once")]
    DuplicateAddress,
    #[error("Autodiscover/Request/AcceptableResponseSchema is missing")]
    MissingSchema,
    #[error("the response schema is not one this server provides")]
    UnsupportedSchema,
}

impl PoxError {
    /// [MS-OXDSCLI] error codes: 600 "Invalid Request", 601 "Provider is
    /// not available" (the requested schema is not offered).
    pub fn code(&self) -> ErrorCode {
        match self {
            PoxError::UnsupportedSchema => ErrorCode::ProviderUnavailable,
            _ => ErrorCode::InvalidRequest,
        }
    }
}

/// Parses a POX request body. Tolerant of what real clients send (namespace
/// prefixes, any element-name case, white space, a UTF-8 BOM, no XML
/// declaration); strict about what no client sends (DOCTYPE, entities,
/// deep nesting). No entity is ever expanded.
pub fn parse_autodiscover_request(body: &[u8]) -> Result<AutodiscoverRequest, PoxError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    // NUL is valid UTF-8 but never valid XML; it is what UTF-16 without a
    // byte-order mark looks like.
    let text = std::str::from_utf8(body).map_err(|_| PoxError::NotUtf8)?;
    if text.contains('\0') {
        return Err(PoxError::NotUtf8);
    }
    if text.trim().is_empty() {
        return Err(PoxError::Empty);
    }
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    // Local names of the open elements, lower-cased.
    let mut path: Vec<String> = Vec::new();
    let mut root_seen = false;
    let mut email = None;
    let mut schema_text = None;
    // Text of the element being read, when it is one we want.
    let mut capture: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| PoxError::NotXml(e.to_string()))?;
        match event {
            Event::Start(start) => {
                let name = start.local_name().as_ref().to_ascii_lowercase();
                if path.is_empty() {
                    if root_seen || name != "autodiscover" {
                        return Err(PoxError::WrongRoot(printable(start.local_name().as_ref())));
                    }
                    root_seen = true;
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(PoxError::TooDeep);
                }
                capture = is_wanted(&path).then(String::new);
            }
            Event::Empty(start) => {
                if path.is_empty() {
                    return Err(PoxError::WrongRoot(printable(start.local_name().as_ref())));
                }
            }
            Event::End(_) => {
                if let Some(value) = capture.take() {
                    if path.last().map(String::as_str) == Some("emailaddress") {
                        if email.replace(value).is_some() {
                            return Err(PoxError::DuplicateAddress);
                        }
                    } else {
                        schema_text.get_or_insert(value);
                    }
                }
                path.pop();
            }
            Event::Text(text) => {
                if let Some(value) = capture.as_mut() {
                    value.push_str(&text.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::CData(data) => {
                if let Some(value) = capture.as_mut() {
                    value.push_str(&data.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = if reference.is_char_ref() {
                    reference
                        .resolve_char_ref()
                        .map_err(|e| PoxError::NotXml(e.to_string()))?
                } else {
                    predefined_entity(&reference.into_inner())
                };
                let resolved = resolved.ok_or(PoxError::Entity)?;
                if let Some(value) = capture.as_mut() {
                    value.push(resolved);
                }
            }
            Event::DocType(_) => return Err(PoxError::Doctype),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !root_seen {
        return Err(PoxError::NotXml("no root element".into()));
    }
    if let Some(open) = path.last() {
        return Err(PoxError::NotXml(format!(
            "the document ends inside <{}>",
            printable(open)
        )));
    }
    let email_address = email.ok_or(PoxError::MissingAddress)?.trim().to_owned();
    if email_address.is_empty() {
        return Err(PoxError::MissingAddress);
    }
    let schema_text = schema_text.ok_or(PoxError::MissingSchema)?;
    let schema = ResponseSchema::from_uri(&schema_text).ok_or(PoxError::UnsupportedSchema)?;
    Ok(AutodiscoverRequest {
        email_address,
        schema,
    })
}

/// `Autodiscover/Request/EMailAddress` or `.../AcceptableResponseSchema`.
fn is_wanted(path: &[String]) -> bool {
    matches!(
        path,
        [root, request, leaf]
            if root == "autodiscover"
                && request == "request"
                && (leaf == "emailaddress" || leaf == "acceptableresponseschema")
    )
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// An element name for an error message: printable ASCII only, bounded.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect()
}

/// How long (hours) a client may cache POX settings.
const TTL_HOURS: u32 = 1;

#[derive(Template)]
#[template(path = "autodiscover/outlook-settings.xml")]
struct OutlookSettings<'a> {
    display_name: &'a str,
    address: &'a str,
    ttl_hours: u32,
    protocols: Vec<PoxProtocol<'a>>,
}

struct PoxProtocol<'a> {
    kind: &'static str,
    host: &'a str,
    port: u16,
    encryption: &'static str,
}

#[derive(Template)]
#[template(path = "autodiscover/outlook-redirect.xml")]
struct OutlookRedirect<'a> {
    redirect_url: &'a str,
}

#[derive(Template)]
#[template(path = "autodiscover/mobilesync-settings.xml")]
struct MobileSyncSettings<'a> {
    display_name: &'a str,
    address: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "autodiscover/error.xml")]
struct ErrorResponse<'a> {
    time: &'a str,
    id: u32,
    code: u16,
    message: &'a str,
    debug_data: &'a str,
}

/// POX error codes ([MS-OXDSCLI] §2.2.4.2, [MS-ASCMD] §2.2.3.60).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 600: the request is not a valid autodiscover request.
    InvalidRequest,
    /// 601: no provider for the requested schema (or, here, the domain).
    ProviderUnavailable,
}

impl ErrorCode {
    pub fn number(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 600,
            ErrorCode::ProviderUnavailable => 601,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "Invalid Request",
            ErrorCode::ProviderUnavailable => "Provider is not available",
        }
    }
}

/// Renders the answer to a POX request for an account with an address.
pub fn render_autodiscover_response(account: Account<'_>, schema: ResponseSchema) -> Document {
    let profile = account.profile();
    let address = account.address.map_or("", |a| a.as_str());
    let display_name = account.site.display_name.as_str();
    let xml = match schema {
        ResponseSchema::MobileSync => MobileSyncSettings {
            display_name,
            address,
            url: profile.exchange.activesync_url.as_str(),
        }
        .render(),
        ResponseSchema::Outlook => match profile.autodiscover.policy {
            AutodiscoverAction::Redirect => OutlookRedirect {
                redirect_url: profile.autodiscover.redirect_url.as_str(),
            }
            .render(),
            AutodiscoverAction::Settings => OutlookSettings {
                display_name,
                address,
                ttl_hours: TTL_HOURS,
                protocols: profile
                    .enabled_incoming()
                    .chain([&profile.outgoing])
                    .map(|server| PoxProtocol {
                        kind: server.protocol.label(),
                        host: server.host.0.as_str(),
                        port: server.port.0,
                        encryption: encryption(server.protocol, server.security),
                    })
                    .collect(),
            }
            .render(),
        },
    };
    xml_document(xml)
}

/// `SSL on` plus `Encryption`: `SSL` for TLS from the first byte, `TLS` for
/// STARTTLS. `Encryption` overrides `SSL` ([MS-OXDSCLI] §2.2.4.1.1.2.6.22),
/// and `TLS` on 993/995 breaks Outlook, so it must follow the security.
fn encryption(_protocol: Protocol, security: Security) -> &'static str {
    match security {
        Security::Tls => "SSL",
        Security::Starttls => "TLS",
    }
}

/// Renders a POX error. `debug_data` is a fixed explanation, never input.
pub fn render_autodiscover_error(code: ErrorCode, debug_data: &str) -> Document {
    let (time, id) = error_time_and_id();
    xml_document(
        ErrorResponse {
            time: &time,
            id,
            code: code.number(),
            message: code.message(),
            debug_data,
        }
        .render(),
    )
}

/// Exchange writes the time of day (`HH:MM:SS.fffffff`, UTC) and a number
/// identifying the server; we use the time in seconds as the number.
fn error_time_and_id() -> (String, u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs() % 86_400;
    let time = format!(
        "{:02}:{:02}:{:02}.{:07}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        now.subsec_nanos() / 100
    );
    (time, (now.as_secs() % u64::from(u32::MAX)) as u32)
}

fn xml_document(rendered: askama::Result<String>) -> Document {
    let mut body = rendered.unwrap_or_else(|e| unreachable!("autodiscover template failed: {e}"));
    body.push('\n');
    Document {
        content_type: media_type::TEXT_XML,
        body: body.into_bytes(),
    }
}

/// Autodiscover v2 protocols this server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonProtocol {
    /// Where the POX endpoint is.
    AutodiscoverV1,
    /// The Exchange ActiveSync URL.
    ActiveSync,
    /// The EWS URL, while the client table offers EWS.
    Ews,
}

impl JsonProtocol {
    /// Protocol names are case-insensitive (Exchange Online accepts any case).
    pub fn parse(name: &str) -> Option<JsonProtocol> {
        if name.eq_ignore_ascii_case("AutodiscoverV1") {
            Some(JsonProtocol::AutodiscoverV1)
        } else if name.eq_ignore_ascii_case("ActiveSync") {
            Some(JsonProtocol::ActiveSync)
        } else if name.eq_ignore_ascii_case("EWS") {
            Some(JsonProtocol::Ews)
        } else {
            None
        }
    }
}

/// Protocol names listed in the InvalidProtocol error.
pub const JSON_PROTOCOLS: &str = "AutodiscoverV1,ActiveSync,EWS";

/// Why a v2 protocol has no answer for this account on this day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "EWS is not offered for this account on {today}: Microsoft switches EWS off in Exchange \
     Online on {ended} (use Microsoft Graph, ActiveSync or IMAP with OAuth2)"
)]
pub struct ProtocolRetired {
    pub today: Date,
    pub ended: Date,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonAnswer<'a> {
    protocol: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JsonError<'a> {
    error_code: &'a str,
    error_message: &'a str,
}

/// Renders the v2 answer. `requested_name` is echoed as the caller spelled
/// it, as Exchange Online does (it is one of the names `JsonProtocol`
/// accepts, so it is safe).
/// `Protocol=EWS` is answered while the client table offers EWS (until
/// 2027-04-01) and the profile has an EWS URL.
pub fn render_autodiscover_json(
    account: Account<'_>,
    protocol: JsonProtocol,
    requested_name: &str,
    today: Date,
) -> Result<Document, ProtocolRetired> {
    let profile = account.profile();
    let pox_url;
    let url = match protocol {
        JsonProtocol::ActiveSync => profile.exchange.activesync_url.as_str(),
        JsonProtocol::Ews => match &profile.exchange.ews_url {
            Some(url)
                if profile
                    .clients
                    .offers(Client::NewOutlook, Offer::AutodiscoverV2Ews, today) =>
            {
                url.as_str()
            }
            _ => {
                return Err(ProtocolRetired {
                    today,
                    ended: EWS_END,
                });
            }
        },
        JsonProtocol::AutodiscoverV1 => match profile.autodiscover.policy {
            AutodiscoverAction::Redirect => profile.autodiscover.redirect_url.as_str(),
            AutodiscoverAction::Settings => {
                pox_url = format!(
                    "https://autodiscover.{}/autodiscover/autodiscover.xml",
                    account.site.domain
                );
                &pox_url
            }
        },
    };
    Ok(json_document(&JsonAnswer {
        protocol: requested_name,
        url,
    }))
}

/// Renders the v2 error shape: `{"ErrorCode": ..., "ErrorMessage": ...}`.
pub fn render_autodiscover_json_error(code: &str, message: &str) -> Document {
    json_document(&JsonError {
        error_code: code,
        error_message: message,
    })
}

fn json_document(value: &impl Serialize) -> Document {
    // Serializing plain structs of strings cannot fail.
    let body = serde_json::to_vec(value).unwrap_or_default();
    Document {
        content_type: media_type::JSON,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_uri_matches_http_https_and_any_case() {
        for uri in [
            OUTLOOK_RESPONSE_SCHEMA,
            " https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\n",
            "HTTP://SCHEMAS.MICROSOFT.COM/exchange/autodiscover/outlook/responseschema/2006A",
        ] {
            assert_eq!(
                ResponseSchema::from_uri(uri),
                Some(ResponseSchema::Outlook),
                "{uri}"
            );
        }
        assert_eq!(
            ResponseSchema::from_uri(MOBILESYNC_RESPONSE_SCHEMA),
            Some(ResponseSchema::MobileSync)
        );
        assert_eq!(ResponseSchema::from_uri("http://example.com/2006a"), None);
    }

    #[test]
    fn error_time_looks_like_exchange() {
        let (time, _) = error_time_and_id();
        assert_eq!(time.len(), "16:56:32.6164027".len(), "{time}");
    }
}
