//! The stream-line reader against serde_json: every reading of every
//! corpus capture, as han-read writes it, read by `Line::parse` and
//! `Line::scan` (and `Line::scan_fields`, on han-read's lines) gives what a full JSON parse gives; and generated lines
//! with keys in any order, nested values full of brackets and quotes
//! inside strings, escapes and white space.

use han::{Config, Decoder, EventRef};
use han_common::line::{Fields, Line, QUANTITIES, Value};
use han_testkit::corpus;
use proptest::prelude::*;
use serde_json::{Value as Json, json};

/// What a full parse says the fields are.
fn check(text: &str, l: &Line<'_>) -> Result<(), String> {
    let j: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let s = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
    let same = |name: &str, got: Option<&str>| {
        if got.map(str::to_owned) == s(name) { Ok(()) } else { Err(format!("{name}: {got:?} vs {:?}", s(name))) }
    };
    if Some(l.v) != j["v"].as_u64() {
        return Err(format!("v: {} vs {}", l.v, j["v"]));
    }
    same("protocol", Some(&l.protocol))?;
    same("received", l.received.as_deref())?;
    same("meter_time", l.meter_time.as_deref())?;
    same("meter_id", l.meter_id.as_deref())?;
    same("list", l.list.as_deref())?;
    for (i, name) in QUANTITIES.iter().enumerate() {
        let want = j.get(*name);
        let ok = match (&l.quantities[i], want) {
            (None, None) => true,
            // serde_json's default float parsing may be one unit in the last
            // place off; the scanner's (std's) is exact.
            (Some(Value::Num(t)), Some(w)) => match (t.parse::<f64>(), w.as_f64()) {
                (Ok(a), Some(b)) => a == b || (a - b).abs() <= f64::EPSILON * a.abs(),
                _ => false,
            },
            (Some(Value::Text(t)), Some(Json::String(w))) => t == w,
            _ => false,
        };
        if !ok {
            return Err(format!("{name}: {:?} vs {want:?}", l.quantities[i]));
        }
    }
    Ok(())
}

#[test]
fn every_corpus_reading_reads_back() {
    let Some(dir) = corpus::dir() else { return };
    let mut lines = 0;
    for entry in corpus::manifest(&dir) {
        let file = entry["file"].as_str().unwrap();
        if file.starts_with("prices/") {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).unwrap();
        for tz in [None, Some(han::Tz::Europe__Oslo)] {
            let cfg = Config {
                key: corpus::key(&entry["key"]),
                auth_key: corpus::key(&entry["auth_key"]),
                tz,
                ..Config::default()
            };
            let mut d = Decoder::new(cfg);
            d.push(&bytes);
            d.finish();
            let received = chrono::DateTime::parse_from_rfc3339("2025-01-02T03:04:05.678Z").unwrap().to_utc();
            while let Some(e) = d.next_event_ref() {
                let EventRef::Reading(r) = e else { continue };
                let mut out = Vec::new();
                r.write_json_line_received(Some(&received), &mut out);
                let text = String::from_utf8(out).unwrap();
                let text = text.trim_end();
                for (how, got) in [
                    ("parse", Line::parse(text.as_bytes(), true)),
                    ("scan", Line::scan(text.as_bytes(), true)),
                    // han-read writes obis last: the head is every field.
                    ("scan_fields", Line::scan_fields(text.as_bytes(), &Fields::ALL)),
                ] {
                    let l = got.unwrap_or_else(|e| panic!("{file} {how}: {e}\n{text}"));
                    check(text, &l).unwrap_or_else(|e| panic!("{file} {how}: {e}\n{text}"));
                }
                // Some quantities: those as a full read has them, no others.
                let names = ["power_import_w", "energy_export_kwh", "demand_month_peak_time"];
                let full = Line::parse(text.as_bytes(), true).unwrap();
                let part = Line::scan_fields(text.as_bytes(), &Fields::of(&names)).unwrap();
                assert_eq!(
                    (&part.meter_time, &part.list, &part.received),
                    (&full.meter_time, &full.list, &full.received)
                );
                for (i, q) in part.quantities.iter().enumerate() {
                    let want = if names.contains(&QUANTITIES[i]) { full.quantities[i].clone() } else { None };
                    assert_eq!(q, &want, "{file} scan_fields: {}\n{text}", QUANTITIES[i]);
                }
                lines += 1;
            }
        }
    }
    assert!(lines > 100, "{lines} lines checked");
}

fn nasty_string() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[a-z0-9{}\[\]",:\\ é\n\t]{0,12}"#).unwrap()
}

fn nested() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        nasty_string().prop_map(Json::String),
        any::<i32>().prop_map(|n| json!(n)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        Just(Json::Null),
        Just(json!(true)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            proptest::collection::vec((nasty_string(), inner), 0..4)
                .prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn generated_lines_read_like_serde(
        extra in proptest::collection::vec((nasty_string(), nested()), 0..4),
        quantities in proptest::collection::vec((0..QUANTITIES.len(), -1e6f64..1e6, any::<bool>()), 0..8),
        obis in nested(),
        order in any::<u64>(),
        pretty in any::<bool>(),
        id in nasty_string(),
    ) {
        let mut members: Vec<(String, Json)> = vec![
            ("v".into(), json!(1)),
            ("protocol".into(), json!("p1")),
            ("received".into(), json!("2025-01-02T03:04:05.678Z")),
            ("meter_id".into(), json!(id)),
            ("obis".into(), obis),
        ];
        for (i, v, as_text) in quantities {
            members.push((QUANTITIES[i].into(), if as_text { json!(format!("{v}")) } else { json!(v) }));
        }
        for (k, v) in extra {
            // Other members, never one of the names read.
            members.push((format!("x-{k}"), v));
        }
        // Any order.
        let n = members.len();
        for i in 0..n {
            members.swap(i, (order.rotate_left(i as u32 * 7) as usize) % n);
        }
        let mut names = std::collections::HashSet::new();
        members.retain(|(k, _)| names.insert(k.clone()));
        let obj = Json::Object(members.into_iter().collect());
        let text = if pretty { serde_json::to_string_pretty(&obj).unwrap() } else { serde_json::to_string(&obj).unwrap() };
        for l in [Line::parse(text.as_bytes(), true).unwrap(), Line::scan(text.as_bytes(), true).unwrap()] {
            prop_assert!(check(&text, &l).is_ok(), "{:?}\n{}", check(&text, &l), text);
        }
        // Cut anywhere, it is no reading (and nothing panics).
        for cut in (0..text.len()).step_by(7) {
            if let Some(part) = text.get(..cut) {
                prop_assert!(Line::parse(part.as_bytes(), true).is_err());
                let _ = Line::scan(part.as_bytes(), true);
            }
        }
    }
}
