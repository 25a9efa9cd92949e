//! Elementwise methods and operators: each extends the array's fused expression (see
//! `blockwise`) instead of adding tasks. `+ - * /` between arrays broadcast as NumPy
//! does (see `broadcast`): `(3, 4) + (3, 1)`, `(3, 1) * (1, 4)`, `(5, 1, 4) + (3, 1)`.

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

use super::blockwise::{BinaryOp, Expr, Scalar, UnaryOp};
use super::broadcast;
use super::error::{ArrayError, Dims};
use super::{Array, Block};

impl Array {
    fn unary(&self, op: UnaryOp) -> Array {
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let (expr, inputs) = self.view();
        Array::fused(
            body.shape.clone(),
            body.chunks.clone(),
            Arc::new(Expr::Unary(op, Box::new((*expr).clone()))),
            inputs,
        )
    }

    /// `self op other` under NumPy's broadcasting rule (see `broadcast`): shapes are
    /// aligned from the right, a missing leading axis counts as length 1, and an axis of
    /// length 1 stretches to the other operand's length (`(3, 4) + (3, 1)`, `(3, 1) *
    /// (1, 4)` giving `(3, 4)`, `(5, 1, 4) + (3, 1)` giving `(5, 3, 4)`, a 0-D array
    /// against anything); any other pair of lengths is a `ShapeMismatch` naming the
    /// operation and both shapes, and a result beyond the size limits is an error too.
    /// Along each axis the result takes the chunks of an operand that is not stretched
    /// there (the operand of more axes, or the left one, where neither is), and the
    /// other operand is rechunked to match; a stretched operand's one block along an
    /// axis is read by every result block along it.
    ///
    /// The result extends the operands' fused expressions: no task is added.
    fn binary(&self, op: BinaryOp, other: &Array) -> Array {
        let (a, b) = match (self.body(), other.body()) {
            (Err(_), _) => return self.clone(),
            (_, Err(_)) => return other.clone(),
            (Ok(a), Ok(b)) => (a, b),
        };
        let layout = broadcast::shape(op.name(), &a.shape, &b.shape).and_then(|shape| {
            let chunks = broadcast::chunks(
                op.name(),
                &shape,
                (&a.shape, &a.chunks),
                (&b.shape, &b.chunks),
            )?;
            Ok((shape, chunks))
        });
        let (shape, chunks) = match layout {
            Ok(layout) => layout,
            Err(e) => return Array::invalid(e),
        };
        let align = |x: &Array, body: &super::Body| {
            let want = broadcast::operand_chunks(&body.shape, &body.chunks, &shape, &chunks);
            let x = if body.chunks == want {
                x.clone()
            } else {
                x.rechunk(want)
            };
            // An operand stretched to the result's shape whose values depend on their
            // position (`arange`, `linspace`, random values, a transpose of them) is read
            // through its blocks, each generated at its own place: inlined, it would be
            // generated at the place of the result's block (`x + arange(3)` added 3, 4,
            // 5 to the second row of `x`).
            let (expr, _) = x.view();
            if body.shape != shape && expr.reads_position() {
                Array::from_blocks(x.shape().to_vec(), x.chunks(), x.blocks().to_vec())
            } else {
                x
            }
        };
        let (left, right) = (align(self, a), align(other, b));
        let (ea, mut inputs) = left.view();
        let (eb, ib) = right.view();
        let eb = Box::new(eb.shift_inputs(inputs.len()));
        inputs.extend(ib);
        Array::fused(
            shape,
            chunks,
            Arc::new(Expr::Binary(op, Box::new((*ea).clone()), eb)),
            inputs,
        )
    }

