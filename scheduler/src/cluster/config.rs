//! Who the processes of a cluster are, and how this one finds the others.

use std::ffi::{OsStr, OsString};
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
        Self::from_os_args(args.into_iter().map(OsString::from))
    }

    /// [`from_args`](Self::from_args) over the command line as the OS gives it, which
    /// need not be UTF-8. Only what the parser reads must be: a flag's value, or an
    /// `--flag=value` argument naming one of its flags. Other arguments are the
    /// program's own and are skipped whatever their bytes.
    fn from_os_args<I: IntoIterator<Item = OsString>>(
        args: I,
    ) -> Result<Option<Self>, ClusterError> {
        let mut processes = None;
        let mut index = None;
        let mut hostfile = None;
        let mut threads = None;
        let mut args = args.into_iter().skip(1);
        while let Some(arg) = args.next() {
            let (flag, inline) = split_flag(&arg);
            let target = match flag {
                "-n" | "--processes" => &mut processes,
                "-p" | "--process" => &mut index,
                "-h" | "--hostfile" => &mut hostfile,
                "-w" | "--threads" => &mut threads,
                _ => continue,
            };
            let value = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .ok_or_else(|| ClusterError::Config(format!("{flag} needs a value")))?
                    .into_string()
                    .map_err(|value| value.to_string_lossy().into_owned()),
            };
            let value = value.map_err(|lossy| {
                ClusterError::Config(format!("the value of {flag} is not valid UTF-8: `{lossy}`"))
            })?;
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
    /// `DASK_CLUSTER_INDEX` and `DASK_CLUSTER_PROCESSES` are both unset (or empty). A
    /// variable that is set but not valid UTF-8 is an error, never taken as unset.
    pub fn from_env() -> Result<Option<Self>, ClusterError> {
        let (processes, index) = (
            env_var("DASK_CLUSTER_PROCESSES")?,
            env_var("DASK_CLUSTER_INDEX")?,
        );
        if processes.is_none() && index.is_none() {
            return Ok(None);
        }
        let addresses = env_var("DASK_CLUSTER_ADDRESSES")?.map(|list| {
            list.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect()
        });
        Self::from_parts(
            processes,
            index,
            env_var("DASK_CLUSTER_HOSTFILE")?,
            addresses,
            env_var("DASK_CLUSTER_THREADS")?,
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
        // `args_os`: `std::env::args` panics on an argument that is not UTF-8, even one
        // meant for the program rather than for us.
        Ok(Self::from_os_args(std::env::args_os())?.unwrap_or_else(Self::single))
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

/// The flag an argument names, and the value it carries inline (`--flag=value`; only
/// long flags take one), `Err` with a lossy rendering when that value is not UTF-8. An
/// argument that is not UTF-8 names no flag (`""`) unless its part before the first
/// `=` does.
fn split_flag(arg: &OsStr) -> (&str, Option<Result<String, String>>) {
    if let Some(arg) = arg.to_str() {
        return match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(Ok(value.into()))),
            _ => (arg, None),
        };
    }
    let bytes = arg.as_encoded_bytes();
    let Some(eq) = bytes.iter().position(|&b| b == b'=') else {
        return ("", None);
    };
    match std::str::from_utf8(&bytes[..eq]) {
        // The whole is not UTF-8 but `--flag=` is, so the value is not.
        Ok(flag) if flag.starts_with("--") => (
            flag,
            Some(Err(String::from_utf8_lossy(&bytes[eq + 1..]).into_owned())),
        ),
        _ => ("", None),
    }
}

/// The environment variable `name`: `None` when unset or empty, an error naming it
/// when set but not UTF-8 (taking that as unset would change what runs, e.g. leave two
/// processes both at index 0).
fn env_var(name: &str) -> Result<Option<String>, ClusterError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) => match value.into_string() {
            Ok(value) => Ok(Some(value).filter(|v| !v.is_empty())),
            Err(value) => Err(ClusterError::Config(format!(
                "{name} is not valid UTF-8: `{}`",
                value.to_string_lossy()
            ))),
        },
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

    #[cfg(unix)]
    #[test]
    fn arguments_that_are_not_utf8_fail_only_where_they_are_read() {
        use std::os::unix::ffi::OsStringExt;
        let os = |list: &[&[u8]]| -> Vec<OsString> {
            std::iter::once(&b"prog\xff"[..])
                .chain(list.iter().copied())
                .map(|a| OsString::from_vec(a.to_vec()))
                .collect()
        };
        // The program's own arguments, whatever their bytes, are skipped.
        let own: &[&[u8]] = &[b"--bench\xff", b"x\xff", b"--name=\xff", b"-n=\xff"];
        assert_eq!(ClusterConfig::from_os_args(os(own)).unwrap(), None);
        let with_ours = [own, &[b"-n", b"2", b"-p", b"1"]].concat();
        let c = ClusterConfig::from_os_args(os(&with_ours))
            .unwrap()
            .unwrap();
        assert_eq!((c.processes(), c.index()), (2, 1));
        // A value the parser reads must be UTF-8.
        for (list, flag) in [
            (&[&b"-n"[..], b"2\xff", b"-p", b"0"][..], "-n"),
            (&[b"-n", b"2", b"-p", b"1\xff"], "-p"),
            (&[b"-n", b"1", b"-p", b"0", b"-h", b"hosts\xff"], "-h"),
            (&[b"-n", b"1", b"-p", b"0", b"-w", b"1\xff"], "-w"),
            (&[b"--processes=2\xff", b"-p", b"0"], "--processes"),
            (&[b"-n", b"1", b"--hostfile=h\xff"], "--hostfile"),
        ] {
            let err = ClusterConfig::from_os_args(os(list)).unwrap_err();
            assert!(
                matches!(&err, ClusterError::Config(m)
                    if m.contains(&format!("the value of {flag} is not valid UTF-8"))),
                "{flag}: {err}"
            );
        }
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
