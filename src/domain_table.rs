//! The domain table in memory: which profile, display name and
//! organisation each listed mail domain has, stored compactly so that a
//! million domains take tens of megabytes and are indexed once. `config`
//! fills it (from `[[domain]]` and the domains file) and refuses a domain
//! listed twice; `resolve` looks domains up in it. Knows nothing of files,
//! errors' wording or requests.
//!
//! One text buffer holds every name back to back; a row is a few offsets
//! into it and the index of its profile; the hash index holds row numbers
//! only. A table of `String`s, `Arc<Site>`s and a `HashMap` keyed by owned
//! names cost about 500 bytes and nine allocations a domain (BENCHMARKS.md,
//! "Scale"); this costs about 60 bytes and none.

use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry as IndexEntry;

use crate::email::DomainName;
use crate::profile::{Profile, Profiles};

/// The domain table: rows in the order they were inserted, and an index
/// by domain name. A clone is a few `memcpy`s: a reload that changes a
/// few lines of a domains file clones the table in service and edits the
/// clone (see `domains_file::update_domains_file`).
#[derive(Clone)]
pub struct DomainTable {
    /// Every domain name, display name and organisation, back to back.
    text: Text,
    rows: Vec<Row>,
    /// Row numbers, hashed by the row's domain name.
    index: HashTable<u32>,
    /// Keyed per table (foldhash with a random seed, as hashbrown's own
    /// default): request domains are chosen by clients, who must not be
    /// able to aim them at one bucket. About twice as fast as SipHash on
    /// a domain name, on every request.
    hasher: RandomState,
    /// Every profile of the configuration, sorted by id; rows refer to
    /// them by position.
    profiles: Vec<Arc<Profile>>,
    /// Rows taken out by `remove`: out of the index, marked `REMOVED`,
    /// their text left where it was (a full rebuild drops both).
    removed: usize,
}

/// The table's text: what it was built with, shared by the copies a reload
/// updates (`Arc`), then what was added since, the copy's own. A row's
/// text lies whole in one of the two, at an offset counted from the start
/// of the first.
#[derive(Clone, Default)]
struct Text {
    built: Arc<String>,
    added: String,
}

impl Text {
    fn len(&self) -> usize {
        self.built.len() + self.added.len()
    }

    fn get(&self, start: usize, len: usize) -> &str {
        match start.checked_sub(self.built.len()) {
            Some(start) => &self.added[start..start + len],
            None => &self.built[start..start + len],
        }
    }

    /// Makes what was added part of what copies share, when nothing was
    /// built before it (a new table, once filled): moved, not copied.
    fn seal(&mut self) {
        self.added.shrink_to_fit();
        if self.built.is_empty() {
            self.built = Arc::new(std::mem::take(&mut self.added));
        }
    }
}

/// One domain, 16 bytes. Its text lies in `DomainTable::text` from
/// `start`: the name, then the display name, then the organisation.
#[derive(Debug, Clone, Copy)]
struct Row {
    start: u32,
    display_name_len: u32,
    organization_len: u32,
    profile: ProfileIndex,
    /// A domain name has at most 253 bytes (`email::MAX_DOMAIN_LEN`).
    name_len: u8,
    /// `HAS_DISPLAY_NAME` and `HAS_ORGANIZATION`: an empty value is kept
    /// as written, apart from none.
    present: u8,
}

const HAS_DISPLAY_NAME: u8 = 1;
const HAS_ORGANIZATION: u8 = 2;
/// Taken out of the table: no longer in the index or in `iter`.
const REMOVED: u8 = 4;

impl Row {
    fn name<'a>(&self, text: &'a Text) -> &'a str {
        text.get(self.start as usize, usize::from(self.name_len))
    }

    fn display_name<'a>(&self, text: &'a Text) -> Option<&'a str> {
        let start = self.start as usize + usize::from(self.name_len);
        (self.present & HAS_DISPLAY_NAME != 0)
            .then(|| text.get(start, self.display_name_len as usize))
    }

    fn organization<'a>(&self, text: &'a Text) -> Option<&'a str> {
        let start =
            self.start as usize + usize::from(self.name_len) + self.display_name_len as usize;
        (self.present & HAS_ORGANIZATION != 0)
            .then(|| text.get(start, self.organization_len as usize))
    }
}

/// A profile of the table, by its position in the configuration's
/// profiles sorted by id. Only the first 65,536 profiles can be named by
/// the table (a configuration has a handful).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileIndex(u16);

