//! TLS: certificates chosen by SNI from a directory of certificate files
//! (certbot's `live/` layout or Kubernetes TLS Secrets), ACME-issued
//! certificates and a default (or a self-signed certificate generated at
//! start-up), and the rustls server configuration. Validates every
//! certificate when it is loaded (start-up, reload, a change the watcher
//! saw): a bad default is an error, a bad directory entry is skipped and
//! reported, and one that was in service keeps its previous certificate;
//! does not accept connections (see `server`), notice changed files (see
//! `watch`) or talk to an ACME server (see `acme`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{CertificateFiles, TlsSource};

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
    #[error("{path}: the certificate expired ({days} days ago); renew it", path = path.display())]
    Expired { path: PathBuf, days: u64 },
    #[error("{path}: the certificate is not valid yet", path = path.display())]
    NotYetValid { path: PathBuf },
    #[error("{path}: cannot read the certificates directory: {reason}", path = path.display())]
    Directory { path: PathBuf, reason: String },
    #[error("cannot generate a self-signed certificate: {0}")]
    SelfSigned(String),
}

impl TlsError {
    /// Whether the same, unchanged files may load later: only a
    /// certificate that is not valid yet (the clock moves; nothing else
    /// about files whose bytes and metadata stay the same does).
    pub fn may_pass_with_time(&self) -> bool {
        matches!(self, TlsError::NotYetValid { .. })
    }
}

/// Where a certificate in service came from (a metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateSource {
    Default,
    Directory,
    Acme,
    SelfSigned,
}

impl CertificateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateSource::Default => "default",
            CertificateSource::Directory => "directory",
            CertificateSource::Acme => "acme",
            CertificateSource::SelfSigned => "self-signed",
        }
    }
}

/// What operators are told about one certificate in service.
#[derive(Debug, Clone)]
pub struct CertificateInfo {
    pub source: CertificateSource,
    /// The file it was read from, if any.
    pub path: Option<PathBuf>,
    /// DNS names of its subjectAltName.
    pub names: Vec<String>,
    pub not_before_unix: u64,
    pub not_after_unix: u64,
    /// SHA-256 of the leaf (DER), colon-separated hex.
    pub fingerprint_sha256: String,
}

/// What `/metrics` reports about certificates: those in service, and how
/// many `certificates_dir` entries the last load skipped.
#[derive(Debug, Clone, Default)]
pub struct CertificateReport {
    pub certificates: Vec<CertificateInfo>,
    pub entries_skipped: usize,
}

impl CertificateReport {
    /// The certificates in service.
    pub fn iter(&self) -> std::slice::Iter<'_, CertificateInfo> {
        self.certificates.iter()
    }
}

impl CertificateInfo {
    /// Days until expiry (negative when expired), for metrics.
    pub fn days_to_expiry(&self) -> f64 {
        (self.not_after_unix as f64 - unix_now() as f64) / 86_400.0
    }
}

/// A subdirectory of `certificates_dir` that is not served, and why.
#[derive(Debug)]
pub struct SkippedEntry {
    /// The subdirectory (`<certificates_dir>/<name>`).
    pub path: PathBuf,
    /// What is wrong with it; names the file.
    pub error: TlsError,
}

/// The certificates read from files (or generated), swapped as a whole on
/// reload.
pub struct CertificateSet {
    /// Lower-case DNS names (and `*.` wildcards) to certificates.
    by_name: HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
    pub certificates: Vec<CertificateInfo>,
    /// Directory entries left out. One renewal gone wrong (an expired
    /// certificate, a half-written lineage) must not take every other
    /// domain, and the reload that would fix it, down with it.
    pub skipped: Vec<SkippedEntry>,
    /// Private key files in service that every local user can read: they
    /// work, so nothing else would tell the operator who "fixed" a
    /// permission error with `chmod 644`.
    pub world_readable_keys: Vec<PathBuf>,
    /// What each `certificates_dir` entry in service serves, by entry: an
    /// entry that breaks later keeps this (see `keeping_previous`).
    served_entries: HashMap<PathBuf, (Arc<CertifiedKey>, CertificateInfo)>,
}

