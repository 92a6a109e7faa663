//! Sending a mail: SMTP (STARTTLS, implicit TLS, or plain on a trusted
//! local relay), with a login when the config has one.

use std::path::PathBuf;
use std::time::Duration;

use han_common::Config;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

/// The environment variable that holds the SMTP password (else `smtp_password`).
pub const PASSWORD_ENV: &str = "MAXPOWER_SMTP_PASSWORD";
const S: &str = "maxpower";

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain, then STARTTLS (required), port 587 by default.
    StartTls,
    /// TLS from the first byte, port 465 by default.
    Implicit,
    /// No TLS (a relay on this machine or a trusted network), port 25 by default.
    None,
}

/// Where and how mail goes.
#[derive(Clone)]
pub struct Smtp {
    server: String,
    port: u16,
    security: Security,
    login: Option<(String, String)>,
    /// A PEM file of a CA (or a self-signed server certificate) to trust
    /// besides the system's.
    ca: Option<PathBuf>,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl std::fmt::Debug for Smtp {
    // Not the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.login.as_ref().map(|l| &l.0))
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// The mail settings of the config file; `None` when no `smtp_server` is set.
    pub fn from_config(c: &Config) -> Result<Option<Smtp>, String> {
        let get = |k: &str| c.string(S, k).map_err(|e| e.to_string());
        let Some(server) = get("smtp_server")? else { return Ok(None) };
        let security = match get("smtp_tls")?.as_deref() {
            None | Some("starttls") => Security::StartTls,
            Some("tls") => Security::Implicit,
            Some("none") => Security::None,
            Some(other) => return Err(format!("config [maxpower] smtp_tls = {other:?}: starttls, tls or none")),
        };
        let port = match c.integer(S, "smtp_port").map_err(|e| e.to_string())? {
            Some(p) => u16::try_from(p).map_err(|_| format!("config [maxpower] smtp_port = {p}: 1-65535"))?,
            None => match security {
                Security::StartTls => 587,
                Security::Implicit => 465,
                Security::None => 25,
            },
        };
        let password = std::env::var(PASSWORD_ENV).ok().or(get("smtp_password")?);
        let login = match (get("smtp_user")?, password) {
            (Some(u), Some(p)) => Some((u, p)),
            (Some(u), None) => {
                return Err(format!(
                    "config [maxpower] smtp_user = {u:?} but no password: set smtp_password or ${PASSWORD_ENV}"
                ));
            }
            (None, _) => None,
        };
        let mailbox =
            |k: &str, v: &str| v.parse::<Mailbox>().map_err(|e| format!("config [maxpower] {k} = {v:?}: {e}"));
        let from =
            mailbox("mail_from", &get("mail_from")?.ok_or("config [maxpower] has smtp_server but no mail_from")?)?;
        let to_text = get("mail_to")?.ok_or("config [maxpower] has smtp_server but no mail_to")?;
        let to = to_text.split(',').map(|a| mailbox("mail_to", a.trim())).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Smtp { server, port, security, login, ca: get("smtp_ca")?.map(PathBuf::from), from, to }))
    }

    /// The server, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.server, self.port)
    }

    /// Sends one plain-text mail.
    pub fn send(&self, subject: &str, body: &str) -> Result<(), String> {
        let mut b = Message::builder().from(self.from.clone()).subject(subject).header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            b = b.to(to.clone());
        }
        let message = b.body(body.to_owned()).map_err(|e| format!("cannot build the mail: {e}"))?;
        let tls = |wrap: bool| -> Result<Tls, String> {
            let mut p = TlsParameters::builder(self.server.clone());
            if let Some(ca) = &self.ca {
                let pem = std::fs::read(ca).map_err(|e| format!("smtp_ca {}: {e}", ca.display()))?;
                p = p.add_root_certificate(
                    Certificate::from_pem(&pem).map_err(|e| format!("smtp_ca {}: {e}", ca.display()))?,
                );
            }
            let p = p.build().map_err(|e| format!("TLS: {e}"))?;
            Ok(if wrap { Tls::Wrapper(p) } else { Tls::Required(p) })
        };
        let mut t =
            SmtpTransport::builder_dangerous(&self.server).port(self.port).timeout(Some(Duration::from_secs(30)));
        t = match self.security {
            Security::StartTls => t.tls(tls(false)?),
            Security::Implicit => t.tls(tls(true)?),
            Security::None => t.tls(Tls::None),
        };
        if let Some((user, password)) = &self.login {
            t = t.credentials(Credentials::new(user.clone(), password.clone()));
        }
        t.build().send(&message).map(|_| ()).map_err(|e| format!("{}: {e}", self.server()))
    }
}
