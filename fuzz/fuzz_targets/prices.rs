//! The price documents: ENTSO-E A44 and acknowledgements, the ECB and
//! Norges Bank rates, the public sources' JSON; then the day cut. Nothing
//! may panic, and a day that is accepted tiles its span.
#![no_main]

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use han_prices::{entsoe, public::Public, rates, slots};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let date = NaiveDate::from_ymd_opt(2024, 10, 6).expect("date");
    let tz = chrono_tz::Europe::Brussels;
    if let Ok(entsoe::Document::Prices(series)) = entsoe::parse(text) {
        if let Ok(all) = entsoe::day_ahead(&series, "10YBE----------2") {
            if let Ok(day) = slots::cut(all, date, tz) {
                let (start, end) = slots::day_span(date, tz);
                assert_eq!(day.first().map(|s| s.start), Some(start));
                assert_eq!(day.last().map(|s| s.end()), Some(end));
                let _ = slots::hourly(&day);
            }
        }
    }
    let _ = rates::ecb(text, "NOK");
    let _ = rates::norges_bank(text, "NOK");
    for p in [Public::Hvakosterstrommen, Public::EnergiDataService] {
        if let Ok(v) = p.parse(text) {
            let _ = slots::cut(v, date, tz);
        }
    }
});
