//! A small HTTP/1.1 load client for `scripts/bench tiles`: fetches every URL path of a
//! list exactly once over N keep-alive connections (N requests in flight), with
//! `Accept-Encoding: gzip`, and prints one line per request —
//! `status seconds body_bytes path`, the fields curl's `-w '%{http_code} %{time_total}
//! %{size_download} %{url}'` gives — then the wall time on stderr.
//!
//! curl `--parallel` runs every transfer on one thread and inflates each gzip body;
//! on this 2-core machine it took an eighth of the CPU the server needed. This client
//! reads bodies without decoding them, so the server gets the cores.
//!
//! `cargo bench --bench tile_client -- HOST:PORT PATHS_FILE CONCURRENCY`
//! (without arguments it prints this usage and exits, so `cargo bench` passes).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// One response: status, seconds, body bytes.
type Outcome = (u16, f64, usize);

fn fetch(reader: &mut BufReader<TcpStream>, host: &str, path: &str) -> std::io::Result<(u16, usize)> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip\r\nUser-Agent: geoalign-bench\r\n\r\n"
    );
    reader.get_mut().write_all(request.as_bytes())?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other("connection closed in headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(std::io::Error::other)?;
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok((status, length))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [host, list, concurrency] = args.as_slice() else {
        eprintln!("usage: cargo bench --bench tile_client -- HOST:PORT PATHS_FILE CONCURRENCY");
        return;
    };
    let paths: Vec<String> = std::fs::read_to_string(list)
        .unwrap_or_else(|e| panic!("{list}: {e}"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let concurrency: usize = concurrency.parse().expect("CONCURRENCY is a number");
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; paths.len()]);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..concurrency {
            scope.spawn(|| {
                let stream = TcpStream::connect(host.as_str()).expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let mut reader = BufReader::with_capacity(1 << 16, stream);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let t0 = Instant::now();
                    let (status, bytes) =
                        fetch(&mut reader, host, path).unwrap_or_else(|e| panic!("{path}: {e}"));
                    let seconds = t0.elapsed().as_secs_f64();
                    outcomes.lock().expect("lock")[i] = Some((status, seconds, bytes));
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (path, outcome) in paths.iter().zip(outcomes.into_inner().expect("lock")) {
        let (status, seconds, bytes) = outcome.expect("every path fetched");
        writeln!(out, "{status} {seconds:.6} {bytes} {path}").expect("stdout");
    }
    eprintln!("{} requests in {wall:.6} s", paths.len());
}
