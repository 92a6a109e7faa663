//! Durations on the command line and in the config file.

/// Parses a duration: a number and a unit `ms`, `s`, `m`, `h`, `d` or `w`
/// (`30s`, `10m`, `2h`, `7d`); a bare number is seconds.
pub fn parse(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("'{s}' is not a duration (try 30s, 10m, 2h, 7d)"))?;
    let ms = match unit.trim() {
        "ms" => 1,
        "" | "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        u => return Err(format!("unknown unit '{u}' in '{s}' (use ms, s, m, h, d or w)")),
    };
    let total = n.checked_mul(ms).ok_or_else(|| format!("duration '{s}' is too long"))?;
    Ok(std::time::Duration::from_millis(total))
}

/// Writes a duration as [`parse`] reads it, in the largest unit that is
/// exact (`90s`, `10m`, `2h`, `250ms`).
pub fn format(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    match ms {
        0 => "0s".into(),
        _ if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        _ if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        _ if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        _ if ms % 1000 == 0 => format!("{}s", ms / 1000),
        _ => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse("30s").unwrap().as_secs(), 30);
        assert_eq!(parse("10m").unwrap().as_secs(), 600);
        assert_eq!(parse("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse("7d").unwrap().as_secs(), 604_800);
        assert_eq!(parse("15").unwrap().as_secs(), 15);
        assert!(parse("7x").is_err());
        assert!(parse("h").is_err());
        for t in ["90s", "10m", "2h", "250ms", "0s", "1d"] {
            assert_eq!(format(parse(t).unwrap()), t);
        }
    }
}
