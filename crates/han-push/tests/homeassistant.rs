//! han-push mqtt against real Home Assistant cores: 2024.1.6 (the oldest
//! supported, the last on Python 3.11) and 2025.4.4 (the newest Python
//! 3.13.0 installs), each from PyPI in a venv that scripts/ha-venv.sh makes
//! once (~/.cache/han-tools/ha-VERSION, or $HAN_HA_VENVS) and scripts/test.sh
//! runs before cargo test. Each test starts Mosquitto and Home Assistant
//! with a fresh config dir (tests/ha/ha.py: MQTT as a config entry, an
//! owner with a long-lived token), feeds han-sim through han-read into two
//! han-push (a Norwegian Kaifa; a DSMR 5 meter with gas), and checks from
//! Home Assistant's own API: every sensor with its unit, device class and
//! state class, states equal to the stream, the gas meter a device behind
//! its meter, the energy dashboard's validation without an issue, no
//! warning or error about them in home-assistant.log; a han-push killed
//! makes its meter unavailable and not the other, back on restart without
//! a template warning; a meter silent longer than --expire-after is
//! unavailable while its han-push runs. Without the venvs, mosquitto or the
//! sibling binaries the test says SKIPPED loudly, and fails under CI=true.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use han_testkit::{loud, skip, wait_ok};
use serde_json::{Value, json};

const HELPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ha/ha.py");
/// Home Assistant's first start on a venv ha-venv.sh did not warm up installs
/// the integrations' requirements: minutes.
const START: Duration = Duration::from_secs(600);

#[test]
fn home_assistant_2024_1() {
    home_assistant("2024.1.6");
}

#[test]
fn home_assistant_2025_4() {
    home_assistant("2025.4.4");
}

/// The venv of a release, made by scripts/ha-venv.sh.
fn venv(version: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("HAN_HA_VENVS") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            cache.join("han-tools")
        }
    };
    let dir = base.join(format!("ha-{version}"));
    dir.join(".ready").is_file().then_some(dir)
}

/// A Home Assistant core of the test's own.
struct Ha {
    child: Option<Child>,
    venv: PathBuf,
    dir: PathBuf,
    port: u16,
    token: String,
}

impl Ha {
    fn start(venv: &Path, dir: &Path, mqtt_port: u16) -> Ha {
        let port = free_port();
        let out = Command::new(venv.join("bin/python"))
            .args([HELPER, "setup"])
            .arg(dir)
            .args([port.to_string(), mqtt_port.to_string()])
            .output()
            .expect("python runs");
        assert!(out.status.success(), "ha.py setup: {}", String::from_utf8_lossy(&out.stderr));
        let token = String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned();
        let log = std::fs::File::create(dir.join("hass.out")).expect("log");
        let child = Command::new(venv.join("bin/hass"))
            .arg("-c")
            .arg(dir)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("hass runs");
        let mut ha = Ha { child: Some(child), venv: venv.to_owned(), dir: dir.to_owned(), port, token };
        let started = Instant::now();
        wait_until("Home Assistant to answer with mqtt and energy set up", START, || {
            if let Some(Ok(Some(s))) = ha.child.as_mut().map(Child::try_wait) {
                panic!("hass ended ({s}): {}", ha.tail());
            }
            let c = ha.get("/api/config").ok()?;
            let comps = c["components"].as_array()?;
            ["mqtt", "energy", "recorder"].iter().all(|w| comps.iter().any(|c| c == w)).then_some(())
        });
        loud(&format!("Home Assistant {} started in {:.1} s", c_version(&ha), started.elapsed().as_secs_f64()));
        ha
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        let r = ureq::get(&format!("http://127.0.0.1:{}{path}", self.port))
            .set("Authorization", &format!("Bearer {}", self.token))
            .timeout(Duration::from_secs(10))
            .call()
            .map_err(|e| e.to_string())?;
        serde_json::from_reader(r.into_reader()).map_err(|e| e.to_string())
    }

    /// The han sensors' states, by entity id.
    fn states(&self) -> BTreeMap<String, Value> {
        let all = self.get("/api/states").unwrap_or_else(|e| panic!("/api/states: {e}"));
        all.as_array()
            .expect("a list")
            .iter()
            .filter_map(|s| {
                let id = s["entity_id"].as_str()?;
                id.starts_with("sensor.han_").then(|| (id.to_owned(), s.clone()))
            })
            .collect()
    }

