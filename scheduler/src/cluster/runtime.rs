//! The timely side: one long-lived timely worker per process, on its own thread,
//! connected to the other processes once and reused by every computation.
//!
//! One dataflow is built at start: an input of [`Envelope`]s, a forwarding operator (so
//! that records leave as soon as they are pushed, see `worker_loop`), an exchange channel
//! that routes each envelope to the process it is addressed to, and a sink that hands
//! what arrives to this thread's epoch loop, with a probe after it. Each `compute` is one
//! epoch: the thread sends what local tasks queue, stores what arrives into the plan and
//! wakes the tasks reading it (on the local pool), closes the epoch once the local pool
//! is done, and reports when the probe shows the epoch complete on every process, which
//! also means every message of the epoch has been delivered (then one more, empty
//! timestamp settles it; see `run_epoch`).
//!
//! Every pointer into the computing thread's plan and pool execution that this thread
//! holds is used only while the computing thread waits for the epoch's outcome, and the
//! pool's feed only while this thread holds arrivals it has not yet reported.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::ProcessBuilder;
use timely::communication::{AllocatorBuilder, Hooks};
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::builder_rc::OperatorBuilder;
use timely::dataflow::operators::generic::{Operator, OutputBuilder};
use timely::dataflow::operators::Input;
use timely::dataflow::operators::Probe;
use timely::dataflow::{InputHandle, ProbeHandle};
use timely::worker::Worker;
use timely::CommunicationConfig;

use super::message::{Body, Envelope};
use super::outgoing::Outgoing;
use super::RemoteTask;
use super::{connect, ClusterConfig, ClusterError};
use crate::error::TaskFailure;
use crate::exec::Feed;
use crate::observer::Observer;
use crate::plan::{Plan, FAILED, HALT_CANCEL, HALT_FAILURE, HALT_TIMEOUT, SUCCEEDED};

/// This process's connection to the cluster.
pub(crate) struct Runtime {
    pub(crate) config: ClusterConfig,
    jobs: Mutex<mpsc::Sender<Job>>,
    /// The timely worker thread.
    pub(crate) thread: std::thread::Thread,
}

static RUNTIME: Mutex<Option<Arc<Runtime>>> = Mutex::new(None);

/// The first sign that the cluster is broken (a peer died, a connection failed).
static LOST: OnceLock<Lost> = OnceLock::new();

/// Why the cluster is unusable.
enum Lost {
    /// A connection broke (timely's communication threads panicked).
    Peer(Option<usize>, String),
    /// A computation with a timeout was still not complete everywhere this long after
    /// its deadline: some process hangs, and the epoch can never close.
    Unresponsive(Duration),
}
static WORKER_THREAD: OnceLock<std::thread::Thread> = OnceLock::new();

/// The error every computation reports once the cluster is broken.
pub(crate) fn lost() -> Option<ClusterError> {
    LOST.get().map(|lost| match lost {
        Lost::Peer(process, detail) => ClusterError::PeerLost {
            process: *process,
            detail: detail.clone(),
        },
        Lost::Unresponsive(waited) => ClusterError::Unresponsive { waited: *waited },
    })
}

impl Runtime {
    /// The runtime of this process, connecting to the cluster on first use.
    pub(crate) fn get(config: &ClusterConfig) -> Result<Arc<Runtime>, ClusterError> {
        let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(runtime) = slot.as_ref() {
            if runtime.config.addresses != config.addresses || runtime.config.index != config.index
            {
                return Err(ClusterError::Config(format!(
                    "this process already joined a cluster ({} as process {}); a process \
                     belongs to one cluster for its whole life",
                    runtime.config.addresses.join(", "),
                    runtime.config.index
                )));
            }
            return Ok(Arc::clone(runtime));
        }
        config.validate()?;
        let runtime = Arc::new(Runtime::start(config.clone())?);
        *slot = Some(Arc::clone(&runtime));
        Ok(runtime)
    }

