//! A latency histogram with bounded memory and bounded relative error.
//!
//! Log-linear buckets, as HdrHistogram uses: values below 128 have a bucket
//! each; above, every power of two is split into 64 buckets, so a bucket's
//! width is at most 1/64 (1.6 %) of its values. Recording is O(1) and the
//! whole range of `u64` fits in under 4,000 counters (30 KiB), however many
//! samples are recorded: a benchmark keeps no vector of samples.

/// Values below this have a bucket each.
const LINEAR: u64 = 128;
/// Buckets per power of two above `LINEAR`.
const PER_OCTAVE: usize = 64;
/// Enough buckets for every `u64`.
const BUCKETS: usize = 58 * PER_OCTAVE + PER_OCTAVE;

/// Counts of values (nanoseconds, say) in log-linear buckets.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    min: u64,
    max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

fn bucket_of(value: u64) -> usize {
    if value < LINEAR {
        return value as usize;
    }
    let bits = 64 - value.leading_zeros();
    let shift = bits - 7;
    let mantissa = (value >> shift) as usize;
    shift as usize * PER_OCTAVE + mantissa
}

/// The largest value that falls in bucket `index`.
fn bucket_top(index: usize) -> u64 {
    if index < LINEAR as usize {
        return index as u64;
    }
    let shift = index / PER_OCTAVE - 1;
    let mantissa = (index - shift * PER_OCTAVE) as u64;
    (((mantissa + 1) as u128) << shift)
        .saturating_sub(1)
        .min(u64::MAX as u128) as u64
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            count: 0,
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.count += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum += value as u128;
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest value recorded (exact), or 0 if none.
    pub fn min(&self) -> u64 {
        if self.count == 0 { 0 } else { self.min }
    }

    /// The largest value recorded (exact), or 0 if none.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the values recorded (exact), or 0 if none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }

    /// The value at `percentile` (0 to 100): the smallest bucket top such
    /// that at least that share of values is at or below it, clamped to the
    /// exact min and max. Within 1/64 of the true value.
    pub fn percentile(&self, percentile: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((percentile / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_top(index).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_bounded() {
        let mut previous_top = None;
        for index in 0..BUCKETS {
            let top = bucket_top(index);
            if let Some(previous) = previous_top {
                assert!(top > previous, "bucket {index} does not grow");
                assert_eq!(bucket_of(previous + 1), index, "gap before bucket {index}");
            }
            assert_eq!(bucket_of(top), index);
            previous_top = Some(top);
            if top == u64::MAX {
                break;
            }
        }
        assert_eq!(bucket_of(u64::MAX), bucket_of(u64::MAX - 1));
    }

    #[test]
    fn small_values_are_exact() {
        let mut histogram = Histogram::new();
        for value in 0..100 {
            histogram.record(value);
        }
        assert_eq!(histogram.count(), 100);
        assert_eq!(histogram.min(), 0);
        assert_eq!(histogram.max(), 99);
        assert_eq!(histogram.percentile(50.0), 49);
        assert_eq!(histogram.percentile(99.0), 98);
        assert_eq!(histogram.percentile(100.0), 99);
        assert_eq!(histogram.mean(), 49.5);
    }

    #[test]
    fn percentiles_of_known_samples_are_within_the_bucket_error() {
        let mut histogram = Histogram::new();
        for value in 1..=1_000_000u64 {
            histogram.record(value);
        }
        for (percentile, exact) in [
            (50.0, 500_000u64),
            (90.0, 900_000),
            (99.0, 990_000),
            (99.9, 999_000),
        ] {
            let found = histogram.percentile(percentile);
            assert!(found >= exact, "p{percentile}: {found} < {exact}");
            assert!(
                (found - exact) as f64 <= exact as f64 / 64.0,
                "p{percentile}: {found} vs {exact}"
            );
        }
        assert_eq!(histogram.min(), 1);
        assert_eq!(histogram.max(), 1_000_000);
        assert_eq!(histogram.percentile(100.0), 1_000_000);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let mut a = Histogram::new();
        let mut b = Histogram::new();
        let mut all = Histogram::new();
        for value in (0..10_000u64).map(|v| v * 37 % 5_003) {
            if value % 2 == 0 { &mut a } else { &mut b }.record(value);
            all.record(value);
        }
        a.merge(&b);
        assert_eq!(a.count(), all.count());
        assert_eq!((a.min(), a.max()), (all.min(), all.max()));
        for p in [1.0, 50.0, 90.0, 99.0, 99.9] {
            assert_eq!(a.percentile(p), all.percentile(p));
        }
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        let histogram = Histogram::new();
        assert_eq!(
            (histogram.min(), histogram.max(), histogram.percentile(99.0)),
            (0, 0, 0)
        );
    }
}
