//! Values no meter can have.
//!
//! A value outside the physical range of its quantity is a decoding fault
//! (a wrong scaler or layout, an unsigned read of a signed number, a
//! "not available" marker) or a damaged frame whose checksum happened to
//! hold; it is never passed on as a measurement. It is left out of the
//! reading (its quantity and its object), and the decoder reports it
//! ([`crate::Warning::Implausible`], [`crate::Stats::implausible`]). The
//! rest of the reading stays: its other values are separate measurements,
//! and the energy registers are what the meter is certified for.
//!
//! The bounds never reject a real meter; they are wide on purpose
//! (`docs/stream.md`, "Implausible values", gives the reasoning):
//!
//! | quantity | left out when |
//! |---|---|
//! | voltage | below 0 V or above 1000 V (the end of low voltage) |
//! | current | beyond ±10 000 A (Aidon sends export currents negative; CT meters read hundreds of amperes) |
//! | active, reactive power and demand | beyond ±10 MW (±10 Mvar) |
//! | frequency | outside 40-70 Hz |
//! | energy registers | below 0 |
//! | power factor | outside -1..1 |
//! | phase currents | the active power is more than 10 times what the voltages and currents can carry (judged above 500 W only) |

use std::fmt;

use crate::reading::normalise;
use crate::reading::obis::Obis;
use crate::reading::{Object, Quantities, Reading};

/// The highest voltage, V: the upper end of low voltage (IEC 60038), where
/// every meter with a HAN or P1 port is connected.
pub const MAX_VOLTAGE_V: f64 = 1000.0;
/// The largest current, A, either sign. Above the largest low-voltage
/// service (a 4 MVA transformer gives 5 800 A at 400 V) and the largest
/// standard CT primaries (6 000 A); a Danish CT meter in the corpus reads
/// 940 A.
pub const MAX_CURRENT_A: f64 = 10_000.0;
/// The largest active or reactive power (or demand), W or var, either
/// sign: 10 MW is more than any low-voltage connection delivers.
pub const MAX_POWER_W: f64 = 10_000_000.0;
/// The frequency range, Hz: grids run at 50 or 60 Hz, within a few percent.
pub const FREQUENCY_HZ: (f64, f64) = (40.0, 70.0);
/// Below this active power, W, currents are not judged against it: meters
/// round currents to whole amperes and small loads have poor power factors.
pub const JUDGED_POWER_W: f64 = 500.0;
/// How many times the apparent power of the phases the active power may
/// exceed before the currents are left out (it can never exceed it once).
pub const POWER_RATIO: f64 = 10.0;

/// Why a value is implausible.
#[derive(Copy, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Limit {
    /// Below the lowest value its quantity can have (this bound).
    Below(f64),
    /// Above the highest (this bound).
    Above(f64),
    /// Not a number at all (a float the meter sent as NaN).
    NotANumber,
    /// A phase current: the active power (W) is more than ten times the
    /// apparent power (VA) the voltages and currents can carry, each
    /// current taken up to one step of its last digit.
    Disagrees {
        /// The active power stated (import or export, the larger).
        power_w: f64,
        /// The most the phases' voltages and currents carry.
        apparent_va: f64,
    },
}

/// A value left out of a reading because no meter can have it.
#[derive(Clone, Debug, PartialEq)]
pub struct Implausible {
    /// The quantity's name in the stream (`voltage_l2_v`).
    pub quantity: &'static str,
    /// The OBIS code of the object left out.
    pub code: Obis,
    /// The value, in the quantity's unit.
    pub value: f64,
    /// The quantity's unit (`V`, `A`, `W` ..., empty for the power factor).
    pub unit: &'static str,
    /// Why.
    pub limit: Limit,
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Implausible { quantity, code, value, unit, limit } = self;
        let sp = if unit.is_empty() { "" } else { " " };
        write!(f, "{quantity} {value}{sp}{unit} ({code}) ")?;
        match limit {
            Limit::Below(b) => write!(f, "is below {b}{sp}{unit}"),
            Limit::Above(b) => write!(f, "is above {b}{sp}{unit}"),
            Limit::NotANumber => write!(f, "is not a number"),
            Limit::Disagrees { power_w, apparent_va } => write!(
                f,
                "cannot carry the active power: {power_w} W is more than {POWER_RATIO} times the {apparent_va:.1} VA \
                 the voltages and currents allow"
            ),
        }
    }
}

