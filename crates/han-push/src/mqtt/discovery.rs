//! Home Assistant MQTT discovery: what each quantity of the stream is to
//! Home Assistant (device class, unit, state class), the devices (the
//! meter, and its gas, water or heat meter as a device of its own behind
//! it), and the retained config message that makes a quantity a sensor.
//!
//! Every config is one that every Home Assistant from 2024.1 on accepts in
//! full: a key an older release refuses (the device's `serial_number`, new
//! in 2024.2) is sent only when `--ha-version` says the target has it, and
//! no device class a release may not know (`reactive_energy`, 2025.x).
//! Energy registers are `device_class: energy`, `state_class:
//! total_increasing`, unit kWh: what the energy dashboard accepts.

use serde_json::{Value, json};

/// What Home Assistant needs to know about a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sensor {
    pub unit: Option<&'static str>,
    pub device_class: Option<&'static str>,
    pub state_class: Option<&'static str>,
}

const fn sensor(unit: &'static str, device_class: &'static str, state_class: &'static str) -> Sensor {
    Sensor { unit: Some(unit), device_class: Some(device_class), state_class: Some(state_class) }
}

/// The sensor of a number quantity of the contract (docs/stream.md), from
/// its name's unit suffix; `None` for a name it does not know.
pub fn sensor_of(quantity: &str) -> Option<Sensor> {
    const TOTAL: &str = "total_increasing";
    const NOW: &str = "measurement";
    Some(match quantity {
        "gas_m3" => sensor("m³", "gas", TOTAL),
        "water_m3" => sensor("m³", "water", TOTAL),
        "heat_gj" => sensor("GJ", "energy", TOTAL),
        // Unitless 0..1: Home Assistant takes no unit (or %) for it.
        "power_factor" => Sensor { unit: None, device_class: Some("power_factor"), state_class: Some(NOW) },
        // The tariff in force is a number naming a register, not a measure.
        "tariff" => Sensor { unit: None, device_class: None, state_class: None },
        q if q.ends_with("_kwh") => sensor("kWh", "energy", TOTAL),
        // No device class: `reactive_energy` is known only to recent
        // releases, which refuse the whole config when they do not know it.
        q if q.ends_with("_kvarh") => Sensor { unit: Some("kvarh"), device_class: None, state_class: Some(TOTAL) },
        q if q.ends_with("_var") => sensor("var", "reactive_power", NOW),
        q if q.ends_with("_w") => sensor("W", "power", NOW),
        q if q.ends_with("_v") => sensor("V", "voltage", NOW),
        q if q.ends_with("_a") => sensor("A", "current", NOW),
        q if q.ends_with("_hz") => sensor("Hz", "frequency", NOW),
        _ => return None,
    })
}

/// The sub-meter a quantity is read from (the gas meter behind a DSMR
/// meter ...): its kind, a device of its own in Home Assistant.
pub fn submeter_of(quantity: &str) -> Option<&'static str> {
    match quantity {
        "gas_m3" => Some("gas"),
        "water_m3" => Some("water"),
        "heat_gj" => Some("heat"),
        _ => None,
    }
}

/// The name a quantity shows under: `power_import_l1_w` is "Power import L1".
pub fn display_name(quantity: &str) -> String {
    const UNITS: [&str; 8] = ["_kwh", "_kvarh", "_var", "_w", "_v", "_a", "_hz", "_gj"];
    let mut base = UNITS.iter().find_map(|u| quantity.strip_suffix(u)).unwrap_or(quantity);
    if let Some(b) = base.strip_suffix("_m3") {
        base = b;
    }
    let mut out = String::new();
    for (i, word) in base.split('_').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        // Phase and tariff numbers upper-cased: L1, T2.
        let phase =
            word.len() == 2 && word.starts_with(['l', 't']) && word.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
        if phase {
            out.push_str(&word.to_ascii_uppercase());
        } else if i == 0 {
            let mut c = word.chars();
            out.extend(c.next().map(|f| f.to_ascii_uppercase()));
            out.push_str(c.as_str());
        } else {
            out.push_str(word);
        }
    }
    out
}

/// A text fit for a topic level and an id: ASCII letters, digits, `-` and
/// `_`, anything else `_` (a meter id is as the meter sent it).
pub fn slug(s: &str) -> String {
    let out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if out.is_empty() { "_".to_owned() } else { out }
}

/// The Home Assistant release the configs are for (`--ha-version`): what
/// it knows beyond 2024.1, the oldest supported and the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HaVersion {
    pub year: u16,
    pub month: u8,
}

