//! The deadline a run's shim holds: the instant by which its command must
//! be gone unless the worker renews it, passed from the supervisor to the
//! shim on a pipe (the shim's standard input).
//!
//! The supervisor writes one line per change of
//! [`TaskContext::must_stop_by`](tenure_core::TaskContext::must_stop_by),
//! polled every [`renew_period`]: the instant as nanoseconds of
//! `CLOCK_BOOTTIME` (one clock for every process of the machine, which
//! also counts time the machine spent suspended), or `stop` once the
//! worker no longer holds the session the run started in. The shim sends
//! SIGTERM to the command at `deadline − KILL_ALLOWANCE − grace` and
//! SIGKILL at `deadline − KILL_ALLOWANCE` unless a later deadline arrived
//! first, and treats `stop`, a closed pipe or anything unreadable as "stop
//! now".
//!
//! Why a renewal cannot come late: the line carries an absolute instant
//! computed from the worker's session clock, and the shim compares it with
//! its own reading of the same clock. A supervisor that freezes or hangs
//! writes nothing; one that wakes up writes an instant that has passed
//! already. Every delay (a slow write, a pipe the shim has not read yet, a
//! conversion interrupted between its two clock readings) makes the shim
//! stop the command earlier, never later.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use tokio::time::Instant;

use crate::sys;

/// What the supervisor writes when the worker no longer holds the session.
const STOP: &[u8] = b"stop";

/// The longest line the shim accepts (a `u128` in decimal is 39 digits).
const MAX_LINE: usize = 64;

/// How often, at most, the supervisor looks at the deadline and passes a
/// change on: a fiftieth of the session timeout, between 10 ms and 100 ms
/// (more often as the shim's SIGTERM instant comes near, see the
/// handler).
pub fn renew_period(session: Duration) -> Duration {
    (session / 50).clamp(Duration::from_millis(10), Duration::from_millis(100))
}

/// `deadline` of the worker's clock as `CLOCK_BOOTTIME`, never later than
/// it truly is: the boot-time clock is read first, so time passing between
/// the two readings makes the result earlier.
///
/// # Errors
/// The boot-time clock cannot be read.
fn to_boot_time(deadline: Instant) -> io::Result<Duration> {
    let boot_now = sys::boottime()?;
    let left = deadline.saturating_duration_since(Instant::now());
    Ok(boot_now + left)
}

/// The supervisor's end of the pipe.
#[derive(Debug)]
pub struct DeadlineWriter {
    pipe: io::PipeWriter,
    /// The last deadline written, `Some(None)` for `stop`.
    sent: Option<Option<Instant>>,
    /// From the shim's SIGTERM to its deadline: grace and kill allowance.
    lead: Duration,
    /// Whether a deadline written earlier had passed (less the lead)
    /// before the next one was written.
    lapsed: bool,
}

impl DeadlineWriter {
    /// Wraps the write end of a pipe, making it non-blocking: the
    /// supervisor never waits on a shim that does not read. `lead` is the
    /// time from the shim's SIGTERM to its deadline (grace and kill
    /// allowance).
    ///
    /// # Errors
    /// The pipe cannot be made non-blocking.
    pub fn new(pipe: io::PipeWriter, lead: Duration) -> io::Result<Self> {
        sys::set_nonblocking(pipe.as_fd())?;
        Ok(DeadlineWriter {
            pipe,
            sent: None,
            lead,
            lapsed: false,
        })
    }

    /// Whether the shim may have stopped the run by itself: it was told to
    /// stop, or the SIGTERM instant of a deadline it was given passed
    /// before a later one was written (a renewal that came too late), or
    /// passed since.
    pub fn lapsed(&self) -> bool {
        self.lapsed || self.lapsed_now()
    }

    fn lapsed_now(&self) -> bool {
        match self.sent {
            Some(Some(deadline)) => Instant::now() + self.lead >= deadline,
            Some(None) | None => true,
        }
    }

