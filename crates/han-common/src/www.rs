//! The www folder: text made safe for HTML, the start every page shares,
//! and files written into the folder atomically (a page never shows half a
//! file).

use std::io;
use std::path::Path;

/// Text for HTML, in elements and in quoted attributes.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The pages of the www folder, in the order every page's nav links them.
const PAGES: [(&str, &str); 5] = [
    ("index.html", "Live"),
    ("prices.html", "Prices"),
    ("peaks.html", "Peaks"),
    ("relays.html", "Relays"),
    ("report.html", "Report"),
];

/// What a page of the www folder starts with, up to its header.
#[derive(Debug)]
pub struct Head<'a> {
    /// The tool that writes it (said in a comment).
    pub tool: &'a str,
    /// Its file in the folder: the nav links every other page.
    pub file: &'a str,
    /// The title, as HTML.
    pub title: &'a str,
    /// The heading, as HTML.
    pub h1: &'a str,
    /// Seconds between reloads.
    pub refresh: u32,
    /// The page's own CSS, each line ending in a newline.
    pub style: &'a str,
}

impl Head<'_> {
    /// The page's HTML up to and with its header: doctype, head (shared
    /// style sheet, the page's own style, the reload), heading and nav.
    pub fn html(&self) -> String {
        let Head { tool, file, title, h1, refresh, style } = self;
        let nav: Vec<String> =
            PAGES.iter().filter(|(f, _)| f != file).map(|(f, name)| format!(r#"<a href="{f}">{name}</a>"#)).collect();
        format!(
            r#"<!doctype html>
<!-- written by {tool} -->
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{refresh}">
<title>{title}</title><link rel="stylesheet" href="style.css">
<style>
{style}</style></head><body>
<header><h1>{h1}</h1><nav>{nav}</nav></header>
"#,
            nav = nav.join(" ")
        )
    }
}

/// Writes `www/relative` atomically, making its folders first.
pub fn write(www: &Path, relative: &str, bytes: &[u8]) -> io::Result<()> {
    let path = www.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::atomic::write_atomic(&path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_starts_as_every_page_does_and_links_the_others() {
        let head = super::Head {
            tool: "relay",
            file: "relays.html",
            title: "Relays",
            h1: "Relays",
            refresh: 60,
            style: "p { }\n",
        };
        assert_eq!(
            head.html(),
            r#"<!doctype html>
<!-- written by relay -->
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>Relays</title><link rel="stylesheet" href="style.css">
<style>
p { }
</style></head><body>
<header><h1>Relays</h1><nav><a href="index.html">Live</a> <a href="prices.html">Prices</a> <a href="peaks.html">Peaks</a> <a href="report.html">Report</a></nav></header>
"#
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(super::esc(r#"<a href="x">&</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }
}
