use super::*;

#[test]
fn decimals_are_exact() {
    assert_eq!(decimal(b"001234.567"), Some(Decimal::new(1234567, -3)));
    assert_eq!(decimal(b"-063"), Some(Decimal::new(-63, 0)));
    assert_eq!(decimal(b"00000000.0000"), Some(Decimal::new(0, -4)));
    assert_eq!(decimal(b"1.2.3"), None);
    assert_eq!(decimal(b""), None);
    assert_eq!(decimal(b"."), None);
    assert_eq!(decimal(b"99999999999999999999"), None);
}

/// A decimal read as it was first written: every digit checked for
/// overflow.
fn decimal_checked(s: &[u8]) -> Option<Decimal> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    long_decimal(neg, digits)
}

proptest::proptest! {
    #[test]
    fn decimal_as_before(s in "[-+]?[0-9]{0,21}[.]?[0-9]{0,21}[.x]?[0-9]{0,2}") {
        proptest::prop_assert_eq!(decimal(s.as_bytes()), decimal_checked(s.as_bytes()));
    }

    #[test]
    fn decimal_on_any_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..22)) {
        proptest::prop_assert_eq!(decimal(&s), decimal_checked(&s));
    }
}

#[test]
fn values_and_units() {
    assert_eq!(value(b"01.193*kW"), (Value::Number(Decimal::new(1193, -3)), Some(Unit::known("kW"))));
    assert_eq!(value(b"0002"), (Value::Text("0002".into()), None));
    assert_eq!(value(b"12*"), (Value::Text("12*".into()), None));
    assert_eq!(value(b"x*kWh"), (Value::Text("x*kWh".into()), None));
    assert_eq!(value(b"1*furlong").1.map(|u| u.as_str().to_owned()), Some("furlong".to_owned()));
}

#[test]
fn records_join_continuations() {
    let data = b"\r\n1-0:1.8.1(1*kWh)\r\n0-1:24.3.0(1)(m3)\r\n(00001.001)\r\n0-0:96.13.0(3031\r\n3233)\r\n1,0:2.7.0(1)\r\njunk\r\n";
    let r = records(data);
    let r: Vec<&[u8]> = r.iter().map(|c| c.as_ref()).collect();
    assert_eq!(
        r,
        vec![&b"1-0:1.8.1(1*kWh)"[..], b"0-1:24.3.0(1)(m3)(00001.001)", b"0-0:96.13.0(30313233)", b"1,0:2.7.0(1)"]
    );
    assert!(split_record(b"1,0:2.7.0(1)").is_none());
    // A truncated line does not swallow the record after it.
    let r = records(b"1-0:1.8.1(00\r\n1-0:1.8.2(1*kWh)\r\n");
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].as_ref(), b"1-0:1.8.2(1*kWh)");
    let (code, vals) = split_record(b"1-0:1.8.1 ( 1*kWh )(2)").unwrap();
    assert_eq!(code, Obis::new(1, 0, 1, 8, 1, 255));
    assert_eq!(vals, vec![&b"1*kWh"[..], b"2"]);
    assert!(split_record(b"1-0:1.8.1(1*kWh").is_none());
}

proptest::proptest! {
    #[test]
    fn obis_as_the_crate_parses_it(s in "[0-9]{0,4}([-:.*][0-9]{0,4}){0,6}[x.]?") {
        proptest::prop_assert_eq!(parse_groups(s.as_bytes()), crate::reading::obis::parse_groups(s.as_bytes()));
    }

    #[test]
    fn obis_on_any_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..24)) {
        proptest::prop_assert_eq!(parse_groups(&s), crate::reading::obis::parse_groups(&s));
    }
}

/// The record start as it was first written: the trimmed bytes before
/// the first `(` parsed as a code.
fn record_start_by_parts(line: &[u8]) -> Option<(Obis, usize)> {
    let p = line.iter().position(|b| *b == b'(')?;
    Some((parse_groups(trim(&line[..p]))?, p))
}

proptest::proptest! {
    #[test]
    fn record_start_in_one_pass(s in "[ \t\x01]?[0-9]{0,4}([-:.*][0-9]{0,4}){0,6}[ \x01x.)]{0,2}[(]?[0-9a-z() ]{0,4}") {
        proptest::prop_assert_eq!(record_start(s.as_bytes()), record_start_by_parts(s.as_bytes()));
    }

    #[test]
    fn known_start_as_by_parts(s in "[ ]?[0-9]{1,2}[-][0-9]{1,2}[:][0-9]{0,3}[.][0-9]{1,3}[.*][0-9]{0,3}[.*( ]?[0-9]{0,2}[ (]?[0-9()]{0,6}[(]?[0-9]{0,12}") {
        // Once read, once from the slot (or read again after a clash).
        proptest::prop_assert_eq!(record_start(s.as_bytes()), record_start_by_parts(s.as_bytes()));
        proptest::prop_assert_eq!(record_start(s.as_bytes()), record_start_by_parts(s.as_bytes()));
    }

    #[test]
    fn record_start_on_any_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..24)) {
        proptest::prop_assert_eq!(record_start(&s), record_start_by_parts(&s));
    }
}

proptest::proptest! {
    #[test]
    fn find_as_position(s in proptest::collection::vec(proptest::sample::select(b"()*x\x00\xff".to_vec()), 0..40)) {
        for needle in [b'(', b')', b'*'] {
            proptest::prop_assert_eq!(find(&s, needle), s.iter().position(|b| *b == needle));
        }
    }
}

