//! [`Context`]: the catalog of tables and the entry point of SQL statements.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use sqlparser::ast::{ObjectType, Statement};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;

use super::coerce::coerce;
use super::error::SqlError;
use super::frontend::{lookup, object_name, Planner};
use super::lower::lower;
use super::optimizer::optimize;
use super::plan::{Plan, Source, Table};
use crate::dataframe::{expr::dtype_name, DataFrame};
use crate::Error;

/// The longest statement accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 1024 * 1024;

/// The most tokens a statement may have. Each level of a syntax tree holds at least one
/// token, and sqlparser builds chains of operators (`1 + 1 + ..`) without its recursion
/// limit, so this is what bounds the depth of the walks over the tree that recurse
/// (its `Display` and `Drop`, about 10 KiB of stack a level in a debug build).
pub const MAX_QUERY_TOKENS: usize = 8192;

/// Stack for parsing, planning and dropping one statement's syntax tree: reserved per
/// statement, touched only as deep as the statement goes.
const PLANNING_STACK: usize = 256 * 1024 * 1024;

/// A catalog of named tables that SQL statements query (dask-sql's `Context`).
///
/// ```
/// use dask::dataframe::pretty;
/// use dask::datasets::{timeseries, TimeseriesOptions};
/// use dask::sql::Context;
///
/// let df = timeseries(TimeseriesOptions { end: "2000-01-03".into(), freq: "1min".into(), ..Default::default() });
/// let mut ctx = Context::new();
/// ctx.create_table("timeseries", df);
/// let result = ctx.sql("SELECT name, COUNT(*) AS n FROM timeseries WHERE y > 0 GROUP BY name ORDER BY n DESC LIMIT 3")?;
/// let table = result.compute()?;
/// assert_eq!(table.num_rows(), 3);
/// println!("{}", pretty(&table));
/// # Ok::<(), dask::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Context {
    tables: BTreeMap<String, Arc<Table>>,
}

impl Context {
    /// An empty catalog.
    pub fn new() -> Context {
        Context::default()
    }

    /// Registers `df` under `name` (replacing a table of that name). The dataframe stays
    /// lazy: queries read its partitions as the dataframe API would.
    pub fn create_table(&mut self, name: impl Into<String>, df: DataFrame) {
        let name = name.into();
        let table = Table {
            schema: df.schema(),
            index: df.index().map(str::to_string),
            name: name.clone(),
            source: Source::Frame(df),
        };
        self.tables.insert(name, Arc::new(table));
    }

    /// Removes the table `name`; an error listing the tables if there is none.
    pub fn drop_table(&mut self, name: &str) -> Result<(), Error> {
        let found = lookup(&self.tables, name)?;
        self.tables.remove(&found.name);
        Ok(())
    }

    /// The registered tables' names, sorted.
    pub fn tables(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    /// Registers the CSV files matching `glob` (one partition each, a header row, the
    /// schema inferred as [`read_csv`](crate::dataframe::read_csv) infers it). Queries
    /// decode only the columns they use.
    pub fn register_csv(&mut self, name: impl Into<String>, glob: &str) -> Result<(), Error> {
        let df = crate::dataframe::read_csv(glob)?;
        let files = crate::dataframe::files::glob("register_csv", glob)?;
        self.register_files(name.into(), Source::Csv(files), &df);
        Ok(())
    }

    /// Registers a Parquet file, or the `*.parquet` files of a directory (one partition
    /// each). Queries decode only the columns they use and skip row groups whose
    /// statistics rule their filters out.
    pub fn register_parquet(
        &mut self,
        name: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        let df = crate::dataframe::read_parquet(path)?;
        let pattern = if path.is_dir() {
            path.join("*.parquet")
        } else {
            path.to_path_buf()
        };
        let files = crate::dataframe::files::glob("register_parquet", &pattern.to_string_lossy())?;
        self.register_files(name.into(), Source::Parquet(files), &df);
        Ok(())
    }

    fn register_files(&mut self, name: String, source: Source, df: &DataFrame) {
        let table = Table {
            schema: df.schema(),
            index: None,
            name: name.clone(),
            source,
        };
        self.tables.insert(name, Arc::new(table));
    }

    /// Runs one SQL statement. A query (`SELECT`, `UNION ALL`) gives its result as a
    /// lazy dataframe: nothing runs until it is computed. `CREATE TABLE t AS SELECT ..`
    /// registers the query's (lazy) result and returns it; `DROP TABLE`, `SHOW TABLES`,
    /// `DESCRIBE t` and `EXPLAIN SELECT ..` return small tables.
    pub fn sql(&mut self, query: &str) -> Result<DataFrame, Error> {
        let statement = parse(query)?;
        let out = self.run(&statement);
        drop_deep(statement);
        out
    }

    fn run(&mut self, statement: &Statement) -> Result<DataFrame, Error> {
        match statement {
            Statement::Query(q) => Ok(lower(&self.plan_query(q)?)?),
            Statement::CreateTable(ct) => {
                let Some(q) = &ct.query else {
                    return Err(SqlError::unsupported("CREATE TABLE without AS SELECT").into());
                };
                let name = object_name(&ct.name)?;
                if self.tables.contains_key(&name) && !ct.or_replace {
                    if ct.if_not_exists {
                        return Ok(self.frame_of(&name)?);
                    }
                    return Err(SqlError::invalid(format!(
                        "table `{name}` exists (CREATE OR REPLACE TABLE replaces it)"
                    ))
                    .into());
                }
                let df = lower(&self.plan_query(q)?)?;
                self.create_table(name, df.clone());
                Ok(df)
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                if_exists,
                ..
            } => {
                for n in names {
                    let n = object_name(n)?;
                    match lookup(&self.tables, &n) {
                        Ok(t) => {
                            self.tables.remove(&t.name);
                        }
                        Err(_) if *if_exists => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(self.table_list()?)
            }
            Statement::ShowTables { .. } => Ok(self.table_list()?),
            Statement::ExplainTable { table_name, .. } => {
                let t = lookup(&self.tables, &object_name(table_name)?)?;
                let (names, types): (Vec<String>, Vec<String>) = t
                    .schema
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), dtype_name(f.data_type())))
                    .unzip();
                Ok(strings(&[("Column", names), ("Type", types)])?)
            }
            Statement::Explain { statement, .. } => {
                let Statement::Query(q) = statement.as_ref() else {
                    return Err(
                        SqlError::unsupported("EXPLAIN of a statement other than a query").into(),
                    );
                };
                let text = self.plan_query(q)?.to_string();
                Ok(strings(&[(
                    "plan",
                    text.lines().map(str::to_string).collect(),
                )])?)
            }
            other => {
                // Printed on the planning stack: `Display` recurses once per level of
                // the tree, and a chain of 4,000 operators (within the token limit)
                // overflowed a 2 MiB stack here.
                let text = stacker::grow(PLANNING_STACK, || other.to_string());
                let words: Vec<&str> = text.split_whitespace().take(2).collect();
                Err(SqlError::unsupported(format!("the statement {}", words.join(" "))).into())
            }
        }
    }

