//! Microsoft VHDX.
//!
//! Facts from the MS-VHDX specification: the file starts with the
//! identifier `vhdxfile`; the region table at 192 KiB (signature `regi`,
//! entry count u32 at 8, 32-byte entries from 16: GUID, file offset u64,
//! length u32) locates the metadata region, at least 1 MiB in. That region
//! starts with a 64 KiB table (signature `metadata`, entry count u16 at 10,
//! 32-byte entries from 32: GUID, offset u32 from the region start, length
//! u32) whose "Virtual Disk Size" item is a u64, stored at least 64 KiB
//! into the region. All little-endian.
//!
//! The metadata region can sit anywhere in the file, so it is captured as
//! it streams past. A differencing disk (one with a parent locator item)
//! reads through to another file and is refused.

use super::{le_u16, le_u32, le_u64, malformed, require, Capture, DiskFormat, InspectError};

const IDENTIFIER: &[u8; 8] = b"vhdxfile";
const FORMAT: DiskFormat = DiskFormat::Vhdx;
const REGION_TABLE_START: usize = 192 * 1024;
/// The head ends with the (64 KiB) region table.
pub(super) const HEAD_LEN: usize = REGION_TABLE_START + 64 * 1024;
const REGION_SIGNATURE: &[u8; 4] = b"regi";
const METADATA_SIGNATURE: &[u8; 8] = b"metadata";
/// Most entries a region or metadata table may have.
const MAX_ENTRIES: usize = 2047;
/// Regions may not overlap the header section.
const HEADER_SECTION_END: u64 = 1 << 20;
/// The metadata table; items live after it.
const TABLE_LEN: usize = 64 * 1024;
const ENTRY_LEN: usize = 32;

const METADATA_REGION: [u8; 16] = guid(
    0x8B7C_A206,
    0x4790,
    0x4B9A,
    [0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E],
);
const VIRTUAL_DISK_SIZE: [u8; 16] = guid(
    0x2FA5_4224,
    0xCD1B,
    0x4876,
    [0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4, 0xB8],
);
const PARENT_LOCATOR: [u8; 16] = guid(
    0xA8D3_5F2D,
    0xB30B,
    0x454D,
    [0xAB, 0xF7, 0xD3, 0xD8, 0x48, 0x34, 0xAB, 0x0C],
);

/// A GUID in its on-disk (mixed-endian) byte order.
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> [u8; 16] {
    let [a0, a1, a2, a3] = a.to_le_bytes();
    let [b0, b1] = b.to_le_bytes();
    let [c0, c1] = c.to_le_bytes();
    [
        a0, a1, a2, a3, b0, b1, c0, c1, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
    ]
}

pub(super) fn sniff(head: &[u8]) -> bool {
    head.starts_with(IDENTIFIER)
}

/// The metadata table and the virtual size item, captured while streaming.
#[derive(Debug, Default)]
pub(super) struct Follow {
    table: Option<Capture>,
    region_len: u64,
    item: Option<Capture>,
    failure: Option<InspectError>,
}

impl Follow {
    /// Called for every chunk once the head (with the region table) is
    /// complete; the first failure is kept for [`Follow::into_virtual_size`].
    pub(super) fn advance(&mut self, head: &[u8], chunk: &[u8], chunk_start: u64) {
        if self.failure.is_none() {
            if let Err(failure) = self.try_advance(head, chunk, chunk_start) {
                self.failure = Some(failure);
            }
        }
    }

    fn try_advance(&mut self, head: &[u8], chunk: &[u8], start: u64) -> Result<(), InspectError> {
        let table = match &mut self.table {
            Some(table) => table,
            None => {
                let (offset, len) = metadata_region(head)?;
                self.region_len = len;
                self.table.insert(Capture::new(offset, TABLE_LEN))
            }
        };
        table.take(chunk, start);
        if !table.is_complete() {
            return Ok(());
        }
        let item = match &mut self.item {
            Some(item) => item,
            None => self.item.insert(size_item(table, self.region_len)?),
        };
        item.take(chunk, start);
        Ok(())
    }

