//! The DNS resolver the checker and MX detection ask: the system's or a
//! configured server, with no search list, no hosts file and hickory's own
//! cache as the caller wants it; and one lookup that tells "no such
//! record" from "could not ask".

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::rr::{RData, RecordType};

/// The system's resolver configuration (`/etc/resolv.conf`), or why it
/// cannot be used.
pub fn system_resolver_config() -> Result<(ResolverConfig, ResolverOpts), String> {
    let (config, options) = hickory_resolver::system_conf::read_system_conf()
        .map_err(|e| format!("cannot read the system resolver configuration: {e}"))?;
    if config.name_servers().is_empty() {
        return Err("the system resolver configuration lists no name server".into());
    }
    Ok((config, options))
}

/// A resolver asking `server` (UDP, then TCP for truncated answers), or
/// the system's name servers. `cache_size` 0 turns hickory's own cache off.
pub fn build_resolver(
    server: Option<SocketAddr>,
    timeout: Duration,
    attempts: usize,
    cache_size: u64,
) -> Result<TokioResolver, String> {
    let (config, mut options) = match server {
        Some(addr) => {
            let mut name_server = NameServerConfig::udp_and_tcp(addr.ip());
            for connection in &mut name_server.connections {
                connection.port = addr.port();
            }
            (
                ResolverConfig::from_name_servers(vec![name_server]),
                ResolverOpts::default(),
            )
        }
        None => system_resolver_config()?,
    };
    options.timeout = timeout;
    options.attempts = attempts;
    options.cache_size = cache_size;
    // Names are always absolute: no search list, no hosts file.
    options.ndots = 0;
    options.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
    TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))
}

/// Why a lookup gave no answer: not "no such record", but "could not ask".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LookupFailure(pub String);

/// The records of `kind` at `owner`; `Ok(empty)` for NXDOMAIN and NODATA
/// (with the negative TTL when the answer carried an SOA).
pub(crate) async fn lookup(
    resolver: &TokioResolver,
    owner: &str,
    kind: RecordType,
    timeout: Duration,
) -> Result<Answer, LookupFailure> {
    let name = format!("{owner}.");
    let result = tokio::time::timeout(timeout, resolver.lookup(name.as_str(), kind)).await;
    match result {
        Err(_) => Err(LookupFailure(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
        Ok(Ok(lookup)) => Ok(Answer {
            records: lookup
                .answers()
                .iter()
                .map(|r| (r.data.clone(), r.ttl))
                .collect(),
            negative_ttl: None,
        }),
        Ok(Err(NetError::Dns(DnsError::NoRecordsFound(no_records)))) => Ok(Answer {
            records: Vec::new(),
            negative_ttl: no_records.negative_ttl,
        }),
        Ok(Err(NetError::Dns(DnsError::ResponseCode(code)))) => {
            Err(LookupFailure(format!("the DNS server answered {code}")))
        }
        Ok(Err(NetError::Timeout)) => Err(LookupFailure(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
        Ok(Err(error)) => Err(LookupFailure(format!("lookup failed: {error}"))),
    }
}

pub(crate) struct Answer {
    /// Every answer record (CNAME chains included) with its TTL.
    pub(crate) records: Vec<(RData, u32)>,
    pub(crate) negative_ttl: Option<u32>,
}
