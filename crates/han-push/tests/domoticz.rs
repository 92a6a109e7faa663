//! han-push domoticz against a recording HTTP server standing in for
//! Domoticz (not packaged in Debian): the udevice requests' idx and svalue
//! for known readings (hand-computed), the interval by reading time, gas,
//! basic auth, an ERR answer, a server that fails once. The stream lines
//! are made from corpus captures by the real decoder (the DSMR line's clock
//! and values set per line, to tell the updates apart). Without python3 or
//! the corpus a test says SKIPPED loudly, and fails under CI=true.

mod common;

use common::*;
use serde_json::{Value, json};

/// The Iskra DSMR 5 line with its clock at 2025-03-01T12:00:00+01:00 plus `s` seconds, drawing `w` W, gas `m3`.
fn iskra(c: &std::path::Path, s: i64, w: f64, m3: f64) -> String {
    let line = lines(c, "p1/dsmr50-iskra-mt382-01.txt", &[at("2025-01-01T00:00:00Z")]).remove(0);
    let mut v: Value = serde_json::from_str(&line).expect("JSON");
    let t = at("2025-03-01T11:00:00Z") + chrono::Duration::seconds(s);
    v["meter_time"] = json!(
        t.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
    );
    v["power_import_w"] = json!(w);
    v["gas_m3"] = json!(m3);
    v.to_string()
}