    /// Websocket commands; each one's result (panics on a failed one).
    fn ws(&self, msgs: &[Value]) -> Vec<Value> {
        let out = Command::new(self.venv.join("bin/python"))
            .args([HELPER, "ws", &self.port.to_string(), &self.token])
            .args(msgs.iter().map(Value::to_string))
            .output()
            .expect("python runs");
        assert!(out.status.success(), "ha.py ws: {}", String::from_utf8_lossy(&out.stderr));
        let v: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON");
        v.into_iter()
            .zip(msgs)
            .map(|(r, m)| {
                assert_eq!(r["success"], true, "{m}: {r}");
                r["result"].clone()
            })
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("home-assistant.log")).unwrap_or_default()
    }

    /// Fails the test, with the end of Home Assistant's log.
    fn fail(&self, what: &str) -> ! {
        panic!("Home Assistant: {what}\n--- log ---\n{}", self.tail())
    }

    fn tail(&self) -> String {
        let log = self.log() + &std::fs::read_to_string(self.dir.join("hass.out")).unwrap_or_default();
        log.chars().rev().take(6000).collect::<Vec<_>>().into_iter().rev().collect()
    }

    /// The warnings and errors of the log about MQTT, han-push's entities or templates.
    fn complaints(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| [" WARNING ", " ERROR ", " CRITICAL "].iter().any(|w| l.contains(w)))
            .filter(|l| ["mqtt", "han_", "value_json", "energy", "sensor."].iter().any(|w| l.contains(w)))
            .map(str::to_owned)
            .collect()
    }
}

fn c_version(ha: &Ha) -> String {
    ha.get("/api/config").ok().and_then(|c| c["version"].as_str().map(str::to_owned)).unwrap_or_default()
}

