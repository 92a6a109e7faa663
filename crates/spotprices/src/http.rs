//! HTTP GET with retries: network errors, 5xx and 429 are retried with a
//! doubling delay; anything else is an answer. Errors never show the URL's
//! query, which holds the ENTSO-E token.

use std::io::Read;
use std::time::Duration;

/// What a GET came to.
#[derive(Debug)]
pub enum Got {
    /// Any status the server meant (200, 400, 401, 404...), with its body.
    Answer { status: u16, body: String },
    /// No answer after the retries: the last reason.
    Unreachable(String),
}

#[derive(Debug)]
pub struct Http {
    agent: ureq::Agent,
    retries: u32,
    delay: Duration,
}

/// Bodies larger than this are not price documents.
const MAX_BODY: u64 = 16 << 20;

impl Http {
    pub fn new(retries: u32, delay: Duration) -> Http {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(60))
            .user_agent(concat!("han-tools spotprices/", env!("CARGO_PKG_VERSION")))
            .build();
        Http { agent, retries, delay }
    }

    /// GETs `url`; `what` names it in messages (never the URL itself).
    pub fn get(&self, url: &str, what: &str) -> Got {
        let mut delay = self.delay;
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                eprintln!("spotprices: {what}: {last}; retrying in {:.1} s", delay.as_secs_f64());
                std::thread::sleep(delay);
                delay = delay.saturating_mul(2);
            }
            match self.agent.get(url).call() {
                Ok(r) => match body(r) {
                    Ok((status, body)) => return Got::Answer { status, body },
                    Err(e) => last = format!("the answer broke off: {e}"),
                },
                Err(ureq::Error::Status(code, r)) if code >= 500 || code == 429 => {
                    last = format!("HTTP {code} {}", r.status_text());
                }
                Err(ureq::Error::Status(code, r)) => {
                    let body = body(r).map(|(_, b)| b).unwrap_or_default();
                    return Got::Answer { status: code, body };
                }
                Err(ureq::Error::Transport(t)) => last = transport(&t),
            }
        }
        Got::Unreachable(last)
    }
}

fn body(r: ureq::Response) -> std::io::Result<(u16, String)> {
    let status = r.status();
    let mut s = String::new();
    r.into_reader().take(MAX_BODY).read_to_string(&mut s)?;
    Ok((status, s))
}

/// The transport error without its URL.
fn transport(t: &ureq::Transport) -> String {
    let kind = t.kind().to_string();
    match (t.message(), std::error::Error::source(t)) {
        (Some(m), _) => format!("{kind}: {m}"),
        (None, Some(e)) => format!("{kind}: {e}"),
        (None, None) => kind,
    }
}
