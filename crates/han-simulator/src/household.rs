//! The household behind the meter: a seeded load model (base load, fridge,
//! lighting, electric heating by season, random appliance events with
//! daily rhythms) or a user's profile of watts per minute; and the grid
//! voltages and currents that go with it.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};

use crate::rng::Rng;

/// The electrical state at one instant, per phase.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Active power per phase, W; negative is export (solar).
    pub p: [i32; 3],
    /// Reactive power per phase, var; negative is capacitive (export).
    pub q: [i32; 3],
    /// Voltage per phase, V.
    pub u: [f64; 3],
    /// Current per phase, A.
    pub i: [f64; 3],
}

impl Sample {
    /// Net active power, W.
    pub fn net_w(&self) -> i64 {
        self.p.iter().map(|&p| i64::from(p)).sum()
    }
    /// Active power import (A+), W.
    pub fn import_w(&self) -> u32 {
        u32::try_from(self.net_w().max(0)).unwrap_or(u32::MAX)
    }
    /// Active power export (A-), W.
    pub fn export_w(&self) -> u32 {
        u32::try_from((-self.net_w()).max(0)).unwrap_or(u32::MAX)
    }
    fn net_var(&self) -> i64 {
        self.q.iter().map(|&q| i64::from(q)).sum()
    }
    /// Reactive power import (R+), var.
    pub fn q_import(&self) -> u32 {
        u32::try_from(self.net_var().max(0)).unwrap_or(u32::MAX)
    }
    /// Reactive power export (R-), var.
    pub fn q_export(&self) -> u32 {
        u32::try_from((-self.net_var()).max(0)).unwrap_or(u32::MAX)
    }
    /// Active power import on phase `k`, W.
    pub fn phase_import(&self, k: usize) -> u32 {
        self.p.get(k).map_or(0, |&p| p.max(0) as u32)
    }
    /// Active power export on phase `k`, W.
    pub fn phase_export(&self, k: usize) -> u32 {
        self.p.get(k).map_or(0, |&p| (-p).max(0) as u32)
    }
    /// Reactive power import on phase `k`, var.
    pub fn phase_q_import(&self, k: usize) -> u32 {
        self.q.get(k).map_or(0, |&q| q.max(0) as u32)
    }
    /// Reactive power export on phase `k`, var.
    pub fn phase_q_export(&self, k: usize) -> u32 {
        self.q.get(k).map_or(0, |&q| (-q).max(0) as u32)
    }
}

/// An appliance that switches on at random, more often at some hours.
struct Appliance {
    watts: (f64, f64),
    minutes: (f64, f64),
    /// Reactive power as a fraction of active power.
    q: f64,
    /// Spread over all three phases (oven, EV on 3 phases) instead of one.
    three_phase: bool,
    /// Switch-ons per hour at a local hour of day (0..24, fractional).
    rate: fn(f64) -> f64,
    /// Heats water: only where water is heated electrically (Norway, Sweden).
    water: bool,
}

fn between(h: f64, a: f64, b: f64) -> bool {
    h >= a && h < b
}

