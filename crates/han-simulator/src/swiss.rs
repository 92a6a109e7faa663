//! Swiss meters in the utilities' VSE push configuration (the customer
//! information interface, CII): each push is the push setup's
//! capture-object list (class, OBIS code, attribute, data index of every
//! object) followed by the values, bare: no scaler and no unit in the
//! frame. The units are each model's own (han's `profiles/builtin/ch-vse.toml`
//! says where they come from): the Landis+Gyr E450 and E570 send voltages
//! in V, the E360 and the Iskraemeco AM550 in 0.1 V; all send currents in
//! 0.01 A, power in W and energy in Wh and varh.
//!
//! The framing is each model's: the E450 and E570 cut the APDU into
//! General Block Transfer blocks, one per HDLC frame; the AM550 into HDLC
//! segments; the E360 sends one long HDLC frame.

use chrono::NaiveDateTime;
use han::Obis;
use han::encode::{Axdr, cosem_datetime, data_notification};

use crate::{Meter, Sample, Simulator, wh};

const fn e(c: u8, d: u8, x: u8) -> Obis {
    Obis::new(1, 0, c, d, x, 255)
}
const fn k(c: u8, d: u8, x: u8) -> Obis {
    Obis::new(1, 1, c, d, x, 255)
}

/// COSEM interface classes of the capture objects.
const DATA: u16 = 1;
const REGISTER: u16 = 3;
const CLOCK_CLASS: u16 = 8;
const PUSH_SETUP: u16 = 40;

/// What a value of the push is.
#[derive(Clone, Copy)]
enum V {
    /// The push setup's object list (attribute 2): the descriptors themselves.
    ObjectList,
    /// The push setup's logical name (attribute 1).
    PushName,
    /// The logical device name, `0-0:42.0.0`.
    DeviceName,
    /// A second meter number, `0-0:96.1.1` (E450).
    Number,
    /// The meter clock.
    Clock,
    /// Energy registers: A+, A-, R+, R-.
    Energy(usize),
    /// Active power import, export.
    Power(bool),
    /// Voltage of a phase.
    Volt(usize),
    /// Current of a phase.
    Amp(usize),
}

/// One capture object: class, code, attribute, and what its value is.
type Capture = (u16, Obis, i8, V);

const E450_PUSH: Obis = Obis::new(0, 8, 25, 9, 0, 255);
const E360_PUSH: Obis = Obis::new(0, 6, 25, 9, 0, 255);

/// The energy registers and instantaneous values every VSE list carries.
const MEASURED: [Capture; 12] = [
    (REGISTER, k(1, 8, 0), 2, V::Energy(0)),
    (REGISTER, k(2, 8, 0), 2, V::Energy(1)),
    (REGISTER, k(3, 8, 0), 2, V::Energy(2)),
    (REGISTER, k(4, 8, 0), 2, V::Energy(3)),
    (REGISTER, e(1, 7, 0), 2, V::Power(true)),
    (REGISTER, e(2, 7, 0), 2, V::Power(false)),
    (REGISTER, e(32, 7, 0), 2, V::Volt(0)),
    (REGISTER, e(52, 7, 0), 2, V::Volt(1)),
    (REGISTER, e(72, 7, 0), 2, V::Volt(2)),
    (REGISTER, e(31, 7, 0), 2, V::Amp(0)),
    (REGISTER, e(51, 7, 0), 2, V::Amp(1)),
    (REGISTER, e(71, 7, 0), 2, V::Amp(2)),
];

/// The capture objects of a model's push, in order.
fn captures(meter: Meter) -> Vec<Capture> {
    let device = (DATA, Obis::new(0, 0, 42, 0, 0, 255), 2, V::DeviceName);
    let mut v = match meter {
        Meter::LandisGyrE450Ch => vec![
            (PUSH_SETUP, E450_PUSH, 2, V::ObjectList),
            (PUSH_SETUP, E450_PUSH, 1, V::PushName),
            device,
            (DATA, Obis::new(0, 0, 96, 1, 1, 255), 2, V::Number),
            (CLOCK_CLASS, Obis::new(0, 0, 1, 0, 0, 255), 2, V::Clock),
        ],
        Meter::LandisGyrE570Ch => vec![(PUSH_SETUP, E450_PUSH, 2, V::ObjectList), device],
        _ => vec![(PUSH_SETUP, E360_PUSH, 2, V::ObjectList), device],
    };
    let mut measured = MEASURED.to_vec();
    match meter {
        // The AM550 names its powers with `1-1:` codes.
        Meter::IskraAm550Ch => {
            for c in measured.iter_mut().filter(|c| matches!(c.3, V::Power(_))) {
                c.1 = c.1.with_b(1);
            }
        }
        // The E360 lists the voltages L1, L3, L2.
        Meter::LandisGyrE360Ch => measured.swap(7, 8),
        _ => {}
    }
    v.extend(measured);
    v
}

/// Tenths of a volt (E360, AM550) or whole volts (E450, E570).
fn volts_scale(meter: Meter) -> f64 {
    if matches!(meter, Meter::LandisGyrE360Ch | Meter::IskraAm550Ch) { 10.0 } else { 1.0 }
}

fn clock_bytes(t: NaiveDateTime, deviation: Option<i16>, dst: bool) -> [u8; 12] {
    cosem_datetime(t, deviation, dst)
}

