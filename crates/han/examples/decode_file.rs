//! Decodes a capture file and prints each event (a development aid; the
//! user's tool is han-read). Usage: decode_file FILE [KEY [AUTH_KEY]]
use han::{Config, Decoder, Event};

fn key(s: Option<String>) -> Option<[u8; 16]> {
    let s = s?;
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_default();
    let bytes = std::fs::read(&path).unwrap_or_default();
    let mut d = Decoder::new(Config { key: key(args.next()), auth_key: key(args.next()), ..Config::default() });
    d.push(&bytes);
    d.finish();
    while let Some(e) = d.next_event() {
        match e {
            Event::Reading(r) => println!("{}", serde_json::to_string(&*r).unwrap_or_default()),
            Event::Rejected { error, bytes } => println!("REJECTED {error}: {}", han::Hex(&bytes)),
        }
    }
}
