//! Energy in each clock hour (or quarter hour: [`Hours::new`]), by the
//! meter's clock.
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
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// How far back the current power is averaged for a projection.
pub const RECENT: Duration = Duration::minutes(5);

/// Hours being summed (serialisable: a tool may keep them and go on later).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Hours {
    #[serde(with = "millis")]
    period: Duration,
    registers: BTreeMap<DateTime<Utc>, Sum>,
    power: BTreeMap<DateTime<Utc>, Sum>,
    last_register: Option<(DateTime<Utc>, f64, Option<f64>)>,
    last_power: Option<(DateTime<Utc>, Option<f64>, Option<f64>)>,
    /// The first register and power readings (to join a later stretch on: [`Hours::append`]).
    first_register: Option<(DateTime<Utc>, f64, Option<f64>)>,
    first_power: Option<(DateTime<Utc>, Option<f64>, Option<f64>)>,
    /// Whether a gap emptied `recent` (what came before it is not recent).
    recent_cleared: bool,
    /// Gaps seen: from, to.
    pub gaps: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Register readings not counted (repeated or back in time).
    pub repeated: u64,
    /// Import power over the last [`RECENT`]: energy (Wh) and seconds, by reading.
    recent: std::collections::VecDeque<(DateTime<Utc>, f64, f64)>,
}

/// A period as whole milliseconds, for serde.
mod millis {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_milliseconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = i64::deserialize(d)?;
        if ms <= 0 {
            return Err(serde::de::Error::custom("a period must be positive"));
        }
        Ok(Duration::milliseconds(ms))
    }
}

impl Default for Hours {
    fn default() -> Hours {
        Hours::new(Duration::hours(1))
    }
}

/// Spreads `import`/`export` (Wh) over `[from, to)` evenly, period by
/// period. In milliseconds since the epoch: it runs for every reading,
/// mostly into the period summed last.
fn spread(
    into: &mut BTreeMap<DateTime<Utc>, Sum>,
    period: Duration,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    import: f64,
    export: f64,
) {
    let (from, to, len) = (from.timestamp_millis(), to.timestamp_millis(), period.num_milliseconds().max(1));
    if to <= from {
        return;
    }
    let total = (to - from) as f64;
    let mut t = from;
    while t < to {
        let start = t - t.rem_euclid(len);
        let end = (start + len).min(to);
        let part = (end - t) as f64;
        let s = match into.last_entry() {
            Some(e) if e.key().timestamp_millis() == start => e.into_mut(),
            _ => match DateTime::from_timestamp_millis(start) {
                Some(key) => into.entry(key).or_default(),
                None => return,
            },
        };
        s.import_wh += import * part / total;
        s.export_wh += export * part / total;
        s.covered += part / 1000.0;
        t = end;
    }
}

impl Hours {
    /// Sums by `period` (an hour, or 15 minutes for Belgium's quarter hours;
    /// it must divide a day).
    pub fn new(period: Duration) -> Hours {
        Hours {
            period,
            registers: BTreeMap::new(),
            power: BTreeMap::new(),
            last_register: None,
            last_power: None,
            first_register: None,
            first_power: None,
            recent_cleared: false,
            gaps: Vec::new(),
            repeated: 0,
            recent: std::collections::VecDeque::new(),
        }
    }

    /// The same sums by a longer `period` (a whole number of this one's:
    /// hours from quarter hours), as if summed by it from the start.
    pub fn regroup(&self, period: Duration) -> Hours {
        let mut out = self.clone();
        out.period = period;
        for (into, from) in [(&mut out.registers, &self.registers), (&mut out.power, &self.power)] {
            into.clear();
            for (start, sum) in from {
                let s = into.entry(start.duration_trunc(period).unwrap_or(*start)).or_default();
                s.import_wh += sum.import_wh;
                s.export_wh += sum.export_wh;
                s.covered += sum.covered;
            }
        }
        out
    }

    /// Drops the periods before `t` (a long `--follow` keeps a few weeks).
    pub fn forget_before(&mut self, t: DateTime<Utc>) {
        self.registers = self.registers.split_off(&t);
        self.power = self.power.split_off(&t);
        self.gaps.retain(|(_, to)| *to >= t);
    }

