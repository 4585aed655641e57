//! ACME (RFC 8555): obtains and renews the certificates for `autoconfig.<d>`
//! and `autodiscover.<d>` of every configured domain with the http-01
//! challenge, keeps account and certificates in the state directory, and
//! installs them into the TLS resolver. Runs in background tasks; never on
//! the request path (the router only reads the `ChallengeStore`).
//!
//! State directory layout:
//! - `account-<hash of directory URL>.json`: the account's credentials (0600)
//! - `certificates/<domain>/fullchain.pem`: leaf first, then the chain
//! - `certificates/<domain>/key.pem`: the certificate's key (0600)
//! - `challenges/<token>`: the key authorization of a pending http-01
//!   challenge, removed when its order ends
//! - `locks/<domain>.lock`, `locks/account-<hash>.lock`: empty files the
//!   replicas `flock`
//!
//! Several replicas may share one state directory (one volume mounted by
//! all), and coordinate through it:
//! - One order per certificate: a replica orders a domain's certificate
//!   only while it holds an exclusive lock on `locks/<domain>.lock`. A
//!   replica that waited for the lock reads the stored certificate again
//!   once it has it, and installs that one instead of ordering when it is
//!   not due for renewal: another replica has just ordered it.
//! - Every replica answers every challenge: tokens are published in
//!   `challenges/` as well as in memory, and the router falls back to that
//!   directory (`ChallengeStore`), because the CA's validation request may
//!   reach any replica behind the load balancer.
//! - One account: it is loaded or created under its own lock, so replicas
//!   starting together register it once.
//! - A renewal by another replica is picked up when the lock is released
//!   (replicas reach the same renewal time, and the ones that waited find
//!   the new certificate) and on every wake-up, at least hourly, when the
//!   stored chain's modification time changed.
//!
//! The locks are `flock(2)` (`File::try_lock`), which the kernel releases
//! when a replica dies: a crash never leaves a stale lock. They reach
//! across machines only where the filesystem carries them between its
//! clients: local disks and NFSv4 do (Linux maps `flock` to NFS byte-range
//! locks); some network volumes keep locks local to each node (see the
//! README). An order is abandoned after `ORDER_TIMEOUT`, so a hung request
//! never holds a lock for good. Failed orders back off per replica, not
//! across them.

use std::collections::HashSet;
use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::{Mutex, watch};

use crate::config::AcmeConfig;
use crate::services::Services;
use crate::tls::{CertResolver, CertificateInfo, CertificateSource};

/// How the ACME tasks are doing, beside what `/metrics` already shows
/// (`mailsetup_acme_failures_total`, and the installed certificates' expiry
/// through the resolver).
#[derive(Debug, Default)]
pub struct AcmeStatus {
    /// Failed issuance attempts since start (each is retried with back-off).
    failures: AtomicU64,
    /// Certificates this replica ordered and installed since start (not
    /// those another replica ordered and this one installed).
    issued: AtomicU64,
}

impl AcmeStatus {
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("{path}: {cause}", path = path.display())]
    Io {
        path: PathBuf,
        /// Shown in the message, not chained as `source()`: callers log
        /// `%error` and print `{error:#}`, and either must say it once.
        cause: std::io::Error,
    },
    #[error("ACME server: {0}")]
    Protocol(#[from] instant_acme::Error),
    #[error("{0}")]
    Order(String),
    #[error("{path}: {reason}", path = path.display())]
    Stored { path: PathBuf, reason: String },
    #[error("cannot make the certificate request: {0}")]
    Csr(#[from] rcgen::Error),
    #[error(
        "{path}: cannot lock it ({cause}); replicas sharing the state directory coordinate with flock, which its filesystem must support",
        path = path.display()
    )]
    Lock {
        path: PathBuf,
        cause: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> AcmeError + '_ {
    move |cause| AcmeError::Io {
        path: path.to_owned(),
        cause,
    }
}

/// The names one certificate covers for mail domain `domain`.
pub fn certificate_names(domain: &str) -> Vec<String> {
    vec![
        format!("autoconfig.{domain}"),
        format!("autodiscover.{domain}"),
    ]
}

/// Shared by the per-domain tasks.
struct Manager {
    config: AcmeConfig,
    /// Challenge store, failure counter; outlives configuration reloads.
    services: Arc<Services>,
    resolver: Arc<CertResolver>,
    status: Arc<AcmeStatus>,
    /// Loaded or created on first use, then shared.
    account: Mutex<Option<Account>>,
    /// Longest sleep before the renewal time and the stored certificate
    /// are looked at again: `MAX_SLEEP`, shorter in tests.
    max_sleep: Duration,
    /// `ORDER_TIMEOUT`, shorter in tests.
    order_timeout: Duration,
}

