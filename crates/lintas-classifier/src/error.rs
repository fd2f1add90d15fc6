//! The crate's one error type.
//!
//! Every variant is a permanent, user-side error (a bad rules file, model file or labeled data):
//! retrying cannot fix it, the operator must. Classification itself never fails: an event the
//! rules and the model cannot decide gets `UNSPECIFIED` labels with confidence 0.

use std::fmt;
use std::path::PathBuf;

/// Errors of loading rules, models and labeled data, and of training.
#[derive(Debug, thiserror::Error)]
pub enum ClassifierError {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`reading`, `writing`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The rules file is not valid TOML, or lacks its `version`.
    #[error("rules file: {0}")]
    RulesSyntax(String),
    /// The rules file parsed but some entries are invalid; every problem is listed.
    #[error("rules file has {} invalid field(s):\n{}", .0.len(), RuleErrorList(.0))]
    InvalidRules(Vec<RuleError>),
    /// The model file is not a readable model of a supported format version.
    #[error("model file: {0}")]
    ModelFormat(String),
    /// A line of labeled JSONL data is invalid.
    #[error("labeled data line {line}: {message}")]
    Data {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Training was asked for something it cannot do (no rows, one class only).
    #[error("training: {0}")]
    Training(String),
}

impl ClassifierError {
    /// A stable, low-cardinality name of the error kind, for metric labels and exit reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::RulesSyntax(_) => "rules_syntax",
            Self::InvalidRules(_) => "rules_invalid",
            Self::ModelFormat(_) => "model_format",
            Self::Data { .. } => "data",
            Self::Training(_) => "training",
        }
    }
}

/// One problem in a rules file, naming the entry and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Where: `rule`, `refine`, `lexicon` or `context` (the file's top-level tables).
    pub section: &'static str,
    /// The entry's `id`, or `#<index>` when it has none.
    pub rule_id: String,
    /// The offending field, e.g. `when.rating.scale`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}`: field `{}`: {}",
            self.section, self.rule_id, self.field, self.message
        )
    }
}

struct RuleErrorList<'a>(&'a [RuleError]);

impl fmt::Display for RuleErrorList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {error}")?;
        }
        Ok(())
    }
}
