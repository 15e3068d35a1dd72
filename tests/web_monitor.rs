//! The monitor and the queue log, end to end (SPEC §10.1, §10.2): the
//! real `callcenter monitor` watching two clients, with local timestamps
//! (checked under two time zones) or raw JSON; its exit statuses; a
//! server's queue log rotated by rename and SIGHUP, the server alive
//! through it; SIGHUP without a log no longer ends the server.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{Proc, Server, command, deadline, error, ok, request};

/// Starts `callcenter monitor --connect ADDR args` with `TZ` set.
fn monitor(server: &Server, tz: &str, args: &[&str]) -> Proc {
    let mut all = vec!["monitor", "--connect"];
    let address = server.address();
    all.push(&address);
    all.extend_from_slice(args);
    let mut command = command(&all);
    command.env("TZ", tz);
    Proc::start(command, Stdio::null(), false)
}

/// Makes and hangs up the call `id` through `client`.
fn probe(client: &mut support::Conn, id: &str) {
    client.expect(
        &request("call", id),
        &ok(&format!(
            "Call {id} received\nCall {id} ringing for operator A"
        )),
    );
    client.expect(&request("hangup", id), &ok(&format!("Call {id} missed")));
}

/// Waits until every watcher follows every event (its `subscribe` may be
/// read after another client's command): probe calls until each printed
/// something, then one last probe, read up to its end by all.
fn synchronise(server: &Server, watchers: &mut [&mut Proc]) {
    let mut client = server.connect();
    let end = deadline();
    for watcher in watchers.iter_mut() {
        // Each probe's round trip gives the monitor time to print.
        let mut attempt = 0;
        while watcher.stdout.so_far().is_empty() {
            assert!(Instant::now() < end, "the monitor never subscribed");
            probe(&mut client, &format!("probe{attempt}"));
            attempt += 1;
        }
    }
    probe(&mut client, "sync");
    for watcher in watchers.iter_mut() {
        while !watcher
            .stdout
            .expect_line(deadline())
            .contains("Call sync missed")
        {}
    }
}

/// Splits `HH:MM:SS.mmm text` into minutes of the day and the text.
fn split_stamp(line: &str) -> (u64, &str) {
    let (stamp, text) = line.split_at(13);
    let bytes = stamp.as_bytes();
    assert!(
        bytes[2] == b':' && bytes[5] == b':' && bytes[8] == b'.' && bytes[12] == b' ',
        "no timestamp in {line:?}"
    );
    let number = |range: std::ops::Range<usize>| -> u64 { stamp[range].parse().expect("digits") };
    (number(0..2) * 60 + number(3..5), text)
}

#[test]
fn the_monitor_prints_two_clients_events_with_the_local_time() {
    let server = Server::start(&["--lang", "en"]);
    // UTC, and a zone five and a half hours east of it.
    let mut utc = monitor(&server, "UTC", &["--lang", "en"]);
    let mut east = monitor(&server, "IST-5:30", &["--lang", "en"]);
    synchronise(&server, &mut [&mut utc, &mut east]);
    let mut first = server.connect();
    let mut second = server.connect();
    first.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    second.expect(
        &request("answer", "A"),
        &ok("Call 1 answered by operator A"),
    );
    second.expect(&request("hangup", "9"), &error("Call 9 not found"));
    first.expect(
        &request("hangup", "1"),
        &ok("Call 1 finished and operator A available"),
    );
    let now_minutes = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 60
        % (24 * 60);
    let expected = [
        "Call 1 received",
        "Call 1 ringing for operator A",
        "Call 1 answered by operator A",
        "Call 1 finished and operator A available",
    ];
    for (watcher, offset) in [(&mut utc, 0), (&mut east, 330)] {
        for text in expected {
            let line = watcher.stdout.expect_line(deadline());
            let (minutes, printed) = split_stamp(&line);
            assert_eq!(printed, text);
            let local = (now_minutes + offset) % (24 * 60);
            // Printed within the last minute (or the one before, at a turn).
            assert!(
                minutes == local || (minutes + 1) % (24 * 60) == local,
                "{line} is not the local time ({local} min)"
            );
        }
    }
    // The server goes away: one line on stderr, status 1.
    drop(server);
    for mut watcher in [utc, east] {
        let (code, stdout, stderr) = watcher.finish(deadline());
        assert_eq!(code, Some(1));
        assert_eq!(stdout, "");
        assert_eq!(stderr, "Connection to the server lost\n");
    }
}

