//! Calls waiting over the last 10 minutes, for the wallboard's chart.
//!
//! The server samples the queue length at a fixed interval (a repeating
//! timer: the twin of `twisted.internet.task.LoopingCall`) and keeps the last
//! [`HISTORY_SAMPLES`] samples in fixed memory; `GET /history` serves them so
//! a page opened late, or reloaded, still draws the whole 10 minutes.

use std::collections::VecDeque;

/// Seconds between two samples.
pub const SAMPLE_INTERVAL_SECS: u64 = 5;

/// Samples kept: 10 minutes at one every [`SAMPLE_INTERVAL_SECS`].
pub const HISTORY_SAMPLES: usize = (600 / SAMPLE_INTERVAL_SECS) as usize;

/// A ring of the most recent queue-length samples, oldest first.
#[derive(Debug, Clone, Default)]
pub struct WaitingHistory {
    /// The samples, oldest at the front; never longer than [`HISTORY_SAMPLES`].
    samples: VecDeque<u64>,
}

impl WaitingHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the number of calls waiting now, forgetting the oldest sample
    /// once 10 minutes are held.
    pub fn sample(&mut self, waiting: u64) {
        if self.samples.len() == HISTORY_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(waiting);
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = u64> + '_ {
        self.samples.iter().copied()
    }

    /// The body of `GET /history`:
    /// `{"interval_s": 5, "waiting": [0, 1, 3]}`, oldest sample first.
    pub fn to_json(&self) -> String {
        let waiting: Vec<u64> = self.samples().collect();
        serde_json::json!({"interval_s": SAMPLE_INTERVAL_SECS, "waiting": waiting}).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ten_minutes_oldest_first() {
        let mut history = WaitingHistory::new();
        assert_eq!(history.to_json(), r#"{"interval_s":5,"waiting":[]}"#);
        for n in 0..(HISTORY_SAMPLES as u64 + 3) {
            history.sample(n);
        }
        let samples: Vec<u64> = history.samples().collect();
        assert_eq!(samples.len(), HISTORY_SAMPLES);
        assert_eq!(samples[0], 3);
        assert_eq!(*samples.last().unwrap(), HISTORY_SAMPLES as u64 + 2);
    }
}
