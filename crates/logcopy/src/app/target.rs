//! The target must be another mounted filesystem than the logs' (a missing
//! stick leaves an empty mount point on the SD card, and filling that is
//! what logcopy exists to prevent), with room for what is to come.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error(
        "{target} is on the same filesystem as {logs} (is the stick mounted? an empty mount point is on the SD card); nothing copied"
    )]
    SameFilesystem { target: PathBuf, logs: PathBuf },
    #[error("{0} does not exist, nor does any folder above it")]
    Missing(PathBuf),
    #[error("{target} has {free} bytes free, {need} are needed; nothing copied")]
    Space { target: PathBuf, free: u64, need: u64 },
}

/// The target or, when it is still to be made, the nearest folder above it.
fn existing(target: &Path) -> Option<&Path> {
    target.ancestors().find(|p| p.exists())
}

/// Checks the target against each source folder.
pub fn check(target: &Path, sources: &[&Path]) -> Result<(), Refused> {
    let at = existing(target).ok_or_else(|| Refused::Missing(target.to_path_buf()))?;
    let dev = std::fs::metadata(at).map(|m| m.dev()).map_err(|_| Refused::Missing(target.to_path_buf()))?;
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
