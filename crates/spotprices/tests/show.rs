//! `spotprices show`: the table, JSON and prices.html of days fetched from
//! the real documents through the test server; the page in Chromium.

mod common;

use common::*;
use han_testkit::webdriver::{Guard, browser_tools, phone_browser, serve_static};
use serde_json::{Value, json};

const PHONE: (u32, u32) = (390, 844);
const SCREENSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/prices-page.png");

/// The NL day of 2025-04-02 (the real document) fetched into `tmp/prices`,
/// and a config for it.
fn fetched(tmp: &Tmp) -> Option<(Server, std::path::PathBuf)> {
    let dir = prices_dir()?;
    let s = Server::start(
        tmp,
        &[route(
            "/api",
            json!({"periodStart": "202504012200"}),
            json!([file(200, &dir.join("jarvis_NL_PT60M_A03-gap_2025-04-02.xml"))]),
        )],
    );
    let c = config(
        tmp,
        &format!(
            "zone = \"NL\"\ntoken = \"t\"\napi_url = \"{}\"\ndir = \"{}\"\nretry_delay = \"10ms\"\nmarkup = 0.02\nvat = 21\n",
            s.url("/api"),
            tmp.join("prices").display()
        ),
    );
    let out = run(&c, &["fetch", "--date", "2025-04-02"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some((s, c))
}

#[test]
fn the_table_marks_now_the_cheapest_and_the_dearest() {
    let tmp = Tmp::new("spotprices", "table");
    let Some((_s, c)) = fetched(&tmp) else { return };
    let out = run(&c, &["show", "--now", "2025-04-02T13:20:00+02:00"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    let line = |start: &str| t.lines().find(|l| l.starts_with(start)).unwrap_or_default().to_string();
    assert!(t.starts_with("NL 2025-04-02 (Europe/Amsterdam), EUR/kWh; prices in EUR"), "{t}");
    assert!(line("13:00-14:00").ends_with("<- now"), "{t}");
    // -54 EUR/MWh at 14:00 is the cheapest; 145 at 07:00 the dearest.
    assert!(line("14:00-15:00").ends_with("cheapest"), "{t}");
    assert!(line("07:00-08:00").ends_with("dearest"), "{t}");
    // All-in: (spot + 0.02) * 1.21; -54 EUR/MWh is (-0.054 + 0.02) * 1.21 = -0.04114.
    assert!(line("14:00-15:00").contains("-54.00   -0.0540   -0.0411"), "{t}");
    assert_eq!(t.lines().filter(|l| l.contains(":00-")).count(), 24);
    assert!(t.lines().last().unwrap_or_default().starts_with("total: min -0.0411"), "{t}");
    // A closed pipe is not an error.
    let head = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{} --config {} show --date 2025-04-02 | head -1", BIN, c.display()))
        .output()
        .expect("sh");
    assert!(head.status.success() && head.stderr.is_empty(), "{}", text(&head.stderr));
}

#[test]
fn json_has_the_day_and_its_marks() {
    let tmp = Tmp::new("spotprices", "json");
    let Some((_s, c)) = fetched(&tmp) else { return };
    let out = run(&c, &["show", "--date", "2025-04-02", "--json", "--now", "2025-04-02T13:20:00+02:00"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["zone"], "NL");
    assert_eq!(v["unit"], "EUR/kWh");
    assert_eq!(v["of"], "total");
    assert_eq!(v["current"]["start"], "2025-04-02T11:00:00Z");
    assert_eq!(v["cheapest"]["eur_per_mwh"], -54.0);
    assert_eq!(v["dearest"]["eur_per_mwh"], 145.0);
    assert_eq!(v["max"], json!(0.19965));
    assert_eq!(v["slots"].as_array().map(Vec::len), Some(24));
    // The mean by hand: the mean spot of the 24 hours, then the tariff.
    let spot: f64 =
        v["slots"].as_array().expect("slots").iter().map(|s| s["spot_per_kwh"].as_f64().unwrap_or(0.0)).sum::<f64>()
            / 24.0;
    assert!((v["avg"].as_f64().unwrap_or(0.0) - (spot + 0.02) * 1.21).abs() < 0.00001, "{v}");
    // --hourly on an hourly day changes nothing; a missing day is exit 3.
    let hourly = run(&c, &["show", "--date", "2025-04-02", "--json", "--hourly"]);
    let h: Value = serde_json::from_slice(&hourly.stdout).expect("JSON");
    assert_eq!(h["slots"], v["slots"]);
    let out = run(&c, &["show", "--date", "2025-04-03"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no prices for 2025-04-03 yet"), "{}", text(&out.stderr));
}

#[test]
fn prices_page_in_chromium() {
    if !browser_tools("prices.html") {
        return;
    }
    let mut guard = Guard::new("spotprices", "prices_page");
    let Some((_s, c)) = fetched(&guard.dir) else { return };
    let site = guard.dir.join("site");
    std::fs::create_dir_all(&site).expect("site");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/style.css"), site.join("style.css")).expect("style");
    let out = run(&c, &["show", "--www", site.to_str().expect("path"), "--now", "2025-04-02T13:20:00+02:00"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("data/prices-2025-04-02.json")).expect("data file"))
            .expect("JSON");
    assert_eq!(data["slots"].as_array().map(Vec::len), Some(24));
    assert!(!site.join("data/prices-2025-04-03.json").exists());
    let port = serve_static(&mut guard, &site, "/prices.html");
    phone_browser(&mut guard, PHONE);
    let d = guard.driver.as_ref().expect("a browser");
    d.navigate(&format!("http://127.0.0.1:{port}/prices.html"));
    d.wait_text("h1", "Prices, NL");
    let shown = d.script(
        "const svg = document.querySelector('#today svg'); const r = svg.getBoundingClientRect();
         const bars = [...svg.querySelectorAll('rect.bar')];
         const cur = svg.querySelector('rect.current');
         return {width: r.width, bars: bars.length, drawn: bars.filter(b => b.getBoundingClientRect().height > 0).length,
                 current: svg.querySelectorAll('rect.current').length,
                 currentTitle: cur ? cur.textContent : '',
                 currentFill: cur ? getComputedStyle(cur).fill : '',
                 neg: svg.querySelectorAll('rect.neg').length,
                 rows: document.querySelectorAll('#today tbody tr').length,
                 row: document.querySelector('#today tr.current td').textContent,
                 overflow: document.documentElement.scrollWidth > window.innerWidth,
                 tomorrow: document.querySelector('#tomorrow .missing').textContent};",
    );
    assert!(shown["width"].as_f64().unwrap_or(0.0) > 300.0, "{shown}");
    assert_eq!(shown["bars"], 24, "a bar per slot: {shown}");
    assert_eq!(shown["drawn"], 24, "{shown}");
    assert_eq!(shown["current"], 1, "{shown}");
    assert_eq!(shown["currentTitle"], "13:00 -0.0363", "{shown}");
    assert_eq!(shown["currentFill"], "rgb(224, 123, 0)", "{shown}");
    // All-in, the hours under -20 EUR/MWh are below zero (12, 14, 15 and
    // 16:00; 13:00 is the current one).
    assert_eq!(shown["neg"], 4, "{shown}");
    assert_eq!(shown["rows"], 24, "{shown}");
    assert_eq!(shown["row"], "13:00–14:00", "{shown}");
    assert_eq!(shown["overflow"], false, "no sideways scrolling on a phone: {shown}");
    assert!(shown["tomorrow"].as_str().unwrap_or_default().contains("not there yet"), "{shown}");
    // Negative bars hang below the zero line, the others stand on it.
    let below = d.script(
        "const z = +document.querySelector('#today line.zero').getAttribute('y1');
         return [...document.querySelectorAll('#today rect.bar')].map(b => [+b.getAttribute('y') >= z - 0.01, b.classList.contains('neg') || b.textContent.includes(' -')]);",
    );
    for pair in below.as_array().expect("bars") {
        assert_eq!(pair[0], pair[1], "{below}");
    }
    let png = d.screenshot();
    assert!(png.starts_with(b"\x89PNG"));
    if std::env::var_os("HAN_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(SCREENSHOT, &png).expect("screenshot written");
    }
}
