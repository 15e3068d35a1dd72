//! Hostile process conditions: running out of file descriptors, SIGTERM
//! and SIGINT under load, clients that vanish while the server writes to
//! them (SIGPIPE), and closed standard streams. Every case then checks that
//! the server is alive (or exited as it should), that a client connected
//! before is still served, and that the queue state is intact (see
//! `hostile/mod.rs`).

mod support;

use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::process::CommandExt;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{Conn, Next, Server, Streams, TIMEOUT, error, request, reset};

fn server() -> Server {
    Server::start(&["--lang", "en", "--ring-timeout", "0"])
}

#[test]
fn running_out_of_descriptors_does_not_spin_and_recovers() {
    // 64 descriptors, soft and hard (as `ulimit -n 64` sets them), so the
    // server cannot raise its own limit.
    const LIMIT: u64 = 64;
    let mut command = Server::command(&["--lang", "en", "--ring-timeout", "0"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: LIMIT,
                rlim_max: LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut server = Server::launch(command, Streams::default());
    let mut bystander = server.connect();
    bystander.expect_nothing_pending();
    // 100 more clients: the server runs out of descriptors partway; the
    // others wait in the listen backlog (connect succeeds regardless).
    let addr = server.addr;
    let mut clients: Vec<TcpStream> = (0..100)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    let deadline = Instant::now() + TIMEOUT;
    while server.open_fds() < LIMIT as usize {
        assert!(
            Instant::now() < deadline,
            "the server never used its {LIMIT} descriptors ({} open)",
            server.open_fds()
        );
        thread::sleep(Duration::from_millis(5));
    }
    // Out of descriptors, the loop does not spin: accepting backs off on a
    // timer (50 ms doubling to 1 s) instead of retrying at once.
    let before = server.cpu_time();
    thread::sleep(Duration::from_secs(1));
    let used = server.cpu_time() - before;
    assert!(
        used < Duration::from_millis(300),
        "{used:?} of CPU in 1 s while out of descriptors: a busy loop"
    );
    // Connections it holds are still served meanwhile.
    server.assert_alive();
    bystander.expect_nothing_pending();
    // Most clients leave; the ones still waiting in the backlog, and a new
    // one, are served once accepting resumes (within the backoff).
    let waiting = clients.split_off(90);
    drop(clients);
    for stream in waiting {
        let mut conn = Conn::new(stream);
        conn.expect_nothing_pending();
    }
    let mut fresh = server.connect();
    fresh.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

/// Clients sending requests non-stop until the server goes away; each
/// reports how many replies it got (all checked whole).
fn load(server: &Server, clients: usize) -> (Vec<thread::JoinHandle<usize>>, mpsc::Receiver<()>) {
    let addr = server.addr;
    let (ticks, progress) = mpsc::channel();
    let loaders = (0..clients)
        .map(|c| {
            let ticks = ticks.clone();
            thread::spawn(move || {
                let mut conn = Conn::connect(addr);
                let id = format!("load{c}");
                let batch = format!("{}\n", request("hangup", &id)).repeat(50);
                let reply = error(&format!("Call {id} not found"));
                let mut replies = 0;
                loop {
                    if conn.stream.write_all(batch.as_bytes()).is_err() {
                        return replies;
                    }
                    for _ in 0..50 {
                        match conn.next_within(TIMEOUT) {
                            Next::Line(line) => {
                                assert_eq!(line, reply);
                                replies += 1;
                            }
                            // The server went away (a reply may be cut short).
                            Next::Eof | Next::Reset | Next::Truncated(_) => return replies,
                            Next::TimedOut => panic!("no reply in time"),
                        }
                    }
                    let _ = ticks.send(());
                }
            })
        })
        .collect();
    (loaders, progress)
}

fn stops_promptly_under_load(signal: i32) {
    let mut server = server();
    let (loaders, progress) = load(&server, 4);
    // Wait until the load is well under way: 40 batches answered.
    for _ in 0..40 {
        progress
            .recv_timeout(TIMEOUT)
            .expect("the load makes progress");
    }
    server.assert_alive();
    let sent = Instant::now();
    server.signal(signal);
    let status = server.wait_exit(Duration::from_secs(2));
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(sent.elapsed() < Duration::from_secs(2));
    let replies: usize = loaders
        .into_iter()
        .map(|loader| loader.join().expect("a loader failed"))
        .sum();
    assert!(replies >= 40 * 50, "only {replies} replies");
    // It no longer listens.
    assert_eq!(
        TcpStream::connect(server.addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
}

#[test]
fn sigterm_under_load_exits_zero_promptly() {
    stops_promptly_under_load(libc::SIGTERM);
}

#[test]
fn sigint_under_load_exits_zero_promptly() {
    stops_promptly_under_load(libc::SIGINT);
}

#[test]
fn sigterm_with_idle_and_half_sent_clients_exits_zero() {
    let mut server = server();
    let mut idle = server.connect();
    idle.expect_nothing_pending();
    let mut half = server.connect();
    half.send(b"{\"command\": \"call\", \"id\": \"never");
    let mut stalled = support::connect_with_small_rcvbuf(server.addr, 4096);
    stalled
        .write_all(
            format!("{}\n", request("hangup", "x"))
                .repeat(20_000)
                .as_bytes(),
        )
        .unwrap();
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(2));
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(idle.next_within(TIMEOUT), Next::Eof);
    let end = half.next_within(TIMEOUT);
    assert!(matches!(end, Next::Eof | Next::Reset), "{end:?}");
    let _ = stalled.shutdown(Shutdown::Both);
}

#[test]
fn clients_that_vanish_while_the_server_writes_never_kill_it() {
    let mut server = server();
    let mut bystander = server.connect();
    let addr = server.addr;
    // 1,000 requests with long ids (about 100 KiB of replies each), then
    // gone without reading: closed, reset, or half-closed then closed. The
    // server writes into dead sockets: EPIPE or ECONNRESET, never SIGPIPE.
    let id = "v".repeat(64);
    let lots = format!("{}\n", request("hangup", &id)).repeat(1000);
    for round in 0..3 {
        let vanishers: Vec<_> = (0..20)
            .map(|n| {
                let lots = lots.clone();
                thread::spawn(move || {
                    let mut stream = TcpStream::connect(addr).unwrap();
                    stream.write_all(lots.as_bytes()).unwrap();
                    match (n + round) % 3 {
                        0 => drop(stream),
                        1 => reset(stream),
                        _ => {
                            stream.shutdown(Shutdown::Write).unwrap();
                            drop(stream);
                        }
                    }
                })
            })
            .collect();
        for vanisher in vanishers {
            vanisher.join().unwrap();
        }
        server.assert_alive();
        bystander.expect_nothing_pending();
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn works_with_stdin_null_or_a_closed_pipe() {
    for streams in [
        Streams::default(),
        Streams {
            stdin_closed_pipe: true,
            ..Streams::default()
        },
    ] {
        let mut server = Server::launch(
            Server::command(&["--lang", "en", "--ring-timeout", "0"]),
            streams,
        );
        let mut bystander = server.connect();
        server.check_healthy(&mut bystander);
        server.signal(libc::SIGTERM);
        let status = server.wait_exit(Duration::from_secs(2));
        assert_eq!(status.code(), Some(0), "{streams:?}: {status}");
    }
}

#[test]
fn works_with_stdout_and_stderr_closed() {
    // stdout closed after the `Listening on` line; stderr closed from the
    // start while every connection logs to it (RUST_LOG=debug).
    let mut command = Server::command(&["--lang", "en", "--ring-timeout", "0"]);
    command.env("RUST_LOG", "debug");
    let mut server = Server::launch(
        command,
        Streams {
            stdout_closed_after_banner: true,
            stderr_closed: true,
            ..Streams::default()
        },
    );
    let mut bystander = server.connect();
    for _ in 0..20 {
        server.connect().expect_nothing_pending();
    }
    server.check_healthy(&mut bystander);
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(2));
    assert_eq!(status.code(), Some(0), "{status}");
}
