//! The requests to Domoticz: `GET /json.htm?type=command&
//! param=udevice&idx=N&nvalue=0&svalue=...`, answered `{"status":"OK"}` or
//! `{"status":"ERR"}`.

use crate::http::{self, Answer};
use crate::secrets::Secret;

/// The server and its login.
#[derive(Debug, Clone)]
pub struct Server {
    /// Without a trailing `/`.
    pub url: String,
    /// The user and password (basic authentication).
    pub login: Option<(String, Secret)>,
    /// The agent, with the request timeout.
    pub agent: ureq::Agent,
}

/// One update: the devices to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The P1 smart meter's idx and svalue.
    pub p1: Option<(u64, String)>,
    /// The gas device's idx and the total in litres (sent when it changed).
    pub gas: Option<(u64, u64)>,
}

/// What one request came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// `{"status":"OK"}`.
    Ok,
    /// Not done this time (no answer, an HTTP error, `ERR`): the next interval sends newer values.
    Missed(String),
    /// Never: the login was refused.
    Fatal(String),
}

/// One udevice request.
pub fn udevice(server: &Server, idx: u64, svalue: &str) -> Sent {
    let mut req = server
        .agent
        .get(&format!("{}/json.htm", server.url))
        .query("type", "command")
        .query("param", "udevice")
        .query("idx", &idx.to_string())
        .query("nvalue", "0")
        .query("svalue", svalue);
    if let Some((user, password)) = &server.login {
        req = req.set("Authorization", &http::basic_auth(user, password.expose()));
    }
    meaning(Answer::of(req.call()), server)
}

/// What an answer means.
fn meaning(answer: Answer, server: &Server) -> Sent {
    match answer {
        Answer::Ok(body) => {
            let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let field = |k: &str| json.as_ref().and_then(|j| j.get(k)).and_then(|v| v.as_str()).map(str::to_owned);
            match field("status").as_deref() {
                Some("OK") => Sent::Ok,
                Some(status) => {
                    let message =
                        field("message").or_else(|| field("title")).map(|m| format!(" ({m})")).unwrap_or_default();
                    Sent::Missed(format!(
                        "Domoticz answered {status}{message}: is there a device with this idx, of the right type?"
                    ))
                }
                None => {
                    let start: String = body.chars().take(80).collect();
                    Sent::Missed(format!("the answer is not Domoticz's JSON: {start:?}"))
                }
            }
        }
        Answer::Status(s @ (401 | 403), _) => Sent::Fatal(match &server.login {
            None => format!(
                "{} wants a login (HTTP {s}): --user, and the password in $HAN_PUSH_DOMOTICZ_PASSWORD or [han-push.domoticz] password",
                server.url
            ),
            Some((_, p)) => {
                format!("{} refused the login (HTTP {s}): check --user and the password ({})", server.url, p.from)
            }
        }),
        Answer::Status(s, body) => {
            let start: String = body.chars().take(120).collect();
            Sent::Missed(format!("HTTP {s} {start}").trim_end().to_owned())
        }
        Answer::Transport(e) => Sent::Missed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn answers() {
        let s = Server { url: "http://d:8080".into(), login: None, agent: http::agent(Duration::from_secs(1)) };
        assert_eq!(meaning(Answer::Ok(r#"{"status":"OK","title":"Update Device"}"#.into()), &s), Sent::Ok);
        match meaning(Answer::Ok(r#"{"status":"ERR"}"#.into()), &s) {
            Sent::Missed(m) => assert!(m.starts_with("Domoticz answered ERR: is there a device with this idx"), "{m}"),
            o => panic!("{o:?}"),
        }
        assert!(
            matches!(meaning(Answer::Ok("<html>".into()), &s), Sent::Missed(m) if m.contains("not Domoticz's JSON"))
        );
        assert!(matches!(meaning(Answer::Status(500, String::new()), &s), Sent::Missed(m) if m == "HTTP 500"));
        assert!(
            matches!(meaning(Answer::Status(401, String::new()), &s), Sent::Fatal(m) if m.contains("wants a login"))
        );
    }
}
