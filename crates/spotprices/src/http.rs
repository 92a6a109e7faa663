//! HTTP GET with retries: network errors, 5xx and 429 are retried with a
//! doubling delay; anything else is an answer. Errors never show the URL's
//! query, which holds the ENTSO-E token.

use std::time::Duration;

use han_http::{Timeouts, text, transport};

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
        let timeouts = Timeouts { connect: Duration::from_secs(15), read: Duration::from_secs(60), write: None };
        let agent = han_http::agent(timeouts, concat!("han-tools spotprices/", env!("CARGO_PKG_VERSION")));
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
    Ok((status, text(r, MAX_BODY)?))
}
