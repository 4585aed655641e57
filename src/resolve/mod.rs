//! Domain → site resolution, the one place it happens: the domain table
//! first, then the domains a profile owns (Microsoft's consumer domains),
//! then, when enabled, the domain's MX record (`mx`). The answer is a
//! `Site` that carries its profile, so nobody looks a domain up twice.
//! Knows nothing of HTTP or documents.

pub mod mx;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::config::Config;
use crate::domain_table::DomainTable;
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

/// How many table domains' sites `Directory` keeps made.
const RECENT_SITES: usize = 4096;

/// Lookup tables built once from a validated configuration: the domain
/// table (shared with the configuration, not copied) and the few domains
/// profiles own.
#[derive(Debug)]
pub struct Directory {
    table: Arc<DomainTable>,
    /// Sites of table domains asked for lately, by row number modulo
    /// `RECENT_SITES`: asked again, a domain gets the same `Arc` with no
    /// allocation; otherwise its site is made and left in the slot. A few
    /// hundred kilobytes at most, whatever the table's size.
    recent: Box<[ArcSwapOption<Site>]>,
    /// The domains profiles list themselves (Microsoft's consumer domains,
    /// a few dozen); the table overrides them.
    profile_sites: HashMap<DomainName, Arc<Site>>,
}

/// One row of `Directory::table`.
#[derive(Debug, Clone, Copy)]
pub struct TableRow<'a> {
    pub domain: &'a str,
    pub profile: &'a Profile,
    pub source: SiteSource,
}

impl Directory {
    pub fn new(config: &Config) -> Directory {
        let mut profile_sites = HashMap::new();
        for profile in config.profiles.values() {
            for domain in profile.domains() {
                let site = Site::new(
                    domain.clone(),
                    profile.clone(),
                    None,
                    None,
                    SiteSource::Profile,
                );
                profile_sites.insert(domain.clone(), Arc::new(site));
            }
        }
        Directory {
            table: config.domains.clone(),
            recent: (0..RECENT_SITES).map(|_| ArcSwapOption::empty()).collect(),
            profile_sites,
        }
    }

    /// The site of a listed domain. A table domain's site is made from its
    /// row when it is not among the recent ones (a million prebuilt
    /// `Site`s would cost hundreds of megabytes).
    pub fn resolve(&self, domain: &DomainName) -> Result<Arc<Site>, ResolveError> {
        if let Some((row, entry)) = self.table.get_row(domain.as_str()) {
            let slot = &self.recent[row % RECENT_SITES];
            if let Some(site) = slot.load_full()
                && site.domain == *domain
            {
                return Ok(site);
            }
            let site = Arc::new(Site::new(
                domain.clone(),
                entry.profile.clone(),
                entry.display_name.map(str::to_owned),
                entry.organization.map(str::to_owned),
                SiteSource::Table,
            ));
            slot.store(Some(site.clone()));
            return Ok(site);
        }
        self.profile_sites
            .get(domain)
            .cloned()
            .ok_or_else(|| ResolveError::UnknownDomain(domain.clone()))
    }

    /// Whether a domain is listed, without making its site.
    pub fn serves(&self, domain: &DomainName) -> bool {
        self.table.contains(domain.as_str()) || self.profile_sites.contains_key(domain)
    }

    /// Every domain and its profile, sorted by name, for `mailsetup check`.
    pub fn table(&self) -> Vec<TableRow<'_>> {
        let from_table = self.table.iter().map(|entry| TableRow {
            domain: entry.name,
            profile: entry.profile,
            source: SiteSource::Table,
        });
        let from_profiles = self
            .profile_sites
            .iter()
            .filter(|(domain, _)| !self.table.contains(domain.as_str()))
            .map(|(domain, site)| TableRow {
                domain: domain.as_str(),
                profile: &site.profile,
                source: SiteSource::Profile,
            });
        // Sorted by the first eight bytes first: most comparisons end there,
        // without reading the names from all over the table's text.
        let mut rows: Vec<(u64, TableRow<'_>)> = from_table
            .chain(from_profiles)
            .map(|row| (name_prefix(row.domain), row))
            .collect();
        rows.sort_unstable_by(|(a_prefix, a), (b_prefix, b)| {
            a_prefix.cmp(b_prefix).then_with(|| a.domain.cmp(b.domain))
        });
        rows.into_iter().map(|(_, row)| row).collect()
    }
}

