//! The live page (`www/index.html`, `live.js`, `style.css`) in a real browser:
//! Debian's Chromium driven by chromedriver over plain W3C WebDriver
//! (han-testkit's client), the page served by
//! `python3 -m http.server` from a temp folder under a sub-path. The test writes `data/current.json` and
//! `data/today.json` as han-log does (temp file + rename) and checks what the
//! page shows: the values, that a new file is picked up without reloading,
//! that a short list keeps the full list's values, the stale banner (old
//! reading, missing file), the chart, and a missing `today.json`. Last, han-log
//! itself writes the data of a simulated Kaifa (han-sim | han-read): the
//! meter reading of its hourly list 3 stays, with its time, after the list 2
//! that follows it, also when the page is opened after it.
//!
//! `HAN_UPDATE_SCREENSHOT=1` also writes the fresh page to `docs/live-page.png`.
//! Without chromium, chromedriver or python3 the test says SKIPPED loudly;
//! with `CI=true` it fails instead.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use han_common::times::day_bounds;
use han_common::tz::Tz;
use han_testkit::webdriver::{Guard, browser_tools, phone_browser, serve_static};
use serde_json::{Value, json};

const WWW: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/");
const SCREENSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/live-page.png");
/// The files han-log writes into the www folder besides its data.
const PAGE_FILES: &[&str] = &["index.html", "live.js", "style.css"];
/// The sub-path the page is served under: it must work anywhere.
const SUB: &str = "han";
const METER_ID: &str = "6970631401234567";
/// The viewport, CSS pixels: a common phone.
const PHONE: (u32, u32) = (390, 844);
const OSLO: Tz = Tz::Europe__Oslo;

