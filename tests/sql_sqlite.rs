//! `dask::sql` against SQLite (bundled, through rusqlite): the same queries on the same
//! rows, results equal (floats within 1e-9 relative), row order compared where the query
//! orders it.
#![cfg(feature = "sql")]

use std::sync::Arc;

use dask::dataframe::arrow::array::{Array, ArrayRef, Float64Array, Int64Array, StringArray};
use dask::dataframe::arrow::datatypes::DataType;
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::DataFrame;
use dask::sql::Context;

const NAMES: [&str; 5] = ["Alice", "Bob", "Carol", "Dan", "Edith"];

/// Rows of `t`: `(id, name, k, x, y)`, x and y in [0, 1) and [-1, 1), some x null.
fn rows(n: i64) -> Vec<(i64, String, i64, Option<f64>, f64)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|id| {
            let name = NAMES[(next() * 5.0) as usize].to_string();
            let k = (next() * 6.0) as i64;
            let x = next();
            let x = if id % 17 == 5 { None } else { Some(x) };
            let y = next() * 2.0 - 1.0;
            (id, name, k, x, y)
        })
        .collect()
}

fn frame(rows: &[(i64, String, i64, Option<f64>, f64)], parts: usize) -> DataFrame {
    let per = rows.len().div_ceil(parts);
    let batches = rows
        .chunks(per)
        .map(|c| {
            RecordBatch::try_from_iter([
                (
                    "id",
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.0))) as ArrayRef,
                ),
                (
                    "name",
                    Arc::new(StringArray::from_iter_values(
                        c.iter().map(|r| r.1.as_str()),
                    )) as _,
                ),
                (
                    "k",
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.2))) as _,
                ),
                (
                    "x",
                    Arc::new(Float64Array::from_iter(c.iter().map(|r| r.3))) as _,
                ),
                (
                    "y",
                    Arc::new(Float64Array::from_iter_values(c.iter().map(|r| r.4))) as _,
                ),
            ])
            .unwrap()
        })
        .collect();
    DataFrame::from_batches(batches).unwrap()
}

/// A cell as both engines can give it.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Cell {
    Null,
    Num(f64),
    Text(String),
}

fn cells(batch: &RecordBatch) -> Vec<Vec<Cell>> {
    let columns: Vec<Vec<Cell>> = batch
        .columns()
        .iter()
        .map(|c| {
            let c = dask::dataframe::arrow::compute::cast(
                c,
                &match c.data_type() {
                    DataType::Utf8 => DataType::Utf8,
                    _ => DataType::Float64,
                },
            )
            .unwrap();
            (0..c.len())
                .map(|i| {
                    if c.is_null(i) {
                        Cell::Null
                    } else if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                        Cell::Text(s.value(i).to_string())
                    } else {
                        Cell::Num(c.as_any().downcast_ref::<Float64Array>().unwrap().value(i))
                    }
                })
                .collect()
        })
        .collect();
    (0..batch.num_rows())
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect()
}

