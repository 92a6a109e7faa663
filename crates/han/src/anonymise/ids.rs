//! What an id is, and how one is rewritten: a keyed hash of the original
//! mapped into the same characters, so the result has the same length and
//! shape, the same id always gives the same result, and never itself.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};

use crate::dlms::axdr::{self, Data, Node, Tree};
use crate::reading::Reading;
use crate::reading::obis::Obis;
use crate::reading::value::Value;

/// The COSEM logical device name, which opens with the maker's FLAG id.
const DEVICE_NAME: (u8, u8, u8, u8) = (0, 42, 0, 0);

/// Whether an object of this code names the meter or a meter on its bus:
/// the device ids `0-n:96.1.x` but `96.1.4` (the Belgian e-MUCS version)
/// and `96.1.7` (the meter type of the Norwegian lists), the electricity
/// ids `1-n:0.0.x` (Kamstrup's meter id `1-1:0.0.5`, DSMR `1-0:0.0.0`), and
/// the logical device name `0-0:42.0.0`.
pub fn is_id_code(code: Obis) -> bool {
    let [a, _, c, d, e, _] = code.0;
    match (a, c, d) {
        (0, 96, 1) => e != 4 && e != 7,
        (0 | 1, 0, 0) => true,
        _ => (a, c, d, e) == DEVICE_NAME,
    }
}

/// Whether a code is the logical device name, whose FLAG id is kept.
fn is_device_name(code: Obis) -> bool {
    let [a, _, c, d, e, _] = code.0;
    (a, c, d, e) == DEVICE_NAME
}

/// Domains of the keyed hash, so text, hex and binary of the same bytes
/// are told apart where they must be.
#[derive(Copy, Clone)]
enum Domain {
    Text = 1,
    Hex = 2,
    Bytes = 3,
}

/// The keyed hash: AES-128 under the run's secret, as a CBC-MAC of the id
/// (its length first) and then as a counter-mode stream from that MAC.
pub(crate) struct Mapper {
    aes: Aes128,
}

impl std::fmt::Debug for Mapper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.write_str("Mapper")
    }
}

/// Random numbers drawn from the keyed stream of one id.
struct Draw<'a> {
    aes: &'a Aes128,
    seed: [u8; 16],
    block: [u8; 16],
    used: usize,
    counter: u32,
}

impl Draw<'_> {
    fn next_u16(&mut self) -> u16 {
        if self.used + 2 > self.block.len() {
            let mut b = self.seed;
            for (x, c) in b.iter_mut().zip(self.counter.to_be_bytes()) {
                *x ^= c;
            }
            self.counter = self.counter.wrapping_add(1);
            let mut ga = GenericArray::from(b);
            self.aes.encrypt_block(&mut ga);
            self.block.copy_from_slice(&ga);
            self.used = 0;
        }
        let v = u16::from_be_bytes([
            self.block.get(self.used).copied().unwrap_or(0),
            self.block.get(self.used + 1).copied().unwrap_or(0),
        ]);
        self.used += 2;
        v
    }

    /// A number below `n` (n > 0; the bias of 65536 mod n is negligible).
    fn below(&mut self, n: u16) -> u16 {
        self.next_u16() % n.max(1)
    }
}

/// The alphabet a character is drawn from.
fn pick(c: u8, hex: bool, d: &mut Draw<'_>) -> u8 {
    let from = |base: u8, n: u16, d: &mut Draw<'_>| base.wrapping_add(u8::try_from(d.below(n)).unwrap_or(0));
    match c {
        b'0'..=b'9' => from(b'0', 10, d),
        b'a'..=b'f' if hex => from(b'a', 6, d),
        b'A'..=b'F' if hex => from(b'A', 6, d),
        b'a'..=b'z' if !hex => from(b'a', 26, d),
        b'A'..=b'Z' if !hex => from(b'A', 26, d),
        _ => c,
    }
}