/// The running ACME service: its counters, and the way to give it the
/// domains of a reloaded configuration.
pub struct Acme {
    status: Arc<AcmeStatus>,
    manager: Arc<Manager>,
    /// Domains that have a task issuing and renewing their certificate.
    domains: std::sync::Mutex<HashSet<String>>,
    shutdown: watch::Receiver<bool>,
}

impl Acme {
    pub fn failures(&self) -> u64 {
        self.status.failures()
    }

    pub fn issued(&self) -> u64 {
        self.status.issued()
    }

    /// Starts issuing for the domains not yet served (a reload added them).
    /// Domains a reload removed keep their certificate until the next
    /// restart: a mistaken edit must not cost a certificate.
    pub fn add_domains(&self, domains: Vec<String>) {
        let Ok(mut running) = self.domains.lock() else {
            return;
        };
        for domain in domains {
            if running.insert(domain.clone()) {
                start_domain(&self.manager, domain, self.shutdown.clone());
            }
        }
    }
}

/// Loads the stored certificates (installing those still valid at once),
/// then starts one task per domain that issues and renews. Returns at once;
/// the tasks end when `shutdown` turns true.
pub fn start(
    config: AcmeConfig,
    domains: Vec<String>,
    services: Arc<Services>,
    resolver: Arc<CertResolver>,
    shutdown: watch::Receiver<bool>,
) -> Arc<Acme> {
    let status = Arc::new(AcmeStatus::default());
    services
        .challenges
        .share_through(config.state_dir.join("challenges"));
    let manager = Arc::new(Manager {
        config,
        services,
        resolver,
        status: status.clone(),
        account: Mutex::new(None),
        max_sleep: MAX_SLEEP,
        order_timeout: ORDER_TIMEOUT,
    });
    let acme = Arc::new(Acme {
        status,
        manager,
        domains: std::sync::Mutex::new(HashSet::new()),
        shutdown,
    });
    acme.add_domains(domains);
    acme
}

fn start_domain(manager: &Arc<Manager>, domain: String, shutdown: watch::Receiver<bool>) {
    let stored = match manager.read_stored(&domain) {
        Ok(Some(stored)) => {
            manager.install(&domain, &stored);
            tracing::info!(%domain, not_after = stored.info.not_after_unix, "stored ACME certificate loaded");
            Some(stored)
        }
        Ok(None) => None,
        Err(error) => {
            tracing::warn!(%domain, %error, "stored ACME certificate not usable; ordering a new one");
            None
        }
    };
    let renew_at = match &stored {
        Some(stored) => manager.renew_at(&stored.info),
        None => SystemTime::now(),
    };
    let seen = stored.map(|s| s.modified);
    tokio::spawn(manager.clone().run(domain, renew_at, seen, shutdown));
}

/// A certificate read from `certificates/<domain>/`.
struct Stored {
    certified: CertifiedKey,
    info: CertificateInfo,
    /// `fullchain.pem`'s modification time: a change means another
    /// replica stored a new certificate.
    modified: SystemTime,
}

/// What an issuance attempt ended with.
enum Outcome {
    /// This replica ordered it.
    Ordered(CertificateInfo),
    /// Another replica ordered it while this one waited for the lock.
    Adopted(Stored),
}

/// An exclusive `flock` on a file in `locks/`, released when dropped or
/// when the process ends.
struct StateLock {
    _file: File,
}

/// Challenge files older than this were left by a replica that died
/// during its order; orders time out after minutes.
const STALE_CHALLENGE: Duration = Duration::from_secs(86_400);

/// Longest an order may take, lock held, before it counts as failed: its
/// two polls give up after two minutes each, and each request may wait on
/// the CA.
const ORDER_TIMEOUT: Duration = Duration::from_secs(600);

/// How often a replica waiting for a lock tries again. A wait lasts one
/// order: seconds, `ORDER_TIMEOUT` at most.
const LOCK_RETRY: Duration = Duration::from_millis(200);

/// First retry after a failure; doubled per failure up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// Longest single sleep before the renewal time is checked again, and the
/// stored certificate with it (another replica may have renewed it).
const MAX_SLEEP: Duration = Duration::from_secs(3600);

