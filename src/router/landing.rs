//! `GET /`: the landing page for people, with the security headers every
//! HTML response carries; its stylesheet and `/robots.txt`.

use std::sync::LazyLock;

use http::StatusCode;
use http::header::{self, HeaderValue};

use super::encoding::Prepared;
use super::reply::{Caching, Reply, Vary};
use super::{Exchange, Listener, RequestHost, RouteError};
use crate::document::media_type;
use crate::email::EmailAddress;
use crate::web::{
    self, AppId, Device, InputError, LandingPage, Lookup, domain_hint, render_landing_page,
};

/// The stylesheet, compressed once for the life of the process.
static STYLESHEET: LazyLock<Prepared> =
    LazyLock::new(|| Prepared::new(media_type::CSS, web::STYLESHEET.as_bytes()));

static ROBOTS_TXT: LazyLock<Prepared> =
    LazyLock::new(|| Prepared::new(media_type::TEXT, web::ROBOTS_TXT.as_bytes()));

/// `GET /static/mailsetup.css`.
pub(super) fn stylesheet() -> Reply {
    Reply::prepared(&STYLESHEET)
}

/// `GET /robots.txt`: the same for every host this server answers.
pub(super) fn robots_txt() -> Reply {
    Reply::prepared(&ROBOTS_TXT)
}

/// `GET /`: the landing page. Whatever the visitor typed, the answer is the
/// page itself with a message next to the form, never a plain-text error;
/// only the status says what happened, as for the other endpoints: 400 for
/// an unreadable address, 404 for a domain this server does not serve, 200
/// otherwise. Browsers show the page whatever the status, and link
/// checkers and scripts get the truth.
pub(super) async fn landing_page(exchange: &mut Exchange<'_>) -> Reply {
    // `lang` and `app` are only preferences: an unknown value is ignored.
    let (lang, lang_chosen) = exchange.language();
    let chosen_app = exchange
        .form_param("app")
        .ok()
        .flatten()
        .and_then(|id| AppId::from_id(&id));
    let device = Device::from_user_agent(exchange.header(header::USER_AGENT).unwrap_or_default());
    let app_id = chosen_app.unwrap_or(AppId::for_device(device));
    let settings = &exchange.app.config.page;
    // The landing page's QR code needs an absolute URL: the operator's
    // public URL when given (behind a TLS proxy the request's own scheme
    // is http), else this request's scheme and host.
    let scheme = match exchange.connection {
        Some(connection) if connection.listener == Listener::Https => "https",
        Some(_) => "http",
        None => exchange.request.uri().scheme_str().unwrap_or("https"),
    };
    let scheme = forwarded_scheme(exchange).unwrap_or(scheme);
    let host = RequestHost::of(exchange.request).map(|host| host.to_string());
    let origin = match &settings.public_url {
        Some(url) => Some(url.clone()),
        None => host
            .as_ref()
            .filter(|_| matches!(scheme, "http" | "https"))
            .map(|host| format!("{scheme}://{host}")),
    };

    let typed = exchange.form_param("email");
    let address = match &typed {
        Ok(Some(typed)) => Some(EmailAddress::parse(typed).map_err(InputError::Address)),
        Ok(None) => None,
        Err(RouteError::DuplicateParameter(_)) => Some(Err(InputError::Repeated)),
        Err(_) => Some(Err(InputError::Encoding)),
    };
    let site = match &address {
        Some(Ok(address)) => {
            exchange.about(address);
            Some(exchange.resolve(address.domain()).await)
        }
        _ => None,
    };
    let (status, lookup) = match (&address, &site) {
        (None, _) => (StatusCode::OK, Lookup::Form),
        (Some(Err(error)), _) => (
            StatusCode::BAD_REQUEST,
            Lookup::Invalid {
                typed: typed.as_ref().ok().and_then(Option::as_deref).unwrap_or(""),
                error: error.clone(),
            },
        ),
        (Some(Ok(address)), Some(Ok(site))) => (StatusCode::OK, Lookup::Found { address, site }),
        (Some(Ok(address)), _) => {
            // Typos are checked against Microsoft's consumer domains.
            let hint = domain_hint(address, exchange.app.page_assets.consumer_domains());
            (
                StatusCode::NOT_FOUND,
                Lookup::UnknownDomain { address, hint },
            )
        }
    };
    let document = render_landing_page(&LandingPage {
        lookup,
        lang,
        lang_chosen,
        app: app_id,
        app_chosen: chosen_app.is_some(),
        origin,
        device,
        host,
        operator: settings,
        assets: &exchange.app.page_assets,
        profiles_signed: exchange.app.profile_signer.is_some(),
        today: exchange.today(),
    });
    // The page depends on the address, the language and the device, and
    // an address is personal: no shared cache keeps it.
    Reply::document(document)
        .with_status(status)
        .with_caching(Caching::NoStore)
        .with_header(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.code()),
        )
        .with_vary(Vary {
            accept_language: true,
            user_agent: true,
        })
}

/// The scheme a trusted proxy says the visitor used (`X-Forwarded-Proto`,
/// or `proto=` in the first `Forwarded` element, RFC 7239 §5.4). Only
/// peers listed in `[page] trust_forwarded_proto_from` are believed: any
/// client can send these headers.
fn forwarded_scheme(exchange: &Exchange<'_>) -> Option<&'static str> {
    let trusted = &exchange.app.config.page.trust_forwarded_proto_from;
    if !trusted.contains(&exchange.connection().peer.ip()) {
        return None;
    }
    let from_forwarded = || {
        let first = exchange.header(header::FORWARDED)?.split(',').next()?;
        first.split(';').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("proto")
                .then(|| value.trim().trim_matches('"'))
        })
    };
    let proto = exchange
        .header(header::HeaderName::from_static("x-forwarded-proto"))
        .map(|value| value.split(',').next().unwrap_or_default().trim())
        .or_else(from_forwarded)?;
    if proto.eq_ignore_ascii_case("https") {
        Some("https")
    } else if proto.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}