    fn start(config: ClusterConfig) -> Result<Runtime, ClusterError> {
        install_panic_hook();
        let (builders, guard): (Vec<AllocatorBuilder>, Box<dyn std::any::Any + Send>) =
            if config.processes() == 1 {
                CommunicationConfig::Thread
                    .try_build()
                    .map_err(ClusterError::Config)?
            } else {
                let sockets = connect::connect(&config)?;
                let hooks = Hooks::default();
                let local =
                    ProcessBuilder::new_typed_vector(1, hooks.refill.clone(), hooks.spill.clone());
                let (builders, guard) =
                    initialize_networking_from_sockets(local, sockets, config.index, 1, hooks)
                        .map_err(|e| ClusterError::Config(format!("starting the network: {e}")))?;
                (
                    builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
                    Box::new(guard),
                )
            };
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let job_rx = Mutex::new(Some(job_rx));
        let (thread_tx, thread_rx) = mpsc::channel();
        let processes = config.processes();
        let guards = timely::execute::execute_from(
            builders,
            guard,
            timely::WorkerConfig::default(),
            move |worker| {
                let _ = thread_tx.send(std::thread::current());
                let jobs = job_rx.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(jobs) = jobs {
                    worker_loop(worker, jobs, processes);
                }
            },
        )
        .map_err(ClusterError::Config)?;
        let thread = thread_rx
            .recv()
            .map_err(|_| ClusterError::Config("the timely worker did not start".into()))?;
        let _ = WORKER_THREAD.set(thread.clone());
        // The worker lives as long as the process; joining it would wait for every peer.
        std::mem::forget(guards);
        Ok(Runtime {
            config,
            jobs: Mutex::new(job_tx),
            thread,
        })
    }

    /// Hands one computation to the timely thread. If that thread has stopped (the
    /// cluster was lost), ends the computation here with that loss: its expected
    /// arrivals are given up, so the local pool does not wait for them.
    pub(crate) fn submit(&self, job: Job) {
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job);
        self.thread.unpark();
        if let Err(mpsc::SendError(job)) = sent {
            drop(job); // ends it with the loss; see `Job`'s `Drop`
        }
    }
}

/// Timely's communication threads panic when a peer's connection breaks ("timely
/// communication error: ..."). We record the first such panic as the reason the cluster
/// is lost, wake the worker so a running computation ends with that error, and keep
/// these expected panics (and their consequences on the worker thread) off stderr.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            if !name.starts_with("timely:") {
                return previous(info);
            }
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a timely thread panicked".into());
            let peer = name
                .strip_prefix("timely:recv-")
                .or_else(|| name.strip_prefix("timely:send-"))
                .and_then(|i| i.parse().ok());
            let first = LOST.set(Lost::Peer(peer, message)).is_ok();
            if let Some(worker) = WORKER_THREAD.get() {
                worker.unpark();
            }
            if first && peer.is_none() {
                // Not a broken connection: a bug worth its backtrace.
                previous(info);
            }
        }));
    });
}