impl CertificateSet {
    /// Reads and validates every configured certificate. A bad default
    /// certificate is an error; a bad `certificates_dir` entry is logged,
    /// recorded in `skipped`, and the others are served.
    pub fn load(source: &TlsSource) -> Result<CertificateSet, TlsError> {
        let set = CertificateSet::load_quietly(source)?;
        for skipped in &set.skipped {
            tracing::warn!(
                entry = %skipped.path.display(),
                error = %skipped.error,
                "certificates_dir entry skipped; its names get an ACME or the default certificate, if any"
            );
        }
        for private_key in &set.world_readable_keys {
            tracing::warn!(
                private_key = %private_key.display(),
                "{WORLD_READABLE_ADVICE}"
            );
        }
        Ok(set)
    }

    /// `load` without the log lines: the watcher retries a broken file at
    /// every look and says so once, not at every look.
    pub fn load_quietly(source: &TlsSource) -> Result<CertificateSet, TlsError> {
        let mut set = CertificateSet {
            by_name: HashMap::new(),
            default: None,
            certificates: Vec::new(),
            skipped: Vec::new(),
            world_readable_keys: Vec::new(),
            served_entries: HashMap::new(),
        };
        if source.self_signed() {
            let (key, info) = self_signed()?;
            set.default = Some(key);
            set.certificates.push(info);
            return Ok(set);
        }
        if let Some(files) = &source.default {
            let (key, info) = load_files(files, CertificateSource::Default)?;
            set.note_key_permissions(&files.private_key);
            set.default = Some(key);
            set.certificates.push(info);
        }
        if let Some(dir) = &source.certificates_dir {
            for (entry, files) in certificate_dir_entries(dir)? {
                match load_files(&files, CertificateSource::Directory) {
                    Ok((key, info)) => {
                        set.note_key_permissions(&files.private_key);
                        for name in &info.names {
                            set.by_name.insert(name.clone(), key.clone());
                        }
                        set.served_entries
                            .insert(entry, (key.clone(), info.clone()));
                        set.certificates.push(info);
                    }
                    Err(error) => {
                        set.skipped.push(SkippedEntry { path: entry, error });
                    }
                }
            }
        }
        Ok(set)
    }

    fn note_key_permissions(&mut self, private_key: &Path) {
        if is_world_readable(private_key) {
            self.world_readable_keys.push(private_key.to_owned());
        }
    }

    /// This set, where an entry that fails to load now but was in service
    /// in `previous` keeps its previous certificate (while it is still
    /// valid). A renewal caught half-way (certbot replaces the `live/`
    /// links one at a time; a new certificate may land before its key)
    /// must not take a working name down; the next load tries again.
    /// Returns the entries that kept their previous certificate.
    fn keeping_previous(&mut self, previous: &CertificateSet) -> Vec<PathBuf> {
        let mut kept = Vec::new();
        for skipped in &self.skipped {
            let Some((key, info)) = previous.served_entries.get(&skipped.path) else {
                continue;
            };
            if check_validity(info, &skipped.path).is_err() {
                continue;
            }
            for name in &info.names {
                // A name another entry now covers is served by that one.
                self.by_name
                    .entry(name.clone())
                    .or_insert_with(|| key.clone());
            }
            self.served_entries
                .insert(skipped.path.clone(), (key.clone(), info.clone()));
            self.certificates.push(info.clone());
            kept.push(skipped.path.clone());
        }
        kept
    }

    /// The default certificate's description (what `serve` prints).
    pub fn default_info(&self) -> Option<&CertificateInfo> {
        self.certificates.iter().find(|c| {
            matches!(
                c.source,
                CertificateSource::Default | CertificateSource::SelfSigned
            )
        })
    }
}

/// What the warning about a world-readable private key tells the operator.
pub const WORLD_READABLE_ADVICE: &str = "the private key is readable by every local user; \
    chmod 0600 (or 0640 with a group the service is in), or hand it to the systemd unit \
    with LoadCredential= (README, \"systemd\")";

/// True when the file (after symlinks, as certbot's `live/` has them)
/// grants read permission to "other".
fn is_world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

