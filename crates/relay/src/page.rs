//! `WWW/relays.html` (complete HTML, no script) and `WWW/data/relays.json`,
//! written atomically after every change when a web folder is set.

use std::fmt::Write;

use anyhow::Result;
use han_common::www::{self, esc};

use crate::commands::rows;
use crate::settings::Settings;
use crate::store::Store;

/// Writes the page when `--www` or `www` is set.
pub fn maybe(s: &Settings, store: &Store) -> Result<()> {
    let Some(dir) = &s.www else { return Ok(()) };
    let rows = rows(s, store, None);
    let mut json = serde_json::to_vec_pretty(&serde_json::json!({ "made": s.now(), "relays": rows }))?;
    json.push(b'\n');
    www::write(dir, "data/relays.json", &json)?;
    www::write(dir, "relays.html", html(s, &rows).as_bytes())?;
    Ok(())
}

fn local(s: &Settings, v: &serde_json::Value) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
    Some(t.with_timezone(&s.tz).format("%Y-%m-%d %H:%M").to_string())
}

/// The page's own style.
const STYLE: &str = r#"table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .3rem .4rem; vertical-align: top; }
.state { font-weight: 700; white-space: nowrap; } .on .state { color: var(--export, #1e9150); } .off .state { color: var(--muted, #5c6670); }
.why { color: var(--muted, #5c6670); font-size: .9rem; }
"#;

fn html(s: &Settings, rows: &[serde_json::Value]) -> String {
    let mut o =
        www::Head { tool: "relay", file: "relays.html", title: "Relays", h1: "Relays", refresh: 60, style: STYLE }
            .html();
    o.push_str(
        r#"<section><table id="relays"><thead><tr><th>Relay</th><th>State</th><th>Since, why</th></tr></thead><tbody>
"#,
    );
    for r in rows {
        let (class, state) = match r["on"].as_bool() {
            Some(true) => ("on", "ON"),
            Some(false) => ("off", "off"),
            None => ("unknown", "?"),
        };
        let mut why = String::new();
        if let Some(t) = local(s, &r["since"]) {
            let _ = write!(why, "since {t}");
        }
        if let Some(w) = r["why"].as_str() {
            let _ = write!(
                why,
                "<br><span class=\"why\">{}: {}</span>",
                esc(r["decided"].as_str().unwrap_or_default()),
                esc(w)
            );
        }
        if let Some(t) = local(s, &r["held_until"]) {
            let _ = write!(why, "<br><span class=\"why\">held by hand until {t}</span>");
        }
        let _ = writeln!(
            o,
            r#"<tr class="{class}" id="relay-{}"><td>{} {}</td><td class="state">{state}</td><td>{why}</td></tr>"#,
            r["relay"],
            r["relay"],
            esc(r["name"].as_str().unwrap_or_default())
        );
    }
    let _ = writeln!(
        o,
        "</tbody></table></section>\n<p class=\"why\">Made {} by relay.</p></body></html>",
        s.now().with_timezone(&s.tz).format("%Y-%m-%d %H:%M")
    );
    o
}
