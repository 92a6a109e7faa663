//! Prints the A-XDR tree of a data-notification APDU given as hex on stdin
//! (a development aid for new list layouts).
use han::axdr::{Data, Tree, decode_into};

fn main() {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).ok();
    let hex: Vec<u8> = s
        .split_whitespace()
        .collect::<String>()
        .as_bytes()
        .chunks(2)
        .filter_map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect();
    let start = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut nodes = Vec::new();
    match decode_into(&hex, start, &mut nodes) {
        Ok(end) => println!("ok, {end} of {} bytes", hex.len()),
        Err(e) => println!("error {e}"),
    }
    let t = Tree { bytes: &hex, nodes: &nodes };
    let mut depth_end: Vec<u32> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        while depth_end.last().is_some_and(|&e| e as usize <= i) {
            depth_end.pop();
        }
        let pad = "  ".repeat(depth_end.len());
        let extra = t.bytes_of(i).map(|b| format!(" {:02X?} {:?}", b, String::from_utf8_lossy(b))).unwrap_or_default();
        println!("{pad}[{i}] {:02X} {:?}{extra}", n.tag, n.data);
        if matches!(n.data, Data::Array(_) | Data::Structure(_)) {
            depth_end.push(n.end);
        }
    }
}
