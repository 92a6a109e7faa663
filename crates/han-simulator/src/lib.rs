//! `han-simulator`: a smart electricity meter you can run without a meter
//! (the library behind the `han-sim` binary).
//!
//! A [`Simulator`] writes the frames of one real meter model — framing,
//! list layout, CRCs, cadence and clock copied from captures of that meter —
//! with the values of a simulated household: power from a seeded load model
//! (or a profile of watts per minute), energy registers that integrate it
//! exactly over the meter's clock, and voltages and currents that fit.
//!
//! ```
//! use han_simulator::{Meter, Options, Simulator};
//! let start = chrono::DateTime::parse_from_rfc3339("2025-01-15T08:00:00+01:00").unwrap().to_utc();
//! let mut sim = Simulator::new(Options::new(Meter::KaifaNo, start, 1));
//! let frame = sim.next_frame();
//! assert_eq!(frame.bytes.first(), Some(&0x7E));
//! ```

pub mod acme;
mod cosem;
mod household;
mod p1;
pub mod quirks;
mod rng;
mod swiss;

use std::cell::Cell;

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::{OffsetComponents, Tz};

pub use household::{Household, Sample};
use rng::Rng;

/// Milliseconds in an hour, a quarter hour, five minutes.
const HOUR: i64 = 3_600_000;
const QUARTER: i64 = 900_000;
const FIVE_MIN: i64 = 300_000;

/// The meters han-sim imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meter {
    /// Aidon 6534 (Norway, 3-phase TN): list 1 every 2.5 s, list 2 every
    /// 10 s, list 3 at xx:00:10; self-describing items with scalers.
    AidonNo,
    /// Kaifa MA304H3E (Norway, 3-phase IT): list 1 every 2 s, list 2
    /// every 10 s, list 3 at xx:00:10; bare values, header date-time `09 0C`.
    KaifaNo,
    /// Kamstrup Omnipower (Norway): its list 1 every 10 s, its list 2 at
    /// xx:00:05; OBIS codes `1-1:`, implicit scalers.
    KamstrupNo,
    /// Aidon (Sweden, RJ12 HAN): one 27-item list every 10 s.
    AidonSe,
    /// Iskra AM550, Dutch DSMR 5.0.2 P1: a telegram every second, gas on channel 1.
    Dsmr5,
    /// Kaifa, Dutch DSMR 4.2 P1: a telegram every 10 seconds, gas on channel 1.
    Dsmr4,
    /// Belgian Fluvius e-MUCS 1.7.1 P1: a telegram every second, quarter-hour
    /// demand and monthly peaks, gas on channel 1 and water on channel 2.
    Fluvius,
    /// Landis+Gyr E360, Switzerland, VSE push (`0-6:25.9.0`) every 5 s:
    /// capture objects, then bare values; U in 0.1 V, I in 0.01 A.
    LandisGyrE360Ch,
    /// Landis+Gyr E450, Switzerland, VSE push (`0-8:25.9.0`) every 5 s in
    /// General Block Transfer blocks, with the clock; U in V, I in 0.01 A.
    LandisGyrE450Ch,
    /// Landis+Gyr E570, Switzerland, VSE push (`0-8:25.9.0`) every 5 s in
    /// General Block Transfer blocks; U in V, I in 0.01 A.
    LandisGyrE570Ch,
    /// Iskraemeco AM550, Switzerland, VSE push (`0-6:25.9.0`) every 5 s in
    /// HDLC segments; U in 0.1 V, I in 0.01 A.
    IskraAm550Ch,
    /// Acme X3: a made-up meter no decoder knows (bare values, list id
    /// `ACME_X3_V1`), to try meter profiles on ([`acme`]).
    AcmeX3,
}

