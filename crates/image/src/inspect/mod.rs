//! Streaming disk-image format inspection.
//!
//! An uploaded image is later handed to QEMU, which happily follows
//! references that qcow2 and vmdk headers can make to *other* files (a
//! backing file, an external data file, extents named in a descriptor).
//! Trusting the declared `disk_format` or letting QEMU probe the bytes is
//! how Glance and Nova ended up leaking host files (OSSA-2024-001 and its
//! follow-ups). So, like Glance since then, every upload goes through an
//! [`Inspector`] that works out what the bytes really are, refuses images
//! that reach outside themselves, and computes the virtual size; then
//! [`check_declared`] compares the result with the declared `disk_format`.
//!
//! The inspector sees the upload chunk by chunk, in order, and only keeps
//! what it needs: the leading headers (at most a couple of MiB, depending on
//! the format), the last few sectors, and for VHDX the two small pieces of
//! its metadata region.

mod iso;
mod qcow2;
mod raw;
mod vdi;
mod vhd;
mod vhdx;
mod vmdk;

use std::fmt;

use thiserror::Error;

/// Bytes always kept from the start: enough for every magic number and for
/// the ISO 9660 volume descriptor at sector 16 (32 KiB + one 2 KiB sector).
const PROBE_LEN: usize = iso::DESCRIPTOR_END;

/// Bytes kept from the end: a streamOptimized VMDK footer (three sectors);
/// a fixed VHD footer is the last of them.
const TAIL_LEN: usize = 3 * 512;

/// A disk format the inspector recognises, named as Glance names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DiskFormat {
    Raw,
    Qcow2,
    Vmdk,
    Vhd,
    Vhdx,
    Vdi,
    Iso,
}

impl DiskFormat {
    /// The Glance `disk_format` value for this format.
    pub fn as_glance_str(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Vmdk => "vmdk",
            DiskFormat::Vhd => "vhd",
            DiskFormat::Vhdx => "vhdx",
            DiskFormat::Vdi => "vdi",
            DiskFormat::Iso => "iso",
        }
    }

    /// Parses a declared `disk_format`, also accepting the names QEMU uses
    /// for the same thing (`vpc` for VHD, `iso9660` for ISO).
    pub fn from_glance_str(name: &str) -> Option<DiskFormat> {
        Some(match name {
            "raw" => DiskFormat::Raw,
            "qcow2" => DiskFormat::Qcow2,
            "vmdk" => DiskFormat::Vmdk,
            "vhd" | "vpc" => DiskFormat::Vhd,
            "vhdx" => DiskFormat::Vhdx,
            "vdi" => DiskFormat::Vdi,
            "iso" | "iso9660" => DiskFormat::Iso,
            _ => return None,
        })
    }
}

impl fmt::Display for DiskFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_glance_str())
    }
}

/// What an upload turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspection {
    pub format: DiskFormat,
    /// Size of the disk the guest sees, in bytes.
    pub virtual_size: u64,
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InspectError {
    #[error("{format} header is truncated: it needs {needed} bytes but the upload has {got}")]
    Truncated {
        format: DiskFormat,
        needed: u64,
        got: u64,
    },
    #[error("malformed {format} image: {reason}")]
    Malformed {
        format: DiskFormat,
        reason: &'static str,
    },
    #[error("qcow2 version {0} is not supported (only versions 2 and 3 are)")]
    UnsupportedQcow2Version(u32),
    #[error("qcow2 image has a backing file {0:?}; images must be self-contained")]
    BackingFile(String),
    #[error("qcow2 image uses an external data file; images must be self-contained")]
    ExternalDataFile,
    #[error("qcow2 image sets unknown incompatible feature bits {0:#x}")]
    UnknownFeatures(u64),
    #[error("vmdk subformat {0:?} is not allowed (only monolithicSparse and streamOptimized are)")]
    VmdkSubformat(String),
    #[error("vmdk descriptor refers to data outside the uploaded file: {0:?}")]
    VmdkExternalExtent(String),
    #[error("vmdk descriptor file uploaded on its own; it can only refer to other files")]
    VmdkDescriptorOnly,
    #[error("invalid vmdk descriptor: {0}")]
    VmdkDescriptor(String),
    #[error("{0} image refers to a parent image; images must be self-contained")]
    ParentImage(DiskFormat),
    #[error("upload is both {0} and {1}; refusing an ambiguous image")]
    MultipleFormats(DiskFormat, DiskFormat),
    #[error("{fed} bytes were inspected but the upload size is {total}")]
    SizeMismatch { fed: u64, total: u64 },
    #[error("disk_format {declared:?} does not match the uploaded data, which is {detected}")]
    FormatMismatch {
        declared: String,
        detected: DiskFormat,
    },
    #[error("unknown disk_format {0:?}")]
    UnknownDiskFormat(String),
}

