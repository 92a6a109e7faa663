//! The reading: what one frame or telegram says, in the stream contract's
//! shape (docs/stream.md).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

pub(crate) mod json;
pub(crate) mod normalise;
pub mod obis;
pub mod plausible;
pub mod time;
pub(crate) mod value;
pub(crate) mod written;

use obis::Obis;
use time::MeterTime;
use value::{Text, Unit, Value};

/// The version of the stream contract this crate writes (`"v"`).
pub const STREAM_VERSION: u32 = 1;

impl Protocol {
    /// The name in the stream.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Han => "han",
            Protocol::P1 => "p1",
        }
    }
}

impl Framing {
    /// The name in the stream.
    pub fn name(self) -> &'static str {
        match self {
            Framing::Hdlc => "hdlc",
            Framing::Mbus => "mbus",
            Framing::Llc => "llc",
            Framing::Apdu => "apdu",
            Framing::Dsmr => "dsmr",
            Framing::DsmrEncrypted => "dsmr-encrypted",
        }
    }
}

/// Which of the two meter worlds a reading came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// DLMS/COSEM push (HAN port).
    Han,
    /// DSMR ASCII telegram (P1 port).
    P1,
}

/// How the reading was carried.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// HDLC frame(s), incl. segmentation and General Block Transfer.
    Hdlc,
    /// Wired M-Bus long frame(s).
    Mbus,
    /// A bare LLC PDU (`E6 E7 00 ...`).
    Llc,
    /// A bare DLMS APDU.
    Apdu,
    /// A DSMR ASCII telegram.
    Dsmr,
    /// A DSMR telegram inside a DLMS general-glo-ciphering frame (Smarty).
    DsmrEncrypted,
}

/// One entry of a list-valued object: a power failure (end time and
/// duration) or a past monthly peak (period start, peak time and value).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// The entry's time stamp (failure end; start of the month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<MeterTime>,
    /// When the peak happened (demand history only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_time: Option<MeterTime>,
    /// The entry's value (duration, peak demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
}

/// One COSEM object of a frame, keyed by its OBIS code in the output.
#[derive(Debug, PartialEq)]
pub struct Object {
    /// The OBIS code (standard form: Kamstrup's `1-1:` codes are mapped).
    pub code: Obis,
    /// The value, scaled.
    pub value: Value,
    /// The unit as the meter gives it; none for text.
    pub unit: Option<Unit>,
    /// When the value was captured, if the meter says (M-Bus sub-meter
    /// readings, peak demand).
    pub time: Option<MeterTime>,
    /// The text a hex-encoded DSMR octet string decodes to, when printable.
    pub text: Option<Text>,
    /// List entries (power failure log, monthly peak history).
    pub entries: Vec<Entry>,
}

impl Clone for Object {
    fn clone(&self) -> Self {
        Object {
            code: self.code,
            value: self.value.clone(),
            unit: self.unit.clone(),
            time: self.time,
            text: self.text.clone(),
            entries: self.entries.clone(),
        }
    }

    // Field by field, so that a reading copied over a recycled one keeps
    // what is already equal and frees nothing.
    #[inline]
    fn clone_from(&mut self, other: &Self) {
        self.code = other.code;
        self.value.clone_from(&other.value);
        match (&mut self.unit, &other.unit) {
            (Some(Unit(Cow::Borrowed(a))), Some(Unit(Cow::Borrowed(b)))) => *a = *b,
            (a, b) => a.clone_from(b),
        }
        self.time = other.time;
        if self.text.is_some() || other.text.is_some() {
            self.text.clone_from(&other.text);
        }
        if !(self.entries.is_empty() && other.entries.is_empty()) {
            self.entries.clone_from(&other.entries);
        }
    }
}

impl Object {
    /// An object with a value and an optional unit.
    pub fn new(code: Obis, value: Value, unit: Option<Unit>) -> Self {
        Object { code, value, unit, time: None, text: None, entries: Vec::new() }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("value", &self.value)?;
        if let Some(u) = &self.unit {
            m.serialize_entry("unit", u)?;
        }
        if let Some(t) = &self.time {
            m.serialize_entry("time", t)?;
        }
        if let Some(t) = &self.text {
            m.serialize_entry("text", t)?;
        }
        if !self.entries.is_empty() {
            m.serialize_entry("entries", &self.entries)?;
        }
        m.end()
    }
}

