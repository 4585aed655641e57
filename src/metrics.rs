//! Operational counters and the Prometheus text exposition of `/metrics`:
//! requests by endpoint, status and profile; a latency histogram; the
//! certificates in service and their days to expiry; skipped certificate
//! directory entries; ACME failures; MX lookups refused by their limits;
//! and configuration reloads. Knows nothing of HTTP routing.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::resolve::LookupLimit;
use crate::tls::CertificateReport;

/// Upper bounds (seconds) of the latency histogram's buckets: the server
/// answers in well under a millisecond, so the resolution is there.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Profile id (or "") → requests.
type CountByProfile = BTreeMap<String, u64>;

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
    /// (endpoint, status) → profile id (or "") → count. Nested so that the
    /// hot path finds an existing counter without allocating a key.
    requests: Mutex<BTreeMap<(&'static str, u16), CountByProfile>>,
    /// endpoint → histogram.
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
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

#[derive(Default, Clone)]
struct Histogram {
    /// Cumulative counts are computed at render time; these are per bucket,
    /// with one extra for +Inf.
    buckets: [u64; 13],
    sum_seconds: f64,
    count: u64,
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
        if let Ok(mut requests) = self.requests.lock() {
            let by_profile = requests.entry((endpoint, status)).or_default();
            match by_profile.get_mut(profile) {
                Some(count) => *count += 1,
                None => {
                    by_profile.insert(profile.to_owned(), 1);
                }
            }
        }
        let seconds = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Ok(mut latency) = self.latency.lock() {
            let histogram = latency.entry(endpoint).or_default();
            histogram.buckets[bucket] += 1;
            histogram.sum_seconds += seconds;
            histogram.count += 1;
        }
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
        if let Ok(requests) = self.requests.lock() {
            for ((endpoint, status), by_profile) in requests.iter() {
                for (profile, count) in by_profile {
                    let _ = writeln!(
                        out,
                        "mailsetup_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\",profile=\"{}\"}} {count}",
                        label(profile)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP mailsetup_request_duration_seconds Time to answer a request, by endpoint."
        );
        let _ = writeln!(out, "# TYPE mailsetup_request_duration_seconds histogram");
        if let Ok(latency) = self.latency.lock() {
            for (endpoint, histogram) in latency.iter() {
                let mut cumulative = 0;
                for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                    cumulative += count;
                    let _ = writeln!(
                        out,
                        "mailsetup_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "mailsetup_request_duration_seconds_bucket{{endpoint=\"{endpoint}\",le=\"+Inf\"}} {}",
                    histogram.count
                );
                let _ = writeln!(
                    out,
                    "mailsetup_request_duration_seconds_sum{{endpoint=\"{endpoint}\"}} {}",
                    histogram.sum_seconds
                );
                let _ = writeln!(
                    out,
                    "mailsetup_request_duration_seconds_count{{endpoint=\"{endpoint}\"}} {}",
                    histogram.count
                );
            }
        }
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
