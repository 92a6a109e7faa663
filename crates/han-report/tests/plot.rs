//! Each chart renders and holds the expected series: the SVG is read back
//! (bars by their fill, lines by their stroke, the labels as text).

mod common;

use std::process::Command;

use common::*;

fn plot(tmp: &Tmp, kind: &str, extra: &[&str]) -> String {
    let out_path = tmp.join(&format!("{kind}.svg"));
    let out = Command::new(BIN)
        .args([
            "plot",
            kind,
            "--out",
            out_path.to_str().expect("path"),
            "--tz",
            "Europe/Oslo",
            "--dir",
            tmp.join("log").to_str().expect("path"),
        ])
        .args(extra)
        .env_remove("HAN_TOOLS_CONFIG")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{kind}: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(out_path).expect("the chart")
}

fn count(svg: &str, what: &str) -> usize {
    svg.matches(what).count()
}

const BARS: &str = "fill=\"#1F6FBF\"";
const RED: &str = "#C62828";

#[test]
fn every_chart_holds_its_series() {
    let tmp = Tmp::with_dirs("han-report", "plot", &["log"]);
    // 2026-01-05 and 06, and an hour more.
    sim(&tmp.join("log"), "2026-01-04T23:00:00Z", 49, &[vec![800; 30], vec![2400; 30]].concat());
    let day = plot(&tmp, "day", &["--date", "2026-01-05"]);
    assert!(day.contains("Power, 2026-01-05 (Europe/Oslo)"), "caption");
    assert!(day.contains("local time") && day.contains(">\nW\n<"), "axis labels with units");
    // Import and export as lines, and their legend.
    assert!(count(&day, "<polyline fill=\"none\" opacity=\"1\" stroke=\"#1F6FBF\"") >= 1);
    assert!(count(&day, "stroke=\"#1E9150\"") >= 1);
    assert!(day.contains("import W") && day.contains("export W"));

    let hours = plot(&tmp, "hours", &["--date", "2026-01-05"]);
    assert_eq!(count(&hours, BARS), 24 + 1, "24 bars and the legend's");
    assert!(hours.contains("kWh") && hours.contains("Energy per hour, 2026-01-05"));
    let days = plot(&tmp, "days", &["--from", "2026-01-05", "--to", "2026-01-06"]);
    assert_eq!(count(&days, BARS), 2 + 1);
    assert!(days.contains("01-05") && days.contains("01-06"), "dates on the axis");
    let peaks = plot(&tmp, "peaks", &["--from", "2026-01-05", "--to", "2026-01-06"]);
    assert_eq!(count(&peaks, BARS), 1 + 1, "one month");
    assert_eq!(count(&peaks, &format!("fill=\"{RED}\"")), 1 + 1);
    assert!(peaks.contains("2026-01") && peaks.contains("Belgium: peak quarter hour, kW"));

    prices(&tmp.join("prices"), "2026-01-05", 15, |q| q as f64 / 10.0);
    let price = plot(&tmp, "price", &["--date", "2026-01-05", "--prices", tmp.join("prices").to_str().expect("path")]);
    assert_eq!(count(&price, BARS), 24 + 1);
    assert!(count(&price, &format!("stroke=\"{RED}\"")) >= 1, "the price line");
    assert!(price.contains("NOK/kWh"), "the price axis and its unit");

    // PNG: the same chart, rasterised at twice the size.
    let png = tmp.join("hours.png");
    let out = Command::new(BIN)
        .args(["plot", "hours", "--date", "2026-01-05", "--tz", "Europe/Oslo", "--out", png.to_str().expect("path")])
        .args(["--dir", tmp.join("log").to_str().expect("path")])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&png).expect("png");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    // The IHDR's width and height: 2000 x 1000.
    assert_eq!(bytes.get(16..24), Some(&[0, 0, 0x07, 0xD0, 0, 0, 0x03, 0xE8][..]));
    // Another extension is refused clearly, and price needs prices.
    let out = Command::new(BIN)
        .args(["plot", "hours", "--out", tmp.join("x.gif").to_str().expect("path")])
        .args(["--dir", tmp.join("log").to_str().expect("path")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a chart is written as .svg or .png"));
    let out = Command::new(BIN)
        .args([
            "plot",
            "price",
            "--out",
            tmp.join("p.svg").to_str().expect("path"),
            "--dir",
            tmp.join("log").to_str().expect("path"),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

/// The help says both forms a chart is written in.
#[test]
fn the_help_says_svg_and_png() {
    let out = Command::new(BIN).args(["plot", "--help"]).output().expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("A chart as SVG or PNG"), "{help}");
    let out_flag =
        help.lines().skip_while(|l| !l.trim_start().starts_with("--out <FILE>")).take(2).collect::<Vec<_>>().join(" ");
    assert!(out_flag.contains(".svg, or .png"), "{help}");
}
