//! `dask::sql`: the lecture's queries give what the dataframe API gives for the same
//! question; plans push filters and columns into scans; files are read with those
//! pushdowns; DDL; and every kind of bad statement is an error naming what is wrong.
#![cfg(feature = "sql")]

use std::path::PathBuf;
use std::sync::Arc;

use dask::dataframe::arrow::array::{Array, Float64Array, Int64Array, StringArray};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, col, lit, DataFrame};
use dask::datasets::{timeseries, TimeseriesOptions};
use dask::sql::{Context, SqlError};
use dask::Error;

fn ts() -> DataFrame {
    timeseries(TimeseriesOptions {
        end: "2000-01-05".into(),
        freq: "1min".into(),
        ..Default::default()
    })
}

fn ctx() -> Context {
    let mut ctx = Context::new();
    ctx.create_table("timeseries", ts());
    ctx
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-sql-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn floats(b: &RecordBatch, name: &str) -> Vec<f64> {
    let c = b
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", b.schema()));
    let c = dask::dataframe::arrow::compute::cast(
        c,
        &dask::dataframe::arrow::datatypes::DataType::Float64,
    )
    .unwrap();
    c.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

fn strings(b: &RecordBatch, name: &str) -> Vec<String> {
    let c = b.column_by_name(name).unwrap();
    c.as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect()
}

fn sql_err(ctx: &mut Context, q: &str) -> SqlError {
    match ctx.sql(q) {
        Err(Error::Sql(e)) => e,
        Err(other) => panic!("{q}: not a SQL error: {other}"),
        Ok(_) => panic!("{q}: accepted"),
    }
}

#[test]
fn group_by_query_equals_the_dataframe_api() {
    let mut ctx = ctx();
    let got = ctx
        .sql("SELECT name, SUM(x) AS x, MAX(y) AS y, STDDEV(x) AS sd FROM timeseries WHERE y > 0 GROUP BY name ORDER BY name")
        .unwrap()
        .compute()
        .unwrap();
    let want = ts()
        .filter(col("y").gt(lit(0.0)))
        .groupby(["name"])
        .agg([
            agg::sum("x").alias("x"),
            agg::max("y"),
            agg::std("x").alias("sd"),
        ])
        .compute()
        .unwrap();
    assert_eq!(got.num_rows(), 26);
    assert_eq!(strings(&got, "name"), strings(&want, "name"));
    for c in ["x", "y", "sd"] {
        assert_eq!(floats(&got, c), floats(&want, c), "column {c}");
    }
}

#[test]
fn an_integer_sum_beyond_int64_is_an_error_not_a_wrapped_number() {
    // Summed in wrapping 64-bit arithmetic, `SUM(k)` gave 2 here and `SUM(u)` gave 0.
    let batch = || {
        RecordBatch::try_from_iter([
            ("g", Arc::new(Int64Array::from(vec![1, 1, 2])) as _),
            ("k", Arc::new(Int64Array::from(vec![i64::MAX, 1, 5])) as _),
            (
                "u",
                Arc::new(dask::dataframe::arrow::array::UInt64Array::from(vec![
                    u64::MAX,
                    1,
                    7,
                ])) as _,
            ),
        ])
        .unwrap()
    };
    let mut ctx = Context::new();
    ctx.create_table(
        "t",
        DataFrame::from_batches(vec![batch(), batch()]).unwrap(),
    );
    for (query, column) in [
        ("SELECT SUM(k) AS s FROM t", "k"),
        ("SELECT SUM(u) AS s FROM t", "u"),
    ] {
        let err = ctx.sql(query).unwrap().compute().unwrap_err().to_string();
        assert!(
            err.contains(&format!("integer overflow: the sum of `{column}` is ")),
            "{query}: {err}"
        );
    }
    // Per group, only the group beyond int64 fails; a sum that fits is exact.
    let got = ctx
        .sql("SELECT g, SUM(k) AS s FROM t WHERE g = 2 GROUP BY g")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(floats(&got, "s"), [10.0]);
    let err = dask::dataframe::DataFrame::from_batches(vec![batch()])
        .unwrap()
        .groupby(["g"])
        .agg([agg::sum("k")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("integer overflow: the sum of `k` is 9223372036854775808"),
        "{err}"
    );
}

#[test]
fn filtered_count_equals_len_of_the_filtered_frame() {
    let mut ctx = ctx();
    let got = ctx
        .sql("SELECT COUNT(*) AS n FROM timeseries WHERE x > 0.5 AND name = 'Alice'")
        .unwrap()
        .compute()
        .unwrap();
    let want = ts()
        .filter(col("x").gt(lit(0.5)).and(col("name").eq(lit("Alice"))))
        .len()
        .compute()
        .unwrap();
    assert!(want > 0);
    assert_eq!(floats(&got, "n"), vec![want as f64]);
}

#[test]
fn hourly_date_trunc_equals_resample() {
    let mut ctx = ctx();
    let got = ctx
        .sql(
            "SELECT DATE_TRUNC('hour', timestamp) AS hour, AVG(x) AS x, COUNT(*) AS n FROM timeseries \
             GROUP BY hour ORDER BY hour",
        )
        .unwrap()
        .compute()
        .unwrap();
    let want = ts().select(["x"]).resample("1h").mean().compute().unwrap();
    assert_eq!(got.num_rows(), 4 * 24);
    assert_eq!(floats(&got, "hour"), floats(&want, "timestamp"));
    // The group-by sums row by row, resample a run of rows at a time: the means agree
    // to rounding.
    let (got_x, want_x) = (floats(&got, "x"), floats(&want, "x"));
    assert_eq!(got_x.len(), want_x.len());
    for (g, w) in got_x.iter().zip(&want_x) {
        assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
    }
    assert!(floats(&got, "n").iter().all(|&n| n == 60.0));
    // Days and months, too.
    let days = ctx
        .sql("SELECT DATE_TRUNC('day', timestamp) AS d, COUNT(*) AS n FROM timeseries GROUP BY 1")
        .unwrap();
    assert_eq!(floats(&days.compute().unwrap(), "n"), vec![1440.0; 4]);
    let months = ctx
        .sql("SELECT DATE_TRUNC('month', timestamp) AS m, COUNT(*) FROM timeseries GROUP BY m")
        .unwrap();
    let months = months.compute().unwrap();
    assert_eq!(months.num_rows(), 1);
    assert_eq!(floats(&months, "m"), vec![946_684_800e9]);
}

#[test]
fn explain_shows_columns_and_filters_pushed_into_the_scan_and_the_top_k() {
    let ctx = ctx();
    let plan = ctx
        .explain("SELECT name, SUM(x) AS total FROM timeseries WHERE y > 0 GROUP BY name ORDER BY total DESC LIMIT 3")
        .unwrap();
    // The scan reads y for its filter and passes on name and x.
    assert!(
        plan.contains("Scan: timeseries (dataframe) columns=[name, x] filters=[(y > 0)]"),
        "{plan}"
    );
    assert!(
        plan.contains("TopK: 3 by [total DESC] (per-partition top-3, then merged)"),
        "{plan}"
    );
    assert!(
        !plan.contains("Filter:"),
        "the filter stays above the scan:\n{plan}"
    );
    // Through a subquery and a join, too.
    let mut ctx = ctx;
    ctx.create_table(
        "names",
        DataFrame::from_batches(vec![names_batch()]).unwrap(),
    );
    let plan = ctx
        .explain("SELECT s.name, n.label FROM (SELECT name, id FROM timeseries) s JOIN names n ON s.id = n.id WHERE s.name = 'Bob' AND n.label <> 'x'")
        .unwrap();
    assert!(
        plan.contains(
            "Scan: timeseries (dataframe) columns=[name, id] filters=[(name == \"Bob\")]"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("Scan: names (dataframe) columns=[id, label] filters=[(label != \"x\")]"),
        "{plan}"
    );
}

fn names_batch() -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "id",
            std::sync::Arc::new(Int64Array::from(vec![1000, 1001, 1002])) as _,
        ),
        (
            "label",
            std::sync::Arc::new(StringArray::from(vec!["a", "b", "c"])) as _,
        ),
    ])
    .unwrap()
}

