//! HAN frames: DLMS/COSEM data-notifications in HDLC, laid out as each
//! brand's captures in the corpus show them.

use chrono::NaiveDateTime;
use han::Obis;
use han::encode::{Axdr, data_notification};

use crate::{List, Meter, Sample, Simulator, wh};

const fn e(c: u8, d: u8, x: u8) -> Obis {
    Obis::new(1, 0, c, d, x, 255)
}
const fn k(c: u8, d: u8, x: u8) -> Obis {
    Obis::new(1, 1, c, d, x, 255)
}
const LIST_ID: Obis = Obis::new(1, 1, 0, 2, 129, 255);
const METER_ID: Obis = Obis::new(0, 0, 96, 1, 0, 255);
const MODEL: Obis = Obis::new(0, 0, 96, 1, 7, 255);
const CLOCK: Obis = Obis::new(0, 0, 1, 0, 0, 255);

/// COSEM units.
const W: u8 = 27;
const VAR: u8 = 29;
const WH: u8 = 30;
const VARH: u8 = 32;
const A: u8 = 33;
const V: u8 = 35;

/// A COSEM date-time with the bytes each brand sets its own way.
fn clock(t: NaiveDateTime, dow: Option<u8>, deviation: u16, status: u8) -> [u8; 12] {
    // The decoder's encoder writes the fields; the brands differ only in the
    // day of week (Aidon sends 0) and the raw status byte.
    let mut c = han::encode::cosem_datetime(t, Some(deviation as i16), false);
    if let Some(d) = dow {
        c[4] = d;
    }
    c[11] = status;
    c
}

fn sat_u16(v: f64) -> u16 {
    v.round().clamp(0.0, f64::from(u16::MAX)) as u16
}
fn sat_i16(v: f64) -> i16 {
    v.round().clamp(0.0, f64::from(i16::MAX)) as i16
}
fn sat_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The APDU as a HAN meter sends it: general-glo-ciphering when the
/// simulator has a key (security control 0x30 with an authentication key,
/// else 0x20), else as it is. The HAN meters, Swiss and Acme share it.
pub(crate) fn protect(sim: &Simulator, apdu: Vec<u8>) -> Vec<u8> {
    match sim.opts.key {
        Some(key) => {
            let (sc, ak) = match sim.opts.auth_key {
                Some(ak) => (0x30, ak),
                None => (0x20, [0; 16]),
            };
            han::apdu::encrypt(&sim.ids.title, sc, sim.ic, &apdu, &key, &ak)
        }
        None => apdu,
    }
}

/// The frame the simulator's meter sends at `t` (UTC ms).
pub(crate) fn frame(sim: &Simulator, t: i64, list: List, s: &Sample) -> Vec<u8> {
    let local = sim.local(t);
    let dst = sim.is_dst(t);
    let (apdu, dst_addr, src_addr, control): (Vec<u8>, &[u8], &[u8], u8) = match sim.opts.meter {
        Meter::AidonNo => (aidon_no(sim, list, s), &[0x41], &[0x08, 0x83], 0x13),
        Meter::KaifaNo => (kaifa(sim, local, list, s), &[0x01], &[0x02, 0x01], 0x10),
        Meter::KamstrupNo => {
            let head = clock(local, None, 0x8000, if dst { 0x80 } else { 0x00 });
            let body = kamstrup(sim, local, dst, list, s);
            (data_notification(0, Some(head), &body), &[0x2B], &[0x21], 0x13)
        }
        _ => (aidon_se(local, s, &sim.reg), &[0x41], &[0x08, 0x83], 0x13),
    };
    let apdu = protect(sim, apdu);
    let mut info = Vec::with_capacity(apdu.len() + 3);
    info.extend_from_slice(&[0xE6, 0xE7, 0x00]);
    info.extend_from_slice(&apdu);
    han::hdlc::encode_with_control(dst_addr, src_addr, false, control, &info)
}

