//! What Domoticz's devices are given (Domoticz API, JSON URLs, "udevice"):
//!
//! - the P1 smart meter: `svalue=USAGE1;USAGE2;RETURN1;RETURN2;CONS;PROD`,
//!   the import (usage) and export (return) counters of tariffs 1 and 2 in
//!   whole Wh, then the power drawn and returned now in whole W;
//! - a gas counter: `svalue=USAGE`, the meter's total in whole litres
//!   (1000 l = 1 m3).
//!
//! Lines do not all carry everything (a Norwegian list 1 has only the power
//! drawn; the energy registers come once an hour), so the newest value of
//! each quantity is kept and the device gets the newest of each.

use crate::input::Reading;

/// The newest value of each quantity the devices need.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Latest {
    import_t: [Option<f64>; 2],
    export_t: [Option<f64>; 2],
    import_kwh: Option<f64>,
    export_kwh: Option<f64>,
    import_w: Option<f64>,
    export_w: Option<f64>,
    gas_m3: Option<f64>,
}

impl Latest {
    /// Takes in what a reading has.
    pub fn update(&mut self, r: &Reading) {
        let set = |slot: &mut Option<f64>, name: &str| {
            if let Some(v) = r.number(name) {
                *slot = Some(v);
            }
        };
        set(&mut self.import_t[0], "energy_import_t1_kwh");
        set(&mut self.import_t[1], "energy_import_t2_kwh");
        set(&mut self.export_t[0], "energy_export_t1_kwh");
        set(&mut self.export_t[1], "energy_export_t2_kwh");
        set(&mut self.import_kwh, "energy_import_kwh");
        set(&mut self.export_kwh, "energy_export_kwh");
        set(&mut self.import_w, "power_import_w");
        set(&mut self.export_w, "power_export_w");
        set(&mut self.gas_m3, "gas_m3");
    }

    /// The P1 smart meter's svalue, once an energy register has been seen
    /// (a counter of 0 would tell Domoticz the meter went back to zero).
    /// Tariff registers when the meter has them, else the total as tariff 1
    /// and 0 as tariff 2; a power not seen yet is 0.
    pub fn p1(&self) -> Option<String> {
        let tariffs = self.import_t.iter().chain(&self.export_t).any(Option::is_some);
        let (usage, ret) = if tariffs {
            (self.import_t, self.export_t)
        } else {
            self.import_kwh.or(self.export_kwh)?;
            ([self.import_kwh, None], [self.export_kwh, None])
        };
        let wh = |kwh: Option<f64>| whole(kwh.unwrap_or(0.0) * 1000.0);
        let w = |p: Option<f64>| whole(p.unwrap_or(0.0));
        Some(format!(
            "{};{};{};{};{};{}",
            wh(usage[0]),
            wh(usage[1]),
            wh(ret[0]),
            wh(ret[1]),
            w(self.import_w),
            w(self.export_w)
        ))
    }

    /// The gas meter's total in litres, when seen.
    pub fn gas_litres(&self) -> Option<u64> {
        self.gas_m3.map(|m3| whole(m3 * 1000.0))
    }
}

/// A value rounded to a whole number, never below 0 (counters and powers
/// in the contract are not negative; a garbled one is not sent as such).
fn whole(v: f64) -> u64 {
    if v.is_finite() && v > 0.0 {
        // `as` saturates: a value beyond u64 is u64::MAX, never wraps.
        v.round() as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(q: &[(&'static str, f64)]) -> Reading {
        Reading {
            meter_id: None,
            time: chrono::DateTime::UNIX_EPOCH,
            quantities: q.to_vec(),
            times: vec![],
            manufacturer: None,
            model: None,
            line: vec![],
        }
    }

    #[test]
    fn a_dsmr_meter_with_tariffs_and_gas() {
        let mut l = Latest::default();
        l.update(&reading(&[
            ("power_import_w", 244.0),
            ("power_export_w", 0.0),
            ("energy_import_kwh", 6.825),
            ("energy_export_kwh", 2.444),
            ("energy_import_t1_kwh", 4.426),
            ("energy_import_t2_kwh", 2.399),
            ("energy_export_t1_kwh", 2.444),
            ("energy_export_t2_kwh", 0.0),
            ("gas_m3", 0.107),
        ]));
        assert_eq!(l.p1().as_deref(), Some("4426;2399;2444;0;244;0"));
        assert_eq!(l.gas_litres(), Some(107));
    }

    #[test]
    fn a_han_meter_registers_hourly_power_often() {
        let mut l = Latest::default();
        l.update(&reading(&[("power_import_w", 4117.0)]));
        assert_eq!(l.p1(), None, "no counter yet: nothing to send");
        l.update(&reading(&[
            ("power_import_w", 4027.0),
            ("power_export_w", 12.4),
            ("energy_import_kwh", 109_552.25),
            ("energy_export_kwh", 0.0),
        ]));
        assert_eq!(l.p1().as_deref(), Some("109552250;0;0;0;4027;12"));
        l.update(&reading(&[("power_import_w", 1500.6)]));
        assert_eq!(l.p1().as_deref(), Some("109552250;0;0;0;1501;12"), "the newest power, the registers kept");
        assert_eq!(l.gas_litres(), None);
    }

    #[test]
    fn odd_values() {
        assert_eq!((whole(-3.0), whole(f64::NAN), whole(1e30), whole(2.5)), (0, 0, u64::MAX, 3));
        let mut l = Latest::default();
        l.update(&reading(&[("energy_export_kwh", 1.0)]));
        assert_eq!(l.p1().as_deref(), Some("0;0;1000;0;0;0"));
    }
}