const APPLIANCES: &[Appliance] = &[
    // Kettle.
    Appliance {
        watts: (1900.0, 2200.0),
        minutes: (2.0, 4.0),
        q: 0.0,
        three_phase: false,
        water: false,
        rate: |h| {
            if between(h, 6.0, 9.0) {
                0.8
            } else if between(h, 16.0, 22.0) {
                0.4
            } else if between(h, 9.0, 16.0) {
                0.15
            } else {
                0.02
            }
        },
    },
    // Microwave.
    Appliance {
        watts: (900.0, 1250.0),
        minutes: (1.0, 5.0),
        q: 0.15,
        three_phase: false,
        water: false,
        rate: |h| if between(h, 7.0, 9.0) || between(h, 11.5, 13.0) || between(h, 17.0, 20.0) { 0.4 } else { 0.04 },
    },
    // Hob.
    Appliance {
        watts: (1200.0, 2500.0),
        minutes: (12.0, 40.0),
        q: 0.02,
        three_phase: false,
        water: false,
        rate: |h| {
            if between(h, 16.5, 19.0) {
                0.5
            } else if between(h, 11.5, 13.0) || between(h, 7.0, 8.0) {
                0.15
            } else {
                0.01
            }
        },
    },
    // Oven.
    Appliance {
        watts: (2000.0, 3000.0),
        minutes: (30.0, 70.0),
        q: 0.02,
        three_phase: true,
        water: false,
        rate: |h| if between(h, 16.5, 19.0) { 0.12 } else { 0.005 },
    },
    // Washing machine (heating phase).
    Appliance {
        watts: (1800.0, 2200.0),
        minutes: (20.0, 40.0),
        q: 0.1,
        three_phase: false,
        water: false,
        rate: |h| if between(h, 8.0, 21.0) { 0.04 } else { 0.0 },
    },
    // Tumble dryer.
    Appliance {
        watts: (2000.0, 2500.0),
        minutes: (40.0, 80.0),
        q: 0.08,
        three_phase: false,
        water: false,
        rate: |h| if between(h, 10.0, 22.0) { 0.02 } else { 0.0 },
    },
    // Dishwasher.
    Appliance {
        watts: (1800.0, 2000.0),
        minutes: (30.0, 60.0),
        q: 0.05,
        three_phase: false,
        water: false,
        rate: |h| if between(h, 19.0, 23.0) { 0.15 } else { 0.01 },
    },
    // Water heater reheating after showers.
    Appliance {
        watts: (1950.0, 2050.0),
        minutes: (20.0, 50.0),
        q: 0.0,
        three_phase: false,
        water: true,
        rate: |h| {
            if between(h, 6.0, 9.0) {
                0.6
            } else if between(h, 17.0, 22.0) {
                0.3
            } else {
                0.08
            }
        },
    },
    // Vacuum cleaner.
    Appliance {
        watts: (700.0, 1200.0),
        minutes: (10.0, 30.0),
        q: 0.2,
        three_phase: false,
        water: false,
        rate: |h| if between(h, 9.0, 20.0) { 0.05 } else { 0.0 },
    },
    // Electric car, 16 A on one phase, mostly overnight, every few days.
    Appliance {
        watts: (3600.0, 3700.0),
        minutes: (90.0, 300.0),
        q: 0.03,
        three_phase: false,
        water: false,
        rate: |h| {
            if between(h, 21.0, 24.0) {
                0.025
            } else if between(h, 0.0, 2.0) || between(h, 16.0, 18.0) {
                0.005
            } else {
                0.0
            }
        },
    },
];

/// One running appliance.
#[derive(Debug, Clone)]
struct Running {
    kind: usize,
    phase: usize,
    watts: f64,
    until_ms: i64,
}

/// A thermostat-controlled panel heater.
#[derive(Debug, Clone)]
struct Heater {
    watts: f64,
    phase: usize,
    on: bool,
    until_ms: i64,
}

/// Heating demand by month as a fraction of the heaters' rating.
const HEATING: [f64; 12] = [0.75, 0.7, 0.55, 0.35, 0.15, 0.0, 0.0, 0.0, 0.1, 0.3, 0.55, 0.7];

/// The load and the grid.
#[derive(Debug, Clone)]
pub struct Household {
    rng: Rng,
    base_w: f64,
    electric_water: bool,
    split: [f64; 3],
    fridge_offset_ms: i64,
    capacitive_var: f64,
    running: Vec<Running>,
    heaters: Vec<Heater>,
    u_offset: [f64; 3],
    u_walk: [f64; 3],
    last_ms: Option<i64>,
    profile: Option<(Vec<i32>, i64)>,
}

