//! A [`dask::dataframe::Expr`] nested far deeper than any operation accepts (a sum built
//! in a loop: a million levels) is refused with a clear error by the operations that use
//! it, and everything else a caller can do with one (drop, clone, compare, hash, print,
//! list its columns, serialize and deserialize) works, or is an error, without recursing
//! once per level: on a thread with a 2 MiB stack, each of these overflowed the stack
//! and aborted the process. SQL statements whose expressions chain or nest beyond the
//! limits are errors on such a thread too.
#![cfg(feature = "dataframe")]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use dask::dataframe::arrow::array::{ArrayRef, Float64Array};
use dask::dataframe::arrow::datatypes::{DataType, Field, Schema};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{col, lit, CastType, DataFrame, Expr, Lit, TruncUnit};

/// How deep the hostile expressions go.
const DEPTH: usize = 1_000_000;

/// What typing a deep expression says, after the operation's name.
const TOO_DEEP: &str = "the expression is nested 151 or more levels deep; at most 150 are \
                        allowed (fold long sums into a tree)";

/// Runs `f` on a thread with a 2 MiB stack (what `std::thread::spawn` gives by default)
/// and returns its value. A panic in it fails the test; a stack overflow aborts the
/// test binary.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// `base + 1.0 + 1.0 + ..`: `depth` additions, nested to the left, as a loop builds them.
fn deep_sum(base: &str, depth: usize) -> Expr {
    let mut e = col(base);
    for _ in 0..depth {
        e = e + lit(1.0);
    }
    e
}

/// An expression `depth` levels deep that goes down through every kind of child in
/// turn (both sides of a binary operation, a `CASE`'s conditions, values and `ELSE`).
fn deep_mixed(depth: usize) -> Expr {
    let mut e = col("x");
    for i in 0..depth {
        e = match i % 10 {
            0 => e * lit(2),
            1 => col(format!("c{i}")).lt(e),
            2 => e.not(),
            3 => e.is_null(),
            4 => Expr::Cast {
                expr: Box::new(e),
                to: CastType::Float64,
            },
            5 => Expr::DateTrunc {
                unit: TruncUnit::Hour,
                expr: Box::new(e),
            },
            6 => e.like("a%"),
            7 => Expr::Case {
                branches: vec![(e, lit(1)), (col("b"), lit(2))],
                otherwise: None,
            },
            8 => Expr::Case {
                branches: vec![(col("b"), e)],
                otherwise: Some(Box::new(lit(Lit::Null))),
            },
            _ => Expr::Case {
                branches: Vec::new(),
                otherwise: Some(Box::new(e)),
            },
        };
    }
    e
}

fn frame() -> DataFrame {
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])),
        vec![Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef],
    )
    .unwrap();
    DataFrame::from_batches(vec![batch]).unwrap()
}

fn hash_of(e: &Expr) -> u64 {
    let mut h = DefaultHasher::new();
    e.hash(&mut h);
    h.finish()
}

/// Every kind of expression, nested a few levels.
fn sample() -> Expr {
    Expr::Case {
        branches: vec![
            (
                col("a").gt(lit(1)).and(col("s").like("x%").not()),
                Expr::Cast {
                    expr: Box::new(col("a") * lit(2.5)),
                    to: CastType::Float64,
                },
            ),
            (
                Expr::Like {
                    expr: Box::new(col("s")),
                    pattern: "it's".into(),
                    case_insensitive: true,
                },
                lit(Lit::Null),
            ),
        ],
        otherwise: Some(Box::new(Expr::IsNull(Box::new(Expr::DateTrunc {
            unit: TruncUnit::Day,
            expr: Box::new(col("t")),
        })))),
    }
}

#[test]
fn deep_expressions_are_dropped_without_overflowing_the_stack() {
    on_small_stack(|| {
        drop(deep_sum("x", DEPTH));
        drop(deep_mixed(DEPTH));
        // A deep expression inside a shallow one.
        drop(Expr::Case {
            branches: vec![(lit(true), deep_sum("x", DEPTH))],
            otherwise: Some(Box::new(deep_mixed(DEPTH / 10))),
        });
    });
    // And on the test's own thread.
    drop(deep_sum("x", DEPTH));
}

