//! P1 telegrams (DSMR 5.0.2, DSMR 4.2, Belgian e-MUCS 1.7.1), line for
//! line as the captures in the corpus show them.

use std::fmt::Write as _;

use chrono::{Datelike, Timelike};
use han::encode::dsmr_telegram;

use crate::{Meter, SMARTY_AUTH_KEY, Sample, Simulator, wh};

/// `YYMMDDhhmmssX`, X = S in summer time, W in winter time.
fn ts(sim: &Simulator, t_ms: i64) -> String {
    let l = sim.local(t_ms);
    let flag = if sim.is_dst(t_ms) { 'S' } else { 'W' };
    format!("{}{flag}", l.format("%y%m%d%H%M%S"))
}

/// Text as DSMR sends ids: hex of the ASCII.
fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

fn kwh(w_ms: u64) -> String {
    let w = wh(w_ms);
    format!("{:06}.{:03}", w / 1000 % 1_000_000, w % 1000)
}

fn kw(w: u32) -> String {
    format!("{:02}.{:03}", w / 1000 % 100, w % 1000)
}

fn m3(litres: u64) -> String {
    format!("{:05}.{:03}", litres / 1000 % 100_000, litres % 1000)
}

/// Small counters that stay the same for a meter (power failures, sags).
fn counters(sim: &Simulator) -> [u32; 8] {
    let mut n = sim.ids.meter_id.bytes().map(u32::from).fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b));
    let mut c = [0u32; 8];
    for x in &mut c {
        *x = n % 7;
        n /= 7;
    }
    c
}

/// The telegram the simulator's meter sends at `t` (UTC ms), plain or
/// Smarty-style encrypted.
pub(crate) fn telegram(sim: &Simulator, t: i64, s: &Sample) -> Vec<u8> {
    let body = match sim.opts.meter {
        Meter::Dsmr4 => dsmr4(sim, t, s),
        Meter::Fluvius => fluvius(sim, t, s),
        _ => dsmr5(sim, t, s),
    };
    let plain = dsmr_telegram(&body);
    match sim.opts.key {
        Some(key) => {
            let ak = sim.opts.auth_key.unwrap_or(SMARTY_AUTH_KEY);
            han::apdu::encrypt(&sim.ids.title, 0x30, sim.ic, &plain, &key, &ak)
        }
        None => plain,
    }
}

fn line(out: &mut String, code: &str, value: &str) {
    let _ = write!(out, "{code}({value})\r\n");
}

fn energies(out: &mut String, sim: &Simulator) {
    let r = &sim.reg;
    line(out, "1-0:1.8.1", &format!("{}*kWh", kwh(r.a_plus_t[0])));
    line(out, "1-0:1.8.2", &format!("{}*kWh", kwh(r.a_plus_t[1])));
    line(out, "1-0:2.8.1", &format!("{}*kWh", kwh(r.a_minus_t[0])));
    line(out, "1-0:2.8.2", &format!("{}*kWh", kwh(r.a_minus_t[1])));
}

fn events(out: &mut String, sim: &Simulator, long_failure: &str) {
    let c = counters(sim);
    line(out, "0-0:96.7.21", &format!("{:05}", c[0] + c[1] + 2));
    line(out, "0-0:96.7.9", &format!("{:05}", c[1] + 1));
    let _ = write!(out, "1-0:99.97.0(1)(0-0:96.7.19){long_failure}\r\n");
    for (code, n) in
        ["1-0:32.32.0", "1-0:52.32.0", "1-0:72.32.0", "1-0:32.36.0", "1-0:52.36.0", "1-0:72.36.0"].iter().zip(&c[2..])
    {
        line(out, code, &format!("{n:05}"));
    }
}

/// A long power failure some weeks before the start, as the log shows it.
fn failure(sim: &Simulator) -> String {
    let c = counters(sim);
    let end = sim.opts.start.timestamp_millis() / 1000 * 1000 - i64::from(20 + c[0] * 9) * 86_400_000 - 3_723_000;
    format!("({})({:010}*s)", ts(sim, end), 190 + c[3] * 377)
}