/// Whether a byte can change in text: letters and digits (punctuation and
/// spaces are kept, they are separators, not the id).
fn changeable(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Printable ASCII.
fn printable(c: u8) -> bool {
    (0x20..0x7F).contains(&c)
}

impl Mapper {
    pub(crate) fn new(secret: [u8; 16]) -> Mapper {
        Mapper { aes: Aes128::new(GenericArray::from_slice(&secret)) }
    }

    fn draw(&self, domain: Domain, round: u8, data: &[u8]) -> Draw<'_> {
        let mut state = [0u8; 16];
        let mut first = [0u8; 16];
        first[..8].copy_from_slice(&(data.len() as u64).to_be_bytes());
        first[8] = domain as u8;
        first[9] = round;
        let mut absorb = |block: &[u8]| {
            for (s, b) in state.iter_mut().zip(block) {
                *s ^= b;
            }
            let mut ga = GenericArray::from(state);
            self.aes.encrypt_block(&mut ga);
            state.copy_from_slice(&ga);
        };
        absorb(&first);
        for chunk in data.chunks(16) {
            absorb(chunk);
        }
        Draw { aes: &self.aes, seed: state, block: [0; 16], used: 16, counter: 0 }
    }

    /// Draws until the result differs from the original; the original
    /// when nothing in it can change.
    fn until_new(
        &self,
        orig: &[u8],
        domain: Domain,
        can: impl Fn(u8) -> bool,
        one: impl Fn(u8, &mut Draw<'_>) -> u8,
    ) -> Vec<u8> {
        self.until_new_and(orig, domain, can, one, |_| true)
    }

    /// [`Self::until_new`], and until the result is `fit`.
    fn until_new_and(
        &self,
        orig: &[u8],
        domain: Domain,
        can: impl Fn(u8) -> bool,
        one: impl Fn(u8, &mut Draw<'_>) -> u8,
        fit: impl Fn(&[u8]) -> bool,
    ) -> Vec<u8> {
        if !orig.iter().any(|c| can(*c)) {
            return orig.to_vec();
        }
        for round in 0..=u8::MAX {
            let mut d = self.draw(domain, round, orig);
            let out: Vec<u8> = orig.iter().map(|&c| if can(c) { one(c, &mut d) } else { c }).collect();
            if out != orig && fit(&out) {
                return out;
            }
        }
        // 256 draws that all gave the original back: flip the first
        // changeable character to its neighbour in its class.
        let mut out = orig.to_vec();
        if let Some(c) = out.iter_mut().find(|c| can(**c)) {
            *c = match *c {
                b'9' => b'0',
                b'z' => b'a',
                b'Z' => b'A',
                x if x.is_ascii_alphanumeric() => x + 1,
                x => x ^ 0x01,
            };
        }
        out
    }

    /// Text: digits stay digits, letters letters of the same case, the rest
    /// as it is; the first `keep` characters are kept.
    pub(crate) fn text(&self, orig: &[u8], keep: usize) -> Vec<u8> {
        let (head, tail) = orig.split_at(keep.min(orig.len()));
        let mut out = head.to_vec();
        out.extend(self.until_new(tail, Domain::Text, changeable, |c, d| pick(c, false, d)));
        out
    }

    /// Hex text: digits stay digits, `a-f` and `A-F` stay so; hex that
    /// stands for no text stays so (a DSMR value does not gain a text).
    pub(crate) fn hex(&self, orig: &[u8]) -> Vec<u8> {
        let texty = hex_text(orig).is_some();
        let fit = |out: &[u8]| hex_text(out).is_some() == texty;
        self.until_new_and(orig, Domain::Hex, |c| c.is_ascii_hexdigit(), |c, d| pick(c, true, d), fit)
    }

    /// Binary: printable bytes as text, the others stay unprintable (so a
    /// value printed as text stays text, and hex stays hex).
    pub(crate) fn bytes(&self, orig: &[u8]) -> Vec<u8> {
        self.until_new(
            orig,
            Domain::Bytes,
            |_| true,
            |c, d| {
                if printable(c) {
                    if changeable(c) { pick(c, false, d) } else { c }
                } else {
                    // 0x00-0x1F and 0x7F-0xFF: 161 bytes.
                    let n = u8::try_from(d.below(161)).unwrap_or(0);
                    if n < 0x20 { n } else { n + 0x5F }
                }
            },
        )
    }

    /// A number: the same count of decimal digits (no leading zero), at
    /// most `max`.
    pub(crate) fn integer(&self, v: u64, max: u64) -> u64 {
        let digits = v.to_string().into_bytes();
        for round in 0..=u8::MAX {
            let mut d = self.draw(Domain::Text, round, &digits);
            let s: Vec<u8> = digits.iter().map(|&c| pick(c, false, &mut d)).collect();
            if s.len() > 1 && s.first() == Some(&b'0') {
                continue;
            }
            let n = std::str::from_utf8(&s).ok().and_then(|s| s.parse::<u64>().ok());
            if let Some(n) = n.filter(|n| *n != v && *n <= max) {
                return n;
            }
        }
        if v == 0 { 1.min(max) } else { v - 1 }
    }

    /// A DSMR value of an id: hex-encoded text is decoded, rewritten as
    /// text and encoded again in the same case; other hex stays hex; the
    /// rest is text. `keep` characters of the (decoded) text are kept.
    pub(crate) fn dsmr_value(&self, v: &[u8], keep: usize) -> Vec<u8> {
        if let Some(text) = hex_text(v) {
            let lower = v.iter().any(u8::is_ascii_lowercase);
            let new = self.text(&text, keep);
            let mut out = String::with_capacity(v.len());
            for b in new {
                if lower {
                    out.push_str(&format!("{b:02x}"));
                } else {
                    out.push_str(&format!("{b:02X}"));
                }
            }
            return out.into_bytes();
        }
        if !v.is_empty() && v.iter().all(u8::is_ascii_hexdigit) {
            return self.hex(v);
        }
        self.text(v, keep)
    }
}

/// The printable text a hex-encoded DSMR octet string stands for.
fn hex_text(v: &[u8]) -> Option<Vec<u8>> {
    if v.is_empty() || v.len() % 2 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(v.len() / 2);
    for pair in v.chunks(2) {
        let s = std::str::from_utf8(pair).ok()?;
        let b = u8::from_str_radix(s, 16).ok()?;
        if !printable(b) {
            return None;
        }
        out.push(b);
    }
    Some(out)
}

/// How many characters of a logical device name are its FLAG id, kept.
fn flag_len(text: &[u8]) -> usize {
    match text.get(..3) {
        Some(f) if f.iter().all(u8::is_ascii_alphabetic) => 3,
        _ => 0,
    }
}

/// The text and binary ids a reading names, to find where a message holds
/// them: (bytes, whether it is a device name). A number is an id only
/// after its code: by value, it could be any count or power.
fn ids_of(r: &Reading) -> Vec<(Vec<u8>, bool)> {
    let mut out = Vec::new();
    for o in r.obis.iter().filter(|o| is_id_code(o.code)) {
        let ldn = is_device_name(o.code);
        match &o.value {
            Value::Text(t) if !t.as_str().is_empty() => out.push((t.as_str().as_bytes().to_vec(), ldn)),
            Value::Bytes(b) if !b.is_empty() => out.push((b.to_vec(), ldn)),
            _ => {}
        }
    }
    out
}

/// Where a data-notification's body starts (after invoke id and date-time).
fn body_at(apdu: &[u8]) -> Option<usize> {
    if apdu.first() != Some(&crate::dlms::apdu::DATA_NOTIFICATION) {
        return None;
    }
    match (apdu.get(5), apdu.get(6)) {
        (Some(0x00), _) => Some(6),
        (Some(0x0C), _) => Some(18),
        (Some(0x09), Some(0x0C)) => Some(19),
        _ => None,
    }
}

/// The largest value an unsigned integer node can hold, by its tag.
fn uint_max(tag: u8) -> Option<(u64, usize)> {
    Some(match tag {
        0x11 => (u64::from(u8::MAX), 1),
        0x12 => (u64::from(u16::MAX), 2),
        0x06 => (u64::from(u32::MAX), 4),
        0x15 => (u64::MAX, 8),
        0x0F => (i8::MAX as u64, 1),
        0x10 => (i16::MAX as u64, 2),
        0x05 => (i32::MAX as u64, 4),
        0x14 => (i64::MAX as u64, 8),
        _ => return None,
    })
}

/// What a node is to the rewriter.
#[derive(Copy, Clone, PartialEq, Eq)]
enum IdNode {
    No,
    /// An id (`true`: a logical device name).
    Id(bool),
}

/// Rewrites the ids of a plain data-notification whose reading is `r`:
/// the value after an id's OBIS code, and every string equal to an id the
/// reading names (lists without codes, capture-object lists). Returns the
/// new APDU (same length) and how many values were rewritten.
pub(crate) fn rewrite_apdu(apdu: &[u8], r: &Reading, map: &Mapper) -> Result<(Vec<u8>, usize), &'static str> {
    let at = body_at(apdu).ok_or("not a data-notification")?;
    let mut nodes: Vec<Node> = Vec::new();
    axdr::decode_into(apdu, at, &mut nodes).map_err(|_| "its A-XDR does not decode")?;
    let ids = ids_of(r);
    let tree = Tree { bytes: apdu, nodes: &nodes };
    // The value nodes that follow an id's OBIS code.
    let mut coded = vec![IdNode::No; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if !matches!(n.data, Data::Array(_) | Data::Structure(_)) || is_descriptor(&tree, i) {
            continue;
        }
        let mut prev: Option<usize> = None;
        for c in tree.children(i) {
            if let Some(p) = prev {
                let code = match tree.node(p).map(|x| x.data) {
                    Some(Data::Octets(_, 6)) => tree.bytes_of(p).and_then(Obis::from_slice),
                    _ => None,
                };
                if let (Some(code), Some(slot)) = (code, coded.get_mut(c)) {
                    if is_id_code(code) {
                        *slot = IdNode::Id(is_device_name(code));
                    }
                }
            }
            prev = Some(c);
        }
    }
    let mut out = apdu.to_vec();
    let mut count = 0;
    for (i, n) in nodes.iter().enumerate() {
        let mark = coded.get(i).copied().unwrap_or(IdNode::No);
        match n.data {
            Data::Octets(s, len) | Data::Visible(s, len) | Data::Utf8(s, len) => {
                let (s, len) = (s as usize, len as usize);
                let Some(b) = apdu.get(s..s + len).filter(|b| !b.is_empty()) else { continue };
                let by_value = ids.iter().find(|(v, _)| v == b);
                let ldn = match (mark, by_value) {
                    (IdNode::Id(ldn), _) => ldn,
                    (IdNode::No, Some((_, ldn))) => *ldn,
                    (IdNode::No, None) => continue,
                };
                let new = if matches!(n.data, Data::Octets(..)) && !b.iter().all(|c| printable(*c)) {
                    map.bytes(b)
                } else {
                    map.text(b, if ldn { flag_len(b) } else { 0 })
                };
                if let Some(dst) = out.get_mut(s..s + len) {
                    dst.copy_from_slice(&new);
                    count += 1;
                }
            }
            Data::UInt(_) | Data::Int(_) => {
                let v = match n.data {
                    Data::UInt(v) => v,
                    Data::Int(v) => match u64::try_from(v) {
                        Ok(v) => v,
                        Err(_) => continue,
                    },
                    _ => continue,
                };
                if mark == IdNode::No {
                    continue;
                }
                let Some((max, width)) = uint_max(n.tag) else { continue };
                let new = map.integer(v, max).to_be_bytes();
                let at = n.at as usize + 1;
                if let (Some(dst), Some(src)) = (out.get_mut(at..at + width), new.get(8 - width..)) {
                    dst.copy_from_slice(src);
                    count += 1;
                }
            }
            _ => {}
        }
    }
    Ok((out, count))
}

/// Whether a container is a capture-object descriptor, `structure{class,
/// OBIS, attribute, index}`: what follows its OBIS code is no value.
fn is_descriptor(tree: &Tree<'_>, i: usize) -> bool {
    let mut c = tree.children(i);
    matches!(tree.node(i).map(|n| n.data), Some(Data::Structure(4)))
        && matches!(c.next().and_then(|k| tree.node(k)).map(|n| n.data), Some(Data::UInt(_)))
        && matches!(c.next().and_then(|k| tree.node(k)).map(|n| n.data), Some(Data::Octets(_, 6)))
}

/// Rewrites the ids of a DSMR telegram (`/` through the CRC digits): the
/// first value of every data line whose code is an id's, and the CRC,
/// written with as many digits and in the same case as before.
pub(crate) fn rewrite_telegram(t: &[u8], map: &Mapper) -> Result<(Vec<u8>, usize), &'static str> {
    let bang = t.iter().rposition(|b| *b == b'!').ok_or("no '!' end line")?;
    let mut out = t.to_vec();
    let mut count = 0;
    let header_end = t.iter().position(|b| *b == b'\n').unwrap_or(bang);
    let mut line_start = header_end + 1;
    while line_start < bang {
        let end =
            t.get(line_start..bang).and_then(|l| l.iter().position(|b| *b == b'\n')).map_or(bang, |p| line_start + p);
        let line = t.get(line_start..end).unwrap_or_default();
        if let Some((from, to, ldn)) = id_value(line) {
            let (from, to) = (line_start + from, line_start + to);
            if let Some(v) = t.get(from..to).filter(|v| !v.is_empty()) {
                let keep = if ldn { hex_text(v).map_or(flag_len(v), |s| flag_len(&s)) } else { 0 };
                let new = map.dsmr_value(v, keep);
                if let (Some(dst), true) = (out.get_mut(from..to), new.len() == to - from) {
                    dst.copy_from_slice(&new);
                    count += 1;
                }
            }
        }
        line_start = end + 1;
    }
    // The CRC of the new bytes, when the telegram had one.
    let digits = t.get(bang + 1..).unwrap_or_default().iter().take(4).take_while(|d| d.is_ascii_hexdigit()).count();
    if digits > 0 {
        let crc = crate::framing::crc::arc(out.get(..=bang).unwrap_or_default());
        let lower = t.get(bang + 1..bang + 1 + digits).is_some_and(|d| d.iter().any(u8::is_ascii_lowercase));
        let text = if lower { format!("{crc:0digits$x}") } else { format!("{crc:0digits$X}") };
        out.splice(bang + 1..bang + 1 + digits, text.into_bytes());
    }
    Ok((out, count))
}