    /// Passes `deadline` on (`None`: stop now) if it differs from the last
    /// one written. A full pipe (the shim does not read) drops the line:
    /// the shim keeps the earlier deadline it holds, and it is tried again
    /// on the next call.
    ///
    /// # Errors
    /// The boot-time clock cannot be read, or the pipe is broken (the shim
    /// has exited).
    pub fn send(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        if self.sent == Some(deadline) {
            return Ok(());
        }
        if self.sent.is_some() && self.lapsed_now() {
            self.lapsed = true;
        }
        let mut line = match deadline {
            Some(at) => to_boot_time(at)?.as_nanos().to_string().into_bytes(),
            None => STOP.to_vec(),
        };
        line.push(b'\n');
        // Writes of up to PIPE_BUF bytes to a pipe are atomic: all or none.
        match self.pipe.write(&line) {
            Ok(n) if n == line.len() => {
                self.sent = Some(deadline);
                Ok(())
            }
            Ok(_) => Err(io::Error::other("a deadline line was written in part")),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// What the shim knows from the pipe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// The last deadline received, as `CLOCK_BOOTTIME`.
    pub until: Option<Duration>,
    /// Whether the run must stop now (`stop`, a closed pipe, bad input).
    /// Final: nothing received afterwards lifts it.
    pub stop: bool,
}

/// The shim's end of the pipe.
#[derive(Debug)]
pub struct DeadlineReader {
    pipe: File,
    partial: Vec<u8>,
    held: Held,
}

impl DeadlineReader {
    /// Reads from `pipe`, made non-blocking.
    ///
    /// # Errors
    /// The pipe cannot be made non-blocking.
    pub fn new(pipe: OwnedFd) -> io::Result<Self> {
        sys::set_nonblocking(pipe.as_fd())?;
        Ok(DeadlineReader {
            pipe: File::from(pipe),
            partial: Vec::new(),
            held: Held::default(),
        })
    }

    /// Reads whatever has arrived, without waiting, and returns what the
    /// shim now holds.
    pub fn poll(&mut self) -> Held {
        let mut buf = [0u8; 512];
        while !self.held.stop {
            match self.pipe.read(&mut buf) {
                Ok(0) => self.held.stop = true,
                Ok(n) => self.take(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => self.held.stop = true,
            }
        }
        self.held
    }

    fn take(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.line(&line[..end]);
        }
        if self.partial.len() > MAX_LINE {
            self.held.stop = true;
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.held.stop {
            return;
        }
        let nanos = std::str::from_utf8(line)
            .ok()
            .and_then(|text| text.parse::<u64>().ok());
        match nanos {
            Some(nanos) => self.held.until = Some(Duration::from_nanos(nanos)),
            None => self.held.stop = true,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pair() -> (DeadlineWriter, DeadlineReader) {
        let (reader, writer) = io::pipe().unwrap();
        (
            DeadlineWriter::new(writer, Duration::from_millis(500)).unwrap(),
            DeadlineReader::new(OwnedFd::from(reader)).unwrap(),
        )
    }

    #[tokio::test]
    async fn the_shim_holds_the_last_deadline_on_the_shared_clock() {
        let (mut writer, mut reader) = pair();
        assert_eq!(reader.poll(), Held::default(), "nothing yet");
        let in_a_second = Instant::now() + Duration::from_secs(1);
        let boot_before = sys::boottime().unwrap();
        writer.send(Some(in_a_second)).unwrap();
        let boot_after = sys::boottime().unwrap();
        let held = reader.poll().until.unwrap();
        assert!(held <= boot_after + Duration::from_secs(1), "never later");
        assert!(held + Duration::from_millis(100) >= boot_before + Duration::from_secs(1));
        writer
            .send(Some(in_a_second + Duration::from_secs(1)))
            .unwrap();
        assert!(reader.poll().until.unwrap() > held, "a renewal moves it");
        assert!(!reader.poll().stop);
        assert!(!writer.lapsed(), "0.5 s before deadlines 1 and 2 s away");
        writer.send(None).unwrap();
        assert!(writer.lapsed(), "stop");
    }

    /// A renewal written after the SIGTERM instant of the deadline the
    /// shim held leaves the run marked as possibly stopped by its shim.
    #[tokio::test]
    async fn a_renewal_that_comes_too_late_is_remembered() {
        let (mut writer, _reader) = pair();
        writer
            .send(Some(Instant::now() + Duration::from_millis(600)))
            .unwrap();
        assert!(!writer.lapsed(), "its SIGTERM instant is 100 ms away");
        std::thread::sleep(Duration::from_millis(150));
        writer
            .send(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        assert!(
            writer.lapsed(),
            "the first one's SIGTERM instant had passed"
        );
    }

    #[tokio::test]
    async fn stop_a_closed_pipe_and_junk_mean_stop_for_good() {
        let (mut writer, mut reader) = pair();
        writer.send(Some(Instant::now())).unwrap();
        writer.send(None).unwrap();
        writer
            .send(Some(Instant::now() + Duration::from_secs(9)))
            .unwrap();
        let held = reader.poll();
        assert!(held.stop);
        assert!(held.until.is_some(), "the last deadline is kept");

        let (writer, mut reader) = pair();
        drop(writer);
        assert!(reader.poll().stop, "a closed pipe");

        let (mut writer, mut reader) = pair();
        writer.pipe.write_all(b"12x\n").unwrap();
        assert!(reader.poll().stop, "junk");
    }

    #[test]
    fn lines_split_across_reads_are_joined() {
        let (mut writer, mut reader) = pair();
        writer.pipe.write_all(b"1234").unwrap();
        assert_eq!(reader.poll().until, None);
        writer.pipe.write_all(b"5\n67\n").unwrap();
        assert_eq!(reader.poll().until, Some(Duration::from_nanos(67)));
        writer.pipe.write_all(&[b'9'; MAX_LINE + 1]).unwrap();
        assert!(reader.poll().stop, "an endless line");
    }

    #[test]
    fn the_period_follows_the_session_within_bounds() {
        assert_eq!(
            renew_period(Duration::from_secs(1)),
            Duration::from_millis(20)
        );
        assert_eq!(
            renew_period(Duration::from_millis(100)),
            Duration::from_millis(10)
        );
        assert_eq!(
            renew_period(Duration::from_secs(60)),
            Duration::from_millis(100)
        );
    }
}
