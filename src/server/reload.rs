//! Reloading while serving: puts a new configuration generation, new
//! certificates or a new profile signer in service, one reload at a time
//! (on SIGHUP through `Running::reload`, and when the watcher sees files
//! change), and the watcher's looks at the files. What counts as a change
//! is `watch`'s; loading is `load`'s and `tls`'s.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::{ReloadError, Shared, acme_domains};
use crate::config::{Config, SigningSource};
use crate::load::{LoadError, Loaded, load_files_of};
use crate::metrics::CertificateOutcome;
use crate::router::App;
use crate::signing::{ProfileSigner, SigningError};
use crate::tls::{self, CertificateSet, TlsError};
use crate::watch::{Fingerprint, Look, Watched};

/// Puts new configuration generations, certificates and signers in
/// service: on SIGHUP (`Running::reload`) and when the watcher sees the
/// files change.
pub(super) struct Reloader {
    shared: Arc<Shared>,
    /// New domains get ACME certificates at a reload.
    acme: Option<Arc<crate::acme::Acme>>,
    /// Held by a configuration reload from reading the files to the swap:
    /// a SIGHUP and the watcher at the same moment must not store an older
    /// generation after a newer one, which would then stay in service while
    /// the files say otherwise.
    one_config_at_a_time: Mutex<()>,
    /// Held while certificate or signing files are read and put in
    /// service (by any reload): short, so a configuration reload waiting
    /// for idle time does not hold up a renewed certificate; and whoever
    /// holds it last read the newest files.
    one_at_a_time: Mutex<()>,
}

impl Reloader {
    pub(super) fn new(shared: Arc<Shared>, acme: Option<Arc<crate::acme::Acme>>) -> Reloader {
        Reloader {
            shared,
            acme,
            one_config_at_a_time: Mutex::new(()),
            one_at_a_time: Mutex::new(()),
        }
    }

    /// `Running::reload`; `parsed` sees the new configuration before the
    /// files it names are read (the watcher fingerprints them then).
    pub(super) fn reload(
        &self,
        path: Option<&Path>,
        parsed: impl FnOnce(&Config) + Send,
    ) -> Result<(), ReloadError> {
        let one_config = self
            .one_config_at_a_time
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.reload_holding(one_config, path, parsed)
    }

    /// `reload`, unless a configuration reload is running already (`None`):
    /// the watcher then looks again later instead of waiting, and goes on
    /// picking up certificates meanwhile.
    fn try_reload(
        &self,
        path: Option<&Path>,
        parsed: impl FnOnce(&Config) + Send,
    ) -> Option<Result<(), ReloadError>> {
        let one_config = match self.one_config_at_a_time.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(self.reload_holding(one_config, path, parsed))
    }

    fn reload_holding(
        &self,
        _one_config: std::sync::MutexGuard<'_, ()>,
        path: Option<&Path>,
        parsed: impl FnOnce(&Config) + Send,
    ) -> Result<(), ReloadError> {
        // The long part, at low priority: the configuration, its profiles
        // and its domain table (kept as they are when their files are).
        let previous = self.shared.app.load_full();
        let config = at_low_priority(|| {
            Config::load_reusing(path, Some(&previous.config)).inspect(|config| parsed(config))
        });
        drop(previous);
        // The certificate and signing files are read with the swap, so a
        // certificate picked up meanwhile is not replaced by older files.
        let _one_at_a_time = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.shared.app.load();
        let services = current.services.clone();
        let loaded = config.map_err(LoadError::from).and_then(load_files_of);
        let Loaded {
            config,
            certificates,
            signer,
        } = match loaded {
            Ok(loaded) => loaded,
            Err(error) => {
                services.metrics.record_reload(false);
                return Err(error.into());
            }
        };
        if config.http_listeners != current.config.http_listeners
            || config.https_listeners != current.config.https_listeners
            || config.admin_listeners != current.config.admin_listeners
        {
            tracing::warn!("listener changes take effect at the next restart");
        }
        if config.limits != current.config.limits {
            tracing::warn!(
                "[limits] changes take effect at the next restart; the running server keeps \
                 its limits"
            );
        }
        if let (Some(resolver), Some(certificates)) = (&services.certificates, certificates) {
            for entry in resolver.replace_files(certificates) {
                tracing::warn!(
                    entry = %entry.display(),
                    "certificates_dir entry keeps its previous certificate until its files load"
                );
            }
        }
        // New domains get certificates; [acme] settings themselves change
        // only with a restart.
        if let Some(acme) = &self.acme {
            acme.add_domains(acme_domains(&config));
        }
        self.shared.app.store(Arc::new(
            App::with_services(config, services.clone()).with_profile_signer(signer),
        ));
        services.metrics.record_reload(true);
        Ok(())
    }

