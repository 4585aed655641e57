//! Noticing changed files: fingerprints of the certificate files and the
//! configuration file, taken at every look, and the bookkeeping of one
//! group of files (what is in service, what failed, what was already
//! said). Does not load anything (see `load`, `tls`) and swaps nothing in
//! (see `server`, which runs the looks).
//!
//! Polling, not inotify: the platforms change these files in three ways
//! (the kubelet swaps a `..data` symlink over a new directory, certbot
//! points `live/` links at new `archive/` files, an editor or `cp` rewrites
//! a file in place), and a fingerprint taken through the symlinks sees all
//! three the same way on every filesystem, network and overlay ones
//! included, with no crate and no watch descriptors that a swapped
//! directory would silently orphan. A look costs a `stat` of every
//! watched file and the read and SHA-256 of every certificate and key
//! file (a `certificates_dir` with N entries: 2N small files) every
//! `watch_interval_secs`: nothing for one certificate, a fraction of a
//! second of one core per look for thousands of certbot lineages, for
//! whom a longer interval is the lever.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Files larger than this are fingerprinted by their metadata only; a
/// certificate chain or key is a few kilobytes.
const MAX_HASHED_BYTES: u64 = 1 << 20;

/// What a group of files looked like at one moment. Two fingerprints are
/// equal when no file was replaced, rewritten, moved or re-permissioned
/// in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, FileState)>);

/// One file as seen through its symlinks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileState {
    Present {
        /// Where the symlinks lead: a `..data` swap or a certbot renewal
        /// changes it even when the new file has the old one's size and
        /// time.
        target: PathBuf,
        device: u64,
        inode: u64,
        size: u64,
        modified_nanos: i128,
        /// Changes with the mode too (a `chmod` that makes a key
        /// readable is worth another try).
        changed_nanos: i128,
        /// SHA-256 of the contents, for small files: an in-place rewrite
        /// within the filesystem's timestamp granularity keeps size and
        /// times.
        contents: Option<Vec<u8>>,
    },
    /// Missing or unreadable, and why (the error's kind).
    Absent(std::io::ErrorKind),
}

impl Fingerprint {
    /// Looks at `paths` (following symlinks); `hash_contents` reads the
    /// small ones too.
    pub fn of(paths: &[PathBuf], hash_contents: bool) -> Fingerprint {
        Fingerprint(
            paths
                .iter()
                .map(|path| (path.clone(), FileState::of(path, hash_contents)))
                .collect(),
        )
    }
}

impl FileState {
    fn of(path: &Path, hash_contents: bool) -> FileState {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) => return FileState::Absent(error.kind()),
        };
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let contents = (hash_contents && metadata.is_file() && metadata.len() <= MAX_HASHED_BYTES)
            .then(|| std::fs::read(path).ok())
            .flatten()
            .map(|bytes| {
                ring::digest::digest(&ring::digest::SHA256, &bytes)
                    .as_ref()
                    .to_vec()
            });
        FileState::Present {
            target,
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.len(),
            modified_nanos: nanos(metadata.mtime(), metadata.mtime_nsec()),
            changed_nanos: nanos(metadata.ctime(), metadata.ctime_nsec()),
            contents,
        }
    }
}

fn nanos(secs: i64, nanos: i64) -> i128 {
    i128::from(secs) * 1_000_000_000 + i128::from(nanos)
}

/// One group of watched files (the certificates, the configuration) and
/// what became of their last change.
#[derive(Debug, Default)]
pub struct Watched {
    /// The fingerprint of the files now in service; `None` when unknown
    /// (a reload from elsewhere may have read other files).
    applied: Option<Fingerprint>,
    /// The last fingerprint a change was tried at, whatever came of it.
    tried: Option<Fingerprint>,
    /// Problems already logged, so that a file that stays broken is
    /// reported once, not at every look.
    reported: BTreeSet<String>,
}

/// What to do at a look.
#[derive(Debug, PartialEq, Eq)]
pub enum Look {
    /// The files are what is in service.
    Unchanged,
    /// They differ: load them.
    Changed,
    /// They differ, but exactly as at the last try, which failed: wait for
    /// them to change again (a configuration error does not fix itself,
    /// and a large domain table is not re-read every few seconds).
    FailedAlready,
}

