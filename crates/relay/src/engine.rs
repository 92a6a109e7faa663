//! The rule engine of `relay watch`: fed samples of the stream in time
//! order (and clock ticks between them), it keeps what each rule wants.
//! What is carried out is decided with the other sources' wishes (see
//! [`crate::decide`]). Pure: times are given, nothing is switched here.

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::rules::{Kind, Rule};
use crate::state::By;

/// What the engine reads of a stream line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub t: DateTime<Utc>,
    pub import_w: f64,
    /// Absent from lists that carry import only (Kaifa's list 1): such a
    /// line says nothing of export, and breaks no export condition.
    pub export_w: Option<f64>,
    pub energy_import_kwh: Option<f64>,
}

/// What a rule wants of its relay.
#[derive(Debug, Clone, PartialEq)]
pub struct Want {
    pub relay: u32,
    /// The rule's kind (`surplus`, `capacity`): a relay has one of each.
    pub kind: &'static str,
    pub on: bool,
    pub by: By,
    pub why: String,
    /// Since when it wants it.
    pub since: DateTime<Utc>,
}

#[derive(Debug)]
struct Run {
    rule: Rule,
    /// Since when the on (or off) condition has held without a break.
    on_cond: Option<DateTime<Utc>>,
    off_cond: Option<DateTime<Utc>>,
    want: Option<Want>,
    stale: bool,
}

/// Energy in the current clock hour.
#[derive(Debug, Default)]
struct Hour {
    start: Option<DateTime<Utc>>,
    start_kwh: Option<f64>,
    /// Import power over time, for meters without an energy register.
    integrated_wh: f64,
    last: Option<Sample>,
}

#[derive(Debug)]
pub struct Engine {
    runs: Vec<Run>,
    hour: Hour,
    last: Option<DateTime<Utc>>,
    /// The safe state of each relay, for rules without their own fail-safe.
    safe: Vec<(u32, bool)>,
}

fn std_to_chrono(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::MAX)
}

fn secs(d: std::time::Duration) -> String {
    han_common::duration::format(d)
}

impl Engine {
    pub fn new(rules: Vec<Rule>, safe: Vec<(u32, bool)>) -> Engine {
        let runs = rules
            .into_iter()
            .map(|rule| Run { rule, on_cond: None, off_cond: None, want: None, stale: false })
            .collect();
        Engine { runs, hour: Hour::default(), last: None, safe }
    }

    /// What the rules want now, one per rule that has an opinion.
    pub fn wants(&self) -> impl Iterator<Item = &Want> {
        self.runs.iter().filter_map(|r| r.want.as_ref())
    }

    /// Every rule, with what it wants now.
    pub fn rules(&self) -> impl Iterator<Item = (&Rule, Option<&Want>)> {
        self.runs.iter().map(|r| (&r.rule, r.want.as_ref()))
    }

