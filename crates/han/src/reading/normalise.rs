//! From OBIS objects to the common quantities in fixed units.
//!
//! One table of OBIS codes, one of units; conversions shift the decimal
//! exponent so `1.01 kW` becomes exactly `1010 W`.

use crate::reading::time::MeterTime;
use crate::reading::value::{Decimal, Value};
use crate::reading::{Object, Quantities, Reading, SubMeter};

/// The fixed units the quantities use.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Base {
    W,
    Var,
    V,
    A,
    Hz,
    Kwh,
    Kvarh,
    M3,
    Gj,
    One,
}

/// Powers of ten from a unit the meter states to a base unit; `None` when
/// the unit does not measure that quantity (the value is then left out
/// rather than guessed).
fn exponent_to(base: Base, unit: Option<&str>) -> Option<i8> {
    let u = unit?;
    // The units meters actually send, exactly: no case folding needed.
    match (base, u) {
        (Base::W, "W") | (Base::Var, "var") | (Base::V, "V") | (Base::A, "A") | (Base::Kwh, "kWh") => return Some(0),
        (Base::W, "kW") | (Base::Var, "kvar" | "kVAr") => return Some(3),
        (Base::Kwh, "Wh") | (Base::Kvarh, "varh") => return Some(-3),
        (Base::Kvarh, "kvarh" | "kVArh") | (Base::M3, "m3") | (Base::Hz, "Hz") => return Some(0),
        _ => {}
    }
    let eq = |s: &str| u.eq_ignore_ascii_case(s);
    match base {
        Base::W if eq("W") => Some(0),
        Base::W if eq("kW") => Some(3),
        Base::W if eq("MW") => Some(6),
        Base::Var if eq("var") => Some(0),
        Base::Var if eq("kvar") => Some(3),
        Base::Var if eq("Mvar") => Some(6),
        Base::V if eq("V") => Some(0),
        Base::V if eq("kV") => Some(3),
        Base::A if eq("A") => Some(0),
        Base::A if eq("mA") => Some(-3),
        Base::Hz if eq("Hz") => Some(0),
        Base::Kwh if eq("kWh") => Some(0),
        Base::Kwh if eq("Wh") => Some(-3),
        Base::Kwh if eq("MWh") => Some(3),
        Base::Kvarh if eq("kvarh") => Some(0),
        Base::Kvarh if eq("varh") => Some(-3),
        Base::Kvarh if eq("Mvarh") => Some(3),
        Base::M3 if eq("m3") || u == "m³" => Some(0),
        Base::M3 if eq("dm3") || eq("l") => Some(-3),
        Base::Gj if eq("GJ") => Some(0),
        Base::Gj if eq("MJ") => Some(-3),
        Base::One if u.is_empty() || u == "255" => Some(0),
        _ => None,
    }
}

/// A number value shifted by `10^shift` into its base unit.
fn shifted(value: &Value, shift: i8) -> Option<f64> {
    match value {
        Value::Number(d) => Some(d.scaled(shift).to_f64()),
        Value::Float(f) if f.is_finite() => Some(f * Decimal::new(1, shift).to_f64()),
        _ => None,
    }
}

/// Fills `reading.quantities` from its objects and sub-meters; which
/// totals it summed from tariffs (for a template of the reading).
pub(crate) fn normalise(reading: &mut Reading) -> Summed {
    normalise_with(reading, |_| {})
}

/// [`normalise`], keeping each object's rule in `rules` (by the object's
/// index): a template of the reading needs them, and they are found once.
pub(crate) fn normalise_keeping(reading: &mut Reading, rules: &mut Vec<Option<Rule>>) -> Summed {
    rules.clear();
    normalise_with(reading, |r| rules.push(r))
}

/// [`normalise`], telling `keep` each object's rule in turn.
fn normalise_with(reading: &mut Reading, mut keep: impl FnMut(Option<Rule>)) -> Summed {
    // A reading is normalised once, when its quantities are still all absent.
    debug_assert!(reading.quantities == Quantities::default());
    for o in reading.obis.iter() {
        let r = rule(o);
        if let Some(r) = r {
            set(&mut reading.quantities, r, o);
        }
        keep(r);
    }
    let q = &reading.quantities;
    let summed = Summed { import: q.energy_import_kwh.is_none(), export: q.energy_export_kwh.is_none() };
    finish(reading);
    summed
}

/// Where an object's value goes among the quantities, by its code alone.
#[derive(Copy, Clone, Debug)]
enum Slot {
    /// A number in a base unit.
    Number(fn(&mut Quantities) -> &mut Option<f64>, Base),
    /// The power factor: a number without a unit, or one in no known unit.
    PowerFactor,
    /// The month's peak demand, with its time.
    MonthPeak,
    /// The tariff in force.
    Tariff,
}

/// How an object becomes a quantity: where it goes and, for a number, the
/// power of ten from its unit to the base unit (`None` when the unit does
/// not measure that quantity). It depends on the object's code and unit
/// only, not its value.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Rule {
    slot: Slot,
    shift: Option<i8>,
}