#[test]
fn create_table_as_select_show_tables_describe_and_drop() {
    let mut ctx = ctx();
    ctx.sql("CREATE TABLE positive AS SELECT name, x FROM timeseries WHERE y > 0")
        .unwrap();
    assert_eq!(
        ctx.tables(),
        vec!["positive".to_string(), "timeseries".to_string()]
    );
    let n = ctx
        .sql("SELECT COUNT(*) AS n FROM positive")
        .unwrap()
        .compute()
        .unwrap();
    let want = ts().filter(col("y").gt(lit(0.0))).len().compute().unwrap();
    assert_eq!(floats(&n, "n"), vec![want as f64]);
    let shown = ctx.sql("SHOW TABLES").unwrap().compute().unwrap();
    assert_eq!(strings(&shown, "Table"), vec!["positive", "timeseries"]);
    let described = ctx.sql("DESCRIBE positive").unwrap().compute().unwrap();
    assert_eq!(strings(&described, "Column"), vec!["name", "x"]);
    assert_eq!(strings(&described, "Type"), vec!["string", "float64"]);
    assert!(matches!(
        sql_err(
            &mut ctx,
            "CREATE TABLE positive AS SELECT 1 AS one FROM timeseries"
        ),
        SqlError::Invalid { .. }
    ));
    ctx.sql("DROP TABLE positive").unwrap();
    assert_eq!(ctx.tables(), vec!["timeseries".to_string()]);
    assert!(ctx.drop_table("positive").is_err());
}

