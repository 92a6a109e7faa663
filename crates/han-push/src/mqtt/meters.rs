//! From readings to messages: each meter's state (the newest value of
//! every quantity it has sent, so that a list 1 line, power only, does not
//! blank the voltages of the list 2 line before it) and the discovery
//! configs of the quantities a meter sends for the first time.

use std::collections::BTreeMap;

use han_common::line::{Line, QUANTITIES};
use serde_json::Value;

use super::discovery::{Device, Topics};
use crate::input::Reading;

/// A message to publish (all at QoS 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

#[derive(Debug, Default)]
struct Meter {
    /// By the index of [`QUANTITIES`]: the newest number, or time text.
    values: Vec<Option<Value>>,
    /// Quantities whose discovery config was made.
    announced: Vec<bool>,
    device: Device,
}

/// The meters seen so far.
#[derive(Debug)]
pub struct Meters {
    topics: Topics,
    meters: BTreeMap<String, Meter>,
    /// The meter the last line that named one named: a list 1 line names none.
    last: Option<String>,
    /// The meter whose availability topic is the connection's last will:
    /// the first one named (the connection waits for it).
    will: Option<String>,
    /// Readings that could not be put to a meter.
    pub unnamed: u64,
}

impl Meters {
    /// No meters yet.
    pub fn new(topics: Topics) -> Meters {
        Meters { topics, meters: BTreeMap::new(), last: None, will: None, unnamed: 0 }
    }

    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The meter of the last will, once one is named.
    pub fn will(&self) -> Option<&str> {
        self.will.as_deref()
    }

    /// Takes the meter a reading names as the will's, if none is yet;
    /// whether it did.
    pub fn choose_will(&mut self, r: &Reading) -> bool {
        match (&self.will, &r.meter_id) {
            (None, Some(id)) => {
                self.will = Some(id.clone());
                true
            }
            _ => false,
        }
    }

    /// The messages of a reading, in order: discovery configs of the
    /// quantities its meter sends for the first time (all of the meter's
    /// again when what it says of itself changed), then its state. None
    /// when no meter is known yet (a list 1 line names none: its meter is
    /// the one the last line that named one named).
    pub fn reading(&mut self, r: &Reading) -> Vec<Message> {
        let Some(id) = r.meter_id.clone().or_else(|| self.last.clone()) else {
            self.unnamed += 1;
            return Vec::new();
        };
        if r.meter_id.is_some() {
            self.last = Some(id.clone());
        }
        let mut out = Vec::new();
        // The will's meter is said online on connecting (announced), another when first seen.
        if !self.meters.contains_key(&id) && self.will.as_ref() != Some(&id) {
            out.push(self.status(&id, true));
        }
        let m = self.meters.entry(id.clone()).or_default();
        m.values.resize(QUANTITIES.len(), None);
        m.announced.resize(QUANTITIES.len(), false);
        let mut device = m.device.clone();
        if r.manufacturer.is_some() {
            device.manufacturer.clone_from(&r.manufacturer);
        }
        if r.model.is_some() {
            device.model.clone_from(&r.model);
        }
        if device != m.device {
            m.device = device;
            m.announced.iter_mut().for_each(|a| *a = false);
        }
        for (name, v) in &r.quantities {
            let value = if *name == "tariff" && v.fract() == 0.0 && v.abs() < 1e15 {
                Value::from(*v as i64)
            } else {
                Value::from(*v)
            };
            set(m, name, value);
        }
        for (name, t) in &r.times {
            set(m, name, Value::from(t.as_str()));
        }
        let will = self.will.as_deref().unwrap_or(&id);
        for (i, q) in QUANTITIES.iter().enumerate() {
            let seen = m.values.get(i).is_some_and(Option::is_some);
            if seen && m.announced.get(i) == Some(&false) {
                if let Some(c) = self.topics.config_payload(&id, q, &m.device, will) {
                    out.push(config_message(&self.topics, &id, q, &c));
                }
                if let Some(a) = m.announced.get_mut(i) {
                    *a = true;
                }
            }
        }
        out.push(Message { topic: self.topics.state(&id), payload: state(m, &r.line), retain: false });
        out
    }