    /// The virtual size, once the whole upload went by.
    pub(super) fn into_virtual_size(self, head: &[u8], total: u64) -> Result<u64, InspectError> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        require(FORMAT, head, HEAD_LEN, total)?;
        let table = self
            .table
            .ok_or_else(|| malformed(FORMAT, "metadata region not found"))?;
        complete(&table, total)?;
        let item = self
            .item
            .ok_or_else(|| malformed(FORMAT, "virtual disk size not found"))?;
        complete(&item, total)?;
        le_u64(item.data(), 0).ok_or_else(|| malformed(FORMAT, "virtual disk size unreadable"))
    }
}

fn complete(capture: &Capture, total: u64) -> Result<(), InspectError> {
    if capture.is_complete() {
        return Ok(());
    }
    Err(InspectError::Truncated {
        format: FORMAT,
        needed: capture.start.saturating_add(capture.limit as u64),
        got: total,
    })
}

/// Finds the metadata region (offset and length) in the region table.
fn metadata_region(head: &[u8]) -> Result<(u64, u64), InspectError> {
    let table = head.get(REGION_TABLE_START..HEAD_LEN).unwrap_or_default();
    if !table.starts_with(REGION_SIGNATURE) {
        return Err(malformed(FORMAT, "region table signature missing"));
    }
    let entries = entries(table, le_u32(table, 8).unwrap_or_default() as usize, 16)?;
    let entry = entries
        .into_iter()
        .find(|entry| entry.starts_with(&METADATA_REGION))
        .ok_or_else(|| malformed(FORMAT, "no metadata region"))?;
    let offset = le_u64(entry, 16).unwrap_or_default();
    let len = u64::from(le_u32(entry, 24).unwrap_or_default());
    if offset < HEADER_SECTION_END || len < TABLE_LEN as u64 {
        return Err(malformed(FORMAT, "metadata region misplaced"));
    }
    Ok((offset, len))
}

/// Finds the virtual disk size item in the metadata table.
fn size_item(table: &Capture, region_len: u64) -> Result<Capture, InspectError> {
    let data = table.data();
    if !data.starts_with(METADATA_SIGNATURE) {
        return Err(malformed(FORMAT, "metadata table signature missing"));
    }
    let count = le_u16(data, 10).unwrap_or_default() as usize;
    let entries = entries(data, count, ENTRY_LEN)?;
    if entries
        .iter()
        .any(|entry| entry.starts_with(&PARENT_LOCATOR))
    {
        return Err(InspectError::ParentImage(FORMAT));
    }
    let entry = entries
        .into_iter()
        .find(|entry| entry.starts_with(&VIRTUAL_DISK_SIZE))
        .ok_or_else(|| malformed(FORMAT, "no virtual disk size item"))?;
    let offset = u64::from(le_u32(entry, 16).unwrap_or_default());
    let len = le_u32(entry, 20).unwrap_or_default();
    if len != 8 || offset < TABLE_LEN as u64 || offset + 8 > region_len {
        return Err(malformed(FORMAT, "virtual disk size item misplaced"));
    }
    Ok(Capture::new(table.start.saturating_add(offset), 8))
}

/// The `count` 32-byte entries of a table, starting at `first`.
fn entries(table: &[u8], count: usize, first: usize) -> Result<Vec<&[u8]>, InspectError> {
    if count > MAX_ENTRIES {
        return Err(malformed(FORMAT, "too many table entries"));
    }
    (0..count)
        .map(|i| table.get(first + i * ENTRY_LEN..first + (i + 1) * ENTRY_LEN))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed(FORMAT, "table entries overflow the table"))
}