/// Every entry of `dir` with its certificate and key files, sorted for a
/// stable report. An entry is a subdirectory in certbot's `live/` layout
/// (`fullchain.pem`, `privkey.pem`) or a mounted Kubernetes TLS Secret
/// (`tls.crt`, `tls.key`, as cert-manager writes them); `dir` itself is the
/// one entry when it holds such files (one Secret mounted there). Plain
/// files (certbot's README) are not entries, nor are names starting with a
/// dot: the kubelet's `..data` and `..<timestamp>` directories inside a
/// mounted volume are the same files again.
pub(crate) fn certificate_dir_entries(
    dir: &Path,
) -> Result<Vec<(PathBuf, CertificateFiles)>, TlsError> {
    let error = |e: std::io::Error| TlsError::Directory {
        path: dir.to_owned(),
        reason: e.to_string(),
    };
    if let Some(files) = entry_files(dir) {
        return Ok(vec![(dir.to_owned(), files)]);
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            // An entry with neither layout is reported with certbot's
            // names, the layout the option was first made for.
            let files = entry_files(&path).unwrap_or_else(|| CertificateFiles {
                certificate: path.join("fullchain.pem"),
                private_key: path.join("privkey.pem"),
            });
            entries.push((path, files));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// The certificate and key files in `dir`, by the layout its certificate
/// file names: certbot's `fullchain.pem` first, then a Secret's `tls.crt`.
fn entry_files(dir: &Path) -> Option<CertificateFiles> {
    [("fullchain.pem", "privkey.pem"), ("tls.crt", "tls.key")]
        .into_iter()
        .map(|(certificate, private_key)| CertificateFiles {
            certificate: dir.join(certificate),
            private_key: dir.join(private_key),
        })
        .find(|files| files.certificate.exists())
}

/// Every file the certificates of `source` are read from, in a stable
/// order: what the watcher fingerprints. A `certificates_dir` that cannot
/// be read contributes its own path (the watcher notes that it is gone).
pub fn source_files(source: &TlsSource) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(default) = &source.default {
        files.push(default.certificate.clone());
        files.push(default.private_key.clone());
    }
    if let Some(dir) = &source.certificates_dir {
        match certificate_dir_entries(dir) {
            Ok(entries) => {
                for (_, entry) in entries {
                    files.push(entry.certificate);
                    files.push(entry.private_key);
                }
            }
            Err(_) => files.push(dir.clone()),
        }
    }
    files
}

fn load_files(
    files: &CertificateFiles,
    source: CertificateSource,
) -> Result<(Arc<CertifiedKey>, CertificateInfo), TlsError> {
    let certified = read_certified_key(files)?;
    let mut info =
        describe(&certified.cert[0], source).map_err(|reason| TlsError::Certificate {
            path: files.certificate.clone(),
            reason,
        })?;
    info.path = Some(files.certificate.clone());
    check_validity(&info, &files.certificate)?;
    Ok((Arc::new(certified), info))
}

/// Reads a PEM chain (leaf first) and its private key, and checks that the
/// key is the leaf's. Shared by TLS and the Apple profile signer.
pub fn read_certified_key(files: &CertificateFiles) -> Result<CertifiedKey, TlsError> {
    let cert_error = |reason: String| TlsError::Certificate {
        path: files.certificate.clone(),
        reason,
    };
    let chain = CertificateDer::pem_file_iter(&files.certificate)
        .map_err(|e| cert_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error("no CERTIFICATE block found".into()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.private_key).map_err(|e| TlsError::PrivateKey {
            path: files.private_key.clone(),
            reason: e.to_string(),
        })?;
    certified_key(chain, key).map_err(|reason| TlsError::Mismatch {
        certificate: files.certificate.clone(),
        private_key: files.private_key.clone(),
        reason,
    })
}

/// A certified key whose private key is checked against the leaf.
pub fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<CertifiedKey, String> {
    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("unsupported private key: {e}"))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|e| e.to_string())?;
    Ok(certified)
}

