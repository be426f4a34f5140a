//! VMware VMDK, single-file sparse variants only.
//!
//! A hosted sparse extent starts with a little-endian header: magic `KDMV`,
//! version at 4, capacity in sectors at 12, descriptor sector and sector
//! count at 28 and 36, grain directory offset at 56. The descriptor is
//! text: `key="value"` fields, `ddb.*` entries, comments, and extent lines
//! `RW|RDONLY|NOACCESS <sectors> <TYPE> "<file>"`.
//!
//! A descriptor can name other host files: extents (flat or split
//! layouts, or a text descriptor uploaded on its own) and a parent
//! (`parentFileNameHint`, which QEMU finds anywhere in the text, comments
//! included). So only `monolithicSparse` and `streamOptimized` are allowed,
//! with exactly one sparse extent that is a bare file name (the image
//! itself), and no parent.

use super::{le_u32, le_u64, malformed, require, DiskFormat, InspectError};

const MAGIC: &[u8; 4] = b"KDMV";
const FORMAT: DiskFormat = DiskFormat::Vmdk;
const SECTOR: usize = 512;
/// Bytes of the sparse header the checks read.
const HEADER_LEN: usize = 64;
/// QEMU reads at most 1 MiB of embedded descriptor.
const DESC_MAX: usize = 1 << 20;
/// Grain directory offset meaning "the real header is in the footer".
const GD_AT_END: u64 = u64::MAX;
/// Marker type of the footer in a streamOptimized stream.
const MARKER_FOOTER: u32 = 3;
const ALLOWED_SUBFORMATS: [&str; 2] = ["monolithicSparse", "streamOptimized"];
const ACCESS_MODES: [&str; 3] = ["RW", "RDONLY", "NOACCESS"];
/// How much of an offending line to quote in an error.
const QUOTE_LEN: usize = 100;

/// The sparse header fields the checks need.
#[derive(Debug, PartialEq, Eq)]
struct SparseHeader {
    version: u32,
    capacity: u64,
    desc_sector: u64,
    desc_sectors: u64,
    gd_offset: u64,
}

impl SparseHeader {
    /// Reads a header at the start of `buf`; `None` without the magic.
    fn read(buf: &[u8]) -> Option<SparseHeader> {
        if !buf.starts_with(MAGIC) {
            return None;
        }
        Some(SparseHeader {
            version: le_u32(buf, 4)?,
            capacity: le_u64(buf, 12)?,
            desc_sector: le_u64(buf, 28)?,
            desc_sectors: le_u64(buf, 36)?,
            gd_offset: le_u64(buf, 56)?,
        })
    }

    fn desc_len(&self) -> usize {
        desc_len(self.desc_sectors)
    }
}

/// Length of an embedded descriptor, capped like QEMU caps it.
fn desc_len(sectors: u64) -> usize {
    let len = sectors.saturating_mul(SECTOR as u64);
    usize::try_from(len).map_or(DESC_MAX, |len| len.min(DESC_MAX))
}

