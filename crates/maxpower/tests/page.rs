//! peaks.html in a real browser: Debian's Chromium driven by chromedriver
//! (the WebDriver client of han-log's tests), the page served by
//! `python3 -m http.server` beside han-log's style.css, as in a user's web
//! folder. Checks what renders at a phone's width: a bar per hour, the over
//! bars, the limit line at its height, the top three, the current step.
//!
//! `HAN_UPDATE_SCREENSHOT=1` also writes it to `docs/peaks-page.png`.
//! Without chromium, chromedriver or python3 the test says SKIPPED loudly;
//! with `CI=true` it fails instead.

mod common;

use common::*;
use han_simulator::Meter;
use han_testkit::webdriver::{Guard, browser_tools, phone_browser, serve_static};

const STYLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/style.css");
const SCREENSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/peaks-page.png");
const PHONE: (u32, u32) = (390, 844);

#[test]
fn peaks_page_in_chromium() {
    if !browser_tools("peaks.html") {
        return;
    }
    let mut guard = Guard::new("maxpower", "peaks_page");
    let site = guard.dir.join("site");
    let logs = guard.dir.join("log");
    let (lines, _) = sim(Meter::KaifaNo, "2025-01-06T00:00:00+01:00", 18 * 3600);
    file_lines(&logs, han::Tz::Europe__Oslo, &lines);
    std::fs::create_dir_all(&site).unwrap();
    std::fs::copy(STYLE, site.join("style.css")).unwrap();
    let st = guard.dir.join("st");
    let args = run_args(None, &logs, &st, "Europe/Oslo", "2025-01-06T17:40:00+01:00", &["--limit-wh", "2500"]);
    let mut with_www = args.to_vec();
    with_www.extend(["--www", site.to_str().unwrap()].map(str::to_owned));
    let out = maxpower(&with_www, None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j = json(&args);
    let over = j["over_limit"].as_array().unwrap().len();
    let step = j["norway"]["step"].as_u64().unwrap();

    let http_port = serve_static(&mut guard, &site, "/peaks.html");
    phone_browser(&mut guard, PHONE);
    let d = guard.driver.as_ref().unwrap();
    d.navigate(&format!("http://127.0.0.1:{http_port}/peaks.html"));
    d.wait_text("h1", "Peaks, 2025-01");

    // Rendered: the chart fits the phone's width and has its bars.
    let shown = d.script(
        "const svg = document.querySelector('#hours'); const r = svg.getBoundingClientRect();
         const bars = [...svg.querySelectorAll('rect.bar')];
         return {width: r.width, height: r.height, bars: bars.length,
                 over: svg.querySelectorAll('rect.over').length,
                 tall: bars.filter(b => b.getBoundingClientRect().height > 1).length,
                 overflow: document.documentElement.scrollWidth > window.innerWidth,
                 limit: !!document.querySelector('#limit'),
                 stepRow: document.querySelector('#steps tr.current td').textContent,
                 top: document.querySelectorAll('#top tr').length - 1,
                 overColor: bars.find(b => b.classList.contains('over')) ? getComputedStyle(bars.find(b => b.classList.contains('over'))).fill : ''};",
    );
    assert!(shown["width"].as_f64().unwrap() > 300.0 && shown["height"].as_f64().unwrap() > 80.0, "{shown}");
    assert_eq!(shown["bars"], 18, "a bar per hour: {shown}");
    assert_eq!(shown["tall"], 18, "every bar drawn: {shown}");
    assert_eq!(shown["over"].as_u64(), Some(over as u64), "{shown}");
    assert!(over > 0 && shown["limit"] == true, "{shown}");
    assert_eq!(shown["overflow"], false, "no sideways scrolling on a phone: {shown}");
    assert_eq!(shown["stepRow"], format!("{step} (this month)"), "{shown}");
    assert_eq!(shown["top"], 1, "one day so far: {shown}");
    // The over bars take the page's red (style.css's --bad), not the default.
    assert_eq!(shown["overColor"], "rgb(198, 40, 40)", "{shown}");
    // Every bar below the limit line is under it; every over bar reaches above it.
    let heights = d.script(
        "const y = +document.querySelector('#limit').getAttribute('y1');
         return [...document.querySelectorAll('#hours rect.bar')].map(b => [+b.getAttribute('y') < y, b.classList.contains('over')]);",
    );
    for pair in heights.as_array().unwrap() {
        assert_eq!(pair[0], pair[1], "a bar above the limit line is an over bar: {heights}");
    }
    let png = d.screenshot();
    assert!(png.starts_with(b"\x89PNG"));
    if std::env::var_os("HAN_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(SCREENSHOT, &png).unwrap();
    }
}