    /// Time passes without a reading: a rule whose readings are older than
    /// its `stale_after` wants its fail-safe state.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let Some(last) = self.last else { return };
        for run in &mut self.runs {
            let at = last + std_to_chrono(run.rule.stale_after);
            if !run.stale && now >= at {
                run.stale = true;
                run.on_cond = None;
                run.off_cond = None;
                let on = run
                    .rule
                    .fail_safe
                    .or_else(|| self.safe.iter().find(|(n, _)| *n == run.rule.relay).map(|(_, s)| *s))
                    .unwrap_or(false);
                run.want = Some(Want {
                    relay: run.rule.relay,
                    kind: run.rule.kind.name(),
                    on,
                    by: By::FailSafe,
                    why: format!("no reading for {}", secs(run.rule.stale_after)),
                    since: at,
                });
            }
        }
    }

    /// A reading. Samples must come in time order; an older one is ignored.
    pub fn sample(&mut self, s: Sample) {
        if self.last.is_some_and(|l| s.t < l) {
            return;
        }
        self.tick(s.t);
        self.last = Some(s.t);
        let projected = self.hour.add(s);
        for run in &mut self.runs {
            if run.stale {
                // Readings are back: the rule starts afresh from this one.
                run.stale = false;
            }
            let relay = run.rule.relay;
            let kind = run.rule.kind.name();
            let want = |on: bool, why: String, since: DateTime<Utc>| Want { relay, kind, on, by: By::Rule, why, since };
            match run.rule.kind {
                Kind::Surplus { on_export_w, on_for, off_import_w, off_for } => {
                    if let Some(x) = s.export_w {
                        run.on_cond = if x > on_export_w { run.on_cond.or(Some(s.t)) } else { None };
                    }
                    run.off_cond = if s.import_w > off_import_w { run.off_cond.or(Some(s.t)) } else { None };
                    let wants_on = run.want.as_ref().is_some_and(|w| w.on && w.by == By::Rule);
                    let wants_off = run.want.as_ref().is_some_and(|w| !w.on && w.by == By::Rule);
                    if let Some(since) = run.on_cond.filter(|c| s.t - *c >= std_to_chrono(on_for)) {
                        if !wants_on {
                            let why = format!(
                                "export {:.0} W over {on_export_w:.0} W for {}",
                                s.export_w.unwrap_or(0.0),
                                secs(on_for)
                            );
                            run.want = Some(want(true, why, since + std_to_chrono(on_for)));
                        }
                    } else if let Some(since) = run.off_cond.filter(|c| s.t - *c >= std_to_chrono(off_for)) {
                        if !wants_off {
                            let why =
                                format!("import {:.0} W over {off_import_w:.0} W for {}", s.import_w, secs(off_for));
                            run.want = Some(want(false, why, since + std_to_chrono(off_for)));
                        }
                    } else if run.want.as_ref().is_some_and(|w| w.by == By::FailSafe) {
                        // Back from stale data without a condition yet: no opinion.
                        run.want = None;
                    }
                }
                Kind::Capacity { limit_wh, resume_wh } => {
                    let Some(p) = projected else { continue };
                    let current = run.want.as_ref().filter(|w| w.by == By::Rule).map(|w| w.on);
                    if p > limit_wh && current != Some(false) {
                        let why = format!("this hour heads for {p:.0} Wh, over {limit_wh:.0} Wh");
                        run.want = Some(want(false, why, s.t));
                    } else if p < resume_wh && current != Some(true) {
                        let why = format!("this hour heads for {p:.0} Wh, under {resume_wh:.0} Wh");
                        run.want = Some(want(true, why, s.t));
                    }
                }
            }
        }
    }
}