    /// Takes out the periods starting in `[from, to)`, as hours (gaps stay):
    /// a long span is summarised a month at a time, so its periods need not
    /// all be kept. Periods a later reading may still add to must not be
    /// taken.
    pub fn take(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Hour> {
        if from >= to {
            return Vec::new();
        }
        let mut starts: Vec<DateTime<Utc>> =
            self.registers.range(from..to).chain(self.power.range(from..to)).map(|(k, _)| *k).collect();
        starts.sort();
        starts.dedup();
        let out = starts.into_iter().filter_map(|start| self.hour(start)).collect();
        for map in [&mut self.registers, &mut self.power] {
            let mut middle = map.split_off(&from);
            let mut after = middle.split_off(&to);
            map.append(&mut after);
        }
        out
    }

    /// The period summed.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The start of the period holding `t`.
    pub fn start_of(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        t.duration_trunc(self.period).unwrap_or(t)
    }

    /// The time of the last reading with power or registers.
    pub fn last_reading(&self) -> Option<DateTime<Utc>> {
        let reg = self.last_register.map(|(t, ..)| t);
        let pow = self.last_power.map(|(t, ..)| t);
        reg.max(pow)
    }

    /// The average import power (W) over the last [`RECENT`] of readings.
    pub fn recent_import_w(&self) -> Option<f64> {
        let (wh, secs) = self.recent.iter().fold((0.0, 0.0), |(w, s), (_, wh, secs)| (w + wh, s + secs));
        if secs > 0.0 {
            return Some(wh * 3600.0 / secs);
        }
        // A single reading so far: its power.
        self.last_power.and_then(|(_, imp, _)| imp)
    }

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
                    spread(&mut self.registers, self.period, (t, at), (imp - last_imp) * 1000.0, exp);
                    self.last_register = Some((at, imp, s.export_kwh));
                }
                Some((t, ..)) => {
                    // Too far apart, or the register went back (a new meter): start again.
                    self.gaps.push((t, at));
                    self.last_register = Some((at, imp, s.export_kwh));
                }
                None => {
                    self.last_register = Some((at, imp, s.export_kwh));
                    self.first_register = self.last_register;
                }
            }
        }
        if s.import_w.is_some() || s.export_w.is_some() {
            if let Some((t, imp, exp)) = self.last_power {
                if at > t && at - t <= GAP {
                    let hours = (at - t).num_milliseconds() as f64 / 3_600_000.0;
                    let wh = imp.unwrap_or(0.0) * hours;
                    spread(&mut self.power, self.period, (t, at), wh, exp.unwrap_or(0.0) * hours);
                    self.recent.push_back((at, wh, hours * 3600.0));
                    while self.recent.front().is_some_and(|(t0, ..)| at - *t0 > RECENT) {
                        self.recent.pop_front();
                    }
                } else if at > t {
                    self.recent.clear();
                    self.recent_cleared = true;
                    self.gaps.push((t, at));
                }
            }
            if self.last_power.is_none_or(|(t, ..)| at > t) {
                self.last_power = Some((at, s.import_w, s.export_w));
            }
            if self.first_power.is_none() {
                self.first_power = self.last_power;
            }
        }
    }

    /// Takes the sums of the readings that came after this one's (summed
    /// apart, on another thread): the stretch between this one's last
    /// readings and `later`'s first is counted as [`Hours::add`] would
    /// have, so the result is that of one pass over all the readings.
    pub fn append(&mut self, later: Hours) {
        if let Some((t, imp, exp)) = later.first_register {
            self.add(t, &Sample { import_kwh: Some(imp), export_kwh: exp, ..Sample::default() });
        }
        if let Some((t, imp, exp)) = later.first_power {
            self.add(t, &Sample { import_w: imp, export_w: exp, ..Sample::default() });
        }
        for (into, from) in [(&mut self.registers, later.registers), (&mut self.power, later.power)] {
            for (start, sum) in from {
                let s = into.entry(start).or_default();
                s.import_wh += sum.import_wh;
                s.export_wh += sum.export_wh;
                s.covered += sum.covered;
            }
        }
        self.gaps.extend(later.gaps);
        self.repeated += later.repeated;
        self.last_register = later.last_register.or(self.last_register);
        self.last_power = later.last_power.or(self.last_power);
        self.first_register = self.first_register.or(later.first_register);
        self.first_power = self.first_power.or(later.first_power);
        if later.recent_cleared {
            self.recent.clear();
            self.recent_cleared = true;
        }
        self.recent.extend(later.recent);
        if let Some(&(newest, ..)) = self.recent.back() {
            while self.recent.front().is_some_and(|(t0, ..)| newest - *t0 > RECENT) {
                self.recent.pop_front();
            }
        }
    }

    /// Every hour with readings, in order.
    pub fn hours(&self) -> Vec<Hour> {
        let mut starts: Vec<DateTime<Utc>> = self.registers.keys().chain(self.power.keys()).copied().collect();
        starts.sort();
        starts.dedup();
        starts.into_iter().filter_map(|start| self.hour(start)).collect()
    }

    /// The hour (period) starting at `start`, when it has readings: from
    /// the registers when they cover it all, or cover more than power does.
    pub fn hour(&self, start: DateTime<Utc>) -> Option<Hour> {
        let reg = self.registers.get(&start).copied();
        let pow = self.power.get(&start).copied();
        if reg.is_none() && pow.is_none() {
            return None;
        }
        let (reg, pow) = (reg.unwrap_or_default(), pow.unwrap_or_default());
        let whole = self.period.num_seconds() as f64;
        let full = |s: &Sum| s.covered >= whole - 0.5;
        let (s, from_registers) =
            if full(&reg) || reg.covered >= pow.covered && reg.covered > 0.0 { (reg, true) } else { (pow, false) };
        Some(Hour { start, import_wh: s.import_wh, export_wh: s.export_wh, from_registers, complete: full(&s) })
    }

    /// The period holding `now`: its energy so far and, when a reading
    /// came within [`GAP`] of `now`, its projected total from the recent
    /// power.
    pub fn current(&self, now: DateTime<Utc>) -> Current {
        let start = self.start_of(now);
        let so_far_wh = self.hour(start).map_or(0.0, |h| h.import_wh);
        let last = self.last_reading();
        let recent_w = self.recent_import_w();
        let projected_wh = match (last, recent_w) {
            (Some(t), Some(w)) if now - t <= GAP && t >= start - GAP => {
                let left = (start + self.period - t.max(start)).num_milliseconds().max(0) as f64 / 3_600_000.0;
                Some(so_far_wh + w * left)
            }
            _ => None,
        };
        Current { start, so_far_wh, recent_w, projected_wh, last_reading: last }
    }
}

