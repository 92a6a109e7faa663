//! MQTT 3.1.1 packets (OASIS standard, 2014), sans I/O: encoded into a
//! buffer, decoded from bytes fed in any chunks. Only what a publishing
//! client needs: CONNECT/CONNACK, PUBLISH/PUBACK, PINGREQ/PINGRESP and
//! DISCONNECT. Bad input is a typed error, never a panic; after one the
//! connection is to be closed (MQTT has no way to resynchronise).

use thiserror::Error;

/// The largest Remaining Length four bytes can say (spec 2.2.3).
pub const MAX_REMAINING: usize = 268_435_455;

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;
const PUBLISH: u8 = 3;
const PUBACK: u8 = 4;
const PINGREQ: u8 = 12;
const PINGRESP: u8 = 13;
const DISCONNECT: u8 = 14;

/// Quality of service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QoS {
    /// At most once: no acknowledgement.
    Q0,
    /// At least once: PUBACK.
    Q1,
    /// Exactly once (carried by the codec; the client does not use it).
    Q2,
}

impl QoS {
    fn bits(self) -> u8 {
        match self {
            QoS::Q0 => 0,
            QoS::Q1 => 1,
            QoS::Q2 => 2,
        }
    }

    fn of(bits: u8) -> Result<QoS, DecodeError> {
        match bits {
            0 => Ok(QoS::Q0),
            1 => Ok(QoS::Q1),
            2 => Ok(QoS::Q2),
            _ => Err(DecodeError::BadQoS),
        }
    }
}

/// The last will: what the broker publishes when the client vanishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Will {
    pub topic: String,
    pub message: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// CONNECT (spec 3.1).
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    pub client_id: String,
    pub keep_alive_secs: u16,
    pub clean_session: bool,
    pub will: Option<Will>,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
}

impl std::fmt::Debug for Connect {
    // The password stays out of every log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connect")
            .field("client_id", &self.client_id)
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("clean_session", &self.clean_session)
            .field("will", &self.will)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// PUBLISH (spec 3.3). `packet_id` is there exactly when `qos` is not 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
    pub dup: bool,
    pub packet_id: Option<u16>,
}

/// A packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Connect(Connect),
    ConnAck { session_present: bool, code: u8 },
    Publish(Publish),
    PubAck { packet_id: u16 },
    PingReq,
    PingResp,
    Disconnect,
}

/// Why the broker refused a connection (CONNACK return codes, spec 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Refused {
    #[error("the broker does not speak MQTT 3.1.1 (unacceptable protocol version)")]
    ProtocolVersion,
    #[error("the broker rejected the client id")]
    IdentifierRejected,
    #[error("the broker is unavailable")]
    ServerUnavailable,
    #[error("bad user name or password")]
    BadCredentials,
    #[error("not authorised (a wrong user or password, or one the broker does not let in)")]
    NotAuthorised,
    #[error("refused with return code {0}")]
    Other(u8),
}

impl Refused {
    /// The result a CONNACK return code says.
    pub fn check(code: u8) -> Result<(), Refused> {
        match code {
            0 => Ok(()),
            1 => Err(Refused::ProtocolVersion),
            2 => Err(Refused::IdentifierRejected),
            3 => Err(Refused::ServerUnavailable),
            4 => Err(Refused::BadCredentials),
            5 => Err(Refused::NotAuthorised),
            c => Err(Refused::Other(c)),
        }
    }

    /// Waiting does not help: the credentials or the id must change.
    pub fn is_permanent(self) -> bool {
        !matches!(self, Refused::ServerUnavailable)
    }
}

/// What cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("a string or binary field of {0} bytes (at most 65535)")]
    FieldTooLong(usize),
    #[error("a packet of {0} bytes (at most {MAX_REMAINING} after the header)")]
    TooLarge(usize),
    #[error("topic {0:?}: empty, or with a wildcard or NUL")]
    BadTopic(String),
    #[error("a password without a user name (MQTT 3.1.1 needs both)")]
    PasswordWithoutUser,
    #[error("QoS 1 and 2 need a packet id other than 0, QoS 0 none")]
    BadPacketId,
    #[error("an empty client id needs a clean session")]
    EmptyClientId,
}