impl Meter {
    /// Every meter, in the order `--help` lists them.
    pub const ALL: [Meter; 12] = [
        Meter::AidonNo,
        Meter::KaifaNo,
        Meter::KamstrupNo,
        Meter::AidonSe,
        Meter::Dsmr5,
        Meter::Dsmr4,
        Meter::Fluvius,
        Meter::LandisGyrE360Ch,
        Meter::LandisGyrE450Ch,
        Meter::LandisGyrE570Ch,
        Meter::IskraAm550Ch,
        Meter::AcmeX3,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Meter::AidonNo => "aidon-no",
            Meter::KaifaNo => "kaifa-no",
            Meter::KamstrupNo => "kamstrup-no",
            Meter::AidonSe => "aidon-se",
            Meter::Dsmr5 => "dsmr5",
            Meter::Dsmr4 => "dsmr4",
            Meter::Fluvius => "fluvius",
            Meter::LandisGyrE360Ch => "landisgyr-e360-ch",
            Meter::LandisGyrE450Ch => "landisgyr-e450-ch",
            Meter::LandisGyrE570Ch => "landisgyr-e570-ch",
            Meter::IskraAm550Ch => "iskra-am550-ch",
            Meter::AcmeX3 => "acme-x3",
        }
    }

    /// The meter for a command-line name.
    pub fn from_name(s: &str) -> Option<Meter> {
        Meter::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(s))
    }

    /// The zone of the meter's wall clock.
    pub fn tz(self) -> Tz {
        match self {
            Meter::AidonNo | Meter::KaifaNo | Meter::KamstrupNo => chrono_tz::Europe::Oslo,
            Meter::AidonSe => chrono_tz::Europe::Stockholm,
            Meter::Dsmr5 | Meter::Dsmr4 => chrono_tz::Europe::Amsterdam,
            Meter::Fluvius => chrono_tz::Europe::Brussels,
            Meter::LandisGyrE360Ch | Meter::LandisGyrE450Ch | Meter::LandisGyrE570Ch | Meter::IskraAm550Ch => {
                chrono_tz::Europe::Zurich
            }
            Meter::AcmeX3 => chrono_tz::Europe::Berlin,
        }
    }

    /// A P1 (DSMR) meter rather than a HAN one.
    pub fn is_p1(self) -> bool {
        matches!(self, Meter::Dsmr5 | Meter::Dsmr4 | Meter::Fluvius)
    }

    /// The step of the meter's send schedule, ms: every frame falls on it.
    pub fn grid_ms(self) -> i64 {
        match self {
            Meter::AidonNo => 2_500,
            Meter::KaifaNo => 2_000,
            Meter::KamstrupNo => 5_000,
            Meter::AidonSe | Meter::Dsmr4 => 10_000,
            Meter::Dsmr5 | Meter::Fluvius => 1_000,
            Meter::LandisGyrE360Ch | Meter::LandisGyrE450Ch | Meter::LandisGyrE570Ch | Meter::IskraAm550Ch => 5_000,
            Meter::AcmeX3 => 10_000,
        }
    }

    /// A Swiss meter in the VSE push configuration.
    pub fn is_swiss(self) -> bool {
        matches!(self, Meter::LandisGyrE360Ch | Meter::LandisGyrE450Ch | Meter::LandisGyrE570Ch | Meter::IskraAm550Ch)
    }

    /// Which list the meter sends at `t_ms` (UTC ms; every zone used here is
    /// a whole number of hours from UTC, so UTC and local minutes agree).
    pub fn list_at(self, t_ms: i64) -> Option<List> {
        if t_ms.rem_euclid(self.grid_ms()) != 0 {
            return None;
        }
        let in_hour = t_ms.rem_euclid(HOUR);
        let tens = t_ms.rem_euclid(10_000) == 0;
        Some(match self {
            Meter::AidonNo | Meter::KaifaNo if in_hour == 10_000 => List::List3,
            Meter::AidonNo | Meter::KaifaNo if tens => List::List2,
            Meter::AidonNo | Meter::KaifaNo => List::List1,
            Meter::KamstrupNo if in_hour == 5_000 => List::List2,
            Meter::KamstrupNo if tens => List::List1,
            Meter::KamstrupNo => return None,
            Meter::AidonSe => List::List1,
            Meter::Dsmr5 | Meter::Dsmr4 | Meter::Fluvius => List::Telegram,
            // One list, every push.
            Meter::LandisGyrE360Ch
            | Meter::LandisGyrE450Ch
            | Meter::LandisGyrE570Ch
            | Meter::IskraAm550Ch
            | Meter::AcmeX3 => List::List1,
        })
    }

    /// Heating by electricity at full demand, kW (Norway and Sweden heat
    /// with electricity, the Netherlands and Belgium mostly with gas).
    fn heating_kw(self) -> f64 {
        match self {
            Meter::AidonNo | Meter::KaifaNo | Meter::KamstrupNo | Meter::AidonSe => 3.0,
            _ => 0.3,
        }
    }
}