impl Drop for Ha {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            let end = Instant::now() + Duration::from_secs(30);
            while Instant::now() < end && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits for `f` (up to 7 minutes: the recorder compiles statistics every
/// 5), each han-push of `beats` sending its line every 2 s meanwhile, as
/// its meter would: Home Assistant subscribes to a sensor's state topic
/// only once its config came (the states of a stream sent at once are gone
/// by then), and a sensor with expire_after is unavailable until a state.
fn beating<T>(what: &str, beats: &mut [(&mut Push, &String)], mut f: impl FnMut() -> Result<T, String>) -> T {
    let mut last: Option<Instant> = None;
    wait_ok(what, Duration::from_secs(420), || {
        if last.is_none_or(|l| l.elapsed() >= Duration::from_secs(2)) {
            for (p, line) in beats.iter_mut() {
                p.send(std::slice::from_ref(*line));
            }
            last = Some(Instant::now());
        }
        f()
    })
}

/// The types of the issues of energy/validate's answer.
fn energy_issues(v: &Value) -> Vec<String> {
    let lists = v["energy_sources"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(v["device_consumption"].as_array().into_iter().flatten());
    lists
        .flat_map(|l| l.as_array().cloned().unwrap_or_default())
        .map(|i| i["type"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// han-sim ARGS | han-read READ_ARGS: the lines.
fn simulated(sim: &Path, read: &Path, args: &[&str], read_args: &[&str]) -> Vec<String> {
    let bytes = Command::new(sim).args(args).output().expect("han-sim runs").stdout;
    let out = Command::new(read)
        .args(read_args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(&bytes)?;
            c.wait_with_output()
        })
        .expect("han-read runs");
    String::from_utf8(out.stdout).expect("UTF-8").lines().map(str::to_owned).collect()
}

/// The newest value of each number quantity over the lines, by name.
fn newest(lines: &[String]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("a line");
        for q in han::Quantities::NAMES {
            if let Some(x) = v.get(*q).and_then(Value::as_f64) {
                out.insert((*q).to_owned(), x);
            }
        }
    }
    out
}

fn meter_id(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| serde_json::from_str::<Value>(l).ok()?["meter_id"].as_str().map(str::to_owned))
        .expect("a line with the meter id")
}

fn entity(meter: &str, q: &str) -> String {
    format!("sensor.han_{}_{q}", meter.to_ascii_lowercase())
}

/// Unit, device class and state class as Home Assistant should have them.
fn expected_class(q: &str) -> (Option<&'static str>, Option<&'static str>, Option<&'static str>) {
    const T: Option<&str> = Some("total_increasing");
    const M: Option<&str> = Some("measurement");
    match q {
        "gas_m3" => (Some("m³"), Some("gas"), T),
        "tariff" => (None, None, None),
        q if q.ends_with("_kwh") => (Some("kWh"), Some("energy"), T),
        q if q.ends_with("_kvarh") => (Some("kvarh"), None, T),
        q if q.ends_with("_var") => (Some("var"), Some("reactive_power"), M),
        q if q.ends_with("_w") => (Some("W"), Some("power"), M),
        q if q.ends_with("_v") => (Some("V"), Some("voltage"), M),
        q if q.ends_with("_a") => (Some("A"), Some("current"), M),
        q => panic!("no class for {q}"),
    }
}

/// Every quantity of `want` is a sensor with its classes and value.
fn check_sensors(states: &BTreeMap<String, Value>, meter: &str, want: &BTreeMap<String, f64>) -> Result<(), String> {
    for (q, v) in want {
        let id = entity(meter, q);
        let s = states.get(&id).ok_or_else(|| format!("no {id}"))?;
        let got = s["state"].as_str().unwrap_or("");
        if got.parse::<f64>().ok() != Some(*v) {
            return Err(format!("{id} is {got:?}, the stream's newest {v}"));
        }
        let a = &s["attributes"];
        let (unit, class, state_class) = expected_class(q);
        let have = (a["unit_of_measurement"].as_str(), a["device_class"].as_str(), a["state_class"].as_str());
        if have != (unit, class, state_class) {
            return Err(format!("{id}: {have:?}, not {:?}", (unit, class, state_class)));
        }
    }
    Ok(())
}

fn push(tmp: &Tmp, name: &str, b: &Broker, extra: &[&str]) -> Push {
    let config = tmp.join("empty.toml");
    std::fs::write(&config, "").expect("config");
    let config = config.display().to_string();
    let url = b.url();
    // No --client-id: two han-push on one broker and host must not clash.
    let mut args = vec!["mqtt", "--config", &config, "--broker", &url];
    args.extend(extra);
    Push::start(tmp, name, &args, &[("HAN_PUSH_MQTT_PASSWORD", "")])
}

fn home_assistant(version: &str) {
    let Some(venv) = venv(version) else {
        skip(&format!("Home Assistant {version} is not installed (scripts/ha-venv.sh installs it)"));
        return;
    };
    if !Path::new(MOSQUITTO).exists() {
        skip("mosquitto is not installed (apt-get install mosquitto)");
        return;
    }
    let (Some(sim), Some(read)) = (han_testkit::built("han-sim"), han_testkit::built("han-read")) else {
        skip("han-sim or han-read is not built (cargo build -p han-sim -p han-read)");
        return;
    };
    let Some(corpus) = corpus::dir() else { return };
    let t0 = Instant::now();
    let tmp = Tmp::new("han-push", &format!("ha-{version}"));
    let b = Broker::start(&tmp, "broker", "allow_anonymous true\n");
    let ha_dir = tmp.join("ha");
    std::fs::create_dir_all(&ha_dir).expect("ha dir");
    let ha = Ha::start(&venv, &ha_dir, b.port);

    // Over an hour: list 1, list 2, and the hourly list 3 with the registers.
    let kaifa = simulated(
        &sim,
        &read,
        &["--meter", "kaifa-no", "--start", "2026-03-02T10:59:00+01:00", "--duration", "2m", "--seed", "3"],
        &["--tz", "Europe/Oslo"],
    );
    let dsmr = simulated(&sim, &read, &["--meter", "dsmr5", "--count", "10", "--seed", "1"], &[]);
    let (k_id, d_id) = (meter_id(&kaifa), meter_id(&dsmr));
    let (k_want, d_want) = (newest(&kaifa), newest(&dsmr));
    assert!(
        k_want.contains_key("energy_import_kwh") && d_want.contains_key("gas_m3"),
        "registers and gas in the stream"
    );

    let mut pk = push(&tmp, "kaifa", &b, &[]);
    // The DSMR meter's configs for the release under test: 2025.4 also gets
    // the device's serial number, which 2024.1 would refuse.
    let release = version.rsplit_once('.').map_or(version, |(r, _)| r);
    let mut pd = push(&tmp, "dsmr", &b, &["--ha-version", release]);
    pk.send(&kaifa);
    pd.send(&dsmr);
    let (k_last, d_last) = (kaifa.last().expect("lines").clone(), dsmr.last().expect("lines").clone());
    let states =
        beating("every sensor with the stream's values", &mut [(&mut pk, &k_last), (&mut pd, &d_last)], || {
            let s = ha.states();
            check_sensors(&s, &k_id, &k_want)?;
            check_sensors(&s, &d_id, &d_want)?;
            Ok(s)
        });
    let n = k_want.len() + d_want.len();
    if states.len() != n {
        ha.fail(&format!("{} han sensors, not {n}: {:?}", states.len(), states.keys().collect::<Vec<_>>()));
    }
    let name = |q: &str, m: &str| states[&entity(m, q)]["attributes"]["friendly_name"].as_str().map(str::to_owned);
    assert_eq!(name("power_import_w", &k_id).as_deref(), Some("Kaifa MA304H3E Power import"));
    assert_eq!(name("gas_m3", &d_id).as_deref(), Some("Gas meter"), "the gas meter's one sensor");
    for (p, who) in [(&pk, "kaifa"), (&pd, "dsmr")] {
        let err = p.stderr();
        assert!(!err.contains("lost"), "{who}: no client id clash: {err}");
    }
    let broker_log = std::fs::read_to_string(tmp.join("broker/mosquitto.log")).unwrap_or_default();
    assert!(!broker_log.contains("already connected"), "{broker_log}");

    // The devices: each meter's, and the gas meter behind the DSMR meter.
    let [devices, entities] = <[Value; 2]>::try_from(
        ha.ws(&[json!({"type": "config/device_registry/list"}), json!({"type": "config/entity_registry/list"})]),
    )
    .expect("two results");
    let device = |ident: &str| -> Value {
        devices
            .as_array()
            .expect("devices")
            .iter()
            .find(|d| d["identifiers"].as_array().is_some_and(|i| i.iter().any(|i| i[1] == ident)))
            .cloned()
            .unwrap_or_else(|| ha.fail(&format!("no device {ident}")))
    };
    let meter = device(&format!("han_{d_id}"));
    let gas = device(&format!("han_{d_id}_gas"));
    assert_eq!((meter["manufacturer"].as_str(), meter["model"].as_str()), (Some("Iskra"), Some("M550T-1011")));
    assert_eq!(gas["via_device_id"], meter["id"], "the gas meter behind the meter: {gas}");
    if version.starts_with("2024.1.") {
        assert!(meter.get("serial_number").is_none_or(Value::is_null), "{meter}");
    } else {
        assert_eq!(meter["serial_number"], d_id.as_str(), "--ha-version {release}: {meter}");
    }
    let kaifa_dev = device(&format!("han_{k_id}"));
    assert_eq!(kaifa_dev["name"], "Kaifa MA304H3E");
    let device_of = |e: &str| {
        entities.as_array().expect("entities").iter().find(|x| x["entity_id"] == e).map(|x| x["device_id"].clone())
    };
    assert_eq!(device_of(&entity(&d_id, "gas_m3")), Some(gas["id"].clone()));
    assert_eq!(device_of(&entity(&d_id, "energy_import_t1_kwh")), Some(meter["id"].clone()));

    // The energy dashboard takes the registers and the gas as they are.
    let flow_from = |e: String| json!({"stat_energy_from": e, "stat_cost": null, "entity_energy_price": null, "number_energy_price": null});
    let flow_to = |e: String| json!({"stat_energy_to": e, "stat_compensation": null, "entity_energy_price": null, "number_energy_price": null});
    let prefs = json!({"type": "energy/save_prefs", "energy_sources": [
        {"type": "grid", "cost_adjustment_day": 0,
         "flow_from": [flow_from(entity(&k_id, "energy_import_kwh")), flow_from(entity(&d_id, "energy_import_t1_kwh")), flow_from(entity(&d_id, "energy_import_t2_kwh"))],
         "flow_to": [flow_to(entity(&k_id, "energy_export_kwh")), flow_to(entity(&d_id, "energy_export_t1_kwh")), flow_to(entity(&d_id, "energy_export_t2_kwh"))]},
        {"type": "gas", "stat_energy_from": entity(&d_id, "gas_m3"), "stat_cost": null, "entity_energy_price": null, "number_energy_price": null}
    ]});
    let r = ha.ws(&[prefs, json!({"type": "energy/validate"})]);
    // Until the recorder's first statistics (every 5 minutes) it says
    // statistics_not_defined, and nothing else about sensors it takes.
    let issues = energy_issues(&r[1]);
    if issues.iter().any(|i| i != "statistics_not_defined") {
        ha.fail(&format!("the energy dashboard's validation: {}", r[1]));
    }

    // kill -9 of the Kaifa's han-push: its sensors unavailable (the will), the DSMR's not.
    drop(pk);
    wait_ok("the Kaifa's sensors unavailable", DEADLINE, || {
        let s = ha.states();
        let k: Vec<&str> = k_want.keys().map(|q| s[&entity(&k_id, q)]["state"].as_str().unwrap_or("")).collect();
        if k.iter().all(|x| *x == "unavailable") { Ok(()) } else { Err(format!("{k:?}")) }
    });
    check_sensors(&ha.states(), &d_id, &d_want)
        .unwrap_or_else(|e| ha.fail(&format!("the DSMR meter's sensors after the Kaifa's han-push died: {e}")));

    // Back: a new han-push with list 1 and 2 only (the registers come with
    // the next hour): available again, the registers kept, and no template
    // warning for the quantities its states lack.
    let lists_1_2: Vec<String> = kaifa.iter().filter(|l| !l.contains("\"energy_import_kwh\"")).cloned().collect();
    let mut pk = push(&tmp, "kaifa-again", &b, &[]);
    pk.send(&lists_1_2);
    let k_last = lists_1_2.last().expect("lines").clone();
    beating("the Kaifa's sensors back", &mut [(&mut pk, &k_last)], || {
        let s = ha.states();
        let power = &s[&entity(&k_id, "power_import_w")]["state"];
        let energy = &s[&entity(&k_id, "energy_import_kwh")]["state"];
        let want = (newest(&lists_1_2)["power_import_w"], k_want["energy_import_kwh"]);
        let got = (power.as_str().and_then(|p| p.parse().ok()), energy.as_str().and_then(|e| e.parse().ok()));
        if got == (Some(want.0), Some(want.1)) { Ok(()) } else { Err(format!("{got:?}, not {want:?}")) }
    });

    // A meter silent while its han-push runs: unavailable after --expire-after.
    let aidon = lines(&corpus, "han/aidon-6534-list3-01.bin", &[at("2025-12-14T15:00:02.314Z")]);
    let a_id = meter_id(&aidon);
    let mut pa = push(&tmp, "aidon", &b, &["--expire-after", "5s"]);
    pa.send(&aidon);
    let a_power = entity(&a_id, "power_import_w");
    beating("the Aidon's power", &mut [(&mut pa, &aidon[0])], || {
        match ha.states().get(&a_power).map(|s| s["state"].clone()) {
            Some(Value::String(s)) if s != "unavailable" && s != "unknown" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    let silent = Instant::now();
    wait_ok("the silent Aidon's sensors unavailable", DEADLINE, || {
        match ha.states().get(&a_power).and_then(|s| s["state"].as_str().map(str::to_owned)) {
            Some(s) if s == "unavailable" => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    assert!(silent.elapsed() >= Duration::from_secs(3), "expired by time, not at once");
    assert!(pa.stderr().contains("connected to"), "its han-push still runs: {}", pa.stderr());
    let k_power = &ha.states()[&entity(&k_id, "power_import_w")]["state"];
    assert!(k_power.as_str().is_some_and(|s| s != "unavailable"), "the Kaifa's: {k_power}");

    // The energy dashboard's validation once the recorder has compiled
    // statistics (at most 5 minutes), the meters still sending.
    let mut checked = Instant::now() - Duration::from_secs(60);
    let waited = Instant::now();
    beating("the energy validation without an issue", &mut [(&mut pk, &k_last), (&mut pd, &d_last)], || {
        if checked.elapsed() < Duration::from_secs(10) {
            return Err("not yet".into());
        }
        checked = Instant::now();
        let v = ha.ws(&[json!({"type": "energy/validate"})]).remove(0);
        let issues = energy_issues(&v);
        if issues.iter().any(|i| i != "statistics_not_defined") {
            ha.fail(&format!("the energy dashboard's validation: {v}"));
        }
        if issues.is_empty() { Ok(()) } else { Err(v.to_string()) }
    });
    loud(&format!("Home Assistant {version}: waited {:.0} s for the statistics", waited.elapsed().as_secs_f64()));

    let complaints = ha.complaints();
    if !complaints.is_empty() {
        ha.fail(&format!("warnings or errors about han-push's sensors:\n{}", complaints.join("\n")));
    }
    for (p, who) in [(pk, "kaifa"), (pd, "dsmr"), (pa, "aidon")] {
        let (code, err) = p.finish();
        assert_eq!(code, 0, "{who}: {err}");
    }
    loud(&format!("Home Assistant {version}: the test took {:.1} s", t0.elapsed().as_secs_f64()));
}
