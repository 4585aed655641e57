//! `GET /`: the landing page for people, with the security headers every
//! HTML response carries.

use super::*;
use crate::web::{AppId, InputError, LandingPage, Lang, Lookup, render_landing_page};

/// `GET /`: the landing page. Whatever the visitor typed, the answer is the
/// page itself with a message next to the form, never a plain-text error;
/// only the status says what happened, as for the other endpoints: 400 for
/// an unreadable address, 404 for a domain this server does not serve, 200
/// otherwise. Browsers show the page whatever the status, and link
/// checkers and scripts get the truth.
pub(super) async fn landing_page(
    app: &App,
    request: &Request<Bytes>,
    log: &mut RequestLog,
) -> Response<Full<Bytes>> {
    log.endpoint = "landing";
    if let Err(error) = require_get(request) {
        return error_response(&error);
    }
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // `lang` and `app` are only preferences: an unknown value is ignored.
    let chosen_lang = form_param(request, "lang")
        .ok()
        .flatten()
        .and_then(|code| Lang::from_code(&code));
    let lang = chosen_lang
        .or_else(|| header(header::ACCEPT_LANGUAGE).and_then(Lang::from_accept_language))
        .unwrap_or(Lang::ALL[0]);
    let chosen_app = form_param(request, "app")
        .ok()
        .flatten()
        .and_then(|id| AppId::from_id(&id));
    let app_id = chosen_app
        .unwrap_or_else(|| AppId::from_user_agent(header(header::USER_AGENT).unwrap_or_default()));
    // The landing page's QR code needs an absolute URL.
    let scheme = match request.extensions().get::<ConnectionInfo>() {
        Some(connection) if connection.listener == Listener::Https => "https",
        Some(_) => "http",
        None => request.uri().scheme_str().unwrap_or("https"),
    };
    let host = match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => header(header::HOST),
    };
    let origin = host.and_then(|host| web::page_origin(scheme, host));

    let typed = form_param(request, "email");
    let address = match &typed {
        Ok(Some(typed)) => Some(EmailAddress::parse(typed).map_err(InputError::Address)),
        Ok(None) => None,
        Err(RouteError::DuplicateParameter(_)) => Some(Err(InputError::Repeated)),
        Err(_) => Some(Err(InputError::Encoding)),
    };
    let site = match &address {
        Some(Ok(address)) => {
            log.domain = Some(address.domain().clone());
            log.address = Some(address.clone());
            Some(app.resolve(address.domain()).await)
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
        (Some(Ok(address)), _) => (StatusCode::NOT_FOUND, Lookup::UnknownDomain { address }),
    };
    let document = render_landing_page(&LandingPage {
        lookup,
        lang,
        lang_chosen: chosen_lang.is_some(),
        app: app_id,
        app_chosen: chosen_app.is_some(),
        origin,
    });
    let mut response = document_response(document);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    // The page depends on the address, the language and the device, and
    // an address is personal: no shared cache keeps it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Language, User-Agent"),
    );
    response
}

/// The headers every HTML response carries: no script at all, styles and
/// images from this origin (and the QR code's `data:` image), forms only to
/// this origin, never framed, no base URL games, no MIME sniffing, no
/// Referer leaking the address to the sites the page links to.
pub(super) fn add_html_security_headers(headers: &mut http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