/// Which kind of frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum List {
    /// NEK list 1 (Kamstrup: its list 1, the NEK list 2 content; Aidon SE: its only list).
    List1,
    /// NEK list 2 (Kamstrup: its hourly list with the clock and energies).
    List2,
    /// NEK list 3: list 2 plus the clock and the hourly energy registers.
    List3,
    /// A DSMR telegram.
    Telegram,
}

impl List {
    /// `list1`, `list2`, `list3` or `telegram`.
    pub fn name(self) -> &'static str {
        match self {
            List::List1 => "list1",
            List::List2 => "list2",
            List::List3 => "list3",
            List::Telegram => "telegram",
        }
    }
}

/// The energy registers, in W·ms (exact integrals of integer watts over
/// milliseconds); divide by 3 600 000 for Wh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Registers {
    /// Active energy import (A+).
    pub a_plus: u64,
    /// Active energy export (A-).
    pub a_minus: u64,
    /// Reactive energy import (R+), var·ms.
    pub r_plus: u64,
    /// Reactive energy export (R-), var·ms.
    pub r_minus: u64,
    /// A+ by DSMR tariff (1, 2).
    pub a_plus_t: [u64; 2],
    /// A- by DSMR tariff (1, 2).
    pub a_minus_t: [u64; 2],
}

/// W·ms (or var·ms) to whole Wh (varh), rounded down as a meter's register does.
pub fn wh(w_ms: u64) -> u64 {
    w_ms / 3_600_000
}

/// What the simulator starts from.
#[derive(Debug, Clone)]
pub struct Options {
    /// The meter to imitate.
    pub meter: Meter,
    /// When the meter's clock starts; the first frame falls on the first
    /// slot of the meter's schedule at or after it.
    pub start: DateTime<Utc>,
    /// Seed of every random choice (ids, register start values, the load).
    pub seed: u64,
    /// AES-128 key (GUEK): encrypt with general-glo-ciphering.
    pub key: Option<[u8; 16]>,
    /// Authentication key (GAK): HAN frames get SC 0x30 and a tag (else
    /// 0x20, encryption only); P1 frames always authenticate, by default
    /// with the Luxembourg Smarty key.
    pub auth_key: Option<[u8; 16]>,
    /// Watts per minute, repeated, instead of the household model
    /// (negative values are export).
    pub profile: Option<Vec<i32>>,
}

impl Options {
    /// Plain frames from the household model.
    pub fn new(meter: Meter, start: DateTime<Utc>, seed: u64) -> Self {
        Options { meter, start, seed, key: None, auth_key: None, profile: None }
    }
}

/// One frame or telegram, with what it says.
#[derive(Debug, Clone)]
pub struct Frame {
    /// When the meter sends it (UTC).
    pub time: DateTime<Utc>,
    /// The meter's wall clock at that moment.
    pub local: NaiveDateTime,
    /// Which list.
    pub list: List,
    /// The bytes on the wire.
    pub bytes: Vec<u8>,
    /// The instantaneous values it carries.
    pub sample: Sample,
    /// The registers at `time` (hourly lists carry the hour's snapshot instead).
    pub registers: Registers,
}

/// The Luxembourg Smarty authentication key (published), the default for
/// encrypted P1 output.
pub const SMARTY_AUTH_KEY: [u8; 16] =
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];

