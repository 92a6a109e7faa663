//! What INPUT names: a file, stdin, a serial device or TCP (the last two
//! live links, read through `han_serial::live`).

use std::path::Path;

use han_serial::live::Link;

/// What INPUT names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Stdin,
    File(String),
    Serial(String),
    Tcp(String),
}

impl Kind {
    pub fn of(input: Option<&str>) -> Kind {
        match input {
            None | Some("-") => Kind::Stdin,
            Some(s) if s.starts_with("tcp://") => Kind::Tcp(s.trim_start_matches("tcp://").to_owned()),
            Some(s) if is_device(Path::new(s)) => Kind::Serial(s.to_owned()),
            Some(s) => Kind::File(s.to_owned()),
        }
    }

    /// Live links are reopened when they drop; files and stdin end.
    pub fn is_live(&self) -> bool {
        matches!(self, Kind::Serial(_) | Kind::Tcp(_))
    }

    /// The live link, for a serial device or TCP.
    pub fn link(&self) -> Option<Link> {
        match self {
            Kind::Serial(p) => Some(Link::Serial(p.clone())),
            Kind::Tcp(a) => Some(Link::Tcp(a.clone())),
            Kind::Stdin | Kind::File(_) => None,
        }
    }
}

fn is_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(p) {
        Ok(m) => m.file_type().is_char_device(),
        // A device that is unplugged right now still names a device.
        Err(_) => p.starts_with("/dev/"),
    }
}
