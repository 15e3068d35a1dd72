//! `--queue-log FILE`: every queue event as a line of Asterisk's `queue_log`
//! (docs.asterisk.org, "Queue Logs"), so the reporting tools that read
//! Asterisk's log read ours (SPEC §10.1).
//!
//! A line is `{epoch}|{uniqueid}|{queue}|{agent}|{EVENT}|{data...}`: the
//! event's parameters follow its name, `|`-separated, in Asterisk's order.
//! [`format_line`] is pure; [`QueueLogWriter`] buffers lines, appends them to
//! the file once per loop turn ([`QueueLogWriter::flush`]), reopens the file
//! on SIGHUP ([`QueueLogWriter::reopen`], for logrotate), and survives a
//! failing disk: the failure is logged once, counted for `/metrics`, and the
//! queue keeps serving.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// One queue event, with the parameters Asterisk logs for it. Times are
/// whole seconds except a ring's, which Asterisk gives in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueLogEvent<'a> {
    /// `QUEUESTART`: the queue started. Logged as Asterisk does, with
    /// `NONE` for uniqueid, queue and agent, and no data.
    QueueStart,
    /// `ENTERQUEUE|url|callerid`: a call was received; the url is empty and
    /// the caller id is the call's own id.
    EnterQueue {
        /// The call's id as typed (`call 7` gives `7`).
        call_id: &'a str,
    },
    /// `CONNECT|holdtime|bridgeduniqueid|ringtime`: `agent` answered.
    Connect {
        /// The operator that answered.
        agent: &'a str,
        /// Seconds from received to answered.
        hold_secs: u64,
        /// The uniqueid of the operator's leg of the call (see
        /// [`UniqueIds::next_id`]).
        bridged_uniqueid: &'a str,
        /// Seconds the answered ring lasted.
        ring_secs: u64,
    },
    /// `RINGNOANSWER|ringtime`: `agent` rejected or ignored the ring.
    RingNoAnswer {
        /// The operator rung.
        agent: &'a str,
        /// Milliseconds the ring lasted.
        ring_millis: u64,
    },
    /// `COMPLETECALLER|holdtime|calltime|origposition`: the call finished.
    CompleteCaller {
        /// The operator that had the call.
        agent: &'a str,
        /// Seconds from received to answered.
        hold_secs: u64,
        /// Seconds from answered to finished.
        call_secs: u64,
        /// The call's position in the queue when it was received (1 = head).
        orig_position: u64,
    },
    /// `ABANDON|position|origposition|waittime`: the caller hung up unanswered.
    Abandon {
        /// Its position when it hung up (1 = head; a ringing call is 1).
        position: u64,
        /// Its position when it was received.
        orig_position: u64,
        /// Seconds it waited.
        wait_secs: u64,
    },
    /// `PAUSE|reason`: the operator paused (the reason empty when none;
    /// an auto-pause gives `no answer`).
    Pause {
        /// The operator.
        agent: &'a str,
        /// The reason given, if any.
        reason: Option<&'a str>,
    },
    /// `UNPAUSE|`: the pause ended.
    Unpause {
        /// The operator.
        agent: &'a str,
    },
    /// `ADDMEMBER|`: the operator logged in.
    AddMember {
        /// The operator.
        agent: &'a str,
    },
    /// `REMOVEMEMBER|`: the operator logged out.
    RemoveMember {
        /// The operator.
        agent: &'a str,
    },
}

/// The uniqueid written for events tied to no call.
pub const NONE: &str = "NONE";

/// Appends one field, replacing the characters that would break the line
/// apart (`|`, line ends, other controls) with `_`: ids are free text.
fn push_field(out: &mut String, field: &str) {
    out.extend(
        field
            .chars()
            .map(|c| if c == '|' || c.is_control() { '_' } else { c }),
    );
}

/// Appends the line for `event` (newline included). `uniqueid` is the call's
/// ([`UniqueIds`]) or [`NONE`] for operator events; `queue` is `--queue-name`.
pub fn format_line(
    out: &mut String,
    epoch: u64,
    uniqueid: &str,
    queue: &str,
    event: &QueueLogEvent<'_>,
) {
    use QueueLogEvent as E;
    let (uniqueid, queue, agent) = match event {
        E::QueueStart => (NONE, NONE, NONE),
        E::EnterQueue { .. } | E::Abandon { .. } => (uniqueid, queue, NONE),
        E::Connect { agent, .. }
        | E::RingNoAnswer { agent, .. }
        | E::CompleteCaller { agent, .. }
        | E::Pause { agent, .. }
        | E::Unpause { agent }
        | E::AddMember { agent }
        | E::RemoveMember { agent } => (uniqueid, queue, *agent),
    };
    out.push_str(&epoch.to_string());
    for field in [uniqueid, queue, agent] {
        out.push('|');
        push_field(out, field);
    }
    let data: Vec<String> = match event {
        E::QueueStart => vec![String::new()],
        E::EnterQueue { call_id } => vec![String::new(), (*call_id).to_string()],
        E::Connect {
            hold_secs,
            bridged_uniqueid,
            ring_secs,
            ..
        } => vec![
            hold_secs.to_string(),
            (*bridged_uniqueid).to_string(),
            ring_secs.to_string(),
        ],
        E::RingNoAnswer { ring_millis, .. } => vec![ring_millis.to_string()],
        E::CompleteCaller {
            hold_secs,
            call_secs,
            orig_position,
            ..
        } => vec![
            hold_secs.to_string(),
            call_secs.to_string(),
            orig_position.to_string(),
        ],
        E::Abandon {
            position,
            orig_position,
            wait_secs,
        } => vec![
            position.to_string(),
            orig_position.to_string(),
            wait_secs.to_string(),
        ],
        E::Pause { reason, .. } => vec![reason.unwrap_or("").to_string()],
        E::Unpause { .. } | E::AddMember { .. } | E::RemoveMember { .. } => vec![String::new()],
    };
    out.push('|');
    out.push_str(event_name(event));
    for field in &data {
        out.push('|');
        push_field(out, field);
    }
    out.push('\n');
}