/// What cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("a Remaining Length of more than four bytes")]
    BadLength,
    #[error("a packet of {0} bytes, more than the {1} accepted")]
    TooLarge(usize, usize),
    #[error("packet type {0} with flags {1:#06b}, which the spec forbids")]
    BadFlags(u8, u8),
    #[error("packet type {0}, which this client does not handle")]
    Unsupported(u8),
    #[error("a packet shorter than its fields")]
    Truncated,
    #[error("{0} bytes after the packet's fields")]
    Trailing(usize),
    #[error("a string that is not UTF-8, or has a NUL")]
    BadString,
    #[error("QoS 3")]
    BadQoS,
    #[error("packet id 0")]
    ZeroPacketId,
    #[error("protocol {0:?} level {1}, not MQTT 3.1.1")]
    BadProtocol(String, u8),
    #[error("CONNECT flags {0:#010b}, which the spec forbids")]
    BadConnectFlags(u8),
}

impl Packet {
    /// Appends the packet's bytes to `out`; on error nothing is appended.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut body = Vec::new();
        let first = match self {
            Packet::Connect(c) => {
                connect_body(c, &mut body)?;
                CONNECT << 4
            }
            Packet::ConnAck { session_present, code } => {
                body.extend([u8::from(*session_present), *code]);
                CONNACK << 4
            }
            Packet::Publish(p) => {
                topic(&p.topic)?;
                string(&mut body, p.topic.as_bytes())?;
                match (p.qos, p.packet_id) {
                    (QoS::Q0, None) => {}
                    (QoS::Q1 | QoS::Q2, Some(id)) if id != 0 => body.extend(id.to_be_bytes()),
                    _ => return Err(EncodeError::BadPacketId),
                }
                body.extend_from_slice(&p.payload);
                (PUBLISH << 4) | (u8::from(p.dup) << 3) | (p.qos.bits() << 1) | u8::from(p.retain)
            }
            Packet::PubAck { packet_id } => {
                if *packet_id == 0 {
                    return Err(EncodeError::BadPacketId);
                }
                body.extend(packet_id.to_be_bytes());
                PUBACK << 4
            }
            Packet::PingReq => PINGREQ << 4,
            Packet::PingResp => PINGRESP << 4,
            Packet::Disconnect => DISCONNECT << 4,
        };
        if body.len() > MAX_REMAINING {
            return Err(EncodeError::TooLarge(body.len()));
        }
        out.push(first);
        remaining_length(body.len(), out);
        out.extend_from_slice(&body);
        Ok(())
    }
}

fn connect_body(c: &Connect, body: &mut Vec<u8>) -> Result<(), EncodeError> {
    if c.password.is_some() && c.username.is_none() {
        return Err(EncodeError::PasswordWithoutUser);
    }
    if c.client_id.is_empty() && !c.clean_session {
        return Err(EncodeError::EmptyClientId);
    }
    string(body, b"MQTT")?;
    body.push(4); // protocol level 4 = 3.1.1
    let mut flags = u8::from(c.clean_session) << 1;
    if let Some(w) = &c.will {
        topic(&w.topic)?;
        flags |= 0b100 | (w.qos.bits() << 3) | (u8::from(w.retain) << 5);
    }
    flags |= u8::from(c.password.is_some()) << 6;
    flags |= u8::from(c.username.is_some()) << 7;
    body.push(flags);
    body.extend(c.keep_alive_secs.to_be_bytes());
    string(body, c.client_id.as_bytes())?;
    if let Some(w) = &c.will {
        string(body, w.topic.as_bytes())?;
        string(body, &w.message)?;
    }
    if let Some(u) = &c.username {
        string(body, u.as_bytes())?;
    }
    if let Some(p) = &c.password {
        string(body, p)?;
    }
    Ok(())
}

/// A topic name one may publish to (spec 4.7): not empty, no wildcards, no NUL.
fn topic(t: &str) -> Result<(), EncodeError> {
    if t.is_empty() || t.len() > 65_535 || t.contains(['#', '+', '\0']) {
        return Err(EncodeError::BadTopic(t.to_owned()));
    }
    Ok(())
}

/// A length-prefixed string or binary field (spec 1.5.3).
fn string(out: &mut Vec<u8>, s: &[u8]) -> Result<(), EncodeError> {
    let n = u16::try_from(s.len()).map_err(|_| EncodeError::FieldTooLong(s.len()))?;
    out.extend(n.to_be_bytes());
    out.extend_from_slice(s);
    Ok(())
}

/// The Remaining Length: 7 bits a byte, least significant first, the high
/// bit saying another byte follows (spec 2.2.3).
fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n % 128) as u8;
        n /= 128;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Fed bytes as they come, yields whole packets.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    max: usize,
}