/// The objects of a reading, in the order the meter sent them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Objects(pub Vec<Object>);

impl Objects {
    /// The object with this code.
    pub fn get(&self, code: Obis) -> Option<&Object> {
        self.0.iter().find(|o| o.code == code)
    }

    /// Adds an object; a second object with a code already present is kept
    /// under the next free F group (`.0`, `.1`, ...) so that nothing is lost
    /// and keys stay unique.
    pub fn push(&mut self, mut o: Object) {
        if self.get(o.code).is_some() {
            let mut g = o.code.0;
            for f in 0..255u8 {
                g[5] = f;
                if self.get(Obis(g)).is_none() {
                    o.code = Obis(g);
                    break;
                }
            }
        }
        self.0.push(o);
    }

    /// Iterates over the objects.
    pub fn iter(&self) -> std::slice::Iter<'_, Object> {
        self.0.iter()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No objects.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Objects {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        let mut key = [0u8; 24];
        for o in &self.0 {
            m.serialize_key(o.code.write_key(&mut key))?;
            m.serialize_value(o)?;
        }
        m.end()
    }
}

/// A gas, water or heat meter read over the meter's M-Bus (DSMR channels).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubMeter {
    /// The M-Bus channel (OBIS group B).
    pub channel: u8,
    /// The M-Bus device type (`3` gas, `4` heat, `7` water ...), when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_type: Option<u16>,
    /// What it meters: `gas`, `water`, `heat`, `cooling`, `electricity` or `other`.
    pub kind: &'static str,
    /// Its equipment id as sent (hex text in DSMR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its last reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The reading's unit as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<Unit>,
    /// When the sub-meter took the reading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<MeterTime>,
}

/// A quantity's value, as a writer takes it.
#[derive(Copy, Clone, Debug)]
pub(crate) enum Amount<'a> {
    Float(f64),
    Count(u32),
    Time(&'a MeterTime),
}

/// The quantities' kinds of value, as an [`Amount`].
trait AsAmount {
    fn amount(&self) -> Amount<'_>;
}

impl AsAmount for f64 {
    fn amount(&self) -> Amount<'_> {
        Amount::Float(*self)
    }
}

impl AsAmount for u32 {
    fn amount(&self) -> Amount<'_> {
        Amount::Count(*self)
    }
}

impl AsAmount for MeterTime {
    fn amount(&self) -> Amount<'_> {
        Amount::Time(self)
    }
}

macro_rules! quantities {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty ),* $(,)?) => {
        /// The common quantities under fixed names and units, the same
        /// whatever the brand. Absent when the meter did not send them.
        #[derive(Copy, Clone, Debug, Default, PartialEq)]
        pub struct Quantities {
            $( $(#[$doc])* pub $name: Option<$ty>, )*
        }

        impl Quantities {
            /// Writes the quantities that are present into a JSON object.
            fn serialize_into<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
                $( if let Some(v) = &self.$name { m.serialize_entry(stringify!($name), v)?; } )*
                Ok(())
            }

            /// Calls `f` with each quantity that is present: its name as a
            /// JSON key (`"name":`) and its value.
            pub(crate) fn each_present(&self, mut f: impl FnMut(&'static str, Amount<'_>)) {
                $( if let Some(v) = &self.$name { f(concat!("\"", stringify!($name), "\":"), v.amount()); } )*
            }

            /// The names of all quantities, for documentation and schema checks.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];
        }
    };
}

