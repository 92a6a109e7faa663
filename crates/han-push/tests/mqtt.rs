//! han-push mqtt against a real Mosquitto (Debian's, started by the test
//! on a free port with a config of its own), read back by `mosquitto_sub`:
//! the Home Assistant discovery configs, the states, availability and the
//! last will, a password file, TLS with a test CA, the broker restarted in
//! the middle of a stream, a small buffer dropping the oldest. The stream
//! lines are corpus captures through the real decoder. Without mosquitto,
//! openssl or the corpus a test says SKIPPED loudly, and fails under CI=true.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use common::*;
use han_testkit::skip;
use serde_json::Value;

const KAIFA: &str = "6970631403275928";
const AIDON: &str = "7359992890497997";
const ISKRA: &str = "K8EG004046395507";
/// The Kaifa's availability: the first meter named, so also the last will.
const AVAILABILITY: &str = "han/6970631403275928/availability";

/// The corpus, a fresh folder (`name`), a broker letting anyone in and a
/// subscriber to it; `None` where the test cannot run here.
fn anonymous_broker(name: &str) -> Option<(std::path::PathBuf, Tmp, Broker, Sub)> {
    let (Some(c), true) = (corpus::dir(), here()) else { return None };
    let tmp = Tmp::new("han-push", name);
    let b = Broker::start(&tmp, "broker", "allow_anonymous true\n");
    let sub = Sub::start(&b, &[]);
    Some((c, tmp, b, sub))
}

fn here() -> bool {
    if !std::path::Path::new(MOSQUITTO).exists() {
        skip("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)");
        return false;
    }
    have("mosquitto_sub", &["--help"]) && have("mosquitto_passwd", &["--help"])
}

/// A message as the subscriber printed it.
#[derive(Debug, Clone)]
struct Msg {
    retained: bool,
    topic: String,
    payload: String,
}

impl Msg {
    fn json(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or_else(|e| panic!("{}: {e}: {}", self.topic, self.payload))
    }
}

/// `mosquitto_sub` on `#` at QoS 1, a persistent session (it outlives a
/// broker restart), its messages collected by a thread.
struct Sub {
    child: Child,
    got: Arc<Mutex<Vec<Msg>>>,
}

impl Sub {
    fn start(b: &Broker, login: &[&str]) -> Sub {
        let id = format!("test-sub-{}", b.port);
        let port = b.port.to_string();
        let mut child = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port, "-t", "#", "-q", "1", "-c", "-i", &id, "-F", "%r %t %p"])
            .args(login)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub runs");
        let got = Arc::new(Mutex::new(Vec::new()));
        let into = Arc::clone(&got);
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { return };
                let mut f = line.splitn(3, ' ');
                let (Some(r), Some(topic), payload) = (f.next(), f.next(), f.next()) else { continue };
                let m = Msg { retained: r == "1", topic: topic.to_owned(), payload: payload.unwrap_or("").to_owned() };
                into.lock().expect("lock").push(m);
            }
        });
        let s = Sub { child, got };
        // Subscribed once a message of its own comes back.
        wait_until("the subscriber to subscribe", DEADLINE, || {
            let probe = Command::new("mosquitto_pub")
                .args(["-h", "127.0.0.1", "-p", &port, "-t", "test/probe", "-m", "probe", "-q", "1"])
                .args(login)
                .status();
            assert!(probe.is_ok_and(|s| s.success()), "mosquitto_pub");
            s.all().iter().any(|m| m.topic == "test/probe").then_some(())
        });
        s
    }

    fn all(&self) -> Vec<Msg> {
        self.got.lock().expect("lock").clone()
    }

    fn on(&self, topic: &str) -> Vec<Msg> {
        self.all().into_iter().filter(|m| m.topic == topic).collect()
    }

    /// Waits until `n` messages came on `topic`.
    fn wait(&self, topic: &str, n: usize) -> Vec<Msg> {
        wait_until(&format!("{n} messages on {topic}"), DEADLINE, || Some(self.on(topic)).filter(|m| m.len() >= n))
    }
}

