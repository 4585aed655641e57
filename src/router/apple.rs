//! The Apple configuration profile routes: `/apple/<address>.mobileconfig`
//! and the landing page's `/apple/profile` form.

use super::*;
use crate::apple::{
    Platform, ProfileKind, ProfileOptions, profile_file_name, render_apple_profile,
};

/// An Apple configuration profile for `address`: `kind` and `platform` from
/// the query (the platform otherwise from the User-Agent), signed when a
/// signer is configured, offered as a download.
pub(super) async fn apple_profile(
    app: &App,
    request: &Request<Bytes>,
    address: EmailAddress,
    log: &mut RequestLog,
    extra_headers: &mut http::HeaderMap,
) -> Result<Document, RouteError> {
    log.domain = Some(address.domain().clone());
    log.address = Some(address.clone());
    let kind = match query_param(request, "kind")? {
        Some(kind) => kind.parse::<ProfileKind>()?,
        None => ProfileKind::default(),
    };
    // An explicit platform always wins: iPadOS Safari in desktop mode
    // sends a Mac User-Agent.
    let platform = match query_param(request, "platform")? {
        Some(platform) => platform.parse::<Platform>()?,
        None => {
            extra_headers.insert(header::VARY, HeaderValue::from_static("User-Agent"));
            let user_agent = request
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok());
            Platform::from_user_agent(user_agent)
        }
    };
    let site = app.resolve(address.domain()).await?;
    let mut document = render_apple_profile(&site, &address, ProfileOptions { kind, platform })?;
    if let Some(signer) = &app.profile_signer {
        document.body = signer.sign(&document.body)?;
    }
    // The name is built from the parsed address and holds only header-safe
    // characters; the check is belt and braces.
    let disposition = format!(
        "attachment; filename=\"{}\"",
        profile_file_name(&address, kind)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        extra_headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(document)
}
