//! Latency samples and their percentiles. Runs are bounded, so every
//! sample is kept and sorted once; no histogram approximates anything.

use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Latencies {
    samples: Vec<Duration>,
    sorted: bool,
}

impl Latencies {
    pub fn push(&mut self, sample: Duration) {
        self.samples.push(sample);
        self.sorted = false;
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// The sample at or below which `p` percent fall (nearest rank).
    pub fn percentile(&mut self, p: f64) -> Duration {
        if self.samples.is_empty() {
            return Duration::ZERO;
        }
        if !self.sorted {
            self.samples.sort_unstable();
            self.sorted = true;
        }
        let rank = (p / 100.0 * self.samples.len() as f64).ceil() as usize;
        self.samples[rank.clamp(1, self.samples.len()) - 1]
    }

    /// "p50 1.20 ms, p95 3.40 ms, p99 7.10 ms (n=1234)".
    pub fn summary(&mut self) -> String {
        self.summary_to("p99", 99.0)
    }

    /// p50 and p95, then the percentile `top` named `label` (such as
    /// "max" for 100).
    pub fn summary_to(&mut self, label: &str, top: f64) -> String {
        format!(
            "p50 {}, p95 {}, {label} {} (n={})",
            millis(self.percentile(50.0)),
            millis(self.percentile(95.0)),
            millis(self.percentile(top)),
            self.len()
        )
    }
}

pub fn millis(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_nearest_rank() {
        let mut l = Latencies::default();
        for ms in (1..=100).rev() {
            l.push(Duration::from_millis(ms));
        }
        assert_eq!(l.percentile(50.0), Duration::from_millis(50));
        assert_eq!(l.percentile(99.0), Duration::from_millis(99));
        assert_eq!(l.percentile(100.0), Duration::from_millis(100));
        assert_eq!(Latencies::default().percentile(99.0), Duration::ZERO);
    }
}
