//! The SQL front end never panics: random token soups and mutations of valid queries
//! give a result or an error, and a result computes to a table or an error. Crashes the
//! fuzzing found are kept as plain tests at the end.
#![cfg(feature = "sql")]

use std::sync::Arc;

use dask::dataframe::arrow::array::{
    ArrayRef, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::DataFrame;
use dask::sql::Context;
use proptest::prelude::*;

fn context() -> Context {
    let part = |ids: Vec<i64>| {
        let n = ids.len();
        RecordBatch::try_from_iter([
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from_iter_values(
                    ids.iter().map(|i| i * 3_600_000_000_000),
                )) as ArrayRef,
            ),
            ("id", Arc::new(Int64Array::from(ids.clone())) as _),
            (
                "name",
                Arc::new(StringArray::from_iter((0..n).map(|i| {
                    if i % 4 == 3 {
                        None
                    } else {
                        Some(["a", "b", "c"][i % 3])
                    }
                }))) as _,
            ),
            (
                "x",
                Arc::new(Float64Array::from_iter((0..n).map(|i| {
                    if i % 5 == 2 {
                        None
                    } else {
                        Some(i as f64 / 3.0 - 1.0)
                    }
                }))) as _,
            ),
        ])
        .unwrap()
    };
    let mut ctx = Context::new();
    ctx.create_table(
        "t",
        DataFrame::from_batches(vec![
            part(vec![0, 1, 2, 3]),
            part(vec![]),
            part(vec![4, 5, 6]),
        ])
        .unwrap()
        .with_sorted_index("ts"),
    );
    let names = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![1, 2, 9])) as ArrayRef),
        (
            "label",
            Arc::new(StringArray::from(vec!["one", "two", "nine"])) as _,
        ),
    ])
    .unwrap();
    ctx.create_table("u", DataFrame::from_batches(vec![names]).unwrap());
    ctx
}

const SEEDS: &[&str] = &[
    "SELECT name, SUM(x) AS s, MAX(id) FROM t WHERE x > 0 GROUP BY name HAVING COUNT(*) > 1 ORDER BY s DESC LIMIT 2",
    "SELECT DATE_TRUNC('day', ts) AS d, COUNT(DISTINCT name), STDDEV(x) FROM t GROUP BY d",
    "SELECT t.id, u.label FROM t LEFT JOIN u ON t.id = u.id WHERE t.x IS NOT NULL",
    "SELECT DISTINCT name FROM (SELECT name, x FROM t WHERE id BETWEEN 1 AND 5) s",
    "SELECT id, CASE WHEN x > 0 THEN 'p' WHEN x IS NULL THEN NULL ELSE 'n' END c, CAST(x AS INT) FROM t",
    "SELECT id FROM t UNION ALL SELECT id FROM u ORDER BY 1 LIMIT 3",
    "CREATE TABLE w AS SELECT name, AVG(x) a FROM t GROUP BY name",
    "SELECT COUNT(*), MIN(name), COALESCE(MAX(x), 0) FROM t WHERE name IN ('a', 'b')",
    "WITH s AS (SELECT name, SUM(x) AS sx FROM t GROUP BY name) SELECT * FROM s ORDER BY sx LIMIT 2 OFFSET 1",
    "SELECT t.id, u.label FROM t FULL OUTER JOIN u ON t.id = u.id WHERE t.name NOT LIKE 'a%'",
    "SELECT u.label, t.name FROM t RIGHT JOIN u ON t.id = u.id LIMIT 1, 2",
];

const WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "DISTINCT",
    "JOIN",
    "LEFT",
    "ON",
    "UNION",
    "ALL",
    "AS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "CAST",
    "INT",
    "DOUBLE",
    "TIMESTAMP",
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "STDDEV",
    "DATE_TRUNC",
    "AND",
    "OR",
    "NOT",
    "IS",
    "NULL",
    "IN",
    "BETWEEN",
    "t",
    "u",
    "id",
    "name",
    "x",
    "ts",
    "label",
    "t.id",
    "u.id",
    "*",
    "(",
    ")",
    ",",
    "+",
    "-",
    "/",
    "=",
    "<",
    ">",
    "<>",
    "0",
    "1",
    "-1",
    "2.5",
    "'a'",
    "'hour'",
    "''",
    "1e308",
    "9223372036854775807",
    "CREATE",
    "TABLE",
    "SHOW",
    "TABLES",
    "DESCRIBE",
    "DROP",
    "EXPLAIN",
    ";",
    "WITH",
    "OFFSET",
    "LIKE",
    "'%a_'",
    "RIGHT",
    "FULL",
    "OUTER",
    "RECURSIVE",
    "OVER",
    "EXISTS",
];

/// Runs `q`; whatever it gives, computing it must not panic either.
fn run(q: &str) {
    let mut ctx = context();
    if let Ok(df) = ctx.sql(q) {
        let _ = df.compute();
    }
    let _ = ctx.explain(q);
}

fn mutate(seed: &str, edits: &[(u8, usize, usize)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(kind, a, b) in edits {
        if chars.is_empty() {
            break;
        }
        let i = a % chars.len();
        let j = (i + b % 12).min(chars.len());
        match kind % 4 {
            0 => {
                chars.drain(i..j);
            }
            1 => {
                let w: Vec<char> = format!(" {} ", WORDS[b % WORDS.len()]).chars().collect();
                chars.splice(i..i, w);
            }
            2 => {
                let piece: Vec<char> = chars[i..j].to_vec();
                chars.splice(j..j, piece);
            }
            _ => chars.swap(i, j.saturating_sub(1).max(i)),
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(words in prop::collection::vec(0..WORDS.len(), 0..24)) {
        let q: Vec<&str> = words.iter().map(|&i| WORDS[i]).collect();
        run(&q.join(" "));
    }

    #[test]
    fn mutated_queries_never_panic(seed in 0..SEEDS.len(), edits in prop::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..5)) {
        run(&mutate(SEEDS[seed], &edits));
    }

    #[test]
    fn seed_queries_with_one_word_swapped_never_panic(seed in 0..SEEDS.len(), at in any::<usize>(), word in 0..WORDS.len()) {
        let mut parts: Vec<&str> = SEEDS[seed].split(' ').collect();
        let i = at % parts.len();
        parts[i] = WORDS[word];
        run(&parts.join(" "));
    }
}

#[test]
fn every_seed_query_runs() {
    for q in SEEDS {
        let mut ctx = context();
        let df = ctx.sql(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        df.compute().unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

/// Crashes the fuzzing found, kept as plain tests.
#[test]
fn crash_regressions() {
    let mut ctx = context();
    // GROUP BY without an aggregate panicked (an empty list of aggregate frames).
    let groups = ctx
        .sql("SELECT name FROM t GROUP BY name")
        .unwrap()
        .compute()
        .unwrap();
    // "a", "b", "c" and the null name's group.
    assert_eq!(groups.num_rows(), 4);
    let groups = ctx
        .sql("SELECT id + 1 AS j FROM t GROUP BY id + 1 ORDER BY j LIMIT 2")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(groups.num_rows(), 2);
}