pub(super) fn sniff(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The header sector and the embedded descriptor that follows it.
pub(super) fn head_len(head: &[u8]) -> usize {
    le_u64(head, 36).map_or(0, |sectors| SECTOR + desc_len(sectors))
}

/// Whether the upload looks like a text descriptor: printable text that
/// starts like one or sets a `createType`.
pub(super) fn looks_like_descriptor(head: &[u8]) -> bool {
    let text = until_nul(head);
    let start = &text[..text.len().min(64)];
    let printable = |b: &u8| b.is_ascii_graphic() || b.is_ascii_whitespace();
    if start.is_empty() || !start.iter().all(printable) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    lower.starts_with(b"# disk descriptorfile") || contains(&lower, b"createtype=")
}

/// Checks a sparse VMDK is self-contained; returns its virtual size.
pub(super) fn inspect(head: &[u8], tail: &[u8], total: u64) -> Result<u64, InspectError> {
    require(FORMAT, head, HEADER_LEN, total)?;
    let header = SparseHeader::read(head).ok_or_else(|| malformed(FORMAT, "no header"))?;
    validate_header(&header)?;
    if header.gd_offset == GD_AT_END {
        check_footer(&header, tail, total)?;
    }
    check_descriptor(descriptor(head, &header, total)?)?;
    header
        .capacity
        .checked_mul(SECTOR as u64)
        .ok_or_else(|| malformed(FORMAT, "capacity overflows"))
}

fn validate_header(header: &SparseHeader) -> Result<(), InspectError> {
    if !(1..=3).contains(&header.version) {
        return Err(malformed(FORMAT, "unsupported sparse header version"));
    }
    if header.desc_sector != 1 || header.desc_sectors == 0 {
        return Err(malformed(
            FORMAT,
            "embedded descriptor is not right after the header",
        ));
    }
    Ok(())
}

/// With the grain directory "at end", QEMU takes the header from the
/// footer, so the footer must agree with the header that was checked.
fn check_footer(header: &SparseHeader, tail: &[u8], total: u64) -> Result<(), InspectError> {
    require(FORMAT, tail, 3 * SECTOR, total)?;
    let (marker, rest) = tail.split_at(SECTOR);
    let (footer, end_of_stream) = rest.split_at(SECTOR);
    let marker_ok = le_u32(marker, 8) == Some(0)
        && le_u32(marker, 12) == Some(MARKER_FOOTER)
        && marker[16..].iter().all(|b| *b == 0);
    if !marker_ok || end_of_stream.iter().any(|b| *b != 0) {
        return Err(malformed(
            FORMAT,
            "footer or end-of-stream marker is invalid",
        ));
    }
    match SparseHeader::read(footer) {
        Some(found) if found.gd_offset != GD_AT_END && agrees(&found, header) => Ok(()),
        _ => Err(malformed(FORMAT, "footer header disagrees with the header")),
    }
}

fn agrees(footer: &SparseHeader, header: &SparseHeader) -> bool {
    footer.version == header.version
        && footer.capacity == header.capacity
        && footer.desc_sector == header.desc_sector
        && footer.desc_sectors == header.desc_sectors
}

/// The embedded descriptor text, up to its NUL padding.
fn descriptor<'a>(
    head: &'a [u8],
    header: &SparseHeader,
    total: u64,
) -> Result<&'a str, InspectError> {
    let end = SECTOR + header.desc_len();
    require(FORMAT, head, end, total)?;
    let text = until_nul(&head[SECTOR..end]);
    std::str::from_utf8(text)
        .ok()
        .filter(|text| text.is_ascii())
        .ok_or_else(|| InspectError::VmdkDescriptor("descriptor is not ASCII text".into()))
}

/// One descriptor line, as far as the checks care.
enum Line<'a> {
    Ignored,
    Extent,
    Field(&'a str, &'a str),
}

fn check_descriptor(text: &str) -> Result<(), InspectError> {
    if contains(text.to_ascii_lowercase().as_bytes(), b"parentfilenamehint") {
        return Err(InspectError::ParentImage(FORMAT));
    }
    let mut create_type = None;
    let mut extents = Vec::new();
    for line in text.lines().map(str::trim) {
        match classify(line)? {
            Line::Ignored => {}
            Line::Extent => extents.push(line),
            Line::Field(key, value) if key.eq_ignore_ascii_case("createType") => {
                create_type = Some(value.trim_matches('"'));
            }
            Line::Field(..) => {}
        }
    }
    check_create_type(create_type)?;
    match extents.as_slice() {
        [] => Err(InspectError::VmdkDescriptor("no extent".into())),
        [extent] => check_extent(extent),
        [_, second, ..] => Err(InspectError::VmdkExternalExtent(quote(second))),
    }
}

fn classify(line: &str) -> Result<Line<'_>, InspectError> {
    if line.is_empty() || line.starts_with('#') {
        return Ok(Line::Ignored);
    }
    let first = line.split_whitespace().next().unwrap_or_default();
    if ACCESS_MODES
        .iter()
        .any(|mode| first.eq_ignore_ascii_case(mode))
    {
        return Ok(Line::Extent);
    }
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("ddb."))
    {
        return Ok(Line::Ignored);
    }
    match line.split_once('=') {
        Some((key, value)) if is_word(key.trim()) => Ok(Line::Field(key.trim(), value.trim())),
        _ => Err(InspectError::VmdkDescriptor(format!(
            "unrecognised line {:?}",
            quote(line)
        ))),
    }
}