fn sqlite_rows(conn: &rusqlite::Connection, q: &str) -> Vec<Vec<Cell>> {
    let mut stmt = conn.prepare(q).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |row| {
        (0..n)
            .map(|i| {
                Ok(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Cell::Null,
                    rusqlite::types::ValueRef::Integer(v) => Cell::Num(v as f64),
                    rusqlite::types::ValueRef::Real(v) => Cell::Num(v),
                    rusqlite::types::ValueRef::Text(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Blob(_) => Cell::Text("<blob>".into()),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn close(a: &[Vec<Cell>], b: &[Vec<Cell>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(r, s)| {
            r.len() == s.len()
                && r.iter().zip(s).all(|(x, y)| match (x, y) {
                    (Cell::Num(x), Cell::Num(y)) => {
                        (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
                    }
                    _ => x == y,
                })
        })
}

fn sorted(mut rows: Vec<Vec<Cell>>) -> Vec<Vec<Cell>> {
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    rows
}

/// A row of `n`: `(id, g, k, x)`.
type NullsRow = (i64, Option<&'static str>, Option<i64>, Option<f64>);

/// Rows of `n`: `(id, g, k, x)` with nulls in every column but `id`: `g` null every
/// fourth row, `k` every fifth, `x` wherever `g` is "c" (a group of only nulls) and every
/// seventh row.
fn nulls_rows() -> Vec<NullsRow> {
    (0..30)
        .map(|id| {
            let g = [None, Some("a"), Some("b"), Some("c")][(id % 4) as usize];
            let k = (id % 5 != 0).then_some(id % 3);
            let x = (g != Some("c") && id % 7 != 3).then_some(id as f64 / 10.0);
            (id, g, k, x)
        })
        .collect()
}

/// `nulls_rows` in 3 partitions.
fn nulls_frame() -> DataFrame {
    let rows = nulls_rows();
    let batches = rows
        .chunks(10)
        .map(|c| {
            RecordBatch::try_from_iter([
                (
                    "id",
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.0))) as ArrayRef,
                ),
                (
                    "g",
                    Arc::new(StringArray::from_iter(c.iter().map(|r| r.1))) as _,
                ),
                (
                    "k",
                    Arc::new(Int64Array::from_iter(c.iter().map(|r| r.2))) as _,
                ),
                (
                    "x",
                    Arc::new(Float64Array::from_iter(c.iter().map(|r| r.3))) as _,
                ),
            ])
            .unwrap()
        })
        .collect();
    DataFrame::from_batches(batches).unwrap()
}

struct Both {
    ctx: Context,
    conn: rusqlite::Connection,
}

fn setup() -> Both {
    let data = rows(400);
    let names: Vec<(i64, &str)> = vec![
        (0, "zero"),
        (1, "one"),
        (2, "two"),
        (3, "three"),
        (4, "four"),
    ];
    let mut ctx = Context::new();
    ctx.create_table("t", frame(&data, 4));
    // The same rows in 6 partitions: joins of two such tables shuffle by key.
    ctx.create_table("t6", frame(&data, 6));
    let names_batch = RecordBatch::try_from_iter([
        (
            "k",
            Arc::new(Int64Array::from_iter_values(names.iter().map(|n| n.0))) as ArrayRef,
        ),
        (
            "label",
            Arc::new(StringArray::from_iter_values(names.iter().map(|n| n.1))) as _,
        ),
    ])
    .unwrap();
    ctx.create_table("names", DataFrame::from_batches(vec![names_batch]).unwrap());
    ctx.create_table("n", nulls_frame());
    // `t`'s columns, no rows (one empty partition).
    let no_rows = frame(&data[..1], 1).compute().unwrap().slice(0, 0);
    ctx.create_table("empty", DataFrame::from_batches(vec![no_rows]).unwrap());
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER, name TEXT, k INTEGER, x REAL, y REAL);
         CREATE TABLE names (k INTEGER, label TEXT);
         CREATE TABLE n (id INTEGER, g TEXT, k INTEGER, x REAL);
         CREATE TABLE empty (id INTEGER, name TEXT, k INTEGER, x REAL, y REAL);
         PRAGMA case_sensitive_like = ON;",
    )
    .unwrap();
    for r in nulls_rows() {
        conn.execute(
            "INSERT INTO n VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![r.0, r.1, r.2, r.3],
        )
        .unwrap();
    }
    for r in &data {
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![r.0, r.1, r.2, r.3, r.4],
        )
        .unwrap();
    }
    conn.execute_batch("CREATE VIEW t6 AS SELECT * FROM t")
        .unwrap();
    for (k, l) in &names {
        conn.execute("INSERT INTO names VALUES (?1, ?2)", rusqlite::params![k, l])
            .unwrap();
    }
    Both { ctx, conn }
}

/// Runs `q` on both engines and compares (in order when `ordered`).
fn check(both: &mut Both, q: &str, ordered: bool) {
    let ours = both.ctx.sql(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let ours = cells(&ours.compute().unwrap_or_else(|e| panic!("{q}: {e}")));
    let theirs = sqlite_rows(&both.conn, q);
    let (a, b) = if ordered {
        (ours, theirs)
    } else {
        (sorted(ours), sorted(theirs))
    };
    assert!(
        !b.is_empty() || q.contains("empty"),
        "{q}: SQLite gave no rows: a weak check"
    );
    assert!(close(&a, &b), "{q}\nours:   {a:?}\nsqlite: {b:?}");
}

#[test]
fn group_by_filter_count_and_having_match_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT name, SUM(x) AS sx, MAX(y) AS my, COUNT(*) AS n FROM t WHERE y > 0 GROUP BY name",
        false,
    );
    check(
        &mut both,
        "SELECT COUNT(*) FROM t WHERE x > 0.5 AND k <> 3",
        false,
    );
    check(
        &mut both,
        "SELECT COUNT(x), COUNT(*), SUM(k), MIN(name), AVG(y) FROM t",
        false,
    );
    check(
        &mut both,
        "SELECT k, COUNT(*) AS n, AVG(x) AS ax FROM t GROUP BY k HAVING COUNT(*) > 60",
        false,
    );
    check(
        &mut both,
        "SELECT k, name, MIN(id), MAX(x) - MIN(x) AS spread FROM t GROUP BY k, name",
        false,
    );
    check(
        &mut both,
        "SELECT k + 1 AS k1, SUM(y * 2) FROM t GROUP BY k + 1",
        false,
    );
    check(
        &mut both,
        "SELECT CAST(x * 10 AS INTEGER) AS b, COUNT(*) FROM t WHERE x IS NOT NULL GROUP BY b",
        false,
    );
}

#[test]
fn count_distinct_matches_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT k, COUNT(DISTINCT name) AS names, SUM(y) AS sy FROM t GROUP BY k",
        false,
    );
    check(&mut both, "SELECT COUNT(DISTINCT k) FROM t", false);
}

