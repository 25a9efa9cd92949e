//! The entry file format: one cached value per file, checked before it is believed.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "DASKMEM\0"
//!      8     4  format version (little-endian u32), 2
//!     12     4  CRC-32 (IEEE) of every byte from offset 16 to the end
//!     16    16  node id: the 128-bit pure key hash of the cached node
//!     32    16  type hash: 128 bits of `StableHasher` over `std::any::type_name::<T>()`
//!     48     8  payload length in bytes, at most `MAX_PAYLOAD`
//!     56     …  payload: the value in postcard's format
//! ```
//!
//! All integers are little-endian. A load reads the 56-byte header first and checks
//! magic, version, declared length (against the file's real length and `MAX_PAYLOAD`)
//! and identity (all 128 bits of the node id and of the type hash) before it reads a
//! byte of the payload: a foreign, huge or mislabelled file costs one small read, never
//! a read of the whole file. Then the checksum, which covers the identity and the length
//! as well as the payload, so a flipped bit anywhere after the version is caught. Only
//! then is the payload decoded, and it must be consumed exactly.
//!
//! Version 1 (before 128-bit keys) had 64-bit ids and a 40-byte header. Its entries have
//! 16-hex-digit names, which version 2 never looks up; should one be found under a
//! version 2 name it is refused as old-format and recomputed, never misread.
//!
//! Version 3 has version 2's layout and encoding. It marks entries written since values
//! whose `Serialize` skips fields are no longer stored (see `skip_probe.rs`): such a
//! version 2 entry could decode as another value, so version 2 entries are recomputed
//! once rather than trusted.

use std::fmt;
use std::hash::Hasher;
use std::io::{self, Read};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::skip_probe::{first_skipped_field, SkippedField};
use crate::key::StableHasher;

pub(crate) const MAGIC: [u8; 8] = *b"DASKMEM\0";
/// Bumped whenever the layout above or the payload encoding changes: older entries then
/// read as invalid and are recomputed.
const VERSION: u32 = 3;
const HEADER_LEN: usize = 56;
const CHECKED_FROM: usize = 16;
/// The largest payload an entry may hold, 1 GiB: a load holds the payload and the value
/// in memory at once, so a header declaring more (a damaged or planted file, say) is
/// refused before anything is allocated, and a bigger value is not written.
pub(crate) const MAX_PAYLOAD: u64 = 1 << 30;

/// Which value an entry holds: the cached node and the Rust type it was stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryIdentity {
    pub(crate) node_id: u128,
    pub(crate) type_hash: u128,
}

impl EntryIdentity {
    pub(crate) fn new<T>(node_id: u128) -> Self {
        let mut hasher = StableHasher::new();
        hasher.write(std::any::type_name::<T>().as_bytes());
        EntryIdentity {
            node_id,
            type_hash: hasher.finish128(),
        }
    }

    /// The entry's file name without extension: 32 hex digits, 128 bits of a hash of
    /// node and type.
    pub(crate) fn file_stem(&self) -> String {
        let mut hasher = StableHasher::new();
        hasher.write_u128(self.node_id);
        hasher.write_u128(self.type_hash);
        format!("{:032x}", hasher.finish128())
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
    /// The header declares a payload over `MAX_PAYLOAD`.
    TooLarge(u64),
    NotAnEntry,
    Version(u32),
    Checksum,
    OtherValue,
    Payload(postcard::Error),
    /// The type's `Deserialize` panicked: the message.
    Panicked(String),
    TrailingBytes(usize),
    Unreadable(io::Error),
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
            Invalid::TooLarge(declared) => write!(
                f,
                "declares a {declared}-byte value, over the {MAX_PAYLOAD}-byte limit of an \
                 entry (not read)"
            ),
            Invalid::NotAnEntry => f.write_str("is not a cache entry (wrong magic bytes)"),
            Invalid::Version(v) if *v < VERSION => write!(
                f,
                "has the old format version {v} (written by an older dask), expected {VERSION}"
            ),
            Invalid::Version(v) => write!(f, "has format version {v}, expected {VERSION}"),
            Invalid::Checksum => f.write_str("is corrupt (checksum mismatch)"),
            Invalid::OtherValue => f.write_str("holds another node's value or another type"),
            Invalid::Payload(e) => write!(f, "cannot be decoded: {e}"),
            Invalid::Panicked(m) => write!(f, "cannot be decoded: deserializing panicked: {m}"),
            Invalid::TrailingBytes(n) => write!(f, "has {n} bytes after the value"),
            Invalid::Unreadable(e) => write!(f, "cannot be read ({e})"),
        }
    }
}

