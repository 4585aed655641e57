//! The Apple configuration profile routes: `/apple/<address>.mobileconfig`
//! and the landing page's `/apple/profile` form.

use http::header::{self, HeaderValue};

use super::reply::{Caching, Reply, Vary};
use super::{Exchange, RouteError};
use crate::apple::{
    Platform, ProfileKind, ProfileLanguage, ProfileOptions, profile_file_name,
    render_apple_profile_in,
};
use crate::email::EmailAddress;
use crate::web::Lang;

/// An Apple configuration profile for `address`: `kind` and `platform` from
/// the query (the platform otherwise from the User-Agent), signed when a
/// signer is configured, offered as a download.
pub(super) async fn apple_profile(
    exchange: &mut Exchange<'_>,
    address: EmailAddress,
) -> Result<Reply, RouteError> {
    exchange.about(&address);
    let kind = match exchange.query_param("kind")? {
        Some(kind) => kind.parse::<ProfileKind>()?,
        None => ProfileKind::default(),
    };
    // An explicit platform always wins: iPadOS Safari in desktop mode
    // sends a Mac User-Agent.
    let (platform, vary) = match exchange.query_param("platform")? {
        Some(platform) => (platform.parse::<Platform>()?, false),
        None => (
            Platform::from_user_agent(exchange.header(header::USER_AGENT)),
            true,
        ),
    };
    // The names and description the device shows while installing: the
    // landing page's language.
    let (lang, lang_chosen) = exchange.language();
    let language = match lang {
        Lang::En => ProfileLanguage::English,
        Lang::Fr => ProfileLanguage::French,
    };
    let site = exchange.resolve(address.domain()).await?;
    let options = ProfileOptions {
        kind,
        platform,
        today: exchange.today(),
    };
    let mut document = render_apple_profile_in(&site, &address, options, language)?;
    if let Some(signer) = &exchange.app.profile_signer {
        document.body = signer.sign(&document.body)?;
    }
    // The profile names the user: never kept by a shared cache.
    let mut reply = Reply::document(document)
        .with_caching(Caching::Private)
        .with_vary(Vary {
            user_agent: vary,
            accept_language: !lang_chosen,
        });
    // The name is built from the parsed address and holds only header-safe
    // characters; the check is belt and braces.
    let disposition = format!(
        "attachment; filename=\"{}\"",
        profile_file_name(&address, kind)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        reply = reply.with_header(header::CONTENT_DISPOSITION, value);
    }
    Ok(reply)
}
