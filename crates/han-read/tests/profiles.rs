//! Meter profiles through han-read: `--meter-profile`, `meter_profiles` in
//! the config file, errors in a profile file, and the draft `--structure`
//! prints for a list no profile knows.

use std::process::{Command, Output};

use han_testkit::{Tmp, corpus};
use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_han-read");

fn run(args: &[&str], path: &std::path::Path) -> (Output, Vec<Json>, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg(path)
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("han-read runs");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, lines, err)
}

/// The 15-minute energy push of a Slovenian AM550 (`'84605887', 0,
/// 7924641, 0`): no built-in profile knows it.
const ISKRA_15MIN: &str = "han/iskra-am550-si-02.bin";

/// A profile for it, as its user would write one: the meter number, a
/// tariff number and the energy registers in Wh.
const ISKRA_15MIN_PROFILE: &str = r#"
[[profile]]
name = "iskra-am550-si-15min"
manufacturer = "Iskra"

[[profile.match]]
values = 4

[[profile.layout]]
positions = [
  { obis = "0-0:96.1.0", type = "octet-string" },
  { obis = "0-0:96.14.0", type = "unsigned" },
  { obis = "1-0:1.8.0", type = "double-long-unsigned", unit = "Wh" },
  { obis = "1-0:2.8.0", type = "double-long-unsigned", scaler = 0, unit = "Wh" },
]
"#;

#[test]
fn a_user_profile_names_the_values_of_a_list_the_build_does_not_know() {
    let Some(dir) = corpus::dir() else { return };
    let tmp = Tmp::new("han-read", "profile");
    let capture = dir.join(ISKRA_15MIN);
    // Without a profile: the values under placeholder codes.
    let (_, plain, _) = run(&["-q"], &capture);
    assert_eq!(plain[0]["obis"]["0-0:128.0.2"]["value"], 7_924_641, "{plain:?}");
    assert!(plain[0].get("energy_import_kwh").is_none());
    let file = tmp.join("iskra.toml");
    std::fs::write(&file, ISKRA_15MIN_PROFILE).expect("profile written");
    let (out, got, err) = run(&["-q", "--meter-profile", file.to_str().expect("utf-8")], &capture);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let r = &got[0];
    assert_eq!(r["energy_import_kwh"], 7924.641, "{r}");
    assert_eq!(r["obis"]["1-0:1.8.0"], serde_json::json!({"value": 7_924_641, "unit": "Wh"}));
    assert_eq!(r["manufacturer"], "Iskra");
    assert_eq!(r["meter_id"], "84605887");
    assert!(r["obis"].get("0-0:128.0.2").is_none(), "{r}");
    // The same from the config file, relative to its folder.
    let config = tmp.join("config.toml");
    std::fs::write(&config, "[han-read]\nmeter_profiles = [\"iskra.toml\"]\n").expect("config written");
    let (out, got, err) = run(&["-q", "--config", config.to_str().expect("utf-8")], &capture);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(got[0]["energy_import_kwh"], 7924.641, "{err}");
    assert!(!err.contains("no such setting"), "meter_profiles is a known key: {err}");
}

#[test]
fn a_bad_profile_file_is_an_error_with_its_line_and_column() {
    let Some(dir) = corpus::dir() else { return };
    let tmp = Tmp::new("han-read", "bad-profile");
    let capture = dir.join(ISKRA_15MIN);
    for (text, want) in [
        // A unit no meter sends: the line and column of the position.
        (
            "[[profile]]\nname = \"x\"\n[[profile.match]]\nvalues = 4\n[[profile.layout]]\npositions = [\n  { obis = \"1-0:1.8.0\", unit = \"kWh\" },\n]\n",
            "line 7, column 3: unknown unit \"kWh\"",
        ),
        // Not TOML at all.
        ("[[profile]\nname = 1\n", "line 1, column"),
        // A typo in a key.
        ("[[profile]]\nname = \"x\"\nmanufactrer = \"y\"\n", "line 3, column 1: unknown field `manufactrer`"),
        // An OBIS code that is not one.
        ("[[profile]]\nname = \"x\"\n[[profile.match]]\npush_setup = \"0-8:25.9\"\n", "line 4, column 14"),
    ] {
        let file = tmp.join("bad.toml");
        std::fs::write(&file, text).expect("written");
        let (out, got, err) = run(&["-q", "--meter-profile", file.to_str().expect("utf-8")], &capture);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(got.is_empty());
        assert!(
            err.contains(&format!("--meter-profile {}: {want}", file.display())),
            "{text}\nwant {want:?} in: {err}"
        );
    }
    let (out, _, err) = run(&["--meter-profile", "/nonexistent/profile.toml"], &capture);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("--meter-profile /nonexistent/profile.toml"), "{err}");
}

