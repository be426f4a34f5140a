//! QEMU copy-on-write v2/v3 (qcow2).
//!
//! Big-endian header facts, from QEMU's docs/interop/qcow2.txt: magic
//! `QFI\xfb` at 0, version at 4, backing file offset (u64) and name length
//! (u32) at 8 and 16, cluster bits at 20, virtual size at 24; version 3 adds
//! the incompatible feature bits at 72 and the header length at 100. Header
//! extensions (type u32, length u32, data padded to 8 bytes, type 0 ends
//! them) follow the header inside the first cluster.
//!
//! A qcow2 image can make QEMU read other host files through a backing file
//! or an external data file; both are refused, as are feature bits this
//! code does not know (they could change how the image is read).

use super::{be_u32, be_u64, malformed, require, DiskFormat, InspectError};

const MAGIC: &[u8; 4] = b"QFI\xfb";
const FORMAT: DiskFormat = DiskFormat::Qcow2;
/// Length of the version 2 header, where its extensions start.
const V2_HEADER_LEN: usize = 72;
/// Smallest valid version 3 header.
const V3_MIN_HEADER_LEN: usize = 104;
/// Valid cluster sizes are 512 bytes to 2 MiB.
const CLUSTER_BITS: std::ops::RangeInclusive<u32> = 9..=21;
/// Incompatible feature bit 2: guest data lives in an external file.
const FEATURE_DATA_FILE: u64 = 1 << 2;
/// Known incompatible features: dirty, corrupt, external data file,
/// compression type, extended L2 entries.
const KNOWN_FEATURES: u64 = 0b1_1111;
/// Header extension naming the external data file ("DATA").
const EXT_DATA_FILE: u32 = 0x4441_5441;
/// Longest backing file name worth quoting in an error.
const NAME_QUOTE_LEN: usize = 256;

/// The header fields the checks need.
struct Header {
    backing_offset: u64,
    backing_len: u32,
    cluster_len: usize,
    size: u64,
    features: u64,
    header_len: usize,
}