impl Drop for Sub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The retained messages the broker holds under `filter`, `n` of them.
fn retained(b: &Broker, filter: &str, n: usize) -> Vec<Msg> {
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &b.port.to_string(), "-t", filter, "-F", "%r %t %p"])
        .args(["--retained-only", "-C", &n.to_string(), "-W", "20"])
        .output()
        .expect("mosquitto_sub runs");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ' ');
            Some(Msg { retained: f.next()? == "1", topic: f.next()?.to_owned(), payload: f.next()?.to_owned() })
        })
        .collect()
}

/// An empty config file, so that no /etc/han-tools/config.toml counts.
fn no_config(tmp: &Tmp) -> String {
    let p = tmp.join("empty.toml");
    std::fs::write(&p, "").expect("config");
    p.display().to_string()
}

fn push(tmp: &Tmp, name: &str, b: &Broker, extra: &[&str], env: &[(&str, &str)]) -> Push {
    let config = no_config(tmp);
    let url = b.url();
    let mut args = vec!["mqtt", "--config", &config, "--broker", &url, "--client-id", "test-push"];
    args.extend(extra);
    Push::start(tmp, name, &args, &[&[("HAN_PUSH_MQTT_PASSWORD", "")], env].concat())
}

/// Kaifa list 1 lines (power only, no meter id) received `n` times 2 s apart from `start`.
fn kaifa_list1(c: &std::path::Path, start: &str, n: usize) -> Vec<String> {
    lines(c, "han/kaifa-ma304h3e-list1-01.bin", &times(start, n, 2000))
}

fn kaifa_list2(c: &std::path::Path, at_: &str) -> String {
    lines(c, "han/kaifa-ma304h3e-list2-01.bin", &[at(at_)]).remove(0)
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).expect("a line")
}

/// Every quantity of the line is in the state with the line's value.
fn assert_state_has(state: &Value, line: &str) {
    let l = json(line);
    let mut n = 0;
    for q in han::Quantities::NAMES {
        if let Some(v) = l.get(*q) {
            assert_eq!(state.get(*q), Some(v), "{q} in {state}");
            n += 1;
        }
    }
    assert!(n > 0, "a line with quantities");
    assert_eq!(state.get("received"), l.get("received"));
    assert_eq!(state.get("meter_time"), l.get("meter_time"));
}

/// The `received` of each state, each the first time it came.
fn first_arrivals(states: &[Msg]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let all = states.iter().map(|m| m.json()["received"].as_str().unwrap_or("").to_owned());
    all.filter(|r| seen.insert(r.clone())).collect()
}

fn config_topic(meter: &str, q: &str) -> String {
    format!("homeassistant/sensor/han_{meter}/{q}/config")
}