    /// `online` for every meter seen, the will's first, then every
    /// discovery config made so far (again after a reconnect: the broker
    /// may have lost its retained messages).
    pub fn announced(&self) -> Vec<Message> {
        let mut out = Vec::new();
        if let Some(w) = &self.will {
            out.push(self.status(w, true));
        }
        for id in self.meters.keys().filter(|id| Some(*id) != self.will.as_ref()) {
            out.push(self.status(id, true));
        }
        for (id, m) in &self.meters {
            let will = self.will.as_deref().unwrap_or(id);
            for (q, _) in QUANTITIES.iter().zip(&m.announced).filter(|(_, a)| **a) {
                if let Some(c) = self.topics.config_payload(id, q, &m.device, will) {
                    out.push(config_message(&self.topics, id, q, &c));
                }
            }
        }
        out
    }

    /// `offline` for every meter seen (and the will's, seen or not), at the end.
    pub fn offline(&self) -> Vec<Message> {
        let mut ids: Vec<&String> = self.meters.keys().collect();
        if let Some(w) = self.will.as_ref().filter(|w| !self.meters.contains_key(*w)) {
            ids.push(w);
        }
        ids.into_iter().map(|id| self.status(id, false)).collect()
    }

    /// A meter's availability, retained.
    fn status(&self, id: &str, online: bool) -> Message {
        let payload = if online { b"online".to_vec() } else { b"offline".to_vec() };
        Message { topic: self.topics.availability(id), payload, retain: true }
    }
}

fn set(m: &mut Meter, name: &str, value: Value) {
    if let Some(slot) = han_common::line::index(name).and_then(|i| m.values.get_mut(i)) {
        *slot = Some(value);
    }
}

fn config_message(t: &Topics, id: &str, q: &str, c: &Value) -> Message {
    Message { topic: t.config(id, q), payload: c.to_string().into_bytes(), retain: true }
}