/// Why a value was not made into an entry.
#[derive(Debug)]
pub(crate) enum Unencodable {
    Serialize(postcard::Error),
    /// The value's `Serialize` panicked (user code): the message.
    Panicked(String),
    TooLarge(u64),
    /// The value's `Serialize` left a field out (`skip_serializing_if`): postcard would
    /// read the next field's bytes in its place. The value's type and the field.
    SkipsFields(&'static str, SkippedField),
    /// The encoded value does not decode back to a value of its type, consuming every
    /// byte: its `Serialize` and `Deserialize` disagree. The type and what went wrong.
    NoRoundTrip(&'static str, String),
}

impl fmt::Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unencodable::Serialize(e) => write!(f, "cannot serialize the value: {e}"),
            Unencodable::Panicked(m) => write!(f, "serializing the value panicked: {m}"),
            Unencodable::TooLarge(len) => write!(
                f,
                "the value takes {len} bytes, over the {MAX_PAYLOAD}-byte limit of an entry"
            ),
            Unencodable::SkipsFields(type_name, skipped) => write!(
                f,
                "`{type_name}` skips fields when serializing (`skip_serializing_if`, here \
                 {skipped}), which postcard's format cannot represent"
            ),
            Unencodable::NoRoundTrip(type_name, why) => write!(
                f,
                "`{type_name}` does not decode back from postcard's format ({why}): its \
                 `Serialize` and `Deserialize` disagree (serde attributes such as \
                 `untagged` or `flatten` need a self-describing format)"
            ),
        }
    }
}

/// The complete file contents for `value`, if postcard's format holds it faithfully: its
/// `Serialize` skips no field (see `skip_probe.rs`) and the payload decodes back to a
/// value of type `T`, consuming every byte. Either failure would make every load of the
/// entry fail, or worse, succeed with another value.
pub(crate) fn encode<T: Serialize + DeserializeOwned>(
    value: &T,
    identity: EntryIdentity,
) -> Result<Vec<u8>, Unencodable> {
    encode_within(value, identity, MAX_PAYLOAD)
}

fn encode_within<T: Serialize + DeserializeOwned>(
    value: &T,
    identity: EntryIdentity,
    max_payload: u64,
) -> Result<Vec<u8>, Unencodable> {
    // `Serialize` is user code: its panic is a failed write (a warning, and the value is
    // used), not a failed task.
    let skipped =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| first_skipped_field(value)))
            .map_err(|payload| Unencodable::Panicked(crate::error::panic_message(payload)))?;
    if let Some(skipped) = skipped {
        return Err(Unencodable::SkipsFields(
            std::any::type_name::<T>(),
            skipped,
        ));
    }
    let mut bytes = Vec::with_capacity(HEADER_LEN + 64);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&identity.node_id.to_le_bytes());
    bytes.extend_from_slice(&identity.type_hash.to_le_bytes());
    bytes.extend_from_slice(&[0; 8]);
    let mut bytes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        postcard::to_extend(value, bytes)
    }))
    .map_err(|payload| Unencodable::Panicked(crate::error::panic_message(payload)))?
    .map_err(Unencodable::Serialize)?;
    let payload_len = (bytes.len() - HEADER_LEN) as u64;
    if payload_len > max_payload {
        return Err(Unencodable::TooLarge(payload_len));
    }
    decodes_back_once::<T>(&bytes[HEADER_LEN..])?;
    bytes[48..56].copy_from_slice(&payload_len.to_le_bytes());
    let crc = crc32fast::hash(&bytes[CHECKED_FROM..]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    Ok(bytes)
}

/// Types whose first stored value decoded back (see [`decodes_back_once`]), by name.
static DECODED_BACK: parking_lot::Mutex<Vec<&'static str>> = parking_lot::Mutex::new(Vec::new());

/// [`decodes_back`] for the first value of each type this process stores. Whether
/// postcard gives a value back is mostly a property of its type (`untagged`, `flatten`),
/// and decoding every value doubled the work of a store besides the file (a second
/// value's worth of memory, allocated and freed). A type whose values differ in that
/// (one variant round-trips, another not) is still never read as a wrong value: a
/// payload that does not decode fails its load, which warns and recomputes. Types are
/// told apart by name, which can only make two types share one check.
fn decodes_back_once<T: DeserializeOwned>(payload: &[u8]) -> Result<(), Unencodable> {
    let name = std::any::type_name::<T>();
    if DECODED_BACK.lock().contains(&name) {
        return Ok(());
    }
    decodes_back::<T>(payload)?;
    let mut checked = DECODED_BACK.lock();
    if !checked.contains(&name) {
        checked.push(name);
    }
    Ok(())
}

