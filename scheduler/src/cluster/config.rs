//! Who the processes of a cluster are, and how this one finds the others.

use std::time::Duration;

use super::ClusterError;
use crate::exec::MAX_THREADS;

/// How tasks are shared out between processes. Every process computes the same
/// placement from the same plan, so no coordinator is needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placement {
    /// A task with a single task input that nothing else reads runs where that input
    /// ran (a chain stays on one process and sends nothing); other tasks are dealt to
    /// the processes in turn, in plan order.
    #[default]
    Chains,
    /// Each task runs on the process its key hashes to: no locality, even spread on
    /// average.
    KeyHash,
}

/// The processes of a cluster and this process's place among them.
///
/// Every process runs the same binary with the same list of addresses and its own
/// index. Build it in code ([`ClusterConfig::new`]), from timely's usual command-line
/// arguments ([`from_args`](Self::from_args): `-n <processes> -p <index> -h <hostfile>
/// [-w <threads>]`) or from the environment ([`from_env`](Self::from_env)).
///
/// ```
/// use dask::cluster::ClusterConfig;
/// let args = ["prog", "-n", "2", "-p", "1", "-w", "3"].map(String::from);
/// let config = ClusterConfig::from_args(args).unwrap().unwrap();
/// assert_eq!((config.processes(), config.index()), (2, 1));
/// assert_eq!(config.addresses()[1], "127.0.0.1:2102");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    pub(crate) index: usize,
    pub(crate) addresses: Vec<String>,
    pub(crate) threads: Option<usize>,
    pub(crate) connect_timeout: Duration,
    pub(crate) placement: Placement,
}

/// At most this many processes: a task's readers are kept as a 64-bit set.
pub const MAX_PROCESSES: usize = 64;

/// Where process `i` listens when no host file is given (timely's convention).
fn default_address(i: usize) -> String {
    format!("127.0.0.1:{}", 2101 + i)
}

impl ClusterConfig {
    /// Process `index` of a cluster whose processes listen at `addresses`
    /// (`host:port`, one per process, in process order).
    pub fn new(index: usize, addresses: Vec<String>) -> Self {
        ClusterConfig {
            index,
            addresses,
            threads: None,
            connect_timeout: Duration::from_secs(30),
            placement: Placement::default(),
        }
    }

    /// A cluster of one: this process alone (the same code path, no network).
    pub fn single() -> Self {
        Self::new(0, vec![default_address(0)])
    }