#[test]
fn deep_expressions_are_refused_by_the_operations_that_use_them() {
    let (typed, texts, deepest) = on_small_stack(|| {
        let df = frame();
        let typed = deep_sum("x", DEPTH)
            .data_type(&df.schema(), "with_column")
            .unwrap_err()
            .to_string();
        let filtered = df.filter(deep_sum("x", DEPTH).gt(lit(0.0)));
        let added = df.with_column("y", deep_sum("x", DEPTH));
        let assigned = df.assign([("y", col("x")), ("z", deep_mixed(DEPTH))]);
        // One level beyond the limit: `x` and 150 additions.
        let just_beyond = df.with_column("y", deep_sum("x", 150));
        // The error travels with the dataframe; the expression itself was dropped.
        let texts: Vec<String> = [filtered, added, assigned, just_beyond]
            .iter()
            .map(|d| d.compute().unwrap_err().to_string())
            .collect();
        // The deepest accepted expression is evaluated: `x` and 149 additions.
        let deepest = df.with_column("y", deep_sum("x", 149)).compute().unwrap();
        (typed, texts, deepest)
    });
    assert_eq!(typed, format!("`with_column`: {TOO_DEEP}"));
    assert_eq!(texts[0], format!("`filter`: {TOO_DEEP}"));
    for text in &texts[1..] {
        assert_eq!(*text, format!("`with_column`: {TOO_DEEP}"));
    }
    let y = deepest.column(1).as_any().downcast_ref::<Float64Array>();
    assert_eq!(y.unwrap().values().to_vec(), [150.0, 151.0]);
}

#[test]
fn deep_expressions_clone_compare_and_hash() {
    on_small_stack(|| {
        let e = deep_sum("x", DEPTH);
        let copy = e.clone();
        assert!(copy == e);
        assert_eq!(hash_of(&copy), hash_of(&e));
        // Different only at the bottom.
        let other = deep_sum("y", DEPTH);
        assert!(other != e);
        assert_ne!(hash_of(&other), hash_of(&e));
        // Different in depth.
        assert!(deep_sum("x", DEPTH - 1) != e);
        let mixed = deep_mixed(DEPTH);
        let copy = mixed.clone();
        assert!(copy == mixed);
        assert_eq!(hash_of(&copy), hash_of(&mixed));
        assert!(mixed != e);
        // NaN is unequal to itself at any depth, as before.
        let nan = deep_sum("x", 1000) + lit(f64::NAN);
        assert!(nan != nan.clone());
    });
    // Shallow ones as before.
    let e = sample();
    assert!(e.clone() == e);
    assert_eq!(hash_of(&e.clone()), hash_of(&e));
    assert!(
        e != Expr::Case {
            branches: Vec::new(),
            otherwise: None
        }
    );
}

#[test]
fn deep_expressions_print_and_list_their_columns() {
    let (display, debug, pretty, columns, mixed_columns) = on_small_stack(|| {
        let e = deep_sum("x", DEPTH);
        let columns: Vec<String> = e.columns().into_iter().map(String::from).collect();
        (
            e.to_string(),
            format!("{e:?}"),
            format!("{e:#?}"),
            columns,
            deep_mixed(DEPTH).columns().len(),
        )
    });
    // `Display` in full: every level's parentheses.
    assert_eq!(display.len(), DEPTH + 1 + DEPTH * " + 1.0)".len());
    assert!(display[..DEPTH].bytes().all(|b| b == b'('));
    assert!(display[DEPTH - 3..].starts_with("(((x + 1.0) + 1.0) + 1.0)"));
    assert!(display.ends_with(" + 1.0) + 1.0)"));
    // `Debug` shows the first 150 levels, and `..` for what is below them.
    assert_eq!(debug.matches("Binary { op: Add, left: ").count(), 150);
    assert!(debug.contains("left: .., right: Literal(Float(1.0)) }"));
    assert!(debug.ends_with("right: Literal(Float(1.0)) }"));
    assert_eq!(pretty.matches("Binary {").count(), 150);
    assert!(pretty.contains("left: ..,\n"));
    assert_eq!(columns, ["x"]);
    // Every `c{i}` of the mixed expression (one level in ten), two `b`s, and `x`.
    assert_eq!(mixed_columns, DEPTH / 10 + 2 * DEPTH / 10 + 1);

    // Shallow ones as the derived `Debug` and the former `Display` gave them.
    let e = sample();
    assert_eq!(
        e.to_string(),
        "CASE WHEN ((a > 1) & ~(s LIKE 'x%')) THEN CAST((a * 2.5) AS float64) WHEN \
         (s ILIKE 'it''s') THEN null ELSE date_trunc('day', t).isnull() END"
    );
    assert_eq!(e.columns(), ["a", "s", "a", "s", "t"]);
    assert_eq!(
        format!("{e:?}"),
        "Case { branches: [(Binary { op: And, left: Binary { op: Gt, left: Column(\"a\"), \
         right: Literal(Int(1)) }, right: Not(Like { expr: Column(\"s\"), pattern: \"x%\", \
         case_insensitive: false }) }, Cast { expr: Binary { op: Mul, left: Column(\"a\"), \
         right: Literal(Float(2.5)) }, to: Float64 }), (Like { expr: Column(\"s\"), pattern: \
         \"it's\", case_insensitive: true }, Literal(Null))], otherwise: Some(IsNull(DateTrunc \
         { unit: Day, expr: Column(\"t\") })) }"
    );
    assert_eq!(format!("{e:#?}"), SAMPLE_PRETTY);
    let empty = Expr::Case {
        branches: vec![],
        otherwise: None,
    };
    assert_eq!(
        format!("{empty:?}"),
        "Case { branches: [], otherwise: None }"
    );
    assert_eq!(
        format!("{empty:#?}"),
        "Case {\n    branches: [],\n    otherwise: None,\n}"
    );
}

