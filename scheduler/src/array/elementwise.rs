//! Elementwise methods and operators: each extends the array's fused expression (see
//! `blockwise`) instead of adding tasks.

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

use super::blockwise::{BinaryOp, Expr, Scalar, UnaryOp};
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

    /// `self op other`, same shapes or `other` (or `self`) of the other's last axes
    /// (NumPy broadcasting of a row). Chunks follow the larger operand; the other is
    /// rechunked to match when needed.
    fn binary(&self, op: BinaryOp, other: &Array) -> Array {
        let (a, b) = match (self.body(), other.body()) {
            (Err(_), _) => return self.clone(),
            (_, Err(_)) => return other.clone(),
            (Ok(a), Ok(b)) => (a, b),
        };
        let (big, small_is_other) = if a.shape.len() >= b.shape.len() {
            (a, true)
        } else {
            (b, false)
        };
        let small = if small_is_other { b } else { a };
        let trailing = big.shape.len() - small.shape.len();
        if big.shape[trailing..] != small.shape[..] {
            return Array::invalid(ArrayError::ShapeMismatch {
                op: op.name(),
                left: Dims(a.shape.clone()),
                right: Dims(b.shape.clone()),
            });
        }
        let want = big.chunks[trailing..].to_vec();
        let align = |x: &Array| {
            if x.chunks() == want {
                x.clone()
            } else {
                x.rechunk(want.clone())
            }
        };
        let (left, right) = if small_is_other {
            (self.clone(), align(other))
        } else {
            (align(self), other.clone())
        };
        // A broadcast row whose values depend on their position (`arange`, random values)
        // is read through its blocks, each generated at its own place: inlined, it was
        // generated at the place of the matrix's block, a row's worth of positions on.
        let own_blocks = |x: Array| {
            let (expr, _) = x.view();
            if trailing > 0 && expr.reads_position() {
                Array::from_blocks(x.shape().to_vec(), x.chunks(), x.blocks().to_vec())
            } else {
                x
            }
        };
        let (left, right) = if small_is_other {
            (left, own_blocks(right))
        } else {
            (own_blocks(left), right)
        };
        let (ea, mut inputs) = left.view();
        let (eb, ib) = right.view();
        let eb = Box::new(eb.shift_inputs(inputs.len()));
        inputs.extend(ib);
        Array::fused(
            big.shape.clone(),
            big.chunks.clone(),
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
