//! Energy in each clock hour, by the meter's clock.
//!
//! From the cumulative registers where the meter sends them (Norwegian list
//! 3 every hour, DSMR every telegram): the growth between two register
//! readings is spread over the time between them, hour by hour. Else power
//! is integrated over time (each power held until the next reading). An
//! hour takes its registers' energy when register readings cover all of
//! it, else its integrated power. A pause longer than [`GAP`] is a gap:
//! never counted, and an hour it touches is not complete. A register
//! reading that repeats the last one's time (Aidon sends the previous
//! hour's snapshot again) or goes back in time is not counted twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};

/// A pause between readings longer than this is a gap.
pub const GAP: Duration = Duration::minutes(5);
/// Register readings further apart than this are a gap too (Norwegian
/// list 3 is an hour apart).
pub const REGISTER_GAP: Duration = Duration::minutes(65);

/// What a reading brings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Power import, W.
    pub import_w: Option<f64>,
    /// Power export, W.
    pub export_w: Option<f64>,
    /// Energy import register, kWh.
    pub import_kwh: Option<f64>,
    /// Energy export register, kWh.
    pub export_kwh: Option<f64>,
}

/// Sums of one hour by one method.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sum {
    import_wh: f64,
    export_wh: f64,
    /// Seconds of the hour covered.
    covered: f64,
}

/// One clock hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hour {
    /// When it starts (UTC).
    pub start: DateTime<Utc>,
    /// Energy imported, Wh.
    pub import_wh: f64,
    /// Energy exported, Wh.
    pub export_wh: f64,
    /// From the registers (else integrated power).
    pub from_registers: bool,
    /// Whether readings cover all of it (a gap makes it incomplete).
    pub complete: bool,
}

/// Hours being summed.
#[derive(Debug, Default)]
pub struct Hours {
    registers: BTreeMap<DateTime<Utc>, Sum>,
    power: BTreeMap<DateTime<Utc>, Sum>,
    last_register: Option<(DateTime<Utc>, f64, Option<f64>)>,
    last_power: Option<(DateTime<Utc>, Option<f64>, Option<f64>)>,
    /// Gaps seen: from, to.
    pub gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Register readings not counted (repeated or back in time).
    pub repeated: u64,
}

fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// Spreads `import`/`export` (Wh) over `[from, to)` evenly, hour by hour.
fn spread(into: &mut BTreeMap<DateTime<Utc>, Sum>, from: DateTime<Utc>, to: DateTime<Utc>, import: f64, export: f64) {
    let total = (to - from).num_milliseconds() as f64 / 1000.0;
    if total <= 0.0 {
        return;
    }
    let mut t = from;
    while t < to {
        let h = hour_of(t);
        let end = (h + Duration::hours(1)).min(to);
        let part = (end - t).num_milliseconds() as f64 / 1000.0;
        let s = into.entry(h).or_default();
        s.import_wh += import * part / total;
        s.export_wh += export * part / total;
        s.covered += part;
        t = end;
    }
}

impl Hours {
    /// Takes a reading at `at` (the meter's clock). Readings come in time order.
    pub fn add(&mut self, at: DateTime<Utc>, s: &Sample) {
        if let Some(imp) = s.import_kwh {
            match self.last_register {
                Some((t, ..)) if at <= t => self.repeated += 1,
                Some((t, last_imp, last_exp)) if at - t <= REGISTER_GAP && imp >= last_imp => {
                    let exp = match (s.export_kwh, last_exp) {
                        (Some(e), Some(l)) if e >= l => (e - l) * 1000.0,
                        _ => 0.0,
                    };
                    spread(&mut self.registers, t, at, (imp - last_imp) * 1000.0, exp);
                    self.last_register = Some((at, imp, s.export_kwh));
                }
                Some((t, ..)) => {
                    // Too far apart, or the register went back (a new meter): start again.
                    self.gaps.push((t, at));
                    self.last_register = Some((at, imp, s.export_kwh));
                }
                None => self.last_register = Some((at, imp, s.export_kwh)),
            }
        }
        if s.import_w.is_some() || s.export_w.is_some() {
            if let Some((t, imp, exp)) = self.last_power {
                if at > t && at - t <= GAP {
                    let hours = (at - t).num_milliseconds() as f64 / 3_600_000.0;
                    spread(&mut self.power, t, at, imp.unwrap_or(0.0) * hours, exp.unwrap_or(0.0) * hours);
                } else if at > t {
                    self.gaps.push((t, at));
                }
            }
            if self.last_power.is_none_or(|(t, ..)| at > t) {
                self.last_power = Some((at, s.import_w, s.export_w));
            }
        }
    }

