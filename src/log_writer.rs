//! The log sink: request threads append whole lines to a shared buffer and
//! one writer thread writes the buffer out in large batches. It owns
//! batching, back-pressure and the final flush; the line format belongs to
//! `tracing_subscriber` in `main`.
//!
//! Why not a channel per line (tracing-appender): at tens of thousands of
//! lines per second every line cost a channel send, often a futex wake, and
//! a receiver that spins with `sched_yield` while it waits. On a server
//! pinned to one core that spinning thread competes with the request worker
//! (BENCHMARKS.md). Here a request only takes a mutex and copies its line;
//! the writer thread is woken at most once per batch.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// A batch is written once it holds this many bytes...
const BATCH_BYTES: usize = 64 * 1024;
/// ...or once its first line has waited this long, so a quiet server's
/// lines still appear promptly.
const BATCH_DELAY: Duration = Duration::from_millis(50);
/// Above this many pending bytes (a disk slower than the request rate) a
/// logging request waits for the writer: memory stays bounded and no line
/// is dropped.
const MAX_PENDING_BYTES: usize = 1024 * 1024;

/// The handle given to `tracing_subscriber` as its writer, and to
/// `request_log` for the request lines; clones append to the same buffer.
#[derive(Clone)]
pub struct BatchedLog {
    shared: Arc<Shared>,
}

/// Flushes what is pending and stops the writer thread when dropped; keep it
/// alive for as long as the process logs.
pub struct FlushOnDrop {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the writer has something to do: the first line of a
    /// batch arrived, a batch is full, or the log is closing.
    work: Condvar,
    /// Signalled when the writer has taken the pending bytes.
    room: Condvar,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The writer waits for the first line of a batch (so appending to an
    /// empty buffer must wake it).
    writer_idle: bool,
    /// The writer has a partial batch and waits for it to fill or age
    /// (so filling the batch must wake it).
    writer_batching: bool,
    closed: bool,
}

impl BatchedLog {
    /// Starts the writer thread over `sink`.
    pub fn new(sink: impl Write + Send + 'static) -> std::io::Result<(BatchedLog, FlushOnDrop)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            room: Condvar::new(),
        });
        let writer = std::thread::Builder::new()
            .name("mailsetup-log".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || write_batches(&shared, sink)
            })?;
        Ok((
            BatchedLog {
                shared: Arc::clone(&shared),
            },
            FlushOnDrop {
                shared,
                writer: Some(writer),
            },
        ))
    }

    /// Appends whole lines (one write never interleaves with another).
    pub fn append_line(&self, bytes: &[u8]) {
        let mut state = lock(&self.shared.state);
        while state.pending.len() >= MAX_PENDING_BYTES && !state.closed {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state.pending.extend_from_slice(bytes);
        if state.writer_idle || (state.writer_batching && state.pending.len() >= BATCH_BYTES) {
            state.writer_idle = false;
            state.writer_batching = false;
            self.shared.work.notify_one();
        }
    }
}

/// A thread that panicked while holding the lock must not silence every
/// other thread's logging: the buffer is plain bytes, still usable.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_batches(shared: &Shared, mut sink: impl Write) {
    let mut batch = Vec::new();
    loop {
        let mut state = lock(&shared.state);
        while state.pending.is_empty() && !state.closed {
            state.writer_idle = true;
            state = shared
                .work
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.pending.len() < BATCH_BYTES && !state.closed {
            state.writer_batching = true;
            state = shared
                .work
                .wait_timeout(state, BATCH_DELAY)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
            state.writer_batching = false;
        }
        state.writer_idle = false;
        std::mem::swap(&mut state.pending, &mut batch);
        let closed = state.closed;
        drop(state);
        shared.room.notify_all();
        // A log that cannot be written (a closed stderr, a full disk) must
        // not stop the server; the lines are dropped.
        let _ = sink.write_all(&batch).and_then(|()| sink.flush());
        batch.clear();
        if closed && lock(&shared.state).pending.is_empty() {
            return;
        }
    }
}

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        lock(&self.shared.state).closed = true;
        self.shared.work.notify_one();
        self.shared.room.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// One event's line. `tracing_subscriber` formats a whole event into one
/// buffer and writes it with a single `write_all`, so a line is appended in
/// one piece and lines from different threads never interleave.
impl Write for &BatchedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.append_line(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedLog {
    type Writer = &'a BatchedLog;

    fn make_writer(&'a self) -> &'a BatchedLog {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A sink whose bytes the test can read back.
    #[derive(Clone, Default)]
    struct Collected(Arc<Mutex<Vec<u8>>>);

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_from_many_threads_arrive_whole_and_in_order_by_the_final_flush() {
        let sink = Collected::default();
        let (log, flush) = BatchedLog::new(sink.clone()).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..4 {
                let log = &log;
                scope.spawn(move || {
                    for line in 0..20_000 {
                        let text =
                            format!("thread={thread} line={line} {}\n", "x".repeat(line % 97));
                        (&*log).write_all(text.as_bytes()).unwrap();
                    }
                });
            }
        });
        drop(flush);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let mut next_line = [0usize; 4];
        for text in written.lines() {
            let (thread, rest) = text
                .strip_prefix("thread=")
                .and_then(|t| t.split_once(" line="))
                .unwrap_or_else(|| panic!("torn line: {text:?}"));
            let thread: usize = thread.parse().unwrap();
            let (line, padding) = rest.split_once(' ').unwrap();
            let line: usize = line.parse().unwrap();
            assert_eq!(line, next_line[thread], "thread {thread} out of order");
            assert_eq!(padding.len(), line % 97, "torn line: {text:?}");
            next_line[thread] += 1;
        }
        assert_eq!(next_line, [20_000; 4]);
    }

    #[test]
    fn a_single_line_is_written_without_waiting_for_a_full_batch() {
        let sink = Collected::default();
        let (log, _flush) = BatchedLog::new(sink.clone()).unwrap();
        (&log).write_all(b"lonely line\n").unwrap();
        for _ in 0..500 {
            if *sink.0.lock().unwrap() == b"lonely line\n" {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the line was not written within 5 s");
    }

    /// A sink that blocks until the test lets it go, like a stalled disk.
    struct Stalled {
        release: mpsc::Receiver<()>,
        bytes: Collected,
    }

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.release.recv();
            self.bytes.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_sink_makes_loggers_wait_instead_of_growing_memory() {
        let (release, released) = mpsc::channel();
        let bytes = Collected::default();
        let (log, flush) = BatchedLog::new(Stalled {
            release: released,
            bytes: bytes.clone(),
        })
        .unwrap();
        let line = [b'x'; 1023]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<u8>>();
        let total_lines = 3 * MAX_PENDING_BYTES / line.len();
        std::thread::scope(|scope| {
            let logger = scope.spawn(|| {
                for _ in 0..total_lines {
                    (&log).write_all(&line).unwrap();
                }
            });
            // The writer holds one batch in the stalled sink; the logger
            // fills the pending buffer up to the bound and must then wait.
            while lock(&log.shared.state).pending.len() < MAX_PENDING_BYTES {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(200));
            let pending = lock(&log.shared.state).pending.len();
            assert!(
                pending < MAX_PENDING_BYTES + line.len(),
                "pending grew to {pending} bytes"
            );
            assert!(
                !logger.is_finished(),
                "the logger did not wait for the stalled sink"
            );
            // Let the disk go: every write returns at once from now on.
            drop(release);
            logger.join().unwrap();
        });
        drop(flush);
        assert_eq!(bytes.0.lock().unwrap().len(), total_lines * line.len());
    }
}
