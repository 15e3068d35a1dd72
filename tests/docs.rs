//! Keeps the docs honest.
//!
//! - Every ```` ```rust ```` block of `docs/twisted-to-rust.md` and
//!   `docs/architecture.md` introduced (within the two previous non-empty
//!   lines) by a line saying ``From `<path>` `` is a quote: its lines,
//!   trimmed, must be consecutive lines of that file, trimmed, except where
//!   a line that is exactly `...` or `// ...` marks left-out lines (the
//!   runs between such marks come in the file's order).
//! - Every relative link in `README.md` and `docs/*.md` names an existing file.
//! - Every `src/...rs` or `examples/...rs` path written in those docs exists.
//!
//! Each test gathers every problem, then compares the whole list with an
//! empty one, so one run reports them all: which doc, which block, which line.

use std::path::{Path, PathBuf};

/// The crate's root: docs and sources are read from here.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The docs whose Rust blocks are quotes of our code.
const QUOTING_DOCS: [&str; 2] = ["docs/twisted-to-rust.md", "docs/architecture.md"];

/// Fewest quotes each quoting doc must hold, so that a broken "From" line
/// cannot quietly turn the check into a no-op.
const MIN_QUOTES: [(&str, usize); 2] =
    [("docs/twisted-to-rust.md", 20), ("docs/architecture.md", 6)];

fn read(relative: &str) -> String {
    let path = Path::new(ROOT).join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// `README.md` and every `docs/*.md`, as paths relative to the root, sorted.
fn markdown_docs() -> Vec<String> {
    let mut docs = vec!["README.md".to_string()];
    let dir = Path::new(ROOT).join("docs");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    let mut found: Vec<String> = entries
        .map(|entry| entry.expect("a directory entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_string))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    found.sort();
    docs.extend(found);
    docs
}

/// A fenced ```` ```rust ```` block that says which file it quotes.
#[derive(Debug, PartialEq, Eq)]
struct Quote {
    /// 1-based line of the opening fence in the doc.
    fence_line: usize,
    /// The quoted file, relative to the root.
    source: String,
    /// The block's lines, each with its 1-based line in the doc.
    lines: Vec<(usize, String)>,
}

/// The path in a ``From `<path>` `` line, if the line has one.
fn quoted_source(line: &str) -> Option<&str> {
    let start = line.find("From `")? + "From `".len();
    let length = line[start..].find('`')?;
    Some(&line[start..start + length])
}

/// Every quoting Rust block of `doc`, in order.
fn quotes(doc: &str) -> Vec<Quote> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let fence = lines[index].trim();
        let Some(info) = fence.strip_prefix("```") else {
            index += 1;
            continue;
        };
        let opening = index;
        let mut block = Vec::new();
        index += 1;
        while index < lines.len() && !lines[index].trim().starts_with("```") {
            block.push((index + 1, lines[index].to_string()));
            index += 1;
        }
        // Skip the closing fence.
        index += 1;
        if info.trim() != "rust" {
            continue;
        }
        let source = lines[..opening]
            .iter()
            .rev()
            .filter(|line| !line.trim().is_empty())
            .take(2)
            .find_map(|line| quoted_source(line));
        if let Some(source) = source {
            found.push(Quote {
                fence_line: opening + 1,
                source: source.to_string(),
                lines: block,
            });
        }
    }
    found
}

/// Whether a quoted line marks left-out lines.
fn is_elision(line: &str) -> bool {
    line == "..." || line == "// ..."
}

/// The runs of a quote between its elision marks, each without the blank
/// lines at its ends: every run must be a contiguous run of the source.
fn segments(quote: &Quote) -> Vec<Vec<(usize, &str)>> {
    let mut runs = vec![Vec::new()];
    for (doc_line, line) in &quote.lines {
        let line = line.trim();
        if is_elision(line) {
            runs.push(Vec::new());
        } else if let Some(run) = runs.last_mut() {
            run.push((*doc_line, line));
        }
    }
    for run in &mut runs {
        while run.last().is_some_and(|(_, line)| line.is_empty()) {
            run.pop();
        }
        let leading = run.iter().take_while(|(_, line)| line.is_empty()).count();
        run.drain(..leading);
    }
    runs.retain(|run| !run.is_empty());
    runs
}

/// What is wrong with `quote` as a quote of `source_text`. Each run of
/// lines between `// ...` marks must be a contiguous run of the source's
/// lines (compared trimmed), the runs in order; a problem names the first
/// quoted line that is not where it should be.
fn misquotes(doc_name: &str, quote: &Quote, source_text: &str) -> Vec<String> {
    let source_lines: Vec<&str> = source_text.lines().map(str::trim).collect();
    let mut problems = Vec::new();
    let mut next = 0;
    for run in segments(quote) {
        // The longest match of the run's first lines, from each place its
        // first line occurs after the previous run.
        let best = (next..source_lines.len())
            .filter(|&start| source_lines[start] == run[0].1)
            .map(|start| {
                let matched = run
                    .iter()
                    .zip(&source_lines[start..])
                    .take_while(|((_, quoted), source)| quoted == *source)
                    .count();
                (matched, start)
            })
            .max_by_key(|&(matched, start)| (matched, std::cmp::Reverse(start)));
        match best {
            Some((matched, start)) if matched == run.len() => next = start + matched,
            Some((matched, start)) => {
                let (doc_line, line) = run[matched];
                problems.push(format!(
                    "{doc_name}:{doc_line}: the block opened at line {} quotes `{}`, \
                     but its line `{line}` is not line {} of that file (mark left-out \
                     lines with `// ...`)",
                    quote.fence_line,
                    quote.source,
                    start + matched + 1
                ));
                next = start + matched;
            }
            None => problems.push(format!(
                "{doc_name}:{}: the block opened at line {} quotes `{}`, \
                 but its line `{}` is not a line of that file (after line {next} of it)",
                run[0].0, quote.fence_line, quote.source, run[0].1
            )),
        }
    }
    problems
}

#[test]
fn quoted_rust_blocks_match_the_code_they_name() {
    let mut problems = Vec::new();
    for doc_name in QUOTING_DOCS {
        let doc = read(doc_name);
        let found = quotes(&doc);
        let minimum = MIN_QUOTES
            .iter()
            .find(|(name, _)| *name == doc_name)
            .map_or(1, |&(_, minimum)| minimum);
        if found.len() < minimum {
            problems.push(format!(
                "{doc_name}: {} quoting rust blocks found, expected at least {minimum}",
                found.len()
            ));
        }
        for quote in &found {
            let path = Path::new(ROOT).join(&quote.source);
            match std::fs::read_to_string(&path) {
                Ok(source_text) => problems.extend(misquotes(doc_name, quote, &source_text)),
                Err(error) => problems.push(format!(
                    "{doc_name}:{}: the block quotes `{}`, which cannot be read: {error}",
                    quote.fence_line, quote.source
                )),
            }
        }
    }
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "\nquotes that no longer match the code:\n{}\n",
        problems.join("\n")
    );
}

