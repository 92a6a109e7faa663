//! A serial line for tests: a pty pair made by socat.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether socat is installed; if not, [`skip`](crate::skip) (a failure under CI).
pub fn socat_available() -> bool {
    crate::have("socat", &["-V"])
}

/// A pty pair ([`Pair::start`] within `deadline`) in a fresh temp folder
/// ([`Tmp::new`](crate::Tmp::new) of `prefix` and `name`), or `None`
/// without socat (said loudly; a failure under CI).
pub fn line(prefix: &str, name: &str, deadline: Duration) -> Option<(crate::Tmp, Pair)> {
    if !socat_available() {
        return None;
    }
    let tmp = crate::Tmp::new(prefix, name);
    let pair = Pair::start(tmp.path(), deadline);
    Some((tmp, pair))
}

/// A pty pair: the test writes the `meter` end, the tool under test opens
/// `port`. socat is killed on drop (or [`Pair::stop`]).
#[derive(Debug)]
pub struct Pair {
    socat: Child,
    /// The end the test writes, as a meter would.
    pub meter: PathBuf,
    /// The end the tool under test opens.
    pub port: PathBuf,
}

impl Pair {
    /// Starts socat with its two links `dir/meter` and `dir/port`, and
    /// waits up to `deadline` for them.
    pub fn start(dir: &Path, deadline: Duration) -> Pair {
        let (meter, port) = (dir.join("meter"), dir.join("port"));
        let socat = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", meter.display()))
            .arg(format!("pty,raw,echo=0,link={}", port.display()))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat starts");
        let pair = Pair { socat, meter, port };
        crate::wait_until("socat's ptys", deadline, || (pair.meter.exists() && pair.port.exists()).then_some(()));
        pair
    }

    /// The meter end, opened for writing.
    pub fn meter_end(&self) -> File {
        OpenOptions::new().write(true).open(&self.meter).expect("meter end opens")
    }

    /// Writes `bytes` into the meter end in small pieces, as a UART would.
    pub fn send(&self, bytes: &[u8]) {
        let mut f = self.meter_end();
        for c in bytes.chunks(64) {
            f.write_all(c).expect("written");
            f.flush().ok();
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills socat (the device vanishes).
    pub fn stop(self) {}
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.socat.kill().ok();
        self.socat.wait().ok();
    }
}
