//! Routes of the autodiscover protocols: POX (`POST /autodiscover/autodiscover.xml`,
//! any case) and the v2 JSON lookup. Errors are answered in each protocol's own format.

use super::*;
use crate::autodiscover::{
    ErrorCode, JSON_PROTOCOLS, JsonProtocol, parse_autodiscover_request, render_autodiscover_error,
    render_autodiscover_json, render_autodiscover_json_error, render_autodiscover_response,
};

/// The POX endpoint and the v2 JSON lookup, or `None` for other paths.
pub(super) async fn autodiscover_routes(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Option<Result<Document, RouteError>> {
    let path = request.uri().path();
    const JSON_PATH: &str = "/autodiscover/autodiscover.json";
    if path.eq_ignore_ascii_case("/autodiscover/autodiscover.xml") {
        log.endpoint = "autodiscover";
        return Some(pox(app, request, log).await);
    }
    if path.eq_ignore_ascii_case(JSON_PATH) {
        log.endpoint = "autodiscover-json";
        return Some(autodiscover_json(app, request, log, None).await);
    }
    // `/autodiscover/autodiscover.json/v1.0/<address>`
    let lower = path.get(..JSON_PATH.len() + "/v1.0/".len())?;
    if lower.eq_ignore_ascii_case("/autodiscover/autodiscover.json/v1.0/") {
        log.endpoint = "autodiscover-json";
        let address = &path[lower.len()..];
        return Some(autodiscover_json(app, request, log, Some(address)).await);
    }
    None
}

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
async fn pox(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Result<Document, RouteError> {
    if request.method() != Method::POST {
        return Err(RouteError::MethodNotAllowed { allow: POST });
    }
    let parsed = parse_autodiscover_request(request.body()).map_err(|error| {
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
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    // Unknown domain: 404; resolver down (MX detection): 503.
    let site = app.resolve(address.domain()).await.map_err(|error| {
        pox_error(
            RouteError::Resolve(error.clone()).status(),
            ErrorCode::ProviderUnavailable,
            error.to_string(),
        )
    })?;
    Ok(render_autodiscover_response(
        Account {
            site: &site,
            address: Some(&address),
        },
        parsed.schema,
    ))
}

fn json_error(status: StatusCode, code: &str, reason: String) -> RouteError {
    RouteError::Protocol {
        status,
        document: render_autodiscover_json_error(code, &reason),
        reason,
    }
}

/// Autodiscover v2: `?Email=<address>&Protocol=<p>` or `/v1.0/<address>?Protocol=<p>`.
async fn autodiscover_json(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
    path_address: Option<&str>,
) -> Result<Document, RouteError> {
    require_get(request)?;
    let to_json =
        |error: RouteError| json_error(error.status(), "InvalidRequest", error.to_string());
    let address = match path_address {
        Some(raw) => Some(
            percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| to_json(RouteError::QueryEncoding))?
                .into_owned(),
        ),
        None => query_param(request, "Email").map_err(to_json)?,
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
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    let Some(name) = query_param(request, "Protocol").map_err(to_json)? else {
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
    let site = app.resolve(address.domain()).await.map_err(|error| {
        let status = RouteError::Resolve(error.clone()).status();
        let code = if status == StatusCode::NOT_FOUND {
            "DomainNotFound"
        } else {
            "ServiceUnavailable"
        };
        json_error(status, code, error.to_string())
    })?;
    Ok(render_autodiscover_json(
        Account {
            site: &site,
            address: Some(&address),
        },
        protocol,
        &name,
    ))
}
