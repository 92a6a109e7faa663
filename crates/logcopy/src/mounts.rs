//! The mount table (`/proc/self/mountinfo`, else `/proc/mounts`) and
//! `/etc/fstab`, read from their text: which filesystem a path is on, and
//! where the stick is meant to be mounted. Pure: the binary reads the files.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A field of the mount table or fstab with its octal escapes (`\040` a
/// space, `\011` a tab, `\012` a newline, `\134` a backslash) decoded.
pub fn unescape(field: &[u8]) -> PathBuf {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while let Some(&b) = field.get(i) {
        let octal = field.get(i + 1..i + 4).filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal.map(|d| d.iter().fold(0u32, |n, c| n * 8 + u32::from(c - b'0'))) {
            Some(n) if n <= 0xff => {
                out.push(n as u8);
                i += 4;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(OsStr::from_bytes(&out))
}

/// The mount points of `/proc/self/mountinfo` (the fifth field), in order.
pub fn mountinfo(text: &[u8]) -> Vec<PathBuf> {
    field_of_lines(text, 4)
}

/// The mount points of `/proc/mounts` (the second field), in order.
pub fn proc_mounts(text: &[u8]) -> Vec<PathBuf> {
    field_of_lines(text, 1)
}

fn field_of_lines(text: &[u8], n: usize) -> Vec<PathBuf> {
    text.split(|b| *b == b'\n').filter_map(|l| fields(l).nth(n)).map(unescape).collect()
}

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| *b == b' ' || *b == b'\t').filter(|f| !f.is_empty())
}

/// An entry of `/etc/fstab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FstabEntry {
    /// What is mounted (`/dev/sda1`, `UUID=...`).
    pub spec: String,
    /// Where.
    pub mount_point: PathBuf,
    /// The filesystem type (`vfat`, `auto`).
    pub fstype: String,
}

/// The entries of an fstab (comments and short lines left out).
pub fn fstab(text: &[u8]) -> Vec<FstabEntry> {
    text.split(|b| *b == b'\n')
        .filter_map(|line| {
            let mut f = fields(line);
            let spec = f.next().filter(|s| !s.starts_with(b"#"))?;
            let (mount_point, fstype) = (f.next()?, f.next()?);
            Some(FstabEntry {
                spec: String::from_utf8_lossy(spec).into_owned(),
                mount_point: unescape(mount_point),
                fstype: String::from_utf8_lossy(fstype).into_owned(),
            })
        })
        .collect()
}

/// Filesystem types that are never the stick: swap, memory and the
/// kernel's own. A `/tmp` on tmpfs in fstab must not become the expected
/// mount point of a target under it.
const NOT_A_STICK: &[&str] =
    &["swap", "tmpfs", "ramfs", "proc", "sysfs", "devpts", "devtmpfs", "cgroup", "cgroup2", "securityfs", "debugfs"];

/// The fstab mount point a stick for `target` is meant to be mounted at:
/// the longest one (by whole path components) above or at `target`, but
/// `/` and the types in [`NOT_A_STICK`].
pub fn fstab_mount_point<'a>(target: &Path, entries: &'a [FstabEntry]) -> Option<&'a Path> {
    entries
        .iter()
        .filter(|e| e.mount_point != Path::new("/") && e.mount_point.is_absolute())
        .filter(|e| !NOT_A_STICK.contains(&e.fstype.as_str()))
        .map(|e| e.mount_point.as_path())
        .filter(|m| target.starts_with(m))
        .max_by_key(|m| m.components().count())
}

/// The mount point `path` is on: the longest one of `points` above or at
/// it, by whole path components (`/media/usb` is not above
/// `/media/usb2`). `path` must be canonical (absolute, no symlinks).
pub fn mount_of<'a>(path: &Path, points: &'a [PathBuf]) -> Option<&'a Path> {
    points.iter().map(PathBuf::as_path).filter(|m| path.starts_with(m)).max_by_key(|m| m.components().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &[u8] = b"\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 179:2 / / rw,noatime - ext4 /dev/mmcblk0p2 rw
25 27 0:23 / /var/lib/han-tools/log rw,relatime - tmpfs tmpfs rw,size=65536k
91 27 8:1 / /media/usb rw,relatime shared:1 - vfat /dev/sda1 rw,fmask=0022
92 27 8:17 / /media/my\\040stick rw,relatime - vfat /dev/sdb1 rw
";

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape(br"/media/my\040stick"), p("/media/my stick"));
        assert_eq!(unescape(br"/a\011b\012c\134d"), p("/a\tb\nc\\d"));
        assert_eq!(unescape(br"/a\04"), p(r"/a\04"), "cut short: as it is");
        assert_eq!(unescape(br"/a\9999"), p(r"/a\9999"));
    }

    #[test]
    fn the_mount_table_and_the_mount_of_a_path() {
        let points = mountinfo(MOUNTINFO);
        assert_eq!(points, [p("/proc"), p("/"), p("/var/lib/han-tools/log"), p("/media/usb"), p("/media/my stick")]);
        let on = |s: &str| mount_of(Path::new(s), &points).map(Path::to_path_buf);
        assert_eq!(on("/media/usb/meter"), Some(p("/media/usb")));
        assert_eq!(on("/media/usb"), Some(p("/media/usb")));
        assert_eq!(on("/media/usb2/meter"), Some(p("/")), "by whole components");
        assert_eq!(on("/media/my stick/x"), Some(p("/media/my stick")));
        assert_eq!(on("/var/lib/han-tools/log"), Some(p("/var/lib/han-tools/log")));
        assert_eq!(mount_of(Path::new("/x"), &[]), None);
        let old = b"/dev/root / ext4 rw,noatime 0 0\n/dev/sda1 /media/my\\040usb vfat rw 0 0\n";
        assert_eq!(proc_mounts(old), [p("/"), p("/media/my usb")]);
    }

    #[test]
    fn the_stick_s_mount_point_from_fstab() {
        let text = b"\
# <file system> <mount point> <type> <options> <dump> <pass>
proc            /proc           proc    defaults          0       0
PARTUUID=1234-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=1234-02  /               ext4    defaults,noatime  0       1
/dev/sda1	/media/usb	vfat	nofail,uid=han	0	0
tmpfs /tmp tmpfs defaults 0 0
/swapfile none swap sw 0 0
LABEL=big /media/usb/big\\040one ext4 nofail 0 0
short line
";
        let e = fstab(text);
        assert_eq!(e.len(), 7, "{e:?}");
        assert_eq!(
            e.get(3),
            Some(&FstabEntry { spec: "/dev/sda1".into(), mount_point: p("/media/usb"), fstype: "vfat".into() })
        );
        let at = |s: &str| fstab_mount_point(Path::new(s), &e).map(Path::to_path_buf);
        assert_eq!(at("/media/usb/meter"), Some(p("/media/usb")));
        assert_eq!(at("/media/usb/big one/meter"), Some(p("/media/usb/big one")), "the longest");
        assert_eq!(at("/media/usbx/meter"), None);
        assert_eq!(at("/home/han/meter"), None, "not /");
        assert_eq!(at("/tmp/stick/meter"), None, "not a tmpfs");
    }
}
