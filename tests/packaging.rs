//! The packaging files (docker/Dockerfile, docker/compose.yaml,
//! packaging/callcenter.service) against the real binary, without a Docker
//! engine, systemd or a static build: every `callcenter` command line they
//! contain is extracted and run (servers on 127.0.0.1:0, clients against a
//! server started here), and the Dockerfile is checked to ship the static
//! build into `FROM scratch` images.
//!
//! The children are run through `tests/support`: no sleeps, every wait has
//! a deadline, and every child is killed when a test ends, failed or not.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use support::{Outcome, Server, Streams, command};

/// The reply lines to `call 1` from a server with the default options.
const CALL_1_REPLY: &str = "Chamada 1 recebida\nChamada 1 tocando para o operador A";

/// The path of the static binary that scripts/build-static.sh and the
/// Dockerfile build.
const STATIC_BINARY: &str = "target/x86_64-unknown-linux-gnu/release/callcenter";

fn read_repo_file(path: &str) -> String {
    let full: PathBuf = [env!("CARGO_MANIFEST_DIR"), path].iter().collect();
    fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

// ---------------------------------------------------------------------------
// Children

/// Starts the binary with `args` (a server command line on 127.0.0.1:0)
/// and waits for its `Listening on 127.0.0.1:PORT` line.
fn start_server(args: &[String]) -> Server {
    Server::launch(command(args), Streams::default())
}

/// Runs the binary with `args`, `input` on stdin, to its end.
fn run(args: &[String], input: &str) -> Outcome {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    support::run(&args, input.as_bytes(), false)
}

/// Sends one JSON command to a server and returns its one-line reply, parsed.
fn request(label: &str, server: &Server, json: &str) -> serde_json::Value {
    let reply = server.connect().request(json);
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{label}: reply {reply:?}: {e}"))
}

// ---------------------------------------------------------------------------
// Command lines

/// A command line with the value after `option` replaced by `value`
/// (clap refuses an option given twice, so it cannot simply be appended).
/// Returns the old value.
fn replace_option(label: &str, args: &mut [String], option: &str, value: &str) -> String {
    let at = args
        .iter()
        .position(|arg| arg == option)
        .unwrap_or_else(|| panic!("{label}: {args:?} has no {option}"));
    let slot = args
        .get_mut(at + 1)
        .unwrap_or_else(|| panic!("{label}: {option} has no value"));
    std::mem::replace(slot, value.to_string())
}

/// Splits a packaged command line into the program path and the arguments,
/// checking the program is `expected_path` and the mode is `mode`.
fn arguments(label: &str, argv: &[String], expected_path: &str, mode: &str) -> Vec<String> {
    assert_eq!(
        argv.first().map(String::as_str),
        Some(expected_path),
        "{label}: {argv:?}"
    );
    assert_eq!(
        argv.get(1).map(String::as_str),
        Some(mode),
        "{label}: {argv:?}"
    );
    argv[1..].to_vec()
}

/// Starts a packaged server command line on 127.0.0.1:0 and checks it
/// serves: `call 1` gets the exact reply.
fn check_server_command(label: &str, argv: &[String], expected_path: &str) {
    let mut args = arguments(label, argv, expected_path, "server");
    let listen = replace_option(label, &mut args, "--listen", "127.0.0.1:0");
    assert_eq!(
        listen, "0.0.0.0:5678",
        "{label}: the packaged listen address"
    );
    let server = start_server(&args);
    let reply = request(label, &server, r#"{"command": "call", "id": "1"}"#);
    assert_eq!(
        reply,
        serde_json::json!({ "response": CALL_1_REPLY }),
        "{label}"
    );
}

/// Runs a packaged client command line against a server started here, with
/// `call 1` on stdin, and checks the exact output.
fn check_client_command(label: &str, argv: &[String], expected_path: &str) {
    let mut args = arguments(label, argv, expected_path, "client");
    let server = start_server(&[
        "server".to_string(),
        "--listen".to_string(),
        "127.0.0.1:0".to_string(),
    ]);
    let connect = replace_option(label, &mut args, "--connect", &server.address());
    assert_eq!(
        connect, "server:5678",
        "{label}: the packaged server address"
    );
    let output = run(&args, "call 1\n");
    assert_eq!(
        (output.code, output.stdout.as_str(), output.stderr.as_str()),
        (Some(0), format!("{CALL_1_REPLY}\n").as_str(), ""),
        "{label}: {args:?}"
    );
}

// ---------------------------------------------------------------------------
// docker/Dockerfile

/// One build stage: `FROM base AS name` and its instructions, continuation
/// lines joined, comments dropped.
#[derive(Debug)]
struct Stage {
    base: String,
    name: String,
    instructions: Vec<(String, String)>,
}

impl Stage {
    fn all(&self, keyword: &str) -> Vec<&str> {
        self.instructions
            .iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn last(&self, keyword: &str) -> Option<&str> {
        self.all(keyword).last().copied()
    }
}

fn parse_dockerfile(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim());
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(
        current.is_empty(),
        "Dockerfile ends inside a continued line"
    );
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let rest = rest.trim().to_string();
        if keyword == "FROM" {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let [base, as_word, name] = words[..] else {
                panic!("every stage is named (FROM base AS name): {line:?}");
            };
            assert!(as_word.eq_ignore_ascii_case("AS"), "{line:?}");
            stages.push(Stage {
                base: base.to_string(),
                name: name.to_string(),
                instructions: Vec::new(),
            });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push((keyword, rest));
        } else {
            assert_eq!(keyword, "ARG", "only ARG may come before the first FROM");
        }
    }
    stages
}

/// An exec-form (JSON array) ENTRYPOINT or CMD.
fn exec_form(value: &str) -> Vec<String> {
    serde_json::from_str(value)
        .unwrap_or_else(|e| panic!("not an exec-form JSON array of strings: {value:?}: {e}"))
}

/// The stage named `name` and the stages it is built on, nearest first.
fn lineage<'a>(stages: &'a [Stage], name: &str) -> Vec<&'a Stage> {
    let mut chain = Vec::new();
    let mut next = Some(name.to_string());
    while let Some(name) = next {
        let Some(stage) = stages.iter().find(|s| s.name == name) else {
            break;
        };
        chain.push(stage);
        next = Some(stage.base.clone());
    }
    assert!(!chain.is_empty(), "no stage {name:?}");
    chain
}