/// `text` without its fenced code blocks and inline code spans, line by line
/// (1-based numbers), so that code is never mistaken for a link.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut prose = Vec::new();
    let mut in_fence = false;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // Every other piece between backticks is code.
        let kept: String = line.split('`').step_by(2).collect::<Vec<&str>>().join(" ");
        prose.push((index + 1, kept));
    }
    prose
}

/// The targets of the inline links `[text](target)` on a line.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        let end = rest
            .find(|c: char| c == ')' || c.is_whitespace())
            .unwrap_or(rest.len());
        targets.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    targets
}

/// Whether a link target is a file path relative to the doc.
fn is_relative(target: &str) -> bool {
    !(target.is_empty()
        || target.starts_with('#')
        || target.starts_with('/')
        || target.starts_with("<")
        || target.contains("://")
        || target.starts_with("mailto:"))
}

#[test]
fn relative_links_point_to_existing_files() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc_name in markdown_docs() {
        let doc = read(&doc_name);
        let base: PathBuf = Path::new(ROOT)
            .join(&doc_name)
            .parent()
            .expect("a doc is in a directory")
            .to_path_buf();
        for (line_number, line) in prose_lines(&doc) {
            for target in link_targets(&line) {
                if !is_relative(&target) {
                    continue;
                }
                let file = target.split('#').next().unwrap_or_default();
                checked += 1;
                if !base.join(file).exists() {
                    problems.push(format!(
                        "{doc_name}:{line_number}: the link `{target}` names a file that does not exist"
                    ));
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no relative link found at all: is the scan broken?"
    );
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "\nbroken links:\n{}\n",
        problems.join("\n")
    );
}

/// Every `src/...rs` and `examples/...rs` path written in `text`.
fn source_paths(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut paths = Vec::new();
    for prefix in ["src/", "examples/"] {
        for (start, _) in text.match_indices(prefix) {
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                continue;
            }
            let length = text[start..]
                .find(|c: char| !is_path_char(c))
                .unwrap_or(text.len() - start);
            let path = text[start..start + length].trim_end_matches('.');
            if path.ends_with(".rs") {
                paths.push(path.to_string());
            }
        }
    }
    paths
}

