//! Browser and third-party decoder tests: serves the sample on a free port and runs
//! `node --test` in tests/browser, one file at a time (every tile of zooms 0-10 decoded
//! with @mapbox/vector-tile; the viewer in headless Chromium driven by playwright-core,
//! screenshot in target/browser/viewer.png; then the editor: select, reassign, undo and
//! redo, a second context seeing the commit live, a locked territory's refusal, a stale
//! view's 409).
//!
//! Needs node, Debian's chromium and `npm ci` in tests/browser; skipped with a message
//! when any is missing (.ci/run installs them and sets `GEOALIGN_REQUIRE_BROWSER`, so CI
//! runs it).

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use geoalign::http::{AppState, configure};

fn missing_prerequisite(dir: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} is absent (apt-get install chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    for module in ["playwright-core", "@mapbox/vector-tile", "pbf", "pngjs"] {
        if !dir.join("node_modules").join(module).exists() {
            return Some(format!("{module} is not installed (npm ci in {})", dir.display()));
        }
    }
    None
}

/// tests/browser, or None (after a message) when a prerequisite is missing.
fn browser_dir() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Some(reason) = missing_prerequisite(&dir) {
        // CI installs everything and sets GEOALIGN_REQUIRE_BROWSER: never skip there.
        assert!(std::env::var_os("GEOALIGN_REQUIRE_BROWSER").is_none(), "{reason}");
        eprintln!("skipped: {reason}");
        return None;
    }
    Some(dir)
}

#[test]
fn viewer_and_tiles_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(dir) = browser_dir() else {
        return;
    };
    let (_store, engine) = common::sample_engine();
    let base = serve(engine);
    let screenshot = root.join("target/browser/viewer.png");
    let output = Command::new("node")
        .current_dir(&dir)
        .args([
            "--test",
            "--test-reporter=spec",
            "--test-concurrency=1",
            "tiles.test.mjs",
            "viewer.test.mjs",
            "editor.test.mjs",
        ])
        .env("GEOALIGN_URL", &base)
        .env("GEOALIGN_ALIGNMENT", "nyc")
        .env("GEOALIGN_SCREENSHOT", &screenshot)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(output.status.success(), "node --test failed");
    assert!(screenshot.exists());
}

/// Serves `engine` on a free loopback port from a thread of its own; its base URL.
fn serve(engine: geoalign::engine::Engine) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let port = listener.local_addr().expect("address").port();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || App::new().app_data(state.clone()).configure(configure))
                .workers(2)
                .listen(listener)
                .expect("listen")
                .run()
                .await
        })
    });
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed().as_secs() < 30, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    format!("http://127.0.0.1:{port}")
}

/// The editor's sign-in against a store with tokens (tests/browser/access.test.mjs):
/// asked for a token on the 401, a wrong one refused, a viewer sees the map but no
/// editing tools, an editor gets them with its token's name as the author.
#[test]
fn sign_in_in_a_browser() {
    let Some(dir) = browser_dir() else {
        return;
    };
    let (_store, engine) = common::sample_engine();
    let token = |role, name| {
        let new = geoalign::store::NewToken {
            name,
            role,
            alignment: None,
        };
        engine.store().create_token(&new).expect("token").1
    };
    let viewer = token(geoalign::store::Role::Viewer, "vera");
    let editor = token(geoalign::store::Role::Editor, "eddie");
    let base = serve(engine);
    let output = Command::new("node")
        .current_dir(&dir)
        .args(["--test", "--test-reporter=spec", "access.test.mjs"])
        .env("GEOALIGN_URL", &base)
        .env("GEOALIGN_ALIGNMENT", "nyc")
        .env("GEOALIGN_VIEWER_TOKEN", viewer)
        .env("GEOALIGN_EDITOR_TOKEN", editor)
        .output()
        .expect("run node");
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "node --test access.test.mjs failed");
}
