//! `--hexdump` and `--structure`: what a new meter sends, laid bare.

use std::fmt::Write as _;

use han::axdr::{Data, Tree, decode_into};
use han::{Framing, Hex, Seen};

/// Hex lines of 16 bytes, indented, with offsets.
fn hex_lines(out: &mut String, label: &str, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let name = if i == 0 { label } else { "" };
        let _ = writeln!(out, "  {name:<10} {:04X}: {}", i * 16, spaced(chunk));
    }
}

fn spaced(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" ")
}

/// An HDLC frame, field by field.
fn hdlc(out: &mut String, b: &[u8]) {
    let (Some(&f0), Some(&f1)) = (b.get(1), b.get(2)) else { return hex_lines(out, "bytes", b) };
    let len = (usize::from(f0 & 7) << 8) | usize::from(f1);
    let _ = writeln!(out, "HDLC frame, {} bytes", b.len() + 1);
    let _ = writeln!(out, "  flag       7E");
    let _ =
        writeln!(out, "  format     {f0:02X} {f1:02X}  (type {:X}, segmented {}, length {len})", f0 >> 4, f0 & 8 != 0);
    let addr =
        |from: usize| -> usize { (0..4).find(|i| b.get(from + i).is_some_and(|x| x & 1 == 1)).map_or(1, |i| i + 1) };
    let dl = addr(3);
    let sl = addr(3 + dl);
    let ctrl = 3 + dl + sl;
    let _ = writeln!(out, "  dst        {}", spaced(b.get(3..3 + dl).unwrap_or(&[])));
    let _ = writeln!(out, "  src        {}", spaced(b.get(3 + dl..ctrl).unwrap_or(&[])));
    let _ = writeln!(out, "  control    {:02X}", b.get(ctrl).copied().unwrap_or(0));
    let end = len.saturating_sub(1);
    if end > ctrl + 3 {
        let _ = writeln!(out, "  HCS        {}", spaced(b.get(ctrl + 1..ctrl + 3).unwrap_or(&[])));
        let info = b.get(ctrl + 3..end).unwrap_or(&[]);
        let (llc, payload) = if info.starts_with(&[0xE6, 0xE7, 0x00]) { info.split_at(3) } else { (&[][..], info) };
        if !llc.is_empty() {
            let _ = writeln!(out, "  LLC        {}", spaced(llc));
        }
        hex_lines(out, "payload", payload);
    }
    let _ = writeln!(out, "  FCS        {}", spaced(b.get(end..end + 2).unwrap_or(&[])));
    let _ = writeln!(out, "  flag       7E");
}

/// An M-Bus long frame, field by field.
fn mbus(out: &mut String, b: &[u8]) {
    let _ = writeln!(out, "M-Bus long frame, {} bytes", b.len());
    let _ = writeln!(out, "  start      {}", spaced(b.get(..4).unwrap_or(&[])));
    let _ = writeln!(out, "  C A CI     {}", spaced(b.get(4..7).unwrap_or(&[])));
    let _ = writeln!(out, "  TSAPs      {}", spaced(b.get(7..9).unwrap_or(&[])));
    hex_lines(out, "data", b.get(9..b.len().saturating_sub(2)).unwrap_or(&[]));
    let _ = writeln!(out, "  CS stop    {}", spaced(b.get(b.len().saturating_sub(2)..).unwrap_or(&[])));
}

/// A frame for `--hexdump`.
pub fn frame(framing: Framing, bytes: &[u8]) -> String {
    let mut out = String::new();
    match framing {
        Framing::Hdlc => hdlc(&mut out, bytes),
        Framing::Mbus => mbus(&mut out, bytes),
        Framing::Dsmr => {
            let _ = writeln!(out, "DSMR telegram, {} bytes", bytes.len());
            for line in String::from_utf8_lossy(bytes).lines() {
                let _ = writeln!(out, "  {}", line.escape_debug());
            }
        }
        Framing::Llc | Framing::Apdu | Framing::DsmrEncrypted => {
            let _ = writeln!(out, "{framing:?} message, {} bytes", bytes.len());
            hex_lines(&mut out, "bytes", bytes);
        }
    }
    out
}

/// What `--hexdump` prints for what the decoder saw.
pub fn hexdump(seen: Seen<'_>) -> Option<String> {
    match seen {
        Seen::Frame { framing, bytes } => Some(frame(framing, bytes)),
        Seen::Apdu(_) => None,
    }
}

