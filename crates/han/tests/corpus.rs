//! Every capture of the corpus through the streaming decoder, compared with
//! the manifest: values, meter time, number of readings, rejections.

mod common;

use common::Trouble;
use han::Warning;
use han_testkit::corpus;
use serde_json::Value as Json;

/// Decodes a whole capture; returns readings as JSON and error kinds.
fn decode_file(bytes: &[u8], entry: &Json) -> (Vec<Json>, Vec<String>) {
    common::decode_all(bytes, &common::keys(entry), |t| match t {
        Trouble::Rejected(error) => Some(format!("{}: {error}", error.kind())),
        // No real meter sends a value the decoder finds implausible: each
        // would be a value lost.
        Trouble::Warning(w @ Warning::Implausible(_)) => Some(format!("implausible: {w}")),
        Trouble::Warning(_) => None,
    })
}

#[test]
fn every_capture_decodes_as_the_manifest_says() {
    let Some(dir) = corpus::dir() else { return };
    let mut failures = Vec::new();
    let entries = corpus::manifest(&dir);
    for entry in &entries {
        let file = entry["file"].as_str().expect("file");
        if file.starts_with("prices/") {
            continue;
        }
        let bytes = std::fs::read(dir.join(file)).expect("capture readable");
        let (readings, errors) = decode_file(&bytes, entry);
        let want_n = entry["readings"].as_u64().expect("readings") as usize;
        let mut problems = Vec::new();
        if readings.len() != want_n {
            problems.push(format!("{} readings, want {want_n}; errors {errors:?}", readings.len()));
        }
        if let Some(e) = errors.iter().find(|e| e.starts_with("implausible")) {
            problems.push(e.clone());
        }
        if entry["valid"] == Json::Bool(false) && errors.is_empty() {
            problems.push("invalid capture gave no error".into());
        }
        if let Some(r) = readings.first() {
            if r["protocol"] != entry["protocol"] {
                problems.push(format!("protocol {} want {}", r["protocol"], entry["protocol"]));
            }
            let want_framing = match entry["framing"].as_str() {
                Some("hdlc-segmented") => "hdlc",
                other => other.unwrap_or(""),
            };
            if r["framing"] != want_framing {
                problems.push(format!("framing {} want {want_framing}", r["framing"]));
            }
            for (code, want) in entry["expect"].as_object().expect("expect") {
                if let Err(e) = corpus::compare(want, r["obis"].get(code)) {
                    problems.push(format!("{code}: {e}"));
                }
            }
            let got_time = r["meter_time"].as_str().map(|t| t.get(..19).unwrap_or(t).to_owned());
            let want_time = entry["meter_time"].as_str().map(str::to_owned);
            if got_time != want_time {
                problems.push(format!("meter_time {got_time:?}, want {want_time:?}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{file}:\n    {}", problems.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} captures wrong:\n{}", failures.len(), entries.len(), failures.join("\n"));
}
