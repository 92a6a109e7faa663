//! The corpus of real captures and price documents (`corpus/` at the
//! workspace root): finding it, its manifest, and comparing a manifest's
//! expectations with the stream.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// The corpus directory: `$HAN_CORPUS`, else the repository's `corpus/`.
/// `None` when it is absent, after [`skip`](crate::skip) said so (a failure
/// under CI).
pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus"));
    if dir.join("manifest.json").is_file() {
        return Some(dir);
    }
    crate::skip(&format!("CORPUS NOT FOUND at {} (set HAN_CORPUS): corpus tests did not run", dir.display()));
    None
}

/// The manifest entries.
pub fn manifest(dir: &Path) -> Vec<Json> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest readable");
    serde_json::from_str::<Vec<Json>>(&text).expect("manifest is a JSON array")
}

/// Parses a hex key from the manifest.
pub fn key(v: &Json) -> Option<[u8; 16]> {
    let s = v.as_str()?;
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(k)
}

/// The factor from a unit to its base unit (`kWh` -> `Wh` is 1000).
fn factor(unit: &str) -> Option<(&'static str, f64)> {
    Some(match unit {
        "W" => ("W", 1.0),
        "kW" => ("W", 1e3),
        "var" => ("var", 1.0),
        "kvar" | "kVAr" => ("var", 1e3),
        "VA" => ("VA", 1.0),
        "kVA" => ("VA", 1e3),
        "Wh" => ("Wh", 1.0),
        "kWh" => ("Wh", 1e3),
        "varh" => ("varh", 1.0),
        "kvarh" | "kVArh" => ("varh", 1e3),
        "V" => ("V", 1.0),
        "A" => ("A", 1.0),
        "mA" => ("A", 1e-3),
        "Hz" => ("Hz", 1.0),
        "m3" => ("m3", 1.0),
        "GJ" => ("GJ", 1.0),
        "s" => ("s", 1.0),
        _ => return None,
    })
}

/// Compares an expected `[number, unit]` or string with an object of the
/// stream (`{"value": .., "unit": ..}`); `Err` says how they differ.
pub fn compare(expected: &Json, got: Option<&Json>) -> Result<(), String> {
    let Some(got) = got else { return Err("missing".into()) };
    let value = &got["value"];
    match expected {
        Json::String(s) => match value.as_str() {
            Some(v) if v == s => Ok(()),
            _ => Err(format!("want {s:?}, got {value}")),
        },
        Json::Array(pair) => {
            let (Some(want), Some(want_unit)) = (pair[0].as_f64(), pair[1].as_str()) else {
                return Err(format!("bad expectation {expected}"));
            };
            let (Some(v), Some(unit)) = (value.as_f64(), got["unit"].as_str()) else {
                return Err(format!("want {want} {want_unit}, got {got}"));
            };
            let (Some((wb, wf)), Some((gb, gf))) = (factor(want_unit), factor(unit)) else {
                return Err(format!("unknown unit {want_unit} or {unit}"));
            };
            let (w, g) = (want * wf, v * gf);
            if wb != gb || (w - g).abs() > 1e-9 * w.abs().max(1.0) {
                return Err(format!("want {want} {want_unit}, got {v} {unit}"));
            }
            Ok(())
        }
        _ => Err(format!("bad expectation {expected}")),
    }
}
