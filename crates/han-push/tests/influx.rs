//! han-push influx against a real InfluxDB 1.x (Debian's influxd, started
//! by the test on free ports in a temporary directory) and, for the 2.x
//! request shape and the credentials, against the recording HTTP server.
//! The stream lines are made from corpus captures by the real decoder.
//! Without influxd, python3 or the corpus a test says SKIPPED loudly, and
//! fails under CI=true.

mod common;

use common::*;
use serde_json::{Value, json};

/// The point han-push writes for the Iskra DSMR 5 capture (the meter's clock, 19:20:02+01:00).
const ISKRA_POINT: &str = "han,meter_id=K8EG004046395507 power_import_w=244,power_export_w=0,power_import_l1_w=70,power_import_l2_w=32,power_import_l3_w=142,power_export_l1_w=0,power_export_l2_w=0,power_export_l3_w=0,voltage_l1_v=230,voltage_l2_v=230,voltage_l3_v=229,current_l1_a=0.48,current_l2_a=0.44,current_l3_a=0.86,energy_import_kwh=6.825,energy_export_kwh=2.444,energy_import_t1_kwh=4.426,energy_import_t2_kwh=2.399,energy_export_t1_kwh=2.444,energy_export_t2_kwh=0,tariff=2,gas_m3=0.107 1483381202000";

fn iskra(c: &std::path::Path) -> String {
    lines(c, "p1/dsmr50-iskra-mt382-01.txt", &[at("2025-01-01T00:00:00Z")]).remove(0)
}

/// Kaifa list 1 lines (power only, no meter id, a meter time without offset: the time received counts).
fn kaifa(c: &std::path::Path, start: &str, n: usize) -> Vec<String> {
    lines(c, "han/kaifa-ma304h3e-list1-01.bin", &times(start, n, 2000))
}

fn influxd_here() -> bool {
    have("influxd", &["version"])
}

/// influxd in `tmp`'s `influx` with the database `han`.
fn influxd_with_han(tmp: &Tmp) -> Influxd {
    let s = Influxd::start(&tmp.join("influx"), free_port());
    create(&s, "han");
    s
}

fn create(s: &Influxd, db: &str) {
    let v = s.query("", &format!("CREATE DATABASE {db}"));
    assert!(v["results"][0].get("error").is_none(), "{v}");
}