#[test]
fn joins_match_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT t.id, t.name, n.label FROM t JOIN names n ON t.k = n.k WHERE t.x > 0.8",
        false,
    );
    check(
        &mut both,
        "SELECT t.id, n.label FROM t LEFT JOIN names AS n ON t.k = n.k",
        false,
    );
    // Both sides have 6 partitions: hash-partitioned by key.
    check(
        &mut both,
        "SELECT a.id, a.x, b.y FROM t6 a JOIN t6 b ON a.id = b.id WHERE a.k = 2",
        false,
    );
    check(
        &mut both,
        "SELECT n.label, COUNT(*) FROM t JOIN names n ON n.k = t.k GROUP BY n.label",
        false,
    );
}

#[test]
fn order_by_limit_distinct_case_match_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT id, x FROM t WHERE x IS NOT NULL ORDER BY x DESC LIMIT 7",
        true,
    );
    check(
        &mut both,
        "SELECT name, k, id FROM t ORDER BY name, k DESC, id LIMIT 25",
        true,
    );
    check(&mut both, "SELECT id FROM t ORDER BY y", true);
    check(
        &mut both,
        "SELECT name, SUM(y) AS s FROM t GROUP BY name ORDER BY s DESC",
        true,
    );
    check(
        &mut both,
        "SELECT name FROM t GROUP BY name ORDER BY SUM(x) LIMIT 2",
        true,
    );
    check(&mut both, "SELECT DISTINCT name, k FROM t", false);
    check(
        &mut both,
        "SELECT id, CASE WHEN x > 0.5 THEN 'high' WHEN x > 0.2 THEN 'mid' ELSE 'low' END AS band FROM t",
        false,
    );
    check(
        &mut both,
        "SELECT id, CASE k WHEN 1 THEN y ELSE -y END FROM t WHERE id BETWEEN 10 AND 60",
        false,
    );
    check(
        &mut both,
        "SELECT id FROM t WHERE name IN ('Bob', 'Dan') AND NOT k = 0",
        false,
    );
}

#[test]
fn union_all_and_subqueries_match_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT id, name FROM t WHERE k = 1 UNION ALL SELECT id, name FROM t WHERE k = 2",
        false,
    );
    check(&mut both, "SELECT id, x FROM t WHERE k = 1 UNION ALL SELECT k, y FROM t WHERE k = 2 ORDER BY 1, 2 LIMIT 20", true);
    check(&mut both, "SELECT name, total FROM (SELECT name, SUM(y) AS total FROM t GROUP BY name) AS s WHERE total > -100", false);
    check(
        &mut both,
        "SELECT s.k, s.n, names.label FROM (SELECT k, COUNT(*) AS n FROM t GROUP BY k) s LEFT JOIN names ON s.k = names.k",
        false,
    );
}

#[test]
fn null_group_keys_form_one_group_as_in_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT g, COUNT(*), COUNT(x), COUNT(k), AVG(x), MIN(x), MAX(x) FROM n GROUP BY g",
        false,
    );
    check(
        &mut both,
        "SELECT g, k, COUNT(*) FROM n GROUP BY g, k",
        false,
    );
    check(&mut both, "SELECT k FROM n GROUP BY k", false);
    check(
        &mut both,
        "SELECT k, COUNT(DISTINCT g), COUNT(*) FROM n GROUP BY k",
        false,
    );
    check(
        &mut both,
        "SELECT g, COUNT(*) AS c FROM n GROUP BY g ORDER BY g",
        true,
    );
}

