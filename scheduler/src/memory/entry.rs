//! The entry file format: one cached value per file, checked before it is believed.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "DASKMEM\0"
//!      8     4  format version (little-endian u32)
//!     12     4  CRC-32 (IEEE) of every byte from offset 16 to the end
//!     16     8  node id: the pure key hash of the cached node
//!     24     8  type hash: `StableHasher` of `std::any::type_name::<T>()`
//!     32     8  payload length in bytes
//!     40     …  payload: the value in postcard's format
//! ```
//!
//! All integers are little-endian. The checksum covers the identity and the length as
//! well as the payload, so a flipped bit anywhere after the version is caught; a file cut
//! short fails the length check; an entry written for another node or type (a renamed
//! file, a hash collision of file names) fails the identity check. Only then is the
//! payload decoded, and it must be consumed exactly.

use std::fmt;
use std::hash::Hasher;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::key::StableHasher;

const MAGIC: [u8; 8] = *b"DASKMEM\0";
/// Bumped whenever the layout above or the payload encoding changes: older entries then
/// read as invalid and are recomputed.
const VERSION: u32 = 1;
const HEADER_LEN: usize = 40;
const CHECKED_FROM: usize = 16;

/// Which value an entry holds: the cached node and the Rust type it was stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryIdentity {
    pub(crate) node_id: u64,
    pub(crate) type_hash: u64,
}

impl EntryIdentity {
    pub(crate) fn new<T>(node_id: u64) -> Self {
        let mut hasher = StableHasher::new();
        hasher.write(std::any::type_name::<T>().as_bytes());
        EntryIdentity {
            node_id,
            type_hash: hasher.finish(),
        }
    }

    /// The entry's file name without extension: 16 hex digits naming node and type.
    pub(crate) fn file_stem(&self) -> String {
        let mut hasher = StableHasher::new();
        hasher.write_u64(self.node_id);
        hasher.write_u64(self.type_hash);
        format!("{:016x}", hasher.finish())
    }
}

/// Why the bytes of an entry file are not a value.
#[derive(Debug)]
pub(crate) enum Invalid {
    /// Shorter (cut off) or longer than its header says.
    Length {
        expected: u64,
        found: u64,
    },
    NotAnEntry,
    Version(u32),
    Checksum,
    OtherValue,
    Payload(postcard::Error),
    TrailingBytes(usize),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Length { expected, found } if found < expected => {
                write!(f, "is truncated ({found} of {expected} bytes)")
            }
            Invalid::Length { expected, found } => {
                write!(f, "is {found} bytes long instead of {expected}")
            }
            Invalid::NotAnEntry => f.write_str("is not a cache entry (wrong magic bytes)"),
            Invalid::Version(v) => write!(f, "has format version {v}, expected {VERSION}"),
            Invalid::Checksum => f.write_str("is corrupt (checksum mismatch)"),
            Invalid::OtherValue => f.write_str("holds another node's value or another type"),
            Invalid::Payload(e) => write!(f, "cannot be decoded: {e}"),
            Invalid::TrailingBytes(n) => write!(f, "has {n} bytes after the value"),
        }
    }
}

/// The complete file contents for `value`.
pub(crate) fn encode<T: Serialize>(
    value: &T,
    identity: EntryIdentity,
) -> Result<Vec<u8>, postcard::Error> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + 64);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&identity.node_id.to_le_bytes());
    bytes.extend_from_slice(&identity.type_hash.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    let mut bytes = postcard::to_extend(value, bytes)?;
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    bytes[32..40].copy_from_slice(&payload_len.to_le_bytes());
    let crc = crc32fast::hash(&bytes[CHECKED_FROM..]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// The value in `bytes`, if they are a sound entry for `identity`.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    identity: EntryIdentity,
) -> Result<T, Invalid> {
    let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes.len() < HEADER_LEN {
        // Too short to hold even the header: say so unless it is not ours at all.
        if bytes.len() >= 8 && bytes[..8] != MAGIC {
            return Err(Invalid::NotAnEntry);
        }
        return Err(Invalid::Length {
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    if bytes[..8] != MAGIC {
        return Err(Invalid::NotAnEntry);
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(Invalid::Version(version));
    }
    let expected = (HEADER_LEN as u64).saturating_add(field(32));
    if expected != bytes.len() as u64 {
        return Err(Invalid::Length {
            expected,
            found: bytes.len() as u64,
        });
    }
    let crc = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[CHECKED_FROM..]) != crc {
        return Err(Invalid::Checksum);
    }
    let stored = EntryIdentity {
        node_id: field(16),
        type_hash: field(24),
    };
    if stored != identity {
        return Err(Invalid::OtherValue);
    }
    let (value, rest) =
        postcard::take_from_bytes(&bytes[HEADER_LEN..]).map_err(Invalid::Payload)?;
    if !rest.is_empty() {
        return Err(Invalid::TrailingBytes(rest.len()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> EntryIdentity {
        EntryIdentity::new::<Vec<u32>>(0x1234)
    }

    fn entry() -> Vec<u8> {
        encode(&vec![1u32, 2, 300_000], identity()).unwrap()
    }

    #[test]
    fn round_trip() {
        let bytes = entry();
        assert_eq!(&bytes[..8], b"DASKMEM\0");
        let value: Vec<u32> = decode(&bytes, identity()).unwrap();
        assert_eq!(value, vec![1, 2, 300_000]);
    }

    #[test]
    fn every_single_bit_flip_is_caught() {
        let bytes = entry();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    decode::<Vec<u32>>(&bad, identity()).is_err(),
                    "flip of bit {bit} in byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn every_truncation_is_caught() {
        let bytes = entry();
        for len in 0..bytes.len() {
            assert!(
                decode::<Vec<u32>>(&bytes[..len], identity()).is_err(),
                "{len}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            decode::<Vec<u32>>(&longer, identity()),
            Err(Invalid::Length { .. })
        ));
    }

    #[test]
    fn another_node_or_type_is_refused() {
        let bytes = entry();
        let other_node = EntryIdentity::new::<Vec<u32>>(0x1235);
        assert!(matches!(
            decode::<Vec<u32>>(&bytes, other_node),
            Err(Invalid::OtherValue)
        ));
        let other_type = EntryIdentity::new::<Vec<u64>>(0x1234);
        assert!(matches!(
            decode::<Vec<u64>>(&bytes, other_type),
            Err(Invalid::OtherValue)
        ));
        assert_ne!(identity().file_stem(), other_type.file_stem());
        assert_ne!(identity().file_stem(), other_node.file_stem());
    }

    #[test]
    fn garbage_is_not_an_entry() {
        let garbage = vec![0xA5u8; 100];
        assert!(matches!(
            decode::<Vec<u32>>(&garbage, identity()),
            Err(Invalid::NotAnEntry)
        ));
        assert!(decode::<Vec<u32>>(b"", identity()).is_err());
    }

    #[test]
    fn the_format_is_pinned() {
        // A change of layout or encoding must bump VERSION; this catches one that does
        // not.
        let bytes = encode(&(7u8, String::from("ab")), EntryIdentity::new::<u8>(1)).unwrap();
        assert_eq!(bytes.len(), 40 + 4);
        assert_eq!(&bytes[8..12], &1u32.to_le_bytes());
        assert_eq!(&bytes[32..40], &4u64.to_le_bytes());
        assert_eq!(&bytes[40..], &[7, 2, b'a', b'b']);
    }
}