impl Watched {
    /// A group whose files in service are `applied`.
    pub fn new(applied: Fingerprint) -> Watched {
        Watched {
            applied: Some(applied),
            ..Watched::default()
        }
    }

    /// Compares the files as they are now with what is in service.
    pub fn look(&self, now: &Fingerprint) -> Look {
        if self.applied.as_ref() == Some(now) {
            Look::Unchanged
        } else if self.tried.as_ref() == Some(now) {
            Look::FailedAlready
        } else {
            Look::Changed
        }
    }

    /// The files at `now` are in service, all of them.
    pub fn applied(&mut self, now: Fingerprint) {
        self.applied = Some(now);
        self.tried = None;
        self.reported.clear();
    }

    /// A load of the files at `now` was tried and did not put all of them
    /// in service: the next look tries again when they change (or, for
    /// `retry_unchanged`, at every look).
    pub fn failed(&mut self, now: Fingerprint, retry_unchanged: bool) {
        self.tried = (!retry_unchanged).then_some(now);
    }

    /// Forgets what is in service: the next look loads the files again.
    pub fn forget(&mut self) {
        self.applied = None;
        self.tried = None;
    }

    /// Of `problems` (what is wrong now), those not reported yet; forgets
    /// the ones that went away, so a problem that comes back is told
    /// again.
    pub fn news(&mut self, problems: Vec<String>) -> Vec<String> {
        let now: BTreeSet<String> = problems.into_iter().collect();
        let news = now.difference(&self.reported).cloned().collect();
        self.reported = now;
        news
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_in_place_a_symlink_swap_and_a_removal_change_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tls.crt");
        let first = dir.path().join("first");
        let second = dir.path().join("second");
        std::fs::write(&first, "one").unwrap();
        std::fs::write(&second, "two").unwrap();
        std::os::unix::fs::symlink(&first, &file).unwrap();
        let paths = vec![file.clone()];
        let before = Fingerprint::of(&paths, true);
        assert_eq!(before, Fingerprint::of(&paths, true));

        let link = dir.path().join("new-link");
        std::os::unix::fs::symlink(&second, &link).unwrap();
        std::fs::rename(&link, &file).unwrap();
        let swapped = Fingerprint::of(&paths, true);
        assert_ne!(before, swapped);

        // Same size, written at once: only the contents tell.
        std::fs::write(&second, "owt").unwrap();
        let rewritten = Fingerprint::of(&paths, true);
        assert_ne!(swapped, rewritten);

        std::fs::remove_file(&second).unwrap();
        assert_ne!(rewritten, Fingerprint::of(&paths, true));
    }

    #[test]
    fn a_failed_change_is_not_tried_again_until_the_files_change() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mailsetup.toml");
        std::fs::write(&file, "a").unwrap();
        let paths = vec![file.clone()];
        let mut watched = Watched::new(Fingerprint::of(&paths, false));
        assert_eq!(
            watched.look(&Fingerprint::of(&paths, false)),
            Look::Unchanged
        );

        std::fs::write(&file, "bad edit").unwrap();
        let bad = Fingerprint::of(&paths, false);
        assert_eq!(watched.look(&bad), Look::Changed);
        watched.failed(bad.clone(), false);
        assert_eq!(watched.look(&bad), Look::FailedAlready);

        std::fs::write(&file, "fixed edit, longer").unwrap();
        let fixed = Fingerprint::of(&paths, false);
        assert_eq!(watched.look(&fixed), Look::Changed);
        watched.applied(fixed.clone());
        assert_eq!(watched.look(&fixed), Look::Unchanged);
    }

    #[test]
    fn a_problem_is_news_once_and_again_after_it_went_away() {
        let mut watched = Watched::default();
        assert_eq!(watched.news(vec!["key".into()]), ["key"]);
        assert!(watched.news(vec!["key".into()]).is_empty());
        assert!(watched.news(Vec::new()).is_empty());
        assert_eq!(watched.news(vec!["key".into()]), ["key"]);
    }
}