/// What a quantity measures, for its range.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Voltage,
    Current,
    Power,
    Frequency,
    Energy,
    PowerFactor,
}

impl Kind {
    #[inline]
    fn limit(self, v: f64) -> Option<Limit> {
        let (low, high) = match self {
            Kind::Voltage => (0.0, MAX_VOLTAGE_V),
            Kind::Current => (-MAX_CURRENT_A, MAX_CURRENT_A),
            Kind::Power => (-MAX_POWER_W, MAX_POWER_W),
            Kind::Frequency => FREQUENCY_HZ,
            Kind::Energy => (0.0, f64::INFINITY),
            Kind::PowerFactor => (-1.0, 1.0),
        };
        if v.is_nan() {
            Some(Limit::NotANumber)
        } else if v < low {
            Some(Limit::Below(low))
        } else if v > high {
            Some(Limit::Above(high))
        } else {
            None
        }
    }
}

/// One quantity that is judged: its name, the `C.D.E` of its code (A = 1,
/// F = 255, any B, as [`normalise::rule`] maps them) and its unit (its
/// kind is in [`ranges`]).
struct Check {
    name: &'static str,
    cde: (u8, u8, u8),
    unit: &'static str,
    clear: fn(&mut Quantities),
}

macro_rules! checks {
    ($( $name:ident = ($c:literal, $d:literal, $e:literal) $unit:literal $kind:ident, )*) => {
        const CHECKS: &[Check] = &[$(
            Check {
                name: stringify!($name),
                cde: ($c, $d, $e),
                unit: $unit,
                clear: |q| q.$name = None,
            },
        )*];

        /// Each present quantity against its range, read straight from its
        /// field: this runs on every reading, and a table of getters cost
        /// more than the comparisons.
        fn ranges(r: &Reading, out: &mut Vec<Implausible>) {
            let q = &r.quantities;
            $(
                if let Some(v) = q.$name {
                    if let Some(limit) = Kind::$kind.limit(v) {
                        if let Some(c) = check_of(stringify!($name)) {
                            out.push(found(r, c, v, limit));
                        }
                    }
                }
            )*
        }
    };
}

checks! {
    power_import_w = (1, 7, 0) "W" Power,
    power_export_w = (2, 7, 0) "W" Power,
    reactive_power_import_var = (3, 7, 0) "var" Power,
    reactive_power_export_var = (4, 7, 0) "var" Power,
    power_import_l1_w = (21, 7, 0) "W" Power,
    power_import_l2_w = (41, 7, 0) "W" Power,
    power_import_l3_w = (61, 7, 0) "W" Power,
    power_export_l1_w = (22, 7, 0) "W" Power,
    power_export_l2_w = (42, 7, 0) "W" Power,
    power_export_l3_w = (62, 7, 0) "W" Power,
    reactive_power_import_l1_var = (23, 7, 0) "var" Power,
    reactive_power_import_l2_var = (43, 7, 0) "var" Power,
    reactive_power_import_l3_var = (63, 7, 0) "var" Power,
    reactive_power_export_l1_var = (24, 7, 0) "var" Power,
    reactive_power_export_l2_var = (44, 7, 0) "var" Power,
    reactive_power_export_l3_var = (64, 7, 0) "var" Power,
    voltage_l1_v = (32, 7, 0) "V" Voltage,
    voltage_l2_v = (52, 7, 0) "V" Voltage,
    voltage_l3_v = (72, 7, 0) "V" Voltage,
    current_l1_a = (31, 7, 0) "A" Current,
    current_l2_a = (51, 7, 0) "A" Current,
    current_l3_a = (71, 7, 0) "A" Current,
    current_neutral_a = (91, 7, 0) "A" Current,
    power_factor = (13, 7, 0) "" PowerFactor,
    frequency_hz = (14, 7, 0) "Hz" Frequency,
    energy_import_kwh = (1, 8, 0) "kWh" Energy,
    energy_export_kwh = (2, 8, 0) "kWh" Energy,
    energy_import_t1_kwh = (1, 8, 1) "kWh" Energy,
    energy_import_t2_kwh = (1, 8, 2) "kWh" Energy,
    energy_import_t3_kwh = (1, 8, 3) "kWh" Energy,
    energy_import_t4_kwh = (1, 8, 4) "kWh" Energy,
    energy_export_t1_kwh = (2, 8, 1) "kWh" Energy,
    energy_export_t2_kwh = (2, 8, 2) "kWh" Energy,
    energy_export_t3_kwh = (2, 8, 3) "kWh" Energy,
    energy_export_t4_kwh = (2, 8, 4) "kWh" Energy,
    energy_import_l1_kwh = (21, 8, 0) "kWh" Energy,
    energy_import_l2_kwh = (41, 8, 0) "kWh" Energy,
    energy_import_l3_kwh = (61, 8, 0) "kWh" Energy,
    reactive_energy_import_kvarh = (3, 8, 0) "kvarh" Energy,
    reactive_energy_export_kvarh = (4, 8, 0) "kvarh" Energy,
    demand_quarter_w = (1, 4, 0) "W" Power,
    demand_month_peak_w = (1, 6, 0) "W" Power,
}

