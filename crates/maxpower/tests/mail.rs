//! Mail through a real SMTP server (Python's aiosmtpd, started here, its
//! Mailbox handler writing a maildir): exactly one mail per hour over the
//! limit, with the right content; none on a rerun; a mail that failed
//! while the server was down arrives on the next run, once.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use han_testkit::{Tmp, free_port, skip, wait_until};

/// A Python that has aiosmtpd (Debian's python3-aiosmtpd is under /usr/bin);
/// without one, [`skip`].
fn python() -> Option<&'static str> {
    let py = ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p).args(["-c", "import aiosmtpd"]).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    });
    if py.is_none() {
        skip("no aiosmtpd (apt-get install python3-aiosmtpd)");
    }
    py
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(py: &str, port: u16, maildir: &Path) -> Server {
    let child = Command::new(py)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("aiosmtpd to listen", Duration::from_secs(20), || TcpStream::connect(("127.0.0.1", port)).ok());
    Server(child)
}

/// The mails delivered so far, as text.
fn mails(maildir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(maildir.join("new"))
        .map(|d| d.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The mail's text with quoted-printable soft breaks undone.
fn plain(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

#[test]
fn one_mail_per_breach_none_on_a_rerun_and_a_failed_one_later_once() {
    let Some(py) = python() else { return };
    let t = Tmp::new("maxpower", "mail");
    let logs = t.join("log");
    // A day by hand: 1 kW all day but 4 kW from 16:00 to 17:00 and 5 kW from 19:00 to 20:00.
    let mut lines = Vec::new();
    let mut kwh = 500.0;
    for hour in 0..24 {
        for min in 0..60 {
            let w = match hour {
                16 => 4000.0,
                19 => 5000.0,
                _ => 1000.0,
            };
            lines.push(reading(&format!("2025-01-15T{hour:02}:{min:02}:00"), w, kwh));
            kwh += w / 60_000.0;
        }
    }
    file_lines(&logs, han::Tz::Europe__Oslo, &lines);
    let port = free_port();
    let maildir = t.join("maildir");
    let config = t.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[maxpower]\ndir = {:?}\nstate = {:?}\ntz = \"Europe/Oslo\"\nlimit_wh = 3000\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"none\"\nmail_from = \"maxpower <pi@example.org>\"\nmail_to = \"owner@example.org\"\n",
            logs,
            t.join("state")
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let run = |now: &str| maxpower(&["--config", cfg, "--now", now], None);

    let server = start(py, port, &maildir);
    // The first run watches from its hour on: nothing old is mailed.
    assert!(run("2025-01-15T15:30:00+01:00").status.success());
    assert!(mails(&maildir).is_empty());
    // 16:00-17:00 went over: one mail.
    let out = run("2025-01-15T17:20:00+01:00");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = mails(&maildir);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = plain(&got[0]);
    assert!(m.contains("Subject: maxpower: 2025-01-15 16:00 used 4.000 kWh (limit 3.000 kWh)"), "{m}");
    assert!(!m.contains("Sent late"), "sent when due: {m}");
    assert!(m.contains("To: owner@example.org") && m.contains("From: maxpower <pi@example.org>"), "{m}");
    // Headroom: the 17:00 hour (0.333 kWh so far, the same day as 16:00) may reach 5 kWh.
    for part in [
        "The hour from 2025-01-15 16:00 used 4.000 kWh, over the limit of 3.000 kWh.",
        "1. 2025-01-15 16:00  4.000 kWh",
        "step 2 (2-5 kWh/h)",
        "headroom: this hour may take 4.667 kWh more before the step rises",
    ] {
        assert!(m.contains(part), "{part:?} not in\n{m}");
    }
    // A rerun (cron again) mails nothing.
    assert!(run("2025-01-15T17:25:00+01:00").status.success());
    assert_eq!(mails(&maildir).len(), 1);

    // The server goes down; 19:00-20:00 goes over: the run fails with 4 and keeps the mail.
    drop(server);
    let out = run("2025-01-15T20:10:00+01:00");
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("retried on the next run"));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.join("state/maxpower.json")).unwrap()).unwrap();
    assert_eq!(state["pending"].as_array().unwrap().len(), 1, "{state}");
    // Back up: the next run sends it, once; the one after sends nothing.
    let _server = start(py, port, &maildir);
    assert!(run("2025-01-15T20:15:00+01:00").status.success());
    let got = mails(&maildir);
    assert_eq!(got.len(), 2, "{got:?}");
    let late = got.iter().map(|m| plain(m)).find(|m| m.contains("19:00 used 5.000 kWh")).expect("the 19:00 mail");
    assert!(
        late.contains("(Sent late: this mail about the hour from 2025-01-15 19:00 was due at 2025-01-15 20:10, but could not be sent until 2025-01-15 20:15 (Europe/Oslo).)"),
        "{late}"
    );
    assert!(run("2025-01-15T20:20:00+01:00").status.success());
    assert_eq!(mails(&maildir).len(), 2, "never doubled");
}