/// The instantaneous items both Aidon lists send in the same order: P+,
/// P-, Q+, Q- (W, var), I L1-L3 (0.1 A, signed), U L1-L3 (0.1 V).
fn aidon_instant(a: &mut Axdr, s: &Sample) {
    a.structure(3).obis(e(1, 7, 0)).u32(s.import_w()).scaler_unit(0, W);
    a.structure(3).obis(e(2, 7, 0)).u32(s.export_w()).scaler_unit(0, W);
    a.structure(3).obis(e(3, 7, 0)).u32(s.q_import()).scaler_unit(0, VAR);
    a.structure(3).obis(e(4, 7, 0)).u32(s.q_export()).scaler_unit(0, VAR);
    for (c, i) in [(31, 0), (51, 1), (71, 2)] {
        a.structure(3).obis(e(c, 7, 0)).i16(sat_i16(s.i[i] * 10.0)).scaler_unit(-1, A);
    }
    for (c, i) in [(32, 0), (52, 1), (72, 2)] {
        a.structure(3).obis(e(c, 7, 0)).u16(sat_u16(s.u[i] * 10.0)).scaler_unit(-1, V);
    }
}

/// Aidon 6534: `array` of `structure{OBIS, value[, scaler-unit]}`;
/// list 1 = active power import; list 2 = 13 items; list 3 = 18.
fn aidon_no(sim: &Simulator, list: List, s: &Sample) -> Vec<u8> {
    let mut a = Axdr::new();
    if list == List::List1 {
        a.array(1).structure(3).obis(e(1, 7, 0)).u32(s.import_w()).scaler_unit(0, W);
        return data_notification(0x4000_0000, None, &a.0);
    }
    a.array(if list == List::List3 { 18 } else { 13 });
    a.structure(2).obis(LIST_ID).visible("AIDON_V0001");
    a.structure(2).obis(METER_ID).visible(&sim.ids.meter_id);
    a.structure(2).obis(MODEL).visible("6534");
    aidon_instant(&mut a, s);
    if list == List::List3 {
        // The hourly snapshot: the clock and registers of the whole hour.
        // Aidon sends day-of-week 0 and deviation 0 (local time).
        let (hour, r) = sim.hour_snap;
        let dst = if sim.is_dst(hour) { 0x80 } else { 0x00 };
        a.structure(2).obis(CLOCK).octets(&clock(sim.local(hour), Some(0), 0x0000, dst));
        // Energies in 10 Wh (scaler 1).
        for (c, v, u) in [(1, r.a_plus, WH), (2, r.a_minus, WH), (3, r.r_plus, VARH), (4, r.r_minus, VARH)] {
            a.structure(3).obis(e(c, 8, 0)).u32(sat_u32(wh(v) / 10)).scaler_unit(1, u);
        }
    }
    data_notification(0x4000_0000, None, &a.0)
}

/// Kaifa MA304H3E (KFM_001): header date-time tagged `09 0C`, then a
/// structure of bare values: list 1 = P+; list 2 = 13 values; list 3 = 18.
/// Fixed scales: W, var, mA, 0.1 V, Wh. A 3-wire IT meter: U L2 is sent as 0.
fn kaifa(sim: &Simulator, local: NaiveDateTime, list: List, s: &Sample) -> Vec<u8> {
    let mut a = Axdr::new();
    match list {
        List::List1 => {
            a.structure(1).u32(s.import_w());
        }
        _ => {
            a.structure(if list == List::List3 { 18 } else { 13 });
            a.octets(b"KFM_001").octets(sim.ids.meter_id.as_bytes()).octets(b"MA304H3E");
            a.u32(s.import_w()).u32(s.export_w()).u32(s.q_import()).u32(s.q_export());
            for i in 0..3 {
                a.u32((s.i[i] * 1000.0).round() as u32);
            }
            a.u32((s.u[0] * 10.0).round() as u32).u32(0).u32((s.u[2] * 10.0).round() as u32);
            if list == List::List3 {
                let (hour, r) = sim.hour_snap;
                a.octets(&clock(sim.local(hour), None, 0x8000, 0x00));
                for v in [r.a_plus, r.a_minus, r.r_plus, r.r_minus] {
                    a.u32(sat_u32(wh(v)));
                }
            }
        }
    }
    let mut apdu = Vec::with_capacity(a.0.len() + 20);
    apdu.push(0x0F);
    apdu.extend_from_slice(&0x4000_0000u32.to_be_bytes());
    apdu.extend_from_slice(&[0x09, 0x0C]);
    apdu.extend_from_slice(&clock(local, None, 0x8000, 0x00));
    apdu.extend_from_slice(&a.0);
    apdu
}