#[test]
fn discovery_states_and_availability() {
    let Some((c, tmp, b, sub)) = anonymous_broker("mqtt-discovery") else { return };
    let mut input = vec![kaifa_list2(&c, "2025-06-01T10:00:00Z")];
    input.extend(kaifa_list1(&c, "2025-06-01T10:00:02Z", 2));
    input.push(lines(&c, "han/aidon-6534-list3-01.bin", &[at("2025-12-14T15:00:02.314Z")]).remove(0));
    input.push(lines(&c, "p1/dsmr50-iskra-mt382-01.txt", &[at("2025-01-01T00:00:00Z")]).remove(0));
    let mut p = push(&tmp, "push", &b, &[], &[]);
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("connected to mqtt://127.0.0.1:"), "{err}");

    // Availability, per meter: online before its discovery, offline at the end.
    for meter in [KAIFA, AIDON, ISKRA] {
        let topic = format!("han/{meter}/availability");
        let avail = sub.wait(&topic, 2);
        assert_eq!(avail.iter().map(|m| m.payload.as_str()).collect::<Vec<_>>(), ["online", "offline"], "{meter}");
        let all = sub.all();
        let pos = |f: &dyn Fn(&Msg) -> bool| all.iter().position(f).expect("there");
        let first_online = pos(&|m| m.topic == topic);
        let first_config = pos(&|m| m.topic.starts_with(&format!("homeassistant/sensor/han_{meter}/")));
        assert!(first_online < first_config, "online before the discovery of {meter}");
    }
    let all = sub.all();
    let last: Vec<&str> = all.iter().rev().take(3).map(|m| m.payload.as_str()).collect();
    assert_eq!(last, ["offline"; 3], "the offlines last");

    // Discovery: device class, unit and state class per quantity; the device block.
    let config = |meter: &str, q: &str| {
        let m = sub.on(&config_topic(meter, q));
        assert_eq!(m.len(), 1, "one config for {meter} {q}");
        m[0].json()
    };
    for (meter, q, class, unit, state_class) in [
        (KAIFA, "power_import_w", "power", "W", "measurement"),
        (KAIFA, "voltage_l1_v", "voltage", "V", "measurement"),
        (KAIFA, "current_l3_a", "current", "A", "measurement"),
        (KAIFA, "reactive_power_import_var", "reactive_power", "var", "measurement"),
        (AIDON, "energy_import_kwh", "energy", "kWh", "total_increasing"),
        (AIDON, "energy_export_kwh", "energy", "kWh", "total_increasing"),
        (AIDON, "reactive_energy_import_kvarh", "", "kvarh", "total_increasing"),
        (ISKRA, "energy_import_t1_kwh", "energy", "kWh", "total_increasing"),
        (ISKRA, "gas_m3", "gas", "m³", "total_increasing"),
    ] {
        let v = config(meter, q);
        assert_eq!(v["device_class"].as_str().unwrap_or(""), class, "{q}: {v}");
        assert_eq!(v["unit_of_measurement"], unit, "{q}");
        assert_eq!(v["state_class"], state_class, "{q}");
        assert_eq!(v["unique_id"], format!("han_{meter}_{q}"));
        let object_id = format!("han_{}_{q}", meter.to_ascii_lowercase());
        assert_eq!(
            (&v["object_id"], &v["default_entity_id"]),
            (&object_id.clone().into(), &format!("sensor.{object_id}").into())
        );
        assert_eq!(v["state_topic"], format!("han/{meter}/state"));
        assert_eq!(v["value_template"], format!("{{{{ value_json.{q} if '{q}' in value_json else '' }}}}"));
        let mut avail = vec![serde_json::json!({"topic": format!("han/{meter}/availability")})];
        if meter != KAIFA {
            avail.push(serde_json::json!({"topic": AVAILABILITY}));
        }
        assert_eq!(v["availability"], serde_json::Value::from(avail), "{meter} {q}");
        assert_eq!(v["expire_after"], 120);
        let device = if q == "gas_m3" { format!("han_{meter}_gas") } else { format!("han_{meter}") };
        assert_eq!(v["device"]["identifiers"], serde_json::json!([device]));
        assert!(v["device"].get("serial_number").is_none(), "not for Home Assistant 2024.1");
    }
    let k = config(KAIFA, "power_import_w");
    assert_eq!(
        (k["device"]["manufacturer"].as_str(), k["device"]["model"].as_str()),
        (Some("Kaifa"), Some("MA304H3E"))
    );
    assert_eq!(k["name"], "Power import");
    let i = config(ISKRA, "energy_import_kwh");
    assert_eq!(
        (i["device"]["manufacturer"].as_str(), i["device"]["model"].as_str(), i["device"]["name"].as_str()),
        (Some("Iskra"), Some("MT382-1000"), Some("Iskra MT382-1000"))
    );
    let gas = config(ISKRA, "gas_m3");
    assert_eq!(gas["device"]["via_device"], format!("han_{ISKRA}"), "the gas meter behind the meter");
    assert_eq!(gas["device"]["name"], "Gas meter");
    let tariff = config(ISKRA, "tariff");
    assert!(tariff.get("device_class").is_none() && tariff.get("state_class").is_none(), "{tariff}");
    assert!(sub.on(&config_topic(ISKRA, "gas_time")).is_empty(), "no sensor for a time");

    // States: each line's values; a list 1 line keeps the list 2 values it lacks.
    let kaifa = sub.on(&format!("han/{KAIFA}/state"));
    assert_eq!(kaifa.len(), 3);
    for (m, line) in kaifa.iter().zip(&input) {
        assert_state_has(&m.json(), line);
        assert!(!m.retained);
    }
    assert_eq!(kaifa[2].json()["voltage_l1_v"], json(&input[0])["voltage_l1_v"], "kept from list 2");
    let aidon = sub.wait(&format!("han/{AIDON}/state"), 1);
    assert_state_has(&aidon[0].json(), &input[3]);
    let iskra = sub.wait(&format!("han/{ISKRA}/state"), 1);
    assert_state_has(&iskra[0].json(), &input[4]);
    assert_eq!(iskra[0].json()["tariff"], 2);
    assert_eq!(iskra[0].json()["gas_time"], "2017-01-02T16:10:05+01:00");

    // Retained: a subscriber that comes later gets every config and the availability.
    let configs = all.iter().filter(|m| m.topic.starts_with("homeassistant/")).count();
    let kept = retained(&b, "homeassistant/#", configs);
    assert_eq!(kept.len(), configs);
    assert!(kept.iter().all(|m| m.retained));
    let kept = retained(&b, AVAILABILITY, 1);
    assert_eq!(kept.iter().map(|m| (m.retained, m.payload.as_str())).collect::<Vec<_>>(), [(true, "offline")]);
}

