//! Microsoft 365 detection by MX: a domain outside the table whose most
//! preferred mail exchanger is under `mail.protection.outlook.com` is a
//! Microsoft 365 domain. Verdicts are cached for the record's TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};

use super::{ResolveError, Site, SiteSource};
use crate::config::DnsSettings;
use crate::dns::resolver::{LookupFailure, build_resolver, lookup};
use crate::email::DomainName;
use crate::profile::Profile;

/// Microsoft 365 (Exchange Online Protection) mail exchangers are
/// `<tenant>.mail.protection.outlook.com`.
const MICROSOFT365_MX_SUFFIX: &str = "mail.protection.outlook.com";

/// The longest a positive MX verdict is kept, whatever the record's TTL.
const MAX_MX_CACHE_TTL: Duration = Duration::from_secs(86_400);

/// What a domain's MX records say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MxVerdict {
    /// The most preferred exchanger is under `mail.protection.outlook.com`.
    Microsoft365 { exchange: String },
    /// The most preferred exchangers are elsewhere (or the null MX `.`).
    Other { exchanges: Vec<String> },
    /// No MX records (or no such domain).
    NoMx,
}

/// Classifies MX records `(preference, exchange)`: only the most preferred
/// exchangers count, since mail (and so the mailbox) goes there; a backup
/// MX at Microsoft does not make the domain a Microsoft 365 one.
pub fn classify_mx(records: &[(u16, String)]) -> MxVerdict {
    let Some(best) = records.iter().map(|(p, _)| *p).min() else {
        return MxVerdict::NoMx;
    };
    let mut exchanges: Vec<String> = records
        .iter()
        .filter(|(p, _)| *p == best)
        .map(|(_, e)| e.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    exchanges.sort();
    exchanges.dedup();
    if let Some(exchange) = exchanges.iter().find(|e| {
        e.strip_suffix(MICROSOFT365_MX_SUFFIX)
            .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1)
    }) {
        return MxVerdict::Microsoft365 {
            exchange: exchange.clone(),
        };
    }
    MxVerdict::Other { exchanges }
}

type MxOutcome = Result<(MxVerdict, Instant), LookupFailure>;

/// Looks up MX records for domains outside the table and remembers the
/// verdicts: for the record's TTL, "no MX" for at most `negative_ttl`;
/// failures are not remembered. At most `cache_size` domains are kept.
/// (Concurrent lookups of one name are merged by hickory's name server
/// pool, so a burst of requests for a new domain is one query.)
pub struct MxDetector {
    /// `Err` when the resolver could not be set up: every lookup fails with
    /// that reason, so no request gets a guessed profile.
    resolver: Result<TokioResolver, String>,
    microsoft365: Arc<Profile>,
    timeout: Duration,
    negative_ttl: Duration,
    cache_size: usize,
    /// Answers (the site, or why there is none) and when they expire.
    cache: Mutex<HashMap<DomainName, (MxAnswer, Instant)>>,
}

/// What a verdict means for a request: the site, or why there is none.
type MxAnswer = Result<Arc<Site>, ResolveError>;

impl std::fmt::Debug for MxDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxDetector")
            .field("timeout", &self.timeout)
            .field("cache_size", &self.cache_size)
            .finish_non_exhaustive()
    }
}