#[test]
fn early_warnings_once_per_hour_and_the_password_never_from_argv() {
    let Some(py) = python() else { return };
    let t = Tmp::new("maxpower", "early");
    let logs = t.join("log");
    // 2 kW from 10:00, 4.5 kW from 10:30: at 10:40, 1.75 kWh so far, projected 3.25 kWh.
    let mut lines = Vec::new();
    let mut kwh = 10.0;
    for min in 0..41 {
        let w = if min < 30 { 2000.0 } else { 4500.0 };
        lines.push(reading(&format!("2025-01-15T10:{min:02}:00"), w, kwh));
        kwh += w / 60_000.0;
    }
    file_lines(&logs, han::Tz::Europe__Oslo, &lines);
    let port = free_port();
    let maildir = t.join("maildir");
    let config = t.join("config.toml");
    std::fs::write(&config, format!("[maxpower]\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"none\"\nmail_from = \"pi@example.org\"\nmail_to = \"a@example.org, b@example.org\"\nwarn_projected = true\n")).unwrap();
    let st = t.join("st");
    let args = run_args(Some(&config), &logs, &st, "Europe/Oslo", "2025-01-15T10:40:30+01:00", &["--limit-wh", "3000"]);
    let _server = start(py, port, &maildir);
    assert!(maxpower(&args, None).status.success());
    assert!(maxpower(&args, None).status.success());
    let got = mails(&maildir);
    assert_eq!(got.len(), 1, "one early warning for the hour: {got:?}");
    let m = plain(&got[0]);
    assert!(m.contains("Subject: maxpower: 2025-01-15 10:00 is heading for"), "{m}");
    assert!(m.contains("a@example.org") && m.contains("b@example.org"), "{m}");
    // A user without a password is refused before anything is sent; there is no password flag.
    std::fs::write(&config, format!("[maxpower]\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_user = \"pi\"\nmail_from = \"pi@example.org\"\nmail_to = \"a@example.org\"\n")).unwrap();
    let out = maxpower(&args, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("MAXPOWER_SMTP_PASSWORD"));
    let help = maxpower(&["--help"], None);
    assert!(!String::from_utf8_lossy(&help.stdout).contains("--password"));
}

/// A day by hand with 16:00-17:00 over 3 kWh.
fn breach_day(logs: &Path) {
    day_over(logs, &[(16, 4000.0)]);
}

/// A day by hand (the 15th): 1 kW, but these hours at these powers (W).
fn day_over(logs: &Path, over: &[(u32, f64)]) {
    let mut lines = Vec::new();
    let mut kwh = 500.0;
    for hour in 0..24 {
        for min in 0..60 {
            let w = over.iter().find(|(h, _)| *h == hour).map_or(1000.0, |(_, w)| *w);
            lines.push(reading(&format!("2025-01-15T{hour:02}:{min:02}:00"), w, kwh));
            kwh += w / 60_000.0;
        }
    }
    file_lines(logs, han::Tz::Europe__Oslo, &lines);
}