#[test]
fn a_replay_faster_than_the_broker_loses_nothing() {
    let Some((c, tmp, b, sub)) = anonymous_broker("mqtt-replay") else { return };
    let mut input = vec![kaifa_list2(&c, "2025-06-01T10:00:00Z")];
    input.extend(kaifa_list1(&c, "2025-06-01T10:00:02Z", 1500));
    let mut p = push(&tmp, "push", &b, &["--buffer", "5"], &[]);
    p.send(&input);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "connected, a full buffer waits rather than drops: {err}");
    assert!(!err.contains("dropped"), "{err}");
    let states = sub.wait(&format!("han/{KAIFA}/state"), input.len());
    for (m, line) in states.iter().zip(&input) {
        assert_state_has(&m.json(), line);
    }
}

#[test]
fn the_last_will_says_offline_when_han_push_is_killed() {
    let Some((c, tmp, b, sub)) = anonymous_broker("mqtt-will") else { return };
    let mut p = push(&tmp, "push", &b, &[], &[]);
    p.send(&[kaifa_list2(&c, "2025-06-01T10:00:00Z")]);
    sub.wait(&format!("han/{KAIFA}/state"), 1);
    assert_eq!(sub.on(AVAILABILITY).iter().map(|m| m.payload.as_str()).collect::<Vec<_>>(), ["online"]);
    drop(p); // SIGKILL: no offline of its own, no DISCONNECT
    let avail = sub.wait(AVAILABILITY, 2);
    assert_eq!(avail[1].payload, "offline", "the broker's last will");
    let kept = retained(&b, AVAILABILITY, 1);
    assert_eq!(kept.iter().map(|m| (m.retained, m.payload.as_str())).collect::<Vec<_>>(), [(true, "offline")]);
}