/// ENTRYPOINT and CMD of a target, as Docker resolves them: the nearest
/// stage that sets ENTRYPOINT, and CMD only from that stage or a later one
/// (setting ENTRYPOINT resets an inherited CMD).
fn entrypoint_and_cmd(stages: &[Stage], target: &str) -> (Vec<String>, Vec<String>) {
    let chain = lineage(stages, target);
    let mut cmd = None;
    for stage in &chain {
        if cmd.is_none() {
            cmd = stage.last("CMD").map(exec_form);
        }
        if let Some(entrypoint) = stage.last("ENTRYPOINT") {
            return (exec_form(entrypoint), cmd.unwrap_or_default());
        }
    }
    panic!("target {target:?} has no ENTRYPOINT");
}

fn dockerfile() -> Vec<Stage> {
    parse_dockerfile(&read_repo_file("docker/Dockerfile"))
}

#[test]
fn dockerfile_ships_the_static_build_in_scratch_images() {
    let stages = dockerfile();
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["build", "runtime", "client", "server"]);
    // The last stage is what a plain `docker build` gives: the server.
    assert_eq!(stages.last().map(|s| s.name.as_str()), Some("server"));

    let build = &stages[0];
    assert!(build.base.starts_with("rust:"), "{build:?}");
    let runs = build.all("RUN");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = runs[0];
    assert!(
        run.starts_with(
            "RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked \
             --target x86_64-unknown-linux-gnu && "
        ),
        "{run:?}"
    );
    assert!(
        run.contains(&format!(" && cp {STATIC_BINARY} /callcenter && ")),
        "{run:?}"
    );
    assert_eq!(build.all("COPY"), ["Cargo.toml Cargo.lock ./", "src ./src"]);

    // Both images: nothing but the binary (and nsswitch.conf) on scratch.
    for target in ["server", "client"] {
        let chain = lineage(&stages, target);
        let root = chain.last().expect("a stage");
        assert_eq!(root.base, "scratch", "{target}");
        let copies: Vec<&str> = chain.iter().flat_map(|s| s.all("COPY")).collect();
        assert_eq!(
            copies,
            [
                "--from=build /rootfs/ /",
                "--from=build /callcenter /callcenter"
            ],
            "{target}"
        );
        let users: Vec<&str> = chain.iter().flat_map(|s| s.all("USER")).collect();
        assert_eq!(users, ["65534:65534"], "{target}");
        assert!(chain.iter().all(|s| s.all("RUN").is_empty()), "{target}");
    }
    assert_eq!(lineage(&stages, "server")[0].all("EXPOSE"), ["5678"]);
}

#[test]
fn dockerfile_server_command_line_starts_and_serves() {
    let stages = dockerfile();
    let (entrypoint, cmd) = entrypoint_and_cmd(&stages, "server");
    assert_eq!(cmd, Vec::<String>::new(), "the server takes options as CMD");
    check_server_command("Dockerfile server", &entrypoint, "/callcenter");
}

