//! Microsoft 365 detection by MX: a domain outside the table whose most
//! preferred mail exchanger is under `mail.protection.outlook.com` is a
//! Microsoft 365 domain. Verdicts are cached for the record's TTL; lookups
//! for names not in the cache are bounded per client, overall and in
//! flight, so a flood of random names cannot be relayed to other people's
//! name servers through ours.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
/// pool, so a burst of requests for a new domain is one query.) A name not
/// in the cache is looked up only when the `LookupLimiter` admits it.
pub struct MxDetector {
    /// `Err` when the resolver could not be set up: every lookup fails with
    /// that reason, so no request gets a guessed profile.
    resolver: Result<TokioResolver, String>,
    microsoft365: Arc<Profile>,
    timeout: Duration,
    negative_ttl: Duration,
    /// Answers (the site, or why there is none) until they expire.
    cache: Mutex<VerdictCache>,
    /// Who may make a lookup now; cached answers never ask it.
    limiter: LookupLimiter,
}

/// What a verdict means for a request: the site, or why there is none.
type MxAnswer = Result<Arc<Site>, ResolveError>;

impl std::fmt::Debug for MxDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MxDetector")
            .field("timeout", &self.timeout)
            .field("limiter", &self.limiter)
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
            cache: Mutex::new(VerdictCache::new(settings.cache_size)),
            limiter: LookupLimiter::new(settings, Instant::now()),
        })
    }

    /// The site for a domain that is not in the table, from the cache or
    /// one lookup on behalf of `client`. A Microsoft 365 site is made once
    /// per verdict and shared by every request until the verdict expires.
    pub async fn resolve(
        &self,
        domain: &DomainName,
        client: IpAddr,
    ) -> Result<Arc<Site>, ResolveError> {
        if let Some(answer) = self.cached(domain) {
            return answer;
        }
        // Held until the lookup is over: it is what `lookups_in_flight` counts.
        let _permit = self
            .limiter
            .admit(client, Instant::now())
            .map_err(|refusal| {
                tracing::debug!(domain = %domain, %client, limit = refusal.limit.label(), "MX lookup refused");
                ResolveError::Busy {
                    domain: domain.clone(),
                    limit: refusal.limit,
                    retry_after_secs: refusal.retry_after_secs(),
                }
            })?;
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
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
            domain,
            answer.clone(),
            expires,
            Instant::now(),
        );
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
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(domain, Instant::now())
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

/// The verdicts, bounded by `capacity`, with an index by expiry beside the
/// map so that making room costs O(log n): the entry that leaves is the
/// one that expires first (an expired one when there is any). A full
/// cache used to be scanned whole on every insert, under the lock every
/// request takes.
#[derive(Debug)]
struct VerdictCache {
    capacity: usize,
    entries: HashMap<DomainName, (MxAnswer, Instant)>,
    /// Every entry's (expiry, domain), earliest first. Domains make the
    /// pairs unique when two verdicts expire at the same instant.
    by_expiry: BTreeSet<(Instant, DomainName)>,
}

impl VerdictCache {
    fn new(capacity: usize) -> VerdictCache {
        VerdictCache {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            by_expiry: BTreeSet::new(),
        }
    }

    /// The answer for `domain` if it has not expired at `now`; an expired
    /// one is dropped.
    fn get(&mut self, domain: &DomainName, now: Instant) -> Option<MxAnswer> {
        let (answer, expires) = self.entries.get(domain)?;
        if *expires > now {
            return Some(answer.clone());
        }
        self.remove(domain);
        None
    }

    /// Keeps `answer` until `expires`, making room first when full.
    fn insert(&mut self, domain: &DomainName, answer: MxAnswer, expires: Instant, now: Instant) {
        self.remove(domain);
        if expires <= now {
            return; // TTL 0: the owner asked not to be cached.
        }
        if self.entries.len() >= self.capacity
            && let Some((_, first)) = self.by_expiry.pop_first()
        {
            self.entries.remove(&first);
        }
        self.by_expiry.insert((expires, domain.clone()));
        self.entries.insert(domain.clone(), (answer, expires));
    }

