//! Running the built `tollgate` binary in tests: a clean environment, a free port, a
//! `serve` process that is killed when dropped, and output helpers.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `tollgate` command with a clean environment: only what the test sets.
pub fn tollgate(db_url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOLLGATE_DATABASE_URL", db_url)
        .stdin(Stdio::null());
    c
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub stderr_lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn spawn_server(db_url: &str, password: Option<&str>) -> Server {
    spawn_server_env(db_url, password, &[])
}

/// `spawn_server` with settings given as environment variables, e.g.
/// `("TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE", "0")`.
pub fn spawn_server_env(db_url: &str, password: Option<&str>, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = tollgate(db_url);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("TOLLGATE_ADMIN_PASSWORD", p);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::blocking::get(format!("{base}/healthz")) {
            if r.status() == 200 {
                break;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("tollgate serve exited early: {status}");
        }
        assert!(Instant::now() < deadline, "server did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        base,
        stderr_lines: rx,
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

/// A new admin key named `name`, made by `tollgate admin create-key` (it prints only the key).
pub fn create_key(db_url: &str, name: &str) -> String {
    let out = run(tollgate(db_url).args(["admin", "create-key", "--name", name]));
    assert!(out.status.success(), "create-key: {}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// A CLI command `args` against the server at `base` with the admin key `key`, and nothing
/// else from the environment.
pub fn cli_command(base: &str, key: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("TOLLGATE_URL", base)
        .env("TOLLGATE_ADMIN_KEY", key)
        .stdin(Stdio::null())
        .args(args);
    c
}

/// Runs the CLI command `args` against `server` with the admin key `key`.
pub fn cli(server: &Server, key: &str, args: &[&str]) -> Output {
    run(&mut cli_command(&server.base, key, args))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs a CLI command against `server` that must succeed; returns its stdout.
pub fn ok(server: &Server, key: &str, args: &[&str]) -> String {
    let out = cli(server, key, args);
    assert!(out.status.success(), "{args:?} failed: {}", stderr(&out));
    stdout(&out)
}

/// Runs a command with `--json` that must succeed; returns the parsed output.
pub fn ok_json(server: &Server, key: &str, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(server, key, &all)).unwrap()
}

/// Asserts a CLI command failed with one line (`error: …`) on stderr; returns that line.
pub fn fails(out: &Output) -> String {
    assert!(!out.status.success(), "should have failed");
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    err
}