/// One domain of the table, borrowed from it.
#[derive(Debug, Clone, Copy)]
pub struct DomainEntry<'a> {
    /// Lower-case ASCII (A-label) form: a `DomainName` as text.
    pub name: &'a str,
    pub profile: &'a Arc<Profile>,
    /// Shown in clients' account lists and on the landing page.
    pub display_name: Option<&'a str>,
    /// For Apple profiles' `PayloadOrganization`.
    pub organization: Option<&'a str>,
}

/// Why a domain was not added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertError {
    /// The domain is already in the table, at this row (0-based, in
    /// insertion order).
    Listed { row: usize },
    /// The table's text would pass 4 GiB (offsets are 32-bit), or it would
    /// have more than 2³² rows.
    TooLarge,
}

impl DomainTable {
    /// An empty table whose rows may name any of `profiles`.
    pub fn new(profiles: &Profiles) -> DomainTable {
        // Sorted by id (the map's key is the id, but the search relies on
        // it), so `profile` can search.
        let mut profiles: Vec<Arc<Profile>> = profiles.values().cloned().collect();
        profiles.sort_by(|a, b| a.id.cmp(&b.id));
        DomainTable {
            text: Text::default(),
            rows: Vec::new(),
            index: HashTable::new(),
            hasher: RandomState::default(),
            profiles,
            removed: 0,
        }
    }

    /// Makes room for `rows` more domains with `text_bytes` more bytes of
    /// names, so that filling the table neither copies nor rehashes it.
    pub fn reserve(&mut self, rows: usize, text_bytes: usize) {
        self.rows.reserve(rows);
        self.text.added.reserve(text_bytes);
        let Self {
            index,
            rows: table_rows,
            text,
            hasher,
            ..
        } = self;
        index.reserve(rows, |&row| hash_row(hasher, text, table_rows, row));
    }

    /// Gives back what `reserve` over-estimated (it counted every line of
    /// a domains file, comments and blank ones included), once the table
    /// is filled: from then on its copies share its text.
    pub fn shrink_to_fit(&mut self) {
        self.text.seal();
        self.rows.shrink_to_fit();
        let Self {
            index,
            rows,
            text,
            hasher,
            ..
        } = self;
        index.shrink_to_fit(|&row| hash_row(hasher, text, rows, row));
    }

    /// The profile with this id, for `insert`.
    pub fn profile(&self, id: &str) -> Option<ProfileIndex> {
        let position = self
            .profiles
            .binary_search_by(|profile| profile.id.as_str().cmp(id))
            .ok()?;
        // `load_profiles` refuses more than `MAX_PROFILES`, so every
        // position fits.
        const _: () = assert!(crate::profile::MAX_PROFILES <= 1 << 16);
        u16::try_from(position).ok().map(ProfileIndex)
    }