/// The first value of a data line whose code is an id's: its range in the
/// line and whether it is a logical device name.
fn id_value(line: &[u8]) -> Option<(usize, usize, bool)> {
    let lead = line.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let open = lead + line.get(lead..)?.iter().position(|c| *c == b'(')?;
    let code: Obis = std::str::from_utf8(line.get(lead..open)?).ok()?.trim().parse().ok()?;
    if !is_id_code(code) {
        return None;
    }
    let close = open + 1 + line.get(open + 1..)?.iter().position(|c| *c == b')')?;
    Some((open + 1, close, is_device_name(code)))
}

/// The id objects of a reading whose values hold something to hide
/// (letters, digits, any binary byte, a number), as (code, value).
pub(crate) fn telling_ids(r: &Reading) -> Vec<(Obis, &Value)> {
    r.obis
        .iter()
        .filter(|o| is_id_code(o.code))
        .filter(|o| match &o.value {
            Value::Text(t) => t.as_str().bytes().any(changeable),
            Value::Bytes(b) => !b.is_empty(),
            Value::Number(_) => true,
            _ => false,
        })
        .map(|o| (o.code, &o.value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapper() -> Mapper {
        Mapper::new([7; 16])
    }

    #[test]
    fn classes_lengths_and_determinism() {
        let m = mapper();
        let id = b"K8EG-0040 46395507";
        let a = m.text(id, 0);
        assert_eq!(a, m.text(id, 0), "the same id gives the same result");
        assert_ne!(a, id.to_vec());
        assert_eq!(a.len(), id.len());
        for (o, n) in id.iter().zip(&a) {
            assert_eq!(o.is_ascii_digit(), n.is_ascii_digit());
            assert_eq!(o.is_ascii_uppercase(), n.is_ascii_uppercase());
            if !o.is_ascii_alphanumeric() {
                assert_eq!(o, n);
            }
        }
        assert_ne!(m.text(b"7359992890497997", 0), Mapper::new([8; 16]).text(b"7359992890497997", 0), "keyed");
        let ldn = m.text(b"KFM1200200169986", 3);
        assert!(ldn.starts_with(b"KFM") && ldn != b"KFM1200200169986");
        assert_eq!(m.text(b"--", 0), b"--", "nothing to hide stays");
        let b = [0x01, 0x41, 0xFF, 0x7F];
        let nb = m.bytes(&b);
        assert_ne!(nb, b);
        assert!(nb.iter().zip(&b).all(|(n, o)| printable(*n) == printable(*o)));
        let h = m.hex(b"12ab34CD");
        assert!(h.iter().zip(b"12ab34CD").all(|(n, o)| n.is_ascii_digit() == o.is_ascii_digit()
            && n.is_ascii_lowercase() == o.is_ascii_lowercase()
            && n.is_ascii_hexdigit()));
        let n = m.integer(26_733_640, u64::from(u32::MAX));
        assert!(n != 26_733_640 && (10_000_000..100_000_000).contains(&n));
        assert_ne!(m.integer(7, 9), 7);
    }

    #[test]
    fn dsmr_hex_text_is_rewritten_as_text() {
        let m = mapper();
        let v = b"4B384547303034303436333935353037";
        let new = m.dsmr_value(v, 0);
        let text = hex_text(&new).unwrap();
        assert_eq!(text, m.text(b"K8EG004046395507", 0), "the same id in text or hex gives the same text");
        assert!(new.iter().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let lower = m.dsmr_value(b"4b38", 0);
        assert!(lower.iter().all(|c| !c.is_ascii_uppercase()));
        let ldn = m.dsmr_value(b"53414731303330373030303132373031", 3);
        assert!(hex_text(&ldn).unwrap().starts_with(b"SAG"));
    }

    #[test]
    fn id_codes() {
        for yes in [
            "0-0:96.1.0",
            "0-0:96.1.1",
            "0-1:96.1.0",
            "0-2:96.1.1",
            "1-1:0.0.5",
            "1-0:0.0.0",
            "0-0:42.0.0",
            "0-0:96.1.255",
        ] {
            assert!(is_id_code(yes.parse().unwrap()), "{yes}");
        }
        for no in ["0-0:96.1.7", "0-0:96.1.4", "1-1:96.1.1", "1-1:0.2.129", "1-0:1.8.0", "0-0:96.13.0", "0-0:1.0.0"] {
            assert!(!is_id_code(no.parse().unwrap()), "{no}");
        }
    }
}
