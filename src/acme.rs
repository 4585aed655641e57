//! ACME (RFC 8555) certificate issuance and renewal. For now: the store of
//! pending http-01 challenges, answered by the router.

use std::collections::HashMap;
use std::sync::RwLock;

/// Key authorizations of pending http-01 challenges, by token
/// (RFC 8555 §8.3): the router answers
/// `GET /.well-known/acme-challenge/<token>` from here.
#[derive(Debug, Default)]
pub struct ChallengeStore {
    pending: RwLock<HashMap<String, String>>,
}

impl ChallengeStore {
    pub fn insert(&self, token: String, key_authorization: String) {
        if let Ok(mut pending) = self.pending.write() {
            pending.insert(token, key_authorization);
        }
    }

    pub fn remove(&self, token: &str) {
        if let Ok(mut pending) = self.pending.write() {
            pending.remove(token);
        }
    }

    pub fn get(&self, token: &str) -> Option<String> {
        self.pending.read().ok()?.get(token).cloned()
    }
}
