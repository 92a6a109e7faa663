//! Layout fidelity: each simulated meter's frames have the structure of
//! that meter's real captures in the corpus.
//!
//! HAN: the same HDLC addresses and control byte, the same header
//! date-time form (absent, `0C`, `09 0C`), and the same A-XDR pre-order
//! sequence of tags, element counts, OBIS codes and scaler/unit
//! structures (values and string contents may differ).
//! P1: the same header line, and the same sequence of OBIS codes with the
//! units of each line. Allowed to differ: none for a fresh simulator. Over
//! a run, Fluvius' 0-0:98.1.0 history grows by one entry per month (up to
//! 13, as e-MUCS allows) and the power-failure log always holds one entry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;

use common::at;
use han::axdr::{Data, Tree, decode_into};
use han_simulator::{Frame, List, Meter, Options, Simulator};
use han_testkit::corpus;

/// One element of the A-XDR walk.
#[derive(Debug, Clone, PartialEq)]
enum Sig {
    /// array / structure with its element count.
    Container(u8, u32),
    /// A 6-byte octet string: an OBIS code.
    Obis([u8; 6]),
    /// `structure{int8 scaler, enum unit}`.
    ScalerUnit(i64, u8),
    /// Any other value: its tag.
    Tag(u8),
}

#[derive(Debug, PartialEq)]
struct HanLayout {
    /// HDLC destination, source, control (none for a bare LLC PDU).
    hdlc: Option<(Vec<u8>, Vec<u8>, u8)>,
    /// Header date-time form: `00`, `0C` or `09 0C`.
    time_form: Vec<u8>,
    /// The root container.
    root: Sig,
    /// Each top-level element's walk.
    items: Vec<Vec<Sig>>,
}

fn walk(tree: &Tree<'_>, i: usize, out: &mut Vec<Sig>) {
    let n = tree.node(i).unwrap();
    match n.data {
        Data::Structure(2) => {
            let c: Vec<usize> = tree.children(i).collect();
            let (a, b) = (tree.node(c[0]).unwrap().data, tree.node(c[1]).unwrap().data);
            if let (Data::Int(s), Data::Enum(u)) = (a, b) {
                out.push(Sig::ScalerUnit(s, u));
                return;
            }
            out.push(Sig::Container(n.tag, 2));
            for c in c {
                walk(tree, c, out);
            }
        }
        Data::Structure(k) | Data::Array(k) => {
            out.push(Sig::Container(n.tag, k));
            for c in tree.children(i).collect::<Vec<_>>() {
                walk(tree, c, out);
            }
        }
        Data::Octets(_, 6) => out.push(Sig::Obis(tree.bytes_of(i).unwrap().try_into().unwrap())),
        _ => out.push(Sig::Tag(n.tag)),
    }
}

fn han_layout(bytes: &[u8]) -> HanLayout {
    let (hdlc, info) = if bytes[0] == 0x7E {
        let mut p = 3;
        let addr = |p: &mut usize| {
            let s = *p;
            while bytes[*p] & 1 == 0 {
                *p += 1;
            }
            *p += 1;
            bytes[s..*p].to_vec()
        };
        let dst = addr(&mut p);
        let src = addr(&mut p);
        let control = bytes[p];
        (Some((dst, src, control)), &bytes[p + 3..bytes.len() - 3])
    } else {
        (None, bytes)
    };
    assert_eq!(&info[..3], &[0xE6, 0xE7, 0x00], "LLC header");
    let apdu = &info[3..];
    assert_eq!(apdu[0], 0x0F, "data-notification");
    let (time_form, body) = match apdu[5] {
        0x00 => (vec![0x00], 6),
        0x0C => (vec![0x0C], 18),
        0x09 => (vec![0x09, apdu[6]], 19),
        x => panic!("date-time form {x:02X}"),
    };
    let mut nodes = Vec::new();
    decode_into(apdu, body, &mut nodes).unwrap();
    let tree = Tree { bytes: apdu, nodes: &nodes };
    let root = tree.node(0).unwrap();
    let (root_sig, items) = match root.data {
        Data::Structure(k) | Data::Array(k) => (
            Sig::Container(root.tag, k),
            tree.children(0)
                .map(|c| {
                    let mut v = Vec::new();
                    walk(&tree, c, &mut v);
                    v
                })
                .collect(),
        ),
        _ => panic!("root is not a container"),
    };
    HanLayout { hdlc, time_form, root: root_sig, items }
}

