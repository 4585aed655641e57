//! Operational counters and the Prometheus text exposition of `/metrics`:
//! requests by endpoint, status and profile; a latency histogram; the
//! certificates in service and their days to expiry; skipped certificate
//! directory entries; ACME failures; MX lookups refused by their limits;
//! and configuration reloads. Knows nothing of HTTP routing.

use std::fmt::Write;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hashbrown::HashTable;

use crate::resolve::LookupLimit;
use crate::tls::CertificateReport;

/// Upper bounds (seconds) of the latency histogram's buckets: the server
/// answers in well under a millisecond, so the resolution is there.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// How a look at changed certificate files ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateOutcome {
    /// Every certificate file loaded and is in service.
    Success = 0,
    /// Some `certificates_dir` entries did not load (one in service keeps
    /// its previous certificate); the rest is in service. Counted once
    /// for the same problems, however often they are tried again.
    Partial = 1,
    /// The default certificate pair did not load; nothing changed.
    Failure = 2,
}

impl CertificateOutcome {
    const ALL: [CertificateOutcome; 3] = [
        CertificateOutcome::Success,
        CertificateOutcome::Partial,
        CertificateOutcome::Failure,
    ];

    fn label(self) -> &'static str {
        match self {
            CertificateOutcome::Success => "success",
            CertificateOutcome::Partial => "partial",
            CertificateOutcome::Failure => "failure",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    // (fields below; Debug is implemented by hand to keep locks out of it)
    /// Requests and their latency, one series per (endpoint, status,
    /// profile id or ""). A request finds its series under a read lock and
    /// counts with atomics: no lock that requests wait on, no allocation
    /// (a series is added once, under the write lock).
    requests: RwLock<HashTable<Series>>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    /// Certificate files picked up on their own, by `CertificateOutcome`.
    certificate_reloads: [AtomicU64; 3],
    acme_failures: AtomicU64,
    /// Requests answered 503 without an MX lookup, by the limit reached,
    /// in `MX_LOOKUP_LIMITS` order.
    mx_lookups_refused: [AtomicU64; 3],
}

/// The `limit` labels of `mailsetup_mx_lookups_refused_total`, each always
/// rendered so that a rate can be taken before the first refusal.
const MX_LOOKUP_LIMITS: [&str; 3] = ["client", "overall", "in_flight"];

/// The requests of one endpoint, status and profile.
struct Series {
    endpoint: &'static str,
    status: u16,
    profile: Box<str>,
    /// Requests by latency bucket, one extra for +Inf; the total and the
    /// cumulative counts are computed at render time.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Series {
    fn is(&self, endpoint: &str, status: u16, profile: &str) -> bool {
        self.status == status && self.endpoint == endpoint && &*self.profile == profile
    }

    fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }
}