#[test]
fn points_are_written_and_read_back_with_their_values_and_times() {
    let (Some(c), true) = (corpus::dir(), influxd_here()) else { return };
    let tmp = Tmp::new("han-push", "written");
    let s = influxd_with_han(&tmp);
    let aidon = lines(&c, "han/aidon-6534-list3-01.bin", &[at("2025-12-14T15:00:02.314Z")]).remove(0);
    let no_quantities = lines(&c, "han/iskra-am550-si-02.bin", &[at("2025-01-01T00:00:00Z")]).remove(0);
    let mut input = vec![iskra(&c), aidon, "not a reading".to_owned(), no_quantities];
    input.extend(kaifa(&c, "2025-06-01T10:00:00Z", 300));
    let url = s.url();
    let mut p = Push::start(
        &tmp,
        "push",
        &["influx", "--url", &url, "--db", "han", "--batch", "100", "--flush-every", "300ms"],
        &[],
    );
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not a reading, skipped") && err.contains("1 lines of stdin were not readings"), "{err}");
    assert!(err.contains("a reading without quantities is not written"), "{err}");

    assert_eq!(s.count("han", "power_import_w"), 302);
    let rows = s.rows("han", "SELECT * FROM han WHERE meter_id = 'K8EG004046395507'");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["time"], json!(1_483_381_202_000_i64), "the meter's clock with its offset: 2017-01-02T18:20:02Z");
    for (field, v) in [
        ("power_import_w", 244.0),
        ("energy_import_t1_kwh", 4.426),
        ("energy_export_kwh", 2.444),
        ("current_l3_a", 0.86),
        ("gas_m3", 0.107),
        ("tariff", 2.0),
        ("power_export_w", 0.0),
    ] {
        assert_eq!(r[field].as_f64(), Some(v), "{field}: {r:?}");
    }
    assert_eq!(r["voltage_l1_v"].as_f64(), Some(230.0));
    let rows = s.rows("han", "SELECT * FROM han WHERE meter_id = '7359992890497997'");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["time"], json!(1_765_724_402_314_i64), "no offset in the meter time: the time received");
    for (field, v) in [
        ("power_import_w", 4027.0),
        ("energy_import_kwh", 109_552.25),
        ("reactive_energy_export_kvarh", 15_319.72),
        ("voltage_l3_v", 231.1),
        ("current_l3_a", 16.8),
    ] {
        assert_eq!(r[field].as_f64(), Some(v), "{field}: {r:?}");
    }
    assert_eq!(r["power_import_l1_w"], Value::Null, "absent stays absent");
    let kaifa_rows = s.rows("han", "SELECT power_import_w FROM han WHERE meter_id = '' ORDER BY time");
    assert_eq!(kaifa_rows.len(), 300);
    let first = at("2025-06-01T10:00:00Z").timestamp_millis();
    for (i, r) in kaifa_rows.iter().enumerate() {
        assert_eq!(r["time"].as_i64(), Some(first + 2000 * i as i64));
        assert_eq!(r["power_import_w"].as_f64(), Some(4117.0));
    }

    // A field type conflict: the server refuses the points; they are counted, exit 3.
    create(&s, "conflict");
    // (Field types are per shard: the conflicting point is in the same week.)
    let earlier = at("2025-06-02T09:00:00Z").timestamp_millis();
    let w = ureq::post(&format!("{url}/write"))
        .query("db", "conflict")
        .query("precision", "ms")
        .send_string(&format!("han power_import_w=1i {earlier}"));
    assert_eq!(w.map(|r| r.status()).ok(), Some(204));
    let mut p = Push::start(&tmp, "conflict", &["influx", "--url", &url, "--db", "conflict"], &[]);
    p.send(&kaifa(&c, "2025-06-02T10:00:00Z", 3));
    let (code, err) = p.finish();
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("the server refused 3 of 3 points, dropped: HTTP 400 partial write: field type conflict"),
        "{err}"
    );
    assert!(err.contains("3 readings could not be delivered") && err.contains("3 refused by the server"), "{err}");

    // No such database: said, and no endless retrying.
    let mut p = Push::start(&tmp, "missing", &["influx", "--url", &url, "--db", "nosuch"], &[]);
    p.send(&kaifa(&c, "2025-06-02T10:00:00Z", 2));
    let (code, err) = p.finish();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("database \"nosuch\"") && err.contains("not found (HTTP 404 database not found"), "{err}");
}

#[test]
fn readings_wait_while_the_server_is_away_and_are_delivered_when_it_is_back() {
    let (Some(c), true) = (corpus::dir(), influxd_here()) else { return };
    let tmp = Tmp::new("han-push", "away");
    let mut s = influxd_with_han(&tmp);
    s.stop();
    let url = s.url();
    let args = ["influx", "--url", &url, "--db", "han", "--flush-every", "200ms", "--last-try", "5m"];
    let mut p = Push::start(&tmp, "push", &args, &[]);
    let input = kaifa(&c, "2025-06-01T10:00:00Z", 100);
    p.send(&input[..50]);
    p.wait_said("cannot write to database \"han\"");
    p.send(&input[50..]);
    p.close();
    // Stdin was read to its end while the server was away.
    p.wait_said("input ended; trying the 100 points still waiting");
    s.restart();
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("writing again after"), "{err}");
    assert_eq!(s.count("han", "power_import_w"), 100);
}

#[test]
fn a_buffer_too_small_keeps_the_newest_and_says_what_it_dropped() {
    let (Some(c), true) = (corpus::dir(), influxd_here()) else { return };
    let tmp = Tmp::new("han-push", "small");
    let mut s = influxd_with_han(&tmp);
    s.stop();
    let url = s.url();
    let args = ["influx", "--url", &url, "--db", "han", "--buffer", "10", "--flush-every", "200ms", "--last-try", "5m"];
    let mut p = Push::start(&tmp, "push", &args, &[]);
    p.send(&kaifa(&c, "2025-06-01T10:00:00Z", 30));
    p.close();
    p.wait_said("input ended; trying the 10 points still waiting");
    s.restart();
    let (code, err) = p.finish();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("han-push: influx: the buffer was full (10 points): "), "said on stderr: {err}");
    assert!(
        err.contains("20 readings could not be delivered") && err.contains("20 dropped from the full buffer"),
        "{err}"
    );
    let rows = s.rows("han", "SELECT power_import_w FROM han ORDER BY time");
    let first = at("2025-06-01T10:00:00Z").timestamp_millis();
    let times: Vec<i64> = rows.iter().filter_map(|r| r["time"].as_i64()).collect();
    assert_eq!(times, (20..30).map(|i| first + 2000 * i).collect::<Vec<_>>(), "the 10 newest");
}