impl HaVersion {
    /// 2024.1: the last release on Python 3.11 (Debian 12's).
    pub const OLDEST: HaVersion = HaVersion { year: 2024, month: 1 };

    /// `2024.1`, `2025.4.4`, `2025.10` (a patch release is ignored).
    pub fn parse(s: &str) -> Result<HaVersion, String> {
        let bad = || format!("Home Assistant version {s:?}: YEAR.MONTH, like 2025.4");
        let mut parts = s.trim().split('.');
        let year: u16 = parts.next().and_then(|y| y.parse().ok()).ok_or_else(bad)?;
        let month: u8 = parts.next().and_then(|m| m.parse().ok()).filter(|m| (1..=12).contains(m)).ok_or_else(bad)?;
        let v = HaVersion { year, month };
        if v < HaVersion::OLDEST {
            return Err(format!("Home Assistant {s}: han-push's discovery needs 2024.1 or later"));
        }
        Ok(v)
    }

    /// The device's `serial_number` (2024.2; 2024.1 refuses the config).
    fn serial_number(self) -> bool {
        self >= HaVersion { year: 2024, month: 2 }
    }

    /// `object_id` sets the entity id before 2025.10, which reads
    /// `default_entity_id` instead and deprecates `object_id`.
    fn object_id(self) -> bool {
        self < HaVersion { year: 2025, month: 10 }
    }
}

impl std::fmt::Display for HaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.year, self.month)
    }
}

/// What the meter says about itself, for the device block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub manufacturer: Option<String>,
    pub model: Option<String>,
}

impl Device {
    /// The model without the baud-rate escape a P1 header carries
    /// (`\2MT382-1000` is `MT382-1000`; docs/stream.md's known quirks).
    fn model(&self) -> Option<&str> {
        let m = self.model.as_deref()?;
        let mut b = m.chars();
        Some(match (b.next(), b.next()) {
            (Some('\\'), Some(d)) if d.is_ascii_digit() => b.as_str(),
            _ => m,
        })
    }
}

/// The topics of one han-push and its meters, and how configs are made.
#[derive(Debug, Clone)]
pub struct Topics {
    /// `han`: states at `han/METER/state`.
    pub prefix: String,
    /// `homeassistant`.
    pub discovery_prefix: String,
    /// The Home Assistant the configs are for.
    pub ha: HaVersion,
    /// Seconds without a state after which a sensor is unavailable (`expire_after`); 0: never.
    pub expire_after: u64,
}

impl Topics {
    pub fn new(prefix: &str, discovery_prefix: &str, ha: HaVersion, expire_after: u64) -> Topics {
        Topics {
            prefix: prefix.trim_end_matches('/').to_owned(),
            discovery_prefix: discovery_prefix.trim_end_matches('/').to_owned(),
            ha,
            expire_after,
        }
    }

    /// The JSON state topic of a meter.
    pub fn state(&self, meter_id: &str) -> String {
        format!("{}/{}/state", self.prefix, slug(meter_id))
    }

    /// A meter's availability (`online`/`offline`, retained): the last will
    /// of the connection that feeds it, when it is that connection's meter.
    pub fn availability(&self, meter_id: &str) -> String {
        format!("{}/{}/availability", self.prefix, slug(meter_id))
    }

    /// The discovery config topic of a meter's quantity.
    pub fn config(&self, meter_id: &str, quantity: &str) -> String {
        format!("{}/sensor/han_{}/{quantity}/config", self.discovery_prefix, slug(meter_id))
    }

    /// The discovery config of a meter's quantity (`None` for a quantity
    /// that is no sensor). `will` is the meter whose availability topic is
    /// the connection's last will: another meter's sensors need it too.
    pub fn config_payload(&self, meter_id: &str, quantity: &str, device: &Device, will: &str) -> Option<Value> {
        let s = sensor_of(quantity)?;
        let id = slug(meter_id);
        let unique = format!("han_{id}_{quantity}");
        // What Home Assistant makes of the id for an entity id (lower case, `_`).
        let object_id = unique.to_ascii_lowercase().replace('-', "_");
        let mut availability = vec![json!({"topic": self.availability(meter_id)})];
        if slug(will) != id {
            availability.push(json!({"topic": self.availability(will)}));
        }
        // Home Assistant shows the device's name, then the sensor's: "Kaifa
        // MA304H3E Power import"; a sub-meter's one sensor has none: "Gas meter".
        let (device, name) = match submeter_of(quantity) {
            Some(kind) => (submeter_block(&id, kind), Value::Null),
            None => (self.device_block(&id, meter_id, device), Value::from(display_name(quantity))),
        };
        let mut c = json!({
            "name": name,
            "unique_id": unique,
            // The entity id: HA 2025.10 and later read this (older ones drop the key) ...
            "default_entity_id": format!("sensor.{object_id}"),
            "state_topic": self.state(meter_id),
            "value_template": value_template(quantity),
            "availability": availability,
            "availability_mode": "all",
            "device": device,
            "origin": {"name": "han-push", "sw_version": env!("CARGO_PKG_VERSION")},
        });
        if let Some(o) = c.as_object_mut() {
            if self.ha.object_id() {
                // ... and this the older ones.
                o.insert("object_id".to_owned(), Value::from(object_id.as_str()));
            }
            if self.expire_after > 0 {
                o.insert("expire_after".to_owned(), Value::from(self.expire_after));
            }
            for (k, v) in
                [("unit_of_measurement", s.unit), ("device_class", s.device_class), ("state_class", s.state_class)]
            {
                if let Some(v) = v {
                    o.insert(k.to_owned(), Value::from(v));
                }
            }
        }
        Some(c)
    }