fn check_create_type(create_type: Option<&str>) -> Result<(), InspectError> {
    let create_type =
        create_type.ok_or_else(|| InspectError::VmdkDescriptor("no createType".into()))?;
    if ALLOWED_SUBFORMATS
        .iter()
        .any(|allowed| create_type.eq_ignore_ascii_case(allowed))
    {
        return Ok(());
    }
    Err(InspectError::VmdkSubformat(quote(create_type)))
}

/// The single extent must be the sparse image itself: type SPARSE and a
/// bare file name (the name it had when it was created).
fn check_extent(line: &str) -> Result<(), InspectError> {
    let (_access, rest) = split_token(line);
    let (sectors, rest) = split_token(rest);
    let (kind, rest) = split_token(rest);
    if sectors.is_empty() || !sectors.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InspectError::VmdkDescriptor(format!(
            "bad extent size in {:?}",
            quote(line)
        )));
    }
    let name = rest
        .trim()
        .strip_prefix('"')
        .and_then(|name| name.strip_suffix('"'))
        .unwrap_or_default();
    let bare = !name.is_empty() && !name.contains(['"', '/', '\\']);
    if kind.eq_ignore_ascii_case("SPARSE") && bare {
        return Ok(());
    }
    Err(InspectError::VmdkExternalExtent(quote(line)))
}

fn split_token(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    text.split_at(text.find(char::is_whitespace).unwrap_or(text.len()))
}

fn is_word(text: &str) -> bool {
    !text.is_empty() && !text.contains(char::is_whitespace)
}

fn until_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn quote(text: &str) -> String {
    text.chars().take(QUOTE_LEN).collect()
}

/// Hand-built sparse VMDKs, shared with the other modules' tests.
#[cfg(test)]
pub(super) mod sample {
    /// Descriptor sectors, as QEMU writes them.
    const DESC_SECTORS: usize = 20;

    pub fn descriptor(create_type: &str, extent: &str) -> String {
        format!(
            "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
             createType=\"{create_type}\"\n\n# Extent description\n{extent}\n\n\
             # The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\n\
             ddb.adapterType = \"ide\"\n"
        )
    }

    pub fn monolithic(sectors: u64) -> Vec<u8> {
        let extent = format!("RW {sectors} SPARSE \"disk.vmdk\"");
        sparse(sectors, &descriptor("monolithicSparse", &extent))
    }

    /// A sparse header plus `descriptor`, padded by a few grains' worth.
    pub fn sparse(sectors: u64, descriptor: &str) -> Vec<u8> {
        let mut image = vec![0u8; (2 + DESC_SECTORS) * 512];
        image[..64].copy_from_slice(&header(sectors, 21));
        image[512..512 + descriptor.len()].copy_from_slice(descriptor.as_bytes());
        image
    }

