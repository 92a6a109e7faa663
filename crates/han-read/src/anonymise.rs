//! `--anonymise`: the input written back out with the meter's ids
//! rewritten (`han::anonymise`), for sharing a capture.

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use han::Config;
use han::anonymise::{Anonymiser, Report};

use han_serial::live::Live;
use han_serial::serial::{LineSettings, OpenError, Probe};

use crate::input::Kind;
use crate::notes::Reporter;

/// Exit status when the input held bytes but nothing could be written.
const NOTHING_WRITTEN: u8 = 4;

/// A new secret each run: the same meter gets other ids in each capture
/// shared, so two shared captures cannot be told to be of one meter.
fn secret() -> [u8; 16] {
    let mut k = [0u8; 16];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut k)).is_ok() {
        return k;
    }
    // No /dev/urandom: the standard library's random hash keys.
    use std::hash::{BuildHasher, Hasher};
    for (i, half) in k.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    k
}

/// Reads the input, writes it anonymised to stdout, says on stderr what was
/// done, decrypted and left out.
pub fn run(
    cfg: Config,
    kind: &Kind,
    settings: Option<LineSettings>,
    rep: &mut Reporter,
    raw: &mut Option<std::fs::File>,
) -> Result<ExitCode> {
    let mut stdout = io::stdout().lock();
    if stdout.is_terminal() {
        bail!("--anonymise writes a capture (bytes), not text: send it to a file (han-read --anonymise IN > OUT)");
    }
    let name = match kind {
        Kind::Stdin => "stdin",
        Kind::File(p) | Kind::Serial(p) | Kind::Tcp(p) => p.as_str(),
    };
    let make = || Anonymiser::new(cfg.clone(), secret());
    let mut anon = make();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);
    let mut total: u64 = 0;
    let mut write = |anon: &mut Anonymiser, out: &mut Vec<u8>| -> Result<()> {
        anon.take_output(out);
        if !out.is_empty() {
            stdout.write_all(out).and_then(|()| stdout.flush()).context("cannot write to stdout")?;
            out.clear();
        }
        Ok(())
    };
    match kind {
        Kind::Stdin | Kind::File(_) => {
            let mut src = crate::run::open_reader(kind)?;
            loop {
                let n = crate::run::read_some(&mut src, &mut buf, name)?;
                if n == 0 {
                    anon.finish();
                    write(&mut anon, &mut out)?;
                    break;
                }
                total += n as u64;
                let chunk = buf.get(..n).unwrap_or_default();
                crate::run::log_raw(raw, chunk, rep);
                anon.push(chunk);
                write(&mut anon, &mut out)?;
            }
        }
        Kind::Serial(_) | Kind::Tcp(_) => {
            // A live link ends when han-read is stopped; what it wrote is
            // written as each frame comes.
            let auto = matches!(kind, Kind::Serial(_)) && settings.is_none();
            let mut probe = auto.then(|| Probe::new(Instant::now()));
            let mut live = Live::new(kind.link().context("a live link")?, settings);
            if let Err(e @ OpenError::NotSerial(_)) = live.open_now(rep) {
                return Err(e.into());
            }
            loop {
                let n = live.read(&mut buf, rep);
                let chunk = buf.get(..n).unwrap_or_default();
                crate::run::log_raw(raw, chunk, rep);
                anon.push(chunk);
                write(&mut anon, &mut out)?;
                if crate::run::probe_step(&mut probe, anon.report().messages, &mut live, rep) {
                    anon = make();
                }
            }
        }
    }
    let r = anon.report();
    say(rep, name, total, r);
    Ok(ExitCode::from(if total > 0 && r.messages == 0 { NOTHING_WRITTEN } else { 0 }))
}

/// What was done, on stderr: written, decrypted (and how), left out (and why).
fn say(rep: &mut Reporter, name: &str, total: u64, r: &Report) {
    if total == 0 {
        rep.note(&format!("{name} was empty: nothing to anonymise"));
        return;
    }
    if r.messages == 0 {
        rep.warn(&format!(
            "nothing in {name} decoded, so nothing was written: what does not decode may carry the meter's id \
             ({} bytes left out{})",
            r.left_out_bytes,
            reasons(r)
        ));
        return;
    }
    rep.note(&format!("{} written from {name}, {} rewritten", count(r.messages, "message"), count(r.ids, "id")));
    if r.decrypted > 0 {
        rep.warn(&format!(
            "{} written decrypted: the plain APDU in the frames they came in (the same \
             addresses, lengths and checksums computed; no security header, system title or tag), a Smarty frame as \
             its telegram; the capture decodes without a key: share it, never the key",
            count(r.decrypted, "encrypted message")
        ));
    }
    if r.left_out_bytes > 0 {
        rep.warn(&format!(
            "left out {} and {} that did not decode (they may carry the meter's id){}",
            count(r.left_out_frames, "frame"),
            count(r.left_out_bytes, "byte"),
            reasons(r)
        ));
    }
}

/// `1 frame`, `2 frames`.
fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn reasons(r: &Report) -> String {
    if r.reasons.is_empty() { String::new() } else { format!(": {}", r.reasons.join("; ")) }
}
