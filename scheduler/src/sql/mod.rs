//! SQL over partitioned dataframes (dask-sql): a [`Context`] holds named tables, and
//! [`Context::sql`] turns a statement into a lazy [`DataFrame`](crate::dataframe::DataFrame)
//! built from the same operations as the dataframe API, so its graph is drawable and it
//! computes on the same scheduler.
//!
//! A statement goes through four steps, one module each:
//! 1. `frontend`: sqlparser's syntax tree (generic dialect) becomes a logical [plan],
//!    names resolved against the tables, datetimes of different units compared in one
//!    (`coerce`) and types checked;
//! 2. `optimizer`: filters move down into the scans and each scan keeps only the
//!    columns used;
//! 3. `lower`: each plan node becomes dataframe operations (see the table there);
//!    `GROUP BY DATE_TRUNC(unit, ts)` over a table whose sorted, null-free datetime
//!    index is `ts`, with aggregates of one function, becomes one `resample` call
//!    (`resample`), as `explain` shows;
//! 4. [`Context::explain`] prints the optimized plan.
//!
//! Supported: `SELECT` with expressions and aliases, `WHERE`, `GROUP BY` (expressions,
//! aliases, positions), `HAVING`, `COUNT(*)`, `COUNT(x)`, `COUNT(DISTINCT x)`, `SUM`,
//! `AVG`, `MIN`, `MAX`, `STDDEV`, `VARIANCE`, `ORDER BY` (with `LIMIT k`: a per-partition
//! top-k merged as a tree), `LIMIT k OFFSET n` (and `LIMIT n, k`), `DISTINCT`,
//! non-recursive `WITH name AS (..)`, `CASE`, `CAST`, `COALESCE`, `BETWEEN`, `IN (..)`,
//! `LIKE`, `NOT LIKE` and `ILIKE` with `%` and `_` (a string-literal pattern; `LIKE` is
//! case-sensitive, as in PostgreSQL and DuckDB, not SQLite), `DATE_TRUNC('hour', ts)`,
//! subqueries in `FROM`, `[INNER|LEFT|RIGHT|FULL OUTER] JOIN .. ON` equalities (see
//! [`BROADCAST_MAX_PARTITIONS`]), `UNION ALL`, `CREATE TABLE .. AS SELECT`, `DROP
//! TABLE`, `SHOW TABLES`, `DESCRIBE t`, `EXPLAIN SELECT ..`.
//!
//! Unsupported, and named so in the error: window functions (`OVER`, `QUALIFY`),
//! `WITH RECURSIVE`, subqueries in expressions (scalar, `IN (SELECT ..)`, `EXISTS`;
//! correlated or not), `UNION`, `INTERSECT` and `EXCEPT` without `ALL`, cross, natural
//! and `USING` joins, `LIKE .. ESCAPE`, functions other than those above.
//!
//! Nulls follow SQL (the tests compare with SQLite): a null group key makes one group,
//! `DISTINCT` keeps one row of nulls, null join keys match nothing, `SUM`, `AVG`, `MIN`
//! and `MAX` of no values are null, an aggregate without `GROUP BY` over no rows gives
//! one row (counts 0, the rest null), `ORDER BY` puts nulls first ascending and last
//! descending, and a comparison with null is null, so `WHERE` drops the row. Differences
//! from SQL: `/` is true division (`7 / 2` is `3.5`).
//!
//! NaN is a value in `GROUP BY` and `DISTINCT`, as in PostgreSQL and DuckDB (the
//! dataframe API's `groupby` reads it as missing, as pandas does): every NaN of a key is
//! one group, apart from the null group. Groups come out sorted by key: the null group
//! first, then the numbers, then NaN, above every number as PostgreSQL orders it.
//! Aggregates still skip NaN values as pandas does (`COUNT(x)` does not count them).
//!
//! Types: `UNION ALL` gives each column the type its inputs have in common, widening as
//! PostgreSQL and DuckDB do (integers to int64, integers with floats to float64, datetimes
//! of different units to `datetime64[ns]`, a `NULL` column to the others' type); columns
//! with none (a number and a string) are a type error naming the column's position and
//! both types, when the statement is planned. A comparison of datetimes of different
//! units, such as a CSV column (seconds) or a Parquet one (milli- or microseconds) with a
//! `TIMESTAMP '2024-01-02 03:04:05'` literal (nanoseconds), compares them exactly in
//! nanoseconds (a date as its midnight).
//!
//! Errors are [`SqlError`]s inside [`dask::Error::Sql`](crate::Error::Sql): a syntax
//! error with its line and column, an unknown table or column with the names that
//! exist, an unsupported construct named, a type error naming the expression.
//!
//! [plan]: Context::explain

mod coerce;
mod context;
mod error;
mod frontend;
mod join;
mod lower;
mod optimizer;
mod plan;
mod resample;
mod scan;
mod sort;

pub use context::{Context, MAX_QUERY_BYTES, MAX_QUERY_TOKENS};
pub use error::SqlError;
pub use join::BROADCAST_MAX_PARTITIONS;