/// The period now running.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Current {
    /// When it started.
    pub start: DateTime<Utc>,
    /// Energy imported so far, Wh.
    pub so_far_wh: f64,
    /// Import power over the last minutes, W.
    pub recent_w: Option<f64>,
    /// What it will come to if the recent power holds, Wh (none without a
    /// recent reading).
    pub projected_wh: Option<f64>,
    /// The last reading's time.
    pub last_reading: Option<DateTime<Utc>>,
}

impl Current {
    /// Whether readings are coming for it: the last one came within [`GAP`]
    /// of its start or later (else there is nothing to show for it).
    pub fn is_running(&self) -> bool {
        self.last_reading.is_some_and(|t| t >= self.start - GAP)
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

    #[test]
    fn the_current_hour_is_projected_from_recent_power() {
        let mut h = Hours::default();
        let t0 = at("2025-01-01T10:00:00Z");
        // 1200 W for 20 minutes, then 3000 W for 10 minutes.
        for i in 0..=600 {
            let w = if i < 400 { 1200.0 } else { 3000.0 };
            h.add(t0 + Duration::seconds(3 * i), &power(w));
        }
        let now = t0 + Duration::minutes(30);
        let c = h.current(now);
        // 400 Wh + 500 Wh so far (the last 3000 W is held only until the last reading).
        assert!((c.so_far_wh - 900.0).abs() < 1e-6, "{c:?}");
        assert!((c.recent_w.unwrap() - 3000.0).abs() < 1e-6);
        assert!((c.projected_wh.unwrap() - 2400.0).abs() < 1e-6, "{c:?}");
        // Ten minutes without a reading: no projection.
        assert_eq!(h.current(now + Duration::minutes(10)).projected_wh, None);
        // Quarter hours: the one from 10:15 holds 5 minutes at 1200 W, 10 at 3000 W.
        let mut q = Hours::new(Duration::minutes(15));
        for i in 0..=600 {
            let w = if i < 400 { 1200.0 } else { 3000.0 };
            q.add(t0 + Duration::seconds(3 * i), &power(w));
        }
        let quarter = q.hour(at("2025-01-01T10:15:00Z")).unwrap();
        assert!((quarter.import_wh - 600.0).abs() < 1e-6 && quarter.complete, "{quarter:?}");
    }

    /// Hours summed in one pass equal hours summed in two parts and appended.
    fn same(a: &Hours, b: &Hours) -> Result<(), String> {
        let (ha, hb) = (a.hours(), b.hours());
        if ha.len() != hb.len() {
            return Err(format!("{} hours vs {}", ha.len(), hb.len()));
        }
        for (x, y) in ha.iter().zip(&hb) {
            let close = |p: f64, q: f64| (p - q).abs() <= 1e-6 * p.abs().max(1.0);
            if x.start != y.start
                || x.complete != y.complete
                || x.from_registers != y.from_registers
                || !close(x.import_wh, y.import_wh)
                || !close(x.export_wh, y.export_wh)
            {
                return Err(format!("{x:?} vs {y:?}"));
            }
        }
        if a.gaps != b.gaps || a.repeated != b.repeated || a.last_reading() != b.last_reading() {
            return Err(format!("gaps {:?} vs {:?}, repeated {} vs {}", a.gaps, b.gaps, a.repeated, b.repeated));
        }
        match (a.recent_import_w(), b.recent_import_w()) {
            (Some(p), Some(q)) if (p - q).abs() > 1e-6 * p.abs().max(1.0) => Err(format!("recent {p} vs {q}")),
            _ => Ok(()),
        }
    }

    proptest::proptest! {
        #[test]
        fn two_parts_appended_are_one_pass(
            steps in proptest::collection::vec((1i64..400, 0u8..4, 0.0f64..5000.0), 1..300),
            split in 0usize..300,
            minutes in proptest::sample::select(vec![15i64, 60]),
        ) {
            // Readings every 1-400 s: power, registers, both, or a register repeated.
            let mut t = at("2025-01-01T10:00:00Z");
            let mut kwh = 100.0;
            let mut readings = Vec::new();
            for (dt, kind, w) in steps {
                t += Duration::seconds(dt);
                kwh += w * dt as f64 / 3_600_000.0;
                let reg = Sample { import_kwh: Some(kwh), export_kwh: Some(1.0), ..Sample::default() };
                match kind {
                    0 => readings.push((t, Sample { import_w: Some(w), ..Sample::default() })),
                    1 => readings.push((t, reg)),
                    2 => readings.push((t, Sample { import_w: Some(w), ..reg })),
                    _ => {
                        readings.push((t, reg));
                        readings.push((t, reg));
                    }
                }
            }
            let period = Duration::minutes(minutes);
            let mut whole = Hours::new(period);
            for (t, s) in &readings {
                whole.add(*t, s);
            }
            let split = split.min(readings.len());
            let (mut first, mut second) = (Hours::new(period), Hours::new(period));
            for (t, s) in &readings[..split] {
                first.add(*t, s);
            }
            for (t, s) in &readings[split..] {
                second.add(*t, s);
            }
            first.append(second);
            proptest::prop_assert!(same(&whole, &first).is_ok(), "{:?}", same(&whole, &first));
            // Hours from quarter hours are hours summed as such.
            if minutes == 15 {
                let mut hourly = Hours::default();
                for (t, s) in &readings {
                    hourly.add(*t, s);
                }
                let regrouped = whole.regroup(Duration::hours(1));
                proptest::prop_assert!(same(&hourly, &regrouped).is_ok(), "{:?}", same(&hourly, &regrouped));
            }
        }
    }
}