#[test]
fn dockerfile_client_command_line_talks_to_a_server() {
    let stages = dockerfile();
    let (entrypoint, cmd) = entrypoint_and_cmd(&stages, "client");
    let argv = [entrypoint, cmd].concat();
    check_client_command("Dockerfile client", &argv, "/callcenter");
}

// ---------------------------------------------------------------------------
// docker/compose.yaml

/// The subset of YAML the compose file uses: block mappings, block
/// sequences of scalars, flow sequences, plain or quoted scalars.
#[derive(Debug, Clone, PartialEq)]
enum Yaml {
    Map(Vec<(String, Yaml)>),
    List(Vec<Yaml>),
    Scalar(String),
}

impl Yaml {
    fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn at(&self, path: &[&str]) -> &Yaml {
        path.iter().fold(self, |node, key| {
            node.get(key)
                .unwrap_or_else(|| panic!("compose.yaml has no {}", path.join(".")))
        })
    }

    fn scalar(&self) -> &str {
        match self {
            Yaml::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn strings(&self) -> Vec<String> {
        match self {
            Yaml::List(items) => items.iter().map(|i| i.scalar().to_string()).collect(),
            other => panic!("not a list: {other:?}"),
        }
    }
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        serde_json::from_str(value).unwrap_or_else(|e| panic!("bad string {value:?}: {e}"))
    } else if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        value[1..value.len() - 1].replace("''", "'")
    } else {
        value.to_string()
    }
}

fn scalar_or_flow(value: &str) -> Yaml {
    let value = value.trim();
    match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) if inner.trim().is_empty() => Yaml::List(Vec::new()),
        Some(inner) => Yaml::List(
            inner
                .split(',')
                .map(|item| Yaml::Scalar(unquote(item)))
                .collect(),
        ),
        None => Yaml::Scalar(unquote(value)),
    }
}

/// Lines without comments and blanks, as (indent, text).
fn yaml_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .filter(|line| {
            let trimmed = line.trim();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .map(|line| {
            assert!(
                !line.contains(" #"),
                "no trailing comments, please: {line:?}"
            );
            assert!(!line.contains('\t'), "no tabs in YAML: {line:?}");
            (line.len() - line.trim_start().len(), line.trim())
        })
        .collect()
}

fn parse_yaml_block(lines: &[(usize, &str)], at: &mut usize, indent: usize) -> Yaml {
    let is_list = lines[*at].1.starts_with("- ");
    let mut map = Vec::new();
    let mut list = Vec::new();
    while *at < lines.len() && lines[*at].0 == indent {
        let text = lines[*at].1;
        *at += 1;
        if is_list {
            let item = text
                .strip_prefix("- ")
                .unwrap_or_else(|| panic!("a map entry among list items: {text:?}"));
            list.push(scalar_or_flow(item));
            continue;
        }
        let (key, value) = text
            .split_once(':')
            .unwrap_or_else(|| panic!("not `key: value`: {text:?}"));
        let value = if value.trim().is_empty() {
            let child = lines
                .get(*at)
                .map(|&(i, _)| i)
                .filter(|&i| i > indent)
                .unwrap_or_else(|| panic!("{key}: has no value"));
            parse_yaml_block(lines, at, child)
        } else {
            scalar_or_flow(value)
        };
        map.push((key.trim().to_string(), value));
    }
    if let Some(&(i, text)) = lines.get(*at) {
        assert!(i < indent, "bad indentation at {text:?}");
    }
    if is_list {
        Yaml::List(list)
    } else {
        Yaml::Map(map)
    }
}

fn compose() -> Yaml {
    let text = read_repo_file("docker/compose.yaml");
    let lines = yaml_lines(&text);
    let mut at = 0;
    let yaml = parse_yaml_block(&lines, &mut at, 0);
    assert_eq!(at, lines.len());
    yaml
}

/// A compose service's command line: its image target's ENTRYPOINT, then
/// its `command:` or else the target's CMD.
fn compose_command_line(compose: &Yaml, stages: &[Stage], service: &str) -> Vec<String> {
    let build = compose.at(&["services", service, "build"]);
    assert_eq!(build.at(&["context"]).scalar(), "..", "{service}");
    assert_eq!(
        build.at(&["dockerfile"]).scalar(),
        "docker/Dockerfile",
        "{service}"
    );
    let target = build.at(&["target"]).scalar();
    let (entrypoint, cmd) = entrypoint_and_cmd(stages, target);
    let cmd = match compose.at(&["services", service]).get("command") {
        Some(command) => command.strings(),
        None => cmd,
    };
    [entrypoint, cmd].concat()
}

#[test]
fn compose_file_describes_a_server_and_an_attachable_client() {
    let compose = compose();
    assert_eq!(compose.at(&["name"]).scalar(), "callcenter");
    let services: BTreeSet<&str> = match compose.at(&["services"]) {
        Yaml::Map(entries) => entries.iter().map(|(k, _)| k.as_str()).collect(),
        other => panic!("services: {other:?}"),
    };
    assert_eq!(services, BTreeSet::from(["server", "client"]));

    let server = compose.at(&["services", "server"]);
    assert_eq!(server.at(&["build", "target"]).scalar(), "server");
    assert_eq!(server.at(&["image"]).scalar(), "callcenter-server");
    assert_eq!(server.at(&["restart"]).scalar(), "unless-stopped");
    assert_eq!(server.at(&["ports"]).strings(), ["127.0.0.1:5678:5678"]);
    assert_eq!(server.get("profiles"), None, "`up` must start the server");

    let client = compose.at(&["services", "client"]);
    assert_eq!(client.at(&["build", "target"]).scalar(), "client");
    assert_eq!(client.at(&["image"]).scalar(), "callcenter-client");
    assert_eq!(client.at(&["stdin_open"]).scalar(), "true");
    assert_eq!(client.at(&["tty"]).scalar(), "true");
    assert_eq!(client.at(&["depends_on"]).strings(), ["server"]);
    assert_eq!(client.at(&["profiles"]).strings(), ["client"]);
}

#[test]
fn compose_server_command_line_starts_and_serves() {
    let argv = compose_command_line(&compose(), &dockerfile(), "server");
    check_server_command("compose server", &argv, "/callcenter");
}

#[test]
fn compose_client_command_line_talks_to_a_server() {
    let argv = compose_command_line(&compose(), &dockerfile(), "client");
    check_client_command("compose client", &argv, "/callcenter");
}

// ---------------------------------------------------------------------------
// packaging/callcenter.service

/// `Key=value` lines per `[Section]`, in order.
fn systemd_unit() -> Vec<(String, String, String)> {
    let text = read_repo_file("packaging/callcenter.service");
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        assert!(
            !line.ends_with('\\'),
            "no continued lines, please: {line:?}"
        );
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not Key=value: {line:?}"));
        entries.push((section.clone(), key.to_string(), value.to_string()));
    }
    entries
}

