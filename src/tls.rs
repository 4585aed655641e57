//! TLS: the rustls server configuration, from PEM files or a self-signed
//! certificate generated at start-up. Validates certificates once; does not
//! accept connections (see `server`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::collections::HashMap;
use std::sync::RwLock;

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsSource;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: cannot read certificate chain: {reason}", path = path.display())]
    Certificate { path: PathBuf, reason: String },
    #[error("{path}: cannot read private key: {reason}", path = path.display())]
    PrivateKey { path: PathBuf, reason: String },
    #[error("{certificate} and {private_key} do not go together: {reason}",
        certificate = certificate.display(), private_key = private_key.display())]
    Mismatch {
        certificate: PathBuf,
        private_key: PathBuf,
        reason: String,
    },
    #[error("cannot generate a self-signed certificate: {0}")]
    SelfSigned(String),
}

/// Picks the certificate for the SNI name: an ACME-issued one for its
/// names, else the configured (or self-signed) default.
#[derive(Debug)]
pub struct CertResolver {
    default: Arc<CertifiedKey>,
    /// By lower-case SNI name; replaced whole per install so a handshake
    /// sees either the old or the new certificate.
    acme: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl CertResolver {
    pub fn new(default: Arc<CertifiedKey>) -> CertResolver {
        CertResolver {
            default,
            acme: RwLock::new(HashMap::new()),
        }
    }

    /// Makes `key` answer for `names`. Connections already open keep the
    /// certificate they were handshaken with.
    pub fn install_acme(&self, names: &[String], key: Arc<CertifiedKey>) {
        let mut acme = self.acme.write().unwrap_or_else(|e| e.into_inner());
        for name in names {
            acme.insert(name.to_ascii_lowercase(), key.clone());
        }
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = self.acme.read().unwrap_or_else(|e| e.into_inner());
        client_hello
            .server_name()
            .and_then(|name| acme.get(&name.to_ascii_lowercase()).cloned())
            .or_else(|| Some(self.default.clone()))
    }
}

/// The HTTPS server configuration and what to tell the operator about it.
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    /// The resolver inside `config`, for installing ACME certificates.
    pub resolver: Arc<CertResolver>,
    /// SHA-256 of the leaf certificate (DER), as colon-separated hex.
    pub fingerprint_sha256: String,
    pub self_signed: bool,
}

/// Names the self-signed certificate is valid for: loopback, and the demo
/// domain's autoconfig names so that Host-header forms can be tried with
/// `curl --resolve`.
const SELF_SIGNED_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "autoconfig.contoso.example",
    "autodiscover.contoso.example",
    "contoso.example",
];

pub fn load(source: &TlsSource) -> Result<TlsSetup, TlsError> {
    let (chain, key, self_signed) = match source {
        TlsSource::Files {
            certificate,
            private_key,
        } => {
            let (chain, key) = read_pem_files(certificate, private_key)?;
            (chain, key, false)
        }
        TlsSource::SelfSigned => {
            let names = SELF_SIGNED_NAMES
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<_>>();
            let generated = rcgen::generate_simple_self_signed(names)
                .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
            let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
                .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
            (vec![generated.cert.der().clone()], key, true)
        }
    };
    let fingerprint_sha256 = fingerprint(&chain[0]);
    let mismatch = |e: rustls::Error| match source {
        TlsSource::Files {
            certificate,
            private_key,
        } => TlsError::Mismatch {
            certificate: certificate.clone(),
            private_key: private_key.clone(),
            reason: e.to_string(),
        },
        TlsSource::SelfSigned => TlsError::SelfSigned(e.to_string()),
    };
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key).map_err(mismatch)?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(mismatch)?;
    let resolver = Arc::new(CertResolver::new(Arc::new(certified)));
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsSetup {
        config: Arc::new(config),
        resolver,
        fingerprint_sha256,
        self_signed,
    })
}

fn read_pem_files(
    certificate: &Path,
    private_key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: certificate.to_owned(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(certificate)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no CERTIFICATE block found".into()));
    }
    let key = PrivateKeyDer::from_pem_file(private_key).map_err(|e| TlsError::PrivateKey {
        path: private_key.to_owned(),
        reason: e.to_string(),
    })?;
    Ok((chain, key))
}

fn fingerprint(certificate: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, certificate.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
