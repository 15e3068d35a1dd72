//! Defects found by attacking the client and the command line (issue 10,
//! items 4, 6 to 11 and 14, and the client half of item 2). Each test runs
//! the real binary; servers are fake ones on `127.0.0.1:0`, written here,
//! so what the client receives is exactly what the test sends.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_callcenter"))
}

/// Waits for `child` at most [`DEADLINE`]; kills it past that.
fn wait(mut child: Child) -> Output {
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("the client did not exit");
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// A fake server: accepts one client and hands its stream to `serve`.
fn fake_server(serve: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            serve(stream);
        }
    });
    address
}

fn client(address: &str, extra: &[&str]) -> Command {
    let mut command = binary();
    command.args(["client", "--connect", address]).args(extra);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A free port nobody listens on.
fn closed_port_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").to_string()
}

#[test]
fn an_unwritable_stderr_never_turns_an_error_into_a_panic() {
    let full = || {
        File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let output = binary()
        .arg("--no-such-option")
        .stderr(full())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    // Standalone whose stderr is full: standard I/O failed, said nowhere
    // (there is nowhere to say it), status 1, not a panic's 101.
    let output = binary()
        .args(["--lang", "en"])
        .stdin(Stdio::piped())
        .stderr(full())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"dance\ncall 1\n")?;
            child.wait_with_output()
        })
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    // A client that cannot connect, stderr a closed pipe.
    let address = closed_port_address();
    let mut child = client(&address, &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    assert_eq!(wait(child).status.code(), Some(1));
    // Standalone whose stdout is full: one line on a full stderr, exit 1.
    let output = binary()
        .stdin(Stdio::piped())
        .stdout(full())
        .stderr(full())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"call 1\n")?;
            child.wait_with_output()
        })
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn sigterm_and_sigint_end_the_client_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let (connected, accepted) = mpsc::channel();
        let address = fake_server(move |stream| {
            let _ = connected.send(());
            // Hold the connection open until the client leaves.
            let _ = BufReader::new(stream).read_to_end(&mut Vec::new());
        });
        let child = client(&address, &["--lang", "en"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        accepted.recv_timeout(DEADLINE).expect("connected");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let output = wait(child);
        assert_eq!(
            (
                output.status.code(),
                text(&output.stdout),
                text(&output.stderr)
            ),
            (Some(0), String::new(), String::new()),
            "{signal}"
        );
    }
}

#[test]
fn the_client_reports_its_own_stdio_failing_like_standalone() {
    let address = fake_server(|stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = writer.write_all(b"{\"response\": \"Call 1 received\"}\n");
            line.clear();
        }
    });
    let full = File::options().write(true).open("/dev/full").unwrap();
    let mut child = client(&address, &["--lang", "en"])
        .stdin(Stdio::piped())
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(b"call 1\n").unwrap();
    let output = wait(child);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "callcenter: standard input/output failed: No space left on device (os error 28)\n"
    );
    // Stdin a directory, in Portuguese.
    let address = fake_server(|stream| {
        let _ = BufReader::new(stream).read_to_end(&mut Vec::new());
    });
    let output = wait(
        client(&address, &[])
            .stdin(File::open("/").unwrap())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "callcenter: falha na entrada/saída padrão: Is a directory (os error 21)\n"
    );
}