#[test]
fn every_mail_sent_late_says_when_it_was_due() {
    let Some(py) = python() else { return };
    let t = Tmp::new("maxpower", "late");
    let logs = t.join("log");
    day_over(&logs, &[(16, 4000.0), (19, 5000.0), (21, 4500.0)]);
    let port = free_port();
    let maildir = t.join("maildir");
    let config = t.join("config.toml");
    std::fs::write(&config, format!("[maxpower]\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"none\"\nmail_from = \"pi@example.org\"\nmail_to = \"owner@example.org\"\nlimit_wh = 3000\n")).unwrap();
    let st = t.join("st");
    let run = |now: &str| {
        let args = run_args(Some(&config), &logs, &st, "Europe/Oslo", now, &[]);
        maxpower(&args, None)
    };
    // Nothing due yet: the first run only starts watching.
    let out = run("2025-01-15T15:30:00+01:00");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // No server: 16:00 is due at 17:10 and fails; 19:00 is due at 20:10 and waits behind it.
    for now in ["2025-01-15T17:10:00+01:00", "2025-01-15T20:10:00+01:00"] {
        let out = run(now);
        assert_eq!(out.status.code(), Some(4), "{now}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(st.join("maxpower.json")).unwrap()).unwrap();
    assert_eq!(state["pending"].as_array().unwrap().len(), 2, "{state}");
    // The server is back: both go out at 20:40, each saying it is late and when it was due.
    let _server = start(py, port, &maildir);
    let out = run("2025-01-15T20:40:00+01:00");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = mails(&maildir).iter().map(|m| plain(m)).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    for (hour, due) in [("16:00", "17:10"), ("19:00", "20:10")] {
        let m = got.iter().find(|m| m.contains(&format!("Subject: maxpower: 2025-01-15 {hour} used"))).expect(hour);
        let note = format!(
            "(Sent late: this mail about the hour from 2025-01-15 {hour} was due at 2025-01-15 {due}, but could not be sent until 2025-01-15 20:40 (Europe/Oslo).)"
        );
        assert!(m.contains(&note), "{note:?} not in\n{m}");
        assert_eq!(m.matches("Sent late").count(), 1, "{m}");
    }
    // 21:00 goes over with the server up: sent when due, with no such note.
    let out = run("2025-01-15T22:10:00+01:00");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = mails(&maildir).iter().map(|m| plain(m)).collect();
    assert_eq!(got.len(), 3, "{got:?}");
    let on_time = got.iter().find(|m| m.contains("Subject: maxpower: 2025-01-15 21:00 used 4.500 kWh")).expect("21:00");
    assert!(!on_time.contains("Sent late"), "{on_time}");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(st.join("maxpower.json")).unwrap()).unwrap()["pending"],
        serde_json::json!([])
    );
}