#[test]
fn a_password_from_the_environment_or_the_config_file_and_refusals() {
    let (Some(c), true) = (corpus::dir(), here()) else { return };
    let tmp = Tmp::new("han-push", "mqtt-login");
    let pw = tmp.join("passwords");
    let made = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pw)
        .args(["han", "s3cret-pw"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mosquitto_passwd");
    let b = Broker::start(&tmp, "broker", &format!("allow_anonymous false\npassword_file {}\n", pw.display()));
    let sub = Sub::start(&b, &["-u", "han", "-P", "s3cret-pw"]);
    let state = format!("han/{KAIFA}/state");

    let mut p = push(&tmp, "env", &b, &["--user", "han"], &[("HAN_PUSH_MQTT_PASSWORD", "s3cret-pw")]);
    p.send(&[kaifa_list2(&c, "2025-06-01T10:00:00Z")]);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    sub.wait(&state, 1);

    // The broker, the user and the password from the config file (readable by its owner only).
    let conf = tmp.join("han.toml");
    std::fs::write(
        &conf,
        format!("[han-push.mqtt]\nbroker = \"{}\"\nuser = \"han\"\npassword = \"s3cret-pw\"\n", b.url()),
    )
    .expect("config");
    std::fs::set_permissions(&conf, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("mode");
    let conf = conf.display().to_string();
    let args = ["mqtt", "--config", &conf, "--client-id", "test-push"];
    let mut p = Push::start(&tmp, "file", &args, &[("HAN_PUSH_MQTT_PASSWORD", "")]);
    p.send(&[kaifa_list2(&c, "2025-06-01T10:00:10Z")]);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    sub.wait(&state, 2);

    for (name, user, password) in [("wrong", Some("han"), "not-it"), ("anonymous", None, "")] {
        let mut args = vec![];
        if let Some(u) = user {
            args.extend(["--user", u]);
        }
        let mut p = push(&tmp, name, &b, &args, &[("HAN_PUSH_MQTT_PASSWORD", password)]);
        // It connects once a reading names its meter.
        p.send(&[kaifa_list2(&c, "2025-06-01T10:00:20Z")]);
        let (code, err) = p.finish();
        assert_eq!(code, 1, "{name}: {err}");
        assert!(err.contains("refused the connection: not authorised"), "{name}: {err}");
        assert!(!err.contains("s3cret") && !err.contains("not-it"), "no password on stderr: {err}");
    }
    let p = push(&tmp, "no-user", &b, &[], &[("HAN_PUSH_MQTT_PASSWORD", "x")]);
    let (code, err) = p.finish();
    assert_eq!(code, 2, "a password without a user is bad usage: {err}");
    assert!(err.contains("no user"), "{err}");
    assert_eq!(sub.on(&state).len(), 2);
}

#[test]
fn tls_with_a_private_ca() {
    let (Some(c), true) = (corpus::dir(), here() && have("openssl", &["version"])) else { return };
    let tmp = Tmp::new("han-push", "mqtt-tls");
    let p = |name: &str| tmp.join(name).display().to_string();
    std::fs::write(tmp.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").expect("ext");
    let (ca, ca_key, cert, key, csr, ext) =
        (p("ca.pem"), p("ca.key"), p("cert.pem"), p("key.pem"), p("req.csr"), p("ext.cnf"));
    for args in [
        vec!["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=han-push test CA", "-days", "2"]
            .into_iter()
            .chain(["-keyout", &ca_key, "-out", &ca])
            .collect::<Vec<_>>(),
        vec!["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", &key, "-out", &csr],
        vec!["x509", "-req", "-in", &csr, "-CA", &ca, "-CAkey", &ca_key, "-CAcreateserial", "-days", "2"]
            .into_iter()
            .chain(["-extfile", &ext, "-out", &cert])
            .collect(),
    ] {
        let made = Command::new("openssl").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(made.is_ok_and(|s| s.success()), "openssl {args:?}");
    }
    // A TLS listener for han-push beside the plain one for the subscriber.
    let tls_port = free_port();
    let extra = format!(
        "allow_anonymous true\nlistener {tls_port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
        ca, cert, key
    );
    let b = Broker::start(&tmp, "broker", &extra);
    let sub = Sub::start(&b, &[]);
    let config = no_config(&tmp);
    let url = format!("mqtts://127.0.0.1:{tls_port}");
    let base = ["mqtt", "--config", &config, "--broker", &url, "--client-id", "test-push"];
    let mut push = Push::start(&tmp, "tls", &[&base[..], &["--ca", &ca]].concat(), &[]);
    push.send(&[kaifa_list2(&c, "2025-06-01T10:00:00Z")]);
    let (code, err) = push.finish();
    assert_eq!(code, 0, "{err}");
    let states = sub.wait(&format!("han/{KAIFA}/state"), 1);
    assert_state_has(&states[0].json(), &kaifa_list2(&c, "2025-06-01T10:00:00Z"));
    assert_eq!(sub.wait(AVAILABILITY, 2)[1].payload, "offline");

    // The web's roots do not know the test CA: a clear error, not endless retries.
    let mut push = Push::start(&tmp, "no-ca", &base, &[]);
    push.send(&[kaifa_list2(&c, "2025-06-01T10:00:00Z")]);
    let (code, err) = push.finish();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("certificate"), "{err}");
}

#[test]
fn the_broker_restarts_in_the_middle_of_a_stream() {
    let Some((c, tmp, mut b, sub)) = anonymous_broker("mqtt-restart") else { return };
    let state = format!("han/{KAIFA}/state");
    let power = config_topic(KAIFA, "power_import_w");
    let mut input = vec![kaifa_list2(&c, "2025-06-01T10:00:00Z")];
    input.extend(kaifa_list1(&c, "2025-06-01T10:00:02Z", 11));
    let mut p = push(&tmp, "push", &b, &[], &[]);
    p.send(&input[..3]);
    sub.wait(&state, 3);

    b.stop();
    p.wait_said("lost mqtt://127.0.0.1");
    p.send(&input[3..8]); // while the broker is away: they wait
    b.restart();
    p.wait_said("is back after");
    p.send(&input[8..]);
    let (code, err) = p.finish();
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("dropped"), "{err}");

    // Every reading arrived, in order (at least once: QoS 1 on both sides of
    // a broker that went away may bring one twice).
    let want: Vec<String> = input.iter().map(|l| json(l)["received"].as_str().unwrap_or("").to_owned()).collect();
    let received = wait_until("every reading", DEADLINE, || {
        Some(first_arrivals(&sub.on(&state))).filter(|r| r.len() >= want.len())
    });
    assert_eq!(received, want);
    for m in sub.on(&state) {
        let line = input.iter().find(|l| json(l)["received"] == m.json()["received"]).expect("a line's state");
        assert_state_has(&m.json(), line);
    }
    // Online and the discovery again after the restart.
    assert!(sub.on(&power).len() >= 2, "the discovery again");
    let avail: Vec<String> = sub.wait(AVAILABILITY, 3).iter().map(|m| m.payload.clone()).collect();
    assert_eq!(avail.iter().filter(|a| *a == "online").count(), 2, "{avail:?}");
    assert_eq!(avail.last().map(String::as_str), Some("offline"));
}

#[test]
fn a_small_buffer_drops_the_oldest_and_says_how_many() {
    let Some((c, tmp, mut b, sub)) = anonymous_broker("mqtt-drops") else { return };
    let state = format!("han/{KAIFA}/state");
    let first = kaifa_list2(&c, "2025-06-01T10:00:00Z");
    let away = kaifa_list1(&c, "2025-06-01T10:00:02Z", 10);
    let mut p = push(&tmp, "push", &b, &["--buffer", "3"], &[]);
    p.send(std::slice::from_ref(&first));
    sub.wait(&state, 1);

    b.stop();
    p.wait_said("lost mqtt://127.0.0.1");
    p.send(&away);
    p.wait_said("readings dropped, the oldest first");
    b.restart();
    p.wait_said("is back after");
    let (code, err) = p.finish();
    assert_eq!(code, 3, "{err}");
    let dropped: usize = err
        .split("not all delivered: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the count of dropped readings: {err}"));
    assert!(dropped >= 1, "{err}");
    // What was not dropped arrived: the newest, in order.
    let states = wait_until("the kept readings", DEADLINE, || {
        let r = first_arrivals(&sub.on(&state));
        (r.len() > away.len() - dropped).then_some(r)
    });
    let want: Vec<String> = std::iter::once(&first)
        .chain(&away[dropped..])
        .map(|l| json(l)["received"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(states, want, "the oldest dropped: {err}");
}

/// Two han-push on one broker and host, one per meter, with the default
/// client ids: both stay connected, and killing one says only its own
/// meter offline.
#[test]
fn two_han_push_with_default_client_ids_share_a_broker() {
    let Some((c, tmp, b, sub)) = anonymous_broker("mqtt-two") else { return };
    let config = no_config(&tmp);
    let url = b.url();
    let args = ["mqtt", "--config", &config, "--broker", &url];
    let env = [("HAN_PUSH_MQTT_PASSWORD", "")];
    let mut kaifa = Push::start(&tmp, "kaifa", &args, &env);
    let mut iskra = Push::start(&tmp, "iskra", &args, &env);
    kaifa.send(&kaifa_list1(&c, "2025-06-01T09:59:58Z", 1)); // names no meter: no connection yet
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!kaifa.stderr().contains("connected to"), "it waits for the meter: {}", kaifa.stderr());
    kaifa.send(&[kaifa_list2(&c, "2025-06-01T10:00:00Z")]);
    iskra.send(&lines(&c, "p1/dsmr50-iskra-mt382-01.txt", &[at("2025-01-01T00:00:00Z")]));
    sub.wait(&format!("han/{KAIFA}/state"), 1);
    sub.wait(&format!("han/{ISKRA}/state"), 1);
    for (p, meter) in [(&mut kaifa, KAIFA), (&mut iskra, ISKRA)] {
        p.wait_said(&format!("connected to {url} as han-push-"));
        let err = p.stderr();
        assert!(err.contains(&format!("-{meter}\n")), "the client id ends in the meter id: {err}");
    }
    // More readings: neither connection is dropped for the other.
    kaifa.send(&kaifa_list1(&c, "2025-06-01T10:00:02Z", 3));
    iskra.send(&lines(&c, "p1/dsmr50-iskra-mt382-01.txt", &[at("2025-01-01T00:00:10Z")]));
    sub.wait(&format!("han/{KAIFA}/state"), 4);
    sub.wait(&format!("han/{ISKRA}/state"), 2);
    let log = std::fs::read_to_string(tmp.join("broker/mosquitto.log")).unwrap_or_default();
    assert!(!log.contains("already connected"), "{log}");
    assert!(!kaifa.stderr().contains("lost") && !iskra.stderr().contains("lost"));

    drop(kaifa); // SIGKILL: the broker says the will
    let avail = sub.wait(AVAILABILITY, 2);
    assert_eq!(avail.iter().map(|m| m.payload.as_str()).collect::<Vec<_>>(), ["online", "offline"]);
    let iskra_avail = format!("han/{ISKRA}/availability");
    assert_eq!(sub.on(&iskra_avail).iter().map(|m| m.payload.as_str()).collect::<Vec<_>>(), ["online"], "untouched");
    let (code, err) = iskra.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(sub.wait(&iskra_avail, 2)[1].payload, "offline");
}

#[test]
fn bad_home_assistant_settings_are_bad_usage() {
    let tmp = Tmp::new("han-push", "mqtt-usage");
    let config = no_config(&tmp);
    for (extra, says) in [
        (&["--ha-version", "2023.12"][..], "2024.1 or later"),
        (&["--ha-version", "latest"], "YEAR.MONTH"),
        (&["--expire-after", "500ms"], "whole seconds"),
    ] {
        let args = [&["mqtt", "--config", &config, "--broker", "mqtt://127.0.0.1:1"][..], extra].concat();
        let (code, err) = Push::start(&tmp, "usage", &args, &[]).finish();
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}