#[test]
fn influxdb_2_requests_have_the_org_bucket_token_and_line_protocol() {
    let Some(c) = corpus::dir() else { return };
    if !have("python3", &["--version"]) {
        return;
    }
    let tmp = Tmp::new("han-push", "v2");
    let r = Recorder::start(&tmp, "v2", Some(r#"[{"status": 204, "body": ""}]"#));
    let url = r.url();
    let args =
        ["influx", "--url", &url, "--org", "home", "--bucket", "han", "--batch", "2", "--measurement", "my meter"];
    let mut p = Push::start(&tmp, "push", &args, &[("HAN_PUSH_INFLUX_TOKEN", "tok-123")]);
    let mut input = vec![iskra(&c)];
    input.extend(kaifa(&c, "2025-06-01T10:00:00Z", 2));
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    let reqs = r.requests();
    assert_eq!(reqs.len(), 2, "a batch of 2, then the rest at the end: {reqs:?}");
    let mut body = Vec::new();
    for q in &reqs {
        assert_eq!((q["method"].as_str(), q["path"].as_str()), (Some("POST"), Some("/api/v2/write")));
        assert_eq!(q["query"], json!({"org": "home", "bucket": "han", "precision": "ms"}));
        assert_eq!(q["headers"]["authorization"], "Token tok-123");
        assert!(q["headers"]["content-type"].as_str().is_some_and(|t| t.starts_with("text/plain")));
        body.extend(q["body"].as_str().expect("body").lines().map(str::to_owned));
    }
    let t = at("2025-06-01T10:00:00Z").timestamp_millis();
    let expected = [
        ISKRA_POINT.replacen("han,", "my\\ meter,", 1),
        format!("my\\ meter power_import_w=4117 {t}"),
        format!("my\\ meter power_import_w=4117 {}", t + 2000),
    ];
    assert_eq!(body, expected);

    // A token the server refuses: said, exit 1.
    let r = Recorder::start(
        &tmp,
        "v2-401",
        Some(r#"[{"status": 401, "body": "{\"code\":\"unauthorized\",\"message\":\"unauthorized access\"}"}]"#),
    );
    let url = r.url();
    let mut p = Push::start(
        &tmp,
        "push-401",
        &["influx", "--url", &url, "--org", "o", "--bucket", "b"],
        &[("HAN_PUSH_INFLUX_TOKEN", "bad")],
    );
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refused the login (HTTP 401 unauthorized access): check the token ($HAN_PUSH_INFLUX_TOKEN)"),
        "{err}"
    );
    assert!(!err.contains("bad"), "the token is not shown: {err}");
}

#[test]
fn influxdb_1_login_from_the_config_file_as_basic_auth() {
    let Some(c) = corpus::dir() else { return };
    if !have("python3", &["--version"]) {
        return;
    }
    let tmp = Tmp::new("han-push", "v1auth");
    let r = Recorder::start(&tmp, "v1", Some(r#"[{"status": 204, "body": ""}]"#));
    let conf = tmp.join("config.toml");
    std::fs::write(
        &conf,
        format!("[han-push.influx]\nurl = \"{}\"\ndb = \"han\"\nuser = \"meter\"\npassword = \"pa:ss\"\n", r.url()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let conf_s = conf.to_str().unwrap();
    let mut p = Push::start(&tmp, "push", &["--config", conf_s, "influx"], &[]);
    p.send(&kaifa(&c, "2025-06-01T10:00:00Z", 1));
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("holds secrets but others can read it") && err.contains("chmod 600"), "{err}");
    let reqs = r.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["path"], "/write");
    assert_eq!(reqs[0]["query"], json!({"db": "han", "precision": "ms"}));
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("meter:pa:ss");
    assert_eq!(reqs[0]["headers"]["authorization"], format!("Basic {auth}"));

    // The environment wins over the file.
    let mut p =
        Push::start(&tmp, "push-env", &["--config", conf_s, "influx"], &[("HAN_PUSH_INFLUX_PASSWORD", "from-env")]);
    p.send(&kaifa(&c, "2025-06-01T11:00:00Z", 1));
    assert_eq!(p.finish().0, 0);
    let auth = base64::engine::general_purpose::STANDARD.encode("meter:from-env");
    assert_eq!(r.requests()[1]["headers"]["authorization"], format!("Basic {auth}"));
}

#[test]
fn bad_usage_exits_2() {
    let tmp = Tmp::new("han-push", "usage");
    for (args, says) in [
        (&["influx", "--db", "han"][..], "which server?"),
        (&["influx", "--url", "http://h:1", "--db", "han", "--org", "o", "--bucket", "b"], "not both"),
        (&["influx", "--url", "http://h:1", "--org", "o"], "both --org and --bucket"),
        (&["influx", "--url", "http://h:1", "--org", "o", "--bucket", "b"], "needs a token"),
        (&["influx", "--url", "http://h:1"], "--db NAME"),
        (&["influx", "--url", "h:1", "--db", "han"], "not an http"),
        (&["influx", "--url", "http://h:1", "--db", "han", "--user", "u"], "the password?"),
        (&["influx", "--url", "http://h:1", "--db", "han", "--password", "x"], "unexpected argument '--password'"),
    ] {
        let (code, err) = Push::start(&tmp, "usage", args, &[]).finish();
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A Norwegian meter's hourly list 3 has the time of the list 2 of the
/// same second (xx:00:00 by its clock): InfluxDB would keep one point of
/// the two. Two minutes over an hour from han-sim through han-read, as a
/// user runs it: one point per reading.
#[test]
fn a_list_3_with_the_time_of_a_list_2_is_a_point_of_its_own() {
    let (true, Some(sim), Some(read)) = (influxd_here(), han_testkit::built("han-sim"), han_testkit::built("han-read"))
    else {
        if influxd_here() {
            han_testkit::skip("han-sim or han-read not built (cargo build -p han-sim -p han-read)");
        }
        return;
    };
    let tmp = Tmp::new("han-push", "same-time");
    let s = influxd_with_han(&tmp);
    let bytes = std::process::Command::new(sim)
        .args(["--meter", "kaifa-no", "--start", "2026-03-02T10:59:00+01:00", "--duration", "2m", "--seed", "3"])
        .output()
        .expect("han-sim runs")
        .stdout;
    let out = std::process::Command::new(read)
        .args(["--tz", "Europe/Oslo", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(&bytes)?;
            c.wait_with_output()
        })
        .expect("han-read runs");
    let input: Vec<String> = String::from_utf8(out.stdout).expect("UTF-8").lines().map(str::to_owned).collect();
    assert_eq!(input.len(), 60, "two minutes of a Kaifa");
    let list3: Vec<&String> = input.iter().filter(|l| l.contains("\"energy_import_kwh\"")).collect();
    assert_eq!(list3.len(), 1, "one hourly list");
    let t = json(list3[0])["meter_time"].clone();
    assert_eq!(input.iter().filter(|l| json(l)["meter_time"] == t).count(), 2, "a list 2 of the same time: {t}");

    let url = s.url();
    let mut p = Push::start(&tmp, "push", &["influx", "--url", &url, "--db", "han", "--flush-every", "200ms"], &[]);
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 readings had the meter and the time of the reading before them"), "said: {err}");
    assert_eq!(s.count("han", "power_import_w"), 60, "a point per reading");
    let rows = s.rows("han", "SELECT energy_import_kwh, power_import_w, seq FROM han WHERE seq = '1'");
    assert_eq!(rows.len(), 1, "{rows:?}");
    for field in ["energy_import_kwh", "power_import_w"] {
        assert_eq!(rows[0][field].as_f64(), json(list3[0])[field].as_f64(), "{field}");
    }
    // The list 2 of that time keeps its own power, untagged.
    let t_ms = chrono::DateTime::parse_from_rfc3339(t.as_str().expect("a time")).expect("a time").timestamp_millis();
    let rows = s.rows("han", &format!("SELECT power_import_w FROM han WHERE time = {t_ms}ms AND seq != '1'"));
    let list2 =
        input.iter().find(|l| json(l)["meter_time"] == t && !l.contains("\"energy_import_kwh\"")).expect("the list 2");
    let kept: Vec<Option<f64>> = rows.iter().map(|r| r["power_import_w"].as_f64()).collect();
    assert!(kept.contains(&json(list2)["power_import_w"].as_f64()), "{rows:?}");
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("a line")
}
