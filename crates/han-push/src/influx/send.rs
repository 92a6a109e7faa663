//! One write request to InfluxDB, and what its answer means for the batch.

use crate::http::{self, Answer};
use crate::secrets::Secret;

/// Where the points go.
#[derive(Debug, Clone)]
pub enum Target {
    /// InfluxDB 1.x: `POST /write?db=DB&precision=ms`, basic auth when a user is given.
    V1 {
        /// The server, without a trailing `/`.
        url: String,
        /// The database.
        db: String,
        /// The user and password.
        login: Option<(String, Secret)>,
    },
    /// InfluxDB 2.x: `POST /api/v2/write?org=..&bucket=..&precision=ms`, `Authorization: Token ...`.
    V2 {
        /// The server, without a trailing `/`.
        url: String,
        /// The organisation.
        org: String,
        /// The bucket.
        bucket: String,
        /// The API token.
        token: Secret,
    },
}

impl Target {
    /// `database han` / `bucket han of org home`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Target::V1 { url, db, .. } => format!("database {db:?} at {url}"),
            Target::V2 { url, org, bucket, .. } => format!("bucket {bucket:?} of org {org:?} at {url}"),
        }
    }
}

/// What became of a batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written.
    Written,
    /// The server wrote what it could and refused `dropped` points of the
    /// batch (1.x "partial write ... dropped=N"), or refused the whole batch
    /// (`dropped` = its size): bad data, not worth sending again.
    Refused {
        /// Points refused.
        dropped: usize,
        /// The server's message.
        why: String,
    },
    /// Not now (no connection, 5xx, 429): sent again later.
    Retry(String),
    /// Never (credentials refused, no such database): stop.
    Fatal(String),
}

/// Posts `body` (`points` lines) to the target.
pub fn write(agent: &ureq::Agent, target: &Target, body: &str, points: usize) -> Outcome {
    let req = match target {
        Target::V1 { url, db, login } => {
            let r = agent.post(&format!("{url}/write")).query("db", db).query("precision", "ms");
            match login {
                Some((user, password)) => r.set("Authorization", &http::basic_auth(user, password.expose())),
                None => r,
            }
        }
        Target::V2 { url, org, bucket, token } => agent
            .post(&format!("{url}/api/v2/write"))
            .query("org", org)
            .query("bucket", bucket)
            .query("precision", "ms")
            .set("Authorization", &format!("Token {}", token.expose())),
    };
    let req = req.set("Content-Type", "text/plain; charset=utf-8");
    outcome(Answer::of(req.send_string(body)), target, points)
}

/// The meaning of an answer to a batch of `points`.
fn outcome(answer: Answer, target: &Target, points: usize) -> Outcome {
    match answer {
        Answer::Ok(_) => Outcome::Written,
        Answer::Transport(e) => Outcome::Retry(e),
        Answer::Status(s, body) if s == 429 || s >= 500 => Outcome::Retry(format!("HTTP {s} {}", message(&body))),
        Answer::Status(s @ (401 | 403), body) => {
            let what = match target {
                Target::V1 { login: None, .. } => {
                    "the server wants a login: --user, and the password in $HAN_PUSH_INFLUX_PASSWORD or [han-push.influx] password"
                }
                Target::V1 { login: Some((_, p)), .. } => &format!("check --user and the password ({})", p.from),
                Target::V2 { token, .. } => {
                    &format!("check the token ({}) and that it may write to the bucket", token.from)
                }
            };
            Outcome::Fatal(format!("{} refused the login (HTTP {s} {}): {what}", target.describe(), message(&body)))
        }
        Answer::Status(404, body) => Outcome::Fatal(format!(
            "{}: not found (HTTP 404 {}); create it first (1.x: CREATE DATABASE)",
            target.describe(),
            message(&body)
        )),
        Answer::Status(s, body) => {
            let why = format!("HTTP {s} {}", message(&body));
            Outcome::Refused { dropped: partial_dropped(&body).unwrap_or(points).min(points), why }
        }
    }
}

/// The server's message: the `error`/`message` of a JSON body, else the body.
fn message(body: &str) -> String {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let said = json.as_ref().and_then(|j| j.get("error").or_else(|| j.get("message"))).and_then(|m| m.as_str());
    let text = said.unwrap_or(body);
    let short: String = text.chars().take(300).collect();
    if short.is_empty() { "(no message)".to_owned() } else { short }
}

/// `dropped=N` of an InfluxDB 1.x partial write message.
fn partial_dropped(body: &str) -> Option<usize> {
    let at = body.rfind("dropped=")? + "dropped=".len();
    let digits: String = body.get(at..)?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1() -> Target {
        Target::V1 { url: "http://h:8086".into(), db: "han".into(), login: None }
    }

    #[test]
    fn answers() {
        let t = v1();
        assert_eq!(outcome(Answer::Ok(String::new()), &t, 3), Outcome::Written);
        assert!(matches!(outcome(Answer::Transport("refused".into()), &t, 3), Outcome::Retry(_)));
        assert!(matches!(outcome(Answer::Status(503, String::new()), &t, 3), Outcome::Retry(_)));
        assert!(matches!(outcome(Answer::Status(429, String::new()), &t, 3), Outcome::Retry(_)));
        let partial = r#"{"error":"partial write: field type conflict: input field \"p\" on measurement \"han\" is type float, already exists as type integer dropped=2"}"#;
        match outcome(Answer::Status(400, partial.into()), &t, 3) {
            Outcome::Refused { dropped: 2, why } => {
                assert!(why.starts_with("HTTP 400 partial write: field type conflict"), "{why}")
            }
            o => panic!("{o:?}"),
        }
        assert_eq!(
            outcome(Answer::Status(400, r#"{"error":"unable to parse"}"#.into()), &t, 3),
            Outcome::Refused { dropped: 3, why: "HTTP 400 unable to parse".into() }
        );
        match outcome(Answer::Status(401, r#"{"error":"authorization failed"}"#.into()), &t, 3) {
            Outcome::Fatal(m) => {
                assert!(m.contains("refused the login (HTTP 401 authorization failed)") && m.contains("--user"), "{m}")
            }
            o => panic!("{o:?}"),
        }
        match outcome(Answer::Status(404, r#"{"error":"database not found: \"han\""}"#.into()), &t, 3) {
            Outcome::Fatal(m) => assert!(m.contains("database \"han\" at http://h:8086: not found"), "{m}"),
            o => panic!("{o:?}"),
        }
    }
}