    fn device_block(&self, id: &str, meter_id: &str, device: &Device) -> Value {
        let named: Vec<&str> = [device.manufacturer.as_deref(), device.model()].into_iter().flatten().collect();
        // Short: it is in front of every sensor's name. The id is in the
        // entity ids, and in serial_number where the target has it.
        let name = if named.is_empty() { format!("Meter {meter_id}") } else { named.join(" ") };
        let mut d = json!({"identifiers": [format!("han_{id}")], "name": name});
        if let Some(o) = d.as_object_mut() {
            if let Some(m) = &device.manufacturer {
                o.insert("manufacturer".to_owned(), Value::from(m.as_str()));
            }
            if let Some(m) = device.model() {
                o.insert("model".to_owned(), Value::from(m));
            }
            if self.ha.serial_number() {
                o.insert("serial_number".to_owned(), Value::from(meter_id));
            }
        }
        d
    }
}

/// The device of a sub-meter: its own, behind the meter (`via_device`).
fn submeter_block(id: &str, kind: &str) -> Value {
    let mut name = format!("{kind} meter");
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    json!({"identifiers": [format!("han_{id}_{kind}")], "name": name, "via_device": format!("han_{id}")})
}

/// The state's value for the quantity; when the state does not carry it
/// (after a restart of han-push, a Norwegian meter's energy registers come
/// only with the next hourly list) an empty text, which Home Assistant
/// ignores without a word, where `value_json.QUANTITY` would log a warning
/// for every state.
fn value_template(quantity: &str) -> String {
    format!("{{{{ value_json.{quantity} if '{quantity}' in value_json else '' }}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_quantity_is_a_sensor() {
        for q in han_common::line::QUANTITIES {
            if q.ends_with("_time") {
                continue; // times stay in the state, no sensors
            }
            let s = sensor_of(q).unwrap_or_else(|| panic!("{q}"));
            if q.contains("energy") || q.ends_with("_m3") || q == &"heat_gj" {
                assert_eq!(s.state_class, Some("total_increasing"), "{q}");
            }
        }
        assert_eq!(sensor_of("energy_import_kwh"), Some(sensor("kWh", "energy", "total_increasing")));
        assert_eq!(
            sensor_of("reactive_energy_export_kvarh"),
            Some(Sensor { unit: Some("kvarh"), device_class: None, state_class: Some("total_increasing") })
        );
        assert_eq!(sensor_of("reactive_power_import_l2_var"), Some(sensor("var", "reactive_power", "measurement")));
        assert_eq!(sensor_of("power_export_l3_w"), Some(sensor("W", "power", "measurement")));
        assert_eq!(sensor_of("voltage_l1_v"), Some(sensor("V", "voltage", "measurement")));
        assert_eq!(sensor_of("current_neutral_a"), Some(sensor("A", "current", "measurement")));
        assert_eq!(sensor_of("gas_m3"), Some(sensor("m³", "gas", "total_increasing")));
        assert_eq!(sensor_of("tariff").and_then(|s| s.device_class), None);
        assert_eq!(sensor_of("gas_time"), None);
    }

    #[test]
    fn names_slugs_and_versions() {
        assert_eq!(display_name("power_import_l1_w"), "Power import L1");
        assert_eq!(display_name("energy_export_t2_kwh"), "Energy export T2");
        assert_eq!(display_name("reactive_energy_import_kvarh"), "Reactive energy import");
        assert_eq!(display_name("gas_m3"), "Gas");
        assert_eq!(display_name("frequency_hz"), "Frequency");
        assert_eq!(display_name("tariff"), "Tariff");
        assert_eq!(display_name("demand_month_peak_w"), "Demand month peak");
        assert_eq!(slug("K8EG/00+4#é"), "K8EG_00_4__");
        assert_eq!(slug(""), "_");
        assert_eq!(HaVersion::parse("2025.4.4"), Ok(HaVersion { year: 2025, month: 4 }));
        assert_eq!(HaVersion::parse("2025.10"), Ok(HaVersion { year: 2025, month: 10 }));
        assert!(HaVersion::parse("2023.12").is_err_and(|e| e.contains("2024.1 or later")));
        for bad in ["2025", "2025.13", "x.1", ""] {
            assert!(HaVersion::parse(bad).is_err(), "{bad}");
        }
        assert!(HaVersion { year: 2025, month: 4 } < HaVersion { year: 2025, month: 10 });
    }

    #[test]
    fn a_config_every_release_accepts() {
        let t = Topics::new("han/", "homeassistant", HaVersion::OLDEST, 120);
        assert_eq!(
            t.config("7359992890497997", "energy_import_kwh"),
            "homeassistant/sensor/han_7359992890497997/energy_import_kwh/config"
        );
        let d = Device { manufacturer: Some("Iskra".into()), model: Some("\\2MT382-1000".into()) };
        let c = t.config_payload("K8EG004046395507", "energy_import_kwh", &d, "K8EG004046395507").unwrap();
        assert_eq!(
            c,
            json!({
                "name": "Energy import",
                "unique_id": "han_K8EG004046395507_energy_import_kwh",
                "object_id": "han_k8eg004046395507_energy_import_kwh",
                "default_entity_id": "sensor.han_k8eg004046395507_energy_import_kwh",
                "state_topic": "han/K8EG004046395507/state",
                "value_template": "{{ value_json.energy_import_kwh if 'energy_import_kwh' in value_json else '' }}",
                "unit_of_measurement": "kWh",
                "device_class": "energy",
                "state_class": "total_increasing",
                "expire_after": 120,
                "availability": [{"topic": "han/K8EG004046395507/availability"}],
                "availability_mode": "all",
                "device": {
                    "identifiers": ["han_K8EG004046395507"],
                    "name": "Iskra MT382-1000",
                    "manufacturer": "Iskra",
                    "model": "MT382-1000"
                },
                "origin": {"name": "han-push", "sw_version": env!("CARGO_PKG_VERSION")}
            })
        );
        // The gas meter: a device of its own behind the meter; another
        // meter of the connection also needs the will's topic.
        let gas = t.config_payload("K8EG004046395507", "gas_m3", &d, "6970631403275928").unwrap();
        assert_eq!(
            gas["device"],
            json!({"identifiers": ["han_K8EG004046395507_gas"], "name": "Gas meter", "via_device": "han_K8EG004046395507"})
        );
        assert_eq!(gas["name"], Value::Null, "the device's name alone");
        assert_eq!(
            gas["availability"],
            json!([{"topic": "han/K8EG004046395507/availability"}, {"topic": "han/6970631403275928/availability"}])
        );
        let tariff = t.config_payload("1", "tariff", &Device::default(), "1").unwrap();
        assert!(tariff.get("device_class").is_none() && tariff.get("unit_of_measurement").is_none());
        assert_eq!(tariff["device"]["name"], "Meter 1");
        assert!(t.config_payload("1", "gas_time", &Device::default(), "1").is_none());
        let kvarh = t.config_payload("1", "reactive_energy_import_kvarh", &Device::default(), "1").unwrap();
        assert!(kvarh.get("device_class").is_none(), "{kvarh}");
    }

    #[test]
    fn what_a_newer_release_gets() {
        let d = Device { manufacturer: Some("Kaifa".into()), model: Some("MA304H3E".into()) };
        let feb = Topics::new("han", "homeassistant", HaVersion { year: 2024, month: 2 }, 0);
        let c = feb.config_payload("6970631403275928", "power_import_w", &d, "6970631403275928").unwrap();
        assert_eq!(c["device"]["serial_number"], "6970631403275928");
        assert!(c.get("object_id").is_some() && c.get("expire_after").is_none(), "{c}");
        let oct = Topics::new("han", "homeassistant", HaVersion { year: 2025, month: 10 }, 0);
        let c = oct.config_payload("6970631403275928", "power_import_w", &d, "6970631403275928").unwrap();
        assert!(c.get("object_id").is_none(), "{c}");
        assert_eq!(c["default_entity_id"], "sensor.han_6970631403275928_power_import_w");
    }
}
