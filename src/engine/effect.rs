//! The engine's vocabulary: what goes in (configuration, priorities), what
//! comes out (events, timer effects, errors) and what can be observed.

use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use super::{OperatorIndex, Strategy};

/// Identifies one ring of one call on one operator.
///
/// A new offer is made every time a call rings, so a ring timer started for
/// one offer cannot act on a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OfferId(pub u64);

/// Identifies one wrap-up period, so that a stale wrap-up timer (the
/// operator logged out, or a later wrap-up began) does nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WrapUpId(pub u64);

/// A caller priority, 0 to 9: higher is dispatched first (SPEC §9.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Priority(u8);

impl Priority {
    /// The highest priority.
    pub const MAX: Priority = Priority(9);

    /// `Some` for 0 to 9.
    pub fn new(value: u8) -> Option<Priority> {
        (value <= Priority::MAX.0).then_some(Priority(value))
    }

    /// The number, 0 to 9.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// How the engine distributes calls; [`Config::default`] is the seed's
/// behaviour (no wrap-up, no auto-pause, no cap, `linear`).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Which dispatchable operator a call rings (`--strategy`).
    pub strategy: Strategy,
    /// Seed of `random` (`--seed`).
    pub seed: u64,
    /// Time in wrap-up after a finished call (`--wrap-up`); zero: none.
    pub wrap_up: Duration,
    /// Consecutive ring timeouts before an auto-pause (`--max-no-answer`); 0: never.
    pub max_no_answer: u32,
    /// Threshold of the service level in `stats` (`--service-level`).
    pub service_level: Duration,
    /// Most calls that may wait (`--max-calls`); 0: no limit. It counts
    /// waiting calls only, as Asterisk's `maxlen` counts callers in the
    /// queue: a call that can ring at once is never refused, and ringing or
    /// answered calls do not count.
    pub max_calls: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: Strategy::Linear,
            seed: 0,
            wrap_up: Duration::ZERO,
            max_no_answer: 0,
            service_level: Duration::from_secs(20),
            max_calls: 0,
        }
    }
}

/// Something that happened, in the order it happened; each has one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new call arrived.
    Received {
        /// The call's id.
        call: Rc<str>,
    },
    /// A call was offered to an operator, who is now ringing.
    Ringing {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// The ringing operator answered; the operator is busy.
    Answered {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// The ringing operator rejected the call; it returns to the queue's head.
    Rejected {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An answered call ended; the operator is available again.
    Finished {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// No operator was available; the call waits at the queue's tail.
    Queued {
        /// The call's id.
        call: Rc<str>,
    },
    /// A call ended before anyone answered it (ringing or queued).
    Missed {
        /// The call's id.
        call: Rc<str>,
    },
    /// The ring timer expired; treated as a rejection.
    Ignored {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An answered call ended and the operator went into wrap-up.
    FinishedIntoWrapUp {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An answered call ended and the operator, paused meanwhile, stays paused.
    FinishedPaused {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An operator paused (`pause`).
    Paused {
        /// The operator's id.
        operator: Rc<str>,
        /// The reason it gave, if any.
        reason: Option<Rc<str>>,
    },
    /// An operator's pause ended (`unpause`).
    Unpaused {
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An operator logged in (new, or back).
    LoggedIn {
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An operator logged out.
    LoggedOut {
        /// The operator's id.
        operator: Rc<str>,
    },
    /// A wrap-up ended and the operator (not paused) is dispatchable again.
    Available {
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An operator let `count` rings in a row time out and was paused with
    /// reason `no answer`.
    AutoPaused {
        /// The operator's id.
        operator: Rc<str>,
        /// Consecutive ring timeouts (`--max-no-answer`).
        count: u32,
    },
}

/// An output of the engine: an event to report, or a timer to manage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Report this event.
    Event(Event),
    /// Start the ring timer for this offer; on expiry call
    /// [`Engine::ring_timeout`](super::Engine::ring_timeout) with these two values.
    StartRingTimer {
        /// The operator being rung.
        operator: OperatorIndex,
        /// The offer the timer belongs to.
        offer: OfferId,
    },
    /// The offer ended (answered, rejected, hung up): its timer is no longer needed.
    CancelRingTimer {
        /// The offer whose timer to cancel.
        offer: OfferId,
    },
    /// Start a wrap-up timer of `delay`; on expiry call
    /// [`Engine::wrap_up_over`](super::Engine::wrap_up_over) with `operator` and `wrap_up`.
    StartWrapUpTimer {
        /// The operator in wrap-up.
        operator: OperatorIndex,
        /// The wrap-up period the timer belongs to.
        wrap_up: WrapUpId,
        /// How long it lasts (`Config::wrap_up`).
        delay: Duration,
    },
    /// The wrap-up ended early (the operator logged out).
    CancelWrapUpTimer {
        /// The wrap-up whose timer to cancel.
        wrap_up: WrapUpId,
    },
}

/// Why a command was refused. The state is unchanged when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// `call` with the id of a call that is still live.
    CallExists(String),
    /// `hangup` of a call that is not live.
    CallNotFound(String),
    /// A command naming an operator that does not exist.
    OperatorNotFound(String),
    /// `answer`/`reject` for an operator that has no ringing call.
    NotRinging(String),
    /// `pause` of an operator already paused.
    AlreadyPaused(String),
    /// `unpause` of an operator that is not paused.
    NotPaused(String),
    /// `login` of an operator already logged in.
    AlreadyLoggedIn(String),
    /// `pause`/`unpause`/`logout` of a logged-out operator.
    NotLoggedIn(String),
    /// `logout` while ringing or on a call.
    Busy(String),
    /// `call` while `Config::max_calls` calls wait.
    QueueFull(String),
}

/// Why an engine could not be built from a list of operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The list was empty ([`Engine::new`](super::Engine::new) only;
    /// [`Engine::with_config`](super::Engine::with_config) allows it).
    NoOperators,
    /// The same operator id appeared twice.
    DuplicateOperator(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoOperators => write!(f, "at least one operator is needed"),
            ConfigError::DuplicateOperator(id) => write!(f, "duplicate operator id: {id}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// What an operator is doing, as seen from outside (for tests and probes).
/// A pause is separate: see [`Engine::is_paused`](super::Engine::is_paused).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorStatus {
    /// Idle: the next call may ring here (unless paused).
    Available,
    /// A call is ringing here.
    Ringing {
        /// The ringing call's id.
        call: Rc<str>,
        /// The current offer.
        offer: OfferId,
    },
    /// Talking on an answered call.
    Busy {
        /// The answered call's id.
        call: Rc<str>,
    },
    /// In wrap-up after a call.
    WrapUp {
        /// The wrap-up period, as its timer knows it.
        wrap_up: WrapUpId,
    },
    /// Logged out.
    LoggedOut,
}

/// Where a live call is, as seen from outside (for tests and probes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Waiting in the queue.
    Queued,
    /// Ringing for this operator (under `ring-all`, the first in priority
    /// order of those it rings).
    Ringing(OperatorIndex),
    /// Answered by this operator.
    Active(OperatorIndex),
}
