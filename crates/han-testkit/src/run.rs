//! Running a workspace binary as its tests do: no config file from the
//! environment, stdin given or empty, stdout and stderr captured.

use std::ffi::OsStr;
use std::io::Write;
use std::process::{Child, Command, Output, Stdio};

/// A binary to run, built up call by call.
#[derive(Debug)]
pub struct Run {
    cmd: Command,
    input: Option<Vec<u8>>,
}

impl Run {
    /// `bin` without `HAN_TOOLS_CONFIG` (a test names its config, or has
    /// none), stdin empty, stdout and stderr captured.
    pub fn new(bin: impl AsRef<OsStr>) -> Run {
        let mut cmd = Command::new(bin);
        cmd.env_remove("HAN_TOOLS_CONFIG").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        Run { cmd, input: None }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Run {
        self.cmd.arg(a);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Run {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Run {
        self.cmd.env(k, v);
        self
    }

    /// These variables set (after any removed).
    pub fn envs(mut self, vars: &[(&str, &str)]) -> Run {
        self.cmd.envs(vars.iter().copied());
        self
    }

    pub fn env_remove(mut self, k: impl AsRef<OsStr>) -> Run {
        self.cmd.env_remove(k);
        self
    }

    /// `bytes` on stdin, then its end; `None` leaves stdin empty.
    pub fn stdin(mut self, bytes: Option<&[u8]>) -> Run {
        self.input = bytes.map(<[u8]>::to_vec);
        self
    }

    /// The command itself, for what the builder does not say.
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// Starts it; stdin as set, unless the caller's [`Run::command`] piped it.
    pub fn spawn(mut self) -> Child {
        if self.input.is_some() {
            self.cmd.stdin(Stdio::piped());
        }
        let mut child = self.cmd.spawn().unwrap_or_else(|e| panic!("{:?} runs: {e}", self.cmd.get_program()));
        if let Some(bytes) = self.input {
            let mut pipe = child.stdin.take().expect("stdin piped");
            // From a thread: a large input and a full stdout pipe would wait on each other.
            std::thread::spawn(move || pipe.write_all(&bytes));
        }
        child
    }

    /// Runs it to its end.
    pub fn output(self) -> Output {
        self.spawn().wait_with_output().expect("the binary ends")
    }
}

/// Output bytes as text (lossy).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