/// Names, expiry and fingerprint of a leaf certificate.
pub fn describe(
    leaf: &CertificateDer<'_>,
    source: CertificateSource,
) -> Result<CertificateInfo, String> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let cert = x509_cert::Certificate::from_der(leaf.as_ref())
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let not_after_unix = tbs.validity.not_after.to_unix_duration().as_secs();
    let mut names = Vec::new();
    if let Ok(Some((_, san))) = tbs.get::<SubjectAltName>() {
        for name in san.0 {
            if let GeneralName::DnsName(dns) = name {
                names.push(dns.as_str().to_ascii_lowercase());
            }
        }
    }
    Ok(CertificateInfo {
        source,
        path: None,
        names,
        not_before_unix: tbs.validity.not_before.to_unix_duration().as_secs(),
        not_after_unix,
        fingerprint_sha256: fingerprint(leaf),
    })
}

fn check_validity(info: &CertificateInfo, path: &Path) -> Result<(), TlsError> {
    let now = unix_now();
    // Five minutes of grace for clocks that differ a little.
    if info.not_before_unix > now + 300 {
        return Err(TlsError::NotYetValid {
            path: path.to_owned(),
        });
    }
    if info.not_after_unix < now {
        return Err(TlsError::Expired {
            path: path.to_owned(),
            days: (now - info.not_after_unix) / 86_400,
        });
    }
    Ok(())
}

/// Names the self-signed certificate is valid for: loopback, and the demo
/// domain's names so that Host-header forms can be tried with `curl --resolve`.
const SELF_SIGNED_NAMES: &[&str] = &[
    "localhost",
    "127.0.0.1",
    "::1",
    "autoconfig.contoso.example",
    "autodiscover.contoso.example",
    "contoso.example",
];

/// How long the self-signed certificate is valid. rcgen's default runs to
/// the year 4096, which `/metrics` and `check` then report as 755 717 days
/// to expiry: noise in every expiry alert. A new certificate is generated
/// at every start and reload, so a year is more than enough.
pub const SELF_SIGNED_VALIDITY: Duration = Duration::from_secs(365 * 86_400);

/// How far back the self-signed certificate starts, for clients whose
/// clock is a little behind.
const SELF_SIGNED_BACKDATE: Duration = Duration::from_secs(86_400);

fn self_signed() -> Result<(Arc<CertifiedKey>, CertificateInfo), TlsError> {
    let error = |e: rcgen::Error| TlsError::SelfSigned(e.to_string());
    let names = SELF_SIGNED_NAMES
        .iter()
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>();
    let mut params = rcgen::CertificateParams::new(names).map_err(error)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mailsetup self-signed");
    let now = SystemTime::now();
    params.not_before = (now - SELF_SIGNED_BACKDATE).into();
    params.not_after = (now + SELF_SIGNED_VALIDITY).into();
    let signing_key = rcgen::KeyPair::generate().map_err(error)?;
    let cert = params.self_signed(&signing_key).map_err(error)?;
    let key = PrivateKeyDer::try_from(signing_key.serialize_der())
        .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    let leaf = cert.der().clone();
    let info = describe(&leaf, CertificateSource::SelfSigned).map_err(TlsError::SelfSigned)?;
    let certified = certified_key(vec![leaf], key).map_err(TlsError::SelfSigned)?;
    Ok((Arc::new(certified), info))
}

/// Picks the certificate for a connection's SNI name: a certificate file
/// covering the name, else an ACME certificate for it, else the default.
/// Without a default, an unknown name fails the handshake (rustls sends a
/// fatal alert): serving an unrelated certificate would only make clients
/// show a name-mismatch error for a name we do not serve.
pub struct CertResolver {
    files: ArcSwap<CertificateSet>,
    /// Certificates installed by the ACME task, by name.
    acme: ArcSwap<HashMap<String, (Arc<CertifiedKey>, CertificateInfo)>>,
}

impl std::fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertResolver").finish_non_exhaustive()
    }
}

impl CertResolver {
    pub fn new(files: CertificateSet) -> CertResolver {
        CertResolver {
            files: ArcSwap::from_pointee(files),
            acme: ArcSwap::from_pointee(HashMap::new()),
        }
    }

    /// Swaps in the certificates of a reloaded configuration. Connections
    /// already established keep theirs; a directory entry that fails to
    /// load now keeps the certificate it had (see `keeping_previous`).
    /// Returns the entries that did.
    pub fn replace_files(&self, mut files: CertificateSet) -> Vec<PathBuf> {
        let kept = files.keeping_previous(&self.files.load());
        self.files.store(Arc::new(files));
        kept
    }