/// `{:#?}` of [`sample`], as the derived `Debug` printed it.
const SAMPLE_PRETTY: &str = r#"Case {
    branches: [
        (
            Binary {
                op: And,
                left: Binary {
                    op: Gt,
                    left: Column(
                        "a",
                    ),
                    right: Literal(
                        Int(
                            1,
                        ),
                    ),
                },
                right: Not(
                    Like {
                        expr: Column(
                            "s",
                        ),
                        pattern: "x%",
                        case_insensitive: false,
                    },
                ),
            },
            Cast {
                expr: Binary {
                    op: Mul,
                    left: Column(
                        "a",
                    ),
                    right: Literal(
                        Float(
                            2.5,
                        ),
                    ),
                },
                to: Float64,
            },
        ),
        (
            Like {
                expr: Column(
                    "s",
                ),
                pattern: "it's",
                case_insensitive: true,
            },
            Literal(
                Null,
            ),
        ),
    ],
    otherwise: Some(
        IsNull(
            DateTrunc {
                unit: Day,
                expr: Column(
                    "t",
                ),
            },
        ),
    ),
}"#;

#[test]
fn deep_expressions_are_not_serialized_and_deep_input_is_not_deserialized() {
    on_small_stack(|| {
        let e = deep_sum("x", DEPTH);
        let why = serde_json::to_string(&e).unwrap_err().to_string();
        assert_eq!(
            why,
            "the expression is nested more than 150 levels deep; at most 150 are allowed"
        );
        assert!(postcard::to_allocvec(&e).is_err());
        // A million `Not`s (variant 3) around `Column("x")` (variant 0, a string of 1).
        let mut bytes = vec![3u8; DEPTH];
        bytes.extend([0, 1, b'x']);
        assert_eq!(
            postcard::from_bytes::<Expr>(&bytes).unwrap_err(),
            postcard::Error::SerdeDeCustom
        );
        // The deepest accepted expression goes both ways; one level more does not.
        let mut deepest = col("x");
        for _ in 1..150 {
            deepest = deepest.not();
        }
        let bytes = postcard::to_allocvec(&deepest).unwrap();
        assert_eq!(bytes.len(), 149 + 3);
        assert!(postcard::from_bytes::<Expr>(&bytes).unwrap() == deepest);
        assert!(postcard::to_allocvec(&deepest.clone().not()).is_err());
        let mut deeper = vec![3u8];
        deeper.extend(&bytes);
        assert_eq!(
            postcard::from_bytes::<Expr>(&deeper).unwrap_err(),
            postcard::Error::SerdeDeCustom
        );
    });
    // Shallow ones in the derived implementations' format.
    let e = sample();
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(
        json,
        r#"{"Case":{"branches":[[{"Binary":{"op":"And","left":{"Binary":{"op":"Gt","left":{"Column":"a"},"right":{"Literal":{"Int":1}}}},"right":{"Not":{"Like":{"expr":{"Column":"s"},"pattern":"x%","case_insensitive":false}}}}},{"Cast":{"expr":{"Binary":{"op":"Mul","left":{"Column":"a"},"right":{"Literal":{"Float":2.5}}}},"to":"Float64"}}],[{"Like":{"expr":{"Column":"s"},"pattern":"it's","case_insensitive":true}},{"Literal":"Null"}]],"otherwise":{"IsNull":{"DateTrunc":{"unit":"Day","expr":{"Column":"t"}}}}}}"#
    );
    assert!(serde_json::from_str::<Expr>(&json).unwrap() == e);
    let bytes = postcard::to_allocvec(&e).unwrap();
    assert_eq!(
        bytes,
        [
            5, 2, 2, 10, 2, 8, 0, 1, 97, 1, 2, 2, 3, 8, 0, 1, 115, 2, 120, 37, 0, 6, 2, 2, 0, 1,
            97, 1, 3, 0, 0, 0, 0, 0, 0, 4, 64, 2, 8, 0, 1, 115, 4, 105, 116, 39, 115, 1, 1, 0, 1,
            4, 7, 3, 0, 1, 116
        ]
    );
    assert!(postcard::from_bytes::<Expr>(&bytes).unwrap() == e);
}

