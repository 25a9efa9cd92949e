//! What a finished local task sends: its result to the processes that read it, or its
//! failure to every process.

use parking_lot::Mutex;

use super::message::{Body, Envelope};
use crate::error::TaskFailure;
use crate::observer::{Interest, Observer};
use crate::plan::Plan;

/// Observes the local tasks' outcomes (the executor calls `task_done` after each one);
/// queues messages for the timely thread, which sends them.
pub(crate) struct Outgoing {
    me: u32,
    processes: u32,
    /// Per plan node: processes (bit set) that receive its result.
    dests: Vec<u64>,
    queue: Mutex<Vec<Envelope>>,
    /// The timely worker thread, woken when there is something to send.
    waker: std::thread::Thread,
}

impl Observer for Outgoing {
    fn interest(&self) -> Interest {
        Interest {
            attempts: false,
            outcomes: true,
            sizes: false,
        }
    }

    /// Task `t` ran here and succeeded or not (failed or skipped).
    #[inline]
    fn task_done(&self, plan: &Plan<'_>, t: u32, succeeded: bool) {
        let dests = self.dests[t as usize];
        if succeeded && dests == 0 {
            return;
        }
        self.send_outcome(plan, t, succeeded, dests);
    }
}

impl Outgoing {
    pub(crate) fn new(
        me: usize,
        processes: usize,
        dests: Vec<u64>,
        waker: std::thread::Thread,
    ) -> Self {
        Outgoing {
            me: me as u32,
            processes: processes as u32,
            dests,
            queue: Mutex::new(Vec::new()),
            waker,
        }
    }

    /// Everything queued so far.
    pub(crate) fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.queue.lock())
    }

    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    #[cold]
    fn send_outcome(&self, plan: &Plan<'_>, t: u32, succeeded: bool, dests: u64) {
        let mut messages = Vec::new();
        let mut failure = None;
        if succeeded {
            let codec = plan
                .node(t)
                .node
                .codec()
                .expect("codecs are checked before running");
            // SAFETY: the sender's reader count (see `Plan::restrict_to_process`) is held
            // until the `release` below.
            let value = unsafe { plan.borrow_any(t) };
            match value
                .ok_or_else(|| "no result".to_string())
                .and_then(codec.encode)
            {
                Ok(bytes) => {
                    for p in self.processes_in(dests) {
                        messages.push(self.envelope(p, t, Body::Value(bytes.clone())));
                    }
                }
                Err(e) => {
                    let message = format!("its result could not be encoded: {e}");
                    plan.fail(t, TaskFailure::Failed(message.clone().into()), 1);
                    failure = Some((false, message, 1));
                }
            }
        } else {
            failure = failure_of(plan, t);
        }
        match failure {
            // Everyone must learn the error, readers or not.
            Some((panicked, message, attempts)) => {
                for p in (0..self.processes).filter(|&p| p != self.me) {
                    let body = Body::Failed {
                        panicked,
                        message: message.clone(),
                        attempts,
                    };
                    messages.push(self.envelope(p, t, body));
                }
            }
            None if !succeeded => {
                let reason = plan.halt_reason();
                for p in self.processes_in(dests) {
                    messages.push(self.envelope(p, t, Body::Skipped { reason }));
                }
            }
            None => {}
        }
        if dests != 0 {
            plan.release(t);
        }
        self.queue.lock().extend(messages);
        self.waker.unpark();
    }

    fn processes_in(&self, set: u64) -> impl Iterator<Item = u32> {
        (0..self.processes).filter(move |&p| set & (1 << p) != 0)
    }

    fn envelope(&self, to: u32, task: u32, body: Body) -> Envelope {
        Envelope {
            to,
            from: self.me,
            task,
            body,
        }
    }
}

/// The failure recorded for task `t`, as text: (panicked, message, attempts).
fn failure_of(plan: &Plan<'_>, t: u32) -> Option<(bool, String, u32)> {
    plan.with_failures(|failures| {
        failures.iter().find(|(task, _, _)| *task == t).map(
            |(_, failure, attempts)| match failure {
                TaskFailure::Failed(e) => (false, e.to_string(), *attempts),
                TaskFailure::Panicked(m) => (true, m.clone(), *attempts),
                TaskFailure::CallbackPanicked { hook, message } => (
                    true,
                    format!("callback `{hook}` panicked: {message}"),
                    *attempts,
                ),
            },
        )
    })
}
