//! Microsoft VHD (QEMU's "vpc").
//!
//! A VHD ends with a 512-byte big-endian footer: cookie `conectix` at 0,
//! current (virtual) size at 48, disk type at 60. Dynamic and differencing
//! disks also start with a copy of it, which is how they are recognised
//! (as QEMU and Glance do); a fixed disk is its raw data plus the footer.
//! A differencing disk reads through to a parent file, so it is refused.

use super::{be_u32, be_u64, malformed, require, DiskFormat, InspectError, Inspection};

const COOKIE: &[u8; 8] = b"conectix";
const FORMAT: DiskFormat = DiskFormat::Vhd;
const FOOTER_LEN: usize = 512;
const TYPE_FIXED: u32 = 2;
const TYPE_DYNAMIC: u32 = 3;
const TYPE_DIFFERENCING: u32 = 4;

pub(super) fn sniff(head: &[u8]) -> bool {
    head.starts_with(COOKIE)
}

/// Checks the footer copy at the start; returns the virtual size.
pub(super) fn inspect(head: &[u8], total: u64) -> Result<u64, InspectError> {
    require(FORMAT, head, FOOTER_LEN, total)?;
    match be_u32(head, 60) {
        Some(TYPE_FIXED | TYPE_DYNAMIC) => {}
        Some(TYPE_DIFFERENCING) => return Err(InspectError::ParentImage(FORMAT)),
        _ => return Err(malformed(FORMAT, "unknown disk type")),
    }
    be_u64(head, 48).ok_or_else(|| malformed(FORMAT, "footer too short"))
}

/// Recognises a fixed VHD by the footer in its last sector, when the
/// footer describes exactly the data in front of it.
pub(super) fn inspect_fixed(tail: &[u8], total: u64) -> Option<Inspection> {
    let footer = tail.get(tail.len().checked_sub(FOOTER_LEN)?..)?;
    let size = be_u64(footer, 48)?;
    let fixed = footer.starts_with(COOKIE) && be_u32(footer, 60) == Some(TYPE_FIXED);
    (fixed && total.checked_sub(FOOTER_LEN as u64) == Some(size)).then_some(Inspection {
        format: FORMAT,
        virtual_size: size,
    })
}

/// Hand-built VHD footers, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    pub fn footer(size: u64, disk_type: u32) -> [u8; 512] {
        let mut footer = [0u8; 512];
        footer[..8].copy_from_slice(super::COOKIE);
        footer[40..48].copy_from_slice(&size.to_be_bytes());
        footer[48..56].copy_from_slice(&size.to_be_bytes());
        footer[60..64].copy_from_slice(&disk_type.to_be_bytes());
        footer
    }

    /// A dynamic disk: footer copy, (empty) dynamic header, footer.
    pub fn dynamic(size: u64) -> Vec<u8> {
        let footer = footer(size, super::TYPE_DYNAMIC);
        let mut image = footer.to_vec();
        image.extend_from_slice(&[0u8; 1024]);
        image.extend_from_slice(&footer);
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_current_size() {
        let image = sample::dynamic(1 << 30);
        assert_eq!(inspect(&image, image.len() as u64), Ok(1 << 30));
    }

    #[test]
    fn refuses_differencing_disks() {
        let image = sample::footer(1 << 30, TYPE_DIFFERENCING);
        assert_eq!(inspect(&image, 512), Err(InspectError::ParentImage(FORMAT)));
    }

    #[test]
    fn truncated_footer_is_an_error() {
        let image = sample::dynamic(1 << 30);
        assert!(matches!(
            inspect(&image[..100], 100),
            Err(InspectError::Truncated {
                format: DiskFormat::Vhd,
                ..
            })
        ));
    }

    #[test]
    fn recognises_a_fixed_disk_by_its_last_sector() {
        let mut image = vec![7u8; 4096];
        image.extend_from_slice(&sample::footer(4096, TYPE_FIXED));
        let found = inspect_fixed(&image[image.len() - 1536..], image.len() as u64);
        assert_eq!(
            found,
            Some(Inspection {
                format: FORMAT,
                virtual_size: 4096
            })
        );
        assert_eq!(inspect_fixed(&image[image.len() - 1536..], 9999), None);
        assert_eq!(inspect_fixed(&[0u8; 1536], 1536), None);
    }
}
