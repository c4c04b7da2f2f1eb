//! A `metrics` recorder that keeps every value in memory, for tests that
//! check the library's metrics move: counters and gauges by their key
//! (`name{label="value",…}`, labels in the order given), histograms as
//! the number of values recorded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// The values recorded, shared by every handle.
#[derive(Clone, Debug, Default)]
pub struct Values(Arc<Mutex<BTreeMap<String, f64>>>);

impl Values {
    /// The value under `key`, if anything was recorded under it.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.lock().get(key).copied()
    }

    /// Every key and value.
    pub fn all(&self) -> BTreeMap<String, f64> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, f64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, key: &str, f: impl FnOnce(&mut f64)) {
        f(self.lock().entry(key.to_owned()).or_insert(0.0));
    }
}

/// One metric's handle: its key in [`Values`].
struct Handle {
    key: String,
    values: Values,
}

impl CounterFn for Handle {
    fn increment(&self, value: u64) {
        self.values.update(&self.key, |v| *v += value as f64);
    }
    fn absolute(&self, value: u64) {
        self.values.update(&self.key, |v| *v = value as f64);
    }
}

impl GaugeFn for Handle {
    fn increment(&self, value: f64) {
        self.values.update(&self.key, |v| *v += value);
    }
    fn decrement(&self, value: f64) {
        self.values.update(&self.key, |v| *v -= value);
    }
    fn set(&self, value: f64) {
        self.values.update(&self.key, |v| *v = value);
    }
}

impl HistogramFn for Handle {
    fn record(&self, _: f64) {
        self.values.update(&self.key, |v| *v += 1.0);
    }
}

/// Records into [`Values`].
#[derive(Clone, Debug, Default)]
pub struct MemoryRecorder {
    values: Values,
}

impl MemoryRecorder {
    /// Installs a new recorder as the process's global one and returns its
    /// values.
    ///
    /// # Panics
    /// If a global recorder is installed already.
    pub fn install() -> Values {
        let recorder = MemoryRecorder::default();
        let values = recorder.values.clone();
        metrics::set_global_recorder(recorder).expect("no recorder installed yet");
        values
    }

    fn handle(&self, key: &Key) -> Arc<Handle> {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}=\"{}\"", l.key(), l.value()))
            .collect();
        let key = if labels.is_empty() {
            key.name().to_owned()
        } else {
            format!("{}{{{}}}", key.name(), labels.join(","))
        };
        Arc::new(Handle {
            key,
            values: self.values.clone(),
        })
    }
}

impl Recorder for MemoryRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(self.handle(key))
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(self.handle(key))
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(self.handle(key))
    }
}
