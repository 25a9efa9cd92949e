//! SQL's `LIKE` patterns: `%` matches any run of characters (none included), `_` exactly
//! one character, anything else itself. Matching is by character (not byte), so `_`
//! matches one accented letter; case counts unless the pattern was compiled to ignore it
//! (`ILIKE`).

use arrow_array::{Array, ArrayRef, BooleanArray, StringArray};
use arrow_schema::{ArrowError, DataType};

/// One element of a compiled pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    /// `%`.
    Any,
    /// `_`.
    One,
    Char(char),
}

/// A compiled `LIKE` pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    pieces: Vec<Piece>,
    case_insensitive: bool,
}

impl Pattern {
    pub(crate) fn new(pattern: &str, case_insensitive: bool) -> Pattern {
        let text = if case_insensitive {
            pattern.to_lowercase()
        } else {
            pattern.to_string()
        };
        let pieces = text
            .chars()
            .map(|c| match c {
                '%' => Piece::Any,
                '_' => Piece::One,
                c => Piece::Char(c),
            })
            .collect();
        Pattern {
            pieces,
            case_insensitive,
        }
    }

    /// Whether all of `text` matches. Greedy with one backtrack point, the last `%`: a
    /// later `%` supersedes an earlier one, so the time is O(text × pattern) at worst,
    /// never exponential.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let lowered;
        let text = if self.case_insensitive {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let t: Vec<char> = text.chars().collect();
        let p = &self.pieces;
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while i < t.len() {
            match p.get(j) {
                Some(Piece::One) => {
                    i += 1;
                    j += 1;
                }
                Some(Piece::Char(c)) if *c == t[i] => {
                    i += 1;
                    j += 1;
                }
                Some(Piece::Any) => {
                    star = Some((j, i));
                    j += 1;
                }
                _ => match star {
                    // The last `%` takes one more character and matching resumes after it.
                    Some((s, from)) => {
                        star = Some((s, from + 1));
                        i = from + 1;
                        j = s + 1;
                    }
                    None => return false,
                },
            }
        }
        p[j..].iter().all(|x| *x == Piece::Any)
    }

    /// Whether each value of `values` (a string column) matches; null where it is null.
    pub(crate) fn evaluate(&self, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        let strings = arrow_cast::cast(values.as_ref(), &DataType::Utf8)?;
        let strings = strings
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| ArrowError::CastError("LIKE of a non-string column".into()))?;
        let out: BooleanArray = strings.iter().map(|v| v.map(|s| self.matches(s))).collect();
        Ok(std::sync::Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn percent_and_underscore_match_as_in_sql() {
        let cases = [
            ("A%", "Alice", true),
            ("A%", "alice", false),
            ("%e", "Alice", true),
            ("%li%", "Alice", true),
            ("_ob", "Bob", true),
            ("_ob", "Boob", false),
            ("B_b", "Bob", true),
            ("%", "", true),
            ("_", "", false),
            ("", "", true),
            ("", "a", false),
            ("a%b%c", "aXbYc", true),
            ("a%b%c", "aXbY", false),
            ("%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
            ("_é_", "hél", true),
            ("100%", "100", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(Pattern::new(p, false).matches(t), want, "{t:?} LIKE {p:?}");
        }
        assert!(Pattern::new("a%", true).matches("ALICE"));
        assert!(!Pattern::new("b%", true).matches("ALICE"));
    }
}