impl Decoder {
    /// A decoder refusing packets longer than `max` bytes in all.
    pub fn new(max: usize) -> Decoder {
        Decoder { buf: Vec::new(), max }
    }

    /// More bytes from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, `None` until one is complete.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        let Some(&first) = self.buf.first() else { return Ok(None) };
        // The Remaining Length starts at byte 1.
        let mut len = 0usize;
        let mut header = 1usize;
        loop {
            let Some(&b) = self.buf.get(header) else {
                return if header > 4 { Err(DecodeError::BadLength) } else { Ok(None) };
            };
            if header > 4 {
                return Err(DecodeError::BadLength);
            }
            len |= usize::from(b & 0x7f) << (7 * (header - 1));
            header += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let total = header + len;
        if total > self.max {
            return Err(DecodeError::TooLarge(total, self.max));
        }
        let Some(body) = self.buf.get(header..total) else { return Ok(None) };
        let packet = parse(first, body)?;
        self.buf.drain(..total);
        Ok(Some(packet))
    }
}

/// One packet from its first byte and its body.
fn parse(first: u8, body: &[u8]) -> Result<Packet, DecodeError> {
    let (kind, flags) = (first >> 4, first & 0x0f);
    let mut r = Reader(body);
    let packet = match kind {
        PUBLISH => {
            let qos = QoS::of((flags >> 1) & 0b11)?;
            let topic = r.string()?;
            let packet_id = match qos {
                QoS::Q0 => None,
                QoS::Q1 | QoS::Q2 => Some(r.packet_id()?),
            };
            let payload = std::mem::take(&mut r.0).to_vec();
            Packet::Publish(Publish {
                topic,
                payload,
                qos,
                retain: flags & 1 == 1,
                dup: flags & 0b1000 != 0,
                packet_id,
            })
        }
        CONNECT | CONNACK | PUBACK | PINGREQ | PINGRESP | DISCONNECT if flags != 0 => {
            return Err(DecodeError::BadFlags(kind, flags));
        }
        CONNECT => Packet::Connect(parse_connect(&mut r)?),
        CONNACK => {
            let ack = r.byte()?;
            if ack & !1 != 0 {
                return Err(DecodeError::BadFlags(kind, ack));
            }
            Packet::ConnAck { session_present: ack == 1, code: r.byte()? }
        }
        PUBACK => Packet::PubAck { packet_id: r.packet_id()? },
        PINGREQ => Packet::PingReq,
        PINGRESP => Packet::PingResp,
        DISCONNECT => Packet::Disconnect,
        other => return Err(DecodeError::Unsupported(other)),
    };
    match r.0.len() {
        0 => Ok(packet),
        n => Err(DecodeError::Trailing(n)),
    }
}

fn parse_connect(r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
    let name = r.string()?;
    let level = r.byte()?;
    if name != "MQTT" || level != 4 {
        return Err(DecodeError::BadProtocol(name, level));
    }
    let flags = r.byte()?;
    let has_will = flags & 0b100 != 0;
    let will_qos = QoS::of((flags >> 3) & 0b11)?;
    let will_retain = flags & 0b10_0000 != 0;
    let (has_user, has_password) = (flags & 0x80 != 0, flags & 0x40 != 0);
    // Reserved bit 0; will QoS and retain only with a will; a password only with a user.
    if flags & 1 != 0 || (!has_will && (will_qos != QoS::Q0 || will_retain)) || (has_password && !has_user) {
        return Err(DecodeError::BadConnectFlags(flags));
    }
    let keep_alive_secs = u16::from_be_bytes([r.byte()?, r.byte()?]);
    let client_id = r.string()?;
    let will = if has_will {
        Some(Will { topic: r.string()?, message: r.binary()?.to_vec(), qos: will_qos, retain: will_retain })
    } else {
        None
    };
    let username = if has_user { Some(r.string()?) } else { None };
    let password = if has_password { Some(r.binary()?.to_vec()) } else { None };
    Ok(Connect { client_id, keep_alive_secs, clean_session: flags & 0b10 != 0, will, username, password })
}

/// The unread rest of a packet body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        self.take(1)?.first().copied().ok_or(DecodeError::Truncated)
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    fn packet_id(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId),
            id => Ok(id),
        }
    }

    fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let s = std::str::from_utf8(self.binary()?).map_err(|_| DecodeError::BadString)?;
        if s.contains('\0') {
            return Err(DecodeError::BadString);
        }
        Ok(s.to_owned())
    }
}

#[cfg(test)]
mod tests;
