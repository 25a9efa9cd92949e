//! Connecting the processes, with a deadline.
//!
//! Timely's own connection code retries forever when a peer never starts. We open the
//! sockets ourselves with the same topology (process `i` dials every `j < i` and accepts
//! every `j > i`), give up at the deadline naming the missing processes, and hand the
//! sockets to timely (`initialize_networking_from_sockets`).

use std::hash::Hasher;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{ClusterConfig, ClusterError};
use crate::key::StableHasher;

/// First word of our handshake: "dask-clu" as bytes, then the version.
const MAGIC: u64 = u64::from_le_bytes(*b"daskclu2");

/// The handshake: magic, the sender's index, the process count, and a hash of the
/// address list, so that a process of another cluster (say, a leftover run whose port
/// was reused) is turned away rather than taken for a peer.
struct Hello {
    index: usize,
    processes: usize,
    cluster: u64,
}

impl Hello {
    const LEN: usize = 32;

    fn of(config: &ClusterConfig) -> Hello {
        let mut hasher = StableHasher::new();
        for address in &config.addresses {
            hasher.write(address.as_bytes());
            hasher.write_u8(0);
        }
        Hello {
            index: config.index,
            processes: config.processes(),
            cluster: hasher.finish(),
        }
    }

    fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut bytes = [0u8; Self::LEN];
        let words = [
            MAGIC,
            self.index as u64,
            self.processes as u64,
            self.cluster,
        ];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    /// `None` when the bytes are not a dask greeting at all.
    fn from_bytes(bytes: &[u8; Self::LEN]) -> Option<Hello> {
        let word = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
        (word(0) == MAGIC).then(|| Hello {
            index: word(1) as usize,
            processes: word(2) as usize,
            cluster: word(3),
        })
    }
}