/// A hash of a series' labels, eight bytes at a time. The labels come
/// from closed sets (the routes, the statuses the router sends, the
/// configuration's profile ids), never from the request, so a keyed hash
/// would buy nothing here.
fn series_hash(endpoint: &str, status: u16, profile: &str) -> u64 {
    fn mix(hash: u64, word: u64) -> u64 {
        (hash ^ word)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26)
    }
    fn add(mut hash: u64, text: &str) -> u64 {
        let mut words = text.as_bytes().chunks_exact(8);
        for word in &mut words {
            hash = mix(
                hash,
                u64::from_le_bytes(word.try_into().unwrap_or_default()),
            );
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        // The length tells "a" from "a\0".
        mix(mix(hash, u64::from_le_bytes(last)), text.len() as u64)
    }
    add(add(u64::from(status), endpoint), profile)
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn record_request(
        &self,
        endpoint: &'static str,
        status: u16,
        profile: &str,
        latency: Duration,
    ) {
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        let count = |series: &Series| {
            series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
            series.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        };
        let hash = series_hash(endpoint, status, profile);
        let requests = self.requests.read().unwrap_or_else(|e| e.into_inner());
        if let Some(series) = requests.find(hash, |s| s.is(endpoint, status, profile)) {
            count(series);
            return;
        }
        drop(requests);
        let mut requests = self.requests.write().unwrap_or_else(|e| e.into_inner());
        let series = requests
            .entry(
                hash,
                |s| s.is(endpoint, status, profile),
                |s| series_hash(s.endpoint, s.status, &s.profile),
            )
            .or_insert_with(|| Series {
                endpoint,
                status,
                profile: profile.into(),
                buckets: Default::default(),
                sum_nanos: AtomicU64::new(0),
            });
        count(series.get());
    }

    pub fn record_certificate_reload(&self, outcome: CertificateOutcome) {
        self.certificate_reloads[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_reload(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_acme_failure(&self) {
        self.acme_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// A request that needed an MX lookup got 503 instead: `limit` was
    /// reached.
    pub fn record_mx_lookup_refused(&self, limit: LookupLimit) {
        if let Some(slot) = MX_LOOKUP_LIMITS.iter().position(|l| *l == limit.label()) {
            self.mx_lookups_refused[slot].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text format (version 0.0.4).
    pub fn render(&self, certificates: &CertificateReport) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mailsetup_requests_total Requests answered, by endpoint, status and profile."
        );
        let _ = writeln!(out, "# TYPE mailsetup_requests_total counter");
        // Sorted, as a scrape expects them; the histogram sums its
        // endpoint's series.
        let requests = self.requests.read().unwrap_or_else(|e| e.into_inner());
        let mut series: Vec<&Series> = requests.iter().collect();
        series.sort_unstable_by(|a, b| {
            (a.endpoint, a.status, &a.profile).cmp(&(b.endpoint, b.status, &b.profile))
        });
        for s in &series {
            let _ = writeln!(
                out,
                "mailsetup_requests_total{{endpoint=\"{}\",status=\"{}\",profile=\"{}\"}} {}",
                s.endpoint,
                s.status,
                label(&s.profile),
                s.count()
            );
        }
        let _ = writeln!(
            out,
            "# HELP mailsetup_request_duration_seconds Time to answer a request, by endpoint."
        );
        let _ = writeln!(out, "# TYPE mailsetup_request_duration_seconds histogram");
        for of_endpoint in series.chunk_by(|a, b| a.endpoint == b.endpoint) {
            let endpoint = of_endpoint[0].endpoint;
            let mut cumulative = 0;
            for (index, bound) in LATENCY_BUCKETS.iter().enumerate() {
                cumulative += of_endpoint
                    .iter()
                    .map(|s| s.buckets[index].load(Ordering::Relaxed))
                    .sum::<u64>();
                let _ = writeln!(
                    out,
                    "mailsetup_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count: u64 = of_endpoint.iter().map(|s| s.count()).sum();
            let sum_nanos: u64 = of_endpoint
                .iter()
                .map(|s| s.sum_nanos.load(Ordering::Relaxed))
                .sum();
            let _ = writeln!(
                out,
                "mailsetup_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "mailsetup_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {}",
                sum_nanos as f64 / 1e9
            );
            let _ = writeln!(
                out,
                "mailsetup_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {count}"
            );
        }
        drop(requests);
        let _ = writeln!(
            out,
            "# HELP mailsetup_certificate_expiry_days Days until a certificate in service expires."
        );
        let _ = writeln!(out, "# TYPE mailsetup_certificate_expiry_days gauge");
        for certificate in certificates.iter() {
            let _ = writeln!(
                out,
                "mailsetup_certificate_expiry_days{{source=\"{}\",names=\"{}\",fingerprint=\"{}\"}} {:.3}",
                certificate.source.as_str(),
                label(&certificate.names.join(",")),
                certificate.fingerprint_sha256,
                certificate.days_to_expiry()
            );
        }
        let _ = writeln!(
            out,
            "# HELP mailsetup_certificate_entries_skipped certificates_dir entries not served \
             (unreadable, expired, not yet valid or mismatched) at the last load; \
             the log and `mailsetup check` name them."
        );
        let _ = writeln!(out, "# TYPE mailsetup_certificate_entries_skipped gauge");
        let _ = writeln!(
            out,
            "mailsetup_certificate_entries_skipped {}",
            certificates.entries_skipped
        );
        let _ = writeln!(
            out,
            "# HELP mailsetup_acme_failures_total Failed ACME orders or renewals."
        );
        let _ = writeln!(out, "# TYPE mailsetup_acme_failures_total counter");
        let _ = writeln!(
            out,
            "mailsetup_acme_failures_total {}",
            self.acme_failures.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mailsetup_mx_lookups_refused_total Requests answered 503 without an MX \
             lookup because a [dns] mx_lookups_* limit was reached, by limit."
        );
        let _ = writeln!(out, "# TYPE mailsetup_mx_lookups_refused_total counter");
        for (limit, count) in MX_LOOKUP_LIMITS.iter().zip(&self.mx_lookups_refused) {
            let _ = writeln!(
                out,
                "mailsetup_mx_lookups_refused_total{{limit=\"{limit}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mailsetup_config_reloads_total Configuration reloads, by outcome."
        );
        let _ = writeln!(out, "# TYPE mailsetup_config_reloads_total counter");
        let _ = writeln!(
            out,
            "mailsetup_config_reloads_total{{outcome=\"success\"}} {}",
            self.reloads_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "mailsetup_config_reloads_total{{outcome=\"failure\"}} {}",
            self.reloads_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mailsetup_certificate_reloads_total Changed certificate files put in \
             service without a configuration reload, by outcome (partial: some \
             certificates_dir entries did not load)."
        );
        let _ = writeln!(out, "# TYPE mailsetup_certificate_reloads_total counter");
        for outcome in CertificateOutcome::ALL {
            let _ = writeln!(
                out,
                "mailsetup_certificate_reloads_total{{outcome=\"{}\"}} {}",
                outcome.label(),
                self.certificate_reloads[outcome as usize].load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// A label value escaped for the text format (backslash, quote, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each (endpoint, status, profile) is its own counter, listed sorted;
    /// an endpoint's histogram adds up all of its series.
    #[test]
    fn series_are_counted_apart_and_summed_per_endpoint() {
        let metrics = Metrics::default();
        let ms = Duration::from_millis;
        for (endpoint, status, profile, latency) in [
            ("thunderbird", 200, "outlook", ms(3)),
            (
                "thunderbird",
                200,
                "microsoft365",
                Duration::from_micros(50),
            ),
            ("thunderbird", 200, "outlook", ms(3)),
            ("thunderbird", 404, "", ms(2000)),
            ("apple", 200, "outlook", ms(20)),
        ] {
            metrics.record_request(endpoint, status, profile, latency);
        }
        let text = metrics.render(&CertificateReport::default());
        let lines = |prefix: &str| -> Vec<&str> {
            text.lines().filter(|l| l.starts_with(prefix)).collect()
        };
        assert_eq!(
            lines("mailsetup_requests_total{"),
            [
                r#"mailsetup_requests_total{endpoint="apple",status="200",profile="outlook"} 1"#,
                r#"mailsetup_requests_total{endpoint="thunderbird",status="200",profile="microsoft365"} 1"#,
                r#"mailsetup_requests_total{endpoint="thunderbird",status="200",profile="outlook"} 2"#,
                r#"mailsetup_requests_total{endpoint="thunderbird",status="404",profile=""} 1"#,
            ]
        );
        let thunderbird = r#"{endpoint="thunderbird""#;
        let value = |name: &str| -> f64 {
            let line = text
                .lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("no {name} in\n{text}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        let bucket = |le: &str| {
            value(&format!(
                "mailsetup_request_duration_seconds_bucket{thunderbird},le=\"{le}\"}}"
            ))
        };
        assert_eq!(bucket("0.0001"), 1.0);
        assert_eq!(bucket("0.005"), 3.0);
        assert_eq!(bucket("1"), 3.0);
        assert_eq!(bucket("+Inf"), 4.0);
        assert_eq!(
            value(&format!(
                "mailsetup_request_duration_seconds_count{thunderbird}}}"
            )),
            4.0
        );
        let sum = value(&format!(
            "mailsetup_request_duration_seconds_sum{thunderbird}}}"
        ));
        assert!((sum - 2.00605).abs() < 1e-9, "{sum}");
        assert_eq!(
            value(r#"mailsetup_request_duration_seconds_count{endpoint="apple"}"#),
            1.0
        );
    }
}