    fn remove(&mut self, domain: &DomainName) {
        if let Some((_, expires)) = self.entries.remove(domain) {
            self.by_expiry.remove(&(expires, domain.clone()));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Which bound stopped a lookup, with its configured value (for the
/// message and the metric's label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupLimit {
    /// `[dns] mx_lookups_per_client_per_sec` for one client address.
    PerClient(u32),
    /// `[dns] mx_lookups_per_sec` for the whole server.
    Overall(u32),
    /// `[dns] mx_lookups_in_flight`.
    InFlight(usize),
}

impl LookupLimit {
    /// The value of the `limit` label in `/metrics`.
    pub fn label(&self) -> &'static str {
        match self {
            LookupLimit::PerClient(_) => "client",
            LookupLimit::Overall(_) => "overall",
            LookupLimit::InFlight(_) => "in_flight",
        }
    }
}

impl std::fmt::Display for LookupLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupLimit::PerClient(rate) => write!(
                f,
                "your address asked for more new domains than the {rate} per second this \
                 server looks up for one client"
            ),
            LookupLimit::Overall(rate) => write!(
                f,
                "this server is making its most MX lookups ({rate} per second)"
            ),
            LookupLimit::InFlight(most) => write!(
                f,
                "this server is already waiting for its most MX lookups at once ({most})"
            ),
        }
    }
}

/// Why a lookup may not be made now, and when one may.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Refusal {
    limit: LookupLimit,
    retry_after: Duration,
}

impl Refusal {
    /// `Retry-After` is in whole seconds; never 0, which invites a retry
    /// loop.
    fn retry_after_secs(&self) -> u64 {
        (self.retry_after.as_secs_f64().ceil() as u64).max(1)
    }
}

/// Token buckets (one second's worth of burst) per client and for the
/// server, and a semaphore for the lookups being waited for. Only admitted
/// lookups take tokens or create a client's bucket, so the table of
/// clients grows by at most `overall` a second, and a bucket that has
/// filled up again is the same as none and is pruned.
#[derive(Debug)]
struct LookupLimiter {
    per_client_per_sec: u32,
    overall_per_sec: u32,
    in_flight_max: usize,
    /// How long a permit is held at most: the retry hint when none is free.
    timeout: Duration,
    buckets: Mutex<Buckets>,
    in_flight: Arc<Semaphore>,
}

#[derive(Debug)]
struct Buckets {
    overall: TokenBucket,
    clients: HashMap<IpAddr, TokenBucket>,
    /// Prune full buckets when `clients` reaches this size; doubling it
    /// after each pass keeps pruning O(1) per lookup, amortised.
    prune_at: usize,
}

/// Clients' table size below which nothing is pruned.
const MIN_PRUNE_AT: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    fn full(rate: u32, now: Instant) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(rate),
            updated: now,
        }
    }

    /// Adds what `rate` gave since the last update, up to one second's worth.
    fn refill(&mut self, rate: u32, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(rate));
        self.updated = now;
    }

    fn is_full(&self, rate: u32) -> bool {
        self.tokens >= f64::from(rate)
    }

    /// How long until one token is there.
    fn wait_for_one(&self, rate: u32) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / f64::from(rate)).max(0.0))
    }
}

impl LookupLimiter {
    fn new(settings: &DnsSettings, now: Instant) -> LookupLimiter {
        LookupLimiter {
            per_client_per_sec: settings.lookups_per_client_per_sec,
            overall_per_sec: settings.lookups_per_sec,
            in_flight_max: settings.lookups_in_flight,
            timeout: settings.mx_timeout,
            buckets: Mutex::new(Buckets {
                overall: TokenBucket::full(settings.lookups_per_sec, now),
                clients: HashMap::new(),
                prune_at: MIN_PRUNE_AT,
            }),
            in_flight: Arc::new(Semaphore::new(settings.lookups_in_flight)),
        }
    }

    /// A permit to make one lookup for `client` now (hold it until the
    /// lookup is over), or the limit in the way. A refused request takes no
    /// token: it did not cost a query.
    fn admit(&self, client: IpAddr, now: Instant) -> Result<OwnedSemaphorePermit, Refusal> {
        let key = client_key(client);
        let per_client = self.per_client_per_sec;
        let overall = self.overall_per_sec;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut client_bucket = buckets
            .clients
            .get(&key)
            .copied()
            .unwrap_or_else(|| TokenBucket::full(per_client, now));
        client_bucket.refill(per_client, now);
        if client_bucket.tokens < 1.0 {
            return Err(Refusal {
                limit: LookupLimit::PerClient(per_client),
                retry_after: client_bucket.wait_for_one(per_client),
            });
        }
        buckets.overall.refill(overall, now);
        if buckets.overall.tokens < 1.0 {
            return Err(Refusal {
                limit: LookupLimit::Overall(overall),
                retry_after: buckets.overall.wait_for_one(overall),
            });
        }
        let permit = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal {
                limit: LookupLimit::InFlight(self.in_flight_max),
                retry_after: self.timeout,
            })?;
        buckets.overall.tokens -= 1.0;
        client_bucket.tokens -= 1.0;
        buckets.clients.insert(key, client_bucket);
        if buckets.clients.len() >= buckets.prune_at {
            buckets.clients.retain(|_, bucket| {
                bucket.refill(per_client, now);
                !bucket.is_full(per_client)
            });
            buckets.prune_at = (buckets.clients.len() * 2).max(MIN_PRUNE_AT);
        }
        Ok(permit)
    }

    #[cfg(test)]
    fn clients_tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clients
            .len()
    }
}