    /// Re-reads the certificate files of the configuration in service,
    /// and nothing else: with `[server] watch` off, a configuration file
    /// edited on disk must not slip in with a renewed certificate. A bad
    /// default certificate is refused whole; a bad directory entry keeps
    /// its previous certificate.
    fn reload_certificates(&self) -> Result<CertificateReload, TlsError> {
        let _one_at_a_time = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let app = self.shared.app.load();
        let Some(resolver) = &app.services.certificates else {
            return Ok(CertificateReload::default());
        };
        let set = CertificateSet::load_quietly(&app.config.tls)?;
        let skipped = !set.skipped.is_empty();
        let retry_unchanged = set
            .skipped
            .iter()
            .any(|skipped| skipped.error.may_pass_with_time());
        let mut problems: Vec<String> = set
            .skipped
            .iter()
            .map(|skipped| {
                format!(
                    "certificates_dir entry {} not loaded: {}",
                    skipped.path.display(),
                    skipped.error
                )
            })
            .collect();
        problems.extend(
            set.world_readable_keys
                .iter()
                .map(|key| format!("{}: {}", key.display(), tls::WORLD_READABLE_ADVICE)),
        );
        let before = resolver.certificates();
        // An entry that did not load keeps its previous certificate, if it
        // had one; `problems` names it either way.
        resolver.replace_files(set);
        let added = resolver
            .certificates()
            .iter()
            .filter(|new| {
                !before
                    .iter()
                    .any(|old| old.fingerprint_sha256 == new.fingerprint_sha256)
            })
            .cloned()
            .collect();
        Ok(CertificateReload {
            added,
            skipped,
            problems,
            retry_unchanged,
        })
    }

    /// Counts a certificate reload in /metrics.
    fn record_certificate_reload(&self, outcome: CertificateOutcome) {
        self.shared
            .app
            .load()
            .services
            .metrics
            .record_certificate_reload(outcome);
    }

    /// Re-reads the Apple profile signer of the configuration in service
    /// (its files changed) and serves with it; the configuration itself
    /// is the same generation's.
    fn reload_signer(&self) -> Result<(), SigningError> {
        let _one_at_a_time = self.one_at_a_time.lock().unwrap_or_else(|e| e.into_inner());
        let app = self.shared.app.load_full();
        let signer = ProfileSigner::load(&app.config.apple_signing)?;
        self.shared.app.store(Arc::new(
            App::with_services(app.config.clone(), app.services.clone())
                .with_profile_signer(signer),
        ));
        Ok(())
    }
}

/// How much lower than the workers a configuration is loaded: nice 10
/// gives the loading thread about a tenth of the CPU share of a worker
/// when they compete for a core, so requests come first, yet a reload on
/// a server whose cores are all busy still ends in seconds, not minutes
/// (BENCHMARKS.md, "Reloads at low priority"; `SCHED_IDLE` was measured
/// and left: it can starve a reload indefinitely, for no p99 gain this
/// machine could show).
const LOAD_NICE: i32 = 10;

/// Runs `work` (reading and checking a configuration: about a second of
/// one core for a million domains) on a thread of its own at nice
/// `LOAD_NICE`, and waits for it. A thread of its own, because an
/// unprivileged thread cannot raise its priority again. If no thread can
/// be started, `work` runs here at normal priority.
fn at_low_priority<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let work = Mutex::new(Some(work));
    let take = || {
        work.lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the work runs once")
    };
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            // 15 bytes at most: Linux truncates a thread's name there.
            .name("config-reload".into())
            .spawn_scoped(scope, || {
                let _ = lower_own_priority();
                take()()
            });
        match spawned {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(error) => {
                tracing::warn!(%error, "no thread for the reload; it runs at normal priority");
                take()()
            }
        }
    })
}

/// Lowers the calling thread's priority to nice `LOAD_NICE` (on Linux the
/// nice value is the thread's, and `who = 0` is the calling thread), and
/// says whether it did. Where that is refused (a sandbox's seccomp
/// policy), the thread keeps its priority, which is only less kind to
/// requests.
#[allow(unsafe_code)]
fn lower_own_priority() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain system call on the calling thread, no pointers.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, LOAD_NICE) } == 0 {
            return true;
        }
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "the reload thread keeps its priority"
        );
    }
    false
}

/// What a certificate reload put in service.
#[derive(Default)]
struct CertificateReload {
    /// Certificates in service now that were not before.
    added: Vec<tls::CertificateInfo>,
    /// Some directory entry did not load (whether or not it had a
    /// certificate in service before).
    skipped: bool,
    /// What is wrong with the files, one line each.
    problems: Vec<String>,
    /// A file may load later as it is (a certificate not valid yet).
    retry_unchanged: bool,
}