#[test]
fn structure_prints_a_draft_profile_once_per_unknown_layout() {
    let Some(dir) = corpus::dir() else { return };
    let tmp = Tmp::new("han-read", "draft");
    let capture = dir.join(ISKRA_15MIN);
    let twice = tmp.join("twice.bin");
    let bytes = std::fs::read(&capture).expect("capture");
    std::fs::write(&twice, [bytes.clone(), bytes].concat()).expect("written");
    let out = Command::new(BIN).args(["--structure", "-q"]).arg(&twice).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("no meter profile describes this list").count(), 1, "{text}");
    for want in [
        "[[profile.match]]",
        "values = 4",
        r#"{ obis = "0-0:96.1.0", type = "octet-string" },"#,
        r#"{ obis = "0-0:128.0.2", type = "double-long-unsigned", scaler = 0, unit = "none" },"#,
        "# 2: 7924641 -- TODO: code, scaler, unit",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    // The draft loads as it is, and then the list is known: no draft.
    let start = text.find("# Draft meter profile").expect("draft");
    let end = text[start..].find("\n]\n").map(|e| start + e + 3).expect("draft ends");
    let draft = tmp.join("draft.toml");
    std::fs::write(&draft, &text[start..end]).expect("written");
    let out = Command::new(BIN)
        .args(["--structure", "-q", "--meter-profile"])
        .arg(&draft)
        .arg(&capture)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("no meter profile describes"), "{text}");
    // A list a built-in profile knows gets no draft, in either mode.
    for mode in ["--structure", "--hexdump"] {
        let out = Command::new(BIN).args([mode, "-q"]).arg(dir.join("han/kaifa-ma304h3e-list2-01.bin")).output();
        let text = String::from_utf8_lossy(&out.expect("runs").stdout).into_owned();
        assert!(!text.contains("no meter profile describes"), "{mode}: {text}");
    }
    let out = Command::new(BIN).args(["--hexdump", "-q"]).arg(&capture).output().expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no meter profile describes this list"));
}

/// The worked example's profile, from `docs/profiles.md`.
fn docs_example_profile() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/profiles.md");
    let doc = std::fs::read_to_string(path).expect("docs/profiles.md");
    let marker = "<!-- profiles.md example: the han-read tests load this block -->\n```toml\n";
    let start = doc.find(marker).expect("the example's marker") + marker.len();
    let end = doc[start..].find("\n```").expect("the block ends") + start;
    doc[start..end].to_owned()
}

#[test]
fn the_worked_example_decodes_a_meter_the_build_does_not_know() {
    let tmp = Tmp::new("han-read", "acme");
    let capture = tmp.join("acme.bin");
    let out = Command::new(han_testkit::sibling("han-sim"))
        .args(["--meter", "acme-x3", "--count", "3", "--seed", "1", "--start", "2025-01-15T18:00:00+01:00", "-o"])
        .arg(&capture)
        .env_remove("HAN_KEY")
        .env_remove("HAN_AUTH_KEY")
        .output()
        .expect("han-sim runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Unknown: its values under placeholder codes, no quantity.
    let (_, plain, _) = run(&["-q"], &capture);
    assert_eq!(plain.len(), 3);
    assert!(plain[0].get("power_import_w").is_none() && plain[0]["obis"].get("0-0:128.0.3").is_some());
    let file = tmp.join("acme-x3.toml");
    std::fs::write(&file, docs_example_profile()).expect("written");
    let (out, got, err) =
        run(&["-q", "--tz", "Europe/Berlin", "--meter-profile", file.to_str().expect("utf-8")], &capture);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(got.len(), 3);
    let r = &got[0];
    // The raw values of the first frame (han-read --structure shows them):
    // 945 W; 2297, 2277, 2292 in 0.1 V; 1282, 1376, 1502 mA; 1381236 and
    // 1396 in 10 Wh.
    assert_eq!(r["manufacturer"], "Acme");
    assert_eq!(r["list"], "ACME_X3_V1");
    assert_eq!(r["meter_time"], "2025-01-15T18:00:00+01:00");
    assert_eq!(r["power_import_w"], 945.0);
    assert_eq!([&r["voltage_l1_v"], &r["voltage_l2_v"], &r["voltage_l3_v"]], [229.7, 227.7, 229.2]);
    assert_eq!([&r["current_l1_a"], &r["current_l2_a"], &r["current_l3_a"]], [1.282, 1.376, 1.502]);
    assert_eq!(r["energy_import_kwh"], 13812.36);
    assert_eq!(r["obis"]["1-0:2.8.0"], serde_json::json!({"value": 13960, "unit": "Wh"}));
    // The line the document shows, but for the time it was received.
    let mut line = r.clone();
    line["received"] = Json::from("...");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/profiles.md")).expect("doc");
    let shown = doc.lines().find(|l| l.starts_with("{\"v\":1,\"received\":\"...\"")).expect("the doc's line");
    assert_eq!(serde_json::from_str::<Json>(shown).expect("JSON"), line, "docs/profiles.md shows the line");
}
