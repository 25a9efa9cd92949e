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

/// How long a connection we accepted has to introduce itself. A peer writes its
/// introduction as soon as it has connected, so the bytes are normally there when we
/// accept. One that says nothing, or too little, in this time is a stranger (a port
/// scanner, a health check, another program) and is dropped, so that it cannot hold back
/// the real peers; a peer dropped by mistake sees its connection close and dials again.
const INTRODUCTION_LIMIT: Duration = Duration::from_millis(500);

/// At most this many accepted connections wait for their introduction at once; any more
/// are dropped on arrival, so that a flood of connections cannot grow our memory.
const MAX_INTRODUCING: usize = 4 * super::MAX_PROCESSES;

/// One connected socket per other process (`None` at our own index).
///
/// Connections are read without blocking: introductions (ours to the processes we dial,
/// theirs to us) are awaited side by side, each with its own time limit, so that no
/// single connection holds up the others.
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
    let mut introducing: Vec<Introducing> = Vec::new();
    let mut last_error = String::new();
    // Kept apart from `last_error`: a stranger explains a missing process better than
    // the refused connections that may follow once it has given up.
    let mut stranger: Option<String> = None;
    // Accepted connections that were not a peer of this cluster.
    let mut dropped = 0usize;
    loop {
        for (j, socket) in sockets.iter().enumerate().take(me) {
            if socket.is_none() && !introducing.iter().any(|c| c.dialled == Some(j)) {
                match dial(&config.addresses[j], &hello) {
                    Ok(stream) => introducing.push(Introducing::new(stream, Some(j), deadline)),
                    Err(e) => last_error = format!("{}: {e}", config.addresses[j]),
                }
            }
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => {
                    let waiting = introducing.iter().filter(|c| c.dialled.is_none()).count();
                    if waiting >= MAX_INTRODUCING {
                        dropped += 1;
                        continue;
                    }
                    match stream.set_nonblocking(true) {
                        Ok(()) => {
                            let until = (Instant::now() + INTRODUCTION_LIMIT).min(deadline);
                            introducing.push(Introducing::new(stream, None, until));
                        }
                        Err(e) => last_error = e.to_string(),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    last_error = e.to_string();
                    break;
                }
            }
        }
        let now = Instant::now();
        for mut connection in std::mem::take(&mut introducing) {
            let address = |j: usize| &config.addresses[j];
            match (connection.poll(), connection.dialled) {
                (Progress::Waiting, _) if now < connection.until => introducing.push(connection),
                (Progress::Waiting, Some(j)) => {
                    last_error = format!("{} did not answer our introduction", address(j))
                }
                (Progress::Waiting | Progress::Closed | Progress::Foreign, None) => dropped += 1,
                (Progress::Foreign, Some(j)) => {
                    stranger = Some(format!(
                        "{} answered, but not as a dask process of this version",
                        address(j)
                    ))
                }
                (Progress::Closed, Some(j)) => {
                    last_error = format!("{} closed the connection without answering", address(j))
                }
                (Progress::Failed(e), Some(j)) => last_error = format!("{}: {e}", address(j)),
                (Progress::Failed(e), None) => last_error = e,
                (Progress::Done(theirs), Some(j)) => match check(&theirs, &hello) {
                    Ok(()) => sockets[j] = Some(connection.stream),
                    Err(e) => stranger = Some(e),
                },
                (Progress::Done(theirs), None) => match greet(connection.stream, theirs, &hello) {
                    Ok((j, stream)) if j > me && j < n && sockets[j].is_none() => {
                        sockets[j] = Some(stream)
                    }
                    Ok((j, _)) => last_error = format!("unexpected connection from process {j}"),
                    Err(Refused::Stranger(e)) => {
                        dropped += 1;
                        stranger = Some(e);
                    }
                    Err(Refused::Io(e)) => last_error = e,
                },
            }
        }
        let missing: Vec<usize> = (0..n)
            .filter(|&j| j != me && sockets[j].is_none())
            .collect();
        if missing.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for connection in &introducing {
                if let Some(j) = connection.dialled {
                    last_error = format!(
                        "{} accepted our connection but has not answered our introduction",
                        config.addresses[j]
                    );
                }
            }
            let mut detail = vec![format!("timed out waiting for process(es) {missing:?}")];
            if dropped > 0 {
                detail.push(format!(
                    "strangers dropped: {dropped} (connections to {} that did not introduce \
                     themselves as a process of this cluster within {INTRODUCTION_LIMIT:?})",
                    config.addresses[me]
                ));
            }
            detail.extend(stranger);
            if !last_error.is_empty() {
                detail.push(format!("last error: {last_error}"));
            }
            return Err(ClusterError::Connect {
                index: me,
                missing,
                waited: config.connect_timeout,
                detail: detail.join("; "),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for stream in sockets.iter().flatten() {
        stream
            .set_nodelay(true)
            .and_then(|_| stream.set_nonblocking(false))
            .and_then(|_| stream.set_read_timeout(None))
            .and_then(|_| stream.set_write_timeout(None))
            .map_err(|e| ClusterError::Config(e.to_string()))?;
    }
    Ok(sockets)
}

/// A connection whose introduction has not fully arrived yet: the answer of a process
/// we dialled, or the introduction of one that connected to us.
struct Introducing {
    stream: TcpStream,
    bytes: [u8; Hello::LEN],
    received: usize,
    /// `Some(j)`: we dialled process `j`; `None`: we accepted it.
    dialled: Option<usize>,
    /// When it is given up.
    until: Instant,
}

/// How far a connection's introduction got.
enum Progress {
    /// Not complete yet.
    Waiting,
    /// Complete: a dask greeting.
    Done(Hello),
    /// The other side closed the connection first.
    Closed,
    /// Complete, but not a dask greeting of this version.
    Foreign,
    /// The connection broke.
    Failed(String),
}

impl Introducing {
    /// `stream` must be non-blocking.
    fn new(stream: TcpStream, dialled: Option<usize>, until: Instant) -> Self {
        Introducing {
            stream,
            bytes: [0; Hello::LEN],
            received: 0,
            dialled,
            until,
        }
    }

    /// Reads what has arrived, without waiting.
    fn poll(&mut self) -> Progress {
        while self.received < Hello::LEN {
            match self.stream.read(&mut self.bytes[self.received..]) {
                Ok(0) => return Progress::Closed,
                Ok(k) => self.received += k,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Progress::Waiting,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Progress::Failed(format!("reading a peer's introduction: {e}")),
            }
        }
        match Hello::from_bytes(&self.bytes) {
            Some(hello) => Progress::Done(hello),
            None => Progress::Foreign,
        }
    }
}

/// Why a connection that introduced itself was not taken.
enum Refused {
    /// It broke while we answered.
    Io(String),
    /// A dask process of another cluster: the mismatch.
    Stranger(String),
}

/// Connects to a lower-index process and introduces ourselves; its answer is read by
/// [`Introducing::poll`]. Returns the stream, non-blocking.
fn dial(address: &str, ours: &Hello) -> Result<TcpStream, String> {
    let mut last = "no address".to_string();
    let addrs = address.to_socket_addrs().map_err(|e| e.to_string())?;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(mut stream) => {
                // A fresh connection's send buffer takes the 32 bytes at once; the time
                // limit only guards against a peer whose window is closed.
                stream
                    .set_write_timeout(Some(INTRODUCTION_LIMIT))
                    .and_then(|_| stream.write_all(&ours.to_bytes()))
                    .and_then(|_| stream.set_nonblocking(true))
                    .map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// Whether `theirs` belongs to the same cluster as `ours`.
fn check(theirs: &Hello, ours: &Hello) -> Result<(), String> {
    let (j, me) = (theirs.index, ours.index);
    if theirs.processes != ours.processes {
        return Err(format!(
            "process {j} was started with -n {}, process {me} with -n {}",
            theirs.processes, ours.processes
        ));
    }
    if theirs.cluster != ours.cluster {
        return Err(format!(
            "process {j} has another address list than process {me} (another cluster)"
        ));
    }
    Ok(())
}

/// Answers a higher-index process's introduction with ours, even a stranger's, so that
/// the dialling side can name the mismatch too; then checks it.
fn greet(
    mut stream: TcpStream,
    theirs: Hello,
    ours: &Hello,
) -> Result<(usize, TcpStream), Refused> {
    stream
        .set_nonblocking(false)
        .and_then(|_| stream.set_write_timeout(Some(INTRODUCTION_LIMIT)))
        .and_then(|_| stream.write_all(&ours.to_bytes()))
        .map_err(|e| Refused::Io(format!("answering process {}: {e}", theirs.index)))?;
    check(&theirs, ours).map_err(Refused::Stranger)?;
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