/// The meter's identity, drawn from the seed.
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    /// Meter id / serial (digits) or DSMR equipment id (text, hex-encoded on the wire).
    pub meter_id: String,
    /// Gas meter id (P1).
    pub gas_id: String,
    /// Water meter id (Fluvius).
    pub water_id: String,
    /// System title for encryption (FLAG id + serial).
    pub title: [u8; 8],
}

/// The Belgian capacity tariff state: quarter-hour demand and monthly peaks.
#[derive(Debug, Clone)]
pub(crate) struct Demand {
    pub quarter_start: i64,
    pub quarter_acc: u64,
    /// This month's highest quarter: (end of the quarter, W).
    pub month_peak: Option<(i64, u32)>,
    /// Past months, newest first: (end of the month, time of the peak, W).
    pub history: Vec<(i64, i64, u32)>,
}

/// Gas and water counters (litres) and their last capture.
#[derive(Debug, Clone)]
pub(crate) struct SubMeters {
    pub gas_l: f64,
    pub water_l: f64,
    pub gas_factor: f64,
    /// (capture time, gas litres, water litres) every five minutes and every hour.
    pub five_min: (i64, u64, u64),
    pub hourly: (i64, u64, u64),
}

/// The simulator. Infinite: every call gives the next frame in time.
#[derive(Debug, Clone)]
pub struct Simulator {
    opts: Options,
    tz: Tz,
    next_ms: i64,
    house: Household,
    last: Option<(i64, Sample)>,
    reg: Registers,
    /// Registers at the last whole hour, and that hour.
    hour_snap: (i64, Registers),
    demand: Demand,
    subs: SubMeters,
    ids: Ids,
    ic: u32,
    frames: u64,
    /// (UTC hour, offset s, summer time) of the last zone lookup.
    zone_cache: Cell<(i64, i64, bool)>,
}

impl Simulator {
    /// A simulator from its options.
    pub fn new(opts: Options) -> Self {
        let meter = opts.meter;
        let mut rng = Rng::new(opts.seed, 0x6d65_7465);
        let start_ms = opts.start.timestamp_millis();
        let grid = meter.grid_ms();
        let first = start_ms.div_euclid(grid) * grid + if start_ms.rem_euclid(grid) == 0 { 0 } else { grid };
        // Registers: a meter that has run for some years.
        let a_plus_wh = rng.range(8_000_000.0, 90_000_000.0) as u64;
        let t1 = rng.range(0.4, 0.5);
        let a_minus_wh =
            if meter.is_p1() { rng.range(0.0, 3_000_000.0) as u64 } else { rng.range(0.0, 20_000.0) as u64 };
        let mk = |w: u64| w * 3_600_000;
        let mut reg = Registers {
            a_plus: mk(a_plus_wh),
            a_minus: mk(a_minus_wh),
            r_plus: mk((a_plus_wh as f64 * rng.range(0.15, 0.3)) as u64),
            r_minus: mk((a_plus_wh as f64 * rng.range(0.02, 0.08)) as u64),
            a_plus_t: [0; 2],
            a_minus_t: [0; 2],
        };
        let t1_wh = (a_plus_wh as f64 * t1) as u64;
        reg.a_plus_t = [mk(t1_wh), mk(a_plus_wh - t1_wh)];
        let e1_wh = (a_minus_wh as f64 * t1) as u64;
        reg.a_minus_t = [mk(e1_wh), mk(a_minus_wh - e1_wh)];
        let ids = ids(meter, &mut rng);
        let tz = meter.tz();
        let gas_l = rng.range(800_000.0, 6_000_000.0).floor();
        let water_l = rng.range(100_000.0, 900_000.0).floor();
        let floor = |step: i64| first.div_euclid(step) * step;
        let subs = SubMeters {
            gas_l,
            water_l,
            gas_factor: rng.range(0.8, 1.2),
            five_min: (floor(FIVE_MIN), gas_l as u64, water_l as u64),
            hourly: (floor(HOUR), gas_l as u64, water_l as u64),
        };
        let demand = initial_demand(&mut rng, tz, first);
        let ic = rng.below(1 << 24) as u32;
        let house = Household::new(opts.seed, meter.heating_kw(), !meter.is_p1(), opts.profile.clone(), first);
        Simulator {
            hour_snap: (floor(HOUR), reg),
            next_ms: first,
            tz,
            house,
            last: None,
            reg,
            demand,
            subs,
            ids,
            ic,
            frames: 0,
            zone_cache: Cell::new((i64::MIN, 0, false)),
            opts,
        }
    }