/// Streaming inspector: [`feed`](Inspector::feed) it every chunk of the
/// upload in order, then call [`finish`](Inspector::finish).
#[derive(Debug)]
pub struct Inspector {
    fed: u64,
    head: Capture,
    tail: Tail,
    vhdx: vhdx::Follow,
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

impl Inspector {
    pub fn new() -> Self {
        Inspector {
            fed: 0,
            head: Capture::new(0, PROBE_LEN),
            tail: Tail::default(),
            vhdx: vhdx::Follow::default(),
        }
    }

    /// Takes the next chunk of the upload; chunk boundaries do not matter.
    pub fn feed(&mut self, chunk: &[u8]) {
        let start = self.fed;
        self.fed = self.fed.saturating_add(chunk.len() as u64);
        self.head.take(chunk, start);
        // Once the first bytes name a format, keep as much of the start as
        // that format's headers need; the rest of this chunk may hold it.
        if self.head.grow_to(head_limit(self.head.data())) {
            self.head.take(chunk, start);
        }
        self.tail.push(chunk);
        if vhdx::sniff(self.head.data()) && self.head.is_complete() {
            self.vhdx.advance(self.head.data(), chunk, start);
        }
    }

    /// Decides what the upload is. `total_size` must be the number of bytes
    /// fed; a mismatch means the caller lost a chunk and is refused.
    pub fn finish(self, total_size: u64) -> Result<Inspection, InspectError> {
        if total_size != self.fed {
            return Err(InspectError::SizeMismatch {
                fed: self.fed,
                total: total_size,
            });
        }
        let Inspector {
            head, tail, vhdx, ..
        } = self;
        let leading = inspect_leading(head.data(), tail.data(), vhdx, total_size)?;
        let iso = iso::inspect(head.data(), total_size)?;
        Ok(match (leading, iso) {
            (Some(found), Some(_)) => {
                return Err(InspectError::MultipleFormats(found.format, DiskFormat::Iso))
            }
            (Some(found), None) => found,
            (None, Some(virtual_size)) => Inspection {
                format: DiskFormat::Iso,
                virtual_size,
            },
            (None, None) => vhd::inspect_fixed(tail.data(), total_size)
                .unwrap_or_else(|| raw::inspect(total_size)),
        })
    }
}

/// Checks the declared `disk_format` against what the bytes are, following
/// Glance's rule: a format must match itself; `raw` is accepted for any
/// content (Glance only warns: the detected format has already passed its
/// safety checks, and hybrid ISOs are routinely uploaded as raw); the
/// formats nobody can inspect (`ami`, `aki`, `ari`, `ploop`) are accepted
/// only when the bytes are not a recognised disk format.
pub fn check_declared(declared: &str, found: &Inspection) -> Result<(), InspectError> {
    let mismatch = || InspectError::FormatMismatch {
        declared: declared.to_owned(),
        detected: found.format,
    };
    match DiskFormat::from_glance_str(declared) {
        Some(expected) if expected == found.format => Ok(()),
        Some(DiskFormat::Raw) => Ok(()),
        Some(_) => Err(mismatch()),
        None if raw::is_opaque(declared) && found.format == DiskFormat::Raw => Ok(()),
        None if raw::is_opaque(declared) => Err(mismatch()),
        None => Err(InspectError::UnknownDiskFormat(declared.to_owned())),
    }
}

/// The virtual size to record once [`check_declared`] passed: when data of a
/// rich format was declared `raw` it will be used as raw, so (as in Glance)
/// its size is the byte count, not what the format's header claims.
pub fn recorded_virtual_size(declared: &str, found: &Inspection, total_size: u64) -> u64 {
    let declared_raw = DiskFormat::from_glance_str(declared) == Some(DiskFormat::Raw);
    if declared_raw && found.format != DiskFormat::Raw {
        total_size
    } else {
        found.virtual_size
    }
}

/// How many leading bytes to keep, once the first bytes name a format.
fn head_limit(head: &[u8]) -> usize {
    let wanted = if qcow2::sniff(head) {
        qcow2::head_len(head)
    } else if vmdk::sniff(head) {
        vmdk::head_len(head)
    } else if vhdx::sniff(head) {
        vhdx::HEAD_LEN
    } else {
        0
    };
    wanted.max(PROBE_LEN)
}

/// Inspects the formats identified by their first bytes; `None` if the
/// start of the upload is not one of them.
fn inspect_leading(
    head: &[u8],
    tail: &[u8],
    vhdx: vhdx::Follow,
    total: u64,
) -> Result<Option<Inspection>, InspectError> {
    let (format, virtual_size) = if qcow2::sniff(head) {
        (DiskFormat::Qcow2, qcow2::inspect(head, total)?)
    } else if vmdk::sniff(head) {
        (DiskFormat::Vmdk, vmdk::inspect(head, tail, total)?)
    } else if vmdk::looks_like_descriptor(head) {
        return Err(InspectError::VmdkDescriptorOnly);
    } else if vhd::sniff(head) {
        (DiskFormat::Vhd, vhd::inspect(head, total)?)
    } else if vhdx::sniff(head) {
        (DiskFormat::Vhdx, vhdx.into_virtual_size(head, total)?)
    } else if vdi::sniff(head) {
        (DiskFormat::Vdi, vdi::inspect(head, total)?)
    } else {
        return Ok(None);
    };
    Ok(Some(Inspection {
        format,
        virtual_size,
    }))
}

/// A byte range of the upload to keep, filled as chunks stream past.
#[derive(Debug)]
struct Capture {
    start: u64,
    limit: usize,
    data: Vec<u8>,
}

impl Capture {
    fn new(start: u64, limit: usize) -> Self {
        Capture {
            start,
            limit,
            data: Vec::new(),
        }
    }