/// (idx, svalue) of each request, checking the rest of each.
fn updates(reqs: &[Value]) -> Vec<(String, String)> {
    reqs.iter()
        .map(|r| {
            assert_eq!((r["method"].as_str(), r["path"].as_str()), (Some("GET"), Some("/json.htm")), "{r}");
            let q = &r["query"];
            assert_eq!(
                (q["type"].as_str(), q["param"].as_str(), q["nvalue"].as_str()),
                (Some("command"), Some("udevice"), Some("0")),
                "{r}"
            );
            (q["idx"].as_str().unwrap_or_default().to_owned(), q["svalue"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn ready() -> Option<std::path::PathBuf> {
    let c = corpus::dir()?;
    have("python3", &["--version"]).then_some(c)
}

fn u(idx: &str, s: &str) -> (String, String) {
    (idx.to_owned(), s.to_owned())
}

#[test]
fn the_p1_and_gas_devices_are_updated_every_interval_of_reading_time() {
    let Some(c) = ready() else { return };
    let tmp = Tmp::new("han-push", "interval");
    let r = Recorder::start(&tmp, "d", None);
    let url = r.url();
    let mut p = Push::start(
        &tmp,
        "push",
        &["domoticz", "--url", &url, "--idx-p1", "12", "--idx-gas", "13", "--interval", "10s"],
        &[],
    );
    // A reading a second; gas 0.107 m3 then 0.2 from the 15th second.
    let line = |i: i64| iskra(&c, i, 100.0 + i as f64, if i < 15 { 0.107 } else { 0.2 });
    // The registers of the capture: import t1 4.426, t2 2.399, export t1 2.444, t2 0 kWh.
    let p1 = |w: i64| u("12", &format!("4426;2399;2444;0;{w};0"));
    p.send(&(0..10).map(line).collect::<Vec<_>>());
    assert_eq!(updates(&r.wait_requests(2)), [p1(100), u("13", "107")], "the first reading, and the gas in litres");
    p.send(&(10..20).map(line).collect::<Vec<_>>());
    assert_eq!(updates(&r.wait_requests(3))[2..], [p1(110)], "10 s of reading time later; the gas unchanged");
    p.send(&(20..25).map(line).collect::<Vec<_>>());
    assert_eq!(updates(&r.wait_requests(5))[3..], [p1(120), u("13", "200")], "the gas changed");
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(updates(&r.requests())[5..], [p1(124)], "at the end, the newest values");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_han_meter_is_sent_once_its_energy_registers_came() {
    let Some(c) = ready() else { return };
    let tmp = Tmp::new("han-push", "han");
    let r = Recorder::start(&tmp, "d", None);
    let url = r.url();
    let mut p = Push::start(&tmp, "push", &["domoticz", "--url", &url, "--idx-p1", "7", "--interval", "10s"], &[]);
    // Power only (Aidon list 1: 280 W) every 2 s; no counter to send yet.
    p.send(&lines(&c, "han/aidon-6525-list1-llc-01.bin", &times("2025-12-14T14:59:54Z", 3, 2000)));
    p.wait_said("waiting for a reading with the energy registers");
    // The hourly list: 109552.25 kWh imported, 0 exported, 4027 W.
    p.send(&lines(&c, "han/aidon-6534-list3-01.bin", &[at("2025-12-14T15:00:02.314Z")]));
    assert_eq!(updates(&r.wait_requests(1)), [u("7", "109552250;0;0;0;4027;0")]);
    // Power again, the registers kept: 4 s later (not due), then 12 s later (due).
    p.send(&lines(&c, "han/aidon-6525-list1-llc-01.bin", &[at("2025-12-14T15:00:06Z")]));
    p.send(&lines(&c, "han/aidon-6515-list2-01.bin", &[at("2025-12-14T15:00:14.400Z")]));
    assert_eq!(updates(&r.wait_requests(2))[1..], [u("7", "109552250;0;0;0;1362;0")]);
    let (code, err) = p.finish();
    assert_eq!((code, r.requests().len()), (0, 2), "{err}");
    assert!(!err.contains("missed"), "{err}");
}

#[test]
fn basic_auth_from_the_config_file_and_the_environment_and_an_err_answer_is_said() {
    let Some(c) = ready() else { return };
    let tmp = Tmp::new("han-push", "auth");
    let r = Recorder::start(&tmp, "d", Some(r#"[{"status": 200, "body": "{\"status\":\"ERR\"}"}]"#));
    let conf = tmp.join("config.toml");
    std::fs::write(&conf, format!("[han-push.domoticz]\nurl = \"{}\"\nidx_p1 = 99\nuser = \"admin\"\n", r.url()))
        .unwrap();
    let conf = conf.to_str().unwrap();
    let mut p = Push::start(&tmp, "push", &["--config", conf, "domoticz"], &[("HAN_PUSH_DOMOTICZ_PASSWORD", "geheim")]);
    p.send(&[iskra(&c, 0, 500.0, 1.0)]);
    let (code, err) = p.finish();
    assert_eq!(code, 3, "the newest values were not delivered: {err}");
    assert!(err.contains("update of idx 99 missed: Domoticz answered ERR: is there a device with this idx"), "{err}");
    assert!(err.contains("the newest readings could not be delivered"), "{err}");
    let reqs = r.requests();
    assert_eq!(updates(&reqs), [u("99", "4426;2399;2444;0;500;0")]);
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("admin:geheim");
    assert_eq!(reqs[0]["headers"]["authorization"], format!("Basic {auth}"));
    assert!(!err.contains("geheim"), "{err}");

    // Without the password: bad usage, before anything is sent.
    let (code, err) = Push::start(&tmp, "nopw", &["--config", conf, "domoticz"], &[]).finish();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--user admin: the password? $HAN_PUSH_DOMOTICZ_PASSWORD"), "{err}");

    // A refused login ends it: exit 1.
    let r = Recorder::start(&tmp, "d401", Some(r#"[{"status": 401, "body": ""}]"#));
    let url = r.url();
    let args = ["domoticz", "--url", &url, "--idx-p1", "5", "--user", "admin"];
    let mut p = Push::start(&tmp, "push401", &args, &[("HAN_PUSH_DOMOTICZ_PASSWORD", "wrong")]);
    p.send(&[iskra(&c, 0, 500.0, 1.0)]);
    let (code, err) = p.finish();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refused the login (HTTP 401): check --user and the password ($HAN_PUSH_DOMOTICZ_PASSWORD)"),
        "{err}"
    );
}

#[test]
fn a_missed_update_is_said_and_the_next_interval_sends_newer_values() {
    let Some(c) = ready() else { return };
    let tmp = Tmp::new("han-push", "missed");
    let ok = r#"{"status": 200, "body": "{\"status\":\"OK\",\"title\":\"Update Device\"}"}"#;
    let r = Recorder::start(&tmp, "d", Some(&format!(r#"[{{"status": 503, "body": "busy"}}, {ok}]"#)));
    let url = r.url();
    let mut p = Push::start(&tmp, "push", &["domoticz", "--url", &url, "--idx-p1", "3", "--interval", "1m"], &[]);
    p.send(&[iskra(&c, 0, 1000.0, 1.0), iskra(&c, 30, 1030.0, 1.0)]);
    p.wait_said("update of idx 3 missed: HTTP 503 busy");
    assert_eq!(r.requests().len(), 1, "no backlog: the missed one is not sent again");
    p.send(&[iskra(&c, 60, 1060.0, 1.0)]);
    let reqs = r.wait_requests(2);
    assert_eq!(updates(&reqs)[1..], [u("3", "4426;2399;2444;0;1060;0")]);
    p.wait_said("updating again");
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("updates: 1 sent, 1 missed, 0 skipped"), "{err}");
}

#[test]
fn bad_usage_exits_2() {
    let tmp = Tmp::new("han-push", "dusage");
    for (args, says) in [
        (&["domoticz", "--idx-p1", "1"][..], "which server?"),
        (&["domoticz", "--url", "http://h:1"], "which device?"),
        (&["domoticz", "--url", "http://h:1", "--idx-p1", "1", "--interval", "0s"], "interval must be more than 0"),
        (&["domoticz", "--url", "http://h:1", "--idx-p1", "x"], "invalid value 'x'"),
    ] {
        let (code, err) = Push::start(&tmp, "usage", args, &[]).finish();
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