/// The watcher's state between looks: the configuration file (looked at
/// only with `[server] watch = true`), the certificate files and the
/// Apple signing files, each compared with what is in service.
///
/// Files that failed to load are tried again when they change, not at
/// every look: unchanged bytes and metadata load the same way again (a
/// certificate not valid yet aside, which is tried at every look), and a
/// large domain table or many certificates are not re-read every few
/// seconds for nothing.
pub(super) struct FileWatcher {
    /// The file `reload` re-reads; `None` for the embedded default.
    config_path: Option<PathBuf>,
    config: Watched,
    /// The certificate and signing files a refused configuration named,
    /// as they were: the configuration is tried again when they change
    /// (its certificate was caught half-written), not only when it does.
    config_refused_with: Option<(Vec<PathBuf>, Fingerprint)>,
    certificates: Watched,
    signing: Watched,
}

impl FileWatcher {
    /// The files of `config`, which is about to be loaded.
    pub(super) fn new(config: &Config) -> FileWatcher {
        // The embedded default has a description, not a path, as origin.
        let config_path = config.origin.is_file().then(|| config.origin.clone());
        FileWatcher {
            // As the file was when it was read, not as it is now: an edit
            // made while it loaded is then a change at the first look.
            config: Watched::new(
                config
                    .read_as
                    .clone()
                    .unwrap_or_else(|| config_fingerprint(config_path.as_deref())),
            ),
            certificates: Watched::new(certificates_fingerprint(config)),
            signing: Watched::new(signing_fingerprint(config)),
            config_refused_with: None,
            config_path,
        }
    }

    /// One look at every watched file; loads and swaps in what changed.
    /// Runs on a blocking thread: it reads files.
    fn look(&mut self, reloader: &Reloader) {
        let app = reloader.shared.app.load_full();
        if app.config.watch && self.look_at_config(reloader) {
            // The reload re-read the certificates and the signer too.
            return;
        }
        self.look_at_certificates(reloader, &app.config);
        self.look_at_signing(reloader, &app.config);
    }

    /// Reloads a changed configuration file as SIGHUP does; true when the
    /// reload went through.
    fn look_at_config(&mut self, reloader: &Reloader) -> bool {
        let Some(path) = self.config_path.clone() else {
            return false;
        };
        let now = config_fingerprint(Some(&path));
        // The configuration in service was read from the file as it is
        // now (a SIGHUP reload did it): nothing to reload.
        if reloader.shared.app.load().config.read_as.as_ref() == Some(&now) {
            self.config.applied(now);
            self.config_refused_with = None;
            return false;
        }
        match self.config.look(&now) {
            Look::Unchanged => return false,
            Look::FailedAlready => match &self.config_refused_with {
                Some((files, then)) if Fingerprint::of(files, true) != *then => {}
                _ => return false,
            },
            Look::Changed => {}
        }
        let mut certificates = None;
        let mut signing = None;
        let mut named = None;
        let reloaded = reloader.try_reload(Some(&path), |config| {
            certificates = Some(certificates_fingerprint(config));
            signing = Some(signing_fingerprint(config));
            let files = named_files(config);
            named = Some((files.clone(), Fingerprint::of(&files, true)));
        });
        // A reload (SIGHUP's) is running: look again next time, when it
        // will have read the file as it is now or the change is still there.
        let Some(reloaded) = reloaded else {
            return false;
        };
        match reloaded {
            Ok(()) => {
                tracing::info!(
                    config = %path.display(),
                    "configuration file changed; reloaded"
                );
                self.config.applied(now);
                self.config_refused_with = None;
                match certificates {
                    Some(fingerprint) => self.certificates.applied(fingerprint),
                    None => self.certificates.forget(),
                }
                match signing {
                    Some(fingerprint) => self.signing.applied(fingerprint),
                    None => self.signing.forget(),
                }
                true
            }
            Err(error) => {
                // Said at every try: each one follows an edit (or a
                // change of the files it names) that the operator awaits
                // an answer to.
                tracing::error!(
                    %error,
                    "changed configuration refused; the running configuration stays"
                );
                self.config.failed(now, false);
                self.config_refused_with = named;
                false
            }
        }
    }