    /// The options it runs with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The zone's offset (s) and summer time flag at `t_ms`, looked up once
    /// per UTC hour (these zones change offset only on whole hours).
    fn offset(&self, t_ms: i64) -> (i64, bool) {
        let hour = t_ms.div_euclid(HOUR);
        let (h, off, dst) = self.zone_cache.get();
        if h == hour {
            return (off, dst);
        }
        let (off, dst) = self.tz.timestamp_millis_opt(hour * HOUR).single().map_or((0, false), |t| {
            (i64::from(t.offset().fix().local_minus_utc()), !t.offset().dst_offset().is_zero())
        });
        self.zone_cache.set((hour, off, dst));
        (off, dst)
    }

    /// The meter's wall clock at `t_ms`.
    pub fn local(&self, t_ms: i64) -> NaiveDateTime {
        let (off, _) = self.offset(t_ms);
        DateTime::from_timestamp_millis(t_ms + off * 1000).map(|t| t.naive_utc()).unwrap_or_default()
    }

    /// Whether summer time is in force at `t_ms`.
    pub(crate) fn is_dst(&self, t_ms: i64) -> bool {
        self.offset(t_ms).1
    }

    /// Frames made so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// When the next frame is due (UTC ms).
    pub fn next_time_ms(&self) -> i64 {
        let mut t = self.next_ms;
        while self.opts.meter.list_at(t).is_none() {
            t += self.opts.meter.grid_ms();
        }
        t
    }

    /// The next frame.
    pub fn next_frame(&mut self) -> Frame {
        let meter = self.opts.meter;
        let t = self.next_time_ms();
        let list = meter.list_at(t).unwrap_or(List::List1);
        self.next_ms = t + meter.grid_ms();
        if let Some((t0, s)) = self.last {
            self.integrate(t0, t, &s);
        }
        let local = self.local(t);
        let sample = self.house.sample(t, local);
        self.last = Some((t, sample));
        let bytes = match meter {
            Meter::AcmeX3 => acme::frame(self, t, &sample),
            m if m.is_swiss() => swiss::frame(self, t, &sample),
            m if m.is_p1() => p1::telegram(self, t, &sample),
            _ => cosem::frame(self, t, list, &sample),
        };
        self.frames += 1;
        self.ic = self.ic.wrapping_add(1);
        let registers = match (meter, list) {
            (Meter::AidonNo | Meter::KaifaNo, List::List3) => self.hour_snap.1,
            _ => self.reg,
        };
        Frame { time: DateTime::from_timestamp_millis(t).unwrap_or_default(), local, list, bytes, sample, registers }
    }

    /// Adds the energy of `s` held from `t0` to `t1`, stopping at every
    /// five-minute boundary for the snapshots that fall there.
    fn integrate(&mut self, t0: i64, t1: i64, s: &Sample) {
        let (ip, ep) = (u64::from(s.import_w()), u64::from(s.export_w()));
        let (iq, eq) = (u64::from(s.q_import()), u64::from(s.q_export()));
        let mut a = t0;
        while a < t1 {
            let b = t1.min((a.div_euclid(FIVE_MIN) + 1) * FIVE_MIN);
            let dt = (b - a) as u64;
            let tariff = self.tariff(a) - 1;
            let r = &mut self.reg;
            r.a_plus += ip * dt;
            r.a_minus += ep * dt;
            r.r_plus += iq * dt;
            r.r_minus += eq * dt;
            if let Some(x) = r.a_plus_t.get_mut(tariff) {
                *x += ip * dt;
            }
            if let Some(x) = r.a_minus_t.get_mut(tariff) {
                *x += ep * dt;
            }
            self.demand.quarter_acc += ip * dt;
            let local = self.local(a);
            let (gas, water) = flows(local, self.subs.gas_factor);
            self.subs.gas_l += gas * dt as f64 / HOUR as f64;
            self.subs.water_l += water * dt as f64 / HOUR as f64;
            if b.rem_euclid(FIVE_MIN) == 0 {
                self.boundary(b);
            }
            a = b;
        }
    }

