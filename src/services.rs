//! Process-wide state that outlives a configuration reload: the counters,
//! the certificates in service, the pending ACME http-01 challenges, the
//! bound HTTPS port and whether the process is ready for traffic. The
//! server creates it, ACME writes challenges into it, the router reads it;
//! it knows nothing of either.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use crate::date::Clock;
use crate::metrics::Metrics;
use crate::tls::CertResolver;

/// State shared by every configuration generation: counters, the
/// certificates in service, pending ACME challenges.
#[derive(Debug, Default)]
pub struct Services {
    pub metrics: Metrics,
    /// Present when the server has HTTPS listeners.
    pub certificates: Option<Arc<CertResolver>>,
    pub challenges: ChallengeStore,
    /// The bound port of the first HTTPS listener, for redirects.
    pub https_port: Option<u16>,
    /// Where "today" comes from for every dated answer (`--today`).
    pub clock: Clock,
    /// What `/healthz` says: set by the server once everything is loaded
    /// and again when it starts shutting down.
    pub readiness: Readiness,
}

/// Whether a load balancer should send this process new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessState {
    /// Configuration and certificates are still being loaded.
    Starting,
    Ready,
    /// SIGTERM came: requests are still answered, but new clients belong
    /// on another replica.
    ShuttingDown,
}

/// The readiness of the process, shared by every connection.
#[derive(Debug, Default)]
pub struct Readiness(AtomicU8);

impl Readiness {
    pub fn get(&self) -> ReadinessState {
        match self.0.load(Ordering::Acquire) {
            0 => ReadinessState::Starting,
            1 => ReadinessState::Ready,
            _ => ReadinessState::ShuttingDown,
        }
    }

    pub fn set(&self, state: ReadinessState) {
        let value = match state {
            ReadinessState::Starting => 0,
            ReadinessState::Ready => 1,
            ReadinessState::ShuttingDown => 2,
        };
        self.0.store(value, Ordering::Release);
    }
}

/// The http-01 key authorizations being offered right now, by token. The
/// router answers `GET /.well-known/acme-challenge/<token>` from it.
///
/// With ACME on, every token is also a file `<state_dir>/challenges/<token>`
/// (see `share_through`): replicas behind one load balancer share the state
/// directory, and the CA's validation request may reach any of them, so each
/// answers the tokens of the others from there.
#[derive(Debug, Default)]
pub struct ChallengeStore {
    /// This process's own tokens: answered without touching the disk.
    tokens: RwLock<HashMap<String, String>>,
    /// `<state_dir>/challenges`, set once when ACME starts; `None` without
    /// ACME, when no token can be pending anywhere.
    shared_dir: OnceLock<PathBuf>,
}

/// Longest token read from the shared directory. RFC 8555 §8.3 asks for
/// at least 128 bits (22 base64url characters); Let's Encrypt and Pebble
/// send 43. Anything much longer is not a token a CA sent.
const MAX_TOKEN_LEN: usize = 128;

/// Longest key authorization read back: the token, a dot and the account
/// key's base64url SHA-256 thumbprint (43 characters).
const MAX_KEY_AUTHORIZATION_LEN: usize = MAX_TOKEN_LEN + 1 + 64;

/// RFC 8555 §8.1, §8.3: tokens and thumbprints are base64url without
/// padding. Checked before a token becomes part of a path, so `..`, `/`,
/// `%2f`, a leading dot (our temporary files) and NUL never reach the
/// filesystem.
fn is_base64url(text: &str, max_len: usize) -> bool {
    (1..=max_len).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ChallengeStore {
    /// Publishes and looks tokens up in `dir` as well (created on the
    /// first publish). Set once: the state directory is not reloadable.
    pub fn share_through(&self, dir: PathBuf) {
        let _ = self.shared_dir.set(dir);
    }

    /// Offers `key_authorization` for `token`: in memory, and in the shared
    /// directory (atomically, so a replica never reads half of it) when
    /// there is one. Refuses a token that is not base64url. Errors carry
    /// no path: the caller knows the directory it configured.
    pub fn publish(&self, token: &str, key_authorization: &str) -> std::io::Result<()> {
        if !is_base64url(token, MAX_TOKEN_LEN) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the CA sent an http-01 token that is not base64url: {token:?}"),
            ));
        }
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), key_authorization.to_owned());
        match self.shared_dir.get() {
            Some(dir) => write_challenge_file(dir, token, key_authorization),
            None => Ok(()),
        }
    }

    /// Stops offering `token`, here and in the shared directory.
    pub fn withdraw(&self, token: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
        if let Some(dir) = self.shared_dir.get()
            && is_base64url(token, MAX_TOKEN_LEN)
        {
            let path = dir.join(token);
            if let Err(error) = std::fs::remove_file(&path)
                && error.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), %error, "cannot remove a finished http-01 challenge");
            }
        }
    }

    /// Removes files in the shared directory older than `age`: what a
    /// replica that died during an order left behind (an order ends within
    /// minutes, so nothing that old is still pending).
    pub fn sweep_older_than(&self, age: std::time::Duration) {
        let Some(dir) = self.shared_dir.get() else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let now = std::time::SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| now.duration_since(modified).is_ok_and(|d| d > age));
            if stale && entry.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The key authorization for `token`: this process's own, else one a
    /// replica published in the shared directory. `None` for anything that
    /// is not a base64url token, without touching the filesystem.
    pub fn get(&self, token: &str) -> Option<String> {
        if let Some(own) = self
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
        {
            return Some(own.clone());
        }
        let dir = self.shared_dir.get()?;
        if !is_base64url(token, MAX_TOKEN_LEN) {
            return None;
        }
        // A blocking read on the request path: one small file, and only
        // for a well-formed token this replica does not hold, on plain
        // HTTP's share of the connection slots.
        read_challenge_file(dir, token)
    }
}