/// Kamstrup Omnipower (Kamstrup_V0001): a flat structure of `OBIS, value`
/// pairs with `1-1:` codes and implicit scalers (I 0.01 A, U 1 V,
/// energy 10 Wh); its list 1 has 25 elements, its hourly list 2 has 35.
fn kamstrup(sim: &Simulator, local: NaiveDateTime, dst: bool, list: List, s: &Sample) -> Vec<u8> {
    let mut a = Axdr::new();
    a.structure(if list == List::List2 { 35 } else { 25 }).visible("Kamstrup_V0001");
    a.obis(k(0, 0, 5)).visible(&sim.ids.meter_id);
    a.obis(k(96, 1, 1)).visible("6841131BN243101040");
    for (c, v) in [(1, s.import_w()), (2, s.export_w()), (3, s.q_import()), (4, s.q_export())] {
        a.obis(k(c, 7, 0)).u32(v);
    }
    for (c, i) in [(31, 0), (51, 1), (71, 2)] {
        a.obis(k(c, 7, 0)).u32((s.i[i] * 100.0).round() as u32);
    }
    for (c, i) in [(32, 0), (52, 1), (72, 2)] {
        a.obis(k(c, 7, 0)).u16(sat_u16(s.u[i]));
    }
    if list == List::List2 {
        let r = &sim.reg;
        a.obis(Obis::new(0, 1, 1, 0, 0, 255)).octets(&clock(local, None, 0x8000, if dst { 0x80 } else { 0x00 }));
        for (c, v) in [(1, r.a_plus), (2, r.a_minus), (3, r.r_plus), (4, r.r_minus)] {
            a.obis(k(c, 8, 0)).u32(sat_u32(wh(v) / 10));
        }
    }
    a.0
}

/// Aidon's Swedish RJ12 list: the clock and 26 registers, each
/// `structure{OBIS, value, scaler-unit}`, energies in Wh.
fn aidon_se(local: NaiveDateTime, s: &Sample, r: &crate::Registers) -> Vec<u8> {
    let mut a = Axdr::new();
    a.array(27);
    a.structure(2).obis(CLOCK).octets(&clock(local, None, 0x8000, 0xFF));
    aidon_instant(&mut a, s);
    for (ph, base) in [(0, 21), (1, 41), (2, 61)] {
        let vals = [
            (base, s.phase_import(ph), W),
            (base + 1, s.phase_export(ph), W),
            (base + 2, s.phase_q_import(ph), VAR),
            (base + 3, s.phase_q_export(ph), VAR),
        ];
        for (c, v, u) in vals {
            a.structure(3).obis(e(c, 7, 0)).u32(v).scaler_unit(0, u);
        }
    }
    for (c, v, u) in [(1, r.a_plus, WH), (2, r.a_minus, WH), (3, r.r_plus, VARH), (4, r.r_minus, VARH)] {
        a.structure(3).obis(e(c, 8, 0)).u32(sat_u32(wh(v))).scaler_unit(0, u);
    }
    data_notification(0x4000_0000, None, &a.0)
}