    /// `-x`
    pub fn neg(&self) -> Array {
        self.unary(UnaryOp::Neg)
    }
    /// `|x|`
    pub fn abs(&self) -> Array {
        self.unary(UnaryOp::Abs)
    }
    /// Square root.
    pub fn sqrt(&self) -> Array {
        self.unary(UnaryOp::Sqrt)
    }
    /// `e^x`
    pub fn exp(&self) -> Array {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    pub fn ln(&self) -> Array {
        self.unary(UnaryOp::Ln)
    }
    /// Base-10 logarithm.
    pub fn log10(&self) -> Array {
        self.unary(UnaryOp::Log10)
    }
    /// Sine.
    pub fn sin(&self) -> Array {
        self.unary(UnaryOp::Sin)
    }
    /// Cosine.
    pub fn cos(&self) -> Array {
        self.unary(UnaryOp::Cos)
    }
    /// Tangent.
    pub fn tan(&self) -> Array {
        self.unary(UnaryOp::Tan)
    }
    /// `x^n` for an integer `n` (Python's `x**2`).
    pub fn powi(&self, n: i32) -> Array {
        self.unary(UnaryOp::Powi(n))
    }
    /// `x^p`
    pub fn powf(&self, p: f64) -> Array {
        self.unary(UnaryOp::Powf(Scalar::new(p)))
    }
    /// Each element limited to `[min, max]`.
    pub fn clip(&self, min: f64, max: f64) -> Array {
        self.unary(UnaryOp::Clip(Scalar::new(min), Scalar::new(max)))
    }

    /// Any function of a block, for what the methods above do not cover. `f` gets each
    /// block and must return a block of the same shape (another shape fails the
    /// computation with both shapes). A closure has no content to key its tasks by, so
    /// two calls give two sets of nodes, numbered in build order.
    pub fn map_blocks<F>(&self, f: F) -> Array
    where
        F: Fn(&ndarray::ArrayD<f64>) -> ndarray::ArrayD<f64> + Send + Sync + 'static,
    {
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let f = Arc::new(f);
        let blocks = self
            .blocks()
            .iter()
            .enumerate()
            .map(|(b, block)| {
                let f = Arc::clone(&f);
                let want = body.block_shape(&body.unravel(b));
                // Not pure: a closure has no content to key by, so the key is numbered
                // in build order (as `Delayed::map`'s).
                let run = move |ins: &[&Block]| {
                    let out = f(ins[0]);
                    if out.shape() == want.as_slice() {
                        Ok(out)
                    } else {
                        Err(ArrayError::ShapeMismatch {
                            op: "map_blocks",
                            left: Dims(want.clone()),
                            right: Dims(out.shape().to_vec()),
                        })
                    }
                };
                let codec = crate::codec::serde_codec::<Block>;
                crate::combine::many_task(
                    "map_blocks",
                    None,
                    std::slice::from_ref(block),
                    run,
                    codec,
                    super::measure::BlockSize,
                )
            })
            .collect();
        Array::from_blocks(body.shape.clone(), body.chunks.clone(), blocks)
    }
}

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $op:expr, $scalar_right:expr, $scalar_left:expr) => {
        impl $trait<&Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                self.binary($op, rhs)
            }
        }
        impl $trait<Array> for &Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                self.binary($op, &rhs)
            }
        }
        impl $trait<&Array> for Array {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                self.binary($op, rhs)
            }
        }
        impl $trait<Array> for Array {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                self.binary($op, &rhs)
            }
        }
        impl $trait<f64> for &Array {
            type Output = Array;
            fn $method(self, rhs: f64) -> Array {
                self.unary($scalar_right(Scalar::new(rhs)))
            }
        }
        impl $trait<f64> for Array {
            type Output = Array;
            fn $method(self, rhs: f64) -> Array {
                self.unary($scalar_right(Scalar::new(rhs)))
            }
        }
        impl $trait<&Array> for f64 {
            type Output = Array;
            fn $method(self, rhs: &Array) -> Array {
                rhs.unary($scalar_left(Scalar::new(self)))
            }
        }
        impl $trait<Array> for f64 {
            type Output = Array;
            fn $method(self, rhs: Array) -> Array {
                rhs.unary($scalar_left(Scalar::new(self)))
            }
        }
    };
}

binary_operator!(
    Add,
    add,
    BinaryOp::Add,
    UnaryOp::AddScalar,
    UnaryOp::AddScalar
);
binary_operator!(
    Sub,
    sub,
    BinaryOp::Sub,
    UnaryOp::SubScalar,
    UnaryOp::ScalarSub
);
binary_operator!(
    Mul,
    mul,
    BinaryOp::Mul,
    UnaryOp::MulScalar,
    UnaryOp::MulScalar
);
binary_operator!(
    Div,
    div,
    BinaryOp::Div,
    UnaryOp::DivScalar,
    UnaryOp::ScalarDiv
);

impl Neg for &Array {
    type Output = Array;
    fn neg(self) -> Array {
        self.unary(UnaryOp::Neg)
    }
}

impl Neg for Array {
    type Output = Array;
    fn neg(self) -> Array {
        self.unary(UnaryOp::Neg)
    }
}
