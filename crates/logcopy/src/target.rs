//! The target must be on a mounted filesystem of its own, the stick's: a
//! missing stick leaves an empty mount point on the SD card, and filling
//! that is what logcopy exists to prevent. It is looked up in the mount
//! table: the target's filesystem must be mounted where the stick is meant
//! to be (`--mount-point`, `mount_point`, else the stick's /etc/fstab
//! entry), or, when that is not known, anywhere but `/`. It must not be
//! the logs' (or prices') filesystem either, and must have room for what
//! is to come.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use logcopy::mounts;

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    NotMounted(Box<NotMounted>),
    #[error("cannot read the mount table (/proc/self/mountinfo, /proc/mounts): {0}; nothing copied")]
    NoMountTable(std::io::Error),
    #[error(
        "{target} is on the same filesystem as {logs}: copies there would fill the disk they are to free (is --to on the stick?); nothing copied"
    )]
    SameFilesystem { target: PathBuf, logs: PathBuf },
    #[error("{0} does not exist, nor does any folder above it")]
    Missing(PathBuf),
    #[error("{target} is not under the stick's mount point {mount_point} ({from}): it would never be on the stick")]
    NotUnder { target: PathBuf, mount_point: PathBuf, from: &'static str },
    #[error("{target} has {free} bytes free, {need} are needed; nothing copied")]
    Space { target: PathBuf, free: u64, need: u64 },
}

/// Where the stick is meant to be mounted, and who says so.
#[derive(Debug, Clone)]
pub struct Expected {
    pub at: PathBuf,
    /// `--mount-point`, `mount_point in [logcopy]` or the fstab file.
    pub from: String,
    /// Given by hand: the target's filesystem must be mounted exactly
    /// there. From fstab: there or deeper (something mounted below the
    /// stick's mount point is still not the SD card, and fstab's longest
    /// match may be a folder above the real mount, such as a `/srv` entry).
    pub exact: bool,
}

/// The target is not on a filesystem of its own.
#[derive(Debug)]
pub struct NotMounted {
    pub target: PathBuf,
    /// The mount point the target is on.
    pub on: PathBuf,
    pub expected: Option<Expected>,
    /// The target's deepest existing folder: the likely mount point.
    pub likely: PathBuf,
}

impl fmt::Display for NotMounted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = if self.on == Path::new("/") { " (the root filesystem)" } else { "" };
        write!(
            f,
            "{} is on {}{root}, not on a stick of its own: is the stick plugged in and mounted? ",
            self.target.display(),
            self.on.display()
        )?;
        match &self.expected {
            Some(e) => write!(f, "expected a filesystem mounted at {} ({})", e.at.display(), e.from)?,
            None => write!(
                f,
                "its mount point is likely {likely}: say which with --mount-point {likely} (or mount_point in [logcopy], or an /etc/fstab entry)",
                likely = self.likely.display()
            )?,
        }
        f.write_str("; nothing copied")
    }
}

/// The target or, when it is still to be made, the nearest folder above it.
fn existing(target: &Path) -> Option<&Path> {
    target.ancestors().find(|p| p.exists())
}

/// The mount points, from /proc/self/mountinfo, else /proc/mounts.
fn mount_table() -> Result<Vec<PathBuf>, Refused> {
    match std::fs::read("/proc/self/mountinfo") {
        Ok(text) => Ok(mounts::mountinfo(&text)),
        Err(_) => std::fs::read("/proc/mounts").map(|t| mounts::proc_mounts(&t)).map_err(Refused::NoMountTable),
    }
}

/// A path with its symlinks resolved where it exists.
fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Where the stick is meant to be mounted: `given` (the flag or the config
/// file, with its name), else the fstab entry above `target`, else none.
fn expected(target: &Path, given: Option<(&Path, &'static str)>, fstab: &Path) -> Option<Expected> {
    if let Some((at, from)) = given {
        let at = std::path::absolute(at).unwrap_or_else(|_| at.to_path_buf());
        return Some(Expected { at: canonical(&at), from: from.into(), exact: true });
    }
    // No fstab (or none readable): nothing expected, the `/` rule holds.
    let text = std::fs::read(fstab).ok()?;
    let entries: Vec<mounts::FstabEntry> = mounts::fstab(&text)
        .into_iter()
        .map(|mut e| {
            e.mount_point = canonical(&e.mount_point);
            e
        })
        .collect();
    let at = mounts::fstab_mount_point(target, &entries)?;
    Some(Expected { at: at.to_path_buf(), from: format!("its entry in {}", fstab.display()), exact: false })
}

/// Checks that the target is on a mounted filesystem of its own, that
/// (`mount_point`) is the stick's, and that it is none of the source folders'.
pub fn check(
    target: &Path,
    sources: &[&Path],
    mount_point: Option<(&Path, &'static str)>,
    fstab: &Path,
) -> Result<(), Refused> {
    let missing = || Refused::Missing(target.to_path_buf());
    let abs = std::path::absolute(target).map_err(|_| missing())?;
    let at = existing(&abs).ok_or_else(missing)?;
    let real_at = std::fs::canonicalize(at).map_err(|_| missing())?;
    let real = real_at.join(abs.strip_prefix(at).unwrap_or(Path::new("")));
    let expected = expected(&real, mount_point, fstab);
    if let Some(e) = expected.as_ref().filter(|e| e.exact && !real.starts_with(&e.at)) {
        return Err(Refused::NotUnder {
            target: target.to_path_buf(),
            mount_point: e.at.clone(),
            from: mount_point.map_or("", |m| m.1),
        });
    }
    let table = mount_table()?;
    let on = mounts::mount_of(&real_at, &table).unwrap_or(Path::new("/"));
    let mounted = match &expected {
        Some(e) if e.exact => on == e.at,
        Some(e) => on.starts_with(&e.at),
        None => on != Path::new("/"),
    };
    if !mounted {
        return Err(Refused::NotMounted(Box::new(NotMounted {
            target: target.to_path_buf(),
            on: on.to_path_buf(),
            expected,
            likely: at.to_path_buf(),
        })));
    }
    let dev = std::fs::metadata(at).map(|m| m.dev()).map_err(|_| missing())?;
    for s in sources {
        if std::fs::metadata(s).is_ok_and(|m| m.dev() == dev) {
            return Err(Refused::SameFilesystem { target: target.to_path_buf(), logs: s.to_path_buf() });
        }
    }
    Ok(())
}

/// Checks there is room for `need` bytes, and a margin.
pub fn room(target: &Path, need: u64) -> Result<(), Refused> {
    let at = existing(target).ok_or_else(|| Refused::Missing(target.to_path_buf()))?;
    let free = fs4::available_space(at).unwrap_or(0);
    // A margin for the directory entries and the filesystem's own needs.
    let need = need.saturating_add(1 << 20);
    if free < need {
        return Err(Refused::Space { target: target.to_path_buf(), free, need });
    }
    Ok(())
}