/// The phases' (current, voltage) quantities, for the power check.
const PHASES: [(&str, &str); 3] =
    [("current_l1_a", "voltage_l1_v"), ("current_l2_a", "voltage_l2_v"), ("current_l3_a", "voltage_l3_v")];

fn check_of(name: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.name == name)
}

/// Whether an object is the one a quantity comes from.
fn is_source(o: &Object, (c, d, e): (u8, u8, u8)) -> bool {
    let [a, _, oc, od, oe, f] = o.code.0;
    a == 1 && f == 255 && (oc, od, oe) == (c, d, e)
}

fn source<'r>(r: &'r Reading, check: &Check) -> Option<&'r Object> {
    r.obis.iter().find(|o| is_source(o, check.cde))
}

/// The implausible values of a reading, into `out` (which it leaves
/// alone when there are none: the common case costs a few comparisons).
pub(crate) fn check(r: &Reading, out: &mut Vec<Implausible>) {
    let before = out.len();
    ranges(r, out);
    // Currents are judged against the power only when every value the
    // judgement takes is within its range.
    if out.len() == before {
        currents(r, out);
    }
}

fn found(r: &Reading, c: &Check, value: f64, limit: Limit) -> Implausible {
    let (cc, d, e) = c.cde;
    let code = source(r, c).map_or(Obis::new(1, 0, cc, d, e, 255), |o| o.code);
    Implausible { quantity: c.name, code, value, unit: c.unit, limit }
}

/// Phase currents that cannot carry the active power: |P| > 10 × Σ U·|I|.
/// Judged only when P is above 500 W and every phase that has a current or
/// a voltage has both. Each current counts up to one step of its last digit
/// (DSMR meters send whole amperes, truncated: `000*A` under 1 A).
fn currents(r: &Reading, out: &mut Vec<Implausible>) {
    let q = &r.quantities;
    let power = match (q.power_import_w, q.power_export_w) {
        (None, None) => return,
        (i, e) => i.unwrap_or(0.0).abs().max(e.unwrap_or(0.0).abs()),
    };
    if power <= JUDGED_POWER_W {
        return;
    }
    // Read straight from the fields: this runs on every reading.
    let values = [(q.current_l1_a, q.voltage_l1_v), (q.current_l2_a, q.voltage_l2_v), (q.current_l3_a, q.voltage_l3_v)];
    let mut phases = [("", 0.0, 0.0); 3];
    let mut n = 0;
    for ((i, _), value) in PHASES.into_iter().zip(values) {
        match value {
            (Some(i_a), Some(u_v)) => {
                if let Some(p) = phases.get_mut(n) {
                    *p = (i, i_a, u_v);
                    n += 1;
                }
            }
            (None, None) => {}
            _ => return,
        }
    }
    let phases = phases.get(..n).unwrap_or_default();
    if phases.is_empty() {
        return;
    }
    // Cheap first: the values as they are. Only a reading that fails this
    // looks up each current's resolution.
    let bare: f64 = phases.iter().map(|(_, i, u)| u.abs() * i.abs()).sum();
    if power <= POWER_RATIO * bare {
        return;
    }
    let mut apparent = 0.0;
    for (name, i, u) in phases {
        let step = check_of(name).and_then(|c| source(r, c)).and_then(normalise::resolution).unwrap_or(0.0);
        apparent += u.abs() * (i.abs() + step);
    }
    if power <= POWER_RATIO * apparent {
        return;
    }
    for &(name, i, _) in phases {
        if let Some(c) = check_of(name) {
            out.push(found(r, c, i, Limit::Disagrees { power_w: power, apparent_va: apparent }));
        }
    }
}

