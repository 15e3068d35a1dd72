//! Running a short Python script as a checker: the tests hand `/metrics`
//! text to Python's `prometheus_client` parser, a real Prometheus parser
//! (`.ci/run` installs it).

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `script` with `python3 -c`, `input` on its stdin; returns its
/// stdout's lines. Fails the test, showing `input`, if the script fails
/// (for the parser: if it rejects the text).
pub fn python_lines(script: &str, input: &str) -> Vec<String> {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (.ci/run installs prometheus_client)");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .expect("python3 reads its input");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "the Python checker rejected the text:\n{}\n{input}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_string)
        .collect()
}