    /// Every hour with readings, in order.
    pub fn hours(&self) -> Vec<Hour> {
        let mut starts: Vec<DateTime<Utc>> = self.registers.keys().chain(self.power.keys()).copied().collect();
        starts.sort();
        starts.dedup();
        starts
            .into_iter()
            .map(|start| {
                let reg = self.registers.get(&start).copied().unwrap_or_default();
                let pow = self.power.get(&start).copied().unwrap_or_default();
                let full = |s: &Sum| s.covered >= 3600.0 - 0.5;
                if full(&reg) || reg.covered >= pow.covered && reg.covered > 0.0 {
                    Hour {
                        start,
                        import_wh: reg.import_wh,
                        export_wh: reg.export_wh,
                        from_registers: true,
                        complete: full(&reg),
                    }
                } else {
                    Hour {
                        start,
                        import_wh: pow.import_wh,
                        export_wh: pow.export_wh,
                        from_registers: false,
                        complete: full(&pow),
                    }
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn reg(kwh: f64) -> Sample {
        Sample { import_kwh: Some(kwh), export_kwh: Some(0.0), ..Sample::default() }
    }

    fn power(w: f64) -> Sample {
        Sample { import_w: Some(w), ..Sample::default() }
    }

    #[test]
    fn hourly_registers_give_the_hour_exactly_and_a_repeat_counts_once() {
        let mut h = Hours::default();
        h.add(at("2025-01-01T10:00:00Z"), &reg(100.0));
        h.add(at("2025-01-01T11:00:00Z"), &reg(101.25));
        // Aidon sends the same snapshot again.
        h.add(at("2025-01-01T11:00:00Z"), &reg(101.25));
        h.add(at("2025-01-01T12:00:00Z"), &reg(103.0));
        let hours = h.hours();
        assert_eq!(hours.len(), 2);
        assert_eq!((hours[0].start, hours[0].import_wh, hours[0].complete), (at("2025-01-01T10:00:00Z"), 1250.0, true));
        assert_eq!(hours[1].import_wh, 1750.0);
        assert_eq!(h.repeated, 1);
    }

    #[test]
    fn power_integrated_and_the_current_hour_partial() {
        let mut h = Hours::default();
        // 2000 W from 10:00 to 10:30 in 2 s steps: 1000 Wh, half the hour covered.
        let t0 = at("2025-01-01T10:00:00Z");
        for i in 0..=900 {
            h.add(t0 + Duration::seconds(2 * i), &power(2000.0));
        }
        let hours = h.hours();
        assert_eq!(hours.len(), 1);
        assert!((hours[0].import_wh - 1000.0).abs() < 1e-6, "{:?}", hours[0]);
        assert!(!hours[0].complete && !hours[0].from_registers);
    }

    #[test]
    fn gaps_are_not_counted() {
        let mut h = Hours::default();
        h.add(at("2025-01-01T10:00:00Z"), &power(1000.0));
        h.add(at("2025-01-01T10:04:00Z"), &power(1000.0));
        h.add(at("2025-01-01T10:40:00Z"), &power(1000.0));
        let hours = h.hours();
        assert!((hours[0].import_wh - 1000.0 * 4.0 / 60.0).abs() < 1e-9);
        assert_eq!(h.gaps, vec![(at("2025-01-01T10:04:00Z"), at("2025-01-01T10:40:00Z"))]);
    }

    #[test]
    fn a_25_hour_day_has_25_hours() {
        let tz = chrono_tz::Tz::Europe__Oslo;
        let (from, to) = han_common::times::day_bounds(tz, chrono::NaiveDate::from_ymd_opt(2025, 10, 26).unwrap());
        let mut h = Hours::default();
        let mut t = from;
        while t <= to {
            h.add(t, &power(1000.0));
            t += Duration::seconds(60);
        }
        let day: Vec<Hour> = h.hours().into_iter().filter(|x| x.start < to).collect();
        assert_eq!(day.len(), 25);
        assert!(day.iter().all(|x| x.complete && (x.import_wh - 1000.0).abs() < 1e-6));
    }

    #[test]
    fn frequent_registers_split_at_the_hour() {
        let mut h = Hours::default();
        h.add(at("2025-01-01T10:59:58Z"), &reg(10.000));
        h.add(at("2025-01-01T11:00:02Z"), &reg(10.004));
        let hours = h.hours();
        assert_eq!(hours.len(), 2);
        assert!((hours[0].import_wh - 2.0).abs() < 1e-9 && (hours[1].import_wh - 2.0).abs() < 1e-9);
    }
}
