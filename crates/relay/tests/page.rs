//! relays.html in Chromium at a phone's width, served as a web folder.

mod common;

use common::*;
use han_testkit::webdriver::{Guard, browser_tools, phone_browser, serve_static};

#[test]
fn relays_page_in_chromium() {
    if !browser_tools("relays.html") {
        return;
    }
    let mut guard = Guard::new("relay", "relays_page");
    let site = guard.dir.join("site");
    std::fs::create_dir_all(&site).expect("site");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../../www/style.css"), site.join("style.css")).expect("style");
    let c = config(&guard.dir, &format!("www = \"{}\"", site.display()));
    for args in [["1", "on", "--for", "1h"], ["2", "off", "--for", "0"]] {
        let out = relay(&c, &[&["--now", "2026-01-10T12:00:00+01:00"][..], &args[..]].concat(), None);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let port = serve_static(&mut guard, &site, "/relays.html");
    phone_browser(&mut guard, (390, 844));
    let d = guard.driver.as_ref().expect("a browser");
    d.navigate(&format!("http://127.0.0.1:{port}/relays.html"));
    d.wait_text("h1", "Relays");
    let shown = d.script(
        "const rows = [...document.querySelectorAll('#relays tbody tr')];
         return {rows: rows.map(r => [r.id, r.className, r.querySelector('.state').textContent]),
                 held: document.querySelector('#relay-1').textContent.includes('held by hand until 2026-01-10 13:00'),
                 onColor: getComputedStyle(document.querySelector('#relay-1 .state')).color,
                 overflow: document.documentElement.scrollWidth > window.innerWidth};",
    );
    assert_eq!(shown["rows"], serde_json::json!([["relay-1", "on", "ON"], ["relay-2", "off", "off"]]), "{shown}");
    assert_eq!(shown["held"], true, "{shown}");
    // On takes the page's green (style.css's --export).
    assert_eq!(shown["onColor"], "rgb(30, 145, 80)", "{shown}");
    assert_eq!(shown["overflow"], false, "{shown}");
}
