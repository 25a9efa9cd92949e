//! `compute`, `persist` and `graph`: turning outputs into one plan and running it.

use crate::backend;
use crate::config::Config;
#[cfg(not(loom))]
use crate::config::Scheduler;
use crate::delayed::{persisted, Delayed};
use crate::diagnostics::ProgressBar;
use crate::error::{panic_message, Error};
use crate::nesting::Nested;
use crate::node_ref::NodeRef;
use crate::plan::{Plan, Splitting, HALT_CANCEL, HALT_TIMEOUT, NOT_HALTED};
use std::sync::Arc;
use std::time::Instant;

/// What [`compute`] accepts: a slice, `Vec` or array of `Delayed<T>` (giving `Vec<T>`),
/// one `&Delayed<T>` (giving `T`), an `&Array` (with the `array` feature), or a tuple of
/// any of these (giving a tuple of values).
///
/// ```
/// let a = dask::delayed(2).map(|v| v + 1);
/// let b = a.map(|v| format!("{v}!"));
/// let (x, y) = dask::compute((&a, &b)).unwrap();
/// assert_eq!((x, y.as_str()), (3, "3!"));
/// ```
///
/// Implement it for your own collection, as Dask collections implement
/// `__dask_graph__`, and `compute` takes it beside everything else, sharing nodes with
/// them: [`collect`](Outputs::collect) names the nodes whose values the collection needs,
/// [`extract`](Outputs::extract) reads those values back in the same order and builds the
/// result.
///
/// ```
/// use dask::{Delayed, Error, OutputNodes, OutputReader, Outputs};
///
/// /// A column split in parts; computing it concatenates them.
/// struct Column {
///     parts: Vec<Delayed<Vec<f64>>>,
/// }
///
/// impl Outputs for &Column {
///     type Values = Vec<f64>;
///
///     fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
///         for part in &self.parts {
///             nodes.push(part);
///         }
///     }
///
///     fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Vec<f64>, Error> {
///         let mut all = Vec::new();
///         for _ in &self.parts {
///             all.extend(results.take::<Vec<f64>>()?);
///         }
///         Ok(all)
///     }
/// }
///
/// let base = dask::delayed(vec![1.0, 2.0]);
/// let column = Column { parts: vec![base.clone(), base.map(|v| v.iter().map(|x| x * 10.0).collect())] };
/// let total = base.map(|v| v.iter().sum::<f64>());
/// let (values, sum) = dask::compute((&column, &total))?;
/// assert_eq!(values, vec![1.0, 2.0, 10.0, 20.0]);
/// assert_eq!(sum, 3.0);
/// # Ok::<(), dask::Error>(())
/// ```
pub trait Outputs {
    /// What the computation returns.
    type Values;

    /// Pushes every node whose value [`extract`](Self::extract) will read, in the order
    /// it reads them. A node may be pushed more than once; it runs once.
    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>);

    /// Builds the result from the values of the nodes `collect` pushed, taken in the
    /// same order with [`OutputReader::take`].
    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Self::Values, Error>;

    /// An error found while the outputs were built (an invalid array operation, say),
    /// returned before anything is planned or run. The default finds none.
    fn check(&self) -> Result<(), Error> {
        Ok(())
    }
}

/// The output nodes of a computation, in request order (see [`Outputs::collect`]).
pub struct OutputNodes<'v, 's>(&'v mut Vec<&'s NodeRef>);

impl<'s> OutputNodes<'_, 's> {
    /// Adds one output node.
    pub fn push<T>(&mut self, d: &'s Delayed<T>) {
        self.0.push(d.node_ref());
    }
}

/// Reads a finished computation's outputs in request order (see [`Outputs::extract`]).
pub struct OutputReader<'p, 'g> {
    plan: &'p Plan<'g>,
    next: usize,
}

impl OutputReader<'_, '_> {
    /// The value of the next output node, in the order `collect` pushed them: moved out
    /// when nothing else reads it, cloned otherwise. Asking for another type than the
    /// node's is an [`Error::Internal`].
    pub fn take<T: Clone + Send + Sync + 'static>(&mut self) -> Result<T, Error> {
        let value = self.plan.take_output(self.next);
        self.next += 1;
        value
    }
}

impl<T: Clone + Send + Sync + 'static> Outputs for &[Delayed<T>] {
    type Values = Vec<T>;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        self.iter().for_each(|d| nodes.push(d));
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Vec<T>, Error> {
        self.iter().map(|_| results.take()).collect()
    }
}