#[test]
fn source_paths_named_in_the_docs_exist() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc_name in markdown_docs() {
        let doc = read(&doc_name);
        for (index, line) in doc.lines().enumerate() {
            for path in source_paths(line) {
                checked += 1;
                if !Path::new(ROOT).join(&path).is_file() {
                    problems.push(format!("{doc_name}:{}: `{path}` does not exist", index + 1));
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no source path found at all: is the scan broken?"
    );
    assert_eq!(
        problems,
        Vec::<String>::new(),
        "\nsource paths that do not exist:\n{}\n",
        problems.join("\n")
    );
}

/// The checkers themselves, on a small made-up doc and source.
#[test]
fn the_checkers_find_quotes_misquotes_links_and_paths() {
    let doc = "\
# Title

From `src/demo.rs`:

```rust
fn a() {
    // ...
    b();
}
```

```rust
not a quote
```

From `src/demo.rs`, reordered:

```rust
b();
fn a() {
```

See [the spec](spec.md#rules), [far](https://example.com) and `[x](gone.md)`.
";
    let found = quotes(doc);
    assert_eq!(
        found,
        vec![
            Quote {
                fence_line: 5,
                source: "src/demo.rs".to_string(),
                lines: vec![
                    (6, "fn a() {".to_string()),
                    (7, "    // ...".to_string()),
                    (8, "    b();".to_string()),
                    (9, "}".to_string()),
                ],
            },
            Quote {
                fence_line: 18,
                source: "src/demo.rs".to_string(),
                lines: vec![(19, "b();".to_string()), (20, "fn a() {".to_string())],
            },
        ]
    );
    let source = "fn a() {\n    let x = 1;\n    b();\n}\n";
    assert_eq!(
        misquotes("demo.md", &found[0], source),
        Vec::<String>::new()
    );
    assert_eq!(
        misquotes("demo.md", &found[1], source),
        vec![
            "demo.md:20: the block opened at line 18 quotes `src/demo.rs`, but its line \
             `fn a() {` is not line 4 of that file (mark left-out lines with `// ...`)"
                .to_string()
        ]
    );
    // The same lines, in order, but with one left out and no `// ...`.
    let gap = quotes("From `src/demo.rs`:\n\n```rust\nfn a() {\n    b();\n}\n```\n");
    assert_eq!(
        misquotes("gap.md", &gap[0], source),
        vec![
            "gap.md:5: the block opened at line 3 quotes `src/demo.rs`, but its line \
             `b();` is not line 2 of that file (mark left-out lines with `// ...`)"
                .to_string()
        ]
    );
    // Blank lines at the ends of a run, and a run that starts later, are fine.
    let runs =
        quotes("From `src/demo.rs`:\n```rust\n\n    let x = 1;\n    b();\n\n// ...\n}\n```\n");
    assert_eq!(misquotes("runs.md", &runs[0], source), Vec::<String>::new());
    let links: Vec<String> = prose_lines(doc)
        .iter()
        .flat_map(|(_, line)| link_targets(line))
        .collect();
    assert_eq!(links, ["spec.md#rules", "https://example.com"]);
    assert_eq!(
        links.iter().map(|l| is_relative(l)).collect::<Vec<bool>>(),
        [true, false]
    );
    assert_eq!(
        source_paths("see src/engine.rs. and `examples/timers.rs`, not mysrc/x.rs or src/modes/"),
        ["src/engine.rs", "examples/timers.rs"]
    );
}

/// The reactor's parts are public modules, so `cargo doc` shows their
/// module docs (the `LineReceiver` example, the epoll fallback of standard
/// I/O): each is reachable by its own path.
#[test]
fn the_reactor_modules_are_public() {
    use callcenter::reactor::{clock, line, looping, protocol, stdio, tcp, timer, transport};
    let names = [
        std::any::type_name::<clock::ManualClock>(),
        std::any::type_name::<line::Overflow>(),
        std::any::type_name::<looping::LoopingCall>(),
        std::any::type_name::<protocol::ConnectionLost>(),
        std::any::type_name::<transport::BufferLimits>(),
        std::any::type_name::<timer::TimerError>(),
        std::any::type_name::<tcp::Listener>(),
    ];
    assert_eq!(
        names,
        [
            "callcenter::reactor::clock::ManualClock",
            "callcenter::reactor::line::Overflow",
            "callcenter::reactor::looping::LoopingCall",
            "callcenter::reactor::protocol::ConnectionLost",
            "callcenter::reactor::transport::BufferLimits",
            "callcenter::reactor::timer::TimerError",
            "callcenter::reactor::tcp::Listener",
        ]
    );
    assert_eq!(stdio::STDIO_LIMITS.high_water, 64 * 1024);
    let front = read("src/lib.rs");
    for guide in ["docs/twisted-to-rust.md", "examples/"] {
        assert!(
            front.contains(guide),
            "src/lib.rs does not point to {guide}"
        );
    }
}