fn frame_of(meter: Meter, list: List) -> Frame {
    let sim = Simulator::new(Options::new(meter, at("2025-01-15T09:58:00+01:00"), 7));
    sim.take(4000).find(|f| f.list == list).unwrap()
}

fn capture(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Same layout, or a readable diff.
fn same(what: &str, sim: &HanLayout, real: &HanLayout) {
    assert_eq!(sim.hdlc, real.hdlc, "{what}: HDLC addresses and control");
    assert_eq!(sim.time_form, real.time_form, "{what}: header date-time form");
    assert_eq!(sim.root, real.root, "{what}: root");
    for (k, (a, b)) in sim.items.iter().zip(&real.items).enumerate() {
        assert_eq!(a, b, "{what}: item {k}");
    }
    assert_eq!(sim.items.len(), real.items.len(), "{what}: item count");
}

#[test]
fn aidon_no() {
    let Some(dir) = corpus::dir() else { return };
    let l1 = han_layout(&frame_of(Meter::AidonNo, List::List1).bytes);
    let l2 = han_layout(&frame_of(Meter::AidonNo, List::List2).bytes);
    let l3 = han_layout(&frame_of(Meter::AidonNo, List::List3).bytes);
    for f in ["han/aidon-6534-list3-01.bin", "han/aidon-6534-list3-02.bin", "han/aidon-6534-list3-04.bin"] {
        let real = han_layout(&capture(&dir, f));
        same(f, &l3, &real);
        // List 2 is list 3's first 13 items, in an array of 13.
        assert_eq!(l2.root, Sig::Container(0x01, 13));
        assert_eq!(l2.items[..], real.items[..13], "{f}: list 2 = list 3 without the hourly items");
        assert_eq!((&l2.hdlc, &l2.time_form), (&real.hdlc, &real.time_form));
    }
    // The 1-phase 6515's list 2: its items are the 3-phase list's, in the same order.
    let real = han_layout(&capture(&dir, "han/aidon-6515-list2-01.bin"));
    assert_eq!((&l2.hdlc, &l2.time_form), (&real.hdlc, &real.time_form));
    let mut it = l2.items.iter();
    for item in &real.items {
        assert!(it.any(|x| x == item), "6515 item {item:?} missing or out of order");
    }
    // List 1: the 6525's (a bare LLC PDU in the capture: no HDLC to compare).
    let real = han_layout(&capture(&dir, "han/aidon-6525-list1-llc-01.bin"));
    same("aidon list 1", &HanLayout { hdlc: None, ..l1 }, &real);
}

#[test]
fn kaifa_no() {
    let Some(dir) = corpus::dir() else { return };
    let l1 = han_layout(&frame_of(Meter::KaifaNo, List::List1).bytes);
    let l2 = han_layout(&frame_of(Meter::KaifaNo, List::List2).bytes);
    let l3 = han_layout(&frame_of(Meter::KaifaNo, List::List3).bytes);
    for f in ["han/kaifa-ma304h3e-list1-01.bin", "han/kaifa-ma304h3e-list1-02.bin"] {
        same(f, &l1, &han_layout(&capture(&dir, f)));
    }
    same("kaifa list 1 llc", &HanLayout { hdlc: None, ..han_layout(&frame_of(Meter::KaifaNo, List::List1).bytes) }, &{
        han_layout(&capture(&dir, "han/kaifa-ma304h3e-list1-llc-01.bin"))
    });
    for f in ["han/kaifa-ma304h3e-list2-01.bin", "han/kaifa-ma304h3e-list2-03.bin"] {
        let real = han_layout(&capture(&dir, f));
        same(f, &l2, &real);
        // No list 3 capture of this meter: list 3 is list 2's 13 values, then
        // the clock (octet string) and the four energy registers (uint32),
        // the KFM_001 18-element layout.
        assert_eq!(l3.root, Sig::Container(0x02, 18));
        assert_eq!(l3.items[..13], real.items[..], "{f}: list 3 starts as list 2");
        assert_eq!(
            l3.items[13..],
            [
                vec![Sig::Tag(0x09)],
                vec![Sig::Tag(0x06)],
                vec![Sig::Tag(0x06)],
                vec![Sig::Tag(0x06)],
                vec![Sig::Tag(0x06)]
            ]
        );
        assert_eq!((&l3.hdlc, &l3.time_form), (&real.hdlc, &real.time_form));
    }
    let real = han_layout(&capture(&dir, "han/kaifa-ma304h3e-list2-llc-01.bin"));
    same("kaifa list 2 llc", &HanLayout { hdlc: None, ..l2 }, &real);
}

#[test]
fn kamstrup_no() {
    let Some(dir) = corpus::dir() else { return };
    let l1 = han_layout(&frame_of(Meter::KamstrupNo, List::List1).bytes);
    let l2 = han_layout(&frame_of(Meter::KamstrupNo, List::List2).bytes);
    for f in [
        "han/kamstrup-omnipower-no-list1-01.bin",
        "han/kamstrup-omnipower-no-list1-02.bin",
        "han/kamstrup-omnipower-no-list1-03.bin",
    ] {
        same(f, &l1, &han_layout(&capture(&dir, f)));
    }
    let f = "han/kamstrup-omnipower-no-list2-01.bin";
    same(f, &l2, &han_layout(&capture(&dir, f)));
}

#[test]
fn aidon_se() {
    let Some(dir) = corpus::dir() else { return };
    let l = han_layout(&frame_of(Meter::AidonSe, List::List1).bytes);
    let f = "han/aidon-se-list-01.bin";
    same(f, &l, &han_layout(&capture(&dir, f)));
}

/// (OBIS code, units of the line) for every data line of a telegram.
fn p1_layout(t: &[u8]) -> (String, Vec<(String, Vec<String>)>) {
    let text = String::from_utf8_lossy(t);
    let mut lines = text.split("\r\n");
    let header = lines.next().unwrap().to_string();
    let mut out = Vec::new();
    for l in lines {
        if l.starts_with('!') {
            break;
        }
        if l.is_empty() {
            continue;
        }
        let code = l[..l.find('(').unwrap()].to_string();
        let units = l.split('*').skip(1).map(|s| s[..s.find(')').unwrap()].to_string()).collect();
        out.push((code, units));
    }
    (header, out)
}

fn p1(meter: Meter, file: &str) {
    let Some(dir) = corpus::dir() else { return };
    let sim = p1_layout(&frame_of(meter, List::Telegram).bytes);
    let real = p1_layout(&capture(&dir, file));
    assert_eq!(sim.0, real.0, "{file}: header");
    for (k, (a, b)) in sim.1.iter().zip(&real.1).enumerate() {
        assert_eq!(a, b, "{file}: line {k}");
    }
    assert_eq!(sim.1.len(), real.1.len(), "{file}: line count");
}

#[test]
fn dsmr5() {
    p1(Meter::Dsmr5, "p1/dsmr50-iskra-am550-01.txt");
}

#[test]
fn dsmr4() {
    p1(Meter::Dsmr4, "p1/dsmr42-kaifa-01.txt");
}

#[test]
fn fluvius() {
    p1(Meter::Fluvius, "p1/be-fluvius-emucs171-01.txt");
}