impl MxDetector {
    /// `None` when detection is off.
    pub fn new(settings: &DnsSettings, microsoft365: Option<&Arc<Profile>>) -> Option<MxDetector> {
        if !settings.detect_microsoft365_by_mx {
            return None;
        }
        let microsoft365 = microsoft365?.clone();
        // Our own cache keeps the verdicts; hickory's would keep answers a
        // second time with its own idea of negative TTLs.
        let resolver = build_resolver(settings.resolver, settings.mx_timeout, 1, 0);
        if let Err(reason) = &resolver {
            tracing::error!(%reason, "MX detection cannot work: every unknown domain gets 503");
        }
        Some(MxDetector {
            resolver,
            microsoft365,
            timeout: settings.mx_timeout,
            negative_ttl: settings.negative_ttl,
            cache_size: settings.cache_size,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The site for a domain that is not in the table, from the cache or
    /// one lookup. A Microsoft 365 site is made once per verdict and shared
    /// by every request until the verdict expires.
    pub async fn resolve(&self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        if let Some(answer) = self.cached(domain) {
            return answer;
        }
        let (verdict, expires) = match self.lookup_verdict(domain).await {
            Ok(found) => found,
            // Failures are not remembered: the next request asks again.
            Err(failure) => {
                return Err(ResolveError::ResolverFailed {
                    domain: domain.clone(),
                    reason: failure.0,
                });
            }
        };
        let answer = self.answer(domain, verdict);
        self.remember(domain, &answer, expires);
        answer
    }

    fn answer(&self, domain: &DomainName, verdict: MxVerdict) -> MxAnswer {
        match verdict {
            MxVerdict::Microsoft365 { .. } => Ok(Arc::new(Site::new(
                domain.clone(),
                self.microsoft365.clone(),
                None,
                None,
                SiteSource::Mx,
            ))),
            MxVerdict::Other { exchanges } => Err(ResolveError::NotMicrosoft365 {
                domain: domain.clone(),
                exchanges: exchanges
                    .iter()
                    .map(|e| if e.is_empty() { "." } else { e.as_str() })
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            MxVerdict::NoMx => Err(ResolveError::NoMx(domain.clone())),
        }
    }

    fn cached(&self, domain: &DomainName) -> Option<MxAnswer> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        match cache.get(domain) {
            Some((answer, expires)) if *expires > Instant::now() => Some(answer.clone()),
            Some(_) => {
                cache.remove(domain);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer until `expires`; when the cache is full, expired
    /// answers go first, then the one closest to expiring.
    fn remember(&self, domain: &DomainName, answer: &MxAnswer, expires: Instant) {
        let now = Instant::now();
        if expires <= now {
            return; // TTL 0: the owner asked not to be cached.
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if !cache.contains_key(domain) && cache.len() >= self.cache_size {
            cache.retain(|_, (_, expires)| *expires > now);
            if cache.len() >= self.cache_size
                && let Some(victim) = cache
                    .iter()
                    .min_by_key(|(_, (_, expires))| *expires)
                    .map(|(d, _)| d.clone())
            {
                cache.remove(&victim);
            }
        }
        cache.insert(domain.clone(), (answer.clone(), expires));
    }

    async fn lookup_verdict(&self, domain: &DomainName) -> MxOutcome {
        let resolver = self
            .resolver
            .as_ref()
            .map_err(|e| LookupFailure(e.clone()))?;
        let answer = lookup(resolver, domain.as_str(), RecordType::MX, self.timeout).await?;
        let now = Instant::now();
        let mx: Vec<(u16, String, u32)> = answer
            .records
            .iter()
            .filter_map(|(data, ttl)| match data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii(), *ttl)),
                _ => None,
            })
            .collect();
        let verdict = classify_mx(
            &mx.iter()
                .map(|(p, e, _)| (*p, e.clone()))
                .collect::<Vec<_>>(),
        );
        let ttl = match verdict {
            MxVerdict::NoMx => {
                let soa = answer
                    .negative_ttl
                    .map_or(self.negative_ttl, |t| Duration::from_secs(u64::from(t)));
                soa.min(self.negative_ttl)
            }
            _ => {
                let ttl = mx.iter().map(|(_, _, t)| *t).min().unwrap_or(0);
                Duration::from_secs(u64::from(ttl)).min(MAX_MX_CACHE_TTL)
            }
        };
        tracing::debug!(domain = %domain, ?verdict, ttl_secs = ttl.as_secs(), "MX lookup");
        Ok((verdict, now + ttl))
    }
}

#[cfg(test)]
#[cfg(test)]
mod tests {
    use super::*;

    fn mx(records: &[(u16, &str)]) -> MxVerdict {
        classify_mx(
            &records
                .iter()
                .map(|(p, e)| (*p, (*e).to_owned()))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn mx_under_mail_protection_outlook_com_is_microsoft365() {
        assert_eq!(
            mx(&[(0, "contoso-com.mail.protection.outlook.com.")]),
            MxVerdict::Microsoft365 {
                exchange: "contoso-com.mail.protection.outlook.com".into()
            }
        );
    }

    #[test]
    fn look_alike_and_backup_mx_are_not_microsoft365() {
        for records in [
            vec![(10, "evilmail.protection.outlook.com.")],
            vec![(10, "mail.protection.outlook.com.evil.example.")],
            vec![(10, "mail.protection.outlook.com.")],
            vec![
                (10, "mx.example.net."),
                (20, "contoso-com.mail.protection.outlook.com."),
            ],
        ] {
            assert!(
                matches!(mx(&records), MxVerdict::Other { .. }),
                "{records:?}"
            );
        }
        assert_eq!(mx(&[]), MxVerdict::NoMx);
    }
}
