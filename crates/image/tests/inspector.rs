//! End-to-end checks of the image inspector through its public API: hand
//! built headers for every format, and (when `qemu-img` is installed) real
//! images made by QEMU, including the hostile ones from the 2024 advisories.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use monostack_image::inspect::{check_declared, DiskFormat, InspectError, Inspection, Inspector};

const GIB: u64 = 1 << 30;

fn inspect_chunked(data: &[u8], chunk: usize) -> Result<Inspection, InspectError> {
    let mut inspector = Inspector::new();
    data.chunks(chunk).for_each(|piece| inspector.feed(piece));
    inspector.finish(data.len() as u64)
}

/// Inspects with many chunkings and checks they all agree.
fn inspect(data: &[u8]) -> Result<Inspection, InspectError> {
    let whole = inspect_chunked(data, data.len().max(1));
    for chunk in [7, 511, 512, 4096, 65_537] {
        assert_eq!(inspect_chunked(data, chunk), whole, "chunk size {chunk}");
    }
    whole
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn qcow2_v3(size: u64) -> Vec<u8> {
    let mut image = vec![0u8; 3 * 65536];
    put(&mut image, 0, b"QFI\xfb");
    put(&mut image, 4, &3u32.to_be_bytes());
    put(&mut image, 20, &16u32.to_be_bytes());
    put(&mut image, 24, &size.to_be_bytes());
    put(&mut image, 96, &4u32.to_be_bytes());
    put(&mut image, 100, &112u32.to_be_bytes());
    image
}

fn vmdk_sparse(sectors: u64, extent: &str) -> Vec<u8> {
    let mut image = vec![0u8; 64 * 1024];
    put(&mut image, 0, b"KDMV");
    put(&mut image, 4, &1u32.to_le_bytes());
    put(&mut image, 12, &sectors.to_le_bytes());
    put(&mut image, 28, &1u64.to_le_bytes());
    put(&mut image, 36, &20u64.to_le_bytes());
    put(&mut image, 56, &21u64.to_le_bytes());
    let descriptor = format!(
        "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n\
         createType=\"monolithicSparse\"\n\n# Extent description\n{extent}\n\n\
         ddb.virtualHWVersion = \"4\"\n"
    );
    put(&mut image, 512, descriptor.as_bytes());
    image
}

fn vhd_dynamic(size: u64) -> Vec<u8> {
    let mut footer = vec![0u8; 512];
    put(&mut footer, 0, b"conectix");
    put(&mut footer, 48, &size.to_be_bytes());
    put(&mut footer, 60, &3u32.to_be_bytes());
    let mut image = footer.clone();
    image.extend_from_slice(&[0u8; 1024]);
    image.extend_from_slice(&footer);
    image
}

fn vdi(size: u64) -> Vec<u8> {
    let mut image = vec![0u8; 2048];
    put(&mut image, 0, b"<<< Oracle VM VirtualBox Disk Image >>>\n");
    put(&mut image, 64, &0xbeda_107fu32.to_le_bytes());
    put(&mut image, 68, &0x0001_0001u32.to_le_bytes());
    put(&mut image, 76, &1u32.to_le_bytes());
    put(&mut image, 368, &size.to_le_bytes());
    image
}

fn iso(blocks: u32) -> Vec<u8> {
    let mut image = vec![0u8; 40 * 2048];
    put(&mut image, 32768, b"\x01CD001\x01");
    put(&mut image, 32768 + 80, &blocks.to_le_bytes());
    put(&mut image, 32768 + 128, &2048u16.to_le_bytes());
    image
}

/// The GUIDs below are the MS-VHDX metadata region and virtual disk size
/// identifiers, in on-disk byte order.
fn vhdx(size: u64) -> Vec<u8> {
    let metadata_region = [
        0x06, 0xA2, 0x7C, 0x8B, 0x90, 0x47, 0x9A, 0x4B, 0xB8, 0xFE, 0x57, 0x5F, 0x05, 0x0F, 0x88,
        0x6E,
    ];
    let virtual_disk_size = [
        0x24, 0x42, 0xA5, 0x2F, 0x1B, 0xCD, 0x76, 0x48, 0xB2, 0x11, 0x5D, 0xBE, 0xD8, 0x3B, 0xF4,
        0xB8,
    ];
    let meta = 2 << 20;
    let mut image = vec![0u8; meta + 128 * 1024];
    put(&mut image, 0, b"vhdxfile");
    put(&mut image, 192 * 1024, b"regi");
    put(&mut image, 192 * 1024 + 8, &1u32.to_le_bytes());
    put(&mut image, 192 * 1024 + 16, &metadata_region);
    put(&mut image, 192 * 1024 + 32, &(meta as u64).to_le_bytes());
    put(&mut image, 192 * 1024 + 40, &(1u32 << 20).to_le_bytes());
    put(&mut image, meta, b"metadata");
    put(&mut image, meta + 10, &1u16.to_le_bytes());
    put(&mut image, meta + 32, &virtual_disk_size);
    put(&mut image, meta + 48, &65536u32.to_le_bytes());
    put(&mut image, meta + 52, &8u32.to_le_bytes());
    put(&mut image, meta + 65536, &size.to_le_bytes());
    image
}

fn found(format: DiskFormat, virtual_size: u64) -> Result<Inspection, InspectError> {
    Ok(Inspection {
        format,
        virtual_size,
    })
}

#[test]
fn hand_built_headers_of_every_format() {
    assert_eq!(inspect(&qcow2_v3(GIB)), found(DiskFormat::Qcow2, GIB));
    let vmdk = vmdk_sparse(2048, "RW 2048 SPARSE \"disk.vmdk\"");
    assert_eq!(inspect(&vmdk), found(DiskFormat::Vmdk, 2048 * 512));
    assert_eq!(inspect(&vhd_dynamic(GIB)), found(DiskFormat::Vhd, GIB));
    assert_eq!(inspect(&vhdx(5 * GIB)), found(DiskFormat::Vhdx, 5 * GIB));
    assert_eq!(inspect(&vdi(GIB)), found(DiskFormat::Vdi, GIB));
    assert_eq!(inspect(&iso(300)), found(DiskFormat::Iso, 300 * 2048));
    assert_eq!(inspect(&[0x42; 70_000]), found(DiskFormat::Raw, 70_000));
}

#[test]
fn one_byte_at_a_time_gives_the_same_result() {
    for image in [
        qcow2_v3(GIB),
        vmdk_sparse(8, "RW 8 SPARSE \"a.vmdk\""),
        iso(9),
    ] {
        assert_eq!(
            inspect_chunked(&image, 1),
            inspect_chunked(&image, image.len())
        );
    }
    let mut hostile = qcow2_v3(GIB);
    put(&mut hostile, 8, &120u64.to_be_bytes());
    put(&mut hostile, 16, &11u32.to_be_bytes());
    put(&mut hostile, 120, b"/etc/passwd");
    let err = Err(InspectError::BackingFile("/etc/passwd".into()));
    assert_eq!(inspect_chunked(&hostile, 1), err);
}

#[test]
fn qcow2_backing_file_is_refused() {
    let mut image = qcow2_v3(GIB);
    put(&mut image, 8, &120u64.to_be_bytes());
    put(&mut image, 16, &11u32.to_be_bytes());
    put(&mut image, 120, b"/etc/passwd");
    assert_eq!(
        inspect(&image),
        Err(InspectError::BackingFile("/etc/passwd".into()))
    );
}

#[test]
fn qcow2_data_file_is_refused() {
    let mut image = qcow2_v3(GIB);
    put(&mut image, 72, &4u64.to_be_bytes());
    assert_eq!(inspect(&image), Err(InspectError::ExternalDataFile));
}

#[test]
fn vmdk_external_extent_is_refused() {
    let image = vmdk_sparse(2048, "RW 2048 FLAT \"/etc/passwd\" 0");
    assert!(matches!(
        inspect(&image),
        Err(InspectError::VmdkExternalExtent(_))
    ));
}

#[test]
fn vmdk_descriptor_on_its_own_is_refused() {
    let text = "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\n\
                RW 2048 FLAT \"/etc/passwd\" 0\n";
    assert_eq!(
        inspect(text.as_bytes()),
        Err(InspectError::VmdkDescriptorOnly)
    );
}

#[test]
fn raw_file_declared_as_qcow2_is_refused() {
    let raw = inspect(&[0u8; 10_000]).unwrap();
    assert_eq!(
        check_declared("qcow2", &raw),
        Err(InspectError::FormatMismatch {
            declared: "qcow2".into(),
            detected: DiskFormat::Raw,
        })
    );
    assert!(check_declared("raw", &raw).is_ok());
}

#[test]
fn truncated_headers_are_errors_not_raw() {
    let cases = [
        (qcow2_v3(GIB)[..60].to_vec(), DiskFormat::Qcow2),
        (
            vmdk_sparse(8, "RW 8 SPARSE \"a.vmdk\"")[..700].to_vec(),
            DiskFormat::Vmdk,
        ),
        (vhd_dynamic(GIB)[..300].to_vec(), DiskFormat::Vhd),
        (vhdx(GIB)[..300_000].to_vec(), DiskFormat::Vhdx),
        (vdi(GIB)[..400].to_vec(), DiskFormat::Vdi),
        (iso(9)[..33_000].to_vec(), DiskFormat::Iso),
    ];
    for (image, format) in cases {
        assert!(
            matches!(inspect(&image), Err(InspectError::Truncated { format: f, .. }) if f == format),
            "{format}"
        );
    }
}

#[test]
fn an_iso_hiding_another_format_is_refused() {
    let mut image = iso(40);
    put(&mut image, 0, &qcow2_v3(GIB)[..112]);
    assert_eq!(
        inspect(&image),
        Err(InspectError::MultipleFormats(
            DiskFormat::Qcow2,
            DiskFormat::Iso
        ))
    );
}

// ---- real images made by qemu-img ----

/// Runs `qemu-img` with `args`; `None` (after one line saying so) when it
/// is not installed.
fn qemu_img(args: &[&str]) -> Option<String> {
    let output = match Command::new("qemu-img").args(args).output() {
        Ok(output) => output,
        Err(_) => {
            println!("skipping: qemu-img not found on PATH");
            return None;
        }
    };
    assert!(output.status.success(), "qemu-img {args:?}: {output:?}");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// QEMU's own idea of the virtual size, from `qemu-img info` told the
/// format (it would probe a fixed VHD as raw).
fn qemu_virtual_size(path: &Path, format: &str) -> u64 {
    let info = qemu_img(&["info", "-f", format, path.to_str().unwrap()]).unwrap();
    let line = info
        .lines()
        .find(|l| l.starts_with("virtual size:"))
        .unwrap();
    let bytes = line.split('(').nth(1).unwrap().split(' ').next().unwrap();
    bytes.parse().unwrap()
}

fn inspect_file(path: &Path) -> Result<Inspection, InspectError> {
    let mut file = File::open(path).unwrap();
    let mut inspector = Inspector::new();
    let mut buf = vec![0u8; 64 * 1024 + 3];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        inspector.feed(&buf[..n]);
        total += n as u64;
    }
    inspector.finish(total)
}

/// Creates `name` of `size` with `qemu-img create` and the given options;
/// `None` when qemu-img is missing.
fn create(dir: &Path, name: &str, opts: &[&str], size: &str) -> Option<PathBuf> {
    let path = dir.join(name);
    let mut args = vec!["create", "-q"];
    args.extend_from_slice(opts);
    args.extend([path.to_str().unwrap(), size]);
    qemu_img(&args)?;
    Some(path)
}

#[test]
fn qemu_images_of_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], DiskFormat); 9] = [
        ("a.qcow2", &["-f", "qcow2"], DiskFormat::Qcow2),
        (
            "b.qcow2",
            &["-f", "qcow2", "-o", "compat=0.10"],
            DiskFormat::Qcow2,
        ),
        (
            "c.qcow2",
            &["-f", "qcow2", "-o", "cluster_size=2M"],
            DiskFormat::Qcow2,
        ),
        ("d.vmdk", &["-f", "vmdk"], DiskFormat::Vmdk),
        (
            "e.vmdk",
            &["-f", "vmdk", "-o", "subformat=streamOptimized"],
            DiskFormat::Vmdk,
        ),
        ("f.vhd", &["-f", "vpc"], DiskFormat::Vhd),
        ("g.vhdx", &["-f", "vhdx"], DiskFormat::Vhdx),
        ("h.vdi", &["-f", "vdi"], DiskFormat::Vdi),
        ("i.raw", &["-f", "raw"], DiskFormat::Raw),
    ];
    for (name, opts, format) in cases {
        let Some(path) = create(dir.path(), name, opts, "1G") else {
            return;
        };
        let expected = found(format, qemu_virtual_size(&path, opts[1]));
        assert_eq!(inspect_file(&path), expected, "{name}");
    }
}