/// Takes what [`check`] found out of the reading: the quantities, their
/// objects, and a total the reading summed from a tariff register left out.
pub(crate) fn leave_out(r: &mut Reading, found: &[Implausible]) {
    let mut tariffs = (false, false);
    for f in found {
        let Some(c) = check_of(f.quantity) else { continue };
        (c.clear)(&mut r.quantities);
        if c.name == "demand_month_peak_w" {
            r.quantities.demand_month_peak_time = None;
        }
        match c.cde {
            (1, 8, 1..=4) => tariffs.0 = true,
            (2, 8, 1..=4) => tariffs.1 = true,
            _ => {}
        }
        r.obis.0.retain(|o| !is_source(o, c.cde));
    }
    // A total the meter did not send was summed from the tariffs: without
    // one of them it is no total.
    for (dropped, cde, clear) in [
        (tariffs.0, (1, 8, 0), (|q| q.energy_import_kwh = None) as fn(&mut Quantities)),
        (tariffs.1, (2, 8, 0), |q| q.energy_export_kwh = None),
    ] {
        if dropped && !r.obis.iter().any(|o| is_source(o, cde)) {
            clear(&mut r.quantities);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::value::{Decimal, Unit, Value};
    use crate::reading::{Framing, Protocol};

    /// A reading of these objects (`A-B:C.D.E`, mantissa, exponent, unit),
    /// normalised as the decoder does.
    fn reading(objects: &[(&str, i64, i8, &'static str)]) -> Reading {
        let mut r = Reading::new(Protocol::Han, Framing::Hdlc);
        for &(code, m, e, unit) in objects {
            let unit = (!unit.is_empty()).then(|| Unit::known(unit));
            r.obis.push(Object::new(code.parse().unwrap(), Value::Number(Decimal::new(m, e)), unit));
        }
        normalise::normalise(&mut r);
        r
    }

    fn judge(r: &Reading) -> Vec<(&'static str, f64, Limit)> {
        let mut out = Vec::new();
        check(r, &mut out);
        out.into_iter().map(|f| (f.quantity, f.value, f.limit)).collect()
    }

    #[test]
    fn values_in_range_pass() {
        // Aidon 6515 list 2 of the corpus: 250.0 V, 9.3 A, 1362 W.
        let r = reading(&[("1-0:1.7.0", 1362, 0, "W"), ("1-0:31.7.0", 93, -1, "A"), ("1-0:32.7.0", 2500, -1, "V")]);
        assert_eq!(judge(&r), []);
        // Aidon sends a phase that exports as a negative current (int16).
        let r = reading(&[("1-0:2.7.0", 690, 0, "W"), ("1-0:31.7.0", -30, -1, "A"), ("1-0:32.7.0", 2300, -1, "V")]);
        assert_eq!(judge(&r), []);
        // The Danish CT meter of the corpus: 940 A a phase, 2585 W export.
        let r = reading(&[
            ("1-0:2.7.0", 2585, 0, "W"),
            ("1-0:31.7.0", 90999, -2, "A"),
            ("1-0:51.7.0", 93955, -2, "A"),
            ("1-0:71.7.0", 92645, -2, "A"),
            ("1-0:32.7.0", 233, 0, "V"),
            ("1-0:52.7.0", 233, 0, "V"),
            ("1-0:72.7.0", 233, 0, "V"),
            ("1-0:13.7.0", 4, -2, ""),
        ]);
        assert_eq!(judge(&r), []);
        // The edges themselves are in range.
        let r = reading(&[
            ("1-0:32.7.0", 1000, 0, "V"),
            ("1-0:52.7.0", 0, 0, "V"),
            ("1-0:14.7.0", 40, 0, "Hz"),
            ("1-0:13.7.0", -1, 0, ""),
            ("1-0:1.8.0", 0, 0, "kWh"),
            ("1-0:3.7.0", 10, 0, "Mvar"),
        ]);
        assert_eq!(judge(&r), []);
    }

    #[test]
    fn each_range() {
        // 0xFFFF x 0.1 V, an unsigned "not available" marker: 6553.5 V.
        let r = reading(&[("1-0:32.7.0", 2301, -1, "V"), ("1-0:52.7.0", 65535, -1, "V")]);
        assert_eq!(judge(&r), [("voltage_l2_v", 6553.5, Limit::Above(1000.0))]);
        let r = reading(&[("1-0:72.7.0", -5, 0, "V")]);
        assert_eq!(judge(&r), [("voltage_l3_v", -5.0, Limit::Below(0.0))]);
        // 10 001 A and -12 000 A; 9 999.99 A passes.
        let r = reading(&[("1-0:31.7.0", 10001, 0, "A"), ("1-0:51.7.0", -12, 3, "A"), ("1-0:71.7.0", 999999, -2, "A")]);
        assert_eq!(
            judge(&r),
            [("current_l1_a", 10001.0, Limit::Above(10000.0)), ("current_l2_a", -12000.0, Limit::Below(-10000.0))]
        );
        // 10 000.001 kW is just above 10 MW; -11 Mvar below.
        let r = reading(&[("1-0:1.7.0", 10000001, -3, "kW"), ("1-0:4.7.0", -11, 0, "Mvar")]);
        assert_eq!(
            judge(&r),
            [
                ("power_import_w", 10_000_001.0, Limit::Above(10_000_000.0)),
                ("reactive_power_export_var", -11_000_000.0, Limit::Below(-10_000_000.0))
            ]
        );
        let r = reading(&[("1-0:14.7.0", 0, 0, "Hz")]);
        assert_eq!(judge(&r), [("frequency_hz", 0.0, Limit::Below(40.0))]);
        let r = reading(&[("1-0:14.7.0", 7001, -2, "Hz")]);
        assert_eq!(judge(&r), [("frequency_hz", 70.01, Limit::Above(70.0))]);
        // -1 Wh is -0.001 kWh.
        let r = reading(&[("1-0:2.8.0", -1, 0, "Wh")]);
        assert_eq!(judge(&r), [("energy_export_kwh", -0.001, Limit::Below(0.0))]);
        // A power factor sent in percent (98) and one of 1.001.
        let r = reading(&[("1-0:13.7.0", 98, 0, "")]);
        assert_eq!(judge(&r), [("power_factor", 98.0, Limit::Above(1.0))]);
        let r = reading(&[("1-0:13.7.0", 1001, -3, "")]);
        assert_eq!(judge(&r), [("power_factor", 1.001, Limit::Above(1.0))]);
        // A float the meter sent as NaN, as a power factor (it has no unit).
        let mut r = Reading::new(Protocol::Han, Framing::Hdlc);
        r.obis.push(Object::new("1-0:13.7.0".parse().unwrap(), Value::Float(f64::NAN), None));
        normalise::normalise(&mut r);
        let got = judge(&r);
        assert!(matches!(got[..], [("power_factor", v, Limit::NotANumber)] if v.is_nan()), "{got:?}");
        let r = reading(&[("1-0:1.6.0", 12, 0, "MW")]);
        assert_eq!(judge(&r), [("demand_month_peak_w", 12e6, Limit::Above(10_000_000.0))]);
    }

    #[test]
    fn currents_against_the_power() {
        // Kaifa mA read as A/1000 too many times: 16 mA on L1 for 3680 W.
        // Each current up to one step (1 mA): 230 x 0.017 + 231 x 0.001 +
        // 229 x 0.001 = 3.91 + 0.231 + 0.229 = 4.37 VA; 10 x 4.37 < 3680.
        let r = reading(&[
            ("1-0:1.7.0", 3680, 0, "W"),
            ("1-0:31.7.0", 16, 0, "mA"),
            ("1-0:51.7.0", 0, 0, "mA"),
            ("1-0:71.7.0", 0, 0, "mA"),
            ("1-0:32.7.0", 230, 0, "V"),
            ("1-0:52.7.0", 231, 0, "V"),
            ("1-0:72.7.0", 229, 0, "V"),
        ]);
        let got = judge(&r);
        assert_eq!(
            got.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
            [("current_l1_a", 0.016), ("current_l2_a", 0.0), ("current_l3_a", 0.0)]
        );
        let Limit::Disagrees { power_w, apparent_va } = got[0].2 else { panic!("{got:?}") };
        assert_eq!(power_w, 3680.0);
        assert!((apparent_va - 4.37).abs() < 1e-9, "{apparent_va}");
        // DSMR whole amperes, truncated: 687 W on three phases of 229 V is
        // 1 A a phase, sent as 000*A. Up to one step: 3 x 229 x 1 = 687 VA.
        let r = reading(&[
            ("1-0:1.7.0", 687, -3, "kW"),
            ("1-0:31.7.0", 0, 0, "A"),
            ("1-0:51.7.0", 0, 0, "A"),
            ("1-0:71.7.0", 0, 0, "A"),
            ("1-0:32.7.0", 2290, -1, "V"),
            ("1-0:52.7.0", 2290, -1, "V"),
            ("1-0:72.7.0", 2290, -1, "V"),
        ]);
        assert_eq!(judge(&r), []);
        // At 500 W and below, nothing is judged; nor without voltages, nor
        // with a phase that has a current but no voltage.
        let r = reading(&[("1-0:1.7.0", 500, 0, "W"), ("1-0:31.7.0", 0, -2, "A"), ("1-0:32.7.0", 230, 0, "V")]);
        assert_eq!(judge(&r), []);
        let r = reading(&[("1-0:1.7.0", 5000, 0, "W"), ("1-0:31.7.0", 1, -2, "A")]);
        assert_eq!(judge(&r), []);
        let r = reading(&[
            ("1-0:1.7.0", 5000, 0, "W"),
            ("1-0:31.7.0", 1, -2, "A"),
            ("1-0:51.7.0", 1, -2, "A"),
            ("1-0:32.7.0", 230, 0, "V"),
        ]);
        assert_eq!(judge(&r), []);
        // Export counts as much as import: 5000 W out, 0.01 A at 230 V
        // (up to 0.02 A: 4.6 VA).
        let r = reading(&[("1-0:2.7.0", 5000, 0, "W"), ("1-0:31.7.0", 1, -2, "A"), ("1-0:32.7.0", 230, 0, "V")]);
        assert_eq!(judge(&r).len(), 1);
        // A low power factor is no fault: 600 W with 20 A at 230 V.
        let r = reading(&[("1-0:1.7.0", 600, 0, "W"), ("1-0:31.7.0", 20, 0, "A"), ("1-0:32.7.0", 230, 0, "V")]);
        assert_eq!(judge(&r), []);
    }

    #[test]
    fn left_out_of_the_reading() {
        let mut r = reading(&[
            ("1-0:32.7.0", 2301, -1, "V"),
            ("1-0:52.7.0", 65535, -1, "V"),
            ("1-0:1.8.1", -1, 0, "kWh"),
            ("1-0:1.8.2", 5, 0, "kWh"),
            ("1-0:2.8.1", 3, 0, "kWh"),
            ("1-0:1.6.0", 12, 0, "MW"),
        ]);
        let mut found = Vec::new();
        check(&r, &mut found);
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].to_string(), "voltage_l2_v 6553.5 V (1-0:52.7.0) is above 1000 V");
        assert_eq!(found[1].to_string(), "energy_import_t1_kwh -1 kWh (1-0:1.8.1) is below 0 kWh");
        leave_out(&mut r, &found);
        let q = &r.quantities;
        assert_eq!((q.voltage_l1_v, q.voltage_l2_v), (Some(230.1), None));
        // The import total was the sum of the tariffs, one of them left out.
        assert_eq!((q.energy_import_t1_kwh, q.energy_import_t2_kwh, q.energy_import_kwh), (None, Some(5.0), None));
        assert_eq!((q.energy_export_kwh, q.demand_month_peak_w, q.demand_month_peak_time), (Some(3.0), None, None));
        let codes: Vec<String> = r.obis.iter().map(|o| o.code.to_string()).collect();
        assert_eq!(codes, ["1-0:32.7.0", "1-0:1.8.2", "1-0:2.8.1"]);
        // A total the meter sent stays when a tariff goes.
        let mut r = reading(&[("1-0:1.8.0", 4, 0, "kWh"), ("1-0:1.8.1", -1, 0, "kWh"), ("1-0:1.8.2", 5, 0, "kWh")]);
        let mut found = Vec::new();
        check(&r, &mut found);
        leave_out(&mut r, &found);
        assert_eq!((r.quantities.energy_import_kwh, r.quantities.energy_import_t1_kwh), (Some(4.0), None));
    }

    #[test]
    fn disagreement_is_said() {
        let f = Implausible {
            quantity: "current_l1_a",
            code: Obis::new(1, 0, 31, 7, 0, 255),
            value: 0.016,
            unit: "A",
            limit: Limit::Disagrees { power_w: 3680.0, apparent_va: 4.37 },
        };
        assert_eq!(
            f.to_string(),
            "current_l1_a 0.016 A (1-0:31.7.0) cannot carry the active power: 3680 W is more than 10 times the \
             4.4 VA the voltages and currents allow"
        );
    }
}
