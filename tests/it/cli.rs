//! The `geoalign` binary: exit statuses, settings (TOML file < environment < flags),
//! and a closed standard output.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common;

/// The binary with a clean environment: no GEOALIGN_* settings of the caller leak in.
fn geoalign() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_geoalign"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GEOALIGN_") {
            command.env_remove(&name);
        }
    }
    command.env("RUST_LOG", "warn").stdin(Stdio::null());
    command
}

/// The binary on a store file.
fn on(store: &Path) -> Command {
    let mut command = geoalign();
    command.arg("--store").arg(store);
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run geoalign")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The demo sample (alignment `nyc`) in a store file, and an empty store beside it.
fn sample_store() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, engine) = common::sample_engine();
    drop(engine);
    let sample = dir.path().join("test.db");
    let empty = dir.path().join("empty.db");
    geoalign::store::Store::open(&empty).expect("empty store");
    (dir, sample, empty)
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

#[track_caller]
fn assert_status(output: &Output, code: i32, message: &str) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(message), "stderr lacks {message:?}: {err}");
}

#[test]
fn exit_statuses_tell_usage_not_found_and_conflict_apart() {
    let (dir, sample, _) = sample_store();
    let metrics = |alignment: &str| run(on(&sample).args(["align", "metrics", "--alignment", alignment]));
    assert_status(&metrics("nope"), 3, "error: alignment 'nope' not found");
    assert_status(&run(geoalign().args(["align", "frobnicate"])), 2, "frobnicate");
    let output = run(on(&sample).args(["align", "metrics", "--alignment", "nyc", "--level", "county"]));
    assert_status(&output, 3, "unknown level 'county'");
    let output = run(on(&sample).args(["lookup", "--alignment", "nyc"]));
    assert_status(&output, 2, "give a CSV file of points, or --lon and --lat");
    let missing = dir.path().join("missing.json");
    let output = run(on(&sample)
        .args(["align", "change", "--alignment", "nyc"])
        .arg(&missing));
    assert_status(&output, 2, &missing.display().to_string());
    let change = write_file(
        dir.path(),
        "change.json",
        r#"[{"op":"assign","units":["10002"],"territory":"T1001"}]"#,
    );
    let output = run(on(&sample)
        .args([
            "align",
            "change",
            "--alignment",
            "nyc",
            "--expected-revision",
            "0",
        ])
        .arg(&change));
    assert_status(&output, 4, "reload and retry");
    let output = run(on(&sample).args(["align", "create", "nyc", "--dataset", "nyc"]));
    assert_status(&output, 4, "alignment 'nyc' already exists");
    assert!(metrics("nyc").status.success());

    let help = run(geoalign().arg("--help"));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for line in ["0  success", "2  usage", "3  not found", "4  conflict"] {
        assert!(text.contains(line), "--help lacks {line:?}: {text}");
    }
}