impl<T: Clone + Send + Sync + 'static> Outputs for &Vec<Delayed<T>> {
    type Values = Vec<T>;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        self.iter().for_each(|d| nodes.push(d));
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Vec<T>, Error> {
        self.iter().map(|_| results.take()).collect()
    }
}

impl<T: Clone + Send + Sync + 'static, const N: usize> Outputs for &[Delayed<T>; N] {
    type Values = Vec<T>;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        self.iter().for_each(|d| nodes.push(d));
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Vec<T>, Error> {
        self.iter().map(|_| results.take()).collect()
    }
}

impl<T: Clone + Send + Sync + 'static> Outputs for &Delayed<T> {
    type Values = T;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        nodes.push(*self);
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<T, Error> {
        results.take()
    }
}

macro_rules! outputs_for_tuples {
    ($( ( $($name:ident : $idx:tt),+ ) )*) => {$(
        /// A tuple of outputs of different kinds (`&Delayed<_>`, `&Array`, ...), computed
        /// as one graph.
        impl<$($name: Outputs),+> Outputs for ($($name,)+) {
            type Values = ($($name::Values,)+);

            fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
                $( self.$idx.collect(nodes); )+
            }

            fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<Self::Values, Error> {
                Ok(($( self.$idx.extract(results)?, )+))
            }

            fn check(&self) -> Result<(), Error> {
                $( self.$idx.check()?; )+
                Ok(())
            }
        }
    )*};
}

outputs_for_tuples! {
    (A: 0)
    (A: 0, B: 1)
    (A: 0, B: 1, C: 2)
    (A: 0, B: 1, C: 2, D: 3)
    (A: 0, B: 1, C: 2, D: 3, E: 4)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5, G: 6, H: 7)
}

/// Computes every output on the default scheduler and returns their values in order.
///
/// All outputs form one graph: a node shared between outputs (or reachable twice)
/// runs exactly once; nodes the outputs do not need are not run; intermediate results are
/// dropped as soon as their last reader finishes.
///
/// Computing the same outputs again runs every task again (results are not cached, as in
/// Dask). The plan may be reused: the process keeps the graph of its last computation
/// (up to 256 MB) when every output is a non-pure node, and a `compute` of those very
/// outputs, next, skips planning and costs about what running the tasks costs.
///
/// ```
/// use dask::Delayed;
/// let base = dask::delayed(10);
/// let outs: Vec<Delayed<i32>> = (0..3).map(|i| base.map(move |b| b + i)).collect();
/// assert_eq!(dask::compute(&outs).unwrap(), vec![10, 11, 12]);
/// ```
pub fn compute<O: Outputs>(outputs: O) -> Result<O::Values, Error> {
    compute_with(outputs, &Config::default())
}

/// [`compute`] with options (scheduler, ...).
pub fn compute_with<O: Outputs>(outputs: O, config: &Config) -> Result<O::Values, Error> {
    compute_here(outputs, config, true)
        .map(|values| values.expect("every process receives the outputs"))
}

/// [`compute_with`]; on a cluster with `everywhere` false, only process 0 receives the
/// outputs and the others get `None`.
pub(crate) fn compute_here<O: Outputs>(
    outputs: O,
    config: &Config,
    everywhere: bool,
) -> Result<Option<O::Values>, Error> {
    config.validate()?;
    outputs.check()?;
    let _level = Nested::enter()?;
    let mut plan = Plan::build_splitting(splitting(config), |nodes| {
        outputs.collect(&mut OutputNodes(nodes))
    });
    crate::deferred::check(&plan)?;
    crate::combinators::check_custom_keys(&plan)?;
    plan.configure(
        config.errors,
        config.cancel.clone(),
        config.callbacks.0.for_computation(),
    );
    if config.progress {
        plan.add_observer(Arc::new(ProgressBar::new()));
    }
    #[cfg(feature = "tracing")]
    if crate::diagnostics::Spans::wanted() {
        plan.add_observer(Arc::new(crate::diagnostics::Spans));
    }
    let backend = backend::for_config(config, everywhere)?;
    call_hook("planned", || plan.observers().planned(&plan))?;
    call_hook("threads", || plan.observers().threads(backend.threads()))?;
    call_hook("start", || {
        plan.observers().start(plan.graph().task_count())
    })?;
    // A limit too far away to be an `Instant` is no limit.
    let deadline = config
        .timeout
        .and_then(|limit| Instant::now().checked_add(limit));
    let ran = backend.run(&mut plan, deadline);
    // Every task has finished or been skipped here: nothing refers to the plan any more.
    let succeeded = ran.is_ok() && plan.halt_reason() == NOT_HALTED && !plan.has_errors();
    let finished = call_hook("finish", || plan.observers().finish(succeeded));
    let ran = ran.inspect_err(|_| {
        // A backend's own failure (a lost cluster peer) can leave results in the plan:
        // its drop must guard their `Drop`s.
        plan.abandon();
    })?;
    if let Some(error) = halt_error(&plan, config, ran.timed_out) {
        return Err(error);
    }
    if let Some(error) = plan.take_error() {
        return Err(error);
    }
    if finished.is_err() || !ran.outputs_here {
        // The outputs stay in the plan: its drop must guard their `Drop`s.
        plan.abandon();
        return finished.map(|()| None);
    }
    let mut reader = OutputReader {
        plan: &plan,
        next: 0,
    };
    let values = outputs.extract(&mut reader);
    let taken = reader.next;
    if values.is_ok() {
        plan.note_outputs_taken(taken);
    }
    values.map(Some)
}

