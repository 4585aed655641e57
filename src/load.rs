//! Loading everything a configuration names, in one place: the file (with
//! its profiles), the HTTPS certificates when there are HTTPS listeners, and
//! the Apple profile signer. Server start, reload and `mailsetup check` all
//! go through `load`, so what `check` accepts is what the server runs.

use std::path::Path;

use crate::config::Config;
use crate::dns::resolver::system_resolver_config;
use crate::signing::{ProfileSigner, SigningError};
use crate::source::ConfigError;
use crate::tls::{CertificateSet, TlsError};

/// A configuration with the files it names, all read and validated.
pub struct Loaded {
    pub config: Config,
    /// `None` when the configuration has no HTTPS listener.
    pub certificates: Option<CertificateSet>,
    /// `None` when profiles are served unsigned.
    pub signer: Option<ProfileSigner>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// MX detection asks the system's resolver, which cannot be used.
    #[error(
        "{origin}: [dns] detect_microsoft365_by_mx: {reason}; set [dns] resolver = \"IP:port\"",
        origin = origin.display()
    )]
    Resolver {
        origin: std::path::PathBuf,
        reason: String,
    },
}

/// Loads `path` (`None`: the embedded default) and everything it names.
pub fn load(path: Option<&Path>) -> Result<Loaded, LoadError> {
    load_files_of(Config::load(path)?)
}

/// Reads the certificates and signing key `config` names and checks the
/// resolver MX detection will ask.
pub fn load_files_of(config: Config) -> Result<Loaded, LoadError> {
    // Without an explicit resolver the system's is used: find out now,
    // not at the first request, that it cannot be read.
    if config.dns.detect_microsoft365_by_mx && config.dns.resolver.is_none() {
        system_resolver_config().map_err(|reason| LoadError::Resolver {
            origin: config.origin.clone(),
            reason,
        })?;
    }
    // Certificates are part of the configuration: a missing, expired or
    // mismatched file must fail here, not at the first handshake.
    let certificates = if config.https_listeners.is_empty() {
        None
    } else {
        Some(CertificateSet::load(&config.tls)?)
    };
    // Loaded once: requests sign with it and never touch the key files.
    let signer = ProfileSigner::load(&config.apple_signing)?;
    Ok(Loaded {
        config,
        certificates,
        signer,
    })
}