#[test]
fn store_comes_from_the_file_then_the_environment_then_the_flag() {
    let (dir, sample, empty) = sample_store();
    let metrics = |command: &mut Command| run(command.args(["align", "metrics", "--alignment", "nyc"]));
    let toml = |store: &Path| format!("store = {:?}\n", store.display().to_string());
    let sample_toml = write_file(dir.path(), "sample.toml", &toml(&sample));
    let empty_toml = write_file(dir.path(), "empty.toml", &toml(&empty));

    // The file is honoured, by --config or GEOALIGN_CONFIG.
    assert!(
        metrics(geoalign().arg("--config").arg(&sample_toml))
            .status
            .success()
    );
    assert!(
        metrics(geoalign().env("GEOALIGN_CONFIG", &sample_toml))
            .status
            .success()
    );
    assert_status(
        &metrics(geoalign().arg("--config").arg(&empty_toml)),
        3,
        "not found",
    );
    // The environment overrides the file.
    let output = metrics(
        geoalign()
            .arg("--config")
            .arg(&empty_toml)
            .env("GEOALIGN_STORE", &sample),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // The flag overrides the environment.
    let output = metrics(
        geoalign()
            .arg("--config")
            .arg(&sample_toml)
            .env("GEOALIGN_STORE", &sample)
            .arg("--store")
            .arg(&empty),
    );
    assert_status(&output, 3, "alignment 'nyc' not found");
}

#[test]
fn bad_settings_are_refused_by_name() {
    let (dir, _, empty) = sample_store();
    // Each would exit 3 (no alignment 'nyc' in the empty store) if its settings were taken.
    let metrics = |command: &mut Command| {
        run(command
            .arg("--store")
            .arg(&empty)
            .args(["align", "metrics", "--alignment", "nyc"]))
    };
    let file = write_file(
        dir.path(),
        "geoalign.toml",
        "bind = \"127.0.0.1:0\"\ntile_cach_mb = 64\n",
    );
    let output = metrics(geoalign().arg("--config").arg(&file));
    assert_status(&output, 2, &file.display().to_string());
    assert_status(&output, 2, "tile_cach_mb");
    assert_status(&output, 2, "line 2");

    let file = write_file(dir.path(), "typed.toml", "workers = \"four\"\n");
    assert_status(&metrics(geoalign().arg("--config").arg(&file)), 2, "workers");
    let file = write_file(dir.path(), "range.toml", "units_minzoom = 23\n");
    assert_status(
        &metrics(geoalign().arg("--config").arg(&file)),
        2,
        "units_minzoom: must be 0-22",
    );
    let missing = dir.path().join("absent.toml");
    let output = metrics(geoalign().arg("--config").arg(&missing));
    assert_status(&output, 2, &missing.display().to_string());
    let output = metrics(geoalign().env("GEOALIGN_UNITS_MINZOOM", "eight"));
    assert_status(&output, 2, "GEOALIGN_UNITS_MINZOOM=eight");
    let output = run(on(&empty).args(["serve", "--bind", "127.0.0.1:0", "--workers", "0"]));
    assert_status(&output, 2, "--workers: must be at least 1");

    let help = run(geoalign().args(["serve", "--help"]));
    let text = String::from_utf8_lossy(&help.stdout);
    for name in [
        "--tile-cache-mb",
        "GEOALIGN_TILE_CACHE_MB",
        "tile_cache_mb",
        "GEOALIGN_CONFIG",
    ] {
        assert!(text.contains(name), "serve --help lacks {name}: {text}");
    }
}

/// A free local port (another process may still take it; good enough for a test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// `GET path` with HTTP/1.0, retried until the server answers or 30 s pass.
fn get(port: u16, path: &str, server: &mut std::process::Child) -> String {
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).expect("read");
            return answer;
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!("server exited: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not answer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_takes_tile_settings_from_file_environment_and_flags() {
    let (dir, sample, _) = sample_store();
    let units_minzoom = |env: Option<&str>, flag: Option<&str>| {
        let port = free_port();
        let file = write_file(
            dir.path(),
            "geoalign.toml",
            &format!(
                "store = {:?}\nbind = \"127.0.0.1:{port}\"\nworkers = 1\nunits_minzoom = 5\ntile_cache_mb = 16\n",
                sample.display().to_string()
            ),
        );
        let mut command = geoalign();
        command.arg("--config").arg(&file).arg("serve");
        if let Some(z) = env {
            command.env("GEOALIGN_UNITS_MINZOOM", z);
        }
        if let Some(z) = flag {
            command.args(["--units-minzoom", z]);
        }
        let mut server = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn serve");
        let answer = get(port, "/tiles/nyc.json", &mut server);
        let _ = server.kill();
        let _ = server.wait();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
        json["vector_layers"]
            .as_array()
            .and_then(|layers| layers.iter().find(|l| l["id"] == "units"))
            .and_then(|l| l["minzoom"].as_u64())
            .unwrap_or_else(|| panic!("no units layer: {json}"))
    };
    assert_eq!(units_minzoom(None, None), 5);
    assert_eq!(units_minzoom(Some("6"), None), 6);
    assert_eq!(units_minzoom(Some("6"), Some("7")), 7);
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let (dir, sample, _) = sample_store();
    let points = write_file(dir.path(), "points.csv", "id,lon,lat\np1,-73.9857,40.7484\n");
    let commands: [&[&str]; 4] = [
        &["align", "metrics", "--alignment", "nyc"],
        &["align", "export", "--alignment", "nyc"],
        &["align", "diff", "--alignment", "nyc", "--against", "nyc"],
        &[
            "lookup",
            "--alignment",
            "nyc",
            points.to_str().expect("utf-8 path"),
        ],
    ];
    for args in commands {
        // A pipe whose reader is gone before the command writes a byte.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let output = on(&sample)
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run geoalign");
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {err}");
        for noise in ["panicked", "error", "Broken pipe"] {
            assert!(!err.contains(noise), "{args:?}: {err}");
        }
    }
}

/// A command on a store that does not exist refuses, naming the path and how to make
/// one, and creates nothing; only a polygon ingest starts a store.
#[test]
fn a_missing_store_is_refused_by_name_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.db");
    let commands: [&[&str]; 4] = [
        &["align", "metrics", "--alignment", "nyc"],
        &[
            "lookup",
            "--alignment",
            "nyc",
            "--lon",
            "-73.98",
            "--lat",
            "40.75",
        ],
        &[
            "export",
            "--alignment",
            "nyc",
            "--format",
            "csv",
            "--level",
            "territory",
            "--output",
            "x.csv",
        ],
        &["serve", "--bind", "127.0.0.1:1"],
    ];
    for args in commands {
        let output = run(on(&missing).args(args));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.contains(&format!("store {} does not exist", missing.display())),
            "{err}"
        );
        assert!(
            err.contains("ingest FILE --dataset NAME --id-field FIELD"),
            "{err}"
        );
        assert!(!missing.exists(), "{args:?} created the store");
    }
    let geojson = common::fixture("ct_060.geojson");
    let output = run(on(&missing).args([
        "ingest",
        geojson.to_str().unwrap(),
        "--dataset",
        "ct",
        "--id-field",
        "zip",
    ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(missing.exists());
}

/// `demo` says where its store is and removes its temporary store when it stops;
/// `--store PATH` keeps one, and a second run serves it as it is.
#[test]
fn the_demo_removes_its_temporary_store_unless_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = |store: Option<&Path>| {
        let port = free_port();
        let mut command = geoalign();
        if let Some(store) = store {
            command.arg("--store").arg(store);
        }
        let mut server = command
            .args(["demo", "--bind", &format!("127.0.0.1:{port}"), "--workers", "1"])
            .env("TMPDIR", tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn demo");
        let answer = get(port, "/health", &mut server);
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{answer}"
        );
        let stores: Vec<PathBuf> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".db"))
            .collect();
        let status = Command::new("kill")
            .args(["-INT", &server.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = server.wait_with_output().expect("demo stops");
        (String::from_utf8_lossy(&output.stdout).into_owned(), stores)
    };
    let (said, stores) = demo(None);
    assert_eq!(stores.len(), 1, "{stores:?}");
    assert!(
        said.contains(&format!("demo store: {}", stores[0].display())),
        "{said}"
    );
    assert!(said.contains("removed when the server stops"), "{said}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let kept = tmp.path().join("kept").join("demo.db");
    std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
    let (said, _) = demo(Some(&kept));
    assert!(said.contains("(kept)") && said.contains("read"), "{said}");
    assert!(kept.exists());
    let (said, _) = demo(Some(&kept));
    assert!(
        said.contains("(kept)") && !said.contains("read "),
        "loaded again: {said}"
    );
}

#[test]
fn tokens_are_created_listed_revoked_and_guard_a_public_server() {
    let (_dir, sample, _) = sample_store();
    // No token: a non-loopback server refuses to start open, naming the way out.
    let port = free_port();
    let refused = run(on(&sample).args(["serve", "--bind", &format!("0.0.0.0:{port}")]));
    assert_status(&refused, 2, "--allow-anonymous-read");

    let created = run(on(&sample).args([
        "token",
        "create",
        "--role",
        "editor",
        "--alignment",
        "nyc",
        "--name",
        "bob",
    ]));
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let secret = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    assert!(secret.starts_with("ga_") && secret.len() == 67, "{secret}");
    assert!(stderr(&created).contains("shown only this once"));
    let listed = run(on(&sample).args(["token", "list"]));
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    let tokens: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(tokens[0]["name"], "bob");
    assert_eq!(tokens[0]["role"], "editor");
    assert_eq!(tokens[0]["alignment"], "nyc");
    assert!(!text.contains(&secret[3..]), "no secret in the list");
    let store = geoalign::store::Store::open(&sample).unwrap();
    assert!(
        store
            .active_tokens()
            .unwrap()
            .iter()
            .all(|(hash, _)| !hash.contains(&secret[3..]))
    );

    // A scope is for editor tokens; unknown roles and alignments are refused.
    assert_status(
        &run(on(&sample).args(["token", "create", "--role", "viewer", "--alignment", "nyc"])),
        2,
        "editor",
    );
    assert_status(
        &run(on(&sample).args(["token", "create", "--role", "root"])),
        2,
        "unknown role",
    );
    assert_status(
        &run(on(&sample).args(["token", "create", "--role", "editor", "--alignment", "nope"])),
        3,
        "not found",
    );

    // With a token in the store the public server starts.
    let port = free_port();
    let mut server = on(&sample)
        .args(["serve", "--bind", &format!("0.0.0.0:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let health = get(port, "/health", &mut server);
    assert!(health.lines().next().unwrap().contains(" 200"), "{health}");
    let alignments = get(port, "/api/alignments", &mut server);
    assert!(
        alignments.lines().next().unwrap().contains(" 401"),
        "{alignments}"
    );
    assert!(alignments.contains("www-authenticate: Bearer"), "{alignments}");
    server.kill().unwrap();
    server.wait().unwrap();

    let id = tokens[0]["id"].to_string();
    let revoked = run(on(&sample).args(["token", "revoke", &id]));
    assert_eq!(revoked.status.code(), Some(0), "{}", stderr(&revoked));
    assert!(store.active_tokens().unwrap().is_empty());
    assert_status(
        &run(on(&sample).args(["token", "revoke", "99"])),
        3,
        "token 99 not found",
    );
}

#[test]
fn logs_are_json_on_request_and_never_coloured_into_a_pipe() {
    let (_dir, sample, _) = sample_store();
    let logged = |args: &[&str]| run(on(&sample).env("RUST_LOG", "info").args(args));
    let json_create = ["--log-format", "json", "token", "create", "--role", "viewer"];
    let json = logged(&[&json_create[..], &["--name", "line\nforged"]].concat());
    // The name is refused (a control character), and the refusal is not a log line.
    assert_eq!(json.status.code(), Some(2), "{}", stderr(&json));
    let json = logged(&json_create);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let err = stderr(&json);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["message"] == "token created"),
        "{err}"
    );
    let secret = String::from_utf8_lossy(&json.stdout).trim().to_owned();
    assert!(!err.contains(&secret), "no secret in the log");
    assert_eq!(
        logged(&["--log-format", "yaml", "token", "list"]).status.code(),
        Some(2)
    );
    let text = stderr(&logged(&["token", "create", "--role", "viewer"]));
    assert!(text.contains("token created"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes into a pipe: {text:?}");
}

#[test]
fn teams_routes_metrics_and_rules_sheets_work_from_the_cli() {
    let (dir, sample, _) = sample_store();
    assert!(
        run(on(&sample).args(["align", "create", "partners-2027", "--copy-of", "nyc"]))
            .status
            .success()
    );
    let team = |args: &[&str]| run(on(&sample).args(["align", "team"]).args(args));
    let output = team(&["--alignment", "nyc", "--team", "core", "--active"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let info: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (info["team"].as_str(), info["active"].as_bool()),
        (Some("core"), Some(true))
    );
    assert!(
        team(&["--alignment", "partners-2027", "--team", "partners"])
            .status
            .success()
    );
    let list = run(on(&sample).args(["align", "list"]));
    let text = String::from_utf8_lossy(&list.stdout);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("nyc ").ends_with("team core (active)"), "{text}");
    assert!(line("partners-2027").ends_with("team partners"), "{text}");
    // Leads routed by every team's active plan (core's only: partners has none active).
    let leads = write_file(
        dir.path(),
        "leads.csv",
        "id,lon,lat,lead_source\nL1,-73.9857,40.7484,web\nL2,x,1,web\n",
    );
    let routed = run(on(&sample).args(["route", "--team", "all"]).arg(&leads));
    assert!(routed.status.success(), "{}", stderr(&routed));
    let text = String::from_utf8_lossy(&routed.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("L1,core,nyc,") && lines[1].contains(",10001,T1000,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("L2,core,nyc,") && lines[2].contains("error: row 2: column `lon`"),
        "{text}"
    );
    assert!(
        stderr(&routed).contains("2 leads, 2 answers, 1 with an owner"),
        "{}",
        stderr(&routed)
    );
    // Unit metrics from another table, then territory metrics that sum them.
    let table = write_file(
        dir.path(),
        "potential.csv",
        "zip,potential\n10001,5\n10002,7\n98765,1\n",
    );
    let imported = run(on(&sample)
        .args(["metrics", "import", "--dataset", "nyc", "--id-field", "zip"])
        .arg(&table));
    assert!(imported.status.success(), "{}", stderr(&imported));
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(
        said.contains("3 rows, 2 units of 'nyc' given values") && said.contains("line 4: 98765"),
        "{said}"
    );
    let metrics = run(on(&sample).args(["align", "metrics", "--alignment", "nyc"]));
    let metrics: serde_json::Value = serde_json::from_slice(&metrics.stdout).unwrap();
    assert_eq!(
        metrics["T1000"]["sums"]["potential"], 12.0,
        "{}",
        metrics["T1000"]
    );
    let bad = write_file(dir.path(), "bad.csv", "zip,potential\n10001,lots\n10002,2\n");
    let refused = run(on(&sample)
        .args(["metrics", "import", "--dataset", "nyc", "--id-field", "zip"])
        .arg(&bad));
    assert_status(&refused, 2, "line 2: column potential: \"lots\" is not a number");
    let partners = run(on(&sample).args(["route", "--team", "partners"]).arg(&leads));
    assert_status(&partners, 3, "team 'partners' has no active alignment");
    assert_status(
        &team(&["--alignment", "nyc", "--team", "all"]),
        2,
        "'all' asks for every team",
    );
    assert_status(
        &team(&["--alignment", "nope", "--team", "x"]),
        3,
        "alignment 'nope' not found",
    );
    assert_status(
        &team(&["--alignment", "nyc", "--no-team", "--active"]),
        2,
        "cannot be used with",
    );
    assert!(team(&["--alignment", "nyc", "--no-team"]).status.success());
    let list = run(on(&sample).args(["align", "list"]));
    assert!(!String::from_utf8_lossy(&list.stdout).contains("core"));

    // A rules sheet in and out; a bad one refused naming the file and line.
    let accounts = write_file(
        dir.path(),
        "accounts.csv",
        "id,name,lon,lat,employees\nA1,Big Co,-73.9857,40.7484,900\n",
    );
    let imported = run(on(&sample)
        .args(["accounts", "import", "--alignment", "nyc"])
        .arg(&accounts));
    assert!(imported.status.success(), "{}", stderr(&imported));
    let rules = write_file(
        dir.path(),
        "rules.csv",
        "rule,territory,district,condition\nbig,ENT-1,Manhattan,employees >= 500\n",
    );
    let imported = run(on(&sample)
        .args(["rules", "import", "--alignment", "nyc"])
        .arg(&rules));
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        String::from_utf8_lossy(&imported.stdout)
            .contains("1 created, 0 changed, 0 deleted; 1 territor(ies) created"),
        "{}",
        String::from_utf8_lossy(&imported.stdout)
    );
    let exported = run(on(&sample).args(["rules", "export", "--alignment", "nyc"]));
    assert_eq!(
        String::from_utf8_lossy(&exported.stdout),
        "rule,priority,territory,district,region,condition\nbig,1,ENT-1,Manhattan,North,employees >= 500\n"
    );
    let bad = write_file(
        dir.path(),
        "bad-rules.csv",
        "rule,territory,condition\nbig,ENT-1,revenue > 5\n",
    );
    let refused = run(on(&sample)
        .args(["rules", "import", "--alignment", "nyc"])
        .arg(&bad));
    assert_status(&refused, 2, "bad-rules.csv");
    assert_status(
        &refused,
        2,
        "line 2: rule 'big': no account has a field 'revenue'",
    );
}
