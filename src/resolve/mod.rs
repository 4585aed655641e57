//! Domain → site resolution, the one place it happens: the domain table
//! first, then the domains a profile owns (Microsoft's consumer domains),
//! then, when enabled, the domain's MX record (`mx`). The answer is a
//! `Site` that carries its profile, so nobody looks a domain up twice.
//! Knows nothing of HTTP or documents.

pub mod mx;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::email::{DomainName, EmailAddress};
use crate::profile::Profile;
pub use mx::LookupLimit;
use mx::MxDetector;

/// Everything a renderer needs to know about one mail domain.
#[derive(Debug)]
pub struct Site {
    pub domain: DomainName,
    pub profile: Arc<Profile>,
    /// The domain table's display name, else the profile's name.
    pub display_name: String,
    pub organization: Option<String>,
    /// How the domain was found; decides which `<domain>` entries a
    /// Thunderbird document lists.
    pub source: SiteSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteSource {
    /// An entry of the admin's domain table.
    Table,
    /// A domain listed by the profile itself (e.g. hotmail.fr for outlook).
    Profile,
    /// A domain whose MX is Microsoft 365's (`[dns]
    /// detect_microsoft365_by_mx`).
    Mx,
}

impl Site {
    /// The one way a site is made: the display name defaults to the
    /// profile's name.
    pub fn new(
        domain: DomainName,
        profile: Arc<Profile>,
        display_name: Option<String>,
        organization: Option<String>,
        source: SiteSource,
    ) -> Site {
        Site {
            display_name: display_name.unwrap_or_else(|| profile.name.clone()),
            domain,
            profile,
            organization,
            source,
        }
    }

    /// The id of the site's profile, e.g. `microsoft365`: what logs and
    /// metrics label a request with.
    pub fn profile_id(&self) -> &str {
        &self.profile.id
    }

    /// The domains a client may treat this configuration as valid for. For
    /// a table domain only itself: a multi-tenant server must not tell one
    /// customer which other domains it serves.
    pub fn config_domains(&self) -> Vec<&DomainName> {
        match self.source {
            SiteSource::Table | SiteSource::Mx => vec![&self.domain],
            SiteSource::Profile => self.profile.domains().collect(),
        }
    }
}

/// An account to render a document for: a site, and the address when the
/// client sent one (ISPDB-style lookups and Host-only requests do not).
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    pub site: &'a Site,
    pub address: Option<&'a EmailAddress>,
}

impl Account<'_> {
    pub fn profile(&self) -> &Profile {
        &self.site.profile
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("the domain {0} is not served here: it is not in this server's domain table")]
    UnknownDomain(DomainName),
    #[error(
        "the domain {domain} is not served here: it is not in this server's domain table and \
         its mail exchanger ({exchanges}) is not Microsoft 365 (*.mail.protection.outlook.com)"
    )]
    NotMicrosoft365 {
        domain: DomainName,
        exchanges: String,
    },
    #[error(
        "the domain {0} is not served here: it is not in this server's domain table and has \
         no MX record"
    )]
    NoMx(DomainName),
    /// The MX lookup could not be made; nothing is known about the domain.
    #[error(
        "the domain {domain} is not in this server's domain table and its MX record could not \
         be looked up ({reason}); try again later"
    )]
    ResolverFailed { domain: DomainName, reason: String },
    /// A lookup was needed and a bound on lookups (`[dns]
    /// mx_lookups_*`) is reached: no query was sent.
    #[error(
        "the domain {domain} is not in this server's domain table and its MX record was not \
         looked up: {limit}; try again in {retry_after_secs} s"
    )]
    Busy {
        domain: DomainName,
        limit: LookupLimit,
        retry_after_secs: u64,
    },
}

/// Lookup tables built once from a validated configuration.
#[derive(Debug)]
pub struct Directory {
    sites: HashMap<DomainName, Arc<Site>>,
}