impl Manager {
    async fn run(
        self: Arc<Self>,
        domain: String,
        mut renew_at: SystemTime,
        mut seen: Option<SystemTime>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut failures: u32 = 0;
        loop {
            let wait = renew_at
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            if !wait.is_zero() {
                // Wake at least hourly and look at the wall clock again: a
                // monotonic sleep of weeks drifts from it across suspend
                // and clock changes.
                tokio::select! {
                    _ = tokio::time::sleep(wait.min(self.max_sleep)) => {}
                    _ = shutdown.changed() => return,
                }
                if let Some(stored) = self.stored_if_changed(&domain, seen) {
                    seen = Some(stored.modified);
                    renew_at = self.renew_at(&stored.info);
                    self.adopt(&domain, &stored);
                }
                continue;
            }
            let attempt = tokio::select! {
                result = self.issue(&domain) => result,
                _ = shutdown.changed() => return,
            };
            match attempt {
                Ok(Outcome::Ordered(info)) => {
                    failures = 0;
                    self.status.issued.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%domain, not_after = info.not_after_unix, "ACME certificate installed");
                    renew_at = self.renew_at(&info);
                    seen = self.stored_modified(&domain);
                }
                Ok(Outcome::Adopted(stored)) => {
                    failures = 0;
                    seen = Some(stored.modified);
                    renew_at = self.renew_at(&stored.info);
                    self.adopt(&domain, &stored);
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    self.status.failures.fetch_add(1, Ordering::Relaxed);
                    self.services.metrics.record_acme_failure();
                    let backoff = jittered(backoff(failures));
                    tracing::warn!(%domain, %error, retry_in_secs = backoff.as_secs(), "ACME issuance failed; the old certificate stays in service");
                    renew_at = SystemTime::now() + backoff;
                }
            }
        }
    }

    /// When to renew: at 2/3 of the certificate's lifetime (Let's Encrypt's
    /// own advice), or after `renew_after_secs` when configured.
    fn renew_at(&self, info: &CertificateInfo) -> SystemTime {
        let issued = UNIX_EPOCH + Duration::from_secs(info.not_before_unix);
        match self.config.renew_after_secs {
            Some(secs) => issued + Duration::from_secs(secs),
            None => renewal_time(info),
        }
    }

    /// Reads `certificates/<domain>/`: `None` when there is none, an error
    /// when it does not cover the names or has expired (or when a replica
    /// is between writing the key and the chain: the pair does not match).
    fn read_stored(&self, domain: &str) -> Result<Option<Stored>, AcmeError> {
        let dir = self.certificate_dir(domain);
        let chain_path = dir.join("fullchain.pem");
        let key_path = dir.join("key.pem");
        let modified = match std::fs::metadata(&chain_path) {
            Ok(metadata) => metadata.modified().map_err(io_error(&chain_path))?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(io_error(&chain_path)(error)),
        };
        let stored = |reason: String| AcmeError::Stored {
            path: chain_path.clone(),
            reason,
        };
        let chain_pem = std::fs::read(&chain_path).map_err(io_error(&chain_path))?;
        let key_pem = std::fs::read(&key_path).map_err(io_error(&key_path))?;
        let (certified, info) = certified_key(&chain_pem, &key_pem).map_err(stored)?;
        let names = certificate_names(domain);
        if names.iter().any(|n| !info.names.contains(n)) {
            return Err(stored(format!("does not cover {}", names.join(", "))));
        }
        if info.not_after_unix <= unix_now() {
            return Err(stored("has expired".into()));
        }
        Ok(Some(Stored {
            certified,
            info,
            modified,
        }))
    }

    fn install(&self, domain: &str, stored: &Stored) {
        self.resolver.install_acme(
            &certificate_names(domain),
            Arc::new(stored.certified.clone()),
        );
    }

    /// Installs a certificate another replica ordered.
    fn adopt(&self, domain: &str, stored: &Stored) {
        self.install(domain, stored);
        tracing::info!(%domain, not_after = stored.info.not_after_unix, "ACME certificate ordered by another replica installed from the state directory");
    }

    fn stored_modified(&self, domain: &str) -> Option<SystemTime> {
        let path = self.certificate_dir(domain).join("fullchain.pem");
        std::fs::metadata(path).and_then(|m| m.modified()).ok()
    }

    /// The stored certificate when its chain changed since `seen` (another
    /// replica renewed it) and it is usable. A pair caught mid-write is
    /// ignored: the next wake-up reads it again.
    fn stored_if_changed(&self, domain: &str, seen: Option<SystemTime>) -> Option<Stored> {
        let modified = self.stored_modified(domain)?;
        if Some(modified) == seen {
            return None;
        }
        match self.read_stored(domain) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::debug!(%domain, %error, "stored ACME certificate changed but is not usable yet");
                None
            }
        }
    }

    /// An exclusive lock on `locks/<name>.lock`, waited for while another
    /// replica (or task) holds it.
    async fn lock(&self, name: &str) -> Result<StateLock, AcmeError> {
        let dir = self.config.state_dir.join("locks");
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let path = dir.join(format!("{name}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error(&path))?;
        let mut waiting = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(StateLock { _file: file }),
                Err(TryLockError::WouldBlock) => {
                    if !waiting {
                        waiting = true;
                        tracing::info!(lock = %path.display(), "waiting for another replica sharing the ACME state directory");
                    }
                    tokio::time::sleep(LOCK_RETRY).await;
                }
                Err(TryLockError::Error(cause)) => return Err(AcmeError::Lock { path, cause }),
            }
        }
    }

    fn certificate_dir(&self, domain: &str) -> PathBuf {
        self.config.state_dir.join("certificates").join(domain)
    }

    /// One order under the domain's lock: http-01 for every name, finalize
    /// with a fresh key, store, install. Or, when the lock was held by a
    /// replica that has just stored a certificate not yet due, that one.
    async fn issue(&self, domain: &str) -> Result<Outcome, AcmeError> {
        let _lock = self.lock(domain).await?;
        match self.read_stored(domain) {
            Ok(Some(stored)) if self.renew_at(&stored.info) > SystemTime::now() => {
                return Ok(Outcome::Adopted(stored));
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%domain, %error, "stored ACME certificate not usable"),
        }
        self.services.challenges.sweep_older_than(STALE_CHALLENGE);
        let names = certificate_names(domain);
        let mut published = Vec::new();
        // Bounded as a whole: the domain's lock is held meanwhile, and a
        // request that never returns must not hold the other replicas off
        // this certificate for ever.
        let ordering = async {
            let account = self.account().await?;
            self.order(&account, &names, &mut published).await
        };
        let result = tokio::time::timeout(self.order_timeout, ordering)
            .await
            .unwrap_or_else(|_| {
                Err(AcmeError::Order(format!(
                    "no certificate after {} s; gave up on this order",
                    self.order_timeout.as_secs_f64()
                )))
            });
        for token in &published {
            self.services.challenges.withdraw(token);
        }
        let (chain_pem, key_pem) = result?;

        let (certified, info) = certified_key(chain_pem.as_bytes(), key_pem.as_bytes())
            .map_err(|reason| AcmeError::Order(format!("the issued certificate: {reason}")))?;
        let dir = self.certificate_dir(domain);
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        // The key first: a crash between the two renames leaves a pair
        // that does not match, which the next start detects and reorders.
        write_atomic(&dir.join("key.pem"), key_pem.as_bytes(), true)?;
        write_atomic(&dir.join("fullchain.pem"), chain_pem.as_bytes(), false)?;
        self.resolver.install_acme(&names, Arc::new(certified));
        Ok(Outcome::Ordered(info))
    }

    async fn order(
        &self,
        account: &Account,
        names: &[String],
        published: &mut Vec<String>,
    ) -> Result<(String, String), AcmeError> {
        let identifiers = names
            .iter()
            .map(|n| Identifier::Dns(n.clone()))
            .collect::<Vec<_>>();
        let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => {
                    return Err(AcmeError::Order(format!(
                        "authorization is {other:?}, cannot answer it"
                    )));
                }
            }
            let mut challenge = authorization
                .challenge(ChallengeType::Http01)
                .ok_or_else(|| AcmeError::Order("the server offers no http-01 challenge".into()))?;
            let token = challenge.token.clone();
            let challenges_dir = self.config.state_dir.join("challenges");
            // Published everywhere before the CA is told to look.
            self.services
                .challenges
                .publish(&token, challenge.key_authorization().as_str())
                .map_err(io_error(&challenges_dir))?;
            published.push(token);
            challenge.set_ready().await?;
        }
        let retries = RetryPolicy::new().timeout(Duration::from_secs(120));
        let status = order.poll_ready(&retries).await?;
        if status != OrderStatus::Ready {
            let detail = order
                .state()
                .error
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default();
            return Err(AcmeError::Order(format!(
                "order is {status:?}, not ready {detail}"
            )));
        }
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let csr = params.serialize_request(&key)?;
        order.finalize_csr(csr.der()).await?;
        let chain_pem = order.poll_certificate(&retries).await?;
        Ok((chain_pem, key.serialize_pem()))
    }

    /// The account for the configured directory: loaded from the state
    /// directory, or created there. Under the account's lock, so that
    /// replicas starting together register one account, not one each.
    async fn account(&self) -> Result<Account, AcmeError> {
        let mut slot = self.account.lock().await;
        if let Some(account) = slot.as_ref() {
            return Ok(account.clone());
        }
        let file_name = account_file_name(&self.config.directory_url);
        let _lock = self.lock(file_name.trim_end_matches(".json")).await?;
        let path = self.config.state_dir.join(&file_name);
        let builder = || match &self.config.directory_ca {
            Some(ca) => Account::builder_with_root(ca),
            None => Account::builder(),
        };
        let account = if path.exists() {
            let text = std::fs::read(&path).map_err(io_error(&path))?;
            let credentials: AccountCredentials =
                serde_json::from_slice(&text).map_err(|e| AcmeError::Stored {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            builder()?.from_credentials(credentials).await?
        } else {
            let contact = self.config.contact.as_ref().map(|c| format!("mailto:{c}"));
            let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
            let (account, credentials) = builder()?
                .create(
                    &NewAccount {
                        contact: &contacts,
                        terms_of_service_agreed: true,
                        only_return_existing: false,
                    },
                    self.config.directory_url.clone(),
                    None,
                )
                .await?;
            std::fs::create_dir_all(&self.config.state_dir)
                .map_err(io_error(&self.config.state_dir))?;
            let json = serde_json::to_vec_pretty(&credentials).map_err(|e| AcmeError::Stored {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            write_atomic(&path, &json, true)?;
            tracing::info!(account = account.id(), "ACME account created");
            account
        };
        *slot = Some(account.clone());
        Ok(account)
    }
}

/// One account file per directory URL, so switching between staging and
/// production does not reuse an account the other server does not know.
fn account_file_name(directory_url: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, directory_url.as_bytes());
    let hex: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("account-{hex}.json")
}

/// 2/3 of the way from `not_before` to `not_after`.
pub fn renewal_time(info: &CertificateInfo) -> SystemTime {
    let lifetime = info.not_after_unix.saturating_sub(info.not_before_unix);
    UNIX_EPOCH + Duration::from_secs(info.not_before_unix + lifetime * 2 / 3)
}

/// Back-off after `failures` consecutive failures (≥ 1): 5 s, 10 s, 20 s …
/// up to six hours.
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1))
        .unwrap_or(u32::MAX);
    FIRST_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}

