//! Acme X3: a made-up 3-phase meter that no decoder knows, to try meter
//! profiles on (`han-read --meter-profile`, `docs/profiles.md` decodes it
//! step by step). Every 10 s it pushes a list of bare values, no OBIS code
//! and no scaler anywhere: the list id `ACME_X3_V1`, the meter number, the
//! clock, the active powers in W, the voltages in 0.1 V, the currents in mA
//! and the two active energy registers in 10 Wh.

use han::encode::{Axdr, cosem_datetime, data_notification};

use crate::{Sample, Simulator, wh};

/// The list id, the list's first value.
pub const LIST_ID: &str = "ACME_X3_V1";

/// The bytes the meter sends at `t`.
pub(crate) fn frame(sim: &Simulator, t: i64, s: &Sample) -> Vec<u8> {
    let local = sim.local(t);
    let mut a = Axdr::new();
    a.structure(13).visible(LIST_ID).octets(sim.ids.meter_id.as_bytes());
    a.octets(&cosem_datetime(local, None, sim.is_dst(t)));
    a.u32(s.import_w()).u32(s.export_w());
    for u in s.u {
        a.u16((u * 10.0).round().clamp(0.0, 65_535.0) as u16);
    }
    for i in s.i {
        a.u32((i * 1000.0).round().max(0.0) as u32);
    }
    for w_ms in [sim.reg.a_plus, sim.reg.a_minus] {
        a.u32(u32::try_from(wh(w_ms) / 10).unwrap_or(u32::MAX));
    }
    let apdu = data_notification(sim.ic, None, &a.0);
    let apdu = crate::cosem::protect(sim, apdu);
    han::hdlc::encode(&[0x41], &[0x21], false, &[&[0xE6, 0xE7, 0x00][..], &apdu].concat())
}