    fn boundary(&mut self, b: i64) {
        let snap = (b, self.subs.gas_l as u64, self.subs.water_l as u64);
        self.subs.five_min = snap;
        if b.rem_euclid(HOUR) == 0 {
            self.subs.hourly = snap;
            self.hour_snap = (b, self.reg);
        }
        if b.rem_euclid(QUARTER) == 0 {
            // The first quarter may have begun before the meter did.
            let span = (b - self.demand.quarter_start).clamp(1, QUARTER) as u64;
            let avg = u32::try_from(self.demand.quarter_acc / span).unwrap_or(u32::MAX);
            if self.demand.month_peak.is_none_or(|(_, w)| avg > w) {
                self.demand.month_peak = Some((b, avg));
            }
            self.demand.quarter_start = b;
            self.demand.quarter_acc = 0;
            let l = self.local(b);
            if l.day() == 1 && l.hour() == 0 && l.minute() == 0 {
                let (pt, pw) = self.demand.month_peak.take().unwrap_or((b, 0));
                self.demand.history.insert(0, (b, pt, pw));
                self.demand.history.truncate(13);
            }
        }
    }

    /// The DSMR tariff in force at `t_ms`: 1 or 2. The Netherlands: 1 is
    /// the low (night and weekend) tariff; Belgium: 1 is the day tariff.
    pub fn tariff(&self, t_ms: i64) -> usize {
        let l = self.local(t_ms);
        let weekend = matches!(l.weekday(), Weekday::Sat | Weekday::Sun);
        let h = l.hour();
        match self.opts.meter {
            Meter::Fluvius => {
                if !weekend && (7..22).contains(&h) {
                    1
                } else {
                    2
                }
            }
            _ => {
                if weekend || !(7..23).contains(&h) {
                    1
                } else {
                    2
                }
            }
        }
    }

    /// Average import of the current quarter hour so far, W (Belgium 1-0:1.4.0).
    pub(crate) fn quarter_average_w(&self, t: i64, s: &Sample) -> u32 {
        let elapsed = t - self.demand.quarter_start;
        if elapsed <= 0 {
            return s.import_w();
        }
        u32::try_from(self.demand.quarter_acc / elapsed as u64).unwrap_or(u32::MAX)
    }
}

impl Iterator for Simulator {
    type Item = Frame;
    fn next(&mut self) -> Option<Frame> {
        Some(self.next_frame())
    }
}

/// Gas (heating, hot water) and water flows, litres per hour.
fn flows(local: NaiveDateTime, factor: f64) -> (f64, f64) {
    const SEASON: [f64; 12] = [1.0, 0.95, 0.75, 0.5, 0.25, 0.08, 0.05, 0.05, 0.15, 0.4, 0.7, 0.9];
    let h = local.hour();
    let season = SEASON.get(local.month0() as usize).copied().unwrap_or(0.5);
    let shape = match h {
        6..=8 | 17..=21 => 1.0,
        9..=16 => 0.6,
        _ => 0.3,
    };
    let showers = matches!(h, 7 | 20);
    let gas = factor * (season * 700.0 * shape + if showers { 250.0 } else { 20.0 });
    let water = match h {
        7 | 20 => 120.0,
        6 | 8 | 12 | 17..=19 | 21 => 25.0,
        9..=16 | 22 => 8.0,
        _ => 0.5,
    };
    (gas, water)
}