/// How planning may use threads: as many as the pool that will run the plan has, all
/// asleep while the caller plans. Not from a pool's worker (a nested computation): the
/// other workers may be busy, and planning threads would compete with them.
fn splitting(config: &Config) -> Splitting {
    #[cfg(not(loom))]
    if let Scheduler::Threads(threads) = config.effective_scheduler() {
        if crate::exec::Pool::current().is_none() {
            return Splitting::for_threads(threads);
        }
    }
    let _ = config;
    Splitting::NEVER
}

/// Reports a computation-wide hook (`planned`, `start`, `finish`...) that panicked: the
/// observers guard each call (see `observer.rs`), and the panic fails the computation
/// instead of unwinding out of `compute`.
fn call_hook(
    hook: &'static str,
    call: impl FnOnce() -> Result<(), crate::observer::Panic>,
) -> Result<(), Error> {
    call().map_err(|payload| Error::CallbackPanic {
        hook,
        key: None,
        message: panic_message(payload),
    })
}

/// The error of a plan that was halted by its timeout (naming the tasks that were
/// running then) or its cancel token, if it was.
pub(crate) fn halt_error(
    plan: &Plan<'_>,
    config: &Config,
    timed_out: Option<Vec<u32>>,
) -> Option<Error> {
    match plan.halt_reason() {
        HALT_TIMEOUT => Some(Error::Timeout {
            after: config.timeout.unwrap_or_default(),
            running: timed_out
                .unwrap_or_default()
                .into_iter()
                .map(|t| plan.graph().key_of(t))
                .collect(),
        }),
        HALT_CANCEL => Some(Error::Cancelled),
        _ => None,
    }
}

/// Computes the outputs and returns handles that hold their results: graphs built on
/// them later reuse the values instead of recomputing (Dask's `persist`). The handles keep
/// the original keys.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// static RUNS: AtomicUsize = AtomicUsize::new(0);
/// let slow = dask::delayed(()).map(|_| { RUNS.fetch_add(1, Ordering::SeqCst); 7 });
/// let kept = dask::persist(&[slow.clone()]).unwrap().pop().unwrap();
/// assert_eq!(kept.key(), slow.key());
/// assert_eq!(kept.map(|v| v * 2).compute().unwrap(), 14);
/// assert_eq!(kept.map(|v| v * 3).compute().unwrap(), 21);
/// assert_eq!(RUNS.load(Ordering::SeqCst), 1);
/// ```
pub fn persist<T: Clone + Send + Sync + 'static>(
    outputs: &[Delayed<T>],
) -> Result<Vec<Delayed<T>>, Error> {
    persist_with(outputs, &Config::default())
}

/// [`persist`] with options.
pub fn persist_with<T: Clone + Send + Sync + 'static>(
    outputs: &[Delayed<T>],
    config: &Config,
) -> Result<Vec<Delayed<T>>, Error> {
    let values = compute_with(outputs, config)?;
    Ok(outputs
        .iter()
        .zip(values)
        .map(|(d, v)| persisted(d, v))
        .collect())
}

/// Plans the outputs without running anything; used by `graph`.
pub(crate) fn with_plan<O: Outputs, R>(outputs: O, f: impl FnOnce(&Plan<'_>) -> R) -> R {
    f(&Plan::build_for_drawing(|nodes| {
        outputs.collect(&mut OutputNodes(nodes))
    }))
}