#[test]
fn sum_of_no_values_is_null_and_count_is_zero_as_in_sqlite() {
    let mut both = setup();
    // Group "c" has only null x: SUM, AVG, MIN and MAX are null, COUNT(x) 0.
    check(
        &mut both,
        "SELECT g, SUM(x), SUM(k), AVG(x), MIN(x), MAX(x), COUNT(x) FROM n GROUP BY g",
        false,
    );
    check(
        &mut both,
        "SELECT g, SUM(x) AS s FROM n GROUP BY g HAVING SUM(x) IS NULL",
        false,
    );
    // Over only nulls, no GROUP BY.
    check(
        &mut both,
        "SELECT COUNT(*), COUNT(x), SUM(x), AVG(x), MIN(x), MAX(x) FROM n WHERE x IS NULL",
        false,
    );
}

#[test]
fn an_aggregate_over_no_rows_gives_one_row_as_in_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT COUNT(*), COUNT(x), SUM(x), SUM(k), AVG(y), MIN(name), MAX(y) FROM empty",
        false,
    );
    check(
        &mut both,
        "SELECT COUNT(DISTINCT k), COUNT(*), SUM(x) FROM t WHERE id < 0",
        false,
    );
    check(&mut both, "SELECT SUM(x) FROM t WHERE id > 1000000", false);
    // With GROUP BY, no rows are no groups.
    check(&mut both, "SELECT k, SUM(x) FROM empty GROUP BY k", false);
}

#[test]
fn distinct_join_order_and_where_treat_nulls_as_sqlite_does() {
    let mut both = setup();
    check(&mut both, "SELECT DISTINCT g FROM n", false);
    check(&mut both, "SELECT DISTINCT g, k FROM n", false);
    // Null keys match nothing, not even each other.
    check(
        &mut both,
        "SELECT a.id, b.id FROM n a JOIN n b ON a.k = b.k",
        false,
    );
    check(
        &mut both,
        "SELECT a.id, b.label FROM n a LEFT JOIN names b ON a.k = b.k",
        false,
    );
    // SQLite's order: nulls first ascending, last descending.
    check(&mut both, "SELECT id, x FROM n ORDER BY x, id", true);
    check(&mut both, "SELECT id, x FROM n ORDER BY x DESC, id", true);
    check(
        &mut both,
        "SELECT id, g FROM n ORDER BY g, id LIMIT 9",
        true,
    );
    check(
        &mut both,
        "SELECT id, g FROM n ORDER BY g DESC, id LIMIT 9",
        true,
    );
    // A comparison with null is null: the row is dropped, negated or not.
    check(&mut both, "SELECT id FROM n WHERE x > 1.5", false);
    check(&mut both, "SELECT id FROM n WHERE NOT (x > 1.5)", false);
    check(&mut both, "SELECT id FROM n WHERE k <> 1", false);
    check(&mut both, "SELECT COUNT(*) FROM n WHERE g = NULL", false);
    check(&mut both, "SELECT id FROM n WHERE k NOT IN (0, 2)", false);
    check(
        &mut both,
        "SELECT COUNT(*) FROM n WHERE k NOT IN (0, NULL)",
        false,
    );
    check(&mut both, "SELECT id, COALESCE(x, k, -1) FROM n", false);
}

#[test]
fn limit_offset_matches_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT id, x FROM t ORDER BY id LIMIT 5 OFFSET 10",
        true,
    );
    check(
        &mut both,
        "SELECT id, y FROM t ORDER BY y DESC LIMIT 10 OFFSET 395",
        true,
    );
    check(&mut both, "SELECT id FROM t LIMIT 5 OFFSET 98", true);
    check(&mut both, "SELECT id FROM t ORDER BY id LIMIT 3, 4", true);
    check(
        &mut both,
        "SELECT name, COUNT(*) AS c FROM t GROUP BY name ORDER BY name LIMIT 2 OFFSET 1",
        true,
    );
}

