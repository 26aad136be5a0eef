//! `docs/tutorial.md` runs: its fenced `sh` blocks, in order, as one bash script on a fresh
//! store, with the binary under test first on the PATH and the server on a free port.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `sh` blocks of a Markdown text, in order.
fn sh_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```sh") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_tutorial_runs_from_a_blank_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/tutorial.md")).expect("docs/tutorial.md");
    let blocks = sh_blocks(&text);
    assert!(blocks.len() >= 15, "{} sh blocks", blocks.len());
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: the tutorial needs curl");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let script = format!(
        "set -euo pipefail\n{}\n",
        blocks
            .join("\n")
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
    );
    let dir = tempfile::tempdir().unwrap();
    for shared in ["data", "tests"] {
        std::os::unix::fs::symlink(root.join(shared), dir.path().join(shared)).unwrap();
    }
    let binary = Path::new(env!("CARGO_BIN_EXE_geoalign"));
    let path = format!(
        "{}:{}",
        binary.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GEOALIGN_") {
            command.env_remove(&name);
        }
    }
    let started = Instant::now();
    let output = command.output().expect("run bash");
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(
        output.status.success(),
        "the tutorial failed ({}) after {:?}\n--- stdout\n{out}\n--- stderr\n{err}",
        output.status,
        started.elapsed()
    );
    // What the tutorial says happens, happened.
    for expected in [
        "read 178, stored 178",
        "metrics (summed) households, population",
        "177 units assigned",
        "8 territories from 177 units",
        "applied as revision",
        "unit(s) to move (at most 17)",
        "not applied: run again with --apply",
        "\"kind\":\"rebalance\",\"alignment\":\"nyc\",\"state\":\"succeeded\"",
        "replaced from a sheet: 1 unit(s) moved, 0 territor(ies) created",
        "\"territory\": \"T1000\"",
        "1,address,",
        "\"match\":\"address\"",
        "nyc.pmtiles: alignment 'nyc'",
    ] {
        assert!(out.contains(expected), "no {expected:?} in\n{out}");
    }
    for file in [
        "tutorial.db",
        "nyc_territories.fgb",
        "nyc.pmtiles",
        "addresses.csv",
    ] {
        assert!(dir.path().join(file).exists(), "{file} not written");
    }
    assert!(started.elapsed() < Duration::from_secs(600));
}

#[test]
fn sh_blocks_are_taken_in_order_and_other_blocks_left() {
    let md = "a\n```sh\necho 1\n```\n```text\nno\n```\n  ```sh\necho 2\necho 3\n  ```\n";
    assert_eq!(sh_blocks(md), ["echo 1\n", "echo 2\necho 3\n"]);
}