/// Statements are refused by their length in tokens, by sqlparser's recursion limit and
/// by the planner's depth limit; the statement named in an error is printed from its
/// syntax tree by a recursive walk, which a chain of 4,000 operators in an unsupported
/// statement took past the caller's stack.
#[cfg(feature = "sql")]
#[test]
fn sql_statements_that_chain_or_nest_too_deep_are_errors_on_a_small_stack() {
    use dask::sql::{Context, SqlError};
    use dask::Error;

    let run = |query: String| {
        on_small_stack(move || {
            let mut ctx = Context::new();
            ctx.create_table("t", frame());
            ctx.sql(&query).and_then(|df| df.compute())
        })
    };
    let error = |query: String| match run(query) {
        Err(Error::Sql(e)) => e,
        Err(other) => panic!("not a SQL error: {other}"),
        Ok(_) => panic!("accepted"),
    };
    // 100,000 terms, and 100,000 parentheses: more tokens than a statement may have.
    let e = error(format!("SELECT x{} FROM t", " + x".repeat(99_999)));
    assert_eq!(
        e.to_string(),
        "the statement has 200002 tokens; at most 8192 are accepted"
    );
    let e = error(format!(
        "SELECT {}x{} FROM t",
        "(".repeat(100_000),
        ")".repeat(100_000)
    ));
    assert_eq!(
        e.to_string(),
        "the statement has 200004 tokens; at most 8192 are accepted"
    );
    // Within the token limit: sqlparser's recursion limit, and the planner's.
    let e = error(format!(
        "SELECT {}x{} FROM t",
        "(".repeat(4000),
        ")".repeat(4000)
    ));
    assert_eq!(
        e.to_string(),
        "syntax error at line 1, column 1: nested too deeply"
    );
    let e = error(format!(
        "SELECT x FROM {}t{}",
        "(SELECT x FROM ".repeat(1000),
        ")".repeat(1000)
    ));
    assert_eq!(
        e.to_string(),
        "syntax error at line 1, column 1: nested too deeply"
    );
    let e = error(format!("SELECT x{} FROM t", "+x".repeat(4090)));
    assert_eq!(
        e.to_string(),
        "the statement nests more than 128 levels deep"
    );
    // Unsupported statements holding long chains.
    let e = error(format!("UPDATE t SET x = 1{}", "+1".repeat(4000)));
    assert!(matches!(e, SqlError::Unsupported { .. }), "{e:?}");
    assert_eq!(e.to_string(), "unsupported: the statement UPDATE t");
    let e = error(format!("INSERT INTO t VALUES (1{})", "+1".repeat(4000)));
    assert_eq!(e.to_string(), "unsupported: the statement INSERT INTO");
    // The longest chains accepted (126 additions, 125 under a comparison) are typed,
    // filtered and evaluated; one more is refused.
    let sum = |n: usize| format!("x{}", " + 1".repeat(n));
    let query = format!("SELECT {} AS y FROM t WHERE {} > 126.5", sum(126), sum(125));
    let out = run(query).unwrap();
    let y = out.column(0).as_any().downcast_ref::<Float64Array>();
    assert_eq!(y.unwrap().values().to_vec(), [128.0]);
    let e = error(format!("SELECT {} AS y FROM t", sum(127)));
    assert_eq!(
        e.to_string(),
        "the statement nests more than 128 levels deep"
    );
}
