//! Home Assistant MQTT discovery: what each quantity of the stream is to
//! Home Assistant (device class, unit, state class) and the retained config
//! message that makes it a sensor of the meter's device.
//!
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
        q if q.ends_with("_kvarh") => sensor("kvarh", "reactive_energy", TOTAL),
        q if q.ends_with("_var") => sensor("var", "reactive_power", NOW),
        q if q.ends_with("_w") => sensor("W", "power", NOW),
        q if q.ends_with("_v") => sensor("V", "voltage", NOW),
        q if q.ends_with("_a") => sensor("A", "current", NOW),
        q if q.ends_with("_hz") => sensor("Hz", "frequency", NOW),
        _ => return None,
    })
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

/// The topics of one han-push and its meters.
#[derive(Debug, Clone)]
pub struct Topics {
    /// `han`: states at `han/METER/state`.
    pub prefix: String,
    /// `homeassistant`.
    pub discovery_prefix: String,
    /// This han-push's availability (`online`/`offline`, the will).
    pub availability: String,
}

impl Topics {
    /// `prefix`, `discovery_prefix`, and the availability topic
    /// `PREFIX/CLIENT_ID/availability`: one per han-push, since the will is
    /// set when connecting, before any reading names its meter.
    pub fn new(prefix: &str, discovery_prefix: &str, client_id: &str) -> Topics {
        let prefix = prefix.trim_end_matches('/').to_owned();
        let availability = format!("{prefix}/{}/availability", slug(client_id));
        Topics { prefix, discovery_prefix: discovery_prefix.trim_end_matches('/').to_owned(), availability }
    }

    /// The JSON state topic of a meter.
    pub fn state(&self, meter_id: &str) -> String {
        format!("{}/{}/state", self.prefix, slug(meter_id))
    }

    /// The discovery config topic of a meter's quantity.
    pub fn config(&self, meter_id: &str, quantity: &str) -> String {
        format!("{}/sensor/han_{}/{quantity}/config", self.discovery_prefix, slug(meter_id))
    }

    /// The discovery config of a meter's quantity (`None` for a quantity
    /// that is no sensor).
    pub fn config_payload(&self, meter_id: &str, quantity: &str, device: &Device) -> Option<Value> {
        let s = sensor_of(quantity)?;
        let id = slug(meter_id);
        let unique = format!("han_{id}_{quantity}");
        let mut c = json!({
            "name": display_name(quantity),
            "unique_id": unique,
            // HA 2025.10 and later; older ones drop keys they do not know.
            "default_entity_id": format!("sensor.{unique}"),
            "state_topic": self.state(meter_id),
            "value_template": format!("{{{{ value_json.{quantity} }}}}"),
            "availability_topic": self.availability,
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": device_block(&id, meter_id, device),
            "origin": {"name": "han-push", "sw_version": env!("CARGO_PKG_VERSION")},
        });
        if let Some(o) = c.as_object_mut() {
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
}

fn device_block(id: &str, meter_id: &str, device: &Device) -> Value {
    let named: Vec<&str> = [device.manufacturer.as_deref(), device.model()].into_iter().flatten().collect();
    let name = if named.is_empty() { format!("Meter {meter_id}") } else { format!("{} {meter_id}", named.join(" ")) };
    let mut d = json!({"identifiers": [format!("han_{id}")], "name": name, "serial_number": meter_id});
    if let Some(o) = d.as_object_mut() {
        if let Some(m) = &device.manufacturer {
            o.insert("manufacturer".to_owned(), Value::from(m.as_str()));
        }
        if let Some(m) = device.model() {
            o.insert("model".to_owned(), Value::from(m));
        }
    }
    d
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
            Some(sensor("kvarh", "reactive_energy", "total_increasing"))
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
    fn names_and_slugs() {
        assert_eq!(display_name("power_import_l1_w"), "Power import L1");
        assert_eq!(display_name("energy_export_t2_kwh"), "Energy export T2");
        assert_eq!(display_name("reactive_energy_import_kvarh"), "Reactive energy import");
        assert_eq!(display_name("gas_m3"), "Gas");
        assert_eq!(display_name("frequency_hz"), "Frequency");
        assert_eq!(display_name("tariff"), "Tariff");
        assert_eq!(display_name("demand_month_peak_w"), "Demand month peak");
        assert_eq!(slug("K8EG/00+4#é"), "K8EG_00_4__");
        assert_eq!(slug(""), "_");
    }

    #[test]
    fn a_config() {
        let t = Topics::new("han/", "homeassistant", "han-push-pi");
        assert_eq!(t.availability, "han/han-push-pi/availability");
        assert_eq!(
            t.config("7359992890497997", "energy_import_kwh"),
            "homeassistant/sensor/han_7359992890497997/energy_import_kwh/config"
        );
        let d = Device { manufacturer: Some("Iskra".into()), model: Some("\\2MT382-1000".into()) };
        let c = t.config_payload("K8EG004046395507", "energy_import_kwh", &d).unwrap();
        assert_eq!(
            c,
            json!({
                "name": "Energy import",
                "unique_id": "han_K8EG004046395507_energy_import_kwh",
                "default_entity_id": "sensor.han_K8EG004046395507_energy_import_kwh",
                "state_topic": "han/K8EG004046395507/state",
                "value_template": "{{ value_json.energy_import_kwh }}",
                "unit_of_measurement": "kWh",
                "device_class": "energy",
                "state_class": "total_increasing",
                "availability_topic": "han/han-push-pi/availability",
                "payload_available": "online",
                "payload_not_available": "offline",
                "device": {
                    "identifiers": ["han_K8EG004046395507"],
                    "name": "Iskra MT382-1000 K8EG004046395507",
                    "manufacturer": "Iskra",
                    "model": "MT382-1000",
                    "serial_number": "K8EG004046395507"
                },
                "origin": {"name": "han-push", "sw_version": env!("CARGO_PKG_VERSION")}
            })
        );
        let tariff = t.config_payload("1", "tariff", &Device::default()).unwrap();
        assert!(tariff.get("device_class").is_none() && tariff.get("unit_of_measurement").is_none());
        assert_eq!(tariff["device"]["name"], "Meter 1");
        assert!(t.config_payload("1", "gas_time", &Device::default()).is_none());
    }
}