    /// The ids of every profile, sorted, for errors that list them.
    pub fn profile_ids(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|profile| profile.id.as_str())
    }

    /// Adds a domain, unless it is already there.
    pub fn insert(
        &mut self,
        name: &DomainName,
        profile: ProfileIndex,
        display_name: Option<&str>,
        organization: Option<&str>,
    ) -> Result<(), InsertError> {
        let row_number = u32::try_from(self.rows.len()).map_err(|_| InsertError::TooLarge)?;
        let name = name.as_str();
        // `DomainName` guarantees this; a longer name would not fit `name_len`.
        let name_len = u8::try_from(name.len()).map_err(|_| InsertError::TooLarge)?;
        let extra =
            name.len() + display_name.map_or(0, str::len) + organization.map_or(0, str::len);
        if self.text.len() + extra > u32::MAX as usize {
            return Err(InsertError::TooLarge);
        }
        let Self {
            text,
            rows,
            index,
            hasher,
            ..
        } = self;
        let hash = hasher.hash_one(name);
        match index.entry(
            hash,
            |&row| rows[row as usize].name(text) == name,
            |&row| hash_row(hasher, text, rows, row),
        ) {
            IndexEntry::Occupied(listed) => {
                return Err(InsertError::Listed {
                    row: *listed.get() as usize,
                });
            }
            IndexEntry::Vacant(slot) => {
                slot.insert(row_number);
            }
        }
        // Within u32 (checked above), and so is each part.
        let start = text.len() as u32;
        text.added.push_str(name);
        text.added.push_str(display_name.unwrap_or_default());
        text.added.push_str(organization.unwrap_or_default());
        rows.push(Row {
            start,
            display_name_len: display_name.map_or(0, str::len) as u32,
            organization_len: organization.map_or(0, str::len) as u32,
            profile,
            name_len,
            present: if display_name.is_some() {
                HAS_DISPLAY_NAME
            } else {
                0
            } | if organization.is_some() {
                HAS_ORGANIZATION
            } else {
                0
            },
        });
        Ok(())
    }

    /// The entry of `domain` (lower-case ASCII, as `DomainName` holds it).
    pub fn get(&self, domain: &str) -> Option<DomainEntry<'_>> {
        self.get_row(domain).map(|(_, entry)| entry)
    }

    /// The row number (0-based, in insertion order) and entry of `domain`.
    pub fn get_row(&self, domain: &str) -> Option<(usize, DomainEntry<'_>)> {
        let hash = self.hasher.hash_one(domain);
        let row = *self.index.find(hash, |&row| {
            self.rows[row as usize].name(&self.text) == domain
        })? as usize;
        Some((row, self.entry(&self.rows[row])))
    }

    pub fn contains(&self, domain: &str) -> bool {
        self.get(domain).is_some()
    }

    /// The entry at `row` (0-based, in insertion order), unless it was
    /// removed.
    pub fn row(&self, row: usize) -> Option<DomainEntry<'_>> {
        self.rows
            .get(row)
            .filter(|row| row.present & REMOVED == 0)
            .map(|row| self.entry(row))
    }

    /// Every entry, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = DomainEntry<'_>> {
        self.rows
            .iter()
            .filter(|row| row.present & REMOVED == 0)
            .map(|row| self.entry(row))
    }

    /// The domains in the table.
    pub fn len(&self) -> usize {
        self.rows.len() - self.removed
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows ever inserted, removed ones included: the number the next
    /// `insert` gets.
    pub fn rows_inserted(&self) -> usize {
        self.rows.len()
    }

    /// Rows taken out by `remove` since the table was built.
    pub fn removed(&self) -> usize {
        self.removed
    }

    /// Whether `row` holds exactly this domain (`name` as the table keeps
    /// it), profile, display name and organisation, and was not removed.
    pub fn row_is(
        &self,
        row: usize,
        name: &str,
        profile: ProfileIndex,
        display_name: Option<&str>,
        organization: Option<&str>,
    ) -> bool {
        self.rows.get(row).is_some_and(|row| {
            row.present & REMOVED == 0
                && row.profile == profile
                && row.name(&self.text) == name
                && row.display_name(&self.text) == display_name
                && row.organization(&self.text) == organization
        })
    }

    /// Takes the domain of `row` out of the table; false when there is no
    /// such row or it was removed already. Its row number is not reused.
    pub fn remove(&mut self, row: usize) -> bool {
        let Some(entry) = self.rows.get(row) else {
            return false;
        };
        if entry.present & REMOVED != 0 {
            return false;
        }
        let hash = self.hasher.hash_one(entry.name(&self.text));
        if let Ok(found) = self.index.find_entry(hash, |&r| r as usize == row) {
            found.remove();
        }
        self.rows[row].present |= REMOVED;
        self.removed += 1;
        true
    }

    fn entry(&self, row: &Row) -> DomainEntry<'_> {
        DomainEntry {
            name: row.name(&self.text),
            profile: &self.profiles[usize::from(row.profile.0)],
            display_name: row.display_name(&self.text),
            organization: row.organization(&self.text),
        }
    }
}

impl std::fmt::Debug for DomainTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainTable")
            .field("domains", &self.len())
            .field("removed", &self.removed)
            .field("text_bytes", &self.text.len())
            .finish()
    }
}