#[test]
fn common_table_expressions_match_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "WITH s AS (SELECT k, SUM(y) AS sy FROM t GROUP BY k), \
              b AS (SELECT k FROM s WHERE sy > -100) \
         SELECT s.k, s.sy, names.label FROM s JOIN b ON s.k = b.k LEFT JOIN names ON s.k = names.k",
        false,
    );
    check(
        &mut both,
        "WITH big AS (SELECT id, x FROM t WHERE x > 0.5) SELECT COUNT(*), MAX(x) FROM big",
        false,
    );
    check(
        &mut both,
        "SELECT q.n FROM (WITH a AS (SELECT name FROM t WHERE k = 2) SELECT COUNT(*) AS n FROM a) q",
        false,
    );
}

#[test]
fn like_matches_sqlite() {
    let mut both = setup();
    check(
        &mut both,
        "SELECT id, name FROM t WHERE name LIKE 'A%' OR name LIKE '_ob'",
        false,
    );
    check(
        &mut both,
        "SELECT id FROM t WHERE name NOT LIKE '%a%'",
        false,
    );
    check(&mut both, "SELECT id FROM t WHERE name LIKE '%d%t%'", false);
    // A null string neither matches nor fails to.
    check(&mut both, "SELECT COUNT(*) FROM n WHERE g LIKE '%'", false);
    check(
        &mut both,
        "SELECT COUNT(*) FROM n WHERE g NOT LIKE 'a'",
        false,
    );
}

#[test]
fn right_and_full_joins_match_sqlite() {
    let mut both = setup();
    // `names` has 0..4, the left side only 0 and 1: three right rows without a match.
    check(
        &mut both,
        "SELECT n.label, s.id FROM (SELECT id, k FROM t WHERE k < 2) s RIGHT JOIN names n ON s.k = n.k",
        false,
    );
    // The filter on the left side's column stays above the join.
    check(
        &mut both,
        "SELECT n.label FROM (SELECT id, k FROM t WHERE k < 2) s RIGHT JOIN names n ON s.k = n.k WHERE s.id IS NULL",
        false,
    );
    // The small left side broadcast; t's rows with k = 5 have no name.
    check(
        &mut both,
        "SELECT n.label, t.id FROM names n RIGHT OUTER JOIN t ON t.k = n.k",
        false,
    );
    check(
        &mut both,
        "SELECT s.id, n.label FROM (SELECT id, k FROM t WHERE k > 2) s FULL OUTER JOIN names n ON s.k = n.k",
        false,
    );
    // Both sides of 6 partitions: hash-partitioned.
    check(
        &mut both,
        "SELECT a.id, b.id FROM (SELECT id FROM t6 WHERE k < 3) a FULL JOIN (SELECT id FROM t6 WHERE k > 1) b ON a.id = b.id",
        false,
    );
    // Null keys match nothing: each comes out once from its own side.
    check(
        &mut both,
        "SELECT a.id, b.id FROM n a FULL JOIN n b ON a.k = b.k",
        false,
    );
    check(
        &mut both,
        "SELECT a.id, b.id FROM n a RIGHT JOIN n b ON a.k = b.k",
        false,
    );
}

/// Rows of `h`: `(id, ts in seconds, x, k)`, one every 7 minutes over 12 hours with
/// hours 3, 4 and 8 left empty, `x` null every fifth row and all through hour 6 (a group
/// of only nulls).
fn hourly_rows() -> Vec<(i64, i64, Option<f64>, i64)> {
    let start = 1_700_000_000 - 1_700_000_000 % 3600;
    (0..12 * 60 / 7)
        .map(|i| (i, start + i * 7 * 60))
        .filter(|(_, t)| ![3, 4, 8].contains(&((t - start) / 3600)))
        .map(|(id, t)| {
            let hour = (t - start) / 3600;
            let x = (id % 5 != 0 && hour != 6).then_some(id as f64 * 0.25 - 3.0);
            (id, t, x, id % 4)
        })
        .collect()
}

/// `h` indexed by `ts` (nanoseconds, sorted, divisions known) in 4 partitions; `ts2`, the
/// same instants in a column that is not the index.
fn hourly_frame(rows: &[(i64, i64, Option<f64>, i64)]) -> DataFrame {
    use dask::dataframe::arrow::array::TimestampNanosecondArray;
    let per = rows.len().div_ceil(4);
    let batches = rows
        .chunks(per)
        .map(|c| {
            let ts = || {
                TimestampNanosecondArray::from_iter_values(c.iter().map(|r| r.1 * 1_000_000_000))
            };
            RecordBatch::try_from_iter([
                (
                    "id",
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.0))) as ArrayRef,
                ),
                ("ts", Arc::new(ts()) as _),
                ("ts2", Arc::new(ts()) as _),
                (
                    "x",
                    Arc::new(Float64Array::from_iter(c.iter().map(|r| r.2))) as _,
                ),
                (
                    "k",
                    Arc::new(Int64Array::from_iter_values(c.iter().map(|r| r.3))) as _,
                ),
            ])
            .unwrap()
        })
        .collect();
    DataFrame::from_batches(batches)
        .unwrap()
        .set_index("ts")
        .unwrap()
}

