//! What han-bridge says on stderr: one line each, its name in front.

/// Where messages go; `quiet` silences the notes, not the warnings.
#[derive(Debug, Clone, Copy)]
pub struct Notes {
    pub quiet: bool,
}

impl Notes {
    /// A fact worth a line (a client came, the port opened).
    pub fn note(self, msg: &str) {
        if !self.quiet {
            eprintln!("han-bridge: {msg}");
        }
    }

    /// Something wrong that han-bridge works around (a client dropped).
    pub fn warn(self, msg: &str) {
        eprintln!("han-bridge: {msg}");
    }
}

impl han_serial::live::Say for Notes {
    fn note(&mut self, msg: &str) {
        Notes::note(*self, msg);
    }

    fn warn(&mut self, msg: &str) {
        Notes::warn(*self, msg);
    }
}