impl Household {
    /// A household for `seed`; `heating_kw` is the electric space heating
    /// at full demand (Norway ~3 kW, the Netherlands ~0.3 kW: gas heats
    /// there), `electric_water` whether a water heater runs on it;
    /// `profile` replaces the model with watts per minute from `start_ms` on.
    pub fn new(seed: u64, heating_kw: f64, electric_water: bool, profile: Option<Vec<i32>>, start_ms: i64) -> Self {
        let mut rng = Rng::new(seed, 0x686f_7573);
        let base_w = rng.range(220.0, 330.0);
        let a = rng.range(0.3, 0.45);
        let b = rng.range(0.25, 0.35);
        let split = [a, b, 1.0 - a - b];
        let heaters = (0..3)
            .map(|k| Heater {
                watts: heating_kw * 1000.0 / 3.0 * rng.range(0.8, 1.2),
                phase: k,
                on: false,
                until_ms: 0,
            })
            .collect();
        let u_offset = [rng.range(-2.0, 3.0), rng.range(-2.0, 3.0), rng.range(-2.0, 3.0)];
        Household {
            fridge_offset_ms: rng.below(2_700_000) as i64,
            capacitive_var: rng.range(40.0, 120.0),
            base_w,
            electric_water,
            split,
            running: Vec::new(),
            heaters,
            u_offset,
            u_walk: [0.0; 3],
            last_ms: None,
            profile: profile.filter(|p| !p.is_empty()).map(|p| (p, start_ms)),
            rng,
        }
    }

    /// The state at `t_ms` (UTC milliseconds), the meter's wall clock
    /// reading `local`. Calls must come in time order.
    pub fn sample(&mut self, t_ms: i64, local: NaiveDateTime) -> Sample {
        let dt_ms = self.last_ms.map_or(0, |l| (t_ms - l).max(0));
        self.last_ms = Some(t_ms);
        let (p, q) = match &self.profile {
            Some((watts, start)) => {
                let minute = (t_ms - start).max(0) / 60_000;
                let w = watts.get((minute as usize) % watts.len()).copied().unwrap_or(0);
                let third = w / 3;
                let p = [w - 2 * third, third, third];
                let q = p.map(|x| x.abs() / 10);
                (p.map(f64::from), q.map(f64::from))
            }
            None => self.model(t_ms, dt_ms, local),
        };
        self.grid(p, q, dt_ms)
    }

    fn model(&mut self, t_ms: i64, dt_ms: i64, local: NaiveDateTime) -> ([f64; 3], [f64; 3]) {
        let mut h = f64::from(local.hour()) + f64::from(local.minute()) / 60.0 + f64::from(local.second()) / 3600.0;
        if matches!(local.weekday(), Weekday::Sat | Weekday::Sun) {
            // Weekends start later.
            h = (h - 1.5).rem_euclid(24.0);
        }
        let mut p = [0.0f64; 3];
        let mut q = [0.0f64; 3];
        let mut add = |k: usize, w: f64, ratio: f64| {
            if let (Some(pp), Some(qq)) = (p.get_mut(k), q.get_mut(k)) {
                *pp += w;
                *qq += w * ratio;
            }
        };
        // Standby, network gear, ventilation.
        for (k, s) in self.split.iter().enumerate() {
            add(k, self.base_w * s, 0.35);
        }
        // Fridge and freezer compressor: 15 minutes on in 45.
        if (t_ms + self.fridge_offset_ms).rem_euclid(2_700_000) < 900_000 {
            add(1, 110.0, 0.6);
        }
        // Lighting and electronics.
        let lights = if between(h, 17.0, 23.0) {
            170.0
        } else if between(h, 6.0, 8.5) {
            90.0
        } else if between(h, 8.5, 17.0) {
            35.0
        } else {
            10.0
        };
        add(2, lights, 0.1);
        add(0, lights * 0.3, 0.1);
        // Space heating: panel heaters cycling to meet the demand.
        let shape = if between(h, 6.0, 9.0) || between(h, 16.0, 22.0) {
            1.0
        } else if between(h, 9.0, 16.0) {
            0.75
        } else {
            0.6
        };
        let duty = (HEATING.get(local.month0() as usize).copied().unwrap_or(0.0) * shape).clamp(0.0, 0.95);
        for ht in &mut self.heaters {
            if t_ms >= ht.until_ms {
                let period = self.rng.range(900_000.0, 1_500_000.0);
                ht.on = !ht.on && duty > 0.0;
                let frac = if ht.on { duty } else { 1.0 - duty };
                ht.until_ms = t_ms + (period * frac).max(60_000.0) as i64;
            }
            if ht.on {
                add(ht.phase, ht.watts, 0.0);
            }
        }
        // Appliances: end the finished ones, start new ones at their rates.
        self.running.retain(|r| r.until_ms > t_ms);
        if dt_ms > 0 {
            let dt_h = dt_ms as f64 / 3_600_000.0;
            for (kind, a) in APPLIANCES.iter().enumerate() {
                let rate = (a.rate)(h);
                if rate <= 0.0 || (a.water && !self.electric_water) || self.running.iter().any(|r| r.kind == kind) {
                    continue;
                }
                if self.rng.chance(1.0 - (-rate * dt_h).exp()) {
                    let minutes = self.rng.range(a.minutes.0, a.minutes.1);
                    let phase = if a.three_phase { 3 } else { self.rng.below(3) as usize };
                    let watts = self.rng.range(a.watts.0, a.watts.1);
                    self.running.push(Running { kind, phase, watts, until_ms: t_ms + (minutes * 60_000.0) as i64 });
                }
            }
        }
        for r in &self.running {
            let ratio = APPLIANCES.get(r.kind).map_or(0.0, |a| a.q);
            if r.phase >= 3 {
                for k in 0..3 {
                    add(k, r.watts / 3.0, ratio);
                }
            } else {
                add(r.phase, r.watts, ratio);
            }
        }
        // Electronics make the house slightly capacitive at low load.
        for qq in &mut q {
            *qq -= self.capacitive_var / 3.0;
        }
        // A little noise: no load is perfectly steady.
        for pp in &mut p {
            *pp *= 1.0 + self.rng.range(-0.01, 0.01);
        }
        (p, q)
    }