quantities! {
    /// Active power import (A+), W.
    power_import_w: f64,
    /// Active power export (A-), W.
    power_export_w: f64,
    /// Reactive power import (R+), var.
    reactive_power_import_var: f64,
    /// Reactive power export (R-), var.
    reactive_power_export_var: f64,
    /// Active power import L1, W.
    power_import_l1_w: f64,
    /// Active power import L2, W.
    power_import_l2_w: f64,
    /// Active power import L3, W.
    power_import_l3_w: f64,
    /// Active power export L1, W.
    power_export_l1_w: f64,
    /// Active power export L2, W.
    power_export_l2_w: f64,
    /// Active power export L3, W.
    power_export_l3_w: f64,
    /// Reactive power import L1, var.
    reactive_power_import_l1_var: f64,
    /// Reactive power import L2, var.
    reactive_power_import_l2_var: f64,
    /// Reactive power import L3, var.
    reactive_power_import_l3_var: f64,
    /// Reactive power export L1, var.
    reactive_power_export_l1_var: f64,
    /// Reactive power export L2, var.
    reactive_power_export_l2_var: f64,
    /// Reactive power export L3, var.
    reactive_power_export_l3_var: f64,
    /// Voltage L1 (line-neutral, or line-line on 3-wire IT grids), V.
    voltage_l1_v: f64,
    /// Voltage L2, V.
    voltage_l2_v: f64,
    /// Voltage L3, V.
    voltage_l3_v: f64,
    /// Current L1, A.
    current_l1_a: f64,
    /// Current L2, A.
    current_l2_a: f64,
    /// Current L3, A.
    current_l3_a: f64,
    /// Neutral current, A.
    current_neutral_a: f64,
    /// Power factor (total), 0..1.
    power_factor: f64,
    /// Frequency, Hz.
    frequency_hz: f64,
    /// Active energy import total (A+), kWh.
    energy_import_kwh: f64,
    /// Active energy export total (A-), kWh.
    energy_export_kwh: f64,
    /// Active energy import, tariff 1, kWh.
    energy_import_t1_kwh: f64,
    /// Active energy import, tariff 2, kWh.
    energy_import_t2_kwh: f64,
    /// Active energy import, tariff 3, kWh.
    energy_import_t3_kwh: f64,
    /// Active energy import, tariff 4, kWh.
    energy_import_t4_kwh: f64,
    /// Active energy export, tariff 1, kWh.
    energy_export_t1_kwh: f64,
    /// Active energy export, tariff 2, kWh.
    energy_export_t2_kwh: f64,
    /// Active energy export, tariff 3, kWh.
    energy_export_t3_kwh: f64,
    /// Active energy export, tariff 4, kWh.
    energy_export_t4_kwh: f64,
    /// Active energy import L1, kWh.
    energy_import_l1_kwh: f64,
    /// Active energy import L2, kWh.
    energy_import_l2_kwh: f64,
    /// Active energy import L3, kWh.
    energy_import_l3_kwh: f64,
    /// Reactive energy import total (R+), kvarh.
    reactive_energy_import_kvarh: f64,
    /// Reactive energy export total (R-), kvarh.
    reactive_energy_export_kvarh: f64,
    /// The tariff in force (DSMR 0-0:96.14.0), as a number.
    tariff: u32,
    /// Average demand of the current quarter hour (Belgium 1-0:1.4.0), W.
    demand_quarter_w: f64,
    /// Highest quarter-hour demand this month (Belgium 1-0:1.6.0), W.
    demand_month_peak_w: f64,
    /// When this month's peak happened.
    demand_month_peak_time: MeterTime,
    /// Gas meter reading, m3 (the gas sub-meter with the newest reading).
    gas_m3: f64,
    /// When the gas meter took it.
    gas_time: MeterTime,
    /// Water meter reading, m3.
    water_m3: f64,
    /// When the water meter took it.
    water_time: MeterTime,
    /// Heat meter reading, GJ.
    heat_gj: f64,
    /// When the heat meter took it.
    heat_time: MeterTime,
}

/// One decoded frame or telegram.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// When it was received; set by the caller (the decoder has no clock).
    pub received: Option<DateTime<Utc>>,
    /// The meter's own clock, as it states it.
    pub meter_time: Option<MeterTime>,
    /// HAN or P1.
    pub protocol: Protocol,
    /// How it was carried.
    pub framing: Framing,
    /// Whether it came encrypted (and was decrypted with the user's key).
    pub encrypted: bool,
    /// The manufacturer, when the frame tells (list id, FLAG id, header).
    pub manufacturer: Option<&'static str>,
    /// The meter's id (serial / GS1 number) as sent.
    pub meter_id: Option<Text>,
    /// The meter's model / type as sent.
    pub meter_model: Option<Text>,
    /// The list / version identifier (`AIDON_V0001`, `KFM_001`, DSMR `50`).
    pub list: Option<Text>,
    /// Every object of the frame.
    pub obis: Objects,
    /// The common quantities under fixed names and units.
    pub quantities: Quantities,
    /// Gas, water and heat sub-meters (P1).
    pub submeters: Vec<SubMeter>,
    /// The objects as last written, for a template's reading.
    pub(crate) json: written::ObisJson,
}