/// Hand-built VHDX images, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    use super::*;

    /// Where the sample puts its metadata region.
    pub const METADATA_AT: usize = 1 << 20;

    /// A VHDX with its metadata region at 1 MiB holding the given items
    /// (GUID, value); the virtual disk size item comes first.
    pub fn image(size: u64) -> Vec<u8> {
        with_items(&[(VIRTUAL_DISK_SIZE, size)])
    }

    pub fn with_parent(size: u64) -> Vec<u8> {
        with_items(&[(VIRTUAL_DISK_SIZE, size), (PARENT_LOCATOR, 0)])
    }

    fn with_items(items: &[([u8; 16], u64)]) -> Vec<u8> {
        let mut image = vec![0u8; METADATA_AT + 2 * TABLE_LEN];
        image[..8].copy_from_slice(IDENTIFIER);
        let regions = &mut image[REGION_TABLE_START..];
        regions[..4].copy_from_slice(REGION_SIGNATURE);
        regions[8..12].copy_from_slice(&2u32.to_le_bytes());
        regions[16..32].fill(0x11); // some other region
        regions[48..64].copy_from_slice(&METADATA_REGION);
        regions[64..72].copy_from_slice(&(METADATA_AT as u64).to_le_bytes());
        regions[72..76].copy_from_slice(&(1u32 << 20).to_le_bytes());
        let metadata = &mut image[METADATA_AT..];
        metadata[..8].copy_from_slice(METADATA_SIGNATURE);
        metadata[10..12].copy_from_slice(&(items.len() as u16).to_le_bytes());
        for (i, (id, value)) in items.iter().enumerate() {
            let entry = &mut metadata[32 + i * 32..64 + i * 32];
            let at = TABLE_LEN + i * 8;
            entry[..16].copy_from_slice(id);
            entry[16..20].copy_from_slice(&(at as u32).to_le_bytes());
            entry[20..24].copy_from_slice(&8u32.to_le_bytes());
            metadata[at..at + 8].copy_from_slice(&value.to_le_bytes());
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Inspection, Inspector};
    use super::*;

    fn run(image: &[u8], chunk: usize) -> Result<Inspection, InspectError> {
        let mut inspector = Inspector::new();
        image.chunks(chunk).for_each(|piece| inspector.feed(piece));
        inspector.finish(image.len() as u64)
    }

    #[test]
    fn guids_use_the_on_disk_byte_order() {
        assert_eq!(&METADATA_REGION[..4], &[0x06, 0xA2, 0x7C, 0x8B]);
        assert_eq!(&METADATA_REGION[4..8], &[0x90, 0x47, 0x9A, 0x4B]);
        assert_eq!(
            &METADATA_REGION[8..],
            &[0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88, 0x6E]
        );
    }

    #[test]
    fn reads_the_virtual_size_whatever_the_chunking() {
        let image = sample::image(3 << 30);
        for chunk in [image.len(), 65536, 4096, 1000, 511] {
            let found = run(&image, chunk).unwrap();
            assert_eq!(
                found,
                Inspection {
                    format: FORMAT,
                    virtual_size: 3 << 30
                },
                "{chunk}"
            );
        }
    }

    #[test]
    fn refuses_a_parent_locator() {
        let image = sample::with_parent(1 << 30);
        assert_eq!(run(&image, 8192), Err(InspectError::ParentImage(FORMAT)));
    }

    #[test]
    fn truncated_metadata_is_an_error() {
        let image = sample::image(1 << 30);
        let cut = &image[..sample::METADATA_AT + 100];
        assert!(matches!(
            run(cut, 4096),
            Err(InspectError::Truncated { format: FORMAT, .. })
        ));
        let cut = &image[..100_000];
        assert!(matches!(
            run(cut, 4096),
            Err(InspectError::Truncated { needed, .. }) if needed == HEAD_LEN as u64
        ));
    }

    #[test]
    fn refuses_a_metadata_region_inside_the_header_section() {
        let mut image = sample::image(1 << 30);
        let at = REGION_TABLE_START + 64;
        image[at..at + 8].copy_from_slice(&65536u64.to_le_bytes());
        assert!(matches!(
            run(&image, 4096),
            Err(InspectError::Malformed { .. })
        ));
    }
}
