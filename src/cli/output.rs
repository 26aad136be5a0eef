//! Standard output of the commands: buffered, and quiet when the reader goes away.
//!
//! `geoalign align metrics ... | head -5` closes the pipe early; the next write fails
//! with `BrokenPipe`. [`Stdout`] notes that, so [`super::run`] exits 0 without a message
//! whichever error the failed write turned into on its way up (library writers wrap
//! I/O errors in their own).

use std::io::{BufWriter, StdoutLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use super::CliError;

/// Set once a write to standard output found the pipe closed.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether standard output was closed by its reader.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Standard output, locked and buffered. Write results through it, never `println!`.
pub struct Stdout {
    inner: BufWriter<StdoutLock<'static>>,
    /// The kind of the first failed write, if any.
    failed: Option<std::io::ErrorKind>,
}

impl Stdout {
    /// Standard output, locked for the whole command.
    pub fn new() -> Stdout {
        Stdout {
            inner: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            failed: None,
        }
    }

    /// The error of a failed write, for a library error that wraps it in its own: lets
    /// a command tell "could not write the result" from "the input is bad".
    pub fn failure(&self) -> Option<CliError> {
        self.failed.map(|kind| CliError::Stdout(kind.into()))
    }

    /// Writes `value` as pretty JSON and a newline.
    pub fn json(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        serde_json::to_writer_pretty(&mut *self, value).map_err(|e| CliError::Stdout(e.into()))?;
        self.line("")
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: impl std::fmt::Display) -> Result<(), CliError> {
        writeln!(self, "{text}").map_err(CliError::Stdout)
    }

    /// Writes `text` as it is (a report that ends its own lines).
    pub fn text(&mut self, text: impl std::fmt::Display) -> Result<(), CliError> {
        write!(self, "{text}").map_err(CliError::Stdout)
    }

    /// Flushes what is buffered (before the process waits, as the server does, and at the end).
    pub fn finish(&mut self) -> Result<(), CliError> {
        self.flush().map_err(CliError::Stdout)
    }
}

impl Stdout {
    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result {
            self.failed.get_or_insert(e.kind());
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                CLOSED.store(true, Ordering::Relaxed);
            }
        }
        result
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let result = self.inner.write_all(buf);
        self.note(result)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}