impl Hour {
    /// Adds a sample; the clock hour's projected import energy (Wh): what
    /// it used so far plus the present power until the hour's end.
    fn add(&mut self, s: Sample) -> Option<f64> {
        let hour = s.t.duration_trunc(Duration::hours(1)).ok()?;
        if self.start != Some(hour) {
            // The register's last value of the hour before is where this one
            // starts; without one, the first value of this hour.
            let carried = self.last.filter(|l| s.t - l.t <= Duration::minutes(5)).and_then(|l| l.energy_import_kwh);
            self.start = Some(hour);
            self.start_kwh = carried.or(s.energy_import_kwh);
            self.integrated_wh = 0.0;
        } else if let Some(l) = self.last {
            let dt = (s.t - l.t).num_milliseconds() as f64 / 3_600_000.0;
            self.integrated_wh += l.import_w * dt.max(0.0);
        }
        if self.start_kwh.is_none() {
            self.start_kwh = s.energy_import_kwh;
        }
        self.last = Some(s);
        let used = match (self.start_kwh, s.energy_import_kwh) {
            (Some(a), Some(b)) if b >= a => (b - a) * 1000.0,
            _ => self.integrated_wh,
        };
        let left = (hour + Duration::hours(1) - s.t).num_milliseconds() as f64 / 3_600_000.0;
        Some(used + s.import_w * left.max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-06-01T10:00:00Z").expect("t").to_utc()
    }

    fn s(sec: i64, import_w: f64, export_w: f64) -> Sample {
        Sample { t: t0() + Duration::seconds(sec), import_w, export_w: Some(export_w), energy_import_kwh: None }
    }

    fn surplus() -> Engine {
        let text = "[[rule]]\nrelay = 1\nkind = \"surplus\"\non_export_w = 1500\non_for = \"60s\"\noff_import_w = 300\noff_for = \"30s\"\nstale_after = \"2m\"\nfail_safe = \"off\"\n";
        Engine::new(rules::parse(text, &[1]).expect("rules"), vec![(1, false)])
    }

    fn want(e: &Engine) -> Option<(bool, By)> {
        e.wants().next().map(|w| (w.on, w.by))
    }

    #[test]
    fn surplus_needs_the_condition_for_its_whole_time() {
        let mut e = surplus();
        for sec in (0..=50).step_by(10) {
            e.sample(s(sec, 0.0, 2000.0));
        }
        assert_eq!(want(&e), None, "50 s of export is not 60");
        // A line without export (an import-only list) breaks nothing.
        e.sample(Sample { export_w: None, ..s(52, 0.0, 0.0) });
        // A dip under the threshold starts the minute again.
        e.sample(s(55, 0.0, 1000.0));
        for sec in (60..=110).step_by(10) {
            e.sample(s(sec, 0.0, 2000.0));
        }
        assert_eq!(want(&e), None);
        e.sample(s(120, 0.0, 2000.0));
        assert_eq!(want(&e), Some((true, By::Rule)));
        assert_eq!(e.wants().next().map(|w| w.since), Some(t0() + Duration::seconds(120)));
        // Import under 300 W: the hysteresis band, it stays on.
        for sec in (130..=300).step_by(10) {
            e.sample(s(sec, 250.0, 0.0));
        }
        assert_eq!(want(&e), Some((true, By::Rule)));
        for sec in (310..=340).step_by(10) {
            e.sample(s(sec, 500.0, 0.0));
        }
        assert_eq!(want(&e), Some((false, By::Rule)), "30 s over 300 W import");
    }

    #[test]
    fn stale_data_wants_the_fail_safe_then_the_rule_again() {
        let mut e = surplus();
        for sec in (0..=60).step_by(10) {
            e.sample(s(sec, 0.0, 2000.0));
        }
        assert_eq!(want(&e), Some((true, By::Rule)));
        e.tick(t0() + Duration::seconds(179));
        assert_eq!(want(&e), Some((true, By::Rule)));
        e.tick(t0() + Duration::seconds(180));
        assert_eq!(want(&e), Some((false, By::FailSafe)));
        assert_eq!(e.wants().next().map(|w| w.since), Some(t0() + Duration::seconds(180)));
        // Readings again: no opinion until the condition holds a minute.
        e.sample(s(300, 0.0, 2000.0));
        assert_eq!(want(&e), None);
        e.sample(s(360, 0.0, 2000.0));
        assert_eq!(want(&e), Some((true, By::Rule)));
    }

    #[test]
    fn capacity_projects_the_hour() {
        let text =
            "[[rule]]\nrelay = 2\nkind = \"capacity\"\nlimit_wh = 5000\nresume_wh = 4000\nstale_after = \"1h\"\n";
        let mut e = Engine::new(rules::parse(text, &[2]).expect("rules"), vec![(2, true)]);
        let at = |min: i64, w: f64, kwh: f64| Sample {
            t: t0() + Duration::minutes(min),
            import_w: w,
            export_w: Some(0.0),
            energy_import_kwh: Some(kwh),
        };
        // 30 min at 4 kW used 2 kWh; 4 kW for the other half: 4 kWh, in
        // the band between resume and limit: no opinion yet.
        e.sample(at(0, 4000.0, 100.0));
        e.sample(at(30, 4000.0, 102.0));
        assert_eq!(want(&e), None);
        // 8 kW now: 2.1 + 8 * 29/60 = 5.97 kWh projected, over.
        e.sample(at(31, 8000.0, 102.1));
        assert_eq!(want(&e), Some((false, By::Rule)));
        assert!(e.wants().next().is_some_and(|w| w.why.contains("heads for 5967 Wh")), "{:?}", e.wants().next());
        // 3 kW: 2.1 + 3 * 29/60 = 3.55 kWh, under 4: on again.
        e.sample(at(31, 3000.0, 102.1));
        assert_eq!(want(&e), Some((true, By::Rule)));
    }
}
