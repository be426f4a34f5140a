//! VirtualBox VDI.
//!
//! A 512-byte little-endian header: a text pre-header (`<<< ... >>>`), the
//! signature 0xbeda107f at 64, version at 68 (QEMU reads only 1.1), image
//! type at 76 and disk size at 368. Recognised by the signature alone, as
//! QEMU does. Undo and differencing images depend on a parent image, so
//! only normal (dynamic) and fixed images are accepted.

use super::{le_u32, le_u64, malformed, require, DiskFormat, InspectError};

const SIGNATURE: u32 = 0xbeda_107f;
const FORMAT: DiskFormat = DiskFormat::Vdi;
const HEADER_LEN: usize = 512;
const VERSION_1_1: u32 = 0x0001_0001;
const TYPE_NORMAL: u32 = 1;
const TYPE_FIXED: u32 = 2;
const TYPE_UNDO: u32 = 3;
const TYPE_DIFF: u32 = 4;

pub(super) fn sniff(head: &[u8]) -> bool {
    le_u32(head, 64) == Some(SIGNATURE)
}

/// Checks the header; returns the virtual size.
pub(super) fn inspect(head: &[u8], total: u64) -> Result<u64, InspectError> {
    require(FORMAT, head, HEADER_LEN, total)?;
    if le_u32(head, 68) != Some(VERSION_1_1) {
        return Err(malformed(FORMAT, "unsupported header version"));
    }
    match le_u32(head, 76) {
        Some(TYPE_NORMAL | TYPE_FIXED) => {}
        Some(TYPE_UNDO | TYPE_DIFF) => return Err(InspectError::ParentImage(FORMAT)),
        _ => return Err(malformed(FORMAT, "unknown image type")),
    }
    le_u64(head, 368).ok_or_else(|| malformed(FORMAT, "header too short"))
}

/// Hand-built VDI headers, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    pub fn header(size: u64, image_type: u32) -> Vec<u8> {
        let mut image = vec![0u8; 1024];
        let text = b"<<< Oracle VM VirtualBox Disk Image >>>\n";
        image[..text.len()].copy_from_slice(text);
        image[64..68].copy_from_slice(&super::SIGNATURE.to_le_bytes());
        image[68..72].copy_from_slice(&super::VERSION_1_1.to_le_bytes());
        image[72..76].copy_from_slice(&400u32.to_le_bytes());
        image[76..80].copy_from_slice(&image_type.to_le_bytes());
        image[368..376].copy_from_slice(&size.to_le_bytes());
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_disk_size() {
        let image = sample::header(1 << 30, TYPE_NORMAL);
        assert!(sniff(&image));
        assert_eq!(inspect(&image, 1024), Ok(1 << 30));
    }

    #[test]
    fn refuses_differencing_images() {
        let image = sample::header(1 << 30, TYPE_DIFF);
        assert_eq!(
            inspect(&image, 1024),
            Err(InspectError::ParentImage(FORMAT))
        );
    }

    #[test]
    fn truncated_header_is_an_error() {
        let image = sample::header(1 << 30, TYPE_NORMAL);
        assert!(matches!(
            inspect(&image[..300], 300),
            Err(InspectError::Truncated {
                format: DiskFormat::Vdi,
                needed: 512,
                got: 300
            })
        ));
    }
}
