//! Where the node's CPU time goes, by stage: checking and making signatures, serving HTTP,
//! applying transactions to make blocks, and committing blocks. Each stage's time is read
//! from the CPU clock of the thread doing the work, so waiting (for a disk, a lock, a
//! peer) counts nowhere; `milk bench trades` divides the counters by the trades settled.

use prometheus_client::metrics::counter::Counter;
use rustix::time::{ClockId, clock_gettime};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The stages, as the metric's `stage` label names them.
pub const STAGES: [&str; 4] = ["signatures", "http", "apply", "commit"];

/// CPU nanoseconds this thread has used.
pub fn thread_ns() -> u64 {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// CPU nanoseconds this process has used, every thread together.
pub fn process_ns() -> u64 {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(nanos)
}

/// Counts the CPU time this thread spends until it is dropped.
#[must_use = "the time is counted when the guard is dropped"]
pub struct Spent<'a> {
    counter: &'a Counter,
    from: u64,
}

impl Spent<'_> {
    /// Starts counting into `counter`.
    pub fn start(counter: &Counter) -> Spent<'_> {
        Spent {
            counter,
            from: thread_ns(),
        }
    }
}

impl Drop for Spent<'_> {
    fn drop(&mut self) {
        self.counter.inc_by(thread_ns().saturating_sub(self.from));
    }
}

/// A future whose polls' CPU time is counted: a task's own work, whichever thread polls it.
pub struct Counted<F> {
    inner: Pin<Box<F>>,
    counter: Counter,
}

impl<F: Future> Counted<F> {
    /// Counts `inner`'s polls into `counter`.
    pub fn new(inner: F, counter: Counter) -> Counted<F> {
        Counted {
            inner: Box::pin(inner),
            counter,
        }
    }
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _spent = Spent::start(&this.counter);
        this.inner.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_counts_and_sleeping_does_not() {
        let counter = Counter::default();
        {
            let _spent = Spent::start(&counter);
            let mut x = 0u64;
            for i in 0..5_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
        let worked = counter.get();
        assert!(worked > 0, "busy work used CPU time");
        {
            let _spent = Spent::start(&counter);
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
        let slept = counter.get() - worked;
        assert!(
            slept < 20_000_000,
            "sleeping 30 ms counted {slept} ns of CPU"
        );
    }
}
