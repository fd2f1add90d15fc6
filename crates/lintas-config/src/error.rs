//! Errors of loading and validating the configuration.
//!
//! Every problem with a value is a [`FieldError`] that names the key path (`kafka.brokers`), the
//! offending value (masked when the key holds a secret) and what was expected, so an operator can
//! fix the configuration from the message alone. Validation collects all of them before failing.

use std::fmt;

/// Loading or validating the configuration failed; the process must not start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or parsed (a missing or unreadable file, a TOML syntax error, an
    /// environment variable that is not UTF-8). `origin` names the layer, e.g. the file's path.
    #[error("cannot load configuration from {origin}: {message}")]
    Load {
        /// The layer that failed: a file path, `embedded defaults` or an environment variable.
        origin: String,
        /// What went wrong, as reported by the reader or parser.
        message: String,
    },
    /// The layers merged, but one or more values are invalid; every problem is listed.
    #[error(
        "invalid configuration ({count} problem{plural}):\n{0}",
        count = .0.len(),
        plural = if .0.len() == 1 { "" } else { "s" }
    )]
    Invalid(ConfigErrors),
}

/// All problems found in one configuration, in the order the keys were checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<FieldError>);

impl ConfigErrors {
    /// The number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The problems, in the order the keys were checked.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The first problem reported for `key`, if any (handy in tests and tooling).
    pub fn get(&self, key: &str) -> Option<&FieldError> {
        self.0.iter().find(|error| error.key == key)
    }
}

/// One error per line, each indented by two spaces.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// What kind of problem a [`FieldError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldErrorKind {
    /// The key is known but its value is not acceptable.
    InvalidValue,
    /// The key is not a setting (usually a typo); `expected` lists the keys allowed there. The
    /// value is not reported: a misspelt secret key would otherwise leak its secret.
    UnknownKey,
}

/// One problem with one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The full key path, e.g. `kafka.brokers` or `tenants.acme.write_keys[1]`.
    pub key: String,
    /// The offending value as written, or `****` when the key holds a secret.
    pub value: String,
    /// What would have been accepted, e.g. `a comma-separated list of host:port`.
    pub expected: String,
    /// Whether the value or the key itself is wrong.
    pub kind: FieldErrorKind,
}

impl FieldError {
    /// A known key with an unacceptable value.
    pub fn invalid(
        key: impl Into<String>,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            expected: expected.into(),
            kind: FieldErrorKind::InvalidValue,
        }
    }

    /// A key that is not a setting; `expected` describes the keys allowed at that place.
    pub fn unknown_key(key: impl Into<String>, expected: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: String::new(),
            expected: expected.into(),
            kind: FieldErrorKind::UnknownKey,
        }
    }
}

/// `{key}: invalid value "{value}": expected {expected}` for values, and
/// ``{key}: unknown field `{name}` in `{parent}`, expected {expected}`` for unknown keys.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FieldErrorKind::InvalidValue => write!(
                f,
                "{}: invalid value {:?}: expected {}",
                self.key, self.value, self.expected
            ),
            FieldErrorKind::UnknownKey => match self.key.rsplit_once('.') {
                Some((parent, name)) => write!(
                    f,
                    "{}: unknown field `{name}` in `{parent}`, expected {}",
                    self.key, self.expected
                ),
                None => write!(
                    f,
                    "{}: unknown section `{}`, expected {}",
                    self.key, self.key, self.expected
                ),
            },
        }
    }
}

impl std::error::Error for FieldError {}