/// The phase powers' order in DSMR 5 and e-MUCS: the three imports, then
/// the three exports (code, phase, import).
const IMPORTS_THEN_EXPORTS: [(&str, usize, bool); 6] = [
    ("1-0:21.7.0", 0, true),
    ("1-0:41.7.0", 1, true),
    ("1-0:61.7.0", 2, true),
    ("1-0:22.7.0", 0, false),
    ("1-0:42.7.0", 1, false),
    ("1-0:62.7.0", 2, false),
];

/// The phase powers' order in DSMR 4.2: import and export phase by phase.
const BY_PHASE: [(&str, usize, bool); 6] = [
    ("1-0:21.7.0", 0, true),
    ("1-0:22.7.0", 0, false),
    ("1-0:41.7.0", 1, true),
    ("1-0:42.7.0", 1, false),
    ("1-0:61.7.0", 2, true),
    ("1-0:62.7.0", 2, false),
];

fn phase_powers(out: &mut String, s: &Sample, order: &[(&str, usize, bool)]) {
    for &(code, k, import) in order {
        let w = if import { s.phase_import(k) } else { s.phase_export(k) };
        line(out, code, &format!("{}*kW", kw(w)));
    }
}

/// The lines both Dutch meters start with, up to the power failure log:
/// identification, version, clock, meter id, energies, tariff, power, events.
fn dsmr_head(sim: &Simulator, t: i64, s: &Sample, ident: &str, version: &str) -> String {
    let mut o = String::with_capacity(1024);
    let _ = write!(o, "{ident}\r\n\r\n");
    line(&mut o, "1-3:0.2.8", version);
    line(&mut o, "0-0:1.0.0", &ts(sim, t));
    line(&mut o, "0-0:96.1.1", &hex(&sim.ids.meter_id));
    energies(&mut o, sim);
    tariff_and_power(&mut o, sim, t, s);
    events(&mut o, sim, &failure(sim));
    o
}

/// The tariff in force and the total import and export power.
fn tariff_and_power(out: &mut String, sim: &Simulator, t: i64, s: &Sample) {
    line(out, "0-0:96.14.0", &format!("{:04}", sim.tariff(t)));
    line(out, "1-0:1.7.0", &format!("{}*kW", kw(s.import_w())));
    line(out, "1-0:2.7.0", &format!("{}*kW", kw(s.export_w())));
}

/// The phase voltages, 0.1 V.
fn voltages(out: &mut String, s: &Sample) {
    for (code, k) in [("1-0:32.7.0", 0), ("1-0:52.7.0", 1), ("1-0:72.7.0", 2)] {
        line(out, code, &format!("{:05.1}*V", s.u[k]));
    }
}

/// The phase currents in whole amperes, as the Dutch meters send them.
fn whole_amperes(out: &mut String, s: &Sample) {
    for (code, k) in [("1-0:31.7.0", 0), ("1-0:51.7.0", 1), ("1-0:71.7.0", 2)] {
        line(out, code, &format!("{:03}*A", s.i[k].round() as u32));
    }
}

/// The Dutch gas meter on M-Bus channel 1: its type, id and last reading
/// (`(time, litres, _)` of the sub-meter sample it reports).
fn dsmr_gas(out: &mut String, sim: &Simulator, (gt, gas, _): (i64, u64, u64)) {
    line(out, "0-1:24.1.0", "003");
    line(out, "0-1:96.1.0", &hex(&sim.ids.gas_id));
    let _ = write!(out, "0-1:24.2.1({})({}*m3)\r\n", ts(sim, gt), m3(gas));
}