#[test]
fn qemu_fixed_vhd_is_found_by_its_footer() {
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = create(
        dir.path(),
        "fixed.vhd",
        &["-f", "vpc", "-o", "subformat=fixed"],
        "16M",
    ) else {
        return;
    };
    let expected = found(DiskFormat::Vhd, qemu_virtual_size(&path, "vpc"));
    assert_eq!(inspect_file(&path), expected);
}

#[test]
fn qemu_qcow2_backed_by_etc_passwd_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ["-f", "qcow2", "-b", "/etc/passwd", "-F", "raw"];
    let Some(path) = create(dir.path(), "evil.qcow2", &opts, "1G") else {
        return;
    };
    assert_eq!(
        inspect_file(&path),
        Err(InspectError::BackingFile("/etc/passwd".into()))
    );
    let bytes = std::fs::read(&path).unwrap();
    let one_by_one = inspect_chunked(&bytes, 1);
    assert_eq!(
        one_by_one,
        Err(InspectError::BackingFile("/etc/passwd".into()))
    );
}

#[test]
fn qemu_qcow2_with_a_data_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data_file = format!("data_file={}", dir.path().join("data.raw").display());
    let Some(path) = create(
        dir.path(),
        "evil.qcow2",
        &["-f", "qcow2", "-o", &data_file],
        "1G",
    ) else {
        return;
    };
    assert_eq!(inspect_file(&path), Err(InspectError::ExternalDataFile));
}

#[test]
fn qemu_vmdk_with_separate_extents_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ["-f", "vmdk", "-o", "subformat=monolithicFlat"];
    let Some(path) = create(dir.path(), "split.vmdk", &opts, "1G") else {
        return;
    };
    assert_eq!(inspect_file(&path), Err(InspectError::VmdkDescriptorOnly));
}