/// The event's name in the log.
pub fn event_name(event: &QueueLogEvent<'_>) -> &'static str {
    match event {
        QueueLogEvent::QueueStart => "QUEUESTART",
        QueueLogEvent::EnterQueue { .. } => "ENTERQUEUE",
        QueueLogEvent::Connect { .. } => "CONNECT",
        QueueLogEvent::RingNoAnswer { .. } => "RINGNOANSWER",
        QueueLogEvent::CompleteCaller { .. } => "COMPLETECALLER",
        QueueLogEvent::Abandon { .. } => "ABANDON",
        QueueLogEvent::Pause { .. } => "PAUSE",
        QueueLogEvent::Unpause { .. } => "UNPAUSE",
        QueueLogEvent::AddMember { .. } => "ADDMEMBER",
        QueueLogEvent::RemoveMember { .. } => "REMOVEMEMBER",
    }
}

/// Hands out uniqueids `{start-epoch}.{n}` (n from 1), as Asterisk names
/// channels: unique for the life of the log as long as two runs do not start
/// in the same second, because the start epoch prefixes every id.
#[derive(Debug, Clone)]
pub struct UniqueIds {
    /// The epoch second the run started.
    start_epoch: u64,
    /// The last number handed out.
    last: u64,
}

impl UniqueIds {
    /// Ids for a run started at `start_epoch`.
    pub fn new(start_epoch: u64) -> Self {
        Self {
            start_epoch,
            last: 0,
        }
    }

    /// The next id: one per call received, and one per answered ring for
    /// the operator's leg in `CONNECT`.
    pub fn next_id(&mut self) -> String {
        self.last += 1;
        format!("{}.{}", self.start_epoch, self.last)
    }
}

/// Appends queue-log lines to a file: buffered in memory, written once per
/// loop turn, reopened on SIGHUP. Never panics and never stops the queue: a
/// failed write drops that turn's lines, is counted, and is logged once per
/// run of failures (the first failure after a success).
#[derive(Debug)]
pub struct QueueLogWriter {
    /// Where the log lives; reopened by name so logrotate's rename works.
    path: PathBuf,
    /// The open file, or `None` after a reopen failed.
    file: Option<File>,
    /// Lines pushed since the last flush.
    pending: String,
    /// Writes (flushes or reopens) that failed since start, for `/metrics`.
    write_errors: u64,
    /// Whether the current run of failures was already logged.
    failure_logged: bool,
}

impl QueueLogWriter {
    /// Opens `path` for appending (created if missing). Failing here is an
    /// error the caller reports at startup, before serving.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = open_append(&path)?;
        Ok(Self {
            path,
            file: Some(file),
            pending: String::new(),
            write_errors: 0,
            failure_logged: false,
        })
    }

    /// Buffers the line for `event` (see [`format_line`]).
    pub fn push(&mut self, epoch: u64, uniqueid: &str, queue: &str, event: &QueueLogEvent<'_>) {
        format_line(&mut self.pending, epoch, uniqueid, queue, event);
    }

    /// Writes the buffered lines in one append; called once per loop turn.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let result = match self.file.as_mut() {
            Some(file) => file.write_all(self.pending.as_bytes()),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the file is not open",
            )),
        };
        self.pending.clear();
        match result {
            Ok(()) => self.failure_logged = false,
            Err(error) => self.fail("write to", &error),
        }
    }

    /// Flushes, then closes the file and opens `path` again: after logrotate
    /// renamed the old file, lines go to a new file of the same name.
    pub fn reopen(&mut self) {
        self.flush();
        self.file = None;
        match open_append(&self.path) {
            Ok(file) => self.file = Some(file),
            Err(error) => self.fail("reopen", &error),
        }
    }

    /// Writes that failed since start (`callcenter_queue_log_write_errors_total`).
    pub fn write_errors(&self) -> u64 {
        self.write_errors
    }

    /// Counts a failure and logs it if it starts a run of failures.
    fn fail(&mut self, action: &str, error: &std::io::Error) {
        self.write_errors += 1;
        if !self.failure_logged {
            self.failure_logged = true;
            log::error!(
                "queue log: cannot {action} {}: {error} (lines are dropped until it works again)",
                self.path.display()
            );
        }
    }
}

/// Opens `path` for appending, creating it if needed.
fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}