/// `dir/<token>` through a temporary file and a rename.
fn write_challenge_file(dir: &Path, token: &str, key_authorization: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // A leading dot: never a valid token, so never served half-written.
    let temporary = dir.join(format!(".{token}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(key_authorization.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, dir.join(token))
}

/// Reads `dir/<token>` (at most `MAX_KEY_AUTHORIZATION_LEN` bytes) and
/// answers it only when it is a key authorization for that very token, so
/// nothing else placed there is ever served.
fn read_challenge_file(dir: &Path, token: &str) -> Option<String> {
    let path = dir.join(token);
    let file = std::fs::File::open(&path).ok()?;
    let mut text = String::new();
    file.take(MAX_KEY_AUTHORIZATION_LEN as u64 + 1)
        .read_to_string(&mut text)
        .ok()?;
    let thumbprint = text.strip_prefix(token)?.strip_prefix('.')?;
    if !is_base64url(thumbprint, MAX_KEY_AUTHORIZATION_LEN - MAX_TOKEN_LEN - 1) {
        tracing::warn!(path = %path.display(), "not an http-01 key authorization; not served");
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    const THUMBPRINT: &str = "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

    fn key_authorization(token: &str) -> String {
        format!("{token}.{THUMBPRINT}")
    }

    #[test]
    fn challenge_store_answers_until_withdrawn() {
        let store = ChallengeStore::default();
        store.publish(TOKEN, &key_authorization(TOKEN)).unwrap();
        assert_eq!(store.get(TOKEN), Some(key_authorization(TOKEN)));
        store.withdraw(TOKEN);
        assert_eq!(store.get(TOKEN), None);
    }

    #[test]
    fn a_token_published_by_one_replica_is_answered_by_another() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("challenges");
        let (publisher, other) = (ChallengeStore::default(), ChallengeStore::default());
        publisher.share_through(dir.clone());
        other.share_through(dir.clone());
        publisher.publish(TOKEN, &key_authorization(TOKEN)).unwrap();
        assert_eq!(other.get(TOKEN), Some(key_authorization(TOKEN)));
        // Only the file: no temporary left beside it.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [TOKEN]);
        publisher.withdraw(TOKEN);
        assert_eq!(other.get(TOKEN), None);
        assert!(!dir.join(TOKEN).exists());
    }

    #[test]
    fn tokens_outside_base64url_never_reach_the_filesystem() {
        // state/secret and state/challenges/.hidden exist, each holding a
        // key authorization for the name that reaches it; no token may.
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("challenges");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(state.path().join("secret"), key_authorization("../secret")).unwrap();
        std::fs::write(dir.join(".hidden"), key_authorization(".hidden")).unwrap();
        let store = ChallengeStore::default();
        store.share_through(dir.clone());
        for token in [
            "../secret",
            "..%2fsecret",
            "..",
            ".",
            "",
            ".hidden",
            "a/../../secret",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "tok=",
            "tök",
            &"a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(store.get(token), None, "{token:?}");
            assert!(store.publish(token, "x").is_err(), "{token:?}");
        }
        // Nothing was written either.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_shared_file_is_served_only_as_the_key_authorization_of_its_token() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("challenges");
        std::fs::create_dir_all(&dir).unwrap();
        let store = ChallengeStore::default();
        store.share_through(dir.clone());
        // Another token's key authorization, arbitrary text, an oversized
        // file: none is answered.
        std::fs::write(dir.join("aaaa"), key_authorization("bbbb")).unwrap();
        std::fs::write(dir.join("cccc"), "cccc.not a thumbprint").unwrap();
        let long = format!("dddd.{}", "e".repeat(MAX_KEY_AUTHORIZATION_LEN));
        std::fs::write(dir.join("dddd"), long).unwrap();
        for token in ["aaaa", "cccc", "dddd", "missing"] {
            assert_eq!(store.get(token), None, "{token}");
        }
        std::fs::write(dir.join("ffff"), key_authorization("ffff")).unwrap();
        assert_eq!(store.get("ffff"), Some(key_authorization("ffff")));
    }

    #[test]
    fn challenge_files_a_dead_replica_left_are_swept_after_a_day() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("challenges");
        let store = ChallengeStore::default();
        store.share_through(dir.clone());
        store.publish("left", &key_authorization("left")).unwrap();
        store.publish("fresh", &key_authorization("fresh")).unwrap();
        let two_days_ago =
            std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(dir.join("left"))
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        store.sweep_older_than(std::time::Duration::from_secs(86_400));
        assert!(!dir.join("left").exists());
        assert!(dir.join("fresh").exists());
    }

    #[test]
    fn without_acme_nothing_is_read_from_disk() {
        // A replica with ACME publishes into a shared directory...
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join("challenges");
        let publisher = ChallengeStore::default();
        publisher.share_through(dir);
        publisher.publish(TOKEN, &key_authorization(TOKEN)).unwrap();
        // ...which a store never pointed at it does not read.
        let store = ChallengeStore::default();
        assert_eq!(store.get(TOKEN), None);
        assert_eq!(publisher.get(TOKEN), Some(key_authorization(TOKEN)));
    }

    #[test]
    fn readiness_starts_unready_and_keeps_what_was_set() {
        let readiness = Readiness::default();
        assert_eq!(readiness.get(), ReadinessState::Starting);
        readiness.set(ReadinessState::Ready);
        assert_eq!(readiness.get(), ReadinessState::Ready);
        readiness.set(ReadinessState::ShuttingDown);
        assert_eq!(readiness.get(), ReadinessState::ShuttingDown);
    }
}
