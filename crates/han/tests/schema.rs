//! The stream contract holds: every reading of every corpus capture,
//! serialised, validates against `docs/stream.schema.json`; the schema
//! rejects broken lines; the schema and `docs/stream.md` name every
//! normalised quantity.

use han_testkit::corpus;
use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use han::{Config, Decoder, Event, Quantities};
use jsonschema::{Draft, JSONSchema};
use serde_json::{Value as Json, json};

/// Top-level fields that are not normalised quantities.
const FIXED: &[&str] = &[
    "v",
    "received",
    "meter_time",
    "protocol",
    "framing",
    "encrypted",
    "manufacturer",
    "meter_id",
    "meter_model",
    "list",
    "submeters",
    "obis",
];

fn docs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn schema_json() -> Json {
    let text = std::fs::read_to_string(docs().join("stream.schema.json")).expect("docs/stream.schema.json readable");
    serde_json::from_str(&text).expect("docs/stream.schema.json is JSON")
}

fn compile(schema: &Json) -> JSONSchema {
    JSONSchema::options()
        .with_draft(Draft::Draft7)
        .should_validate_formats(true)
        .compile(schema)
        .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
}

fn errors(schema: &JSONSchema, doc: &Json) -> Vec<String> {
    match schema.validate(doc) {
        Ok(()) => Vec::new(),
        Err(errs) => errs.map(|e| format!("{} at {}", e, e.instance_path)).collect(),
    }
}

/// Every reading of a file, serialised, `received` set.
fn readings(bytes: &[u8], cfg: Config) -> Vec<Json> {
    let received =
        Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).single().expect("valid time") + chrono::Duration::milliseconds(678);
    let mut d = Decoder::new(cfg);
    d.push(bytes);
    d.finish();
    let mut out = Vec::new();
    while let Some(e) = d.next_event() {
        if let Event::Reading(mut r) = e {
            r.received = Some(received);
            out.push(serde_json::to_value(&*r).expect("a reading serialises"));
        }
    }
    out
}

/// A real line to break in the negative tests.
fn sample() -> Json {
    json!({
        "v": 1,
        "received": "2025-01-02T03:04:05.678Z",
        "meter_time": "2025-12-14T16:00:00+01:00",
        "protocol": "han",
        "framing": "hdlc",
        "manufacturer": "Aidon",
        "meter_id": "7359992890497997",
        "list": "AIDON_V0001",
        "power_import_w": 4027.0,
        "energy_import_kwh": 109552.25,
        "gas_time": "2020-05-12T13:45:58",
        "submeters": [{"channel": 1, "device_type": 3, "kind": "gas", "value": 1.5, "unit": "m3"}],
        "obis": {
            "1-1:0.2.129": {"value": "AIDON_V0001"},
            "1-0:1.7.0": {"value": 4027, "unit": "W"},
            "1-0:1.8.0": {"value": 109552250, "unit": "Wh"},
            "1-0:1.8.0.1": {"value": 1, "unit": "Wh"},
            "0-0:98.1.0": {"value": 1, "entries": [{"time": "2020-05-01T00:00:00+02:00", "value": 3.695, "unit": "kW"}]}
        }
    })
}

