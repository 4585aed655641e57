//! Source files of the configuration (`mailsetup.toml`, profiles): their
//! text kept beside the parsed value, and `ConfigError`, which points at a
//! file, line and column. The layer every configuration module stands on;
//! knows nothing of what the files mean.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {cause}", path = path.display())]
    Io {
        path: PathBuf,
        /// In the message, not chained: `{error:#}` must not say it twice.
        cause: std::io::Error,
    },
    /// `line` and `column` are 1-based; absent when the problem is the file
    /// as a whole.
    #[error("{}: {reason}", location(path, *line, *column))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        reason: String,
    },
    /// Several bad lines of one file (the domains file), each with its
    /// 1-based line number, reported at once.
    #[error("{}", lines(path, problems))]
    Lines {
        path: PathBuf,
        problems: Vec<(usize, String)>,
    },
}

fn lines(path: &Path, problems: &[(usize, String)]) -> String {
    problems
        .iter()
        .map(|(line, reason)| format!("{}:{line}: {reason}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn location(path: &Path, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("{}:{line}:{column}", path.display()),
        _ => path.display().to_string(),
    }
}

impl ConfigError {
    pub fn io(path: &Path, cause: std::io::Error) -> Self {
        ConfigError::Io {
            path: path.to_owned(),
            cause,
        }
    }
}

/// A configuration or profile file with its text, so errors found after
/// parsing can still point at a line.
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: &Path, text: String) -> Self {
        SourceFile {
            path: path.to_owned(),
            text,
        }
    }

    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::io(path, e))?;
        Ok(SourceFile::new(path, text))
    }

    /// SHA-256 of the text: what says that a file is unchanged.
    pub fn digest(&self) -> [u8; 32] {
        digest_bytes(ring::digest::digest(
            &ring::digest::SHA256,
            self.text.as_bytes(),
        ))
    }

    /// Deserializes the whole file; a syntax or type error keeps toml's
    /// location and message (without its multi-line snippet).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(&self.text).map_err(|e| {
            let reason = e.message().trim().to_owned();
            self.error_at(e.span(), reason)
        })
    }

    pub fn error_at(&self, span: Option<Range<usize>>, reason: String) -> ConfigError {
        let (line, column) = match span {
            Some(span) => {
                let before = &self.text[..span.start.min(self.text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        ConfigError::Invalid {
            path: self.path.clone(),
            line,
            column,
            reason,
        }
    }
}

/// A SHA-256 digest as the array it is.
pub fn digest_bytes(digest: ring::digest::Digest) -> [u8; 32] {
    digest
        .as_ref()
        .try_into()
        .unwrap_or_else(|_| unreachable!("SHA-256 digests are 32 bytes"))
}
