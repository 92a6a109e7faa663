//! Several meters on one line: each keeps its template.

use super::{SLOTS, Slot, Templates};
use crate::encode::{dsmr_telegram, samples};
use crate::p1::decode_telegram;
use crate::reading::{Framing, Protocol, Reading};

/// Telegram `i` of meter `m`: the sample meter with its identification
/// changed (the same length for every meter).
fn telegram(m: usize, i: u32) -> Vec<u8> {
    let t = samples::dsmr5(i);
    let body = std::str::from_utf8(&t[..t.iter().rposition(|b| *b == b'!').unwrap()]).unwrap();
    dsmr_telegram(&body.replacen("MT382-1000", &format!("MT382-10{m:02}"), 1))
}

/// Decodes `t` against `templates`: the reading as JSON (lent by the
/// template it was made from or moved into), and whether a template made
/// it (rather than the full decode).
fn decode(templates: &mut Templates, t: &[u8]) -> (String, bool) {
    let mut r = Reading::new(Protocol::P1, Framing::Dsmr);
    let hits = templates.hits;
    let slot = templates.telegram(t, None, &mut r).unwrap();
    assert!(matches!(slot, Some(Slot::Dsmr(_))), "{slot:?}");
    let json = serde_json::to_string(templates.reading(slot.unwrap()).unwrap()).unwrap();
    (json, templates.hits > hits)
}

#[test]
fn interleaved_meters_of_one_length_each_keep_their_template() {
    let meters = 6;
    assert_eq!(telegram(0, 0).len(), telegram(meters - 1, 0).len());
    let mut templates = Templates::default();
    for i in 0..5 {
        for m in 0..meters {
            let t = telegram(m, i);
            let (json, templated) = decode(&mut templates, &t);
            assert_eq!(templated, i > 0, "meter {m}, telegram {i}");
            assert_eq!(json, serde_json::to_string(&decode_telegram(&t, None).unwrap()).unwrap());
            assert!(json.contains(&format!("MT382-10{m:02}")), "meter {m}'s own reading");
        }
    }
}

#[test]
fn more_meters_than_slots_still_mostly_hit() {
    for meters in [SLOTS + 1, SLOTS + 4, 2 * SLOTS] {
        let mut templates = Templates::default();
        let (rounds, mut hits) = (12, 0);
        for i in 0..rounds {
            for m in 0..meters {
                let t = telegram(m, i);
                let (json, templated) = decode(&mut templates, &t);
                hits += usize::from(templated);
                assert_eq!(json, serde_json::to_string(&decode_telegram(&t, None).unwrap()).unwrap());
                assert!(json.contains(&format!("MT382-10{m:02}")), "meter {m}'s own reading");
            }
        }
        assert_eq!(templates.dsmr.len(), SLOTS);
        // In a round robin over more layouts than slots, the least recently
        // used slot is always the one needed next (no hit at all); a random
        // victim keeps most (17: 88 %, 20: 60 %, 32: 20 % in the long run).
        let share = hits as f64 / ((rounds as usize - 1) * meters) as f64;
        let least = match meters - SLOTS {
            1 => 0.7,
            4 => 0.4,
            _ => 0.1,
        };
        assert!(share >= least, "{meters} meters: {share:.2} of the repeated telegrams hit, under {least}");
    }
}

#[test]
fn runs_compare_as_slices_do() {
    for len in 0..40usize {
        let a: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5A).collect();
        assert!(super::same(&a, &a.clone()), "{len} bytes, equal");
        for at in 0..len {
            let mut b = a.clone();
            b[at] ^= 0x10;
            assert!(!super::same(&a, &b), "{len} bytes, byte {at} differs");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// Any order of telegrams from up to 40 meters (more than the slots,
    /// so that slots are replaced at random): every reading equals the
    /// full decode's, whichever template or none made it.
    #[test]
    fn any_order_of_many_meters_decodes_as_in_full(order in proptest::collection::vec((0usize..40, 0u32..4), 1..80)) {
        let mut templates = Templates::default();
        for (m, i) in order {
            let t = telegram(m, i);
            let (json, _) = decode(&mut templates, &t);
            proptest::prop_assert_eq!(json, serde_json::to_string(&decode_telegram(&t, None).unwrap()).unwrap());
        }
        proptest::prop_assert!(templates.dsmr.len() <= SLOTS);
    }
}