/// The state JSON: the line's `received` and `meter_time`, then every
/// quantity the meter has sent, its newest value, under the contract's
/// names and in its order.
fn state(m: &Meter, line: &[u8]) -> Vec<u8> {
    let mut fields: Vec<(&str, Value)> = Vec::new();
    if let Ok(l) = Line::scan(line, false) {
        for (k, v) in [("received", l.received), ("meter_time", l.meter_time)] {
            if let Some(v) = v {
                fields.push((k, Value::from(v.as_ref())));
            }
        }
    }
    for (q, v) in QUANTITIES.iter().zip(&m.values) {
        if let Some(v) = v {
            fields.push((q, v.clone()));
        }
    }
    let mut out = b"{".to_vec();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend(format!("{}:{v}", Value::from(*k)).into_bytes());
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use han_common::tz::Tz;

    fn reading(line: &str) -> Reading {
        let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().to_utc();
        Reading::of(line.as_bytes(), Tz::UTC, now).unwrap()
    }

    fn json(m: &Message) -> Value {
        serde_json::from_slice(&m.payload).unwrap()
    }

    const LIST2: &str = r#"{"v":1,"received":"2025-12-14T15:00:02.314Z","meter_time":"2025-12-14T16:00:00","protocol":"han","framing":"hdlc","manufacturer":"Kaifa","meter_id":"6970631401234567","meter_model":"MA304H3E","list":"KFM_001","power_import_w":4117.0,"voltage_l1_v":230.1,"obis":{}}"#;
    const LIST1: &str = r#"{"v":1,"meter_time":"2025-12-14T16:00:02","protocol":"han","framing":"hdlc","power_import_w":500.0,"obis":{}}"#;
    const LIST3: &str = r#"{"v":1,"meter_time":"2025-12-14T16:00:10","protocol":"han","framing":"hdlc","manufacturer":"Kaifa","meter_id":"6970631401234567","meter_model":"MA304H3E","power_import_w":510.0,"energy_import_kwh":1234.5,"tariff":2,"gas_time":"2025-12-14T16:00:00","obis":{}}"#;

    fn topics() -> Topics {
        Topics::new("han", "homeassistant", super::super::discovery::HaVersion::OLDEST, 0)
    }

    #[test]
    fn discovery_once_then_states_merged() {
        let mut m = Meters::new(topics());
        assert!(!m.choose_will(&reading(LIST1)), "a list 1 line names no meter");
        assert!(m.reading(&reading(LIST1)).is_empty(), "no meter named yet");
        assert_eq!(m.unnamed, 1);
        assert!(m.choose_will(&reading(LIST2)));
        assert!(!m.choose_will(&reading(LIST3)), "the first meter named stays the will's");
        assert_eq!(m.will(), Some("6970631401234567"));
        assert_eq!(m.announced()[0].topic, "han/6970631401234567/availability", "the will's online on connecting");
        let out = m.reading(&reading(LIST2));
        let topics: Vec<_> = out.iter().map(|o| o.topic.as_str()).collect();
        assert_eq!(
            topics,
            [
                "homeassistant/sensor/han_6970631401234567/power_import_w/config",
                "homeassistant/sensor/han_6970631401234567/voltage_l1_v/config",
                "han/6970631401234567/state"
            ]
        );
        assert!(out[0].retain && !out[2].retain);
        assert_eq!(json(&out[0])["device"]["model"], "MA304H3E");
        assert_eq!(
            String::from_utf8(out[2].payload.clone()).unwrap(),
            r#"{"received":"2025-12-14T15:00:02.314Z","meter_time":"2025-12-14T16:00:00","power_import_w":4117.0,"voltage_l1_v":230.1}"#,
            "the contract's order"
        );
        // List 1: the last named meter; power updated, the voltage kept.
        let out = m.reading(&reading(LIST1));
        assert_eq!(out.len(), 1);
        assert_eq!(
            json(&out[0]),
            serde_json::json!({"meter_time":"2025-12-14T16:00:02","power_import_w":500.0,"voltage_l1_v":230.1})
        );
        let out = m.reading(&reading(LIST3));
        let topics: Vec<_> = out.iter().map(|o| o.topic.rsplit('/').nth(1).unwrap()).collect();
        assert_eq!(
            topics,
            ["energy_import_kwh", "tariff", "6970631401234567"],
            "only the new ones; no sensor for a time"
        );
        let s = json(&out[2]);
        assert_eq!((s["tariff"].as_i64(), s["gas_time"].as_str()), (Some(2), Some("2025-12-14T16:00:00")));
        let again = m.announced();
        assert_eq!(again.len(), 5, "online and the 4 configs");
        assert_eq!(again[0].topic, "han/6970631401234567/availability");
        let off = m.offline();
        assert_eq!(off.len(), 1);
        assert_eq!(
            (off[0].topic.as_str(), off[0].payload.as_slice()),
            ("han/6970631401234567/availability", &b"offline"[..])
        );
    }

    #[test]
    fn a_second_meter_on_the_connection() {
        let mut m = Meters::new(topics());
        let other = LIST2.replace("6970631401234567", "K8EG004046395507");
        assert!(m.choose_will(&reading(LIST2)));
        m.reading(&reading(LIST2));
        let out = m.reading(&reading(&other));
        assert_eq!(out[0].topic, "han/K8EG004046395507/availability");
        assert_eq!((out[0].payload.as_slice(), out[0].retain), (&b"online"[..], true));
        let c = json(&out[1]);
        assert_eq!(
            c["availability"],
            serde_json::json!([{"topic": "han/K8EG004046395507/availability"}, {"topic": "han/6970631401234567/availability"}]),
            "the connection's will too"
        );
        let again: Vec<_> = m.announced().into_iter().map(|o| o.topic).take(2).collect();
        assert_eq!(
            again,
            ["han/6970631401234567/availability", "han/K8EG004046395507/availability"],
            "the will's first"
        );
        assert_eq!(m.offline().len(), 2);
    }

    #[test]
    fn a_new_device_name_announces_again() {
        let mut m = Meters::new(topics());
        let plain = LIST2.replace(r#""manufacturer":"Kaifa","#, "").replace(r#","meter_model":"MA304H3E""#, "");
        assert_eq!(m.reading(&reading(&plain)).len(), 4);
        let out = m.reading(&reading(LIST2));
        assert_eq!(out.len(), 3, "the configs again, with the manufacturer");
        assert_eq!(json(&out[0])["device"]["manufacturer"], "Kaifa");
        assert_eq!(m.reading(&reading(LIST2)).len(), 1);
        assert_eq!(m.reading(&reading(&plain)).len(), 1, "a line that does not say keeps what was said");
    }
}
