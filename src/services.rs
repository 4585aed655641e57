//! Process-wide state that outlives a configuration reload: the counters,
//! the certificates in service, the pending ACME http-01 challenges, the
//! bound HTTPS port and whether the process is ready for traffic. The server creates it, ACME writes challenges into it,
//! the router reads it; it knows nothing of either.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

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
#[derive(Debug, Default)]
pub struct ChallengeStore {
    tokens: RwLock<HashMap<String, String>>,
}

impl ChallengeStore {
    pub fn insert(&self, token: String, key_authorization: String) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token, key_authorization);
    }

    pub fn remove(&self, token: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token);
    }

    pub fn get(&self, token: &str) -> Option<String> {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_store_answers_until_removed() {
        let store = ChallengeStore::default();
        store.insert("t".into(), "t.thumb".into());
        assert_eq!(store.get("t").as_deref(), Some("t.thumb"));
        store.remove("t");
        assert_eq!(store.get("t"), None);
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