    /// The optimized logical plan of a query as text: the tree of operators, with the
    /// columns and filters pushed into each scan.
    pub fn explain(&self, query: &str) -> Result<String, Error> {
        let statement = parse(query)?;
        let out = match &statement {
            Statement::Query(q) => self.plan_query(q).map(|p| p.to_string()),
            _ => Err(SqlError::unsupported(
                "EXPLAIN of a statement other than a query",
            )),
        };
        drop_deep(statement);
        Ok(out?)
    }

    fn plan_query(&self, q: &sqlparser::ast::Query) -> Result<Plan, SqlError> {
        let tables = &self.tables;
        stacker::grow(PLANNING_STACK, || {
            // Datetimes of different units compared in one unit, before the types are
            // checked (where they would not mix).
            let plan = coerce(Planner::new(tables).query(q)?);
            // Type-check every expression before anything is built.
            plan.schema()?;
            Ok(optimize(plan))
        })
    }

    fn frame_of(&self, name: &str) -> Result<DataFrame, SqlError> {
        let t = lookup(&self.tables, name)?;
        lower(&Plan::Scan {
            table: t,
            columns: None,
            filters: Vec::new(),
        })
    }

    fn table_list(&self) -> Result<DataFrame, SqlError> {
        strings(&[("Table", self.tables())])
    }
}

/// One statement parsed (on a stack deep enough for any statement of accepted length).
fn parse(query: &str) -> Result<Statement, SqlError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(SqlError::invalid(format!(
            "the statement is {} bytes long; at most {MAX_QUERY_BYTES} are accepted",
            query.len()
        )));
    }
    let dialect = GenericDialect {};
    let tokens = sqlparser::tokenizer::Tokenizer::new(&dialect, query)
        .tokenize()
        .map_err(|e| SqlError::from_parser(e.into(), query))?;
    let tokens = tokens
        .iter()
        .filter(|t| !matches!(t, sqlparser::tokenizer::Token::Whitespace(_)))
        .count();
    if tokens > MAX_QUERY_TOKENS {
        return Err(SqlError::invalid(format!(
            "the statement has {tokens} tokens; at most {MAX_QUERY_TOKENS} are accepted"
        )));
    }
    let mut statements = stacker::grow(PLANNING_STACK, || {
        Parser::parse_sql(&dialect, query).map_err(|e| SqlError::from_parser(e, query))
    })?;
    match statements.len() {
        1 => Ok(statements.remove(0)),
        0 => Err(SqlError::invalid("no statement")),
        n => {
            drop_deep(statements);
            Err(SqlError::invalid(format!("{n} statements; one at a time")))
        }
    }
}

/// Drops a syntax tree on a stack deep enough for it (its `Drop` recurses).
fn drop_deep<T>(value: T) {
    stacker::grow(PLANNING_STACK, move || drop(value));
}

/// A one-partition table of string columns.
fn strings(columns: &[(&str, Vec<String>)]) -> Result<DataFrame, SqlError> {
    let batch = RecordBatch::try_from_iter(
        columns
            .iter()
            .map(|(n, v)| (*n, Arc::new(StringArray::from(v.clone())) as ArrayRef)),
    )
    .map_err(|e| SqlError::invalid(e.to_string()))?;
    DataFrame::from_batches(vec![batch]).map_err(|e| SqlError::invalid(e.to_string()))
}
