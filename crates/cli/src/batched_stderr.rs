//! Log lines to stderr in batches: each line is copied into one shared buffer, which is
//! written out when it fills, every 200 ms, at once for warnings and errors, and when the
//! program ends. One write for many lines, and no thread woken per line: with a line per
//! request, a channel to a writer thread (waking it for each line) cost the token endpoint
//! several per cent of its throughput (docs/BENCHMARKS.md).

use std::io::{self, BufWriter, Stderr, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

const BUFFER_BYTES: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(200);

static BUFFER: Mutex<Option<BufWriter<Stderr>>> = Mutex::new(None);

fn buffer() -> MutexGuard<'static, Option<BufWriter<Stderr>>> {
    BUFFER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes what is buffered; the lines of a program that exits without dropping its
/// `FlushOnDrop` would otherwise be lost.
pub fn flush() {
    if let Some(out) = buffer().as_mut() {
        let _ = out.flush();
    }
}

/// Flushes the buffer when dropped: keep it until the program ends.
pub struct FlushOnDrop(());

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        flush();
    }
}

/// Starts buffering stderr (and the thread that flushes it every 200 ms); the writer to give
/// the subscriber, and the guard that flushes at the end.
pub fn start() -> (BatchedStderr, FlushOnDrop) {
    *buffer() = Some(BufWriter::with_capacity(BUFFER_BYTES, io::stderr()));
    let _ = std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(|| {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flush();
            }
        });
    (BatchedStderr, FlushOnDrop(()))
}

pub struct BatchedStderr;

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line { urgent: false }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

/// One event's line; warnings and errors are written out at once.
pub struct Line {
    urgent: bool,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = buffer();
        match buffer.as_mut() {
            Some(out) => {
                out.write_all(bytes)?;
                if self.urgent {
                    out.flush()?;
                }
            }
            None => io::stderr().write_all(bytes)?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match buffer().as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}