/// A pointer to a plan on the computing thread's stack, which waits for the epoch to be
/// reported done before it touches the plan again or drops it.
pub(crate) struct PlanRef(*const Plan<'static>);

// SAFETY: `Plan` is `Sync` (atomics, locks, `Sync` nodes); the pointer is dereferenced
// only while the computing thread is blocked waiting for this epoch (see `Epoch::finish`).
unsafe impl Send for PlanRef {}

impl PlanRef {
    pub(crate) fn new(plan: &Plan<'_>) -> Self {
        PlanRef((plan as *const Plan<'_>).cast())
    }
}

/// One computation as the timely thread sees it.
pub(crate) struct Job {
    pub(crate) plan: PlanRef,
    /// To push tasks made ready by arrivals, and account for the arrivals; `None` when
    /// nothing is expected here.
    pub(crate) feed: Option<Feed>,
    pub(crate) epoch: Arc<Epoch>,
    pub(crate) arrives: Vec<bool>,
    pub(crate) fingerprint: u64,
    /// On process 0: the observers shown where and when the others' tasks ran.
    pub(crate) watchers: Vec<Arc<dyn Observer>>,
    /// With a timeout: when to stop waiting for the other processes, and how long past
    /// the deadline that is.
    pub(crate) give_up: Option<(std::time::Instant, Duration)>,
}

/// What the computing thread and the timely thread share for one computation.
pub(crate) struct Epoch {
    pub(crate) outgoing: Arc<Outgoing>,
    /// Set by the computing thread when the local pool has finished everything here.
    pub(crate) local_done: AtomicBool,
    outcome: Mutex<Option<Outcome>>,
    /// The outcome was given (it may have been taken since).
    finished: AtomicBool,
    done: Condvar,
}

/// What the timely thread learned during the epoch.
#[derive(Default)]
pub(crate) struct Outcome {
    /// Failures of tasks on other processes: (task, panicked, message, attempts).
    pub(crate) failures: Vec<(u32, bool, String, u32)>,
    /// A process that stopped without a failure (cancel, timeout): (process, reason).
    pub(crate) stopped_by: Option<(usize, u8)>,
    pub(crate) mismatch: Option<usize>,
    /// Results that could not be decoded: (task, detail).
    pub(crate) decode_errors: Vec<(u32, String)>,
    pub(crate) lost: Option<ClusterError>,
}

impl Epoch {
    pub(crate) fn new(outgoing: Arc<Outgoing>) -> Self {
        Epoch {
            outgoing,
            local_done: AtomicBool::new(false),
            outcome: Mutex::new(None),
            finished: AtomicBool::new(false),
            done: Condvar::new(),
        }
    }

    fn finish(&self, outcome: Outcome) {
        let mut slot = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        *slot = Some(outcome);
        self.done.notify_all();
    }

    /// Blocks until the timely thread reports the epoch complete on every process.
    pub(crate) fn wait(&self) -> Outcome {
        let mut outcome = self.outcome.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(done) = outcome.take() {
                return done;
            }
            outcome = self
                .done
                .wait_timeout(outcome, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Envelopes received, with their epoch.
type Inbox = Rc<RefCell<VecDeque<(u64, Envelope)>>>;

fn worker_loop(worker: &mut Worker, jobs: mpsc::Receiver<Job>, processes: usize) {
    let me = worker.index();
    let mut input: InputHandle<u64, timely::container::CapacityContainerBuilder<Vec<Envelope>>> =
        InputHandle::new();
    let probe = ProbeHandle::new();
    let inbox: Inbox = Rc::new(RefCell::new(VecDeque::new()));
    let sink = Rc::clone(&inbox);
    let mut forward_address: Option<Rc<[usize]>> = None;
    worker.dataflow::<u64, _, _>(|scope| {
        // Records pushed into the input are handed to its channel but neither sent on
        // (an exchange sends when told its producer is done, which the input says only
        // when its epoch closes) nor announced. So a small operator forwards them: its
        // output is flushed after every run, and we schedule it after each push.
        let records = scope.input_from(&mut input);
        let mut builder = OperatorBuilder::new("Forward".to_owned(), scope);
        forward_address = Some(builder.operator_info().address);
        let mut from_input = builder.new_input(records, Pipeline);
        let (output, forwarded) = builder.new_output();
        let mut output = OutputBuilder::<
            u64,
            timely::container::CapacityContainerBuilder<Vec<Envelope>>,
        >::from(output);
        builder.build(move |_capabilities| {
            move |_frontiers| {
                let mut output = output.activate();
                from_input.for_each(|cap, data| {
                    output.session(&cap).give_container(data);
                });
            }
        });
        forwarded
            .unary::<timely::container::CapacityContainerBuilder<Vec<()>>, _, _, _>(
                Exchange::new(|e: &Envelope| u64::from(e.to)),
                "Deliver",
                move |_, _| {
                    move |input, _output| {
                        input.for_each(|cap, data| {
                            // Our input sends each message at one time (its epoch).
                            let Some(&time) = cap.least() else { return };
                            sink.borrow_mut()
                                .extend(std::mem::take(data).into_iter().map(|e| (time, e)));
                        });
                    }
                },
            )
            .probe_with(&probe);
    });
    // Records pushed into the input do not schedule the forwarding operator; we do.
    let address = forward_address.expect("the dataflow was built");
    let forward = worker.activator_for(address);
    loop {
        if lost().is_some() {
            // Answer every later computation at once; the network is gone.
            while let Ok(job) = jobs.recv() {
                drop(job); // ends it with the loss; see `Job`'s `Drop`
            }
            return;
        }
        match jobs.try_recv() {
            Ok(job) => {
                let mut io = EpochIo {
                    input: &mut input,
                    forward: &forward,
                    probe: &probe,
                    inbox: &inbox,
                };
                run_epoch(worker, &mut io, job, me, processes)
            }
            Err(mpsc::TryRecvError::Empty) => {
                worker.step_or_park(Some(Duration::from_millis(50)));
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
        }
    }
}

impl Drop for Job {
    /// A job dropped before its epoch finished (the timely thread stopped, or never got
    /// it) ends the computation with the cluster's loss, giving up its expected arrivals
    /// so that the local pool does not wait for them forever.
    fn drop(&mut self) {
        if self.epoch.finished.load(Ordering::Acquire) {
            return;
        }
        let mut state = EpochState::new(self);
        state.abort();
        drop(state);
        self.epoch.finish(Outcome {
            lost: Some(lost().unwrap_or(ClusterError::PeerLost {
                process: None,
                detail: "the timely worker thread has stopped".into(),
            })),
            ..Outcome::default()
        });
    }
}

/// The timely thread's bookkeeping for one epoch.
struct EpochState<'j> {
    job: &'j Job,
    plan: &'j Plan<'static>,
    received: Vec<bool>,
    /// Arrivals processed but not yet reported to the pool.
    unreported: usize,
    outcome: Outcome,
    /// Every message of the epoch was delivered everywhere: the outcome is final.
    settled: bool,
}

impl<'j> EpochState<'j> {
    fn new(job: &'j Job) -> Self {
        // SAFETY: the computing thread waits for this epoch's outcome before it touches or
        // drops the plan (see `PlanRef`).
        let plan = unsafe { &*job.plan.0 };
        EpochState {
            job,
            plan,
            received: vec![false; job.arrives.len()],
            unreported: 0,
            outcome: Outcome::default(),
            settled: false,
        }
    }

    /// Stores what arrived for task `t` (`None`: it failed or was skipped) and wakes its
    /// local readers.
    fn arrive(&mut self, t: u32, value: Option<crate::task_value::TaskValue>) {
        let i = t as usize;
        if i >= self.received.len() || !self.job.arrives[i] || self.received[i] {
            return;
        }
        self.received[i] = true;
        let node = self.plan.run_node(t);
        match value {
            Some(value) => {
                // SAFETY: `t` is a remote task: nothing in this process runs it, and its
                // readers start only after the `satisfy` below (AcqRel) made them ready.
                unsafe { self.plan.slot(t).store(value) };
                node.state.store(SUCCEEDED, Ordering::Release);
            }
            None => {
                node.state.store(FAILED, Ordering::Release);
                self.plan.halt_if_failing_fast();
            }
        }
        let feed = self
            .job
            .feed
            .expect("a process expecting arrivals has a feed");
        for &s in self.plan.graph().succs_of(t) {
            if self.plan.satisfy(s) {
                // SAFETY: this arrival is counted in `unfinished` and not yet reported.
                unsafe { feed.push_ready(s) };
            }
        }
        self.unreported += 1;
    }

    /// Reports processed arrivals to the pool; the last may complete the local work.
    fn report(&mut self) {
        if self.unreported > 0 {
            let feed = self.job.feed.expect("arrivals imply a feed");
            // SAFETY: these arrivals were counted and are reported once.
            unsafe { feed.report(self.unreported) };
            self.unreported = 0;
        }
    }

    fn handle(&mut self, envelope: Envelope) {
        let t = envelope.task;
        if (t as usize) >= self.plan.graph().len() && !matches!(envelope.body, Body::Hello { .. }) {
            // Only a process with another graph sends this; its greeting says so.
            return;
        }
        match envelope.body {
            Body::Hello {
                fingerprint,
                reports,
            } => {
                if envelope.from == 0 {
                    self.job.epoch.outgoing.reports_wanted(reports);
                }
                if fingerprint != self.job.fingerprint {
                    self.outcome.mismatch = Some(envelope.from as usize);
                    self.abort();
                }
            }
            Body::Value(bytes) => {
                let decoded = match self.plan.graph().node(t).codec() {
                    Some(codec) => codec.decode(&bytes),
                    None => Err("the task has no codec here".to_string()),
                };
                match decoded {
                    Ok(value) => self.arrive(t, Some(value)),
                    Err(detail) => {
                        self.outcome.decode_errors.push((t, detail));
                        self.arrive(t, None);
                    }
                }
            }
            Body::Skipped { reason } => {
                if matches!(reason, HALT_CANCEL | HALT_TIMEOUT) && self.outcome.stopped_by.is_none()
                {
                    self.outcome.stopped_by = Some((envelope.from as usize, reason));
                }
                self.arrive(t, None);
            }
            Body::Ran {
                worker,
                start_ns,
                end_ns,
                ok,
            } => {
                let ran = RemoteTask {
                    process: envelope.from,
                    worker,
                    start_ns,
                    end_ns,
                    ok,
                };
                let plan = self.plan;
                // An observer's panic fails the computation, as a local hook's does.
                if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    for watcher in &self.job.watchers {
                        watcher.remote_task(plan, t, &ran);
                    }
                })) {
                    plan.fail(t, TaskFailure::callback("remote_task", payload), 1);
                }
            }
            Body::Failed {
                panicked,
                message,
                attempts,
            } => {
                self.outcome.failures.push((t, panicked, message, attempts));
                self.plan.halt_if_failing_fast();
                self.arrive(t, None);
            }
        }
    }

    /// Gives up on every expected arrival (the cluster is broken or disagrees), so the
    /// local pool skips what remains and finishes.
    fn abort(&mut self) {
        self.plan.halt(HALT_FAILURE);
        // No report is worth waiting for now.
        self.job.epoch.outgoing.reports_wanted(false);
        for t in 0..self.received.len() {
            if self.job.arrives[t] && !self.received[t] {
                self.arrive(t as u32, None);
            }
        }
        self.report();
    }
}

/// Ends the epoch with the cluster's loss if the thread unwinds (a broken connection
/// poisons timely's queues, and the next step panics).
struct AbortOnUnwind<'j>(Option<EpochState<'j>>);

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        if let Some(mut state) = self.0.take() {
            if std::thread::panicking() && state.settled {
                let outcome = std::mem::take(&mut state.outcome);
                state.job.epoch.finish(outcome);
            } else if std::thread::panicking() {
                state.abort();
                let mut outcome = std::mem::take(&mut state.outcome);
                outcome.lost = Some(lost().unwrap_or(ClusterError::PeerLost {
                    process: None,
                    detail: "the timely worker failed".into(),
                }));
                state.job.epoch.finish(outcome);
            }
        }
    }
}