    fn look_at_certificates(&mut self, reloader: &Reloader, config: &Config) {
        let now = certificates_fingerprint(config);
        if self.certificates.look(&now) != Look::Changed {
            return;
        }
        match reloader.reload_certificates() {
            Ok(reload) => {
                for certificate in &reload.added {
                    tracing::info!(
                        names = %certificate.names.join(","),
                        fingerprint_sha256 = %certificate.fingerprint_sha256,
                        days_to_expiry = certificate.days_to_expiry() as i64,
                        path = certificate.path.as_ref().map(|p| p.display().to_string()),
                        "certificate files changed; new connections get this certificate"
                    );
                }
                let news = self.certificates.news(reload.problems);
                for problem in &news {
                    tracing::warn!(
                        problem,
                        "certificate files changed but do not all load; what loads is served, \
                         an entry in service keeps its certificate, and the files are tried \
                         again when they change"
                    );
                }
                // Counted like it is logged: once, not at every retry.
                if !reload.skipped {
                    reloader.record_certificate_reload(CertificateOutcome::Success);
                } else if !news.is_empty() {
                    reloader.record_certificate_reload(CertificateOutcome::Partial);
                }
                // Any entry that did not load is tried again: when its files
                // change, or at every look if time may make it load (a
                // certificate not valid yet), whether or not it had a
                // certificate in service before.
                if reload.skipped {
                    self.certificates.failed(now, reload.retry_unchanged);
                } else {
                    self.certificates.applied(now);
                }
            }
            Err(error) => {
                for _ in self.certificates.news(vec![error.to_string()]) {
                    tracing::warn!(
                        %error,
                        "changed certificate files refused; the certificates in service stay, \
                         and the files are tried again when they change"
                    );
                    reloader.record_certificate_reload(CertificateOutcome::Failure);
                }
                self.certificates.failed(now, error.may_pass_with_time());
            }
        }
    }

    fn look_at_signing(&mut self, reloader: &Reloader, config: &Config) {
        let now = signing_fingerprint(config);
        if self.signing.look(&now) != Look::Changed {
            return;
        }
        match reloader.reload_signer() {
            Ok(()) => {
                tracing::info!("Apple profile signing files changed; profiles are signed anew");
                self.signing.news(Vec::new());
                self.signing.applied(now);
            }
            Err(error) => {
                for _ in self.signing.news(vec![error.to_string()]) {
                    tracing::warn!(
                        %error,
                        "changed Apple signing files refused; the signer in service stays, and \
                         the files are tried again when they change"
                    );
                }
                self.signing.failed(now, false);
            }
        }
    }
}

/// The configuration file, by its metadata only (a domain table can be
/// large). A kubelet ConfigMap update swaps `..data` for every key at
/// once, which moves this file too.
fn config_fingerprint(path: Option<&Path>) -> Fingerprint {
    let paths: Vec<PathBuf> = path.map(Path::to_owned).into_iter().collect();
    Fingerprint::of(&paths, false)
}

/// Every certificate and key file `config` names, for HTTPS and for
/// signing.
fn named_files(config: &Config) -> Vec<PathBuf> {
    let mut files = tls::source_files(&config.tls);
    if let SigningSource::Files {
        certificate,
        private_key,
    } = &config.apple_signing
    {
        files.push(certificate.clone());
        files.push(private_key.clone());
    }
    files
}

/// The HTTPS certificate files `config` names, contents included.
fn certificates_fingerprint(config: &Config) -> Fingerprint {
    let files = if config.https_listeners.is_empty() {
        Vec::new()
    } else {
        tls::source_files(&config.tls)
    };
    Fingerprint::of(&files, true)
}

/// The Apple signing files `config` names, contents included.
fn signing_fingerprint(config: &Config) -> Fingerprint {
    let files = match &config.apple_signing {
        SigningSource::Off => Vec::new(),
        SigningSource::Files {
            certificate,
            private_key,
        } => vec![certificate.clone(), private_key.clone()],
    };
    Fingerprint::of(&files, true)
}

/// Looks at the watched files every `interval` until shutdown.
pub(super) async fn watch_files(
    mut watcher: FileWatcher,
    reloader: Arc<Reloader>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
        let reloader = reloader.clone();
        let looked = tokio::task::spawn_blocking(move || {
            watcher.look(&reloader);
            watcher
        });
        watcher = match looked.await {
            Ok(watcher) => watcher,
            Err(error) => {
                tracing::error!(%error, "the file watcher stopped; SIGHUP still reloads");
                return;
            }
        };
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{LOAD_NICE, at_low_priority};

    /// The calling thread's nice value (proc(5): field 19 of `stat`,
    /// counted after the parenthesised command name).
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 1..];
        after_name
            .split_whitespace()
            .nth(16)
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn loading_runs_at_low_priority_and_the_caller_keeps_its_own() {
        // Where the system refuses to lower it (a seccomp policy), the
        // reload runs at normal priority by design: skip, except on CI.
        if !std::thread::spawn(super::lower_own_priority)
            .join()
            .unwrap()
        {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "CI must allow lowering a thread's priority"
            );
            println!("skipped: this system refuses setpriority");
            return;
        }
        let before = own_nice();
        let (inside, name) = at_low_priority(|| {
            let name = std::thread::current().name().map(str::to_owned);
            (own_nice(), name)
        });
        assert_eq!(inside, LOAD_NICE);
        assert_eq!(name.as_deref(), Some("config-reload"));
        assert_eq!(own_nice(), before);
    }

    #[test]
    fn a_panic_while_loading_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| at_low_priority(|| panic!("bad table")));
        assert!(caught.is_err());
    }
}