/// Whether `payload` decodes as a `T` and leaves no byte over, as a load will ask. The
/// value decoded is dropped.
fn decodes_back<T: DeserializeOwned>(payload: &[u8]) -> Result<(), Unencodable> {
    let fails = |why: String| Unencodable::NoRoundTrip(std::any::type_name::<T>(), why);
    // `Deserialize` and `Drop` are user code: a panic is a failed write, as above.
    let decoded = std::panic::catch_unwind(|| {
        postcard::take_from_bytes::<T>(payload).map(|(value, rest)| {
            drop(value);
            rest.len()
        })
    })
    .map_err(|payload| {
        fails(format!(
            "deserializing panicked: {}",
            crate::error::panic_message(payload)
        ))
    })?;
    match decoded {
        Ok(0) => Ok(()),
        Ok(left) => Err(fails(format!("{left} bytes are left after the value"))),
        Err(e) => Err(fails(e.to_string())),
    }
}

/// The value in `bytes`, if they are a sound entry for `identity`.
#[cfg(test)]
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    identity: EntryIdentity,
) -> Result<T, Invalid> {
    load(&mut &bytes[..], bytes.len() as u64, identity)
}

/// Reads up to `buf.len()` bytes; fewer only at the end of `source`.
fn read_up_to(source: &mut impl Read, buf: &mut [u8]) -> Result<usize, Invalid> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Invalid::Unreadable(e)),
        }
    }
    Ok(filled)
}

/// Reads and checks the header of an entry file `file_len` bytes long: ours, this
/// format version, a sane declared length that matches the file, and `identity`'s value.
/// Returns it with the payload's declared length.
pub(crate) fn checked_header(
    source: &mut impl Read,
    file_len: u64,
    identity: EntryIdentity,
) -> Result<([u8; HEADER_LEN], u64), Invalid> {
    let mut buffer = [0u8; HEADER_LEN];
    let got = read_up_to(source, &mut buffer)?;
    let header = &buffer[..got];
    // Not ours at all, or from another format version, is said first, even when the
    // file is shorter than our header.
    if header.len() >= MAGIC.len() && header[..MAGIC.len()] != MAGIC {
        return Err(Invalid::NotAnEntry);
    }
    if header.len() >= 12 {
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(Invalid::Version(version));
        }
    }
    if header.len() < HEADER_LEN {
        return Err(Invalid::Length {
            expected: HEADER_LEN as u64,
            found: file_len,
        });
    }
    let field = |at: usize| u128::from_le_bytes(header[at..at + 16].try_into().expect("16"));
    let declared = u64::from_le_bytes(header[48..56].try_into().expect("8 bytes"));
    if declared > MAX_PAYLOAD {
        return Err(Invalid::TooLarge(declared));
    }
    let expected = HEADER_LEN as u64 + declared;
    if expected != file_len {
        return Err(Invalid::Length {
            expected,
            found: file_len,
        });
    }
    let stored = EntryIdentity {
        node_id: field(16),
        type_hash: field(32),
    };
    if stored != identity {
        return Err(Invalid::OtherValue);
    }
    Ok((buffer, declared))
}