/// The rule for an object, if its code is a quantity's. Each quantity
/// comes from one code (duplicates are renamed off the `.255` group), so
/// objects apply in any order, and applying an object again after its value
/// changed updates it.
pub(crate) fn rule(o: &Object) -> Option<Rule> {
    let [a, _b, c, d, e, f] = o.code.0;
    if f != 255 {
        return None;
    }
    let slot = match (a, c, d, e) {
        (1, 1, 7, 0) => Slot::Number(|q| &mut q.power_import_w, Base::W),
        (1, 2, 7, 0) => Slot::Number(|q| &mut q.power_export_w, Base::W),
        (1, 3, 7, 0) => Slot::Number(|q| &mut q.reactive_power_import_var, Base::Var),
        (1, 4, 7, 0) => Slot::Number(|q| &mut q.reactive_power_export_var, Base::Var),
        (1, 21, 7, 0) => Slot::Number(|q| &mut q.power_import_l1_w, Base::W),
        (1, 41, 7, 0) => Slot::Number(|q| &mut q.power_import_l2_w, Base::W),
        (1, 61, 7, 0) => Slot::Number(|q| &mut q.power_import_l3_w, Base::W),
        (1, 22, 7, 0) => Slot::Number(|q| &mut q.power_export_l1_w, Base::W),
        (1, 42, 7, 0) => Slot::Number(|q| &mut q.power_export_l2_w, Base::W),
        (1, 62, 7, 0) => Slot::Number(|q| &mut q.power_export_l3_w, Base::W),
        (1, 23, 7, 0) => Slot::Number(|q| &mut q.reactive_power_import_l1_var, Base::Var),
        (1, 43, 7, 0) => Slot::Number(|q| &mut q.reactive_power_import_l2_var, Base::Var),
        (1, 63, 7, 0) => Slot::Number(|q| &mut q.reactive_power_import_l3_var, Base::Var),
        (1, 24, 7, 0) => Slot::Number(|q| &mut q.reactive_power_export_l1_var, Base::Var),
        (1, 44, 7, 0) => Slot::Number(|q| &mut q.reactive_power_export_l2_var, Base::Var),
        (1, 64, 7, 0) => Slot::Number(|q| &mut q.reactive_power_export_l3_var, Base::Var),
        (1, 32, 7, 0) => Slot::Number(|q| &mut q.voltage_l1_v, Base::V),
        (1, 52, 7, 0) => Slot::Number(|q| &mut q.voltage_l2_v, Base::V),
        (1, 72, 7, 0) => Slot::Number(|q| &mut q.voltage_l3_v, Base::V),
        (1, 31, 7, 0) => Slot::Number(|q| &mut q.current_l1_a, Base::A),
        (1, 51, 7, 0) => Slot::Number(|q| &mut q.current_l2_a, Base::A),
        (1, 71, 7, 0) => Slot::Number(|q| &mut q.current_l3_a, Base::A),
        (1, 91, 7, 0) => Slot::Number(|q| &mut q.current_neutral_a, Base::A),
        (1, 14, 7, 0) => Slot::Number(|q| &mut q.frequency_hz, Base::Hz),
        (1, 1, 8, 0) => Slot::Number(|q| &mut q.energy_import_kwh, Base::Kwh),
        (1, 2, 8, 0) => Slot::Number(|q| &mut q.energy_export_kwh, Base::Kwh),
        (1, 1, 8, 1) => Slot::Number(|q| &mut q.energy_import_t1_kwh, Base::Kwh),
        (1, 1, 8, 2) => Slot::Number(|q| &mut q.energy_import_t2_kwh, Base::Kwh),
        (1, 1, 8, 3) => Slot::Number(|q| &mut q.energy_import_t3_kwh, Base::Kwh),
        (1, 1, 8, 4) => Slot::Number(|q| &mut q.energy_import_t4_kwh, Base::Kwh),
        (1, 2, 8, 1) => Slot::Number(|q| &mut q.energy_export_t1_kwh, Base::Kwh),
        (1, 2, 8, 2) => Slot::Number(|q| &mut q.energy_export_t2_kwh, Base::Kwh),
        (1, 2, 8, 3) => Slot::Number(|q| &mut q.energy_export_t3_kwh, Base::Kwh),
        (1, 2, 8, 4) => Slot::Number(|q| &mut q.energy_export_t4_kwh, Base::Kwh),
        (1, 21, 8, 0) => Slot::Number(|q| &mut q.energy_import_l1_kwh, Base::Kwh),
        (1, 41, 8, 0) => Slot::Number(|q| &mut q.energy_import_l2_kwh, Base::Kwh),
        (1, 61, 8, 0) => Slot::Number(|q| &mut q.energy_import_l3_kwh, Base::Kwh),
        (1, 3, 8, 0) => Slot::Number(|q| &mut q.reactive_energy_import_kvarh, Base::Kvarh),
        (1, 4, 8, 0) => Slot::Number(|q| &mut q.reactive_energy_export_kvarh, Base::Kvarh),
        (1, 1, 4, 0) => Slot::Number(|q| &mut q.demand_quarter_w, Base::W),
        (1, 13, 7, 0) => Slot::PowerFactor,
        (1, 1, 6, 0) => Slot::MonthPeak,
        (0, 96, 14, 0) => Slot::Tariff,
        _ => return None,
    };
    let unit = o.unit.as_ref().map(|u| u.as_str());
    let shift = match slot {
        Slot::Number(_, base) => exponent_to(base, unit),
        Slot::PowerFactor => exponent_to(Base::One, unit),
        Slot::MonthPeak => exponent_to(Base::W, unit),
        Slot::Tariff => None,
    };
    Some(Rule { slot, shift })
}

