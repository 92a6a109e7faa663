//! Messages about bad input, rate-limited: a bad cable or a wrong pipe must
//! not flood the journal.

use std::time::{Duration, Instant};

/// Lets through at most `per_minute` messages a minute and counts the rest.
#[derive(Debug)]
pub struct PerMinute {
    per_minute: u32,
    window: Instant,
    shown: u32,
    suppressed: u32,
}

impl PerMinute {
    /// At most `per_minute` a minute.
    pub fn new(per_minute: u32) -> PerMinute {
        PerMinute { per_minute, window: Instant::now(), shown: 0, suppressed: 0 }
    }

    /// Whether to show the next message; with it, how many the last minute
    /// held back (to be said first).
    pub fn allow(&mut self) -> (bool, Option<u32>) {
        let mut held = None;
        if self.window.elapsed() > Duration::from_secs(60) {
            held = (self.suppressed > 0).then_some(self.suppressed);
            self.window = Instant::now();
            self.shown = 0;
            self.suppressed = 0;
        }
        if self.shown >= self.per_minute {
            self.suppressed += 1;
            return (false, held);
        }
        self.shown += 1;
        (true, held)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_most_n_a_minute() {
        let mut l = super::PerMinute::new(3);
        let shown = (0..10).filter(|_| l.allow().0).count();
        assert_eq!(shown, 3);
    }
}