fn hash_row(hasher: &RandomState, text: &Text, rows: &[Row], row: u32) -> u64 {
    hasher.hash_one(rows[row as usize].name(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load_profiles;

    fn domain(name: &str) -> DomainName {
        DomainName::parse(name).unwrap()
    }

    #[test]
    fn entries_come_back_by_name_and_in_order() {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let m365 = table.profile("microsoft365").unwrap();
        let outlook = table.profile("outlook").unwrap();
        table.reserve(1, 4);
        table
            .insert(&domain("contoso.com"), m365, Some("Contoso"), Some("IT"))
            .unwrap();
        table
            .insert(&domain("fabrikam.net"), outlook, None, None)
            .unwrap();
        table
            .insert(&domain("adatum.org"), outlook, Some(""), Some("Adatum"))
            .unwrap();
        table.shrink_to_fit();

        let contoso = table.get("contoso.com").unwrap();
        assert_eq!(contoso.name, "contoso.com");
        assert_eq!(contoso.profile.id, "microsoft365");
        assert_eq!(contoso.display_name, Some("Contoso"));
        assert_eq!(contoso.organization, Some("IT"));
        let fabrikam = table.get("fabrikam.net").unwrap();
        assert_eq!(
            (fabrikam.profile.id.as_str(), fabrikam.display_name),
            ("outlook", None)
        );
        // An empty display name is kept as written, not dropped.
        let adatum = table.get("adatum.org").unwrap();
        assert_eq!(
            (adatum.display_name, adatum.organization),
            (Some(""), Some("Adatum"))
        );
        assert_eq!(std::mem::size_of::<Row>(), 16);
        assert!(table.get("contoso.co").is_none());
        assert!(table.get("ontoso.com").is_none());
        let names: Vec<&str> = table.iter().map(|entry| entry.name).collect();
        assert_eq!(names, ["contoso.com", "fabrikam.net", "adatum.org"]);
        assert_eq!(table.row(1).unwrap().name, "fabrikam.net");
    }

    #[test]
    fn a_domain_inserted_twice_names_the_first_row() {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let outlook = table.profile("outlook").unwrap();
        for name in ["a.example", "b.example"] {
            table.insert(&domain(name), outlook, None, None).unwrap();
        }
        assert_eq!(
            table.insert(&domain("B.Example"), outlook, Some("x"), None),
            Err(InsertError::Listed { row: 1 })
        );
        assert_eq!(table.len(), 2);
        assert_eq!(table.get("b.example").unwrap().display_name, None);
    }

    #[test]
    fn unknown_profiles_have_no_index() {
        let table = DomainTable::new(&load_profiles(None).unwrap());
        assert!(table.profile("gmail").is_none());
        assert_eq!(
            table.profile_ids().collect::<Vec<_>>(),
            ["microsoft365", "outlook"]
        );
    }

    #[test]
    fn many_domains_grow_the_index_without_losing_any() {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let outlook = table.profile("outlook").unwrap();
        // No `reserve`: the index rehashes as it grows.
        for i in 0..5_000 {
            let name = domain(&format!("d{i}.example"));
            table
                .insert(&name, outlook, Some(&format!("Customer {i}")), None)
                .unwrap();
        }
        for i in (0..5_000).step_by(7) {
            let entry = table.get(&format!("d{i}.example")).unwrap();
            assert_eq!(entry.display_name, Some(format!("Customer {i}").as_str()));
        }
    }

    /// A copy shares the text the table was built with and keeps what it
    /// adds to itself; removing a row takes it out of the copy only.
    #[test]
    fn a_copy_shares_the_built_text_and_edits_only_itself() {
        let mut table = DomainTable::new(&load_profiles(None).unwrap());
        let outlook = table.profile("outlook").unwrap();
        for name in ["a.example", "b.example"] {
            table
                .insert(&domain(name), outlook, Some(name), None)
                .unwrap();
        }
        table.shrink_to_fit();
        let mut copy = table.clone();
        assert!(Arc::ptr_eq(&table.text.built, &copy.text.built));
        assert!(copy.remove(0));
        assert!(!copy.remove(0), "removed once");
        copy.insert(&domain("c.example"), outlook, Some("C"), Some("Org"))
            .unwrap();
        copy.insert(&domain("a.example"), outlook, None, None)
            .unwrap();
        assert!(Arc::ptr_eq(&table.text.built, &copy.text.built));

        let names = |table: &DomainTable| -> Vec<String> {
            table
                .iter()
                .map(|entry| {
                    format!(
                        "{} {:?} {:?}",
                        entry.name, entry.display_name, entry.organization
                    )
                })
                .collect()
        };
        assert_eq!(
            names(&table),
            [
                "a.example Some(\"a.example\") None",
                "b.example Some(\"b.example\") None"
            ]
        );
        assert_eq!(
            names(&copy),
            [
                "b.example Some(\"b.example\") None",
                "c.example Some(\"C\") Some(\"Org\")",
                "a.example None None"
            ]
        );
        assert_eq!(
            (copy.len(), copy.removed(), copy.rows_inserted()),
            (3, 1, 4)
        );
        assert!(copy.row(0).is_none());
        assert_eq!(copy.get_row("a.example").unwrap().0, 3);
        assert!(copy.row_is(2, "c.example", outlook, Some("C"), Some("Org")));
        assert!(!copy.row_is(2, "c.example", outlook, Some("C"), None));
        assert!(!copy.row_is(0, "a.example", outlook, Some("a.example"), None));
        assert_eq!(table.get_row("a.example").unwrap().0, 0);
    }
}