    /// A 64-byte sparse header (version 1, descriptor at sector 1).
    pub fn header(sectors: u64, gd_offset: u64) -> [u8; 64] {
        let mut header = [0u8; 64];
        header[..4].copy_from_slice(b"KDMV");
        header[4..8].copy_from_slice(&1u32.to_le_bytes());
        header[12..20].copy_from_slice(&sectors.to_le_bytes());
        header[20..28].copy_from_slice(&128u64.to_le_bytes());
        header[28..36].copy_from_slice(&1u64.to_le_bytes());
        header[36..44].copy_from_slice(&(DESC_SECTORS as u64).to_le_bytes());
        header[56..64].copy_from_slice(&gd_offset.to_le_bytes());
        header
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(image: &[u8]) -> Result<u64, InspectError> {
        let tail = &image[image.len().saturating_sub(3 * SECTOR)..];
        inspect(image, tail, image.len() as u64)
    }

    #[test]
    fn reads_the_capacity() {
        assert_eq!(run(&sample::monolithic(2048)), Ok(2048 * 512));
    }

    #[test]
    fn refuses_an_extent_naming_another_file() {
        let desc = sample::descriptor("monolithicSparse", "RW 2048 SPARSE \"/etc/passwd\"");
        assert!(matches!(
            run(&sample::sparse(2048, &desc)),
            Err(InspectError::VmdkExternalExtent(_))
        ));
    }

    #[test]
    fn refuses_flat_extents_and_extra_extents() {
        let flat = sample::descriptor("monolithicSparse", "RW 2048 FLAT \"disk-flat.vmdk\" 0");
        assert!(matches!(
            run(&sample::sparse(2048, &flat)),
            Err(InspectError::VmdkExternalExtent(_))
        ));
        let two = sample::descriptor(
            "monolithicSparse",
            "RW 2048 SPARSE \"disk.vmdk\"\nRDONLY 2048 SPARSE \"other.vmdk\"",
        );
        assert!(matches!(
            run(&sample::sparse(2048, &two)),
            Err(InspectError::VmdkExternalExtent(_))
        ));
    }

    #[test]
    fn refuses_other_subformats() {
        let desc = sample::descriptor("monolithicFlat", "RW 2048 FLAT \"disk-flat.vmdk\" 0");
        assert_eq!(
            run(&sample::sparse(2048, &desc)),
            Err(InspectError::VmdkSubformat("monolithicFlat".into()))
        );
        let stream = sample::descriptor("streamOptimized", "RW 2048 SPARSE \"s.vmdk\"");
        assert_eq!(run(&sample::sparse(2048, &stream)), Ok(2048 * 512));
    }

    #[test]
    fn refuses_a_parent_hint_even_in_a_comment() {
        let extent = "RW 2048 SPARSE \"disk.vmdk\"\n# parentFileNameHint=\"/etc/shadow\"";
        let desc = sample::descriptor("monolithicSparse", extent);
        assert_eq!(
            run(&sample::sparse(2048, &desc)),
            Err(InspectError::ParentImage(DiskFormat::Vmdk))
        );
    }

    #[test]
    fn refuses_unknown_lines() {
        let desc = sample::descriptor(
            "monolithicSparse",
            "RW 2048 SPARSE \"disk.vmdk\"\nwhat is this",
        );
        assert!(matches!(
            run(&sample::sparse(2048, &desc)),
            Err(InspectError::VmdkDescriptor(_))
        ));
    }

    #[test]
    fn truncated_descriptor_is_an_error() {
        let image = sample::monolithic(2048);
        assert!(matches!(
            run(&image[..1000]),
            Err(InspectError::Truncated {
                format: DiskFormat::Vmdk,
                ..
            })
        ));
        assert!(matches!(
            run(&image[..20]),
            Err(InspectError::Truncated { needed: 64, .. })
        ));
    }

    #[test]
    fn footer_must_agree_with_the_header() {
        let mut image = sample::sparse(
            2048,
            &sample::descriptor("streamOptimized", "RW 2048 SPARSE \"s.vmdk\""),
        );
        image[56..64].copy_from_slice(&GD_AT_END.to_le_bytes());
        let mut marker = [0u8; 512];
        marker[12..16].copy_from_slice(&MARKER_FOOTER.to_le_bytes());
        let mut footer = [0u8; 512];
        footer[..64].copy_from_slice(&sample::header(2048, 7));
        image.extend_from_slice(&marker);
        image.extend_from_slice(&footer);
        image.extend_from_slice(&[0u8; 512]);
        assert_eq!(run(&image), Ok(2048 * 512));
        let at = image.len() - 1024 + 12;
        image[at..at + 8].copy_from_slice(&4096u64.to_le_bytes());
        assert!(matches!(run(&image), Err(InspectError::Malformed { .. })));
    }

    #[test]
    fn text_descriptors_are_recognised() {
        let desc = sample::descriptor("monolithicFlat", "RW 2048 FLAT \"/etc/passwd\" 0");
        assert!(looks_like_descriptor(desc.as_bytes()));
        assert!(looks_like_descriptor(b"version=1\ncreateType=\"vmfs\"\n"));
        assert!(!looks_like_descriptor(b"just some text"));
        assert!(!looks_like_descriptor(&sample::monolithic(8)));
    }
}
