//! HTTP for the tools that speak it (han-push's InfluxDB and Domoticz,
//! spotprices' sources): one way to build the `ureq` agent, to read a body
//! no larger than asked, to say a transport error without its URL, and
//! what a request came to. A crate of its own so that `han-common` stays
//! without ureq and TLS.

use std::io::{self, Read};
use std::time::Duration;

/// How long a request waits for each step; `None` waits as long as it takes.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Option<Duration>,
}

impl Timeouts {
    /// The same timeout for connecting, reading and writing.
    pub fn all(timeout: Duration) -> Timeouts {
        Timeouts { connect: timeout, read: timeout, write: Some(timeout) }
    }
}

/// An agent with these timeouts, saying `user_agent` (`tool/version`).
pub fn agent(timeouts: Timeouts, user_agent: &str) -> ureq::Agent {
    let mut b = ureq::AgentBuilder::new().timeout_connect(timeouts.connect).timeout_read(timeouts.read);
    if let Some(w) = timeouts.write {
        b = b.timeout_write(w);
    }
    b.user_agent(user_agent).build()
}

/// The `Authorization` header value of HTTP basic authentication.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A response's body as UTF-8, at most `max` bytes of it; an error when
/// it breaks off or is not UTF-8.
pub fn text(r: ureq::Response, max: u64) -> io::Result<String> {
    let mut s = String::new();
    r.into_reader().take(max).read_to_string(&mut s)?;
    Ok(s)
}

/// A response's body, at most `max` bytes, trimmed: what arrived, even
/// when it broke off, and not always UTF-8 (a proxy's Latin-1 error page
/// is the message all the same).
pub fn message(r: ureq::Response, max: u64) -> String {
    let mut bytes = Vec::new();
    let _ = r.into_reader().take(max).read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).trim().to_owned()
}

/// A transport error without its URL (whose query may hold a token).
pub fn transport(t: &ureq::Transport) -> String {
    let kind = t.kind().to_string();
    match (t.message(), std::error::Error::source(t)) {
        (Some(m), _) => format!("{kind}: {m}"),
        (None, Some(e)) => format!("{kind}: {e}"),
        (None, None) => kind,
    }
}

/// What a request came to.
#[derive(Debug)]
pub enum Answer {
    /// A 2xx status: the body.
    Ok(String),
    /// Another status, with the body (the server's reason).
    Status(u16, String),
    /// No answer: connection refused, timeout, TLS ...
    Transport(String),
}

impl Answer {
    /// The answer of `ureq`'s result, the body read as a [`message`] (up
    /// to 64 KiB), a transport error as ureq says it.
    pub fn of(result: Result<ureq::Response, ureq::Error>) -> Answer {
        const MAX: u64 = 64 * 1024;
        match result {
            Ok(r) => Answer::Ok(message(r, MAX)),
            Err(ureq::Error::Status(status, r)) => Answer::Status(status, message(r, MAX)),
            Err(ureq::Error::Transport(t)) => Answer::Transport(t.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// Standard base64 with padding (RFC 4648).
    fn base64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn base64_as_the_rfc_says() {
        for (plain, coded) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }
}