/// Sets the quantity of an object whose rule is `rule`.
pub(crate) fn set(q: &mut Quantities, rule: Rule, o: &Object) {
    let v = || rule.shift.and_then(|s| shifted(&o.value, s));
    match rule.slot {
        Slot::Number(field, _) => *field(q) = v(),
        Slot::PowerFactor => q.power_factor = v().or_else(|| o.value.as_f64()),
        Slot::MonthPeak => {
            q.demand_month_peak_w = v();
            q.demand_month_peak_time = o.time;
        }
        Slot::Tariff => q.tariff = o.value.as_str().and_then(|s| s.trim().parse().ok()),
    }
}

/// One step of an object's last digit in its quantity's base unit: its
/// resolution (`001*A` is 1 A, `0.48*A` 0.01 A, 1234 mA 0.001 A); 0 for a
/// float, `None` for an object that is no quantity's number.
pub(crate) fn resolution(o: &Object) -> Option<f64> {
    let shift = rule(o)?.shift?;
    match o.value {
        Value::Number(d) => Some(Decimal::new(1, d.exponent.saturating_add(shift)).to_f64()),
        Value::Float(_) => Some(0.0),
        _ => None,
    }
}

/// Sets the quantity an object gives, if any.
pub(crate) fn apply(q: &mut Quantities, o: &Object) {
    if let Some(r) = rule(o) {
        set(q, r, o);
    }
}

/// Which totals [`finish`] makes from their tariffs (the meter sent no
/// total), and must make again when a tariff changes.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Summed {
    import: bool,
    export: bool,
}

impl Summed {
    /// Takes the sums out again, so that objects applied over finished
    /// quantities can be finished anew.
    pub(crate) fn undo(self, q: &mut Quantities) {
        if self.import {
            q.energy_import_kwh = None;
        }
        if self.export {
            q.energy_export_kwh = None;
        }
    }
}

/// What the quantities take from each other and from the sub-meters, once
/// every object is applied (again: everything it sets, it sets afresh but
/// for the sums, see [`Summed`]).
pub(crate) fn finish(reading: &mut Reading) {
    let Reading { quantities: q, submeters, .. } = reading;
    // Energy totals a meter sends only per tariff are the sum of its tariffs.
    if q.energy_import_kwh.is_none() {
        q.energy_import_kwh =
            sum(&[q.energy_import_t1_kwh, q.energy_import_t2_kwh, q.energy_import_t3_kwh, q.energy_import_t4_kwh]);
    }
    if q.energy_export_kwh.is_none() {
        q.energy_export_kwh =
            sum(&[q.energy_export_t1_kwh, q.energy_export_t2_kwh, q.energy_export_t3_kwh, q.energy_export_t4_kwh]);
    }
    if submeters.is_empty() {
        // HAN readings: no sub-meters, nothing to look through.
        (q.gas_m3, q.gas_time, q.water_m3, q.water_time, q.heat_gj, q.heat_time) = (None, None, None, None, None, None);
        return;
    }
    (q.gas_m3, q.gas_time) = newest(submeters, "gas", Base::M3);
    (q.water_m3, q.water_time) = newest(submeters, "water", Base::M3);
    (q.heat_gj, q.heat_time) = newest(submeters, "heat", Base::Gj);
}

fn sum(parts: &[Option<f64>]) -> Option<f64> {
    // Round to the meter's resolution (Wh) so 1.001 + 1.001 stays 2.002.
    parts.iter().flatten().copied().reduce(|a, b| a + b).map(|t| (t * 1e6).round() / 1e6)
}

/// The sub-meter of a kind with the newest reading: a dead channel next to a
/// live one (or a swapped meter) must not win.
fn newest(subs: &[SubMeter], kind: &str, base: Base) -> (Option<f64>, Option<MeterTime>) {
    subs.iter()
        .filter(|s| s.kind == kind)
        .filter_map(|s| {
            let v = s.value?;
            let shift = exponent_to(base, s.unit.as_ref().map(|u| u.as_str()))?;
            Some((v * Decimal::new(1, shift).to_f64(), s.time))
        })
        .max_by_key(|(_, t)| t.map(|t| t.local))
        .map_or((None, None), |(v, t)| (Some(v), t))
}