    /// Makes an ACME-issued certificate answer for `names` (files in the
    /// certificates directory still win for the same name).
    pub fn install_acme(&self, names: &[String], key: Arc<CertifiedKey>) {
        let info = key
            .cert
            .first()
            .and_then(|leaf| describe(leaf, CertificateSource::Acme).ok());
        let Some(info) = info else {
            tracing::warn!(
                ?names,
                "ACME certificate without a readable leaf; not installed"
            );
            return;
        };
        self.acme.rcu(|current| {
            let mut next = HashMap::clone(current);
            for name in names {
                next.insert(name.to_ascii_lowercase(), (key.clone(), info.clone()));
            }
            next
        });
    }

    /// Every certificate in service and the directory entries left out,
    /// for metrics and logs.
    pub fn certificates(&self) -> CertificateReport {
        let files = self.files.load();
        let mut all = files.certificates.clone();
        let acme = self.acme.load();
        let mut seen = std::collections::HashSet::new();
        for (_, info) in acme.values() {
            if seen.insert(info.fingerprint_sha256.clone()) {
                all.push(info.clone());
            }
        }
        CertificateReport {
            certificates: all,
            entries_skipped: files.skipped.len(),
        }
    }

    fn lookup(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let files = self.files.load();
        let wildcard = name
            .split_once('.')
            .map(|(_, parent)| format!("*.{parent}"));
        if let Some(key) = files.by_name.get(name) {
            return Some(key.clone());
        }
        if let Some(key) = wildcard.as_ref().and_then(|w| files.by_name.get(w)) {
            return Some(key.clone());
        }
        if let Some((key, _)) = self.acme.load().get(name) {
            return Some(key.clone());
        }
        files.default.clone()
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match hello.server_name() {
            Some(name) => self.lookup(&name.to_ascii_lowercase()),
            // No SNI (IP-address clients): only the default can answer.
            None => self.files.load().default.clone(),
        }
    }
}

/// The rustls server configuration around a resolver: HTTP/2 and HTTP/1.1
/// by ALPN, rustls' safe defaults otherwise.
pub fn server_config(resolver: Arc<CertResolver>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    #[test]
    fn certbot_and_secret_directories_are_entries_and_dot_names_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("certbot/fullchain.pem"));
        touch(&root.join("certbot/privkey.pem"));
        touch(&root.join("secret/tls.crt"));
        touch(&root.join("secret/tls.key"));
        // The kubelet's own names inside a mounted volume, and certbot's
        // README: not entries.
        touch(&root.join("..data/tls.crt"));
        touch(&root.join("..2026_12_02_01_00_00.000000001/tls.crt"));
        touch(&root.join("README"));
        std::fs::create_dir(root.join("neither")).unwrap();
        let entries = certificate_dir_entries(root).unwrap();
        let found: Vec<(PathBuf, PathBuf, PathBuf)> = entries
            .into_iter()
            .map(|(entry, files)| (entry, files.certificate, files.private_key))
            .collect();
        assert_eq!(
            found,
            [
                (
                    root.join("certbot"),
                    root.join("certbot/fullchain.pem"),
                    root.join("certbot/privkey.pem")
                ),
                // Reported with certbot's names when it has neither layout.
                (
                    root.join("neither"),
                    root.join("neither/fullchain.pem"),
                    root.join("neither/privkey.pem")
                ),
                (
                    root.join("secret"),
                    root.join("secret/tls.crt"),
                    root.join("secret/tls.key")
                ),
            ]
        );
    }

    #[test]
    fn a_secret_mounted_as_the_directory_itself_is_its_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("..data/tls.crt"));
        std::os::unix::fs::symlink("..data/tls.crt", root.join("tls.crt")).unwrap();
        let entries = certificate_dir_entries(root).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, root);
        assert_eq!(entries[0].1.certificate, root.join("tls.crt"));
        assert_eq!(entries[0].1.private_key, root.join("tls.key"));
        assert_eq!(
            source_files(&TlsSource {
                default: None,
                certificates_dir: Some(root.to_owned()),
            }),
            [root.join("tls.crt"), root.join("tls.key")]
        );
    }
}