/// The key a client's lookups are counted under: its IPv4 address, or its
/// IPv6 /64, since one IPv6 host is usually given a whole /64 and could
/// otherwise pick a fresh address for every request.
fn client_key(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
    }
}

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

#[cfg(test)]
mod cache_tests {
    use super::*;

    fn domain(i: usize) -> DomainName {
        DomainName::parse(&format!("d{i}.example")).unwrap()
    }

    fn no_mx(i: usize) -> MxAnswer {
        Err(ResolveError::NoMx(domain(i)))
    }

    #[test]
    fn full_cache_drops_the_verdict_that_expires_first() {
        let now = Instant::now();
        let mut cache = VerdictCache::new(3);
        for (i, secs) in [(0, 30), (1, 10), (2, 20)] {
            cache.insert(&domain(i), no_mx(i), now + Duration::from_secs(secs), now);
        }
        cache.insert(&domain(3), no_mx(3), now + Duration::from_secs(40), now);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&domain(1), now).is_none(), "d1 expired first");
        for i in [0, 2, 3] {
            assert!(cache.get(&domain(i), now).is_some(), "d{i}");
        }
    }

    #[test]
    fn expired_verdicts_go_before_live_ones_and_are_not_answered() {
        let start = Instant::now();
        let mut cache = VerdictCache::new(2);
        cache.insert(
            &domain(0),
            no_mx(0),
            start + Duration::from_secs(100),
            start,
        );
        cache.insert(&domain(1), no_mx(1), start + Duration::from_secs(1), start);
        let later = start + Duration::from_secs(5);
        assert!(cache.get(&domain(1), later).is_none());
        assert_eq!(
            cache.len(),
            1,
            "the expired entry is dropped when asked for"
        );
        cache.insert(&domain(2), no_mx(2), later + Duration::from_secs(1), later);
        cache.insert(&domain(3), no_mx(3), later + Duration::from_secs(50), later);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&domain(2), later).is_none());
        assert!(cache.get(&domain(0), later).is_some());
    }

    #[test]
    fn a_new_verdict_for_a_cached_domain_replaces_it_and_its_expiry() {
        let now = Instant::now();
        let mut cache = VerdictCache::new(2);
        cache.insert(&domain(0), no_mx(0), now + Duration::from_secs(1), now);
        cache.insert(&domain(0), no_mx(0), now + Duration::from_secs(60), now);
        cache.insert(&domain(1), no_mx(1), now + Duration::from_secs(30), now);
        assert_eq!((cache.len(), cache.by_expiry.len()), (2, 2));
        // d1 now expires first, so it is the one to go.
        cache.insert(&domain(2), no_mx(2), now + Duration::from_secs(90), now);
        assert!(cache.get(&domain(1), now).is_none());
        assert!(cache.get(&domain(0), now).is_some());
        assert_eq!(cache.by_expiry.len(), cache.len());
    }

    #[test]
    fn zero_ttl_verdicts_are_not_kept() {
        let now = Instant::now();
        let mut cache = VerdictCache::new(2);
        cache.insert(&domain(0), no_mx(0), now, now);
        assert_eq!(cache.len(), 0);
    }

    /// Inserting into a full cache costs about what inserting into a
    /// growing one does. With a scan of the whole cache per insert (the
    /// old `retain` + `min_by_key`) the full phase was thousands of times
    /// slower at this size; the bound leaves room for a busy machine.
    #[test]
    fn making_room_in_a_full_cache_is_not_a_scan_of_the_cache() {
        const SIZE: usize = 20_000;
        let now = Instant::now();
        let mut cache = VerdictCache::new(SIZE);
        let names: Vec<DomainName> = (0..2 * SIZE).map(domain).collect();
        let ttl = |i: usize| now + Duration::from_secs(60 + (i * 7919 % SIZE) as u64);
        let started = Instant::now();
        for (i, name) in names[..SIZE].iter().enumerate() {
            cache.insert(name, Err(ResolveError::NoMx(name.clone())), ttl(i), now);
        }
        let filling = started.elapsed();
        let started = Instant::now();
        for (i, name) in names[SIZE..].iter().enumerate() {
            cache.insert(name, Err(ResolveError::NoMx(name.clone())), ttl(i), now);
        }
        let evicting = started.elapsed();
        assert_eq!(cache.len(), SIZE);
        assert_eq!(cache.by_expiry.len(), SIZE);
        assert!(
            evicting < filling * 20 + Duration::from_millis(200),
            "filling took {filling:?}, inserting into the full cache {evicting:?}"
        );
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::*;

    fn limiter(per_client: u32, overall: u32, in_flight: usize, now: Instant) -> LookupLimiter {
        let settings = DnsSettings {
            lookups_per_client_per_sec: per_client,
            lookups_per_sec: overall,
            lookups_in_flight: in_flight,
            ..DnsSettings::default()
        };
        LookupLimiter::new(&settings, now)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_rate_then_waits_for_a_token() {
        let now = Instant::now();
        let limiter = limiter(2, 100, 10, now);
        let client = ip("192.0.2.1");
        let _a = limiter.admit(client, now).unwrap();
        let _b = limiter.admit(client, now).unwrap();
        let refusal = limiter.admit(client, now).unwrap_err();
        assert_eq!(refusal.limit, LookupLimit::PerClient(2));
        assert_eq!(refusal.retry_after, Duration::from_millis(500));
        assert_eq!(refusal.retry_after_secs(), 1);
        // Another client is not held back by the first.
        assert!(limiter.admit(ip("192.0.2.2"), now).is_ok());
        // Half a second later, one more.
        let later = now + Duration::from_millis(500);
        assert!(limiter.admit(client, later).is_ok());
        assert!(limiter.admit(client, later).is_err());
    }

    #[test]
    fn the_server_wide_rate_holds_across_clients() {
        let now = Instant::now();
        let limiter = limiter(5, 3, 10, now);
        for i in 1..=3 {
            assert!(limiter.admit(ip(&format!("192.0.2.{i}")), now).is_ok());
        }
        let refusal = limiter.admit(ip("192.0.2.4"), now).unwrap_err();
        assert_eq!(refusal.limit, LookupLimit::Overall(3));
    }

    #[test]
    fn refused_requests_take_no_token() {
        let now = Instant::now();
        let limiter = limiter(1, 1, 10, now);
        assert!(limiter.admit(ip("192.0.2.1"), now).is_ok());
        for _ in 0..100 {
            assert!(limiter.admit(ip("192.0.2.1"), now).is_err());
            assert!(limiter.admit(ip("192.0.2.2"), now).is_err());
        }
        let later = now + Duration::from_secs(1);
        assert!(limiter.admit(ip("192.0.2.2"), later).is_ok());
    }

    #[test]
    fn lookups_in_flight_are_capped_until_one_ends() {
        let now = Instant::now();
        let limiter = limiter(100, 100, 2, now);
        let first = limiter.admit(ip("192.0.2.1"), now).unwrap();
        let _second = limiter.admit(ip("192.0.2.2"), now).unwrap();
        let refusal = limiter.admit(ip("192.0.2.3"), now).unwrap_err();
        assert_eq!(refusal.limit, LookupLimit::InFlight(2));
        assert_eq!(refusal.retry_after_secs(), 2, "the MX timeout, 2 s");
        drop(first);
        assert!(limiter.admit(ip("192.0.2.3"), now).is_ok());
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_mapped_ipv4_is_its_ipv4() {
        let now = Instant::now();
        let limiter = limiter(1, 100, 10, now);
        assert!(limiter.admit(ip("2001:db8:1:2::1"), now).is_ok());
        let refusal = limiter.admit(ip("2001:db8:1:2:ffff::9"), now).unwrap_err();
        assert_eq!(refusal.limit, LookupLimit::PerClient(1));
        assert!(limiter.admit(ip("2001:db8:1:3::1"), now).is_ok());
        assert!(limiter.admit(ip("192.0.2.7"), now).is_ok());
        assert!(limiter.admit(ip("::ffff:192.0.2.7"), now).is_err());
    }

    #[test]
    fn clients_whose_bucket_filled_up_again_are_forgotten() {
        let start = Instant::now();
        let limiter = limiter(10, 1000, 10, start);
        // 100 000 clients, 1 000 a second for 100 s: each bucket is full
        // again a second after its one lookup.
        for i in 0..100_000u32 {
            let now = start + Duration::from_millis(u64::from(i));
            let client = IpAddr::V4((0x0a00_0000 + i).into());
            assert!(limiter.admit(client, now).is_ok(), "client {i}");
        }
        assert!(
            limiter.clients_tracked() < 3 * MIN_PRUNE_AT,
            "{} clients tracked",
            limiter.clients_tracked()
        );
    }
}