    /// Voltages wander within ±3 % of 230 V and sag with the phase current.
    fn grid(&mut self, p: [f64; 3], q: [f64; 3], dt_ms: i64) -> Sample {
        let step = (dt_ms as f64 / 1000.0).sqrt().min(30.0) * 0.08;
        let mut s = Sample::default();
        for k in 0..3 {
            let (pk, qk) = (p[k].round(), q[k].round());
            let walk = (self.u_walk[k] * 0.995 + self.rng.range(-step, step)).clamp(-3.0, 3.0);
            self.u_walk[k] = walk;
            let apparent = (pk * pk + qk * qk).sqrt();
            let sag = 0.25 * apparent / 230.0;
            let u = (230.0 + self.u_offset[k] + walk - sag).clamp(223.2, 236.8);
            s.p[k] = pk as i32;
            s.q[k] = qk as i32;
            s.u[k] = (u * 10.0).round() / 10.0;
            s.i[k] = apparent / s.u[k];
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn a_day_looks_like_a_household() {
        let mut h = Household::new(3, 3.0, true, None, 0);
        let day = NaiveDate::from_ymd_opt(2025, 1, 15).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let mut total_wh = 0.0;
        let mut night = Vec::new();
        let mut evening = Vec::new();
        for s in 0..8640 {
            let t = day + chrono::Duration::seconds(s * 10);
            let x = h.sample(s * 10_000, t);
            total_wh += x.net_w() as f64 * 10.0 / 3600.0;
            for k in 0..3 {
                assert!((223.0..=237.0).contains(&x.u[k]));
            }
            if (2..4).contains(&(s / 360)) {
                night.push(x.net_w());
            }
            if (17..20).contains(&(s / 360)) {
                evening.push(x.net_w());
            }
        }
        let avg = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64;
        assert!((10_000.0..80_000.0).contains(&total_wh), "a winter day in Norway: {total_wh} Wh");
        assert!(avg(&evening) > avg(&night), "evening peak");
    }

    #[test]
    fn profile_is_followed() {
        let mut h = Household::new(1, 0.0, false, Some(vec![1000, -600]), 0);
        let t = NaiveDate::from_ymd_opt(2025, 6, 1).and_then(|d| d.and_hms_opt(12, 0, 0)).unwrap_or_default();
        assert_eq!(h.sample(0, t).net_w(), 1000);
        assert_eq!(h.sample(60_000, t).export_w(), 600);
        assert_eq!(h.sample(120_000, t).import_w(), 1000);
    }
}