/// The data-notification a model sends at `t`.
fn apdu(sim: &Simulator, meter: Meter, t: i64, s: &Sample) -> Vec<u8> {
    let local = sim.local(t);
    let dst = sim.is_dst(t);
    // Iskraemeco and the E360 state the offset (deviation -60 / -120, the
    // summer time bit); the E450 and E570 leave it unspecified.
    let offset = |dst: bool| if dst { -120 } else { -60 };
    let head = match meter {
        Meter::LandisGyrE360Ch | Meter::IskraAm550Ch => clock_bytes(local, Some(offset(dst)), dst),
        _ => clock_bytes(local, None, false),
    };
    let caps = captures(meter);
    let mut a = Axdr::new();
    a.structure(caps.len()).array(caps.len());
    for (class, code, attr, _) in &caps {
        // structure{long-unsigned class, OBIS, integer attribute, long-unsigned data index}
        a.structure(4).u16(*class).obis(*code);
        a.0.extend_from_slice(&[0x0F, *attr as u8]);
        a.u16(0);
    }
    let r = &sim.reg;
    let ldn = format!(
        "{}{}",
        std::str::from_utf8(sim.ids.title.get(..3).unwrap_or(b"LGZ")).unwrap_or("LGZ"),
        sim.ids.meter_id
    );
    for (_, code, _, v) in &caps {
        match v {
            V::ObjectList => {}
            V::PushName => {
                a.obis(*code);
            }
            V::DeviceName => {
                a.octets(ldn.as_bytes());
            }
            V::Number => {
                a.octets(sim.ids.meter_id.get(sim.ids.meter_id.len().saturating_sub(7)..).unwrap_or("0").as_bytes());
            }
            V::Clock => {
                a.octets(&clock_bytes(local, None, dst));
            }
            V::Energy(n) => {
                let w_ms = [r.a_plus, r.a_minus, r.r_plus, r.r_minus].get(*n).copied().unwrap_or(0);
                a.u32(u32::try_from(wh(w_ms)).unwrap_or(u32::MAX));
            }
            V::Power(import) => {
                a.u32(if *import { s.import_w() } else { s.export_w() });
            }
            V::Volt(n) => {
                let u = s.u.get(*n).copied().unwrap_or(0.0) * volts_scale(meter);
                a.u16(u.round().clamp(0.0, 65_535.0) as u16);
            }
            V::Amp(n) => {
                let i = s.i.get(*n).copied().unwrap_or(0.0) * 100.0;
                a.u16(i.round().clamp(0.0, 65_535.0) as u16);
            }
        }
    }
    data_notification(sim.ic, Some(head), &a.0)
}

/// General Block Transfer blocks of `apdu`, `size` bytes of it each.
fn blocks(apdu: &[u8], size: usize) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = apdu.chunks(size.max(1)).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, data)| {
            // Streaming, with the last block flagged; no acknowledgement.
            let ctrl = if i + 1 == n { 0xC0 } else { 0x40 };
            let mut b = vec![0xE0, ctrl];
            b.extend_from_slice(&u16::try_from(i + 1).unwrap_or(u16::MAX).to_be_bytes());
            b.extend_from_slice(&[0, 0]);
            match data.len() {
                l @ 0..=0x7F => b.push(l as u8),
                l @ 0x80..=0xFF => b.extend_from_slice(&[0x81, l as u8]),
                l => b.extend_from_slice(&[0x82, (l >> 8) as u8, l as u8]),
            }
            b.extend_from_slice(data);
            b
        })
        .collect()
}

/// The bytes a Swiss meter sends at `t`: its push, encrypted when the
/// simulator has a key, in the model's framing.
pub(crate) fn frame(sim: &Simulator, t: i64, s: &Sample) -> Vec<u8> {
    let meter = sim.opts.meter;
    let plain = apdu(sim, meter, t, s);
    let apdu = crate::cosem::protect(sim, plain);
    let llc = [0xE6, 0xE7, 0x00];
    match meter {
        Meter::LandisGyrE450Ch | Meter::LandisGyrE570Ch => {
            let dst: &[u8] = if meter == Meter::LandisGyrE450Ch { &[0xCE, 0xFF] } else { &[0xCE, 0xFD] };
            let mut out = Vec::new();
            for (i, b) in blocks(&apdu, 112).iter().enumerate() {
                // Only the first frame carries the LLC header.
                let info = if i == 0 { [&llc[..], b].concat() } else { b.clone() };
                out.extend(han::hdlc::encode(dst, &[0x03], false, &info));
            }
            out
        }
        Meter::IskraAm550Ch => {
            let info = [&llc[..], &apdu].concat();
            let parts: Vec<&[u8]> = info.chunks(154).collect();
            let n = parts.len();
            let mut out = Vec::new();
            for (i, part) in parts.into_iter().enumerate() {
                // Segments before the last: the S bit, control 0x03.
                let more = i + 1 < n;
                out.extend(han::hdlc::encode_with_control(
                    &[0xCF],
                    &[0x02, 0x23],
                    more,
                    if more { 0x03 } else { 0x13 },
                    part,
                ));
            }
            out
        }
        _ => han::hdlc::encode(&[0xCF], &[0x03], false, &[&llc[..], &apdu].concat()),
    }
}