/// The value in `source`, an entry file `file_len` bytes long, if it is a sound entry
/// for `identity`. The payload is read only once the header has been checked.
pub(crate) fn load<T: DeserializeOwned>(
    source: &mut impl Read,
    file_len: u64,
    identity: EntryIdentity,
) -> Result<T, Invalid> {
    let (header, declared) = checked_header(source, file_len, identity)?;
    let expected = HEADER_LEN as u64 + declared;
    let declared = usize::try_from(declared).map_err(|_| Invalid::TooLarge(declared))?;
    let mut payload = Vec::new();
    payload
        .try_reserve_exact(declared)
        .map_err(|_| Invalid::Unreadable(io::Error::from(io::ErrorKind::OutOfMemory)))?;
    payload.resize(declared, 0);
    let got = read_up_to(source, &mut payload)?;
    if got < declared {
        // Cut short since its length was taken (rewritten in place by someone).
        return Err(Invalid::Length {
            expected,
            found: (HEADER_LEN + got) as u64,
        });
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[CHECKED_FROM..]);
    crc.update(&payload);
    let stored_crc = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
    if crc.finalize() != stored_crc {
        return Err(Invalid::Checksum);
    }
    // `Deserialize` is user code: its panic makes the entry unreadable (recomputed).
    let (value, rest) = std::panic::catch_unwind(|| postcard::take_from_bytes(&payload))
        .map_err(|payload| Invalid::Panicked(crate::error::panic_message(payload)))?
        .map_err(Invalid::Payload)?;
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
    fn all_128_bits_of_node_and_type_are_compared() {
        let bytes = entry();
        let mine = identity();
        for flip in [1u128 << 64, 1u128 << 127] {
            let other_node = EntryIdentity {
                node_id: mine.node_id ^ flip,
                ..mine
            };
            assert_eq!(
                other_node.node_id as u64, mine.node_id as u64,
                "same short id"
            );
            assert!(matches!(
                decode::<Vec<u32>>(&bytes, other_node),
                Err(Invalid::OtherValue)
            ));
            let other_type = EntryIdentity {
                type_hash: mine.type_hash ^ flip,
                ..mine
            };
            assert!(matches!(
                decode::<Vec<u32>>(&bytes, other_type),
                Err(Invalid::OtherValue)
            ));
            assert_ne!(other_node.file_stem(), mine.file_stem());
        }
        assert_eq!(mine.file_stem().len(), 32);
    }

    /// Version 1's layout: 40-byte header with 64-bit node id and type hash.
    fn version_1_entry() -> Vec<u8> {
        let mut bytes = b"DASKMEM\0".to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&0x1234u64.to_le_bytes());
        bytes.extend_from_slice(&0x5678u64.to_le_bytes());
        bytes.extend_from_slice(&4u64.to_le_bytes());
        bytes.extend_from_slice(&[3, 1, 2, 3]);
        let crc = crc32fast::hash(&bytes[16..]);
        bytes[12..16].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn a_version_1_entry_is_refused_as_old_format() {
        let old = version_1_entry();
        let refused = decode::<Vec<u8>>(&old, EntryIdentity::new::<Vec<u8>>(0x1234));
        assert!(matches!(refused, Err(Invalid::Version(1))), "{refused:?}");
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("old format version 1"), "{message}");
        // Even cut short to less than a version 2 header.
        assert!(matches!(
            decode::<Vec<u8>>(&old[..20], identity()),
            Err(Invalid::Version(1))
        ));
    }

    /// A file of `len` bytes starting with `head` (zeros after it, as a sparse file
    /// reads), which counts what is read of it.
    struct Sparse {
        head: Vec<u8>,
        at: u64,
        len: u64,
    }

    impl Read for Sparse {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (buf.len() as u64).min(self.len - self.at) as usize;
            for (i, byte) in buf[..n].iter_mut().enumerate() {
                let at = self.at as usize + i;
                *byte = self.head.get(at).copied().unwrap_or(0);
            }
            self.at += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_huge_or_foreign_file_is_refused_from_its_header() {
        const LEN: u64 = 3 << 30;
        // Our header, declaring a payload that fills the 3 GiB file.
        let mut head = entry()[..HEADER_LEN].to_vec();
        head[48..56].copy_from_slice(&(LEN - HEADER_LEN as u64).to_le_bytes());
        let mut huge = Sparse {
            head,
            at: 0,
            len: LEN,
        };
        let refused = load::<Vec<u32>>(&mut huge, LEN, identity());
        assert!(matches!(refused, Err(Invalid::TooLarge(_))), "{refused:?}");
        assert!(refused.unwrap_err().to_string().contains("limit"));
        assert_eq!(huge.at, HEADER_LEN as u64, "only the header was read");

        // A declared length that is not the file's.
        let mut head = entry()[..HEADER_LEN].to_vec();
        head[48..56].copy_from_slice(&1000u64.to_le_bytes());
        let mut lying = Sparse {
            head,
            at: 0,
            len: LEN,
        };
        let refused = load::<Vec<u32>>(&mut lying, LEN, identity());
        assert!(
            matches!(refused, Err(Invalid::Length { .. })),
            "{refused:?}"
        );
        assert_eq!(lying.at, HEADER_LEN as u64);

        // Not ours.
        let mut foreign = Sparse {
            head: b"PK\x03\x04 a zip file".to_vec(),
            at: 0,
            len: LEN,
        };
        let refused = load::<Vec<u32>>(&mut foreign, LEN, identity());
        assert!(matches!(refused, Err(Invalid::NotAnEntry)), "{refused:?}");
        assert_eq!(foreign.at, HEADER_LEN as u64);
    }

    #[test]
    fn a_value_over_the_limit_is_not_encoded() {
        // With a small limit: the real one would take gigabytes to test.
        let value = vec![7u8; 100];
        assert!(encode_within(&value, identity(), 101).is_ok());
        assert!(matches!(
            encode_within(&value, identity(), 100),
            Err(Unencodable::TooLarge(101))
        ));
    }

    #[test]
    fn the_format_is_pinned() {
        // A change of layout or encoding must bump VERSION; this catches one that does
        // not.
        let bytes = encode(&(7u8, String::from("ab")), EntryIdentity::new::<u8>(1)).unwrap();
        assert_eq!(bytes.len(), 56 + 4);
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        assert_eq!(&bytes[16..32], &1u128.to_le_bytes());
        assert_eq!(&bytes[48..56], &4u64.to_le_bytes());
        assert_eq!(&bytes[56..], &[7, 2, b'a', b'b']);
    }
}