#[test]
fn starttls_and_implicit_tls_with_a_login() {
    let Some(py) = python() else { return };
    let t = Tmp::new("maxpower", "tls");
    // A CA of the test's own, and the server's certificate signed by it.
    let (ca, ca_key, cert, key, csr) =
        (t.join("ca.pem"), t.join("ca.key"), t.join("cert.pem"), t.join("key.pem"), t.join("req.csr"));
    let ext = t.join("ext.cnf");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let p = |p: &std::path::PathBuf| p.to_str().unwrap().to_owned();
    for args in [
        vec![
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=maxpower test CA",
            "-days",
            "2",
            "-keyout",
            &p(&ca_key),
            "-out",
            &p(&ca),
        ],
        vec!["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", &p(&key), "-out", &p(&csr)],
        vec![
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(&ca),
            "-CAkey",
            &p(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p(&ext),
            "-out",
            &p(&cert),
        ],
    ] {
        let made = Command::new("openssl").args(&args).stdout(Stdio::null()).stderr(Stdio::null()).status();
        assert!(made.is_ok_and(|s| s.success()), "openssl {args:?}");
    }
    let logs = t.join("log");
    breach_day(&logs);
    for mode in ["starttls", "tls"] {
        let port = free_port();
        let maildir = t.join(&format!("maildir-{mode}"));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");
        let child = Command::new(py)
            .arg(script)
            .args([
                &port.to_string(),
                maildir.to_str().unwrap(),
                cert.to_str().unwrap(),
                key.to_str().unwrap(),
                mode,
                "pi",
                "s3cret",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _server = Server(child);
        wait_until("the SMTP server to listen", Duration::from_secs(20), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let config = t.join(&format!("{mode}.toml"));
        let ca_pem = ca.clone();
        let write = |ca: bool| {
            let ca = if ca { format!("smtp_ca = {:?}\n", p(&ca_pem)) } else { String::new() };
            std::fs::write(&config, format!("[maxpower]\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"{mode}\"\n{ca}smtp_user = \"pi\"\nmail_from = \"pi@example.org\"\nmail_to = \"owner@example.org\"\nlimit_wh = 3000\n")).unwrap();
        };
        let st = t.join(&format!("state-{mode}"));
        let run = |now: &str, password: &str| {
            let args = run_args(Some(&config), &logs, &st, "Europe/Oslo", now, &[]);
            maxpower_env(&args, None, &[("MAXPOWER_SMTP_PASSWORD", password)])
        };
        write(true);
        assert!(run("2025-01-15T15:30:00+01:00", "s3cret").status.success(), "{mode}: the first run watches");
        // A wrong password: refused, kept.
        let out = run("2025-01-15T17:20:00+01:00", "wrong");
        assert_eq!(out.status.code(), Some(4), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("535"),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // A certificate nobody vouches for: refused, kept.
        write(false);
        let out = run("2025-01-15T17:21:00+01:00", "s3cret");
        assert_eq!(out.status.code(), Some(4), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("certificate"),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(mails(&maildir).is_empty());
        // Trusted and logged in: the one mail, once.
        write(true);
        let out = run("2025-01-15T17:22:00+01:00", "s3cret");
        assert!(out.status.success(), "{mode}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(run("2025-01-15T17:23:00+01:00", "s3cret").status.success());
        let got = mails(&maildir);
        assert_eq!(got.len(), 1, "{mode}: {got:?}");
        assert!(plain(&got[0]).contains("Subject: maxpower: 2025-01-15 16:00 used 4.000 kWh"), "{mode}");
    }
}

#[test]
fn a_mail_before_the_hour_raises_the_step() {
    let Some(py) = python() else { return };
    let t = Tmp::new("maxpower", "step");
    let logs = t.join("log");
    // The 14th: 4.5 kWh at 17:00 (step 2, 2-5 kWh/h, so far). The 15th: 6 kW from 10:00:
    // at 10:20, 2 kWh so far, heading for 6 kWh: the month's step would rise. No limit set.
    let mut lines = Vec::new();
    let mut kwh = 10.0;
    for (day, hour, w) in [(14, 17, 4500.0), (15, 10, 6000.0)] {
        for min in 0..60 {
            if day == 15 && min > 20 {
                break;
            }
            lines.push(reading(&format!("2025-01-{day}T{hour}:{min:02}:00"), w, kwh));
            kwh += w / 60_000.0;
        }
        if day == 14 {
            lines.push(reading("2025-01-14T18:00:00", 0.0, kwh));
        }
    }
    file_lines(&logs, han::Tz::Europe__Oslo, &lines);
    let port = free_port();
    let maildir = t.join("maildir");
    let config = t.join("config.toml");
    std::fs::write(&config, format!("[maxpower]\nsmtp_server = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_tls = \"none\"\nmail_from = \"pi@example.org\"\nmail_to = \"owner@example.org\"\nwarn_step = true\ntariff = \"no\"\n")).unwrap();
    let st = t.join("st");
    let args = run_args(Some(&config), &logs, &st, "Europe/Oslo", "2025-01-15T10:20:30+01:00", &[]);
    let _server = start(py, port, &maildir);
    for _ in 0..2 {
        let out = maxpower(&args, None);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let got = mails(&maildir);
    assert_eq!(got.len(), 1, "one warning for the hour: {got:?}");
    let m = plain(&got[0]);
    assert!(m.contains("Subject: maxpower: 2025-01-15 10:00 would raise this month's step"), "{m}");
    assert!(m.contains("will come to 6.000 kWh") && m.contains("from step 2"), "{m}");
}