    /// Copies the part of `chunk` (which starts at `chunk_start` in the
    /// upload) that continues this range. Calling it twice with the same
    /// chunk is harmless; a range whose next byte already went by is left
    /// incomplete rather than filled with the wrong bytes.
    fn take(&mut self, chunk: &[u8], chunk_start: u64) {
        let next = self.start.saturating_add(self.data.len() as u64);
        if self.is_complete() || next < chunk_start {
            return;
        }
        let Some(rest) = usize::try_from(next - chunk_start)
            .ok()
            .and_then(|skip| chunk.get(skip..))
        else {
            return;
        };
        let wanted = self.limit - self.data.len();
        self.data.extend_from_slice(&rest[..rest.len().min(wanted)]);
    }

    /// Raises the range's length; returns whether it grew.
    fn grow_to(&mut self, limit: usize) -> bool {
        let grew = limit > self.limit;
        self.limit = self.limit.max(limit);
        grew
    }

    fn is_complete(&self) -> bool {
        self.data.len() >= self.limit
    }

    fn data(&self) -> &[u8] {
        &self.data
    }
}

/// The last [`TAIL_LEN`] bytes of the upload.
#[derive(Debug, Default)]
struct Tail {
    buf: Vec<u8>,
}

impl Tail {
    fn push(&mut self, chunk: &[u8]) {
        let keep = chunk.len().min(TAIL_LEN);
        self.buf.extend_from_slice(&chunk[chunk.len() - keep..]);
        // Trim only now and then so that tiny chunks stay cheap.
        if self.buf.len() >= 2 * TAIL_LEN {
            self.buf.drain(..self.buf.len() - TAIL_LEN);
        }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.buf.len().saturating_sub(TAIL_LEN)..]
    }
}

/// `N` bytes at `at`, if the buffer holds them.
fn bytes_at<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    bytes_at(buf, at).map(u32::from_be_bytes)
}

fn be_u64(buf: &[u8], at: usize) -> Option<u64> {
    bytes_at(buf, at).map(u64::from_be_bytes)
}

fn le_u16(buf: &[u8], at: usize) -> Option<u16> {
    bytes_at(buf, at).map(u16::from_le_bytes)
}

fn le_u32(buf: &[u8], at: usize) -> Option<u32> {
    bytes_at(buf, at).map(u32::from_le_bytes)
}

fn le_u64(buf: &[u8], at: usize) -> Option<u64> {
    bytes_at(buf, at).map(u64::from_le_bytes)
}

