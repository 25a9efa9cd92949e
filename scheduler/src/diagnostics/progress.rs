//! `Config::progress(true)`: an `indicatif` bar on stderr, tasks done / total, rate and
//! ETA, drawn only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressDrawTarget, ProgressStyle};

use super::TaskInfo;
use crate::observer::Observer;

pub(crate) struct ProgressBar {
    bar: indicatif::ProgressBar,
}

/// An indicatif bar on stderr counting `unit`s (`tasks`, `items`) with rate and ETA,
/// hidden when stderr is not a terminal. Shared with `Parallel::progress`.
pub(crate) fn stderr_bar(len: u64, unit: &str) -> indicatif::ProgressBar {
    // indicatif stays silent on a non-terminal target too; checking here also keeps it
    // from starting anything when stderr is a file or a pipe.
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr_with_hz(10)
    } else {
        ProgressDrawTarget::hidden()
    };
    bar_with_target(len, unit, target)
}

fn bar_with_target(len: u64, unit: &str, target: ProgressDrawTarget) -> indicatif::ProgressBar {
    let template = format!(
        "{{elapsed_precise}} [{{bar:30.cyan/blue}}] {{pos}}/{{len}} {unit}, {{rate}}, eta {{eta}}"
    );
    let unit = unit.to_string();
    let style = ProgressStyle::with_template(&template)
        .expect("the progress template is valid")
        .with_key(
            "rate",
            move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} {unit}/s", state.per_sec());
            },
        )
        .progress_chars("#>-");
    indicatif::ProgressBar::with_draw_target(Some(len), target).with_style(style)
}

impl ProgressBar {
    pub(crate) fn new() -> Self {
        ProgressBar {
            bar: stderr_bar(0, "tasks"),
        }
    }

    #[cfg(test)]
    fn with_target(target: ProgressDrawTarget) -> Self {
        ProgressBar {
            bar: bar_with_target(0, "tasks", target),
        }
    }
}

impl Observer for ProgressBar {
    fn start(&self, tasks: usize) {
        self.bar.set_length(tasks as u64);
        self.bar.reset();
        self.bar.tick();
    }

    fn task_finished(&self, _task: &TaskInfo<'_>, _started: u64, ok: bool) {
        // A failed attempt that will be retried is not progress.
        if ok {
            self.bar.inc(1);
        }
    }

    fn finish(&self, ok: bool) {
        if ok {
            self.bar.finish();
        } else {
            self.bar.abandon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_counts_tasks() {
        let bar = ProgressBar::with_target(ProgressDrawTarget::hidden());
        bar.start(3);
        assert_eq!(bar.bar.length(), Some(3));
        bar.bar.inc(2);
        assert_eq!(bar.bar.position(), 2);
        bar.finish(true);
        assert!(bar.bar.is_finished());
    }
}