#[test]
fn every_corpus_reading_matches_the_schema() {
    let Some(dir) = corpus::dir() else { return };
    let schema = compile(&schema_json());
    let mut checked = 0usize;
    let mut failures = Vec::new();
    for entry in corpus::manifest(&dir) {
        let file = entry["file"].as_str().expect("manifest entry has a file");
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let cfg =
            Config { key: corpus::key(&entry["key"]), auth_key: corpus::key(&entry["auth_key"]), ..Config::default() };
        // Once as is, once with a time zone so that naive meter clocks get
        // an offset: both forms must validate.
        let zoned = Config { tz: Some(chrono_tz::Europe::Oslo), ..cfg.clone() };
        let plain = readings(&bytes, cfg);
        if entry["valid"] == Json::Bool(true) && plain.is_empty() {
            failures.push(format!("{file}: no reading"));
        }
        for doc in plain.iter().chain(readings(&bytes, zoned).iter()) {
            checked += 1;
            for e in errors(&schema, doc) {
                failures.push(format!("{file}: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} schema violations:\n{}", failures.len(), failures.join("\n"));
    assert!(checked > 0, "no reading was checked");
    eprintln!("{checked} readings validated against docs/stream.schema.json");
}

#[test]
fn the_sample_line_is_valid() {
    let schema = compile(&schema_json());
    assert_eq!(errors(&schema, &sample()), Vec::<String>::new());
}

#[test]
fn the_schema_rejects_broken_lines() {
    let schema = compile(&schema_json());
    type Breaks = Box<dyn Fn(&mut Json)>;
    let broken: Vec<(&str, Breaks)> = vec![
        ("missing protocol", Box::new(|d| drop(d.as_object_mut().map(|m| m.remove("protocol"))))),
        ("missing obis", Box::new(|d| drop(d.as_object_mut().map(|m| m.remove("obis"))))),
        ("wrong version", Box::new(|d| d["v"] = json!(2))),
        ("obis key without E group", Box::new(|d| d["obis"]["1-0:1.8"] = json!({"value": 1, "unit": "Wh"}))),
        ("obis key with F = 255", Box::new(|d| d["obis"]["1-0:1.8.0.255"] = json!({"value": 1, "unit": "Wh"}))),
        ("obis key group over 255", Box::new(|d| d["obis"]["1-0:1.8.256"] = json!({"value": 1, "unit": "Wh"}))),
        ("obis key in DSMR * form", Box::new(|d| d["obis"]["1-0:1.8.0*1"] = json!({"value": 1, "unit": "Wh"}))),
        ("string where a number is expected", Box::new(|d| d["power_import_w"] = json!("4027"))),
        ("tariff not an integer", Box::new(|d| d["tariff"] = json!("0002"))),
        ("unknown top-level field", Box::new(|d| d["power_w"] = json!(1.0))),
        ("unknown protocol", Box::new(|d| d["protocol"] = json!("mbus"))),
        ("received not UTC", Box::new(|d| d["received"] = json!("2025-01-02T04:04:05+01:00"))),
        ("meter_time not a date-time", Box::new(|d| d["meter_time"] = json!("14.12.2025 16:00"))),
        ("meter_time converted to UTC", Box::new(|d| d["meter_time"] = json!("2025-12-14T15:00:00Z"))),
        ("object without value", Box::new(|d| d["obis"]["1-0:1.7.0"] = json!({"unit": "W"}))),
        ("unit not a string", Box::new(|d| d["obis"]["1-0:1.7.0"]["unit"] = json!(27))),
        ("object field misspelt", Box::new(|d| d["obis"]["1-0:1.7.0"]["units"] = json!("W"))),
        ("obis an array", Box::new(|d| d["obis"] = json!([]))),
        ("sub-meter without kind", Box::new(|d| drop(d["submeters"][0].as_object_mut().map(|m| m.remove("kind"))))),
        ("gas_time not a time", Box::new(|d| d["gas_time"] = json!(1589291158))),
    ];
    for (what, breaks) in broken {
        let mut doc = sample();
        breaks(&mut doc);
        assert!(!schema.is_valid(&doc), "the schema accepts a line with {what}: {doc}");
    }
}

#[test]
fn schema_and_docs_name_every_quantity() {
    let schema = schema_json();
    let props = schema["properties"].as_object().expect("schema has properties");
    let doc = std::fs::read_to_string(docs().join("stream.md")).expect("docs/stream.md readable");
    for name in Quantities::NAMES {
        assert!(props.contains_key(*name), "quantity {name} is not in docs/stream.schema.json");
        assert!(doc.contains(&format!("`{name}`")), "quantity {name} is not documented in docs/stream.md");
    }
    for key in props.keys() {
        assert!(
            FIXED.contains(&key.as_str()) || Quantities::NAMES.contains(&key.as_str()),
            "docs/stream.schema.json names {key}, which the library does not write"
        );
    }
    assert_eq!(schema["properties"]["v"]["const"], json!(han::STREAM_VERSION), "schema and library disagree on v");
}