fn ids(meter: Meter, rng: &mut Rng) -> Ids {
    let serial = rng.digits(9);
    let (meter_id, flag) = match meter {
        Meter::AidonNo => (format!("7359992{serial}"), *b"ADN"),
        Meter::KaifaNo => (format!("6970631{serial}"), *b"KFM"),
        Meter::KamstrupNo => (format!("5706567{serial}"), *b"KAM"),
        Meter::AidonSe => (format!("7359992{serial}"), *b"ADN"),
        Meter::Dsmr5 => (format!("E0034006{serial}"), *b"ISK"),
        Meter::Dsmr4 => (format!("E0003000{serial}"), *b"KFM"),
        Meter::Fluvius => (format!("1SAG3{serial}"), *b"FLU"),
        // The logical device name is the FLAG id and these 13 digits.
        Meter::LandisGyrE360Ch | Meter::LandisGyrE450Ch | Meter::LandisGyrE570Ch => (format!("1030{serial}"), *b"LGZ"),
        Meter::IskraAm550Ch => (format!("1030{serial}"), *b"ISK"),
        Meter::AcmeX3 => (format!("4711000{serial}"), *b"ACM"),
    };
    let gas_id = match meter {
        Meter::Fluvius => format!("7FLO2{}", rng.digits(9)),
        Meter::Dsmr4 => format!("G0016561{}", rng.digits(9)),
        _ => format!("G0039001{}", rng.digits(9)),
    };
    let water_id = format!("8SAG1{}", rng.digits(9));
    let n = serial.parse::<u64>().unwrap_or(0) as u32;
    let mut title = [0u8; 8];
    title[..3].copy_from_slice(&flag);
    title[3] = 0x10;
    title[4..].copy_from_slice(&n.to_be_bytes());
    Ids { meter_id, gas_id, water_id, title }
}

/// A month peak so far (unless the month just began) and three past months.
fn initial_demand(rng: &mut Rng, tz: Tz, first: i64) -> Demand {
    let quarter_start = first;
    let local = tz.timestamp_millis_opt(first).single().map(|t| t.naive_local()).unwrap_or_default();
    let month_start = |y: i32, m: u32| -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, m, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|d| tz.from_local_datetime(&d).earliest())
            .map_or(first, |d| d.timestamp_millis())
    };
    let prev = |y: i32, m: u32| if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let (y, m) = (local.year(), local.month());
    let this_month = month_start(y, m);
    let quarter = |t: i64| t.div_euclid(QUARTER) * QUARTER;
    let last_quarter = quarter(first);
    let month_peak = if last_quarter - this_month >= QUARTER {
        let t = quarter(this_month + QUARTER + rng.below((last_quarter - this_month - QUARTER) as u64 + 1) as i64);
        Some((t, rng.range(2_000.0, 5_500.0) as u32))
    } else {
        None
    };
    let mut history = Vec::new();
    let (mut ey, mut em) = (y, m);
    for _ in 0..3 {
        let end = month_start(ey, em);
        let (sy, sm) = prev(ey, em);
        let begin = month_start(sy, sm);
        let t = quarter(begin + QUARTER + rng.below((end - begin - QUARTER).max(1) as u64) as i64);
        history.push((end, t, rng.range(2_500.0, 6_500.0) as u32));
        (ey, em) = (sy, sm);
    }
    Demand { quarter_start, quarter_acc: 0, month_peak, history }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        let h = 1_700_000_000_000i64 / HOUR * HOUR;
        assert_eq!(Meter::AidonNo.list_at(h + 10_000), Some(List::List3));
        assert_eq!(Meter::AidonNo.list_at(h + 20_000), Some(List::List2));
        assert_eq!(Meter::AidonNo.list_at(h + 22_500), Some(List::List1));
        assert_eq!(Meter::KaifaNo.list_at(h + 22_500), None);
        assert_eq!(Meter::KamstrupNo.list_at(h + 5_000), Some(List::List2));
        assert_eq!(Meter::KamstrupNo.list_at(h + 15_000), None);
        assert_eq!(Meter::KamstrupNo.list_at(h + 20_000), Some(List::List1));
        for m in Meter::ALL {
            assert_eq!(Meter::from_name(m.name()), Some(m));
        }
    }
}
