//! One han-log per directory: two writing the same day files would
//! interleave and duplicate readings (a second pipeline started by hand
//! beside the service). An advisory lock on `DIR/.han-log.lock`, held while
//! han-log runs; the file holds the holder's pid, for the message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Result, bail};
use fs4::FileExt;

/// The lock file's name in the log directory.
pub const NAME: &str = ".han-log.lock";

/// Takes the directory's lock. `Ok(None)`: it cannot be had for another
/// reason than another han-log (the directory not writable at start): this
/// han-log goes on without it, said on stderr, and does not try again.
pub fn take(dir: &Path) -> Result<Option<File>> {
    let path = dir.join(NAME);
    let opened = std::fs::create_dir_all(dir)
        .and_then(|()| OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path));
    let mut file = match opened {
        Ok(f) => f,
        Err(e) => {
            eprintln!("han-log: warning: cannot lock {}: {e}; going on without the lock", path.display());
            return Ok(None);
        }
    };
    match FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            file.read_to_string(&mut pid).ok();
            let who = match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            };
            bail!(
                "another han-log{who} is storing in {}: stop it first (systemctl stop han-tools), or give this one another --dir",
                dir.display()
            );
        }
        Err(fs4::TryLockError::Error(e)) => {
            eprintln!("han-log: warning: cannot lock {}: {e}; going on without the lock", path.display());
            return Ok(None);
        }
    }
    // Ours now: say who holds it.
    let said = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| writeln!(file, "{}", std::process::id()));
    if let Err(e) = said {
        eprintln!("han-log: warning: cannot write {}: {e}", path.display());
    }
    Ok(Some(file))
}
