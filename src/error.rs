//! The errors of the layers above the wire: the server's, the client's and
//! the program's. Each layer has its own type (the parser's is
//! [`CommandError`](crate::command::CommandError), the engine's
//! [`EngineError`](crate::engine::EngineError), the wire's
//! [`WireError`](crate::wire::WireError)); none spells its message: every
//! one is rendered by [`messages`](crate::messages) in the chosen language.

use std::io;

/// What the server refuses, beyond a bad request or a queue rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerError {
    /// The server already has its maximum number of clients.
    Full(u32),
}

/// Why a client cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The client could not reach the server.
    CannotConnect {
        /// The address tried, as given.
        addr: String,
        /// Why.
        reason: ConnectFailure,
    },
    /// The server closed the connection or it broke.
    ServerGone,
    /// The server sent something that is not a reply.
    InvalidReply,
}

/// Why connecting failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// What the operating system (or the resolver) said, in its own words.
    Os(String),
    /// The name resolved to no address at all.
    NoAddress,
}

impl ClientError {
    /// The server `addr` names, resolved; or why a client cannot connect
    /// to it (the resolver's failure, or a name without an address).
    pub fn resolve_server(addr: &str) -> Result<std::net::SocketAddr, ClientError> {
        let reason = match crate::sys::resolve(addr) {
            Ok(Some(resolved)) => return Ok(resolved),
            Ok(None) => ConnectFailure::NoAddress,
            Err(error) => ConnectFailure::Os(error.to_string()),
        };
        Err(ClientError::CannotConnect {
            addr: addr.to_string(),
            reason,
        })
    }
}

/// Why a mode ended with status 1.
#[derive(Debug)]
pub enum RunError {
    /// Standard input or output failed (a full disk, an unreadable input).
    Stdio(io::Error),
    /// The operating system refused something the mode needs (the poll,
    /// the signal handlers, the listening socket).
    Os(io::Error),
    /// An address option (`--listen`, `--http`, `--connect`) names a host
    /// with no address.
    NoAddress(String),
    /// `--queue-log`'s file cannot be opened for appending.
    QueueLog {
        /// The file, as given.
        path: std::path::PathBuf,
        /// Why, in the operating system's words.
        error: io::Error,
    },
}

impl From<io::Error> for RunError {
    fn from(error: io::Error) -> RunError {
        RunError::Os(error)
    }
}