/// A fake server that answers each request line with the next reply of
/// `replies` (`None`: no reply), after first sending `greeting`.
fn scripted_server(greeting: &'static str, replies: Vec<&'static str>) -> String {
    fake_server(move |stream| {
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(greeting.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        for reply in replies {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            writer.write_all(reply.as_bytes()).unwrap();
        }
        // Hold the connection until the client closes it: closing first
        // would race the client's own end of input.
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    })
}

#[test]
fn replies_with_nothing_in_flight_and_trailing_newlines_print_one_line_each() {
    // As the best-known Python server sends a ring timeout: no `event`,
    // nothing asked, and a newline at the end of every response.
    let address = scripted_server(
        "{\"response\": \"Call 1 ignored by operator A\\n\"}\n",
        vec!["{\"response\": \"Call 2 received\\nCall 2 ringing for operator B\\n\"}\n"],
    );
    let mut child = client(&address, &["--lang", "en"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "Call 1 ignored by operator A\n");
    child.stdin.take().unwrap().write_all(b"call 2\n").unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let output = wait(child);
    assert_eq!(
        (output.status.code(), rest, text(&output.stderr)),
        (
            Some(0),
            "Call 2 received\nCall 2 ringing for operator B\n".to_string(),
            String::new()
        )
    );
}

#[test]
fn control_and_format_characters_from_the_server_are_escaped() {
    let address = scripted_server(
        "",
        vec![
            "{\"response\": \"Call \\u001b[2J1\\u0000 received\\rX\\u202e\"}\n",
            "{\"response\": \"bad \\u0007\", \"error\": true}\n",
        ],
    );
    let output = client(&address, &["--lang", "en"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(b"call 1\ncall 2\n")?;
            child.wait_with_output()
        })
        .expect("run");
    assert_eq!(
        (
            output.status.code(),
            text(&output.stdout),
            text(&output.stderr)
        ),
        (
            Some(0),
            "Call \\u{1b}[2J1\\u{0} received\\u{d}X\\u{202e}\n".to_string(),
            "bad \\u{7}\n".to_string()
        )
    );
}

#[test]
fn format_characters_and_noncharacters_in_ids_are_usage_errors() {
    let input = "call a\u{202E}b\ncall \u{2066}x\ncall x\u{200B}\nanswer \u{FEFF}A\nhangup \u{FFFF}\ncall \u{FDD0}\ncall ok\n";
    let output = binary()
        .args(["--lang", "en"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run");
    assert_eq!(
        (output.status.code(), text(&output.stdout), text(&output.stderr)),
        (
            Some(0),
            "Call ok received\nCall ok ringing for operator A\n".to_string(),
            "Usage: call <id> [priority]\nUsage: call <id> [priority]\nUsage: call <id> [priority]\nUsage: answer <id>\nUsage: hangup <id>\nUsage: call <id> [priority]\n".to_string()
        )
    );
    let output = binary()
        .args(["--operators", "A,B\u{202E}"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn bad_addresses_are_bad_option_values_naming_the_option() {
    let cases: [&[&str]; 4] = [
        &["server", "--listen", "nope"],
        &["server", "--listen", "127.0.0.1:99999"],
        &["client", "--connect", "nope"],
        &["bench", "--connect", "127.0.0.1:99999"],
    ];
    for args in cases {
        let output = binary()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        let option = args[1];
        let value = args[2];
        assert_eq!(
            (
                output.status.code(),
                text(&output.stdout),
                text(&output.stderr)
            ),
            (
                Some(2),
                String::new(),
                format!(
                    "error: invalid value '{value}' for '{option} <ADDR>': expected HOST:PORT, such as 127.0.0.1:5678\n"
                )
            ),
            "{args:?}"
        );
    }
}

#[test]
fn a_name_that_does_not_resolve_is_said_in_the_clients_language() {
    let output = client("no-such-host.invalid:5678", &[])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("Não foi possível conectar a no-such-host.invalid:5678: ")
            && stderr.ends_with('\n')
            && stderr.lines().count() == 1,
        "{stderr:?}"
    );
}

#[test]
fn the_client_stops_reading_stdin_while_too_many_replies_are_due() {
    const LINES: usize = 200_000;
    let (counts, received) = mpsc::channel();
    let address = fake_server(move |stream| {
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        let mut requests = 0usize;
        // Read without replying until the client goes quiet.
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => requests += 1,
                Err(_) => break,
            }
        }
        let withheld = requests;
        // Now reply to all of them: the client must read on and send more.
        for _ in 0..withheld {
            writer
                .write_all(b"{\"response\": \"Call x not found\", \"error\": true}\n")
                .unwrap();
        }
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => requests += 1,
            }
        }
        let _ = counts.send((withheld, requests));
    });
    let mut child = client(&address, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let line = b"hangup x\n";
        for _ in 0..LINES {
            if stdin.write_all(line).is_err() {
                return;
            }
        }
    });
    let (withheld, total) = received
        .recv_timeout(DEADLINE)
        .expect("the server's counts");
    let _ = child.kill();
    let _ = child.wait();
    let _ = writer.join();
    // At most the high-water mark plus one read's worth of lines.
    assert!(
        (1024..20_000).contains(&withheld),
        "{withheld} requests sent with no reply"
    );
    assert!(total > withheld, "reading did not resume: {total}");
}