#[test]
fn csv_and_parquet_tables_read_only_what_the_query_needs_and_agree_with_the_frame() {
    let dir = scratch("files");
    let df = ts();
    df.to_csv(&dir.join("csv/part-*.csv").to_string_lossy())
        .unwrap();
    df.to_parquet(dir.join("pq")).unwrap();
    let mut ctx = ctx();
    ctx.register_csv("c", &dir.join("csv/part-*.csv").to_string_lossy())
        .unwrap();
    ctx.register_parquet("p", dir.join("pq")).unwrap();
    let q = |t: &str| {
        format!("SELECT name, COUNT(*) AS n, SUM(x) AS sx FROM {t} WHERE y > 0.5 GROUP BY name ORDER BY name")
    };
    let want = ctx.sql(&q("timeseries")).unwrap().compute().unwrap();
    for t in ["c", "p"] {
        let got = ctx.sql(&q(t)).unwrap().compute().unwrap();
        assert_eq!(strings(&got, "name"), strings(&want, "name"), "{t}");
        assert_eq!(floats(&got, "n"), floats(&want, "n"), "{t}");
        let (a, b) = (floats(&got, "sx"), floats(&want, "sx"));
        assert!(
            a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-9),
            "{t}: {a:?} {b:?}"
        );
        let plan = ctx.explain(&q(t)).unwrap();
        assert!(
            plan.contains("columns=[name, x] filters=[(y > 0.5)]"),
            "{plan}"
        );
    }
    // A Parquet filter no row group can satisfy: nothing read, no rows.
    let none = ctx
        .sql("SELECT COUNT(*) AS n FROM p WHERE x > 5")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(floats(&none, "n"), vec![0.0]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_graph_of_a_query_is_drawable_like_any_dataframe() {
    let mut ctx = ctx();
    let df = ctx
        .sql("SELECT name, MAX(y) FROM timeseries GROUP BY name")
        .unwrap();
    let dir = scratch("graph");
    df.visualize(dir.join("q.dot")).unwrap();
    let dot = std::fs::read_to_string(dir.join("q.dot")).unwrap();
    assert!(
        dot.contains("groupby-chunk") && dot.contains("groupby-combine"),
        "{dot}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn syntax_errors_name_line_and_column() {
    let mut ctx = ctx();
    match sql_err(
        &mut ctx,
        "SELECT name\nFROM timeseries\nWHERE y > 0 AND AND x < 1",
    ) {
        SqlError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 21)), // at `x`: sqlparser reads the second AND as a column name
        other => panic!("{other}"),
    }
    match sql_err(&mut ctx, "SELECT name FROM timeseries WHERE y >") {
        SqlError::Syntax {
            line,
            column,
            message,
        } => {
            assert_eq!(line, 1);
            assert_eq!(column, 38, "{message}");
        }
        other => panic!("{other}"),
    }
    let e = ctx.sql("SELEC 1").unwrap_err().to_string();
    assert!(e.starts_with("syntax error at line 1, column 1"), "{e}");
}

