//! Time zones: a zone by name, or the system's.

use std::path::Path;

pub use chrono_tz::Tz;

/// A name that is not a time zone.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a time zone name (e.g. Europe/Oslo)")]
pub struct UnknownZone(pub String);

/// The zone named `name` (`Europe/Oslo`, `UTC`).
pub fn parse(name: &str) -> Result<Tz, UnknownZone> {
    name.trim().parse::<Tz>().map_err(|_| UnknownZone(name.to_owned()))
}

/// The system's zone and where it was found: `$TZ`, `/etc/timezone`, the
/// `/etc/localtime` link; UTC when none names a zone.
pub fn system() -> (Tz, &'static str) {
    if let Some(tz) = std::env::var("TZ").ok().and_then(|v| from_name_or_path(&v)) {
        return (tz, "$TZ");
    }
    if let Some(tz) = std::fs::read_to_string("/etc/timezone").ok().and_then(|v| from_name_or_path(&v)) {
        return (tz, "/etc/timezone");
    }
    if let Some(tz) = std::fs::read_link("/etc/localtime").ok().and_then(|p| from_name_or_path(&p.to_string_lossy())) {
        return (tz, "/etc/localtime");
    }
    (Tz::UTC, "no zone configured on this system")
}

/// `Europe/Oslo`, `:Europe/Oslo` or a path ending in `zoneinfo/Europe/Oslo`.
fn from_name_or_path(v: &str) -> Option<Tz> {
    let v = v.trim().trim_start_matches(':');
    let name = match v.rfind("zoneinfo/") {
        Some(i) => v.get(i + "zoneinfo/".len()..)?,
        None if Path::new(v).is_absolute() => return None,
        None => v,
    };
    name.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(parse("Europe/Oslo").unwrap(), Tz::Europe__Oslo);
        assert!(parse("Mars/Olympus").unwrap_err().to_string().contains("not a time zone"));
        assert_eq!(from_name_or_path(":Europe/Amsterdam\n"), Some(Tz::Europe__Amsterdam));
        assert_eq!(from_name_or_path("/usr/share/zoneinfo/Europe/Brussels"), Some(Tz::Europe__Brussels));
        assert_eq!(from_name_or_path("../usr/share/zoneinfo/Etc/UTC"), Some(Tz::Etc__UTC));
        assert_eq!(from_name_or_path("/etc/whatever"), None);
    }
}
