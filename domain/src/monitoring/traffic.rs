//! The router's traffic per serving build, between two passes of the
//! monitor: requests by status class and a sample of latencies for the
//! percentiles. Recording is a short lock and a push: it sits on every
//! proxied request. The latencies kept per window are capped (a uniform
//! sample beyond that), so a flood costs memory once, not per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Latencies kept per target and window.
const SAMPLE: usize = 2048;

/// One target's requests since the last [`Traffic::take`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    pub requests: u64,
    /// 2xx, 3xx, 4xx, 5xx (1xx counts with 2xx).
    pub by_class: [u64; 4],
    latencies_ms: Vec<f32>,
}

impl Window {
    fn record(&mut self, status: u16, ms: f32) {
        self.requests += 1;
        self.by_class[usize::from(status.clamp(200, 599) / 100 - 2)] += 1;
        if self.latencies_ms.len() < SAMPLE {
            self.latencies_ms.push(ms);
        } else {
            // Reservoir sampling: every request had the same chance to be kept.
            let slot = rand::random::<u64>() % self.requests;
            if let Some(kept) = self.latencies_ms.get_mut(slot as usize) {
                *kept = ms;
            }
        }
    }

    /// The `q`-quantile (0–1) of the sampled latencies, in milliseconds.
    pub fn percentile(&self, q: f64) -> Option<f64> {
        if self.latencies_ms.is_empty() {
            return None;
        }
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_by(f32::total_cmp);
        let rank = ((q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        Some(f64::from(sorted[rank - 1]))
    }
}

/// Shared by the router (which records) and the monitor (which takes).
#[derive(Clone, Default)]
pub struct Traffic {
    windows: Arc<Mutex<HashMap<String, Window>>>,
}

impl Traffic {
    /// One proxied request to `target` (a build's `host:port`), answered `status` after `took`.
    pub fn record(&self, target: &str, status: u16, took: Duration) {
        let ms = took.as_secs_f32() * 1000.0;
        let mut windows = self.windows.lock().expect("traffic");
        match windows.get_mut(target) {
            Some(w) => w.record(status, ms),
            None => {
                let mut w = Window::default();
                w.record(status, ms);
                windows.insert(target.to_owned(), w);
            }
        }
    }

    /// Everything recorded since the last call, by target; starts new windows.
    pub fn take(&self) -> HashMap<String, Window> {
        std::mem::take(&mut *self.windows.lock().expect("traffic"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_class_and_percentiles_come_from_the_window() {
        let t = Traffic::default();
        for ms in 1..=100u64 {
            let status = if ms % 10 == 0 { 503 } else { 200 };
            t.record("10.0.0.2:8069", status, Duration::from_millis(ms));
        }
        t.record("10.0.0.2:8069", 302, Duration::from_millis(1));
        t.record("10.0.0.2:8069", 404, Duration::from_millis(1));
        let w = t.take().remove("10.0.0.2:8069").unwrap();
        assert_eq!((w.requests, w.by_class), (102, [90, 1, 1, 10]));
        assert_eq!(w.percentile(0.5).map(f64::round), Some(49.0));
        assert_eq!(w.percentile(0.99).map(f64::round), Some(99.0));
        assert!(t.take().is_empty(), "a new window starts empty");
    }

    #[test]
    fn a_flood_keeps_a_bounded_sample() {
        let t = Traffic::default();
        for i in 0..(SAMPLE as u64 * 4) {
            t.record("x", 200, Duration::from_millis(i % 7));
        }
        let w = t.take().remove("x").unwrap();
        assert_eq!(w.requests, SAMPLE as u64 * 4);
        assert_eq!(w.latencies_ms.len(), SAMPLE);
        assert!(w.percentile(1.0).unwrap() <= 6.0);
    }
}
