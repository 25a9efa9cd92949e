//! Column names from a CSV header, made unique as pandas' `read_csv` makes them (and so
//! Dask's, which reads each file with pandas): an empty name becomes `Unnamed: {i}` (`i`
//! its position), and a later duplicate of a name gets `.1`, `.2`, ... appended
//! (pandas' `mangle_dupe_cols`). A header that names a column twice otherwise gave a
//! schema in which a lookup by name found only the first of them.

use std::collections::HashMap;

/// The unique names of the columns of a header naming them `raw`, in the header's order.
///
/// The rules of pandas' C parser (`_get_header` in `parsers.pyx`), also those of its
/// Python parser:
/// - named columns are visited first, left to right, then the unnamed ones, so a named
///   column keeps its name where an `Unnamed: {i}` placeholder would repeat it;
/// - the first occurrence of a name keeps it; a later one becomes `name.k` with `k` the
///   occurrence's count, and where `name.k` is itself in the header (`a,a,a.1`), `k`
///   goes on counting until it is not: `a,a,a.1` gives `a`, `a.2`, `a.1`.
pub(super) fn unique(raw: &[String]) -> Vec<String> {
    let mut names: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.is_empty() {
                format!("Unnamed: {i}")
            } else {
                n.clone()
            }
        })
        .collect();
    let order = (0..raw.len())
        .filter(|&i| !raw[i].is_empty())
        .chain((0..raw.len()).filter(|&i| raw[i].is_empty()));
    // How many times each name has been given so far (and so the next suffix to try).
    let mut counts: HashMap<String, usize> = HashMap::new();
    // How many columns of the header, as renamed so far, bear each name: a lookup here
    // rather than a scan of `names` keeps a wide header of repeated names linear.
    let mut present: HashMap<String, usize> = HashMap::new();
    for n in &names {
        *present.entry(n.clone()).or_default() += 1;
    }
    for i in order {
        let old = names[i].clone();
        let mut name = old.clone();
        let mut count = counts.get(&name).copied().unwrap_or(0);
        while count > 0 {
            counts.insert(old.clone(), count + 1);
            name = format!("{old}.{count}");
            // Checked against the header as renamed so far, later names included, as
            // pandas does: a name the header gives a later column is not taken from it.
            count = if present.get(&name).is_some_and(|&k| k > 0) {
                count + 1
            } else {
                counts.get(&name).copied().unwrap_or(0)
            };
        }
        counts.insert(name.clone(), count + 1);
        if name != old {
            if let Some(k) = present.get_mut(&old) {
                *k -= 1;
            }
            *present.entry(name.clone()).or_default() += 1;
        }
        names[i] = name;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::unique;

    fn names(header: &str) -> Vec<String> {
        unique(&header.split(',').map(str::to_string).collect::<Vec<_>>())
    }

    #[test]
    fn later_duplicates_are_numbered_as_pandas_numbers_them() {
        assert_eq!(names("a,b,c"), ["a", "b", "c"]);
        assert_eq!(names("a,b,a"), ["a", "b", "a.1"]);
        assert_eq!(names("a,a,b,b,b,a"), ["a", "a.1", "b", "b.1", "b.2", "a.2"]);
        // pandas' `test_thorough_mangle_columns` cases: a taken name is skipped.
        assert_eq!(names("a,a,a.1"), ["a", "a.2", "a.1"]);
        assert_eq!(
            names("a,a,a.1,a.1.1,a.1.1.1,a.1.1.1.1"),
            ["a", "a.2", "a.1", "a.1.1", "a.1.1.1", "a.1.1.1.1"]
        );
        assert_eq!(
            names("a,a,a.3,a.1,a.2,a,a"),
            ["a", "a.4", "a.3", "a.1", "a.2", "a.5", "a.6"]
        );
        assert_eq!(names("a,a.1,a"), ["a", "a.1", "a.2"]);
    }

    #[test]
    fn empty_names_are_unnamed_placeholders_visited_after_the_named() {
        assert_eq!(names(",a,"), ["Unnamed: 0", "a", "Unnamed: 2"]);
        // The named column keeps `Unnamed: 1`; the placeholder is the duplicate.
        assert_eq!(names("x,,Unnamed: 1"), ["x", "Unnamed: 1.1", "Unnamed: 1"]);
    }

    #[test]
    fn a_wide_header_of_one_repeated_name_is_numbered_in_linear_time() {
        // 200,000 columns named alike: a scan of the header per rename took minutes.
        let raw = vec!["a".to_string(); 200_000];
        let started = std::time::Instant::now();
        let got = unique(&raw);
        assert_eq!(got[0], "a");
        assert_eq!(got[1], "a.1");
        assert_eq!(got[199_999], "a.199999");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
    }
}
