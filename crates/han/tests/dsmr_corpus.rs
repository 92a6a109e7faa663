//! Every DSMR P1 capture of the corpus, decoded and compared with the
//! values its source asserts (`manifest.json`).
//!
//! The corpus is read at run time from `$HAN_CORPUS`, else `corpus/` at the
//! workspace root.

use han::{Obis, Value};
use han_testkit::corpus;
use serde_json::Value as Json;

/// Unit to (base unit, factor to base), case-insensitive.
fn base_unit(u: &str) -> (String, f64) {
    let l = u.to_ascii_lowercase();
    let (base, f) = match l.as_str() {
        "kwh" => ("wh", 1e3),
        "mwh" => ("wh", 1e6),
        "kw" => ("w", 1e3),
        "mw" => ("w", 1e6),
        "kvarh" => ("varh", 1e3),
        "kvar" => ("var", 1e3),
        "kva" => ("va", 1e3),
        "kvah" => ("vah", 1e3),
        "kv" => ("v", 1e3),
        "ma" => ("a", 1e-3),
        "gj" => ("mj", 1e3),
        _ => (l.as_str(), 1.0),
    };
    (base.to_owned(), f)
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// Checks one expected value; returns a description of the mismatch.
fn check(reading: &han::Reading, key: &str, want: &Json) -> Result<(), String> {
    let code: Obis = key.parse().map_err(|e| format!("bad key {key}: {e}"))?;
    let obj = reading.obis.get(code).ok_or_else(|| format!("{key}: missing"))?;
    match want {
        Json::String(s) => match &obj.value {
            Value::Text(t) if t == s => Ok(()),
            other => Err(format!("{key}: want text {s:?}, got {other:?}")),
        },
        Json::Array(pair) => {
            let (Some(n), Some(u)) = (pair.first().and_then(Json::as_f64), pair.get(1).and_then(Json::as_str)) else {
                return Err(format!("{key}: bad expectation {want}"));
            };
            let got = obj.value.as_f64().ok_or_else(|| format!("{key}: want number, got {:?}", obj.value))?;
            let got_unit = obj.unit.as_ref().map(|u| u.as_str()).ok_or_else(|| format!("{key}: no unit"))?;
            let (wb, wf) = base_unit(u);
            let (gb, gf) = base_unit(got_unit);
            if wb != gb {
                return Err(format!("{key}: want unit {u}, got {got_unit}"));
            }
            if !close(n * wf, got * gf) {
                return Err(format!("{key}: want {n} {u}, got {got} {got_unit}"));
            }
            Ok(())
        }
        other => Err(format!("{key}: unsupported expectation {other}")),
    }
}

#[test]
fn dsmr_corpus() {
    let Some(dir) = corpus::dir() else { return };
    let manifest: Json = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("read manifest"))
        .expect("manifest is JSON");
    let entries = manifest.as_array().expect("manifest is a list");
    let mut failures = Vec::new();
    let mut checked = 0;
    for e in entries {
        if e["protocol"] != "p1" || e["framing"] != "dsmr" {
            continue;
        }
        let file = e["file"].as_str().expect("file");
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|err| panic!("{file}: {err}"));
        let valid = e["valid"].as_bool().expect("valid");
        checked += 1;
        let decoded = han::dsmr::frame_telegram(&bytes).map(|t| han::dsmr::decode_telegram(t, None));
        if !valid {
            if let Some(Ok(r)) = decoded {
                failures.push(format!("{file}: invalid capture decoded ({} objects)", r.obis.len()));
            }
            continue;
        }
        let reading = match decoded {
            None => {
                failures.push(format!("{file}: no complete telegram found"));
                continue;
            }
            Some(Err(err)) => {
                failures.push(format!("{file}: {err}"));
                continue;
            }
            Some(Ok(r)) => r,
        };
        if let Some(expect) = e["expect"].as_object() {
            for (key, want) in expect {
                if let Err(m) = check(&reading, key, want) {
                    failures.push(format!("{file}: {m}"));
                }
            }
        }
        let got_time = reading.meter_time.map(|t| t.local.format("%Y-%m-%dT%H:%M:%S").to_string());
        let want_time = e["meter_time"].as_str().map(str::to_owned);
        if got_time != want_time {
            failures.push(format!("{file}: meter_time want {want_time:?}, got {got_time:?}"));
        }
        // A decoder must also survive every truncation of the capture.
        for cut in 0..bytes.len() {
            let _ = han::dsmr::frame_telegram(&bytes[..cut]).map(|t| han::dsmr::decode_telegram(t, None));
        }
    }
    eprintln!("dsmr corpus: {checked} captures checked");
    assert!(checked > 0, "no p1/dsmr entries in the manifest");
    assert!(failures.is_empty(), "{} corpus mismatches:\n{}", failures.len(), failures.join("\n"));
}
