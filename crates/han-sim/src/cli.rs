//! han-sim's flags and its help text.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Parser;
use han_common::duration::parse as parse_duration;
use han_simulator::Meter;

const EXAMPLES: &str = "\
Meters:
  aidon-no     Aidon 6534, Norway: list 1 every 2.5 s, list 2 every 10 s, list 3 at xx:00:10
  kaifa-no     Kaifa MA304H3E, Norway: list 1 every 2 s, list 2 every 10 s, list 3 at xx:00:10
  kamstrup-no  Kamstrup Omnipower, Norway: list 1 every 10 s, hourly list 2 at xx:00:05
  aidon-se     Aidon, Sweden (RJ12 HAN): a 27-item list every 10 s
  dsmr5        Iskra AM550, Netherlands DSMR 5.0.2 P1: a telegram every second, with gas
  dsmr4        Kaifa, Netherlands DSMR 4.2 P1: a telegram every 10 s, with gas
  fluvius      Fluvius e-MUCS 1.7.1, Belgium P1: every second, quarter-hour peaks, gas, water
  landisgyr-e360-ch  Landis+Gyr E360, Switzerland, VSE push every 5 s (bare values, U in 0.1 V)
  landisgyr-e450-ch  Landis+Gyr E450, Switzerland, VSE push every 5 s in GBT blocks (U in V)
  landisgyr-e570-ch  Landis+Gyr E570, Switzerland, VSE push every 5 s in GBT blocks (U in V)
  iskra-am550-ch     Iskraemeco AM550, Switzerland, VSE push every 5 s in HDLC segments
  acme-x3      Acme X3, a made-up meter no decoder knows: for han-read --meter-profile
               (docs/profiles.md)
Meter clocks run in Europe/Oslo (NO), Europe/Stockholm (SE), Europe/Amsterdam (NL),
Europe/Brussels (BE) and Europe/Zurich (CH) time, summer time included (Acme: Europe/Berlin).

Without --meter it simulates kaifa-no (and says so on stderr).

Examples:
  han-sim | han-read | head -3                            three readings of a Norwegian Kaifa
  han-sim --meter aidon-no --realtime | han-read          a live Norwegian meter
  han-sim --meter dsmr5 --count 5 --seed 1 | han-read     five telegrams, the same every time
  han-sim --meter kaifa-no --duration 7d --start 2025-01-06T00:00:00+01:00 -o week.bin
                                                          a week of frames, as fast as it goes
  han-sim --meter kamstrup-no --key 000102030405060708090A0B0C0D0E0F \\
          --auth-key D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF --count 100 > enc.bin
  han-sim --meter fluvius --profile watts.txt --duration 1d > day.txt

Exit status: 0 done (also when the reader closes the pipe), 1 output error, 2 bad usage.";

/// Writes the byte stream of a real smart meter (HAN or P1) with a simulated household's values.
///
/// Framing, list layout, checksums, cadence and clock copy captures of each meter; power follows a
/// household load (base load, morning and evening peaks, appliances, heating by season) or a
/// profile; the energy registers integrate it exactly over the meter's clock.
#[derive(Debug, Parser)]
#[command(name = "han-sim", version, after_help = EXAMPLES)]
pub struct Args {
    /// The meter to simulate (see the list below). Default: kaifa-no.
    #[arg(long, short = 'm', value_parser = parse_meter, value_name = "METER")]
    pub meter: Option<Meter>,
    /// Stop after this many frames / telegrams.
    #[arg(long, short = 'n', conflicts_with = "duration")]
    pub count: Option<u64>,
    /// Stop after this much meter time: 30s, 10m, 2h, 7d. Neither --count nor --duration: run forever.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Send at the meter's own pace instead of as fast as possible.
    #[arg(long)]
    pub realtime: bool,
    /// When the meter clock starts (RFC 3339, e.g. 2025-01-15T06:00:00+01:00); default now.
    #[arg(long, value_parser = parse_start)]
    pub start: Option<DateTime<Utc>>,
    /// Seed for every random choice: the same seed and start give the same bytes. Default: from the clock.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Encrypt with this AES-128 key (32 hex digits): HAN frames in general-glo-ciphering, P1 telegrams
    /// Smarty-style. Also $HAN_KEY.
    #[arg(long, env = "HAN_KEY", hide_env_values = true, value_parser = parse_key)]
    pub key: Option<[u8; 16]>,
    /// Authenticate with this key (32 hex digits): HAN gets security control 0x30 (else 0x20); P1 always
    /// authenticates, by default with the Smarty key 00112233445566778899AABBCCDDEEFF. Also $HAN_AUTH_KEY.
    #[arg(long, env = "HAN_AUTH_KEY", hide_env_values = true, value_parser = parse_key, requires = "key")]
    pub auth_key: Option<[u8; 16]>,
    /// Power from a file instead of the household model: one watts value per line, one line per
    /// minute, repeated; negative values are export.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_meter(s: &str) -> Result<Meter, String> {
    Meter::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Meter::ALL.iter().map(|m| m.name()).collect();
        format!("unknown meter '{s}' (one of: {})", names.join(", "))
    })
}

fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.to_utc())
        .map_err(|e| format!("'{s}' is not an RFC 3339 time such as 2025-01-15T06:00:00+01:00 ({e})"))
}

/// Parses a 16-byte AES key written as 32 hex digits.
fn parse_key(s: &str) -> Result<[u8; 16], String> {
    let h: String = s.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if h.len() != 32 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("a key is 32 hex digits (16 bytes), e.g. 000102030405060708090A0B0C0D0E0F".into());
    }
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(h.get(2 * i..2 * i + 2).unwrap_or("00"), 16).map_err(|e| e.to_string())?;
    }
    Ok(k)
}

/// Parses a profile: one watts value per line (integers or decimals;
/// blank lines and `#` comments ignored).
pub fn parse_profile(text: &str) -> Result<Vec<i32>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v = line.split('#').next().unwrap_or("").trim();
        if v.is_empty() {
            continue;
        }
        let w: f64 = v.parse().map_err(|_| format!("line {}: '{v}' is not a number of watts", n + 1))?;
        if !w.is_finite() || w.abs() > 1.0e6 {
            return Err(format!("line {}: {v} W is out of range", n + 1));
        }
        out.push(w.round() as i32);
    }
    if out.is_empty() {
        return Err("the profile holds no values (one watts value per line, one line per minute)".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_profiles() {
        assert_eq!(parse_key("000102030405060708090a0b0c0d0e0f").unwrap()[15], 15);
        assert!(parse_key("0001").is_err());
        assert_eq!(parse_profile("# w\n300\n\n1200.4\n-500\n").unwrap(), vec![300, 1200, -500]);
        assert!(parse_profile("abc").is_err());
        assert!(parse_profile("\n").is_err());
    }
}