#[test]
fn unknown_tables_and_columns_list_what_exists() {
    let mut ctx = ctx();
    let e = ctx.sql("SELECT * FROM timeseriez").unwrap_err().to_string();
    assert_eq!(e, "no table `timeseriez`; the tables are: timeseries");
    let e = ctx
        .sql("SELECT nme FROM timeseries")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("no column `nme`; the columns are: timeseries.timestamp, timeseries.name, timeseries.id"), "{e}");
    let e = ctx
        .sql("SELECT a.id FROM timeseries a JOIN timeseries b ON a.id = b.id WHERE id > 3")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("ambiguous column `id`"), "{e}");
}

#[test]
fn unsupported_constructs_are_named() {
    let mut ctx = ctx();
    for (q, what) in [
        (
            "SELECT id FROM timeseries a CROSS JOIN timeseries b",
            "CrossJoin join",
        ),
        (
            "SELECT name FROM timeseries WHERE name LIKE 'A!%' ESCAPE '!'",
            "LIKE ANY and ESCAPE",
        ),
        (
            "SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM timeseries",
            "window functions",
        ),
        (
            "SELECT id, SUM(x) OVER (PARTITION BY name) FROM timeseries",
            "window functions",
        ),
        (
            "SELECT id FROM timeseries UNION SELECT id FROM timeseries",
            "UNION  (only UNION ALL)",
        ),
        (
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT * FROM r",
            "WITH RECURSIVE",
        ),
        (
            "SELECT id FROM timeseries a WHERE x > (SELECT AVG(x) FROM timeseries b WHERE b.name = a.name)",
            "subqueries in expressions",
        ),
        (
            "SELECT id FROM timeseries a WHERE EXISTS (SELECT 1 FROM timeseries b WHERE b.id = a.id)",
            "subqueries in expressions",
        ),
        (
            "SELECT id FROM timeseries WHERE id IN (SELECT id FROM timeseries)",
            "subqueries in expressions",
        ),
        (
            "SELECT id FROM timeseries LIMIT 3 OFFSET id",
            "OFFSET with an expression",
        ),
        (
            "SELECT UPPER(name) FROM timeseries",
            "the function `UPPER(name)`",
        ),
        (
            "INSERT INTO timeseries VALUES (1)",
            "the statement INSERT INTO",
        ),
    ] {
        match sql_err(&mut ctx, q) {
            SqlError::Unsupported { what: got } => assert!(got.contains(what), "{q}: {got}"),
            other => panic!("{q}: {other}"),
        }
    }
    // A common table expression sees only those defined before it.
    match sql_err(
        &mut ctx,
        "WITH a AS (SELECT id FROM b), b AS (SELECT id FROM timeseries) SELECT * FROM a",
    ) {
        SqlError::UnknownTable { name, .. } => assert_eq!(name, "b"),
        other => panic!("{other}"),
    }
}

#[test]
fn type_errors_name_the_expression() {
    let mut ctx = ctx();
    for (q, expr) in [
        ("SELECT name + 1 FROM timeseries", "(name + 1)"),
        ("SELECT id FROM timeseries WHERE x", "x"),
        ("SELECT SUM(name) FROM timeseries", "sum(name)"),
        (
            "SELECT CASE WHEN x > 0 THEN 'a' ELSE 1 END FROM timeseries",
            "CASE WHEN",
        ),
        (
            "SELECT DATE_TRUNC('hour', x) FROM timeseries",
            "date_trunc('hour', x)",
        ),
    ] {
        match sql_err(&mut ctx, q) {
            SqlError::Type { expr: got, .. } => assert!(got.contains(expr), "{q}: {got}"),
            other => panic!("{q}: {other}"),
        }
    }
    let e = sql_err(&mut ctx, "SELECT name, x FROM timeseries GROUP BY name");
    assert!(e.to_string().contains("column `x`"), "{e}");
}