    /// Threads of this process's local work-stealing pool, which runs its tasks
    /// (default: one per core). Timely itself uses one more thread per process.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// How long to wait for every other process to connect (default 30 s), after which
    /// the computation fails with [`ClusterError::Connect`].
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = limit;
        self
    }

    /// How tasks are shared out (default [`Placement::Chains`]).
    pub fn placement(mut self, placement: Placement) -> Self {
        self.placement = placement;
        self
    }

    /// This process's index, `0..processes()`.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The number of processes.
    pub fn processes(&self) -> usize {
        self.addresses.len()
    }

    /// Every process's address, in process order.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// Reads timely's arguments: `-n/--processes`, `-p/--process`, `-h/--hostfile` (a
    /// file with one `host:port` per line, in process order; without it, process `i`
    /// listens on `127.0.0.1:2101+i`), `-w/--threads`. Other arguments are ignored, so a
    /// program can have its own. `Ok(None)` when neither `-n` nor `-p` is given.
    pub fn from_args<I: IntoIterator<Item = String>>(
        args: I,
    ) -> Result<Option<Self>, ClusterError> {
        let mut processes = None;
        let mut index = None;
        let mut hostfile = None;
        let mut threads = None;
        let mut args = args.into_iter().skip(1);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let target = match flag.as_str() {
                "-n" | "--processes" => &mut processes,
                "-p" | "--process" => &mut index,
                "-h" | "--hostfile" => &mut hostfile,
                "-w" | "--threads" => &mut threads,
                _ => continue,
            };
            let value = inline
                .or_else(|| args.next())
                .ok_or_else(|| ClusterError::Config(format!("{flag} needs a value")))?;
            *target = Some(value);
        }
        if processes.is_none() && index.is_none() {
            return Ok(None);
        }
        Self::from_parts(processes, index, hostfile, None, threads).map(Some)
    }

    /// Reads `DASK_CLUSTER_PROCESSES`, `DASK_CLUSTER_INDEX`, and either
    /// `DASK_CLUSTER_HOSTFILE` (as `-h`) or `DASK_CLUSTER_ADDRESSES` (comma-separated
    /// `host:port` list), and `DASK_CLUSTER_THREADS`. `Ok(None)` when
    /// `DASK_CLUSTER_INDEX` and `DASK_CLUSTER_PROCESSES` are both unset.
    pub fn from_env() -> Result<Option<Self>, ClusterError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (processes, index) = (var("DASK_CLUSTER_PROCESSES"), var("DASK_CLUSTER_INDEX"));
        if processes.is_none() && index.is_none() {
            return Ok(None);
        }
        let addresses = var("DASK_CLUSTER_ADDRESSES").map(|list| {
            list.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect()
        });
        Self::from_parts(
            processes,
            index,
            var("DASK_CLUSTER_HOSTFILE"),
            addresses,
            var("DASK_CLUSTER_THREADS"),
        )
        .map(Some)
    }

    /// The environment if it names a cluster, else the command line, else a cluster of
    /// one process. What [`Scheduler::Cluster`](crate::Scheduler::Cluster) uses when the
    /// [`Config`](crate::Config) carries no cluster.
    pub fn from_env_or_args() -> Result<Self, ClusterError> {
        if let Some(config) = Self::from_env()? {
            return Ok(config);
        }
        Ok(Self::from_args(std::env::args())?.unwrap_or_else(Self::single))
    }

    fn from_parts(
        processes: Option<String>,
        index: Option<String>,
        hostfile: Option<String>,
        addresses: Option<Vec<String>>,
        threads: Option<String>,
    ) -> Result<Self, ClusterError> {
        let number = |what: &str, value: Option<String>| -> Result<Option<usize>, ClusterError> {
            value
                .map(|v| {
                    v.trim().parse::<usize>().map_err(|_| {
                        ClusterError::Config(format!("{what} must be a number, got `{v}`"))
                    })
                })
                .transpose()
        };
        let index = number("the process index (-p)", index)?.unwrap_or(0);
        let processes = number("the number of processes (-n)", processes)?;
        let threads = number("the number of threads (-w)", threads)?;
        // Checked before anything is built from it: the address list has one entry per
        // process.
        if let Some(n) = processes {
            check_processes(n)?;
        }
        let addresses = match (addresses, hostfile) {
            (Some(list), _) => list,
            (None, Some(path)) => {
                let lines = super::hostfile::read_addresses(&path)?;
                let wanted = processes.unwrap_or(lines.len());
                if lines.len() < wanted {
                    return Err(ClusterError::Config(format!(
                        "the host file {path} lists {} addresses, but there are {wanted} processes",
                        lines.len()
                    )));
                }
                lines.into_iter().take(wanted).collect()
            }
            (None, None) => (0..processes.unwrap_or(1)).map(default_address).collect(),
        };
        if let Some(n) = processes {
            if n != addresses.len() {
                return Err(ClusterError::Config(format!(
                    "{n} processes but {} addresses",
                    addresses.len()
                )));
            }
        }
        let mut config = Self::new(index, addresses);
        config.threads = threads;
        config.validate()?;
        Ok(config)
    }

    pub(crate) fn validate(&self) -> Result<(), ClusterError> {
        let n = self.addresses.len();
        check_processes(n)?;
        if self.index >= n {
            return Err(ClusterError::Config(format!(
                "process index {} is out of range for {n} processes",
                self.index
            )));
        }
        match self.threads {
            Some(0) => Err(ClusterError::Config(
                "-w 0: a pool needs at least one thread".into(),
            )),
            Some(t) if t > MAX_THREADS => Err(ClusterError::Config(format!(
                "-w {t}: a pool has at most {MAX_THREADS} threads"
            ))),
            _ => Ok(()),
        }
    }
}

/// Refuses a process count outside `1..=MAX_PROCESSES`.
fn check_processes(n: usize) -> Result<(), ClusterError> {
    if n == 0 || n > MAX_PROCESSES {
        return Err(ClusterError::Config(format!(
            "a cluster has 1 to {MAX_PROCESSES} processes, not {n}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        std::iter::once("prog")
            .chain(list.iter().copied())
            .map(String::from)
            .collect()
    }

    #[test]
    fn reads_timely_arguments() {
        assert_eq!(
            ClusterConfig::from_args(args(&["--bench", "x"])).unwrap(),
            None
        );
        let c = ClusterConfig::from_args(args(&["-n", "3", "-p", "2", "--threads=4"]))
            .unwrap()
            .unwrap();
        assert_eq!(c.processes(), 3);
        assert_eq!(c.index(), 2);
        assert_eq!(c.threads, Some(4));
        assert_eq!(c.addresses()[0], "127.0.0.1:2101");
        assert!(ClusterConfig::from_args(args(&["-n", "2", "-p", "2"])).is_err());
        assert!(ClusterConfig::from_args(args(&["-n", "two"])).is_err());
        assert!(ClusterConfig::from_args(args(&["-p"])).is_err());
    }

    #[test]
    fn reads_a_host_file() {
        let path = std::env::temp_dir().join(format!("dask-hosts-{}.txt", std::process::id()));
        std::fs::write(&path, "# two hosts\nhost-a:4000\n\nhost-b:4000\n").unwrap();
        let p = path.to_string_lossy().to_string();
        let c = ClusterConfig::from_args(args(&["-h", &p, "-n", "2", "-p", "0"]))
            .unwrap()
            .unwrap();
        assert_eq!(c.addresses(), ["host-a:4000", "host-b:4000"]);
        assert!(ClusterConfig::from_args(args(&["-h", &p, "-n", "3"])).is_err());
        std::fs::remove_file(path).unwrap();
    }
}