impl Directory {
    pub fn new(config: &Config) -> Directory {
        let mut sites = HashMap::new();
        for profile in config.profiles.values() {
            for domain in profile.domains() {
                let site = Site::new(
                    domain.clone(),
                    profile.clone(),
                    None,
                    None,
                    SiteSource::Profile,
                );
                sites.insert(domain.clone(), Arc::new(site));
            }
        }
        // The table overrides profile domains: inserted last.
        for entry in &config.domains {
            // Config validation guarantees the profile exists.
            let Some(profile) = config.profiles.get(&entry.profile) else {
                continue;
            };
            let site = Site::new(
                entry.name.clone(),
                profile.clone(),
                entry.display_name.clone(),
                entry.organization.clone(),
                SiteSource::Table,
            );
            sites.insert(entry.name.clone(), Arc::new(site));
        }
        Directory { sites }
    }

    pub fn resolve(&self, domain: &DomainName) -> Result<&Arc<Site>, ResolveError> {
        self.sites
            .get(domain)
            .ok_or_else(|| ResolveError::UnknownDomain(domain.clone()))
    }

    /// Every domain and its profile id, sorted, for `mailsetup check`.
    pub fn table(&self) -> Vec<(&DomainName, &Site)> {
        let mut rows: Vec<_> = self.sites.iter().map(|(d, s)| (d, s.as_ref())).collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        rows
    }
}

/// Resolves every domain a request names: the table, then (when `[dns]
/// detect_microsoft365_by_mx` is on) MX detection, whose cache starts
/// empty with each configuration.
#[derive(Debug)]
pub struct Resolver {
    directory: Directory,
    mx: Option<MxDetector>,
}

impl Resolver {
    pub fn new(config: &Config) -> Resolver {
        Resolver {
            directory: Directory::new(config),
            mx: MxDetector::new(&config.dns, config.profiles.get("microsoft365")),
        }
    }

    /// The site for a mail domain, asked for by `client` (whose share of
    /// MX lookups a new domain costs). Asynchronous because resolution may
    /// need the network (MX detection); table lookups do not wait.
    pub async fn resolve(
        &self,
        domain: &DomainName,
        client: IpAddr,
    ) -> Result<Arc<Site>, ResolveError> {
        match (self.directory.resolve(domain), &self.mx) {
            (Ok(site), _) => Ok(site.clone()),
            (Err(_), Some(mx)) => mx.resolve(domain, client).await,
            (Err(unknown), None) => Err(unknown),
        }
    }

    /// The domain table alone, without the network.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }
}

/// The mail domain a host name stands for: `autoconfig.<d>` and
/// `autodiscover.<d>` stand for `<d>`; any other name stands for itself (the
/// `.well-known` and `https://<d>/autodiscover/...` forms).
pub fn mail_domain_of_host(host: &DomainName) -> DomainName {
    let first_label = host.as_str().split('.').next().unwrap_or_default();
    match (first_label, host.parent()) {
        ("autoconfig" | "autodiscover", Some(parent)) => parent,
        _ => host.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_overrides_profile_domains() {
        let mut config = Config::load(None).unwrap();
        let mut entry = config.domains[0].clone();
        entry.name = DomainName::parse("hotmail.fr").unwrap();
        config.domains.push(entry);
        let directory = Directory::new(&config);
        let site = directory
            .resolve(&DomainName::parse("hotmail.fr").unwrap())
            .unwrap();
        assert_eq!(site.profile.id, "microsoft365");
        let site = directory
            .resolve(&DomainName::parse("live.fr").unwrap())
            .unwrap();
        assert_eq!(site.profile.id, "outlook");
    }

    #[test]
    fn autoconfig_and_autodiscover_hosts_stand_for_their_domain() {
        for (host, domain) in [
            ("autoconfig.contoso.com", "contoso.com"),
            ("autodiscover.contoso.com", "contoso.com"),
            ("contoso.com", "contoso.com"),
            ("mail.contoso.com", "mail.contoso.com"),
        ] {
            let host = DomainName::parse(host).unwrap();
            assert_eq!(mail_domain_of_host(&host).as_str(), domain);
        }
    }
}
