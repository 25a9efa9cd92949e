//! Connecting the processes, with a deadline.
//!
//! Timely's own connection code retries forever when a peer never starts. We open the
//! sockets ourselves with the same topology (process `i` dials every `j < i` and accepts
//! every `j > i`), give up at the deadline naming the missing processes, and hand the
//! sockets to timely (`initialize_networking_from_sockets`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{ClusterConfig, ClusterError};

/// First word of our handshake: "dask-clu" as bytes, then the version.
const MAGIC: u64 = u64::from_le_bytes(*b"daskclu1");

/// One connected socket per other process (`None` at our own index).
pub(crate) fn connect(config: &ClusterConfig) -> Result<Vec<Option<TcpStream>>, ClusterError> {
    let (me, n) = (config.index, config.processes());
    let start = Instant::now();
    let deadline = start + config.connect_timeout;
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
    loop {
        for (j, socket) in sockets.iter_mut().enumerate().take(me) {
            if socket.is_none() {
                match dial(&config.addresses[j], me, n) {
                    Ok(stream) => *socket = Some(stream),
                    Err(e) => last_error = format!("{}: {e}", config.addresses[j]),
                }
            }
        }
        loop {
            match listener.accept() {
                Ok((stream, _)) => match greet(stream, me, n, deadline) {
                    Ok((j, stream)) if j > me && j < n && sockets[j].is_none() => {
                        sockets[j] = Some(stream)
                    }
                    Ok((j, _)) => last_error = format!("unexpected connection from process {j}"),
                    Err(e) => last_error = e,
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
                detail: last_error,
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

/// Connects to a lower-index process and introduces ourselves.
fn dial(address: &str, me: usize, n: usize) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(mut stream) => {
                let mut hello = [0u8; 24];
                hello[..8].copy_from_slice(&MAGIC.to_le_bytes());
                hello[8..16].copy_from_slice(&(me as u64).to_le_bytes());
                hello[16..].copy_from_slice(&(n as u64).to_le_bytes());
                stream.write_all(&hello)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Reads a higher-index process's introduction.
fn greet(
    mut stream: TcpStream,
    me: usize,
    n: usize,
    deadline: Instant,
) -> Result<(usize, TcpStream), String> {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(100));
    stream
        .set_nonblocking(false)
        .and_then(|_| stream.set_read_timeout(Some(wait)))
        .map_err(|e| e.to_string())?;
    let mut hello = [0u8; 24];
    stream
        .read_exact(&mut hello)
        .map_err(|e| format!("reading a peer's introduction: {e}"))?;
    let word = |i: usize| u64::from_le_bytes(hello[i * 8..i * 8 + 8].try_into().unwrap());
    if word(0) != MAGIC {
        return Err("a connection that is not from a dask process".into());
    }
    let (j, their_n) = (word(1) as usize, word(2) as usize);
    if their_n != n {
        return Err(format!(
            "process {j} was started with -n {their_n}, process {me} with -n {n}"
        ));
    }
    Ok((j, stream))
}
