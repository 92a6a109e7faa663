//! One connection to the broker: TCP, or TLS (rustls) for `mqtts://`;
//! CONNECT and its CONNACK, QoS 1 publishes, keep-alive pings, reading what
//! the broker sends with a timeout. Synchronous and single-threaded: the
//! session polls it between readings.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use thiserror::Error;

use super::meters::Message;
use super::packet::{Connect, DecodeError, Decoder, Packet, Publish, QoS, Refused, Will};

/// How long connecting (TCP, TLS, CONNACK) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A write the broker does not take in this time means it is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The broker sends small packets only (we subscribe to nothing).
const MAX_PACKET: usize = 1 << 16;

/// Where the broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

impl Broker {
    /// `mqtt://HOST[:PORT]` (1883), `mqtts://HOST[:PORT]` (8883), or a bare
    /// `HOST[:PORT]`; an IPv6 address in brackets.
    pub fn parse(url: &str) -> Result<Broker, String> {
        let (tls, rest) = match url.split_once("://") {
            Some(("mqtt" | "tcp", r)) => (false, r),
            Some(("mqtts" | "ssl" | "tls", r)) => (true, r),
            Some((s, _)) => return Err(format!("broker {url:?}: scheme {s}:// (mqtt:// or mqtts://)")),
            None => (false, url),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('@') {
            return Err(format!(
                "broker {url:?}: no credentials in the URL (--user, and the password in $HAN_PUSH_MQTT_PASSWORD or the config file)"
            ));
        }
        if rest.contains('/') {
            return Err(format!("broker {url:?}: a path; only mqtt://HOST[:PORT]"));
        }
        let default = if tls { 8883 } else { 1883 };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) =
                v6.split_once(']').ok_or_else(|| format!("broker {url:?}: an unclosed [ of an IPv6 address"))?;
            match after.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if after.is_empty() => (h, None),
                None => return Err(format!("broker {url:?}: junk after the IPv6 address")),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(format!("broker {url:?}: no host"));
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| format!("broker {url:?}: port {p:?}"))?,
            None => default,
        };
        Ok(Broker { host: host.to_owned(), port, tls })
    }
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The TLS settings: the CA of `ca` (PEM, one or more certificates), else
/// the web's roots (webpki-roots).
pub fn tls_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("--ca {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("--ca {}: no certificate in it (PEM expected)", path.display()));
            }
            for c in certs {
                roots.add(c).map_err(|e| format!("--ca {}: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct Options {
    pub broker: Broker,
    pub tls: Option<Arc<ClientConfig>>,
    pub client_id: String,
    pub keep_alive: Duration,
    pub username: Option<String>,
    pub password: Option<crate::secrets::Secret>,
    /// The will: `offline` (retained) on this topic.
    pub will_topic: String,
}

/// Why there is no connection.
#[derive(Debug, Error)]
pub enum Lost {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the broker closed the connection")]
    Closed,
    #[error("the broker refused the connection: {0}")]
    Refused(Refused),
    #[error("the broker sent what MQTT 3.1.1 does not allow: {0}")]
    Protocol(#[from] DecodeError),
    #[error("{0}")]
    Other(String),
}

impl Lost {
    /// Trying again does not help: the credentials, the client id, or a
    /// broker certificate that does not verify.
    pub fn is_permanent(&self) -> bool {
        match self {
            Lost::Refused(r) => r.is_permanent(),
            Lost::Io(e) => e
                .get_ref()
                .and_then(|i| i.downcast_ref::<rustls::Error>())
                .is_some_and(|t| matches!(t, rustls::Error::InvalidCertificate(_))),
            _ => false,
        }
    }
}

enum Transport {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => &s.sock,
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

/// What the broker said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The QoS 1 publish of this id arrived.
    Acked(u16),
}

/// A connection, after the broker accepted it.
pub struct Connection {
    io: Transport,
    decoder: Decoder,
    next_id: u16,
    keep_alive: Duration,
    last_sent: Instant,
    ping_sent: Option<Instant>,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("peer", &self.io.tcp().peer_addr().ok()).finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects, sends CONNECT (clean session, the will) and waits for the
    /// broker's CONNACK.
    pub fn open(o: &Options) -> Result<Connection, Lost> {
        let tcp = tcp(&o.broker)?;
        tcp.set_nodelay(true)?;
        tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
        tcp.set_read_timeout(Some(CONNECT_TIMEOUT))?;
        let io = match &o.tls {
            None => Transport::Plain(tcp),
            Some(config) => {
                let name = ServerName::try_from(o.broker.host.clone())
                    .map_err(|e| Lost::Other(format!("{}: {e}", o.broker.host)))?;
                let conn =
                    ClientConnection::new(Arc::clone(config), name).map_err(|e| Lost::Other(format!("TLS: {e}")))?;
                Transport::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        };
        let mut c = Connection {
            io,
            decoder: Decoder::new(MAX_PACKET),
            next_id: 0,
            keep_alive: o.keep_alive,
            last_sent: Instant::now(),
            ping_sent: None,
            read_timeout: Some(CONNECT_TIMEOUT),
        };
        let connect = Connect {
            client_id: o.client_id.clone(),
            keep_alive_secs: u16::try_from(o.keep_alive.as_secs()).unwrap_or(u16::MAX),
            clean_session: true,
            will: Some(Will { topic: o.will_topic.clone(), message: b"offline".to_vec(), qos: QoS::Q1, retain: true }),
            username: o.username.clone(),
            password: o.password.as_ref().map(|p| p.expose().as_bytes().to_vec()),
        };
        c.send(&Packet::Connect(connect))?;
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        loop {
            if let Some(p) = c.decoder.next_packet()? {
                return match p {
                    Packet::ConnAck { code, .. } => match Refused::check(code) {
                        Ok(()) => Ok(c),
                        Err(r) => Err(Lost::Refused(r)),
                    },
                    other => Err(Lost::Other(format!("the broker answered CONNECT with {other:?}"))),
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Lost::Other(format!("no CONNACK in {} s", CONNECT_TIMEOUT.as_secs())));
            }
            c.read_some(left)?;
        }
    }

    /// Publishes at QoS 1; the packet id its PUBACK will carry.
    pub fn publish(&mut self, m: &Message) -> Result<u16, Lost> {
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let id = self.next_id;
        self.send(&Packet::Publish(Publish {
            topic: m.topic.clone(),
            payload: m.payload.clone(),
            qos: QoS::Q1,
            retain: m.retain,
            dup: false,
            packet_id: Some(id),
        }))?;
        Ok(id)
    }

    /// Reads what the broker sent, waiting at most `wait`; pings when the
    /// connection was idle half the keep-alive, and calls it lost when a
    /// ping goes unanswered as long.
    pub fn poll(&mut self, wait: Duration) -> Result<Vec<Event>, Lost> {
        let half = self.keep_alive / 2;
        if let Some(sent) = self.ping_sent {
            if sent.elapsed() > half {
                return Err(Lost::Other(format!("no answer to a ping in {} s", half.as_secs())));
            }
        } else if self.last_sent.elapsed() >= half {
            self.send(&Packet::PingReq)?;
            self.ping_sent = Some(Instant::now());
        }
        self.read_some(wait)?;
        let mut events = Vec::new();
        while let Some(p) = self.decoder.next_packet()? {
            match p {
                Packet::PubAck { packet_id } => events.push(Event::Acked(packet_id)),
                Packet::PingResp => self.ping_sent = None,
                // Nothing was subscribed, but a broker may still deliver: acknowledge it.
                Packet::Publish(Publish { packet_id: Some(id), qos: QoS::Q1, .. }) => {
                    self.send(&Packet::PubAck { packet_id: id })?;
                }
                Packet::Publish(_) => {}
                other => return Err(Lost::Other(format!("unexpected {other:?} from the broker"))),
            }
        }
        Ok(events)
    }

    /// Says goodbye: DISCONNECT (so the broker drops the will), then closes.
    pub fn disconnect(mut self) {
        let _ = self.send(&Packet::Disconnect);
        if let Transport::Tls(s) = &mut self.io {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.io.tcp().shutdown(std::net::Shutdown::Both);
    }

    fn send(&mut self, p: &Packet) -> Result<(), Lost> {
        let mut bytes = Vec::new();
        p.encode(&mut bytes).map_err(|e| Lost::Other(format!("cannot encode: {e}")))?;
        self.io.write_all(&bytes)?;
        self.io.flush()?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// One read of at most `wait`; nothing read in that time is no error.
    fn read_some(&mut self, wait: Duration) -> Result<(), Lost> {
        let wait = wait.max(Duration::from_millis(1));
        if self.read_timeout != Some(wait) {
            self.io.tcp().set_read_timeout(Some(wait))?;
            self.read_timeout = Some(wait);
        }
        let mut buf = [0u8; 4096];
        match self.io.read(&mut buf) {
            Ok(0) => Err(Lost::Closed),
            Ok(n) => {
                self.decoder.push(buf.get(..n).unwrap_or_default());
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Lost::Closed),
            Err(e) => Err(Lost::Io(e)),
        }
    }
}

/// A TCP connection to the first of the broker's addresses that answers.
fn tcp(b: &Broker) -> Result<TcpStream, Lost> {
    let addrs = (b.host.as_str(), b.port).to_socket_addrs().map_err(|e| Lost::Other(format!("{}: {e}", b.host)))?;
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, CONNECT_TIMEOUT) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(|| Lost::Other(format!("{}: no address", b.host)), Lost::Io))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        let b = |h: &str, port, tls| Ok(Broker { host: h.into(), port, tls });
        assert_eq!(Broker::parse("mqtt://pi:1884"), b("pi", 1884, false));
        assert_eq!(Broker::parse("mqtt://pi/"), b("pi", 1883, false));
        assert_eq!(Broker::parse("mqtts://broker.lan"), b("broker.lan", 8883, true));
        assert_eq!(Broker::parse("192.168.1.10"), b("192.168.1.10", 1883, false));
        assert_eq!(Broker::parse("mqtt://[::1]:1999"), b("::1", 1999, false));
        assert_eq!(Broker::parse("mqtts://[fe80::1]"), b("fe80::1", 8883, true));
        assert_eq!(Broker::parse("mqtt://[::1]:1999").unwrap().to_string(), "mqtt://[::1]:1999");
        for bad in
            ["http://pi", "mqtt://u:p@pi", "mqtt://pi:0", "mqtt://pi:x", "mqtt://", "mqtt://pi/topic", "mqtt://[::1"]
        {
            assert!(Broker::parse(bad).is_err(), "{bad}");
        }
        assert!(Broker::parse("mqtt://u:p@pi").unwrap_err().contains("no credentials"));
    }

    /// A broker of a few packets on a thread: answers CONNECT with `code`,
    /// then the first ping only; gives what it received.
    fn fake_broker(code: u8) -> (Broker, std::thread::JoinHandle<Vec<Packet>>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut d = Decoder::new(MAX_PACKET);
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            let mut pings = 0;
            loop {
                while let Some(p) = d.next_packet().unwrap() {
                    let mut answer = Vec::new();
                    match &p {
                        Packet::Connect(_) => Packet::ConnAck { session_present: false, code }.encode(&mut answer),
                        Packet::PingReq if pings == 0 => Packet::PingResp.encode(&mut answer),
                        Packet::Publish(Publish { packet_id: Some(id), .. }) => {
                            Packet::PubAck { packet_id: *id }.encode(&mut answer)
                        }
                        _ => Ok(()),
                    }
                    .unwrap();
                    pings += u32::from(p == Packet::PingReq);
                    s.write_all(&answer).unwrap();
                    got.push(p);
                }
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return got,
                    Ok(n) => d.push(&buf[..n]),
                }
            }
        });
        (Broker { host: "127.0.0.1".into(), port, tls: false }, t)
    }

    fn options(broker: Broker) -> Options {
        Options {
            broker,
            tls: None,
            client_id: "t".into(),
            keep_alive: Duration::from_secs(2),
            username: None,
            password: None,
            will_topic: "han/t/availability".into(),
        }
    }

    #[test]
    fn pings_when_idle_and_an_unanswered_ping_is_a_lost_connection() {
        let (broker, fake) = fake_broker(0);
        let mut c = Connection::open(&options(broker)).unwrap();
        let m = Message { topic: "han/x/state".into(), payload: b"{}".to_vec(), retain: false };
        let id = c.publish(&m).unwrap();
        let start = Instant::now();
        let mut acked = false;
        let err = loop {
            match c.poll(Duration::from_millis(50)) {
                Ok(ev) => acked |= ev.contains(&Event::Acked(id)),
                Err(e) => break e,
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no end");
        };
        assert!(acked);
        assert!(err.to_string().contains("no answer to a ping"), "{err}");
        // Idle 1 s: a ping (answered), idle 1 s more: a ping, 1 s without answer.
        assert!(start.elapsed() >= Duration::from_secs(3), "{:?}", start.elapsed());
        drop(c);
        let got = fake.join().unwrap();
        assert!(
            matches!(&got[0], Packet::Connect(c) if c.will.as_ref().is_some_and(|w| w.retain && w.message == b"offline"))
        );
        assert_eq!(got.iter().filter(|p| **p == Packet::PingReq).count(), 2, "{got:?}");
    }

    #[test]
    fn a_refusal_is_typed() {
        let (broker, fake) = fake_broker(4);
        let e = Connection::open(&options(broker)).unwrap_err();
        assert!(matches!(e, Lost::Refused(Refused::BadCredentials)) && e.is_permanent(), "{e}");
        fake.join().unwrap();
        let (broker, fake) = fake_broker(3);
        let e = Connection::open(&options(broker)).unwrap_err();
        assert!(!e.is_permanent(), "server unavailable: try again");
        fake.join().unwrap();
    }

    #[test]
    fn a_ca_file() {
        let dir = std::env::temp_dir().join(format!("han-push-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("empty.pem");
        std::fs::write(&f, "not a certificate\n").unwrap();
        assert!(tls_config(Some(&f)).unwrap_err().contains("no certificate"));
        assert!(tls_config(Some(&dir.join("missing.pem"))).is_err());
        assert!(tls_config(None).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
