//! Reading stream lines back (han-common): `Line::parse` (han-log's input)
//! and `Line::scan` (the daily logs) on any bytes, the times they hold, and
//! the log reader's line splitting. Never a panic; and where the full parse
//! takes a line, the scanner must read the same fields from it.
#![no_main]

use std::io::Read;

use han_common::line::Line;
use han_common::logs::Lines;
use han_common::times::StreamTime;
use han_common::tz::Tz;
use libfuzzer_sys::fuzz_target;

/// Gives a reader's bytes in chunks of a fixed size.
struct Chunks(Vec<u8>, usize, usize);

impl Read for Chunks {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.2.min(out.len()).min(self.0.len() - self.1);
        out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

fn times(l: &Line<'_>) {
    for t in [&l.received, &l.meter_time].into_iter().flatten() {
        if let Some(st) = StreamTime::parse(t) {
            for tz in [Tz::UTC, Tz::Europe__Oslo] {
                std::hint::black_box((st.instant(tz, None), st.date_in(tz)));
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let scanned = Line::scan(data, true);
    if let Ok(l) = &scanned {
        times(l);
        for q in l.quantities.iter().flatten() {
            std::hint::black_box(q.as_f64());
        }
    }
    if let Ok(parsed) = Line::parse(data, true) {
        let s = scanned.expect("the scanner reads what the full parse reads");
        assert_eq!((parsed.v, &parsed.protocol, &parsed.received), (s.v, &s.protocol, &s.received));
        assert_eq!((&parsed.meter_time, &parsed.meter_id), (&s.meter_time, &s.meter_id));
        assert_eq!(parsed.quantities, s.quantities);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(st) = StreamTime::parse(text) {
            std::hint::black_box(st.instant(Tz::Europe__Oslo, None));
        }
    }
    let chunk = 1 + usize::from(data.first().copied().unwrap_or(0) % 64);
    let mut lines = Lines::new(Chunks(data.to_vec(), 0, chunk));
    let mut total = 0;
    while let Ok(Some(line)) = lines.next_line() {
        assert!(!line.contains(&b'\n'));
        total += line.len() + 1;
    }
    assert!(total <= data.len() + 1);
});
