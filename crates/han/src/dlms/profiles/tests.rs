use super::*;
use crate::dlms::draft::draft;
use crate::encode::{Axdr, data_notification, hdlc_push};
use crate::{Config, Obis, decode_message};

#[test]
fn builtin_files_parse() {
    for (name, text) in builtin_files() {
        let p = parse::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!p.is_empty(), "{name}: no profile");
    }
    let names: Vec<&str> = builtin().iter().map(Profile::name).collect();
    for want in ["landisgyr-e360-ch", "iskra-am550-ch", "landisgyr-e450-ch", "kaifa-kfm001", "kamstrup", "nek-list1"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // Specific before general: the Swiss models before the brands, the
    // Swedish Kamstrup before the Norwegian one.
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
    assert!(at("landisgyr-e360-ch") < at("landisgyr") && at("iskra-am550-ch") < at("iskra"));
    assert!(at("kamstrup-se") < at("kamstrup"));
}

#[test]
fn obis_patterns() {
    let p = ObisPattern::parse("1-0:31|51|71.7.0").unwrap();
    assert!(p.contains(Obis::new(1, 0, 51, 7, 0, 255)));
    assert!(!p.contains(Obis::new(1, 0, 32, 7, 0, 255)));
    assert!(!p.contains(Obis::new(1, 0, 31, 7, 0, 1)), "F is 255 when left out");
    let any = ObisPattern::parse("*-*:*.8.*.*").unwrap();
    assert!(any.contains(Obis::new(1, 0, 1, 8, 2, 255)) && any.contains(Obis::new(0, 1, 200, 8, 0, 3)));
    assert!(!any.contains(Obis::new(1, 0, 1, 7, 0, 255)));
    assert!(ObisPattern::parse("255-255:255.255.255.255").unwrap().contains(Obis::new(255, 255, 255, 255, 255, 255)));
    for bad in ["", "1-0:31.7", "1-0:31.7.0.255.1", "1-0:256.7.0", "1-0:3x.7.0", "1-0:|31.7.0", "1:0-31.7.0"] {
        assert!(ObisPattern::parse(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn units_and_types() {
    assert_eq!(unit("V"), Some(Some("V")));
    assert_eq!(unit("none"), Some(None));
    assert_eq!(unit("kWh"), None, "readings keep the meter's own units: Wh");
    assert_eq!(type_name(0x06), Some("double-long-unsigned"));
    assert!(TYPES.iter().all(|(n, t)| type_name(*t) == Some(*n)));
}

#[test]
fn errors_name_line_and_column() {
    let e = MeterProfiles::parse("[[profile]]\nname = \"a\"\n\n[[profile.match]]\nvalues = 0\n").unwrap_err();
    assert_eq!((e.line, e.column), (5, 10), "{e}");
    assert!(e.to_string().starts_with("line 5, column 10: values is a count"), "{e}");
    let e = MeterProfiles::parse("[[profile]]\nname = \"a\"\n").unwrap_err();
    assert!(e.message.contains("no [[profile.match]]"), "{e}");
    let e =
        MeterProfiles::parse("[[profile]]\nname = \"a\"\n[[profile.match]]\n[[profile.scale]]\nobis = \"1-0:1.7.0\"\n")
            .unwrap_err();
    assert!(e.message.contains("needs a scaler, a unit or both") && e.line == 4, "{e}");
    let e = MeterProfiles::parse(
        "[[profile]]\nname = \"a\"\n[[profile.match]]\n[[profile.scale]]\nobis = \"1-0:1.7.0\"\nscaler = 40\n",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (6, 10), "{e}");
    let two = "[[profile]]\nname = \"a\"\n[[profile.match]]\n";
    let e = MeterProfiles::parse(&format!("{two}{two}")).unwrap_err();
    assert!(e.message.contains("a second profile named `a`") && e.line == 4, "{e}");
    let e =
        MeterProfiles::parse("[[profile]]\nname = \"é\"\n[[profile.match]]\n[[profile.layout]]\npositions = [\n 3,\n]")
            .unwrap_err();
    assert_eq!((e.line, e.column), (6, 2), "columns count characters: {e}");
    let e = MeterProfiles::parse(
        "[[profile]]\nname = \"a\"\n[[profile.match]]\n[[profile.layout]]\npositions = [{ obis = \"1-0:1.7.0\", type = \"uint\" }]",
    )
    .unwrap_err();
    assert!(e.message.contains("unknown type \"uint\"") && e.line == 5, "{e}");
    assert!(MeterProfiles::parse("").unwrap().is_empty());
    // Found by the fuzzer: toml gives no reason for a NUL in a comment.
    let e = MeterProfiles::parse("# a\n# b\0c\n[[profile]]\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 4), "{e}");
    assert!(!e.message.is_empty());
}

/// An HDLC frame of a made-up meter: a list id, a meter number, a voltage
/// in tenths of a volt and an energy register in 10 Wh, none with a code.
fn acme(list_id: &str) -> Vec<u8> {
    hdlc_push(&acme_apdu(list_id))
}

fn acme_apdu(list_id: &str) -> Vec<u8> {
    let mut a = Axdr::new();
    a.structure(4).visible(list_id).octets(b"12345678").u16(2347).u32(1_234_567);
    data_notification(7, None, &a.0)
}

const ACME: &str = r#"
[[profile]]
name = "acme"
manufacturer = "Acme Metering"

[[profile.match]]
list_id = "ACME_"

[[profile.match]]
text = "ACME_"

[[profile.scale]]
obis = "1-0:32|52|72.7.0"
scaler = -1

[[profile.layout]]
positions = [
  "1-1:0.2.129",
  { obis = "0-0:96.1.0", type = "octet-string" },
  { obis = "1-0:32.7.0", type = "long-unsigned" },
  { obis = "1-0:1.8.0", type = "double-long-unsigned", scaler = 1, note = "10 Wh" },
]
"#;

#[test]
fn a_user_profile_decodes_a_meter_the_build_does_not_know() {
    let frame = acme("ACME_V1");
    let unknown = decode_message(&frame, &Config::default()).unwrap();
    assert_eq!(unknown.manufacturer, None);
    assert!(unknown.obis.get(Obis::new(0, 0, 128, 0, 2, 255)).is_some());
    let cfg = Config { profiles: MeterProfiles::parse(ACME).unwrap(), ..Config::default() };
    let r = decode_message(&frame, &cfg).unwrap();
    assert_eq!(r.manufacturer, Some("Acme Metering"));
    // 2347 × 0.1 V; 1 234 567 × 10 Wh.
    assert_eq!(r.quantities.voltage_l1_v, Some(234.7));
    assert_eq!(r.quantities.energy_import_kwh, Some(12_345.67));
    assert_eq!(r.meter_id.as_deref(), Some("12345678"));
    assert_eq!(r.list.as_deref(), Some("ACME_V1"));
    let u = r.obis.get(Obis::new(1, 0, 32, 7, 0, 255)).unwrap();
    assert_eq!(u.unit.as_ref().map(|u| u.as_str()), Some("V"), "the quantity's base unit when the profile names none");
    // Another list id: the profile does not match, the values stay unknown.
    let other = decode_message(&acme("OTHER_V1"), &cfg).unwrap();
    assert!(other.quantities.voltage_l1_v.is_none() && other.manufacturer.is_none());
    // A value of another type than the layout says: no layout.
    let mut a = Axdr::new();
    a.structure(4).visible("ACME_V1").octets(b"12345678").u32(2347).u32(1);
    let typed = decode_message(&hdlc_push(&data_notification(7, None, &a.0)), &cfg).unwrap();
    assert!(typed.quantities.voltage_l1_v.is_none());
}

#[test]
fn user_profiles_come_before_the_built_in_ones() {
    // A Kaifa list 1 (one bare value) read as export by a user's profile.
    let mut a = Axdr::new();
    a.structure(1).u32(500);
    let frame = hdlc_push(&data_notification(0x4000_0000, None, &a.0));
    assert_eq!(decode_message(&frame, &Config::default()).unwrap().quantities.power_import_w, Some(500.0));
    let mine = "[[profile]]\nname = \"export\"\n[[profile.match]]\nvalues = 1\n[[profile.layout]]\npositions = [\"1-0:2.7.0\"]\n";
    let cfg = Config { profiles: MeterProfiles::parse(mine).unwrap(), ..Config::default() };
    let r = decode_message(&frame, &cfg).unwrap();
    assert_eq!((r.quantities.power_import_w, r.quantities.power_export_w), (None, Some(500.0)));
    let mut two = MeterProfiles::default();
    two.extend(&MeterProfiles::parse(mine).unwrap());
    two.extend(&MeterProfiles::parse(ACME).unwrap());
    assert_eq!(two.profiles().iter().map(Profile::name).collect::<Vec<_>>(), ["export", "acme"]);
}

#[test]
fn a_draft_names_positions_types_and_values_and_then_loads() {
    let frame = acme("ACME_V1");
    let apdu = &acme_apdu("ACME_V1")[..];
    let d = draft(apdu, &MeterProfiles::default()).expect("no profile knows ACME");
    for want in [
        "text = \"ACME_V1\"",
        "values = 4",
        r#"{ obis = "1-1:0.2.129", type = "visible-string" },"#,
        r#"{ obis = "0-0:96.1.0", type = "octet-string" },"#,
        r#"{ obis = "0-0:128.0.2", type = "long-unsigned", scaler = 0, unit = "none" },"#,
        "# 2: 2347 -- TODO: code, scaler, unit",
        "# 3: 1234567",
    ] {
        assert!(d.text.contains(want), "missing {want:?} in\n{}", d.text);
    }
    let loaded = MeterProfiles::parse(&d.text).unwrap_or_else(|e| panic!("{e}\n{}", d.text));
    assert!(draft(apdu, &loaded).is_none(), "once loaded, the list is known");
    let r = decode_message(&frame, &Config { profiles: loaded, ..Config::default() }).unwrap();
    assert_eq!(r.obis.get(Obis::new(0, 0, 128, 0, 3, 255)).map(|o| o.unit.is_none()), Some(true));
    // The same layout gives the same key; a known list no draft.
    let with = |wide: bool| {
        let mut a = Axdr::new();
        a.structure(4).visible("ACME_V1").octets(b"87654321");
        if wide { a.u32(2401) } else { a.u16(2401) }.u32(5);
        draft(&data_notification(9, None, &a.0), &MeterProfiles::default()).map(|x| x.layout)
    };
    assert_eq!(with(false), Some(d.layout), "other values, the same layout");
    assert_ne!(with(true), Some(d.layout), "another type, another layout");
    let cfg = MeterProfiles::parse(ACME).unwrap();
    assert!(draft(apdu, &cfg).is_none());
    assert!(draft(&[0xDB, 0x08], &MeterProfiles::default()).is_none());
}

#[test]
fn coded_values_without_scalers_get_scale_rules_in_the_draft() {
    // Flat OBIS, value pairs of an unknown meter: codes, but no scalers.
    let mut a = Axdr::new();
    a.structure(4).obis(Obis::new(1, 0, 1, 8, 0, 255)).u32(12_048_950).obis(Obis::new(1, 0, 13, 7, 0, 255)).u16(941);
    let apdu = data_notification(1, None, &a.0);
    let d = draft(&apdu, &MeterProfiles::default()).unwrap();
    assert!(d.text.contains("obis = \"1-0:1.8.0\"\nscaler = 0") && d.text.contains("unit = \"Wh\""), "{}", d.text);
    assert!(d.text.contains("obis = \"1-0:13.7.0\"") && d.text.contains("unit = \"none\""), "{}", d.text);
    assert!(d.text.contains("Nothing in the list names it"), "{}", d.text);
    MeterProfiles::parse(&d.text).unwrap_or_else(|e| panic!("{e}\n{}", d.text));
}

#[test]
fn manufacturer_names_are_interned() {
    assert!(std::ptr::eq(intern("Kaifa"), intern("Kaifa")));
    let a = intern("Acme Metering Test");
    assert!(std::ptr::eq(a, intern("Acme Metering Test")));
}

/// Every built-in positional layout, through the profile mechanism: a
/// list made to its positions and types (named as its profile's match
/// says) decodes to the layout's codes, with the profile's manufacturer.
#[test]
fn every_builtin_layout_decodes_through_its_profile() {
    use crate::dlms::lists::standard_code;
    let clock = crate::encode::cosem_datetime(
        chrono::NaiveDate::from_ymd_opt(2025, 1, 15).unwrap().and_hms_opt(12, 0, 0).unwrap(),
        None,
        false,
    );
    let mut layouts = 0;
    for p in builtin().iter().filter(|p| !p.layouts.is_empty()) {
        let name = p.matches.iter().flat_map(|m| m.text.first()).next().cloned().unwrap_or_default();
        for l in &p.layouts {
            let mut a = Axdr::new();
            a.structure(l.positions.len());
            for (k, pos) in l.positions.iter().enumerate() {
                match (pos.kind, standard_code(pos.obis).0) {
                    (Some(0x12), _) => drop(a.u16(2300 + k as u16)),
                    (Some(0x09), _) | (None, [0, 0, 96, 1, 0, 255]) => drop(a.octets(b"1234567890123456")),
                    (None, [1, 1, 0, 2, 129, 255]) => drop(a.octets(format!("{name}_001").as_bytes())),
                    (None, [0, 0, 42, 0, 0, 255]) => drop(a.octets(format!("{name}1030000000001").as_bytes())),
                    (None, [0, 0, 96, 1, 7, 255]) => drop(a.octets(b"MA304H3E")),
                    (None, [0, 0, 1, 0, 0, 255]) => drop(a.octets(&clock)),
                    _ => drop(a.u32(100 + k as u32)),
                }
            }
            let r = decode_message(&hdlc_push(&data_notification(1, None, &a.0)), &Config::default())
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(r.manufacturer, p.manufacturer, "{}", p.name);
            let got: Vec<Obis> = r.obis.iter().map(|o| o.code).collect();
            let want: Vec<Obis> = l.positions.iter().map(|pos| standard_code(pos.obis)).collect();
            assert_eq!(got, want, "{}: {} positions", p.name, want.len());
            layouts += 1;
        }
    }
    // Kaifa's four, Iskraemeco's, the NEK list 1.
    assert_eq!(layouts, 6);
}