#[test]
fn live_page_in_chromium() {
    if !browser_tools("the live page") {
        return;
    }
    let started = Instant::now();
    let mut guard = Guard::new("han-log-it", "live_page");
    let site = guard.dir.join("site");
    let www = site.join(SUB);
    fs::create_dir_all(www.join("data")).unwrap();
    // han-log puts the page there, as it does for a user's web folder.
    let installed =
        common::run(&["--dir", guard.dir.join("log").to_str().unwrap(), "--www", www.to_str().unwrap()], "");
    assert!(installed.status.success(), "{}", common::stderr(&installed));
    for f in PAGE_FILES {
        let want = fs::read(format!("{WWW}{f}")).unwrap();
        assert_eq!(fs::read(www.join(f)).unwrap_or_default(), want, "han-log wrote www/{f} as it is in the repository");
    }
    let html = fs::read_to_string(www.join("index.html")).unwrap();
    assert!(html.lines().take(5).any(|l| l.contains("<!-- written by han-log -->")), "index.html lacks its marker");
    for link in
        ["<noscript>", "href=\"prices.html\"", "href=\"peaks.html\"", "href=\"relays.html\"", "href=\"report.html\""]
    {
        assert!(html.contains(link), "index.html lacks {link}");
    }
    for f in PAGE_FILES {
        let text = fs::read_to_string(www.join(f)).unwrap();
        assert!(text.lines().take(3).any(|l| l.contains("written by han-log")), "www/{f} lacks the han-log mark");
    }

    // The data han-log would write.
    let now = Utc::now();
    let (today, today_import, today_export) = today_json(now);
    write_atomic(&www.join("data/today.json"), &today);
    let current = www.join("data/current.json");

    // A static server and a browser.
    let http_port = serve_static(&mut guard, &site, &format!("/{SUB}/index.html"));
    phone_browser(&mut guard, PHONE);
    let d = guard.driver.as_ref().unwrap();
    let startup = started.elapsed();

    // 1. Fresh full list: the values of current.json and today.json.
    let now = Utc::now();
    write_atomic(&current, &full_list(now, 4027.0, 0.0, 233.0));
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/"));
    d.wait_text("#power-import", "4.03 kW");
    d.wait_text("#voltage-l1", "233.0 V");
    assert_eq!(d.text("#voltage-l3"), "231.1 V");
    assert_eq!(d.text("#current-l3"), "9.80 A");
    assert_eq!(d.text("#power-l3"), "2.11 kW");
    assert_eq!(d.text("#power-export"), "0 W");
    assert_eq!(d.text("#meter-id"), METER_ID);
    assert!(d.text("#meter-time").starts_with(&local_stamp(now)[..10]), "meter time");
    assert_eq!(d.text("#energy-import-meter"), "109,552.3 kWh");
    let at = d.text("#meter-reading-time");
    assert!(at.starts_with("at ") && local_stamp(now).contains(&at[3..]), "the reading's own time: {at:?}");
    assert!(!d.displayed("#energy-export-meter"), "an export register the line does not have");
    d.wait_text_matches("#energy-import-today", |t| close_kwh(t, today_import));
    assert!(close_kwh(&d.text("#energy-export-today"), today_export));
    let last = d.text("#last-reading");
    assert!(last.contains(" s ago"), "last reading: {last:?}");
    assert!(!d.displayed("#stale"), "stale banner shown on a fresh reading");
    let chart = d.script(
        "const s = document.getElementById('chart');
         return {paths: s.querySelectorAll('path').length,
                 strokes: Array.from(s.querySelectorAll('path')).map(p => (p.getAttribute('d').match(/M/g) || []).length),
                 texts: s.querySelectorAll('text').length,
                 width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height};",
    );
    assert_eq!(chart["paths"], json!(2), "an import and an export path: {chart}");
    let strokes: u64 = chart["strokes"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum();
    assert!(strokes > 100, "the chart drew {strokes} minutes: {chart}");
    assert!(chart["texts"].as_u64().unwrap() >= 8, "hour labels: {chart}");
    assert!(chart["height"].as_f64().unwrap() > 100.0, "chart height: {chart}");

    // Still fresh a few polls later; the screenshot of the fresh page.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!d.displayed("#stale"), "stale banner shown on a fresh reading");
    let png = d.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
    fs::write(guard.dir.join("live-page.png"), &png).unwrap();
    if std::env::var("HAN_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        fs::write(SCREENSHOT, &png).unwrap();
        eprintln!("live_page: wrote {SCREENSHOT}");
    }

    // 2. A new file is picked up without reloading; a short list (power
    // only, as Norwegian meters send every 2 s) keeps the full list's values.
    d.script("window.hanNotReloaded = true; return null;");
    write_atomic(&current, &short_list(Utc::now(), 1234.0));
    d.wait_text("#power-import", "1.23 kW");
    assert_eq!(d.text("#voltage-l1"), "233.0 V", "a short list blanked the voltage");
    assert_eq!(d.text("#current-l3"), "9.80 A", "a short list blanked the current");
    assert_eq!(d.text("#power-export"), "0 W");
    assert_eq!(d.text("#meter-id"), METER_ID);
    write_atomic(&current, &full_list(Utc::now(), 0.0, 850.0, 229.5));
    d.wait_text("#voltage-l1", "229.5 V");
    assert_eq!(d.text("#power-export"), "850 W");
    assert_eq!(d.text("#power-import"), "0 W");
    assert_eq!(d.script("return window.hanNotReloaded === true;"), json!(true), "the page reloaded");

    // 3. An old reading: the banner shows, and goes when readings come again.
    write_atomic(&current, &full_list(Utc::now() - TimeDelta::seconds(60), 0.0, 850.0, 229.5));
    d.wait_displayed("#stale", true);
    let banner = d.text("#stale");
    assert!(banner.contains("No new reading"), "banner: {banner:?}");
    assert!(d.text("#last-reading").contains("s ago"));
    write_atomic(&current, &full_list(Utc::now(), 0.0, 850.0, 229.5));
    d.wait_displayed("#stale", false);

    // 4. current.json cannot be fetched: the banner says so, the values stay.
    fs::remove_file(&current).unwrap();
    d.wait_displayed("#stale", true);
    let banner = d.text("#stale");
    assert!(banner.contains("Cannot read data/current.json"), "banner: {banner:?}");
    assert_eq!(d.text("#power-export"), "850 W");
    assert_eq!(d.script("return window.hanNotReloaded === true;"), json!(true), "the page reloaded");

    // 5. No today.json (han-log just started): the live values still work.
    fs::remove_file(www.join("data/today.json")).unwrap();
    write_atomic(&current, &full_list(Utc::now(), 512.0, 0.0, 230.2));
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/index.html"));
    d.wait_text("#power-import", "512 W");
    d.wait_text_matches("#chart-note", |t| t.contains("today.json"));
    assert_eq!(d.text("#energy-import-today"), "–");
    assert!(!d.displayed("#stale"));

    // 6. Opened between two full lists: last-full.json (han-log's latest
    // reading with phases) fills the phases at once, current.json the power.
    write_atomic(&www.join("data/last-full.json"), &full_list(Utc::now() - TimeDelta::seconds(8), 700.0, 0.0, 228.8));
    write_atomic(&current, &short_list(Utc::now(), 2345.0));
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/"));
    d.wait_text("#power-import", "2.35 kW");
    assert_eq!(d.text("#voltage-l1"), "228.8 V", "the phases of last-full.json");
    assert!(!d.displayed("#stale"));

    // 7. The meter reading, by han-log itself: a Kaifa sends its registers
    // in the hourly list 3 only; the list 2 ten seconds later replaces
    // current.json, which keeps them (last_registers) with their time.
    let lines = common::kaifa_lines(&this_hour(), 6);
    let list3: Value = serde_json::from_str(&lines[0]).unwrap();
    let list2: Value = serde_json::from_str(&lines[5]).unwrap();
    let (import, export) = (list3["energy_import_kwh"].as_f64().unwrap(), list3["energy_export_kwh"].as_f64().unwrap());
    assert!(list2.get("voltage_l1_v").is_some() && list2.get("energy_import_kwh").is_none(), "list 2: {list2}");
    let at = format!("at {}", &list3["meter_time"].as_str().unwrap()[11..16]);
    assert!(at.ends_with(":00"), "list 3's clock is its hour: {at}");
    let log_dir = guard.dir.join("log");
    let log_args = ["--dir", log_dir.to_str().unwrap(), "--www", www.to_str().unwrap(), "--tz", "Europe/Oslo"];
    let log = |lines: &[String]| {
        let out = common::run(&log_args, &lines.iter().map(|l| format!("{l}\n")).collect::<String>());
        assert!(out.status.success(), "{}", common::stderr(&out));
    };
    let reading_shown = |when: &str| {
        assert!(close_kwh(&d.text("#energy-import-meter"), import), "{when}: {}", d.text("#energy-import-meter"));
        assert_eq!(d.text("#meter-reading-time"), at, "{when}: the reading's time");
        assert!(d.displayed("#energy-export-meter"), "{when}: the export register");
        assert!(close_kwh(&d.text("#energy-export-meter"), export), "{when}: {}", d.text("#energy-export-meter"));
    };
    log(&lines[..1]);
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/"));
    d.wait_text_matches("#energy-import-meter", |t| close_kwh(t, import));
    reading_shown("list 3");
    d.script("window.hanNotReloaded = true; return null;");
    // han-log restarted (today's log holds the registers), then lists 1 and 2.
    log(&lines[1..]);
    let clock2 = list2["meter_time"].as_str().unwrap().replace('T', " ");
    d.wait_text("#meter-time", &clock2);
    reading_shown("list 2 after list 3");
    assert_eq!(d.script("return window.hanNotReloaded === true;"), json!(true), "the page reloaded");
    // Opened after the list 2: current.json alone has them.
    d.navigate(&format!("http://127.0.0.1:{http_port}/{SUB}/"));
    d.wait_text("#meter-time", &clock2);
    reading_shown("opened after list 2");
    assert!(!d.displayed("#stale"));

    eprintln!("live_page: browser ready after {startup:?}, all checks after {:?}", started.elapsed());
}

/// As han-log writes: the shared atomic write (temp file, fsync, rename).
fn write_atomic(path: &Path, v: &Value) {
    han_common::atomic::write_atomic(path, v.to_string().as_bytes()).unwrap();
}

/// A displayed "12.34 kWh" (or "12,345.6 kWh") within display rounding of `want`.
fn close_kwh(text: &str, want: f64) -> bool {
    let Some(n) = text.strip_suffix(" kWh").map(|n| n.replace(',', "")) else { return false };
    let digits = n.split_once('.').map_or(0, |(_, f)| f.len());
    n.parse::<f64>().is_ok_and(|n| (n - want).abs() <= 0.51 * 10f64.powi(-(digits as i32)))
}

/// `hh:00:10` of the current hour, when a Kaifa sends its hourly list 3
/// (Oslo is a whole number of hours from UTC).
fn this_hour() -> String {
    (Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() + TimeDelta::seconds(10)).to_rfc3339()
}

/// A Kaifa MA304H3E's full list (list 2, every 10 s on Norwegian meters).
fn full_list(received: DateTime<Utc>, import_w: f64, export_w: f64, voltage_l1: f64) -> Value {
    let (l1, l2, l3) = (1200.0, 720.0, 2107.0);
    json!({
        "v": 1, "received": utc_stamp(received), "meter_time": local_stamp(received),
        "protocol": "han", "framing": "hdlc", "manufacturer": "Kaifa", "meter_id": METER_ID,
        "meter_model": "MA304H3E", "list": "KFM_001",
        "power_import_w": import_w, "power_export_w": export_w,
        "power_import_l1_w": l1, "power_import_l2_w": l2, "power_import_l3_w": l3,
        "voltage_l1_v": voltage_l1, "voltage_l2_v": 233.4, "voltage_l3_v": 231.1,
        "current_l1_a": 5.2, "current_l2_a": 3.1, "current_l3_a": 9.8,
        "energy_import_kwh": 109552.25,
        "obis": {
            "1-1:0.2.129": {"value": "KFM_001"}, "0-0:96.1.0": {"value": METER_ID},
            "0-0:96.1.7": {"value": "MA304H3E"},
            "1-0:1.7.0": {"value": import_w, "unit": "W"}, "1-0:2.7.0": {"value": export_w, "unit": "W"},
            "1-0:32.7.0": {"value": voltage_l1, "unit": "V"}, "1-0:52.7.0": {"value": 233.4, "unit": "V"},
            "1-0:72.7.0": {"value": 231.1, "unit": "V"},
            "1-0:31.7.0": {"value": 5.2, "unit": "A"}, "1-0:51.7.0": {"value": 3.1, "unit": "A"},
            "1-0:71.7.0": {"value": 9.8, "unit": "A"},
            "1-0:21.7.0": {"value": l1, "unit": "W"}, "1-0:41.7.0": {"value": l2, "unit": "W"},
            "1-0:61.7.0": {"value": l3, "unit": "W"},
            "1-0:1.8.0": {"value": 109552250, "unit": "Wh"},
        },
    })
}

/// A Kaifa's short list (list 1, every 2 s): active power import only.
fn short_list(received: DateTime<Utc>, import_w: f64) -> Value {
    json!({
        "v": 1, "received": utc_stamp(received), "protocol": "han", "framing": "hdlc",
        "power_import_w": import_w, "obis": {"1-0:1.7.0": {"value": import_w, "unit": "W"}},
    })
}

/// today.json for the local day of `now` (Europe/Oslo) up to now, or for
/// yesterday when today has fewer than 12 hours yet (the chart must show
/// export, which starts mid-morning): a house with a water heater, morning
/// and evening peaks, a little solar, and a 15-minute gap.
/// Returns it with its import and export energy.
fn today_json(now: DateTime<Utc>) -> (Value, f64, f64) {
    let mut day = now.with_timezone(&OSLO).date_naive();
    if day_bounds(OSLO, day).0 > now - TimeDelta::hours(12) {
        day = day.pred_opt().unwrap();
    }
    let (start, end) = day_bounds(OSLO, day);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1000) as f64 / 1000.0 - 0.5
    };
    let (mut minutes, mut import_wh, mut export_wh) = (Vec::new(), 0.0, 0.0);
    let (minute, mut t) = (TimeDelta::minutes(1), start);
    while t < end && t + minute <= now {
        let (at, h) = (t, (t - start).num_seconds() as f64 / 3600.0);
        t += minute;
        if (3.0..3.25).contains(&h) {
            continue; // no readings: the adapter was unplugged
        }
        let bump = |at: f64, width: f64, w: f64| w * (-((h - at) / width).powi(2)).exp();
        let heater = if (1.5..2.5).contains(&h) || (13.0..13.75).contains(&h) { 2000.0 } else { 0.0 };
        let load =
            380.0 + 120.0 * noise() + heater + bump(7.3, 0.6, 2600.0) + bump(18.0, 1.2, 3800.0) + 600.0 * noise().abs();
        let solar =
            if (8.0..16.0).contains(&h) { 2400.0 * ((h - 8.0) / 8.0 * std::f64::consts::PI).sin() } else { 0.0 };
        let net = load - solar;
        let (import_w, export_w) = ((net.max(0.0)).round(), ((-net).max(0.0)).round());
        import_wh += import_w / 60.0;
        export_wh += export_w / 60.0;
        minutes.push(json!({"t": local_stamp(at), "import_w": import_w, "export_w": export_w}));
    }
    let (import_kwh, export_kwh) = (import_wh.round() / 1000.0, export_wh.round() / 1000.0);
    let v = json!({
        "v": 1, "date": day.to_string(), "tz": OSLO.name(),
        "start": local_stamp(start), "end": local_stamp(end), "updated": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "meter_id": METER_ID, "energy_import_kwh": import_kwh, "energy_export_kwh": export_kwh, "minutes": minutes,
    });
    (v, import_kwh, export_kwh)
}

/// `2026-12-01T10:15:02.314Z`, as han-read writes `received`.
fn utc_stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Europe/Oslo wall time with its offset, to the second: `2026-12-01T11:15:00+01:00`.
fn local_stamp(t: DateTime<Utc>) -> String {
    t.with_timezone(&OSLO).to_rfc3339_opts(SecondsFormat::Secs, false)
}