/// `h` on both engines: SQLite holds `ts` and `ts2` as seconds.
fn hourly_setup() -> Both {
    let data = hourly_rows();
    let mut ctx = Context::new();
    let df = hourly_frame(&data);
    assert!(df.divisions().is_some() && df.npartitions() > 1);
    ctx.create_table("h", df);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE h (id INTEGER, ts INTEGER, ts2 INTEGER, x REAL, k INTEGER);")
        .unwrap();
    for r in &data {
        conn.execute(
            "INSERT INTO h VALUES (?1, ?2, ?2, ?3, ?4)",
            rusqlite::params![r.0, r.1, r.2, r.3],
        )
        .unwrap();
    }
    Both { ctx, conn }
}

/// `q` on both engines, SQLite's `DATE_TRUNC(unit, c)` written as integer arithmetic on
/// seconds giving nanoseconds, as ours gives the timestamp.
fn check_trunc(both: &mut Both, q: &str, ordered: bool) {
    let ours = both.ctx.sql(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    let ours = cells(&ours.compute().unwrap_or_else(|e| panic!("{q}: {e}")));
    let mut lite = q.to_string();
    for (unit, secs) in [
        ("second", 1),
        ("minute", 60),
        ("hour", 3600),
        ("day", 86_400),
    ] {
        for c in ["ts2", "ts"] {
            lite = lite.replace(
                &format!("DATE_TRUNC('{unit}', {c})"),
                &format!("({c} / {secs} * {secs} * 1000000000)"),
            );
        }
    }
    let theirs = sqlite_rows(&both.conn, &lite);
    let (a, b) = if ordered {
        (ours, theirs)
    } else {
        (sorted(ours), sorted(theirs))
    };
    assert!(!b.is_empty(), "{lite}: SQLite gave no rows: a weak check");
    assert!(close(&a, &b), "{q}\nours:   {a:?}\nsqlite: {b:?}");
}

/// Whether `q`'s plan lowers the aggregate onto resample (else the generic group-by).
fn takes_resample(both: &Both, q: &str) -> bool {
    let plan = both.ctx.explain(q).unwrap();
    let resample = plan.contains("of the sorted index ts)");
    assert_ne!(
        resample,
        plan.contains("(per-partition chunk, tree combine)"),
        "{plan}"
    );
    resample
}

#[test]
fn group_by_date_trunc_of_the_sorted_index_matches_sqlite() {
    let mut both = hourly_setup();
    for (q, ordered) in [
        // The benchmark's query: empty hours give no row, hour 6's AVG of only nulls is
        // null.
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, AVG(x) AS x FROM h GROUP BY hour",
            false,
        ),
        // COUNT(x) beside COUNT(*) (one resample count), the key last, ordered.
        (
            "SELECT COUNT(x) AS c, COUNT(*) AS n, DATE_TRUNC('hour', ts) AS hour \
             FROM h GROUP BY DATE_TRUNC('hour', ts) ORDER BY hour",
            true,
        ),
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, MIN(x) AS lo, MIN(k) AS kl FROM h GROUP BY 1",
            false,
        ),
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, MAX(x) AS hi, MAX(k) AS kh FROM h GROUP BY 1",
            false,
        ),
        // SUM of a column without nulls.
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, SUM(k) AS s, SUM(id) AS i FROM h GROUP BY hour",
            false,
        ),
        // A filter that leaves whole partitions empty.
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, AVG(x) AS x, AVG(k) AS k FROM h \
             WHERE id < 10 OR id > 95 GROUP BY 1",
            false,
        ),
        // Other units, and HAVING over the result.
        (
            "SELECT DATE_TRUNC('minute', ts) AS m, COUNT(*) AS n FROM h WHERE k = 1 GROUP BY m",
            false,
        ),
        (
            "SELECT DATE_TRUNC('day', ts) AS d, MAX(x) AS x FROM h GROUP BY d",
            false,
        ),
        (
            "SELECT DATE_TRUNC('hour', ts) AS hour, SUM(k) AS s FROM h GROUP BY hour HAVING SUM(k) > 12",
            false,
        ),
    ] {
        assert!(takes_resample(&both, q), "{q}");
        check_trunc(&mut both, q, ordered);
    }
    // Still the generic group-by, still SQL's answers: SUM of a column with nulls (hour
    // 6's sum of only nulls is null), mixed functions, the column that is no index.
    for q in [
        "SELECT DATE_TRUNC('hour', ts) AS hour, SUM(x) AS s FROM h GROUP BY hour",
        "SELECT DATE_TRUNC('hour', ts) AS hour, AVG(x) AS x, COUNT(*) AS n FROM h GROUP BY hour",
        "SELECT DATE_TRUNC('hour', ts2) AS hour, AVG(x) AS x FROM h GROUP BY hour",
    ] {
        assert!(!takes_resample(&both, q), "{q}");
        check_trunc(&mut both, q, false);
    }
}