pub(super) fn sniff(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The first cluster holds the header and its extensions; keep all of it.
pub(super) fn head_len(head: &[u8]) -> usize {
    match be_u32(head, 20) {
        Some(bits) if CLUSTER_BITS.contains(&bits) => 1 << bits,
        _ => 0,
    }
}

/// Checks a qcow2 image is self-contained; returns its virtual size.
pub(super) fn inspect(head: &[u8], total: u64) -> Result<u64, InspectError> {
    let header = Header::parse(head, total)?;
    reject_backing_file(&header, head)?;
    reject_features(&header)?;
    reject_data_file_extension(&header, head, total)?;
    Ok(header.size)
}

impl Header {
    fn parse(head: &[u8], total: u64) -> Result<Header, InspectError> {
        require(FORMAT, head, 32, total)?;
        let field32 = |at| be_u32(head, at).unwrap_or_default();
        let field64 = |at| be_u64(head, at).unwrap_or_default();
        let version = field32(4);
        if !(2..=3).contains(&version) {
            return Err(InspectError::UnsupportedQcow2Version(version));
        }
        let bits = field32(20);
        if !CLUSTER_BITS.contains(&bits) {
            return Err(malformed(FORMAT, "cluster size out of range"));
        }
        let mut header = Header {
            backing_offset: field64(8),
            backing_len: field32(16),
            cluster_len: 1 << bits,
            size: field64(24),
            features: 0,
            header_len: V2_HEADER_LEN,
        };
        if version == 2 {
            require(FORMAT, head, V2_HEADER_LEN, total)?;
        } else {
            header.read_v3(head, total)?;
        }
        Ok(header)
    }

    fn read_v3(&mut self, head: &[u8], total: u64) -> Result<(), InspectError> {
        require(FORMAT, head, V3_MIN_HEADER_LEN, total)?;
        self.features = be_u64(head, 72).unwrap_or_default();
        self.header_len = be_u32(head, 100).unwrap_or_default() as usize;
        if self.header_len < V3_MIN_HEADER_LEN || self.header_len > self.cluster_len {
            return Err(malformed(FORMAT, "header length out of range"));
        }
        Ok(())
    }
}

/// A non-zero backing file offset makes QEMU open that file (e.g.
/// `/etc/passwd`) underneath the image.
fn reject_backing_file(header: &Header, head: &[u8]) -> Result<(), InspectError> {
    if header.backing_offset == 0 {
        return Ok(());
    }
    let name = usize::try_from(header.backing_offset)
        .ok()
        .and_then(|start| head.get(start..start.checked_add(header.backing_len as usize)?))
        .map(|bytes| {
            let text = String::from_utf8_lossy(bytes);
            text.chars().take(NAME_QUOTE_LEN).collect()
        })
        .unwrap_or_else(|| "<name outside the header cluster>".to_owned());
    Err(InspectError::BackingFile(name))
}

/// Version 3 feature bits: an external data file, or anything unknown.
fn reject_features(header: &Header) -> Result<(), InspectError> {
    if header.features & FEATURE_DATA_FILE != 0 {
        return Err(InspectError::ExternalDataFile);
    }
    let unknown = header.features & !KNOWN_FEATURES;
    if unknown != 0 {
        return Err(InspectError::UnknownFeatures(unknown));
    }
    Ok(())
}

/// Walks the header extensions in the first cluster; a data file name is
/// refused even without its feature bit, in case a reader honours it.
fn reject_data_file_extension(
    header: &Header,
    head: &[u8],
    total: u64,
) -> Result<(), InspectError> {
    let mut at = header.header_len;
    while at + 8 <= header.cluster_len {
        require(FORMAT, head, at + 8, total)?;
        let kind = be_u32(head, at).unwrap_or_default();
        let len = be_u32(head, at + 4).unwrap_or_default() as usize;
        match kind {
            0 => return Ok(()),
            EXT_DATA_FILE => return Err(InspectError::ExternalDataFile),
            _ => {}
        }
        at = len
            .checked_next_multiple_of(8)
            .and_then(|padded| (at + 8).checked_add(padded))
            .filter(|end| *end <= header.cluster_len)
            .ok_or_else(|| malformed(FORMAT, "header extension runs past the first cluster"))?;
    }
    Ok(())
}

/// Hand-built qcow2 headers, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    /// A version 3 image of `size` bytes with 512-byte clusters, padded to
    /// three clusters, with an empty extension list.
    pub fn v3(size: u64) -> Vec<u8> {
        with_cluster_bits(3, size, 9)
    }

    pub fn with_cluster_bits(version: u32, size: u64, bits: u32) -> Vec<u8> {
        let mut image = vec![0u8; 3 << bits];
        image[..4].copy_from_slice(super::MAGIC);
        image[4..8].copy_from_slice(&version.to_be_bytes());
        image[20..24].copy_from_slice(&bits.to_be_bytes());
        image[24..32].copy_from_slice(&size.to_be_bytes());
        if version == 3 {
            image[96..100].copy_from_slice(&4u32.to_be_bytes());
            image[100..104].copy_from_slice(&112u32.to_be_bytes());
        }
        image
    }

    /// Points the backing file at `name`, stored right after the header.
    pub fn set_backing(image: &mut [u8], name: &str) {
        let at = 112 + 8;
        image[8..16].copy_from_slice(&(at as u64).to_be_bytes());
        image[16..20].copy_from_slice(&(name.len() as u32).to_be_bytes());
        image[at..at + name.len()].copy_from_slice(name.as_bytes());
    }

    pub fn set_features(image: &mut [u8], features: u64) {
        image[72..80].copy_from_slice(&features.to_be_bytes());
    }

    /// Adds one header extension at the start of the extension area.
    pub fn add_extension(image: &mut [u8], kind: u32, data: &[u8]) {
        let at = 112;
        image[at..at + 4].copy_from_slice(&kind.to_be_bytes());
        image[at + 4..at + 8].copy_from_slice(&(data.len() as u32).to_be_bytes());
        image[at + 8..at + 8 + data.len()].copy_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_virtual_size() {
        let image = sample::v3(1 << 30);
        assert_eq!(inspect(&image, image.len() as u64), Ok(1 << 30));
        let image = sample::with_cluster_bits(2, 5 << 20, 16);
        assert_eq!(inspect(&image, image.len() as u64), Ok(5 << 20));
    }

    #[test]
    fn refuses_a_backing_file() {
        let mut image = sample::v3(1 << 30);
        sample::set_backing(&mut image, "/etc/passwd");
        assert_eq!(
            inspect(&image, image.len() as u64),
            Err(InspectError::BackingFile("/etc/passwd".into()))
        );
    }

    #[test]
    fn refuses_the_data_file_bit() {
        let mut image = sample::v3(1 << 30);
        sample::set_features(&mut image, FEATURE_DATA_FILE);
        assert_eq!(
            inspect(&image, image.len() as u64),
            Err(InspectError::ExternalDataFile)
        );
    }

    #[test]
    fn refuses_the_data_file_extension_alone() {
        let mut image = sample::v3(1 << 30);
        sample::add_extension(&mut image, EXT_DATA_FILE, b"/dev/sda");
        assert_eq!(
            inspect(&image, image.len() as u64),
            Err(InspectError::ExternalDataFile)
        );
    }

    #[test]
    fn skips_other_extensions() {
        let mut image = sample::v3(1 << 30);
        sample::add_extension(&mut image, 0xe279_2aca, b"raw");
        assert_eq!(inspect(&image, image.len() as u64), Ok(1 << 30));
    }

    #[test]
    fn refuses_an_extension_past_the_cluster() {
        let mut image = sample::v3(1 << 30);
        sample::add_extension(&mut image, 0x1234, b"");
        image[116..120].copy_from_slice(&4096u32.to_be_bytes());
        assert!(matches!(
            inspect(&image, image.len() as u64),
            Err(InspectError::Malformed { .. })
        ));
    }

    #[test]
    fn refuses_unknown_features_but_not_known_ones() {
        let mut image = sample::v3(1 << 30);
        sample::set_features(&mut image, 0b1_1011);
        assert_eq!(inspect(&image, image.len() as u64), Ok(1 << 30));
        sample::set_features(&mut image, 1 << 5);
        assert_eq!(
            inspect(&image, image.len() as u64),
            Err(InspectError::UnknownFeatures(1 << 5))
        );
    }

    #[test]
    fn refuses_other_versions() {
        let image = sample::with_cluster_bits(1, 1 << 20, 9);
        assert_eq!(
            inspect(&image, image.len() as u64),
            Err(InspectError::UnsupportedQcow2Version(1))
        );
    }

    #[test]
    fn truncated_header_is_an_error() {
        let image = sample::v3(1 << 30);
        assert!(matches!(
            inspect(&image[..50], 50),
            Err(InspectError::Truncated {
                format: DiskFormat::Qcow2,
                ..
            })
        ));
        assert!(matches!(
            inspect(&image[..4], 4),
            Err(InspectError::Truncated { needed: 32, .. })
        ));
    }

    #[test]
    fn keeps_the_whole_first_cluster() {
        let image = sample::with_cluster_bits(3, 1, 16);
        assert_eq!(head_len(&image), 65536);
        assert_eq!(head_len(&image[..10]), 0);
    }
}
