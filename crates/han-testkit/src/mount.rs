//! A real second filesystem for tests: a small tmpfs (needs root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for a test, unmounted (lazily) on drop.
#[derive(Debug)]
pub struct Mount(pub PathBuf);

impl Mount {
    /// Mounts a tmpfs of `size` (`4m`) on `dir`; `None`, said loudly, where
    /// mounting is impossible (not root). It does not fail under CI: the
    /// caller decides.
    pub fn tmpfs(dir: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).expect("the mount point");
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir).output();
        match out {
            Ok(o) if o.status.success() => Some(Mount(dir.to_owned())),
            Ok(o) => {
                crate::loud(&format!(
                    "SKIPPED: cannot mount a tmpfs here (needs root): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
                None
            }
            Err(e) => {
                crate::loud(&format!("SKIPPED: no mount command: {e}"));
                None
            }
        }
    }

    /// `mount -o remount,HOW` (`ro`, `rw`); panics when it fails.
    pub fn remount(&self, how: &str) {
        let ok =
            Command::new("mount").args(["-o", &format!("remount,{how}")]).arg(&self.0).status().expect("mount runs");
        assert!(ok.success(), "remount {how}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        Command::new("umount").arg("-l").arg(&self.0).status().ok();
    }
}