fn unit_values(unit: &[(String, String, String)], section: &str, key: &str) -> Vec<String> {
    unit.iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.clone())
        .collect()
}

#[test]
fn systemd_unit_runs_the_server_in_the_foreground() {
    let unit = systemd_unit();
    let service = |key: &str| unit_values(&unit, "Service", key);
    assert_eq!(service("Type"), Vec::<String>::new(), "the default, simple");
    assert_eq!(service("Restart"), ["on-failure"]);
    assert_eq!(service("KillSignal"), ["SIGTERM"]);
    assert_eq!(service("StandardError"), ["journal"]);
    assert_eq!(service("DynamicUser"), ["yes"]);
    assert_eq!(service("User"), ["callcenter"]);
    assert_eq!(service("PrivateNetwork"), Vec::<String>::new());
    assert_eq!(
        service("RestrictAddressFamilies"),
        ["AF_INET AF_INET6 AF_UNIX"]
    );
    assert_eq!(
        unit_values(&unit, "Install", "WantedBy"),
        ["multi-user.target"]
    );
}

#[test]
fn systemd_server_command_line_starts_and_serves() {
    let unit = systemd_unit();
    let exec = unit_values(&unit, "Service", "ExecStart");
    assert_eq!(exec.len(), 1, "{exec:?}");
    let argv: Vec<String> = exec[0].split_whitespace().map(str::to_string).collect();
    check_server_command("systemd ExecStart", &argv, "/usr/local/bin/callcenter");
}

// ---------------------------------------------------------------------------

#[test]
fn version_is_the_cargo_package_version() {
    let output = run(&["--version".to_string()], "");
    assert_eq!(
        (output.code, output.stdout.as_str(), output.stderr.as_str()),
        (
            Some(0),
            format!("callcenter {}\n", env!("CARGO_PKG_VERSION")).as_str(),
            ""
        )
    );
}

#[test]
fn static_build_script_uses_the_same_flags_as_the_dockerfile() {
    let script = read_repo_file("scripts/build-static.sh");
    assert!(
        script.contains("\ntarget=x86_64-unknown-linux-gnu\n"),
        "{script}"
    );
    assert!(
        script.contains("\nexport RUSTFLAGS='-C target-feature=+crt-static'\n"),
        "{script}"
    );
    assert!(
        script.contains("\ncargo build --release --target \"$target\" \"$@\" >&2\n"),
        "{script}"
    );
    assert!(
        script.contains("\necho \"$CARGO_TARGET_DIR/$target/release/callcenter\"\n"),
        "{script}"
    );
}