/// Fails with [`InspectError::Truncated`] unless `head` holds `needed` bytes
/// (the head always keeps what a detected format needs, so a short head
/// means a short upload).
fn require(format: DiskFormat, head: &[u8], needed: usize, total: u64) -> Result<(), InspectError> {
    if head.len() >= needed {
        return Ok(());
    }
    Err(InspectError::Truncated {
        format,
        needed: needed as u64,
        got: total,
    })
}

fn malformed(format: DiskFormat, reason: &'static str) -> InspectError {
    InspectError::Malformed { format, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect_in_chunks(data: &[u8], chunk: usize) -> Result<Inspection, InspectError> {
        let mut inspector = Inspector::new();
        for piece in data.chunks(chunk) {
            inspector.feed(piece);
        }
        inspector.finish(data.len() as u64)
    }

    #[test]
    fn empty_upload_is_raw_of_size_zero() {
        let found = Inspector::new().finish(0).unwrap();
        assert_eq!(
            found,
            Inspection {
                format: DiskFormat::Raw,
                virtual_size: 0
            }
        );
    }

    #[test]
    fn unrecognised_bytes_are_raw() {
        let data = vec![0x5a; 100_000];
        let found = inspect_in_chunks(&data, 4096).unwrap();
        assert_eq!(
            found,
            Inspection {
                format: DiskFormat::Raw,
                virtual_size: 100_000
            }
        );
    }

    #[test]
    fn size_mismatch_is_refused() {
        let mut inspector = Inspector::new();
        inspector.feed(&[0; 10]);
        let err = inspector.finish(11).unwrap_err();
        assert_eq!(err, InspectError::SizeMismatch { fed: 10, total: 11 });
    }

    #[test]
    fn capture_skips_ranges_it_missed() {
        let mut capture = Capture::new(10, 4);
        capture.take(&[1, 2, 3], 20);
        assert!(capture.data().is_empty());
        capture.take(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 0);
        capture.take(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 0);
        assert_eq!(capture.data(), &[10, 11, 12]);
        capture.take(&[13, 14, 15], 13);
        assert_eq!(capture.data(), &[10, 11, 12, 13]);
        assert!(capture.is_complete());
    }

    #[test]
    fn tail_keeps_the_last_bytes() {
        let mut tail = Tail::default();
        for i in 0..5000u32 {
            tail.push(&[(i % 251) as u8]);
        }
        assert_eq!(tail.data().len(), TAIL_LEN);
        assert_eq!(tail.data()[TAIL_LEN - 1], (4999 % 251) as u8);
    }

    #[test]
    fn declared_format_must_match() {
        let qcow = Inspection {
            format: DiskFormat::Qcow2,
            virtual_size: 1,
        };
        let raw = Inspection {
            format: DiskFormat::Raw,
            virtual_size: 1,
        };
        let vhd = Inspection {
            format: DiskFormat::Vhd,
            virtual_size: 1,
        };
        assert!(check_declared("qcow2", &qcow).is_ok());
        assert!(check_declared("vpc", &vhd).is_ok());
        assert!(check_declared("vhd", &vhd).is_ok());
        assert!(matches!(
            check_declared("qcow2", &raw),
            Err(InspectError::FormatMismatch {
                detected: DiskFormat::Raw,
                ..
            })
        ));
        assert!(check_declared("vmdk", &qcow).is_err());
        assert!(check_declared("raw", &qcow).is_ok());
        assert!(check_declared("ami", &raw).is_ok());
        assert!(check_declared("ami", &qcow).is_err());
        assert_eq!(
            check_declared("floppy", &raw),
            Err(InspectError::UnknownDiskFormat("floppy".into()))
        );
    }

    #[test]
    fn raw_claim_records_the_byte_size() {
        let qcow = Inspection {
            format: DiskFormat::Qcow2,
            virtual_size: 1 << 30,
        };
        assert_eq!(recorded_virtual_size("raw", &qcow, 4096), 4096);
        assert_eq!(recorded_virtual_size("qcow2", &qcow, 4096), 1 << 30);
    }

    #[test]
    fn glance_names_round_trip() {
        for format in [
            DiskFormat::Raw,
            DiskFormat::Qcow2,
            DiskFormat::Vmdk,
            DiskFormat::Vhd,
            DiskFormat::Vhdx,
            DiskFormat::Vdi,
            DiskFormat::Iso,
        ] {
            assert_eq!(
                DiskFormat::from_glance_str(format.as_glance_str()),
                Some(format)
            );
        }
    }
}