#[test]
fn depth_counts_parens() {
    for s in ["", "(", ")", "()()(", "1-0:1.8.1(000123.456*kWh)", "((((((((()", "0-0:96.13.0(a(b)c)d)e(f)(g"] {
        let want = s.matches('(').count() as isize - s.matches(')').count() as isize;
        assert_eq!(depth(s.as_bytes()), want, "{s}");
    }
}

proptest::proptest! {
    #[test]
    fn depth_on_any_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
        let want = s.iter().filter(|b| **b == b'(').count() as isize - s.iter().filter(|b| **b == b')').count() as isize;
        proptest::prop_assert_eq!(depth(&s), want);
    }
}

#[test]
fn obis_forms() {
    for s in [
        "1-0:1.8.1",
        "1-0:1.8.1.255",
        "1-0:1.8.1*255",
        "1-0:1.8.1.7",
        "",
        "1-0:1.8",
        "1-0:1.8.1.",
        "1-0:256.8.1",
        "1,0:1.8.1",
        "1-0:1.8.1x",
        "a-0:1.8.1",
        "1-0:1.8.1.2.3",
        "1-0:1.8.1*",
        "1-0:1.8.1.0001",
        "001-0:1.8.1",
        "1-0:1.8.1.256",
        "1-0:1.8.1:2",
        "1-0:1.8*1",
    ] {
        assert_eq!(parse_groups(s.as_bytes()), crate::reading::obis::parse_groups(s.as_bytes()), "{s}");
    }
}

#[test]
fn stamps() {
    assert!(is_stamp(b"632525252525S"));
    assert!(is_stamp(b"150701190000s"));
    assert!(is_stamp(b"150701190000"));
    assert!(!is_stamp(b"1-0:1.6.0"));
    assert!(stamp(b"632525252525S", None, false).is_none());
    assert!(stamp(b"000101000001W", None, true).is_none());
    assert!(stamp(b"000101010000W", None, false).is_some());
    assert!(stamp(b"700101010000W", None, false).is_none());
}

#[test]
fn hex() {
    assert_eq!(hex_text(b"4530303334").as_deref(), Some("E0034"));
    assert_eq!(hex_text(b"0000"), None);
    assert_eq!(hex_text(b"09610"), None);
    assert_eq!(hex_text(b"xx"), None);
}

/// Hex text decoded as it was first written: a digit at a time into a
/// `String`.
fn hex_text_by_chars(s: &[u8]) -> Option<String> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    let mut out = String::new();
    for pair in s.chunks_exact(2) {
        let d = |b: u8| char::from(b).to_digit(16).map(|d| d as u8);
        let c = (d(pair[0])? << 4) | d(pair[1])?;
        if !(c.is_ascii_graphic() || matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            return None;
        }
        out.push(char::from(c));
    }
    Some(out)
}

proptest::proptest! {
    #[test]
    fn hex_as_before(s in "([0-7][0-9a-fA-F]|0[9aAdD]|[g-z ]){0,80}") {
        let (got, want) = (hex_text(s.as_bytes()), hex_text_by_chars(s.as_bytes()));
        proptest::prop_assert_eq!(got.as_deref(), want.as_deref());
    }

    #[test]
    fn hex_on_any_bytes(s in proptest::collection::vec(proptest::num::u8::ANY, 0..12)) {
        let (got, want) = (hex_text(&s), hex_text_by_chars(&s));
        proptest::prop_assert_eq!(got.as_deref(), want.as_deref());
    }
}

/// The values of a record as they were first split: a byte loop to each
/// value's start, a search for its `)` from its `(`.
fn split_by_slices(rec: &[u8]) -> Option<(Obis, Vec<&[u8]>)> {
    if rec.len() > MAX_RECORD {
        return None;
    }
    let (code, first) = record_start(rec)?;
    let mut values = Vec::new();
    let mut rest = rec.get(first..)?;
    while let Some(p) = rest.iter().position(|b| *b > b' ') {
        rest = rest.get(p..)?;
        if rest.first() != Some(&b'(') {
            break;
        }
        let close = find(rest, b')')?;
        values.push(trim(rest.get(1..close)?));
        rest = rest.get(close + 1..)?;
    }
    Some((code, values))
}

proptest::proptest! {
    #[test]
    fn split_as_by_slices(s in "1-0:1\\.8\\.1[ (]{0,2}[0-9a-z*.() \t]{0,24}") {
        proptest::prop_assert_eq!(split_record(s.as_bytes()), split_by_slices(s.as_bytes()));
    }

    #[test]
    fn split_on_any_bytes(tail in proptest::collection::vec(proptest::sample::select(b"()* \t\r1x\x00\xff".to_vec()), 0..30)) {
        let mut rec = b"0-0:96.1.1(".to_vec();
        rec.extend_from_slice(&tail);
        proptest::prop_assert_eq!(split_record(&rec), split_by_slices(&rec));
    }

    #[test]
    fn find_after_as_position(s in proptest::collection::vec(proptest::sample::select(b"()*x\x00\xff".to_vec()), 0..40), from in 0usize..42) {
        let want = s.get(from..).and_then(|r| r.iter().position(|b| *b == b')'));
        proptest::prop_assert_eq!(find_after(&s, from, b')'), want);
    }
}