/// One connected socket per other process (`None` at our own index).
pub(crate) fn connect(config: &ClusterConfig) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let (me, n) = (config.index, config.processes());
    let hello = Hello::of(config);
    let start = Instant::now();
    // A limit beyond what an `Instant` can hold waits as good as forever.
    let deadline = start
        .checked_add(config.connect_timeout)
        .unwrap_or_else(|| start + Duration::from_secs(u64::from(u32::MAX)));
    let listener = TcpListener::bind(config.addresses[me].as_str()).map_err(|e| {
        ClusterError::Config(format!(
            "process {me} cannot listen on {}: {e}",
            config.addresses[me]
        ))
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ClusterError::Config(e.to_string()))?;
    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let mut last_error = String::new();
    // Kept apart from `last_error`: a stranger explains a missing process better than
    // the refused connections that may follow once it has given up.
    let mut stranger: Option<String> = None;
    loop {
        for (j, socket) in sockets.iter_mut().enumerate().take(me) {
            if socket.is_none() {
                match dial(&config.addresses[j], &hello, deadline) {
                    Ok(stream) => *socket = Some(stream),
                    Err(NotTaken::Io(e)) => last_error = format!("{}: {e}", config.addresses[j]),
                    Err(NotTaken::Stranger(e)) => stranger = Some(e),
                }
            }
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => match greet(stream, &hello, deadline) {
                    Ok((j, stream)) if j > me && j < n && sockets[j].is_none() => {
                        sockets[j] = Some(stream)
                    }
                    Ok((j, _)) => last_error = format!("unexpected connection from process {j}"),
                    Err(NotTaken::Io(e)) => last_error = e,
                    Err(NotTaken::Stranger(e)) => stranger = Some(e),
                },
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    last_error = e.to_string();
                    break;
                }
            }
        }
        let missing: Vec<usize> = (0..n)
            .filter(|&j| j != me && sockets[j].is_none())
            .collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            return Err(ClusterError::Connect {
                index: me,
                missing,
                waited: config.connect_timeout,
                detail: match stranger {
                    Some(stranger) if last_error.is_empty() => stranger,
                    Some(stranger) => format!("{stranger}; then: {last_error}"),
                    None => last_error,
                },
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for stream in sockets.iter().flatten() {
        stream
            .set_nodelay(true)
            .and_then(|_| stream.set_read_timeout(None))
            .and_then(|_| stream.set_nonblocking(false))
            .map_err(|e| ClusterError::Config(e.to_string()))?;
    }
    Ok(sockets)
}

/// Why a connection was not taken.
enum NotTaken {
    /// It failed or broke; the peer may not be up yet.
    Io(String),
    /// The peer answered but is not one of ours (see `check`).
    Stranger(String),
}

/// Connects to a lower-index process, introduces ourselves and waits (until `deadline`,
/// at most) for its answer: both sides check that the other belongs to their cluster.
fn dial(address: &str, ours: &Hello, deadline: Instant) -> Result<TcpStream, NotTaken> {
    let mut last = "no address".to_string();
    let addrs = address
        .to_socket_addrs()
        .map_err(|e| NotTaken::Io(e.to_string()))?;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(mut stream) => {
                stream
                    .write_all(&ours.to_bytes())
                    .map_err(|e| NotTaken::Io(e.to_string()))?;
                let theirs = read_hello(&mut stream, deadline)?;
                check(&theirs, ours)?;
                return Ok(stream);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(NotTaken::Io(last))
}

/// Reads a peer's introduction, waiting until `deadline` (and at least 100 ms).
fn read_hello(stream: &mut TcpStream, deadline: Instant) -> Result<Hello, NotTaken> {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    stream
        .set_nonblocking(false)
        .and_then(|_| stream.set_read_timeout(Some(wait)))
        .map_err(|e| NotTaken::Io(e.to_string()))?;
    let mut bytes = [0u8; Hello::LEN];
    stream
        .read_exact(&mut bytes)
        .map_err(|e| NotTaken::Io(format!("reading a peer's introduction: {e}")))?;
    Hello::from_bytes(&bytes).ok_or_else(|| {
        NotTaken::Stranger("a connection that is not from a dask process of this version".into())
    })
}

/// Whether `theirs` belongs to the same cluster as `ours`.
fn check(theirs: &Hello, ours: &Hello) -> Result<(), NotTaken> {
    let (j, me) = (theirs.index, ours.index);
    if theirs.processes != ours.processes {
        return Err(NotTaken::Stranger(format!(
            "process {j} was started with -n {}, process {me} with -n {}",
            theirs.processes, ours.processes
        )));
    }
    if theirs.cluster != ours.cluster {
        return Err(NotTaken::Stranger(format!(
            "process {j} has another address list than process {me} (another cluster)"
        )));
    }
    Ok(())
}

/// Reads a higher-index process's introduction and answers with ours, even to a
/// stranger, so that the dialling side can name the mismatch too; then checks it.
fn greet(
    mut stream: TcpStream,
    ours: &Hello,
    deadline: Instant,
) -> Result<(usize, TcpStream), NotTaken> {
    let theirs = read_hello(&mut stream, deadline)?;
    stream
        .write_all(&ours.to_bytes())
        .map_err(|e| NotTaken::Io(format!("answering process {}: {e}", theirs.index)))?;
    check(&theirs, ours)?;
    Ok((theirs.index, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(addresses: &[&str], index: usize) -> ClusterConfig {
        ClusterConfig::new(index, addresses.iter().map(|a| a.to_string()).collect())
    }

    #[test]
    fn a_greeting_round_trips_and_names_its_cluster() {
        let a = Hello::of(&config(&["127.0.0.1:4000", "127.0.0.1:4001"], 1));
        let back = Hello::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(
            (back.index, back.processes, back.cluster),
            (1, 2, a.cluster)
        );
        let same = Hello::of(&config(&["127.0.0.1:4000", "127.0.0.1:4001"], 0));
        assert_eq!(
            same.cluster, a.cluster,
            "the index is not part of the cluster's name"
        );
        let other = Hello::of(&config(&["127.0.0.1:4000", "127.0.0.1:4002"], 1));
        assert_ne!(other.cluster, a.cluster);
        let mut bytes = a.to_bytes();
        bytes[0] ^= 1;
        assert!(Hello::from_bytes(&bytes).is_none());
    }
}