/// What `--structure` prints: the A-XDR tree of each APDU with offsets and
/// types, and each DSMR telegram's lines.
pub fn structure(seen: Seen<'_>) -> Option<String> {
    match seen {
        Seen::Frame { framing: Framing::Dsmr, bytes } => Some(frame(Framing::Dsmr, bytes)),
        Seen::Frame { .. } => None,
        Seen::Apdu(apdu) => Some(apdu_tree(apdu)),
    }
}

fn apdu_tree(apdu: &[u8]) -> String {
    let mut out = String::new();
    let (Some(0x0F), Some(id)) = (apdu.first(), apdu.get(1..5)) else {
        let _ = writeln!(out, "APDU {:02X?}, {} bytes", apdu.first(), apdu.len());
        hex_lines(&mut out, "bytes", apdu);
        return out;
    };
    let _ = writeln!(out, "data-notification, {} bytes, invoke-id {}", apdu.len(), Hex(id));
    let body = match (apdu.get(5), apdu.get(6)) {
        (Some(0x00), _) => {
            let _ = writeln!(out, "  @0005 date-time: absent");
            6
        }
        (Some(0x0C), _) => {
            let _ = writeln!(out, "  @0005 date-time: {}", spaced(apdu.get(6..18).unwrap_or(&[])));
            18
        }
        _ => {
            let _ = writeln!(out, "  @0005 date-time (tagged): {}", spaced(apdu.get(7..19).unwrap_or(&[])));
            19
        }
    };
    let mut nodes = Vec::new();
    if let Err(e) = decode_into(apdu, body, &mut nodes) {
        let _ = writeln!(out, "  A-XDR error: {e}");
    }
    let tree = Tree { bytes: apdu, nodes: &nodes };
    let mut ends: Vec<u32> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        while ends.last().is_some_and(|&e| e as usize <= i) {
            ends.pop();
        }
        let pad = "  ".repeat(ends.len() + 1);
        let what = match n.data {
            Data::Octets(..) | Data::Visible(..) | Data::Utf8(..) | Data::DateTime(_) => {
                let b = tree.bytes_of(i).unwrap_or(&[]);
                let text = if !b.is_empty() && b.iter().all(|c| (0x20..0x7F).contains(c)) {
                    format!(" {:?}", String::from_utf8_lossy(b))
                } else if b.len() == 6 {
                    format!(" (OBIS {}-{}:{}.{}.{}.{})", b[0], b[1], b[2], b[3], b[4], b[5])
                } else {
                    String::new()
                };
                format!("{:?} {}{text}", n.data, spaced(b))
            }
            other => format!("{other:?}"),
        };
        let _ = writeln!(out, "{pad}tag {:02X} {what}", n.tag);
        if matches!(n.data, Data::Array(_) | Data::Structure(_)) {
            ends.push(n.end);
        }
    }
    out
}

/// Draft profiles for lists no profile describes, one per layout.
pub struct Drafts {
    profiles: han::profiles::MeterProfiles,
    seen: std::collections::HashSet<u64>,
}

impl Drafts {
    /// Drafts against the user's profiles (and the built-in ones).
    pub fn new(profiles: han::profiles::MeterProfiles) -> Drafts {
        Drafts { profiles, seen: std::collections::HashSet::new() }
    }

    /// The draft for a data-notification APDU the first time its layout
    /// comes, when no profile describes its list.
    pub fn of(&mut self, apdu: &[u8]) -> Option<String> {
        let d = han::profiles::draft(apdu, &self.profiles)?;
        if !self.seen.insert(d.layout) {
            return None;
        }
        let mut out = String::from("=> no meter profile describes this list; a draft to fill in and load with\n");
        out.push_str("   --meter-profile FILE (docs/profiles.md):\n\n");
        out.push_str(&d.text);
        out.push('\n');
        Some(out)
    }
}

/// Bytes of the input's start kept for [`no_frame`].
pub const HEAD: usize = 256;

/// What `--hexdump` and `--structure` print when an input of `total` bytes
/// held no frame at all: its first bytes (`head`) in hex and as text, so
/// that a file that is no capture shows what it is.
pub fn no_frame(head: &[u8], total: u64, skipped: u64) -> String {
    let mut out = String::new();
    let _ =
        writeln!(out, "=> no frame or telegram in {total} bytes ({skipped} skipped); the first {} bytes:", head.len());
    for (i, chunk) in head.chunks(16).enumerate() {
        let text: String = chunk.iter().map(|&c| if (0x20..0x7F).contains(&c) { char::from(c) } else { '.' }).collect();
        let _ = writeln!(out, "  {:04X}: {:<47}  |{text}|", i * 16, spaced(chunk));
    }
    out
}