#[test]
fn json_prints_the_raw_lines_and_a_signal_ends_with_status_zero() {
    let server = Server::start(&["--lang", "en"]);
    let mut watcher = monitor(&server, "UTC", &["--json"]);
    synchronise(&server, &mut [&mut watcher]);
    server.connect().expect(
        &request("call", "7"),
        &ok("Call 7 received\nCall 7 ringing for operator A"),
    );
    assert_eq!(
        watcher.stdout.expect_line(deadline()),
        support::event("Call 7 received\nCall 7 ringing for operator A")
    );
    watcher.signal(libc::SIGTERM);
    let (code, stdout, stderr) = watcher.finish(deadline());
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (Some(0), "", ""));
}

#[test]
fn the_monitor_says_when_it_cannot_connect() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let outcome = support::run(&["monitor", "--connect", &addr, "--lang", "en"], b"", false);
    assert_eq!(outcome.code, Some(1));
    assert_eq!(outcome.stdout, "");
    assert!(
        outcome
            .stderr
            .starts_with(&format!("Cannot connect to {addr}"))
            && outcome.stderr.lines().count() == 1,
        "{:?}",
        outcome.stderr
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("callcenter-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The event names of a queue log's lines.
fn events(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| line.split('|').nth(4).expect("an event field").to_string())
        .collect()
}

/// Waits until the log at `path` holds `count` lines (written once per
/// loop turn, so shortly after the reply).
fn wait_for_lines(path: &std::path::Path, count: usize) -> Vec<String> {
    let end = deadline();
    loop {
        let found = events(path);
        if found.len() >= count || Instant::now() > end {
            return found;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sighup_after_a_rename_writes_to_a_new_file_and_the_server_lives_on() {
    let dir = temp_dir("rotate");
    let log = dir.join("queue_log");
    let rotated = dir.join("queue_log.1");
    let log_text = log.to_str().unwrap();
    let mut server = Server::start(&[
        "--lang",
        "en",
        "--queue-log",
        log_text,
        "--queue-name",
        "sales",
    ]);
    let mut client = server.connect();
    client.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    assert_eq!(wait_for_lines(&log, 2), ["QUEUESTART", "ENTERQUEUE"]);
    std::fs::rename(&log, &rotated).unwrap();
    // Before the HUP, lines still go to the renamed file (the same inode).
    client.expect(
        &request("answer", "A"),
        &ok("Call 1 answered by operator A"),
    );
    assert_eq!(wait_for_lines(&rotated, 3)[2], "CONNECT");
    server.proc.signal(libc::SIGHUP);
    // The HUP is handled from the loop; wait for the new file.
    let end = deadline();
    while !log.exists() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    client.expect(
        &request("hangup", "1"),
        &ok("Call 1 finished and operator A available"),
    );
    assert_eq!(wait_for_lines(&log, 1), ["COMPLETECALLER"]);
    let line = std::fs::read_to_string(&log).unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(&fields[2..5], ["sales", "A", "COMPLETECALLER"]);
    assert_eq!(events(&rotated), ["QUEUESTART", "ENTERQUEUE", "CONNECT"]);
    server.assert_alive();
}

#[test]
fn sighup_does_not_end_a_server_without_a_log() {
    let mut server = Server::start(&["--lang", "en"]);
    server.proc.signal(libc::SIGHUP);
    server
        .connect()
        .expect(&request("hangup", "x"), &error("Call x not found"));
    server.assert_alive();
}

#[test]
fn standalone_writes_the_queue_log_and_keeps_its_transcript() {
    let dir = temp_dir("standalone-log");
    let log = dir.join("queue_log");
    let outcome = support::run(
        &["--lang", "en", "--queue-log", log.to_str().unwrap()],
        b"call 1\nanswer A\ncall 2\nhangup 2\nhangup 1\nbogus\n",
        false,
    );
    assert_eq!(outcome.code, Some(0));
    assert_eq!(
        outcome.stdout,
        support::lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
            "Call 2 received",
            "Call 2 ringing for operator B",
            "Call 2 missed",
            "Call 1 finished and operator A available",
        ])
    );
    assert_eq!(outcome.stderr, "Unknown command: bogus\n");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|line| line.split('|').skip(2).collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["NONE", "NONE", "QUEUESTART", ""],
            vec!["callcenter", "NONE", "ENTERQUEUE", "", "1"],
            vec!["callcenter", "A", "CONNECT", "0", &bridged(&text), "0"],
            vec!["callcenter", "NONE", "ENTERQUEUE", "", "2"],
            vec!["callcenter", "NONE", "ABANDON", "1", "1", "0"],
            vec!["callcenter", "A", "COMPLETECALLER", "0", "0", "1"],
        ]
    );
}