/// The first eight bytes of a name as a number that sorts like them.
fn name_prefix(name: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let len = name.len().min(8);
    bytes[..len].copy_from_slice(&name.as_bytes()[..len]);
    u64::from_be_bytes(bytes)
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
            (Ok(site), _) => Ok(site),
            // Boxed: the lookup's future is large, and every request's
            // future (moved a few times each) would be that size with it.
            (Err(_), Some(mx)) => Box::pin(mx.resolve(domain, client)).await,
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

    fn config(text: &str) -> Config {
        use crate::source::SourceFile;
        use std::path::Path;
        Config::from_source(&SourceFile::new(Path::new("m.toml"), text.into())).unwrap()
    }

    /// A domain asked for again gets the same site; two domains whose
    /// rows share a slot each get their own, with their own values.
    #[test]
    fn recent_sites_are_reused_and_never_mixed_up() {
        let mut text = String::new();
        for row in 0..=RECENT_SITES {
            text.push_str(&format!(
                "[[domain]]\nname = \"d{row}.example\"\nprofile = \"microsoft365\"\n\
                 display_name = \"Name {row}\"\n"
            ));
        }
        let directory = Directory::new(&config(&text));
        let resolve = |row: usize| {
            let domain = DomainName::parse(&format!("d{row}.example")).unwrap();
            let site = directory.resolve(&domain).unwrap();
            assert_eq!(site.domain, domain);
            assert_eq!(site.display_name, format!("Name {row}"));
            site
        };
        let first = resolve(0);
        assert!(Arc::ptr_eq(&first, &resolve(0)));
        // Row RECENT_SITES shares row 0's slot.
        let other = resolve(RECENT_SITES);
        assert!(Arc::ptr_eq(&other, &resolve(RECENT_SITES)));
        assert!(!Arc::ptr_eq(&first, &resolve(0)));
        assert!(!Arc::ptr_eq(&other, &resolve(RECENT_SITES)));
    }

    #[test]
    fn table_overrides_profile_domains() {
        let config = config(
            "[[domain]]\nname = \"Hotmail.FR\"\nprofile = \"microsoft365\"\n\
             display_name = \"Hotmail France\"\norganization = \"Contoso\"\n",
        );
        let directory = Directory::new(&config);
        let site = directory
            .resolve(&DomainName::parse("hotmail.fr").unwrap())
            .unwrap();
        assert_eq!(site.profile.id, "microsoft365");
        assert_eq!(site.source, SiteSource::Table);
        assert_eq!(site.display_name, "Hotmail France");
        assert_eq!(site.organization.as_deref(), Some("Contoso"));
        let site = directory
            .resolve(&DomainName::parse("live.fr").unwrap())
            .unwrap();
        assert_eq!(site.profile.id, "outlook");
        assert_eq!(site.source, SiteSource::Profile);
    }

    #[test]
    fn lookups_ignore_case_and_unknown_domains_are_refused() {
        let config = config("[[domain]]\nname = \"Contoso.COM\"\nprofile = \"outlook\"\n");
        let directory = Directory::new(&config);
        // The table and requests hold `DomainName`s, lower-cased on parsing.
        let site = directory
            .resolve(&DomainName::parse("CONTOSO.com").unwrap())
            .unwrap();
        assert_eq!(site.domain.as_str(), "contoso.com");
        assert_eq!(site.display_name, "Outlook.com");
        let unknown = DomainName::parse("fabrikam.com").unwrap();
        assert_eq!(
            directory.resolve(&unknown).unwrap_err(),
            ResolveError::UnknownDomain(unknown.clone())
        );
        assert!(!directory.serves(&unknown));
        assert!(directory.serves(&DomainName::parse("contoso.com").unwrap()));
    }

    #[test]
    fn the_table_lists_every_domain_once_sorted() {
        let config = config(
            "[[domain]]\nname = \"zeta.example\"\nprofile = \"outlook\"\n\
             [[domain]]\nname = \"hotmail.fr\"\nprofile = \"microsoft365\"\n\
             [[domain]]\nname = \"alpha.example\"\nprofile = \"outlook\"\n\
             [[domain]]\nname = \"alpha.examplf\"\nprofile = \"outlook\"\n",
        );
        let directory = Directory::new(&config);
        let rows = directory.table();
        let names: Vec<&str> = rows.iter().map(|row| row.domain).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        let hotmail = rows.iter().find(|row| row.domain == "hotmail.fr").unwrap();
        assert_eq!(
            (hotmail.profile.id.as_str(), hotmail.source),
            ("microsoft365", SiteSource::Table)
        );
        let live = rows.iter().find(|row| row.domain == "live.fr").unwrap();
        assert_eq!(live.source, SiteSource::Profile);
        assert_eq!(names[..2], ["alpha.example", "alpha.examplf"]);
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
