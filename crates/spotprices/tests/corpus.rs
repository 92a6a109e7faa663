//! The parsers on the real documents of `corpus/prices/` at the workspace
//! root (its README says what each holds), read at run time.

use chrono::NaiveDate;
use chrono_tz::Europe::{Amsterdam, Berlin, Brussels};
use han_prices::entsoe::{self, Document, Error, Series};
use han_prices::rates;
use han_prices::slots::{self, DayError, Slot};
use han_testkit::corpus;

fn doc(name: &str) -> Option<String> {
    let dir = corpus::dir()?;
    Some(std::fs::read_to_string(dir.join("prices").join(name)).expect("document readable"))
}

fn series(text: &str) -> Vec<Series> {
    match entsoe::parse(text).expect("parses") {
        Document::Prices(s) => s,
        other => panic!("not prices: {other:?}"),
    }
}

fn day(text: &str, eic: &str, date: NaiveDate, tz: chrono_tz::Tz) -> Result<Vec<Slot>, DayError> {
    slots::cut(entsoe::day_ahead(&series(text), eic).expect("day-ahead slots"), date, tz)
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn prices(v: &[Slot]) -> Vec<f64> {
    v.iter().map(|s| s.eur_per_mwh).collect()
}

#[test]
fn nl_a03_gap_is_filled_from_the_point_before() {
    let Some(text) = doc("jarvis_NL_PT60M_A03-gap_2025-04-02.xml") else { return };
    let d = day(&text, "10YNL----------L", date("2025-04-02"), Amsterdam).expect("a whole day");
    let p = prices(&d);
    assert_eq!(p.len(), 24);
    assert_eq!(&p[..3], [65.63, 63.04, 62.75]);
    // Position 21 is left out: it repeats position 20 (114).
    assert_eq!(p[19], 114.0);
    assert_eq!(p[20], 114.0);
    assert_eq!(p[23], 71.43);
    assert!(p[11..18].iter().all(|x| *x < 0.0), "{p:?}");
    assert_eq!(p.iter().copied().fold(f64::INFINITY, f64::min), -54.0);
    assert_eq!(d[0].start.to_rfc3339(), "2025-04-01T22:00:00+00:00");
    assert_eq!(d[23].end().to_rfc3339(), "2025-04-02T22:00:00+00:00");
}

#[test]
fn be_hourly_and_its_last_point_missing_runs_to_the_period_end() {
    let Some(text) = doc("hass-entsoe_BE_60M.xml") else { return };
    let d = day(&text, "10YBE----------2", date("2024-10-08"), Brussels).expect("a whole day");
    assert_eq!(d.len(), 24);
    assert_eq!(&prices(&d)[..3], [64.98, 57.86, 53.73]);
    assert_eq!(prices(&d)[23], 50.0);
    // The same document with its last point left out (as A03 does when it
    // repeats): the day is still whole, the last hour at the price before.
    let last = text.rfind("<Point>").expect("a point");
    let end = text[last..].find("</Point>").expect("its end") + last + "</Point>".len();
    let cut = format!("{}{}", &text[..last], &text[end..]);
    let d2 = day(&cut, "10YBE----------2", date("2024-10-08"), Brussels).expect("a whole day");
    assert_eq!(d2.len(), 24);
    assert_eq!(prices(&d2)[23], prices(&d)[22]);
}

#[test]
fn be_mixed_resolutions_in_one_series() {
    let Some(text) = doc("hass-entsoe_BE_60M_15M_mix.xml") else { return };
    let eic = "10YBE----------2";
    // Hourly prices served as PT15M before the 15-minute market: each
    // listed quarter runs on over the three left out.
    let d = day(&text, eic, date("2024-10-06"), Brussels).expect("a whole day");
    assert_eq!(d.len(), 96);
    assert!(d.iter().all(|s| s.minutes == 15));
    assert_eq!(&prices(&d)[..5], [55.35, 55.35, 55.35, 55.35, 44.22]);
    // Position 57 is left out: it repeats 53's -0.01.
    assert_eq!(&prices(&d)[48..52], [5.25; 4]);
    assert_eq!(&prices(&d)[52..60], [-0.01; 8]);
    let d = day(&text, eic, date("2024-10-07"), Brussels).expect("a whole day");
    assert_eq!((d.len(), d[0].eur_per_mwh), (96, 34.58));
    let d = day(&text, eic, date("2024-10-08"), Brussels).expect("a whole day");
    assert_eq!((d.len(), d[0].minutes, d[0].eur_per_mwh), (24, 60, 64.98));
}

#[test]
fn unordered_points_and_periods_and_a_part_day() {
    let Some(text) = doc("hass-entsoe_BE_15M_avg.xml") else { return };
    let eic = "10YBE----------2";
    let mut all = entsoe::day_ahead(&series(&text), eic).expect("slots");
    all.sort_by_key(|s| s.start);
    // Listed as positions 1, 5, 2, 3, 11, 4: in time order, and each runs
    // on to the next listed one.
    assert_eq!(&prices(&all)[..6], [55.35, 40.32, 31.86, 28.71, 44.22, 44.22]);
    assert_eq!(&prices(&all)[10..20], [28.37; 10]);
    assert_eq!(&prices(&all)[20..], [64.98, 64.98]);
    // 20 quarters then 2 hours (position 3 is past its 2-slot period).
    assert_eq!(all.len(), 22);
    // Five hours of a 24-hour day is not a day.
    assert!(matches!(slots::cut(all, date("2024-10-06"), Brussels), Err(DayError::EarlyEnd { .. })));
    let Some(exact) = doc("hass-entsoe_BE_15M_exact4.xml") else { return };
    let four = entsoe::day_ahead(&series(&exact), eic).expect("slots");
    assert_eq!(&prices(&four)[..3], [55.35, 44.22, 40.32]);
    assert_eq!(four.len(), 4);
    // The mixed document with its periods in reverse gives the same days.
    let Some(mix) = doc("hass-entsoe_BE_60M_15M_mix.xml") else { return };
    let first = mix.find("<Period>").expect("a period");
    let last = mix.rfind("</Period>").expect("a period end") + "</Period>".len();
    let mut periods: Vec<String> =
        mix[first..last].split_inclusive("</Period>").map(|p| p.trim_start().to_string()).collect();
    periods.reverse();
    let reversed = format!("{}{}{}", &mix[..first], periods.concat(), &mix[last..]);
    assert_ne!(reversed, mix);
    for d in ["2024-10-06", "2024-10-07", "2024-10-08"] {
        assert_eq!(day(&reversed, eic, date(d), Brussels), day(&mix, eic, date(d), Brussels), "{d}");
    }
}

#[test]
fn de_lu_keeps_the_european_auction_only() {
    let Some(text) = doc("hass-entsoe_DE_60M_15M_overlap.xml") else { return };
    let eic = "10Y1001A1001A82H";
    let s = series(&text);
    assert_eq!(s.iter().map(|s| s.sequence).collect::<Vec<_>>(), [Some(1), Some(2)]);
    let d = day(&text, eic, date("2024-10-06"), Berlin).expect("a whole day");
    assert_eq!(d.len(), 24, "sequence 1 is hourly: EXAA's quarters must not come in");
    assert_eq!(&prices(&d)[..3], [67.04, 63.97, 62.83]);
    // Position 15 is left out: it repeats 14.
    assert_eq!(prices(&d)[14], prices(&d)[13]);
    assert!(!prices(&d).contains(&98.1));
    assert_eq!(day(&text, eic, date("2024-10-07"), Berlin).map(|d| d.len()), Ok(24));
    // Without sequence 1, the EXAA prices are refused, loudly.
    let a = text.find("<TimeSeries>").expect("a series");
    let b = text.find("</TimeSeries>").expect("its end") + "</TimeSeries>".len();
    let only2 = format!("{}{}", &text[..a], &text[b..]);
    assert_eq!(entsoe::day_ahead(&series(&only2), eic), Err(Error::OnlyOtherSequence(2)));
    // Another zone's document is refused.
    assert!(matches!(entsoe::day_ahead(&s, "10YNL----------L"), Err(Error::Domain { .. })));
}

#[test]
fn acknowledgements() {
    for name in ["jarvis_NL_ack_no-data_2023-02-20.xml", "hexagon_acknowledgement_invalidrequest.xml"] {
        let Some(text) = doc(name) else { return };
        match entsoe::parse(&text).expect("parses") {
            Document::Acknowledgement { code, text } => {
                assert_eq!(code, "999", "{name}");
                assert!(text.contains("No matching data found"), "{name}: {text}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn ecb_rates() {
    let Some(text) = doc("ecb_eurofxref-daily_2022-07-08.xml") else { return };
    let d = date("2022-07-08");
    assert_eq!(rates::ecb(&text, "NOK"), Ok(vec![(d, 10.2630)]));
    assert_eq!(rates::ecb(&text, "SEK"), Ok(vec![(d, 10.6665)]));
    assert_eq!(rates::ecb(&text, "DKK"), Ok(vec![(d, 7.4424)]));
    assert!(rates::ecb(&text, "XXX").is_err());
    let obs = rates::ecb(&text, "SEK").expect("SEK");
    // Delivery on the 10th: auction on the 9th, the 8th's rate is the last before it.
    assert_eq!(rates::pick(&obs, date("2022-07-10"), false), Some((d, 10.6665)));
    // Delivery on the 9th: the 8th's rate came out after its auction.
    assert_eq!(rates::pick(&obs, date("2022-07-09"), false), None);
    assert_eq!(rates::pick(&obs, date("2022-07-09"), true), Some((d, 10.6665)));
}

#[test]
fn norges_bank_rates_and_unit_mult() {
    let Some(text) = doc("norgesbank_EXR_B.USD+EUR.NOK.SP_generic_2026-08-20_21.xml") else { return };
    let obs = rates::norges_bank(&text, "NOK").expect("EUR/NOK");
    assert_eq!(obs, [(date("2026-08-20"), 10.9025), (date("2026-08-21"), 10.8675)]);
    assert_eq!(rates::pick(&obs, date("2026-08-23"), false), Some((date("2026-08-21"), 10.8675)));
    assert_eq!(rates::pick(&obs, date("2026-08-22"), false), Some((date("2026-08-20"), 10.9025)));
    // A series quoted per 100 units (as SEK and DKK are) is divided.
    let per100 = text.replace(r#"id="UNIT_MULT" value="0""#, r#"id="UNIT_MULT" value="2""#);
    let obs = rates::norges_bank(&per100, "NOK").expect("EUR/NOK");
    assert!((obs[0].1 - 0.109025).abs() < 1e-12, "{obs:?}");
}