/// The bridged uniqueid of the log's `CONNECT`: the call's own plus one.
fn bridged(text: &str) -> String {
    let call = text.lines().nth(1).unwrap().split('|').nth(1).unwrap();
    let (start, n) = call.split_once('.').unwrap();
    format!("{start}.{}", n.parse::<u64>().unwrap() + 1)
}

#[test]
fn operators_pausing_and_joining_are_asterisks_member_events() {
    let dir = temp_dir("member-events");
    let log = dir.join("queue_log");
    let outcome = support::run(
        &["--lang", "en", "--queue-log", log.to_str().unwrap()],
        b"pause A lunch\nunpause A\npause B\nlogin C\nlogout C\n",
        false,
    );
    assert_eq!(outcome.code, Some(0));
    assert_eq!(
        outcome.stdout,
        support::lines(&[
            "Operator A paused (lunch)",
            "Operator A unpaused",
            "Operator B paused",
            "Operator C logged in",
            "Operator C logged out",
        ])
    );
    let text = std::fs::read_to_string(&log).unwrap();
    // An operator's event names no call: its uniqueid is NONE, as Asterisk
    // writes it.
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|line| line.split('|').skip(1).collect())
        .collect();
    assert_eq!(
        lines,
        [
            vec!["NONE", "NONE", "NONE", "QUEUESTART", ""],
            vec!["NONE", "callcenter", "A", "PAUSE", "lunch"],
            vec!["NONE", "callcenter", "A", "UNPAUSE", ""],
            vec!["NONE", "callcenter", "B", "PAUSE", ""],
            vec!["NONE", "callcenter", "C", "ADDMEMBER", ""],
            vec!["NONE", "callcenter", "C", "REMOVEMEMBER", ""],
        ]
    );
}

/// Waits for `child` to exit, at most until the deadline.
fn exit_within(child: &mut std::process::Child) -> std::process::ExitStatus {
    let end = deadline();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < end, "the monitor did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_monitor_whose_stdout_nobody_reads_still_ends_on_sigterm() {
    let mut server = Server::start(&["--lang", "en"]);
    let mut child = command(&["monitor", "--connect", &server.address(), "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Far more events than the pipe and the monitor's high-water mark
    // hold, none of them read: the monitor stops reading the server, but
    // its loop still runs.
    let mut client = server.connect();
    for round in 0..4000 {
        probe(&mut client, &format!("unread{round}"));
    }
    // SAFETY: kill(2) with the pid of a child not yet reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let status = exit_within(&mut child);
    assert_eq!(status.code(), Some(0));
    server.assert_alive();
}

#[test]
fn a_monitor_whose_reader_goes_away_ends_with_status_zero() {
    let server = Server::start(&["--lang", "en"]);
    let mut child = command(&["monitor", "--connect", &server.address()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // As `callcenter monitor | head -1`: the reader takes one line and
    // leaves, closing the pipe.
    let stdout = child.stdout.take().unwrap();
    let (got, line) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first);
        let _ = got.send(first);
    });
    let mut client = server.connect();
    let end = deadline();
    let first = loop {
        probe(&mut client, "early");
        if let Ok(first) = line.recv_timeout(Duration::from_millis(50)) {
            break first;
        }
        assert!(Instant::now() < end, "the monitor printed nothing");
    };
    // (It may have subscribed between a probe's call and its hangup.)
    assert!(
        first.ends_with("Call early received\n") || first.ends_with("Call early missed\n"),
        "{first:?}"
    );
    // The next events meet a closed pipe: a normal end.
    for round in 0..200 {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        probe(&mut client, &format!("after{round}"));
    }
    let status = exit_within(&mut child);
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_queue_log_that_cannot_be_opened_is_one_line_in_the_chosen_language() {
    for (lang, text) in [
        (
            "pt",
            "callcenter: não foi possível abrir o registro da fila /nonexistent/queue_log: ",
        ),
        (
            "en",
            "callcenter: cannot open the queue log /nonexistent/queue_log: ",
        ),
    ] {
        let outcome = support::run(
            &["--lang", lang, "--queue-log", "/nonexistent/queue_log"],
            b"",
            false,
        );
        assert_eq!((outcome.code, outcome.stdout.as_str()), (Some(1), ""));
        // Then the operating system's own words, on the one line.
        assert!(outcome.stderr.starts_with(text), "{:?}", outcome.stderr);
        assert_eq!(outcome.stderr.lines().count(), 1, "{:?}", outcome.stderr);
    }
}
