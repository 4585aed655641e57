//! Routes of the autodiscover protocols: POX (`POST /autodiscover/autodiscover.xml`,
//! any case) and the v2 JSON lookup. Errors are answered in each protocol's own format.

use http::StatusCode;

use super::reply::{Caching, Reply};
use super::{Exchange, RouteError, decoded_path};
use crate::autodiscover::{
    ErrorCode, JSON_PROTOCOLS, JsonProtocol, parse_autodiscover_request, render_autodiscover_error,
    render_autodiscover_json, render_autodiscover_json_error, render_autodiscover_response,
};
use crate::email::EmailAddress;
use crate::resolve::Account;

fn pox_error(status: StatusCode, code: ErrorCode, reason: String) -> RouteError {
    RouteError::Protocol {
        status,
        document: render_autodiscover_error(code, &reason),
        reason,
    }
}

/// POX autodiscover ([MS-OXDSCLI], [MS-ASCMD]). Answers in XML, errors
/// included: 600 (invalid request) with 400, 601 (schema not provided)
/// with 200 as Exchange does, and 601 with 404 for a domain not served
/// here. Credentials are never asked for: no `WWW-Authenticate`, ever.
pub(super) async fn pox(exchange: &mut Exchange<'_>) -> Result<Reply, RouteError> {
    let parsed = parse_autodiscover_request(exchange.request.body()).map_err(|error| {
        let status = match error.code() {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ProviderUnavailable => StatusCode::OK,
        };
        pox_error(status, error.code(), error.to_string())
    })?;
    let address = EmailAddress::parse(&parsed.email_address).map_err(|error| {
        pox_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            format!("invalid email address: {error}"),
        )
    })?;
    exchange.about(&address);
    // Unknown domain: 404; resolver down (MX detection): 503.
    let site = exchange.resolve(address.domain()).await.map_err(|error| {
        pox_error(
            RouteError::Resolve(error.clone()).status(),
            ErrorCode::ProviderUnavailable,
            error.to_string(),
        )
    })?;
    let document = render_autodiscover_response(
        Account {
            site: &site,
            address: Some(&address),
        },
        parsed.schema,
    );
    Ok(Reply::document(document).with_caching(Caching::Private))
}

fn json_error(status: StatusCode, code: &str, reason: String) -> RouteError {
    RouteError::Protocol {
        status,
        document: render_autodiscover_json_error(code, &reason),
        reason,
    }
}

/// Autodiscover v2: `?Email=<address>&Protocol=<p>` or `/v1.0/<address>?Protocol=<p>`.
pub(super) async fn autodiscover_json(
    exchange: &mut Exchange<'_>,
    path_address: Option<&str>,
) -> Result<Reply, RouteError> {
    let to_json =
        |error: RouteError| json_error(error.status(), "InvalidRequest", error.to_string());
    let address = match path_address {
        Some(raw) => Some(decoded_path(raw).map_err(to_json)?),
        None => exchange.query_param("Email").map_err(to_json)?,
    };
    let Some(address) = address.filter(|a| !a.is_empty()) else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "MandatoryParameterMissing",
            "A valid value must be provided for the query parameter 'Email'.".into(),
        ));
    };
    let address = EmailAddress::parse(&address).map_err(|error| {
        json_error(
            StatusCode::BAD_REQUEST,
            "InvalidEmailAddress",
            format!("invalid email address: {error}"),
        )
    })?;
    exchange.about(&address);
    let Some(name) = exchange.query_param("Protocol").map_err(to_json)? else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "MissingProtocol",
            "A valid value must be provided for the query parameter 'Protocol'.".into(),
        ));
    };
    let Some(protocol) = JsonProtocol::parse(&name) else {
        return Err(json_error(
            StatusCode::BAD_REQUEST,
            "InvalidProtocol",
            format!("The given protocol value is invalid. Supported values are '{JSON_PROTOCOLS}'"),
        ));
    };
    let site = exchange.resolve(address.domain()).await.map_err(|error| {
        let status = RouteError::Resolve(error.clone()).status();
        let code = if status == StatusCode::NOT_FOUND {
            "DomainNotFound"
        } else {
            "ServiceUnavailable"
        };
        json_error(status, code, error.to_string())
    })?;
    let account = Account {
        site: &site,
        address: Some(&address),
    };
    render_autodiscover_json(account, protocol, &name, exchange.today())
        .map(|document| Reply::document(document).with_caching(Caching::Private))
        .map_err(|retired| json_error(StatusCode::GONE, "ProtocolRetired", retired.to_string()))
}
