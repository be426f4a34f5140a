//! Raw: anything no other inspector recognises.

use super::{DiskFormat, Inspection};

/// Declared formats whose payload cannot be inspected (kernel, ramdisk and
/// machine images for EC2-style boots, Virtuozzo ploop). Glance lets them
/// through as long as the bytes are not some recognised disk format.
const OPAQUE: [&str; 4] = ["ami", "aki", "ari", "ploop"];

/// A raw image is its own disk: the virtual size is the byte count.
pub(super) fn inspect(total: u64) -> Inspection {
    Inspection {
        format: DiskFormat::Raw,
        virtual_size: total,
    }
}

/// Whether `declared` is a format that is stored without inspection.
pub(super) fn is_opaque(declared: &str) -> bool {
    OPAQUE.contains(&declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_virtual_size_is_the_byte_count() {
        assert_eq!(inspect(1234).virtual_size, 1234);
        assert_eq!(inspect(1234).format, DiskFormat::Raw);
    }

    #[test]
    fn ami_family_is_opaque() {
        assert!(is_opaque("ami") && is_opaque("aki") && is_opaque("ari"));
        assert!(!is_opaque("raw") && !is_opaque("qcow2"));
    }
}
