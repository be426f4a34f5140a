//! ISO 9660 (CD/DVD images).
//!
//! The first 16 sectors of 2 KiB are free for boot code, so an ISO is
//! recognised by its first volume descriptor at 32 KiB: type byte, then
//! `CD001`. In the primary volume descriptor (type 1) the volume space size
//! is a both-endian u32 at 80 and the logical block size a both-endian u16
//! at 128; the little-endian halves are read.

use super::{le_u16, le_u32, malformed, require, DiskFormat, InspectError};

const FORMAT: DiskFormat = DiskFormat::Iso;
const DESCRIPTOR_START: usize = 16 * 2048;
/// End of the first volume descriptor: all of it is kept.
pub(super) const DESCRIPTOR_END: usize = DESCRIPTOR_START + 2048;
const STANDARD_ID: &[u8; 5] = b"CD001";
const TYPE_PRIMARY: u8 = 1;
const BLOCK_SIZES: [u16; 3] = [512, 1024, 2048];

fn sniff(head: &[u8]) -> bool {
    head.get(DESCRIPTOR_START + 1..DESCRIPTOR_START + 6) == Some(STANDARD_ID)
}

/// The virtual size if the upload is an ISO, `None` if it is not.
pub(super) fn inspect(head: &[u8], total: u64) -> Result<Option<u64>, InspectError> {
    if !sniff(head) {
        return Ok(None);
    }
    require(FORMAT, head, DESCRIPTOR_END, total)?;
    let descriptor = &head[DESCRIPTOR_START..DESCRIPTOR_END];
    if descriptor[0] != TYPE_PRIMARY {
        // Another descriptor comes first; the disc is then just its bytes.
        return Ok(Some(total));
    }
    let blocks = le_u32(descriptor, 80).unwrap_or_default();
    let block_size = le_u16(descriptor, 128).unwrap_or_default();
    if !BLOCK_SIZES.contains(&block_size) {
        return Err(malformed(FORMAT, "invalid logical block size"));
    }
    Ok(Some(u64::from(blocks) * u64::from(block_size)))
}

/// Hand-built ISO images, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    /// An ISO with a primary volume descriptor for `blocks` 2 KiB blocks,
    /// plus the terminator.
    pub fn image(blocks: u32) -> Vec<u8> {
        let mut image = vec![0u8; super::DESCRIPTOR_END + 2048];
        let pvd = &mut image[super::DESCRIPTOR_START..];
        pvd[0] = super::TYPE_PRIMARY;
        pvd[1..6].copy_from_slice(super::STANDARD_ID);
        pvd[6] = 1;
        pvd[80..84].copy_from_slice(&blocks.to_le_bytes());
        pvd[84..88].copy_from_slice(&blocks.to_be_bytes());
        pvd[128..130].copy_from_slice(&2048u16.to_le_bytes());
        pvd[130..132].copy_from_slice(&2048u16.to_be_bytes());
        let end = &mut image[super::DESCRIPTOR_END..];
        end[0] = 255;
        end[1..6].copy_from_slice(super::STANDARD_ID);
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_volume_size() {
        let image = sample::image(1000);
        assert_eq!(inspect(&image, image.len() as u64), Ok(Some(1000 * 2048)));
    }

    #[test]
    fn other_data_is_not_iso() {
        assert_eq!(inspect(&[0u8; 40_000], 40_000), Ok(None));
        assert_eq!(inspect(&[0u8; 10], 10), Ok(None));
    }

    #[test]
    fn truncated_descriptor_is_an_error() {
        let image = sample::image(1000);
        assert!(matches!(
            inspect(&image[..33_000], 33_000),
            Err(InspectError::Truncated {
                format: DiskFormat::Iso,
                ..
            })
        ));
    }

    #[test]
    fn bad_block_size_is_an_error() {
        let mut image = sample::image(1000);
        image[DESCRIPTOR_START + 128] = 3;
        assert!(matches!(
            inspect(&image, image.len() as u64),
            Err(InspectError::Malformed { .. })
        ));
    }
}