/// `delay` ± 25 %, so that many servers (or domains) failing together do
/// not retry in lockstep.
fn jittered(delay: Duration) -> Duration {
    use ring::rand::SecureRandom;
    let mut byte = [0u8; 1];
    let random = match ring::rand::SystemRandom::new().fill(&mut byte) {
        Ok(()) => f64::from(byte[0]) / 255.0,
        Err(_) => 0.5,
    };
    delay.mul_f64(0.75 + random * 0.5)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a PEM chain and key into what rustls serves, with the leaf's names
/// and validity.
fn certified_key(
    chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<(CertifiedKey, CertificateInfo), String> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate chain: {e}"))?;
    let leaf = chain.first().ok_or("no CERTIFICATE block")?;
    let info = crate::tls::describe(leaf, CertificateSource::Acme)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("private key: {e}"))?;
    let certified = crate::tls::certified_key(chain, key)?;
    Ok((certified, info))
}

/// Writes through a temporary file in the same directory and renames it
/// over `path`, so a reader (or a crash) never sees half a file. Keys are
/// created 0600 before any byte is written.
fn write_atomic(path: &Path, contents: &[u8], secret: bool) -> Result<(), AcmeError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{file_name}.tmp"));
    // A leftover from a crash may have other permissions; mode applies
    // only on creation.
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let _ = secret;
    let mut file = options.open(&temporary).map_err(io_error(&temporary))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&temporary))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io_error(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_at_two_thirds_of_the_lifetime() {
        let info = CertificateInfo {
            source: CertificateSource::Acme,
            path: None,
            names: vec![],
            not_before_unix: 1_000,
            not_after_unix: 1_000 + 90 * 86_400,
            fingerprint_sha256: String::new(),
        };
        assert_eq!(
            renewal_time(&info),
            UNIX_EPOCH + Duration::from_secs(1_000 + 60 * 86_400)
        );
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(40), MAX_BACKOFF);
        for _ in 0..50 {
            let j = jittered(Duration::from_secs(100));
            assert!(
                j >= Duration::from_secs(75) && j <= Duration::from_secs(125),
                "{j:?}"
            );
        }
    }

    /// A self-signed certificate for `domain`'s names, as the ACME task
    /// stores one: (fullchain PEM, key PEM).
    fn certificate_pem(domain: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(certificate_names(domain))
            .unwrap()
            .self_signed(&key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn store(dir: &Path, (chain, key): &(String, String), modified: SystemTime) {
        std::fs::create_dir_all(dir).unwrap();
        write_atomic(&dir.join("key.pem"), key.as_bytes(), true).unwrap();
        write_atomic(&dir.join("fullchain.pem"), chain.as_bytes(), false).unwrap();
        // Set, not left to the clock: two writes within the filesystem's
        // timestamp granularity would otherwise look unchanged.
        File::options()
            .write(true)
            .open(dir.join("fullchain.pem"))
            .unwrap()
            .set_modified(modified)
            .unwrap();
    }

    fn serves(resolver: &CertResolver, fingerprint: &str) -> bool {
        resolver
            .certificates()
            .iter()
            .any(|c| c.source == CertificateSource::Acme && c.fingerprint_sha256 == fingerprint)
    }

    /// A manager that wakes every 20 ms and gives an order 300 ms.
    fn test_manager(state_dir: &Path, directory_url: &str) -> Arc<Manager> {
        let source = crate::config::TlsSource {
            default: None,
            certificates_dir: None,
        };
        let resolver = CertResolver::new(crate::tls::CertificateSet::load(&source).unwrap());
        Arc::new(Manager {
            config: AcmeConfig {
                directory_url: directory_url.to_owned(),
                contact: None,
                state_dir: state_dir.to_owned(),
                directory_ca: None,
                renew_after_secs: None,
            },
            services: Arc::new(Services::default()),
            resolver: Arc::new(resolver),
            status: Arc::new(AcmeStatus::default()),
            account: Mutex::new(None),
            max_sleep: Duration::from_millis(20),
            order_timeout: Duration::from_millis(300),
        })
    }

    #[tokio::test]
    async fn an_order_the_ca_never_answers_gives_up_and_releases_the_lock() {
        // Accepts connections and never says a word.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = silent.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                held.push(stream);
            }
        });
        let state = tempfile::tempdir().unwrap();
        let manager = test_manager(state.path(), &format!("https://{addr}/dir"));
        let started = std::time::Instant::now();
        let Err(error) = manager.issue("contoso.test").await else {
            panic!("an order against a silent CA succeeded");
        };
        assert!(
            error.to_string().contains("gave up on this order"),
            "{error}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // Another replica can take the domain now.
        let lock = File::open(state.path().join("locks/contoso.test.lock")).unwrap();
        lock.try_lock().unwrap();
    }

    #[tokio::test]
    async fn a_certificate_another_replica_stored_is_installed_on_the_next_wake_up() {
        let domain = "contoso.test";
        let state = tempfile::tempdir().unwrap();
        // The directory is never contacted: nothing is due.
        let manager = test_manager(state.path(), "https://127.0.0.1:1/dir");
        let resolver = manager.resolver.clone();
        let dir = manager.certificate_dir(domain);
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        store(&dir, &certificate_pem(domain), an_hour_ago);
        let (shutdown, shutdown_rx) = watch::channel(false);
        start_domain(&manager, domain.to_owned(), shutdown_rx);
        let ours = manager.read_stored(domain).unwrap().unwrap();
        assert!(serves(&resolver, &ours.info.fingerprint_sha256));

        // Another replica renews early: same directory, newer chain.
        store(&dir, &certificate_pem(domain), SystemTime::now());
        let theirs = manager.read_stored(domain).unwrap().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !serves(&resolver, &theirs.info.fingerprint_sha256) {
            assert!(std::time::Instant::now() < deadline, "not picked up");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!serves(&resolver, &ours.info.fingerprint_sha256));
        assert_eq!(manager.status.issued(), 0);
        assert_eq!(manager.status.failures(), 0);
        shutdown.send_replace(true);
    }

    #[test]
    fn keys_are_written_0600_and_replaced_atomically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        write_atomic(&path, b"one", true).unwrap();
        write_atomic(&path, b"two", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