impl Reading {
    /// An empty reading of a protocol and framing.
    pub fn new(protocol: Protocol, framing: Framing) -> Self {
        Reading {
            received: None,
            meter_time: None,
            protocol,
            framing,
            encrypted: false,
            manufacturer: None,
            meter_id: None,
            meter_model: None,
            list: None,
            obis: Objects::default(),
            quantities: Quantities::default(),
            submeters: Vec::new(),
            json: written::ObisJson::default(),
        }
    }

    /// Empties a reading for reuse, keeping its allocations (the object
    /// list's capacity), so that a decoder fed back its readings
    /// ([`crate::Decoder::recycle`]) allocates almost nothing per frame.
    pub fn reset(&mut self, protocol: Protocol, framing: Framing) {
        // Field by field in place (every field named, so that a new one is
        // not forgotten): a new reading moved over this one is a large copy.
        let Reading {
            received,
            meter_time,
            protocol: p,
            framing: f,
            encrypted,
            manufacturer,
            meter_id,
            meter_model,
            list,
            obis,
            quantities,
            submeters,
            json,
        } = self;
        *received = None;
        *meter_time = None;
        *p = protocol;
        *f = framing;
        *encrypted = false;
        *manufacturer = None;
        *meter_id = None;
        *meter_model = None;
        *list = None;
        obis.0.clear();
        *quantities = Quantities::default();
        submeters.clear();
        json.forget();
    }
}

impl Reading {
    /// Makes this reading a copy of `other`, keeping this one's allocations
    /// (its object and sub-meter lists).
    pub(crate) fn clone_from_reusing(&mut self, other: &Reading) {
        let Reading {
            received,
            meter_time,
            protocol,
            framing,
            encrypted,
            manufacturer,
            meter_id,
            meter_model,
            list,
            obis,
            quantities,
            submeters,
            json: _,
        } = other;
        self.json.forget();
        self.received = *received;
        self.meter_time = *meter_time;
        self.protocol = *protocol;
        self.framing = *framing;
        self.encrypted = *encrypted;
        self.manufacturer = *manufacturer;
        self.meter_id.clone_from(meter_id);
        self.meter_model.clone_from(meter_model);
        self.list.clone_from(list);
        self.obis.0.clone_from(&obis.0);
        self.quantities = *quantities;
        self.submeters.clone_from(submeters);
    }
}

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("v", &STREAM_VERSION)?;
        if let Some(r) = &self.received {
            struct Received<'a>(&'a DateTime<Utc>);
            impl Serialize for Received<'_> {
                fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    crate::reading::time::serialize_utc_millis(self.0, s)
                }
            }
            m.serialize_entry("received", &Received(r))?;
        }
        if let Some(t) = &self.meter_time {
            m.serialize_entry("meter_time", t)?;
        }
        m.serialize_entry("protocol", &self.protocol)?;
        m.serialize_entry("framing", &self.framing)?;
        if self.encrypted {
            m.serialize_entry("encrypted", &true)?;
        }
        if let Some(v) = &self.manufacturer {
            m.serialize_entry("manufacturer", v)?;
        }
        if let Some(v) = &self.meter_id {
            m.serialize_entry("meter_id", v)?;
        }
        if let Some(v) = &self.meter_model {
            m.serialize_entry("meter_model", v)?;
        }
        if let Some(v) = &self.list {
            m.serialize_entry("list", v)?;
        }
        self.quantities.serialize_into(&mut m)?;
        if !self.submeters.is_empty() {
            m.serialize_entry("submeters", &self.submeters)?;
        }
        m.serialize_entry("obis", &self.obis)?;
        m.end()
    }
}
