//! Belgium's capacity tariff (Flanders, since 2023): the month's peak is
//! its highest quarter-hour average demand; the bill takes the mean of
//! the last 12 monthly peaks, each counted as at least 2.5 kW.

use chrono::{DateTime, Utc};

use crate::hours::Hour;

/// The least a month's peak counts for, W.
pub const FLOOR_W: f64 = 2500.0;
/// How many monthly peaks the bill averages.
pub const MONTHS: usize = 12;

/// A month's peak demand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// The quarter-hour average, W.
    pub w: f64,
    /// When (the quarter's start, or the meter's peak time).
    pub at: Option<DateTime<Utc>>,
    /// The meter's own 1-0:1.6.0 (else computed from the readings).
    pub from_meter: bool,
}

/// The highest quarter hour of `quarters` (one month's), as demand.
pub fn computed(quarters: &[Hour]) -> Option<Peak> {
    let top = quarters.iter().max_by(|a, b| a.import_wh.total_cmp(&b.import_wh))?;
    Some(Peak { w: top.import_wh * 4.0, at: Some(top.start), from_meter: false })
}

/// The demand a month is billed for: its peak, at least [`FLOOR_W`].
pub fn billed(peak_w: f64) -> f64 {
    peak_w.max(FLOOR_W)
}

/// The mean the bill uses of the newest [`MONTHS`] monthly peaks (W,
/// newest first; fewer when fewer are known), each at least the floor.
pub fn mean_w(peaks_newest_first: &[f64]) -> f64 {
    let taken: Vec<f64> = peaks_newest_first.iter().take(MONTHS).map(|p| billed(*p)).collect();
    if taken.is_empty() { FLOOR_W } else { taken.iter().sum::<f64>() / taken.len() as f64 }
}

/// How much more energy (Wh) the quarter hour now running may take, on
/// top of `so_far_wh`, before it sets a new billed peak for the month.
pub fn headroom_wh(month_peak_w: f64, so_far_wh: f64) -> f64 {
    (billed(month_peak_w) / 4.0 - so_far_wh).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_counts_per_month_and_twelve_months_at_most() {
        assert_eq!(mean_w(&[]), 2500.0);
        assert_eq!(mean_w(&[1000.0, 4500.0]), 3500.0, "1 kW counts as 2.5 kW");
        let thirteen: Vec<f64> = (0..13).map(|i| if i == 12 { 100_000.0 } else { 3000.0 }).collect();
        assert_eq!(mean_w(&thirteen), 3000.0, "the 13th month back is not billed");
        assert_eq!(headroom_wh(2000.0, 100.0), 525.0);
        assert_eq!(headroom_wh(6000.0, 2000.0), 0.0);
    }

    #[test]
    fn the_highest_quarter_is_the_peak() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let q = |s, wh| Hour { start: at(s), import_wh: wh, export_wh: 0.0, from_registers: true, complete: true };
        let p = computed(&[q("2025-01-01T10:00:00Z", 500.0), q("2025-01-01T10:15:00Z", 900.0)]).unwrap();
        assert_eq!((p.w, p.at, p.from_meter), (3600.0, Some(at("2025-01-01T10:15:00Z")), false));
        assert_eq!(computed(&[]), None);
    }
}
