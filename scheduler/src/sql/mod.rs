//! SQL over partitioned dataframes (dask-sql): a [`Context`] holds named tables, and
//! [`Context::sql`] turns a statement into a lazy [`DataFrame`](crate::dataframe::DataFrame)
//! built from the same operations as the dataframe API, so its graph is drawable and it
//! computes on the same scheduler.
//!
//! A statement goes through four steps, one module each:
//! 1. `frontend`: sqlparser's syntax tree (generic dialect) becomes a logical [plan],
//!    names resolved against the tables and types checked;
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
//! Errors are [`SqlError`]s inside [`dask::Error::Sql`](crate::Error::Sql): a syntax
//! error with its line and column, an unknown table or column with the names that
//! exist, an unsupported construct named, a type error naming the expression.
//!
//! [plan]: Context::explain

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
