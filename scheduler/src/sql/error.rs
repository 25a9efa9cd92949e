//! What can be wrong with a SQL statement, found before any task runs.

/// A SQL statement that cannot be planned. Converted into
/// [`dask::Error::Sql`](crate::Error::Sql) by [`Context::sql`](super::Context::sql).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The text is not SQL the parser understands; `line` and `column` count from 1.
    #[error("syntax error at line {line}, column {column}: {message}")]
    Syntax {
        line: u64,
        column: u64,
        message: String,
    },
    /// A table that is not registered.
    #[error("no table `{name}`; the tables are: {}", list(available))]
    UnknownTable {
        name: String,
        available: Vec<String>,
    },
    /// A column that no table in scope has (or that two have, `ambiguous`).
    #[error("{} column `{name}`; the columns are: {}",
        if *ambiguous { "ambiguous" } else { "no" }, list(available))]
    UnknownColumn {
        name: String,
        ambiguous: bool,
        available: Vec<String>,
    },
    /// SQL that is valid but that this engine does not run (named in `what`).
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    /// An expression whose operand types do not fit (the expression is named in `why`).
    #[error("type error in `{expr}`: {why}")]
    Type { expr: String, why: String },
    /// A statement that is well-formed but wrong for another reason (said in `why`).
    #[error("{why}")]
    Invalid { why: String },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_string()
    } else {
        names.join(", ")
    }
}

impl SqlError {
    pub(crate) fn unsupported(what: impl Into<String>) -> SqlError {
        SqlError::Unsupported {
            what: clip(what.into()),
        }
    }

    pub(crate) fn invalid(why: impl Into<String>) -> SqlError {
        SqlError::Invalid {
            why: clip(why.into()),
        }
    }

    /// The parser's error with its position taken out of its message (sqlparser ends
    /// messages with `at Line: L, Column: C`); an error at the end of `query` (which
    /// sqlparser gives no position) is placed just after its last character.
    pub(crate) fn from_parser(e: sqlparser::parser::ParserError, query: &str) -> SqlError {
        use sqlparser::parser::ParserError;
        let text = match e {
            ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
            ParserError::RecursionLimitExceeded => {
                return SqlError::Syntax {
                    line: 1,
                    column: 1,
                    message: "nested too deeply".into(),
                }
            }
        };
        let number_after = |tag: &str| -> Option<u64> {
            let at = text.rfind(tag)? + tag.len();
            let digits: String = text[at..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let (line, column) = (number_after("Line:"), number_after("Column:"));
        let message = match text.rfind(" at Line:") {
            Some(at) => text[..at].to_string(),
            None => text.clone(),
        };
        let (line, column) = match (line, column) {
            (Some(l), Some(c)) => (l, c),
            _ if message.contains("EOF") => {
                let trimmed = query.trim_end();
                let line = trimmed.lines().count().max(1) as u64;
                let last = trimmed.lines().last().unwrap_or("");
                (line, last.chars().count() as u64 + 1)
            }
            _ => (1, 1),
        };
        SqlError::Syntax {
            line,
            column,
            message,
        }
    }
}

impl From<crate::dataframe::DataFrameError> for SqlError {
    fn from(e: crate::dataframe::DataFrameError) -> SqlError {
        use crate::dataframe::DataFrameError;
        match e {
            DataFrameError::UnknownColumn {
                column, available, ..
            } => SqlError::UnknownColumn {
                name: column,
                ambiguous: false,
                available,
            },
            DataFrameError::TypeMismatch { expr, why, .. } => SqlError::Type { expr, why },
            other => SqlError::Invalid {
                why: other.to_string(),
            },
        }
    }
}

/// A message cut to a readable length (it may quote a long expression).
fn clip(mut text: String) -> String {
    const MAX: usize = 240;
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}
