//! The modes: the queue service, the wire and the reactor wired together.
//!
//! Each mode imports only from the layers below it (never from another
//! mode): [`standalone`] and [`server`] run a
//! [`QueueService`](crate::queue_service::QueueService); [`client`] and
//! [`bench`](mod@bench) talk to a server over [`wire`](crate::wire).

pub mod bench;
pub mod client;
pub mod server;
pub mod standalone;
