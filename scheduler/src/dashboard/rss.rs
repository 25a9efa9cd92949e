//! The process's resident memory, the figure `top` shows.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

/// Resident set size in bytes, from `/proc/self/statm` (its second field, in pages).
/// `None` where there is no such file (not Linux) or it cannot be parsed.
#[cfg(test)]
fn resident_bytes() -> Option<u64> {
    Resident::open().bytes()
}

/// The resident size, read again and again through one open `/proc/self/statm`: the
/// update thread reads it ten times a second, and opening the file (and the auxiliary
/// vector, for the page size) each time cost more than reading it.
pub(crate) struct Resident {
    statm: Option<File>,
    page: u64,
}

impl Resident {
    pub(crate) fn open() -> Resident {
        Resident {
            statm: File::open("/proc/self/statm").ok(),
            page: page_size(),
        }
    }

    /// Resident set size in bytes now; `None` where there is no such file (not Linux)
    /// or it cannot be parsed.
    pub(crate) fn bytes(&self) -> Option<u64> {
        // A read from the start makes the kernel write the file's text afresh.
        let mut buf = [0u8; 256];
        let mut statm = self.statm.as_ref()?;
        statm.seek(SeekFrom::Start(0)).ok()?;
        let n = statm.read(&mut buf).ok()?;
        parse_statm(std::str::from_utf8(&buf[..n]).ok()?, self.page)
    }
}

fn parse_statm(statm: &str, page: u64) -> Option<u64> {
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    pages.checked_mul(page)
}

/// The page size. Linux on every architecture this crate is built for uses 4 KiB base
/// pages except some arm64 and ppc64 kernels (64 KiB); without libc there is no
/// `sysconf`, so it is read from the kernel's per-process auxiliary vector
/// (`AT_PAGESZ`, 6), falling back to 4 KiB.
fn page_size() -> u64 {
    const AT_PAGESZ: u64 = 6;
    // Entries are two native words; read as 64-bit ones only where words are 64 bits.
    if usize::BITS != 64 {
        return 4096;
    }
    let Ok(auxv) = std::fs::read("/proc/self/auxv") else {
        return 4096;
    };
    auxv.chunks_exact(16)
        .map(|pair| {
            let word = |b: &[u8]| u64::from_ne_bytes(b.try_into().expect("8 bytes"));
            (word(&pair[..8]), word(&pair[8..]))
        })
        .find(|&(key, _)| key == AT_PAGESZ)
        .map_or(4096, |(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statm_gives_resident_pages_times_page_size() {
        assert_eq!(
            parse_statm("1000 250 30 1 0 200 0\n", 4096),
            Some(250 * 4096)
        );
        assert_eq!(parse_statm("garbage", 4096), None);
        assert_eq!(parse_statm("", 4096), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_some_resident_memory() {
        let rss = resident_bytes().expect("Linux has /proc/self/statm");
        // Read again through the same file: a figure again, not the end of the file.
        let resident = Resident::open();
        assert!(resident.bytes().is_some_and(|b| b > 1 << 20));
        let grown = vec![1u8; 64 << 20];
        let after = resident.bytes().unwrap();
        assert!(after > rss + (32 << 20), "{rss} then {after}");
        drop(std::hint::black_box(grown));
        assert!(rss > 1 << 20, "{rss}");
        // The same figure as the kernel's own `VmRSS` line (in KiB), give or take
        // what changed between the two reads.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let vm_rss_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line");
        let kernel = vm_rss_kib * 1024;
        assert!(
            rss.abs_diff(kernel) < kernel / 5 + (1 << 20),
            "{rss} vs VmRSS {kernel}"
        );
        assert!(page_size().is_power_of_two());
    }
}