#[test]
fn only_date_trunc_of_the_sorted_index_takes_the_resample_path() {
    let both = hourly_setup();
    let plan = both
        .ctx
        .explain("SELECT DATE_TRUNC('hour', ts) AS hour, AVG(x) AS x FROM h GROUP BY hour")
        .unwrap();
    assert!(
        plan.contains("(resample('1h') of the sorted index ts)"),
        "{plan}"
    );
    for q in [
        // Not the index.
        "SELECT DATE_TRUNC('hour', ts2) AS hour, AVG(x) AS x FROM h GROUP BY hour",
        // No fixed-length bin.
        "SELECT DATE_TRUNC('month', ts) AS m, AVG(x) AS x FROM h GROUP BY m",
        // An aggregate resample lacks, a computed argument, a second key, two functions,
        // a SUM of a column with nulls.
        "SELECT DATE_TRUNC('hour', ts) AS hour, STDDEV(x) AS x FROM h GROUP BY hour",
        "SELECT DATE_TRUNC('hour', ts) AS hour, SUM(k + 1) AS x FROM h GROUP BY hour",
        "SELECT DATE_TRUNC('hour', ts) AS hour, k, SUM(k) AS x FROM h GROUP BY hour, k",
        "SELECT DATE_TRUNC('hour', ts) AS hour, MIN(x) AS lo, MAX(x) AS hi FROM h GROUP BY hour",
        "SELECT DATE_TRUNC('hour', ts) AS hour, SUM(x) AS s FROM h GROUP BY hour",
    ] {
        assert!(!takes_resample(&both, q), "{q}");
    }
}

#[test]
fn a_null_timestamp_in_the_index_keeps_its_group_as_in_sqlite() {
    use dask::dataframe::arrow::array::TimestampNanosecondArray;
    // Seconds, one null: SQL groups it as a group of its own, which resample would drop.
    let ts = [Some(3600), None, Some(0), Some(7300), Some(7200)];
    let batch = |r: std::ops::Range<usize>| {
        RecordBatch::try_from_iter([
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from_iter(
                    ts[r.clone()].iter().map(|t| t.map(|s| s * 1_000_000_000)),
                )) as ArrayRef,
            ),
            (
                "x",
                Arc::new(Float64Array::from_iter_values(r.map(|i| i as f64))) as _,
            ),
        ])
        .unwrap()
    };
    let df = DataFrame::from_batches(vec![batch(0..2), batch(2..5)])
        .unwrap()
        .set_index("ts")
        .unwrap();
    assert!(df.divisions().is_some());
    let mut ctx = Context::new();
    ctx.create_table("h", df);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE h (ts INTEGER, ts2 INTEGER, x REAL);")
        .unwrap();
    for (i, t) in ts.iter().enumerate() {
        conn.execute(
            "INSERT INTO h VALUES (?1, ?1, ?2)",
            rusqlite::params![t, i as f64],
        )
        .unwrap();
    }
    let mut both = Both { ctx, conn };
    let q =
        "SELECT DATE_TRUNC('hour', ts) AS hour, COUNT(*) AS n, SUM(x) AS s FROM h GROUP BY hour";
    assert!(both.ctx.explain(q).unwrap().contains("tree combine"));
    check_trunc(&mut both, q, false);
}