type EnvelopeInput = InputHandle<u64, timely::container::CapacityContainerBuilder<Vec<Envelope>>>;

/// The worker's handles on its dataflow.
struct EpochIo<'a> {
    input: &'a mut EnvelopeInput,
    forward: &'a timely::scheduling::Activator,
    probe: &'a ProbeHandle<u64>,
    inbox: &'a Inbox,
}

impl EpochIo<'_> {
    fn send(&mut self, envelopes: Vec<Envelope>) {
        if envelopes.is_empty() {
            return;
        }
        for envelope in envelopes {
            self.input.send(envelope);
        }
        // The input batches records until its buffer fills; a task's reader may be
        // waiting for this one.
        self.input.flush();
        self.forward.activate();
    }
}

fn run_epoch(worker: &mut Worker, io: &mut EpochIo<'_>, job: Job, me: usize, processes: usize) {
    let (probe, inbox) = (io.probe, io.inbox);
    let epoch = *io.input.time();
    io.send(
        (0..processes as u32)
            .filter(|&p| p as usize != me)
            .map(|to| Envelope {
                to,
                from: me as u32,
                task: u32::MAX,
                body: Body::Hello {
                    fingerprint: job.fingerprint,
                    reports: job.epoch.outgoing.reports.asks(),
                },
            })
            .collect(),
    );
    let mut guard = AbortOnUnwind(Some(EpochState::new(&job)));
    let mut closed = false;
    loop {
        let state = guard.0.as_mut().expect("the epoch is running");
        io.send(job.epoch.outgoing.take());
        // What arrived for this epoch; later epochs' messages wait (a faster process
        // may already be in the next computation).
        let arrived = take_epoch(inbox, epoch);
        let took = !arrived.is_empty();
        for envelope in arrived {
            state.handle(envelope);
        }
        state.report();
        if let Some((at, grace)) = job.give_up {
            if std::time::Instant::now() >= at {
                let _ = LOST.set(Lost::Unresponsive(grace));
            }
        }
        if lost().is_some() {
            state.abort();
            let mut outcome = std::mem::take(&mut state.outcome);
            outcome.lost = lost();
            job.epoch.finish(outcome);
            guard.0.take();
            return;
        }
        // Not before process 0 said whether it wants our reports: those held back must
        // leave in this epoch.
        if !closed
            && job.epoch.local_done.load(Ordering::Acquire)
            && job.epoch.outgoing.reports.decided()
        {
            io.send(job.epoch.outgoing.take());
            io.input.advance_to(epoch + 1);
            closed = true;
        }
        if closed && !probe.less_than(&(epoch + 1)) && inbox_is_past(inbox, epoch) {
            break;
        }
        let idle = !took && job.epoch.outgoing.queue_is_empty();
        worker.step_or_park(if idle {
            Some(Duration::from_millis(20))
        } else {
            Some(Duration::ZERO)
        });
    }
    // Every message of the epoch has reached every process, so our results are complete.
    // Still, a process must not return (and perhaps exit) before every other process
    // has seen that too: timely would lose the last progress messages it has not sent
    // yet. A second, empty time closes only after each process saw the first complete;
    // seeing it complete means nobody needs anything more from us. A peer that exits
    // during this wait has finished too, so its loss does not fail this computation.
    guard.0.as_mut().expect("the epoch is running").settled = true;
    io.input.advance_to(epoch + 2);
    let given_up = || {
        job.give_up
            .is_some_and(|(at, _)| std::time::Instant::now() >= at)
    };
    while probe.less_than(&(epoch + 2)) && lost().is_none() && !given_up() {
        worker.step_or_park(Some(Duration::from_millis(20)));
    }
    let mut state = guard.0.take().expect("the epoch is running");
    let outcome = std::mem::take(&mut state.outcome);
    drop(state);
    job.epoch.finish(outcome);
}

/// Whether no message of `epoch` is still waiting in the inbox.
fn inbox_is_past(inbox: &Inbox, epoch: u64) -> bool {
    !inbox.borrow().iter().any(|(time, _)| *time == epoch)
}

/// Removes and returns the messages of `epoch`; those of later epochs stay (timely may
/// deliver a faster process's next-epoch messages before the rest of this one).
fn take_epoch(inbox: &Inbox, epoch: u64) -> Vec<Envelope> {
    let mut inbox = inbox.borrow_mut();
    if inbox.iter().all(|(time, _)| *time != epoch) {
        return Vec::new();
    }
    let (mine, later): (VecDeque<_>, VecDeque<_>) =
        inbox.drain(..).partition(|(time, _)| *time == epoch);
    *inbox = later;
    mine.into_iter().map(|(_, e)| e).collect()
}