/// Iskra AM550, DSMR 5.0.2 (like `p1/dsmr50-iskra-am550-01.txt`).
fn dsmr5(sim: &Simulator, t: i64, s: &Sample) -> String {
    let mut o = dsmr_head(sim, t, s, "/ISK5\\2M550T-1011", "50");
    line(&mut o, "0-0:96.13.0", "");
    voltages(&mut o, s);
    whole_amperes(&mut o, s);
    phase_powers(&mut o, s, &IMPORTS_THEN_EXPORTS);
    dsmr_gas(&mut o, sim, sim.subs.five_min);
    o
}

/// Kaifa, DSMR 4.2 (like `p1/dsmr42-kaifa-01.txt`): no voltages, gas hourly.
fn dsmr4(sim: &Simulator, t: i64, s: &Sample) -> String {
    let mut o = dsmr_head(sim, t, s, "/KFM5KAIFA-METER", "42");
    line(&mut o, "0-0:96.13.1", "");
    line(&mut o, "0-0:96.13.0", "");
    whole_amperes(&mut o, s);
    phase_powers(&mut o, s, &BY_PHASE);
    dsmr_gas(&mut o, sim, sim.subs.hourly);
    o
}

/// Fluvius e-MUCS 1.7.1 (like `p1/be-fluvius-emucs171-01.txt`): quarter
/// demand, this month's peak, the peaks of past months, gas and water.
fn fluvius(sim: &Simulator, t: i64, s: &Sample) -> String {
    let mut o = String::with_capacity(1400);
    o.push_str("/FLU5\\253769484_A\r\n\r\n");
    line(&mut o, "0-0:96.1.4", "50217");
    line(&mut o, "0-0:96.1.1", &hex(&sim.ids.meter_id));
    line(&mut o, "0-0:1.0.0", &ts(sim, t));
    energies(&mut o, sim);
    line(&mut o, "1-0:1.4.0", &format!("{}*kW", kw(sim.quarter_average_w(t, s))));
    let d = &sim.demand;
    let (pt, pw) = d.month_peak.unwrap_or_else(|| {
        // No quarter finished yet this month: the peak is zero from the month's start.
        let l = sim.local(t);
        let days = i64::from(l.day()) - 1;
        let back =
            (days * 86_400 + i64::from(l.hour()) * 3600 + i64::from(l.minute()) * 60 + i64::from(l.second())) * 1000;
        (t - back, 0)
    });
    let _ = write!(o, "1-0:1.6.0({})({}*kW)\r\n", ts(sim, pt), kw(pw));
    let _ = write!(o, "0-0:98.1.0({})(1-0:1.6.0)(1-0:1.6.0)", d.history.len());
    for &(end, peak, w) in &d.history {
        let _ = write!(o, "({})({})({}*kW)", ts(sim, end), ts(sim, peak), kw(w));
    }
    o.push_str("\r\n");
    tariff_and_power(&mut o, sim, t, s);
    phase_powers(&mut o, s, &IMPORTS_THEN_EXPORTS);
    voltages(&mut o, s);
    for (code, k) in [("1-0:31.7.0", 0), ("1-0:51.7.0", 1), ("1-0:71.7.0", 2)] {
        line(&mut o, code, &format!("{:06.2}*A", s.i[k]));
    }
    line(&mut o, "0-0:96.3.10", "1");
    line(&mut o, "0-0:17.0.0", "999.9*kW");
    line(&mut o, "1-0:31.4.0", "999*A");
    line(&mut o, "0-0:96.13.0", "");
    line(&mut o, "0-1:24.1.0", "003");
    line(&mut o, "0-1:96.1.1", &hex(&sim.ids.gas_id));
    line(&mut o, "0-1:24.4.0", "1");
    let (gt, gas, water) = sim.subs.five_min;
    let _ = write!(o, "0-1:24.2.3({})({}*m3)\r\n", ts(sim, gt), m3(gas));
    line(&mut o, "0-2:24.1.0", "007");
    line(&mut o, "0-2:96.1.1", &hex(&sim.ids.water_id));
    let _ = write!(o, "0-2:24.2.1({})({}*m3)\r\n", ts(sim, gt), m3(water));
    o
}