#[test]
fn deep_and_long_statements_are_errors_not_crashes() {
    let mut ctx = ctx();
    let deep = format!(
        "SELECT {}1{} FROM timeseries",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(matches!(ctx.sql(&deep), Err(Error::Sql(_))));
    let chain = format!("SELECT 1{} FROM timeseries", " + 1".repeat(50_000));
    assert!(matches!(ctx.sql(&chain), Err(Error::Sql(_))));
    // Just under the token limit: a chain sqlparser builds without recursing, quoted by
    // the error message (its text is made by a recursive walk).
    let near = format!(
        "SELECT name FROM timeseries WHERE name LIKE 1{}",
        "+1".repeat(4080)
    );
    assert!(matches!(
        ctx.sql(&near),
        Err(Error::Sql(SqlError::Unsupported { .. }))
    ));
    let near = format!("SELECT 1{} FROM timeseries", "+1".repeat(4090));
    assert!(matches!(
        ctx.sql(&near),
        Err(Error::Sql(SqlError::Invalid { .. }))
    ));
    let long = "x".repeat(dask::sql::MAX_QUERY_BYTES + 1);
    assert!(matches!(
        ctx.sql(&long),
        Err(Error::Sql(SqlError::Invalid { .. }))
    ));
}

#[test]
fn order_by_limit_is_a_per_partition_top_k_and_joins_pick_their_strategy() {
    let mut ctx = ctx();
    let dot = |df: &DataFrame, name: &str| {
        let dir = scratch(name);
        df.visualize(dir.join("g.dot")).unwrap();
        let text = std::fs::read_to_string(dir.join("g.dot")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        text
    };
    let top = ctx
        .sql("SELECT id, x FROM timeseries ORDER BY x DESC LIMIT 3")
        .unwrap();
    let g = dot(&top, "topk");
    // Top-k tasks per partition, merged; no full sort.
    assert!(
        g.contains("sql-topk") && g.contains("sql-topk-merge") && !g.contains("sql-sort"),
        "{g}"
    );
    let got = top.compute().unwrap();
    let mut xs = floats(&ts().compute().unwrap(), "x");
    xs.sort_by(|a, b| b.total_cmp(a));
    assert_eq!(floats(&got, "x"), xs[..3].to_vec());
    // A one-partition side is broadcast; two sides of 6 partitions (over
    // BROADCAST_MAX_PARTITIONS) are both split by key.
    assert_eq!(dask::sql::BROADCAST_MAX_PARTITIONS, 4);
    ctx.create_table(
        "names",
        DataFrame::from_batches(vec![names_batch()]).unwrap(),
    );
    let small = ctx
        .sql("SELECT t.x, n.label FROM timeseries t JOIN names n ON t.id = n.id")
        .unwrap();
    let g = dot(&small, "broadcast");
    assert!(
        g.contains("sql-join-broadcast") && !g.contains("sql-join-split"),
        "{g}"
    );
    let big = timeseries(TimeseriesOptions {
        end: "2000-01-07".into(),
        freq: "1h".into(),
        ..Default::default()
    });
    ctx.create_table("big", big.clone());
    let shuffled = ctx
        .sql("SELECT a.id, b.x FROM big a JOIN big b ON a.timestamp = b.timestamp")
        .unwrap();
    let g = dot(&shuffled, "hash");
    assert!(
        g.contains("sql-join-split") && !g.contains("sql-join-broadcast"),
        "{g}"
    );
    assert_eq!(
        shuffled.compute().unwrap().num_rows(),
        big.len().compute().unwrap()
    );
    // An outer join never broadcasts the side whose unmatched rows it keeps (`big` has 6
    // partitions, `names` 1): a left join broadcasts a small right side only, a right
    // join a small left side only, a full join neither.
    for (q, broadcast) in [
        (
            "SELECT t.x, n.label FROM big t LEFT JOIN names n ON t.id = n.id",
            true,
        ),
        (
            "SELECT t.x, n.label FROM names n LEFT JOIN big t ON t.id = n.id",
            false,
        ),
        (
            "SELECT t.x, n.label FROM names n RIGHT JOIN big t ON t.id = n.id",
            true,
        ),
        (
            "SELECT t.x, n.label FROM big t FULL JOIN names n ON t.id = n.id",
            false,
        ),
    ] {
        let g = dot(&ctx.sql(q).unwrap(), "outer");
        assert_eq!(g.contains("sql-join-broadcast"), broadcast, "{q}");
        assert_eq!(g.contains("sql-join-split"), !broadcast, "{q}");
    }
    // With OFFSET, each partition keeps its top k + offset rows; the offset is cut once.
    let q = "SELECT id, x FROM timeseries ORDER BY x DESC LIMIT 3 OFFSET 2";
    let plan = ctx.explain(q).unwrap();
    assert!(
        plan.contains("TopK: 3 OFFSET 2") && plan.contains("top-5"),
        "{plan}"
    );
    assert_eq!(
        floats(&ctx.sql(q).unwrap().compute().unwrap(), "x"),
        xs[2..5].to_vec()
    );
}

#[test]
fn a_csv_scan_does_not_decode_columns_the_query_does_not_use() {
    let dir = scratch("prune");
    std::fs::write(dir.join("a.csv"), "k,junk\n1,10\n2,20\n").unwrap();
    // `junk` was inferred as an integer from the first file; here it does not parse.
    std::fs::write(dir.join("b.csv"), "k,junk\n3,not-a-number\n").unwrap();
    let mut ctx = Context::new();
    ctx.register_csv("f", &dir.join("*.csv").to_string_lossy())
        .unwrap();
    let got = ctx
        .sql("SELECT SUM(k) AS s FROM f")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(floats(&got, "s"), vec![6.0]);
    // Reading the column fails, as a whole-file read does.
    assert!(ctx
        .sql("SELECT SUM(junk) FROM f")
        .unwrap()
        .compute()
        .is_err());
    assert!(
        dask::dataframe::read_csv(&dir.join("*.csv").to_string_lossy())
            .unwrap()
            .compute()
            .is_err()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A float column's values as text, telling a null (`NULL`) from NaN (`NaN`): the
/// `floats` helper reads both as NaN.
fn float_keys(b: &RecordBatch, name: &str) -> Vec<String> {
    let c = b.column_by_name(name).unwrap();
    let c = c.as_any().downcast_ref::<Float64Array>().unwrap();
    c.iter()
        .map(|v| match v {
            None => "NULL".to_string(),
            Some(x) => format!("{x}"),
        })
        .collect()
}

/// `n` (int32 1, 2), `m` (int64 10, 20), `f` (float64 2.5, -0.5) and `s` (strings).
fn mixed_types() -> Context {
    use dask::dataframe::arrow::array::Int32Array;
    let batch = RecordBatch::try_from_iter([
        ("n", Arc::new(Int32Array::from(vec![1, 2])) as _),
        ("m", Arc::new(Int64Array::from(vec![10, 20])) as _),
        ("f", Arc::new(Float64Array::from(vec![2.5, -0.5])) as _),
        ("s", Arc::new(StringArray::from(vec!["a", "b"])) as _),
    ])
    .unwrap();
    let mut ctx = Context::new();
    ctx.create_table("t", DataFrame::from_batches(vec![batch]).unwrap());
    ctx
}

#[test]
fn union_all_of_an_integer_and_a_string_column_fails_when_planned() {
    let mut ctx = mixed_types();
    for (q, column, types) in [
        (
            "SELECT m FROM t UNION ALL SELECT s FROM t",
            "UNION ALL column 1 (`m`)",
            ("int64", "string"),
        ),
        (
            "SELECT s, m FROM t UNION ALL SELECT s, s FROM t",
            "UNION ALL column 2 (`m`)",
            ("int64", "string"),
        ),
        // Found in a later input too, named by its position.
        (
            "SELECT f FROM t UNION ALL SELECT n FROM t UNION ALL SELECT s FROM t",
            "UNION ALL column 1 (`f`)",
            ("float64", "string"),
        ),
    ] {
        match sql_err(&mut ctx, q) {
            SqlError::Type { expr, why } => {
                assert_eq!(expr, column, "{q}");
                assert!(why.contains(types.0) && why.contains(types.1), "{q}: {why}");
            }
            other => panic!("{q}: {other}"),
        }
    }
    let e = sql_err(&mut ctx, "SELECT m FROM t UNION ALL SELECT s FROM t").to_string();
    assert_eq!(
        e,
        "type error in `UNION ALL column 1 (`m`)`: input 1 gives int64 and input 2 \
         gives string, which have no common type"
    );
    // `explain` plans too, so it fails the same way.
    assert!(ctx
        .explain("SELECT s FROM t UNION ALL SELECT m FROM t")
        .is_err());
}

#[test]
fn union_all_widens_numbers_to_their_common_type() {
    use dask::dataframe::arrow::datatypes::DataType;
    let mut ctx = mixed_types();
    for (q, t, want) in [
        // int32 with int64: int64.
        (
            "SELECT n AS v FROM t UNION ALL SELECT m FROM t",
            DataType::Int64,
            vec![1.0, 2.0, 10.0, 20.0],
        ),
        // An integer with a float: float64 on either side, no value truncated.
        (
            "SELECT m AS v FROM t UNION ALL SELECT f FROM t",
            DataType::Float64,
            vec![10.0, 20.0, 2.5, -0.5],
        ),
        (
            "SELECT f AS v FROM t UNION ALL SELECT n FROM t",
            DataType::Float64,
            vec![2.5, -0.5, 1.0, 2.0],
        ),
        (
            "SELECT n AS v FROM t UNION ALL SELECT m FROM t UNION ALL SELECT f FROM t",
            DataType::Float64,
            vec![1.0, 2.0, 10.0, 20.0, 2.5, -0.5],
        ),
    ] {
        let df = ctx.sql(q).unwrap();
        assert_eq!(df.schema().field(0).data_type(), &t, "{q}");
        let got = df.compute().unwrap();
        assert_eq!(got.schema().field(0).data_type(), &t, "{q}");
        assert_eq!(floats(&got, "v"), want, "{q}");
    }
    // A column of NULL takes the other input's type.
    let got = ctx
        .sql("SELECT s FROM t UNION ALL SELECT NULL FROM t")
        .unwrap()
        .compute()
        .unwrap();
    let s = got.column(0);
    assert_eq!(s.data_type(), &DataType::Utf8);
    assert_eq!(s.null_count(), 2);
}

/// A CSV file of `t` (datetimes to the second) and `v`, registered as `c`; the same
/// rows as a Parquet file with `t` in milliseconds (`pms`) and microseconds (`pus`).
fn timestamps(dir: &std::path::Path) -> Context {
    use dask::dataframe::arrow::array::{TimestampMicrosecondArray, TimestampMillisecondArray};
    std::fs::write(
        dir.join("t.csv"),
        "t,v\n2024-01-01 00:00:00,1\n2024-01-02 03:04:05,2\n2024-01-02 03:04:06,3\n2024-01-03 12:00:00,4\n",
    )
    .unwrap();
    let mut ctx = Context::new();
    ctx.register_csv("c", &dir.join("t.csv").to_string_lossy())
        .unwrap();
    let seconds = [
        1_704_067_200i64,
        1_704_164_645,
        1_704_164_646,
        1_704_283_200,
    ];
    let v = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
    let ms = TimestampMillisecondArray::from(seconds.iter().map(|s| s * 1_000).collect::<Vec<_>>());
    let us =
        TimestampMicrosecondArray::from(seconds.iter().map(|s| s * 1_000_000).collect::<Vec<_>>());
    for (name, t) in [("pms", Arc::new(ms) as _), ("pus", Arc::new(us) as _)] {
        let batch = RecordBatch::try_from_iter([("t", t), ("v", v.clone() as _)]).unwrap();
        let path = dir.join(name);
        DataFrame::from_batches(vec![batch])
            .unwrap()
            .to_parquet(&path)
            .unwrap();
        ctx.register_parquet(name, &path).unwrap();
    }
    ctx
}

#[test]
fn timestamp_literals_compare_with_datetime_columns_of_any_unit() {
    use dask::dataframe::arrow::datatypes::{DataType, TimeUnit};
    let dir = scratch("timestamps");
    let mut ctx = timestamps(&dir);
    for (table, unit) in [
        ("c", TimeUnit::Second),
        ("pms", TimeUnit::Millisecond),
        ("pus", TimeUnit::Microsecond),
    ] {
        for (condition, want) in [
            ("t > TIMESTAMP '2024-01-02 03:04:05'", vec![3.0, 4.0]),
            ("t >= TIMESTAMP '2024-01-02 03:04:05'", vec![2.0, 3.0, 4.0]),
            ("TIMESTAMP '2024-01-02 03:04:05' < t", vec![3.0, 4.0]),
            ("t = TIMESTAMP '2024-01-02 03:04:05'", vec![2.0]),
            ("t <> TIMESTAMP '2024-01-02 03:04:05'", vec![1.0, 3.0, 4.0]),
            // A fraction of a second the column cannot hold: compared exactly.
            ("t >= TIMESTAMP '2024-01-02 03:04:05.5'", vec![3.0, 4.0]),
            ("t = TIMESTAMP '2024-01-02 03:04:05.5'", vec![]),
            (
                "t BETWEEN TIMESTAMP '2024-01-02' AND TIMESTAMP '2024-01-02 03:04:06'",
                vec![2.0, 3.0],
            ),
            (
                "t NOT BETWEEN TIMESTAMP '2024-01-02' AND TIMESTAMP '2024-01-02 03:04:06'",
                vec![1.0, 4.0],
            ),
            (
                "t IN (TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-03 12:00:00')",
                vec![1.0, 4.0],
            ),
            ("t > CAST('2024-01-02' AS TIMESTAMP)", vec![2.0, 3.0, 4.0]),
        ] {
            let q = format!("SELECT t, v FROM {table} WHERE {condition} ORDER BY v");
            let df = ctx.sql(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
            // The column keeps its own unit in the output.
            assert_eq!(
                df.schema().field(0).data_type(),
                &DataType::Timestamp(unit, None),
                "{q}"
            );
            let got = df.compute().unwrap_or_else(|e| panic!("{q}: {e}"));
            assert_eq!(floats(&got, "v"), want, "{q}");
        }
    }
    // Two columns of different units compare too (a join's output, here).
    let got = ctx
        .sql("SELECT a.v FROM c a JOIN pms b ON a.v = b.v WHERE a.t = b.t AND a.t <= b.t ORDER BY a.v")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(floats(&got, "v"), vec![1.0, 2.0, 3.0, 4.0]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `x` with NaN (one of them negative) and nulls spread over three partitions, `v` 1..=9.
fn nan_and_null() -> Context {
    let xs = [
        vec![Some(1.0), Some(f64::NAN), None],
        vec![Some(f64::NAN), Some(2.0), None, Some(1.0)],
        vec![Some(-f64::NAN), Some(-3.0)],
    ];
    let mut v = 0;
    let batches = xs
        .iter()
        .map(|x| {
            let ids: Vec<i64> = x
                .iter()
                .map(|_| {
                    v += 1;
                    v
                })
                .collect();
            RecordBatch::try_from_iter([
                ("x", Arc::new(Float64Array::from(x.clone())) as _),
                ("v", Arc::new(Int64Array::from(ids)) as _),
            ])
            .unwrap()
        })
        .collect();
    let mut ctx = Context::new();
    ctx.create_table("t", DataFrame::from_batches(batches).unwrap());
    ctx
}

#[test]
fn nan_is_a_group_of_its_own_apart_from_null_in_group_by_and_distinct() {
    let mut ctx = nan_and_null();
    // Null first (as before), then the numbers, then NaN above them all (PostgreSQL).
    let got = ctx
        .sql("SELECT x, COUNT(*) AS n, SUM(v) AS s FROM t GROUP BY x")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(float_keys(&got, "x"), ["NULL", "-3", "1", "2", "NaN"]);
    assert_eq!(floats(&got, "n"), [2.0, 1.0, 2.0, 1.0, 3.0]);
    assert_eq!(
        floats(&got, "s"),
        [3.0 + 6.0, 9.0, 1.0 + 7.0, 5.0, 2.0 + 4.0 + 8.0]
    );
    let got = ctx
        .sql("SELECT DISTINCT x FROM t")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(float_keys(&got, "x"), ["NULL", "-3", "1", "2", "NaN"]);
    // Keys alone, and a NaN key beside another key.
    let got = ctx
        .sql("SELECT x FROM t GROUP BY x")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(float_keys(&got, "x"), ["NULL", "-3", "1", "2", "NaN"]);
    let got = ctx
        .sql(
            "SELECT x, v > 4 AS late, COUNT(*) AS n FROM t GROUP BY x, v > 4 ORDER BY n DESC, late",
        )
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(got.num_rows(), 8);
    // The dataframe API keeps pandas' rule: NaN and null keys are missing, dropped.
    let df = ctx.sql("SELECT x, v FROM t").unwrap();
    let grouped = df
        .groupby(["x"])
        .agg([agg::count("v").alias("n")])
        .compute()
        .unwrap();
    assert_eq!(float_keys(&grouped, "x"), ["-3", "1", "2"]);
}
