//! The PBX under test: `centrala serve --config <dir>/centrala.toml`, run from its own dir.
//!
//! The test gives the config text (the config format belongs to the main crate) and the
//! HTTP address in it; [`Centrala::start`] writes the file, starts the binary with cwd = the
//! dir (so its `./data` is private) and waits until `GET /healthz` answers 200.
//! [`Centrala::kill9`] and [`Centrala::restart`] serve crash tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::process::{Proc, TestDir};

/// How long the PBX gets to answer `/healthz` after a start.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The binary under test: the one place to change. In the main crate this is
/// `PathBuf::from(env!("CARGO_BIN_EXE_centrala"))`.
pub fn centrala_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_centrala"))
}

/// A running Centrala.
#[derive(Debug)]
pub struct Centrala {
    dir: PathBuf,
    http: SocketAddr,
    proc: Option<Proc>,
    starts: u32,
}

impl Centrala {
    /// Writes `config_toml` to `<dir>/centrala.toml`, starts the PBX and waits for
    /// `GET http://<http>/healthz` = 200 (at most [`START_TIMEOUT`]).
    pub fn start(dir: &TestDir, config_toml: String, http: SocketAddr) -> Result<Centrala> {
        let config = dir.join("centrala.toml");
        std::fs::write(&config, config_toml).with_context(|| format!("writing {config:?}"))?;
        let mut c = Centrala {
            dir: dir.path().to_path_buf(),
            http,
            proc: None,
            starts: 0,
        };
        c.launch()?;
        Ok(c)
    }

    /// The HTTP address.
    pub fn http(&self) -> SocketAddr {
        self.http
    }

    /// The PBX's directory (config, `./data`, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `GET path` on the PBX's HTTP port.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        http_get(self.http, path)
    }

    /// SIGKILL to the PBX's whole process group (a crash), waiting for it to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    /// Starts again with the same dir and config (after [`Self::kill9`] or a clean stop);
    /// logs of each start go to `centrala-<n>.out/.err`.
    pub fn restart(&mut self) -> Result<()> {
        self.kill9();
        self.launch()
    }

    /// SIGTERM to the PBX itself (a graceful shutdown; see `wait_exit`).
    pub fn sigterm(&mut self) {
        if let Some(proc) = self.proc.as_mut() {
            proc.signal(crate::common::process::SIGTERM);
        }
    }

    /// Waits at most `timeout` for the PBX to exit: its status, or `None` when it still runs.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.proc.as_mut()?.wait_timeout(timeout).ok().flatten()
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        self.proc
            .as_mut()
            .is_some_and(|p| matches!(p.try_wait(), Ok(None)))
    }

    fn launch(&mut self) -> Result<()> {
        self.starts += 1;
        let mut cmd = Command::new(centrala_bin());
        cmd.current_dir(&self.dir)
            .arg("serve")
            .arg("--config")
            .arg(self.dir.join("centrala.toml"));
        cmd.env("RUST_BACKTRACE", "1");
        let name = format!("centrala-{}", self.starts);
        let mut proc = Proc::spawn(&self.dir, &name, cmd)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok((200, _)) = http_get(self.http, "/healthz") {
                self.proc = Some(proc);
                return Ok(());
            }
            if let Ok(Some(status)) = proc.try_wait() {
                bail!(
                    "centrala exited during start ({status}):\n{}",
                    proc.log_tail(40)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "centrala: no 200 on /healthz within {START_TIMEOUT:?}:\n{}",
                    proc.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A one-shot HTTP/1.1 GET (`Connection: close`): (status, body); see `http_request`.
pub fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    http_get_with(addr, path, &[])
}

/// `http_get` with extra request headers, e.g. `("Authorization", "Bearer x")`.
pub fn http_get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(u16, String)> {
    http_request(addr, "GET", path, headers, "")
}

/// A one-shot HTTP/1.1 request with a body (`Connection: close`): (status, body). 2 s
/// connect, 5 s read timeouts.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String)> {
    let raw = http_raw(addr, method, path, headers, body)?;
    parse_response(&raw)
}

/// `http_request` that also answers the response's header block (e.g. for `Set-Cookie`):
/// (status, head, body).
pub fn http_exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String, String)> {
    let raw = http_raw(addr, method, path, headers, body)?;
    let (status, body) = parse_response(&raw)?;
    let text = String::from_utf8_lossy(&raw);
    let head = text
        .split_once("\r\n\r\n")
        .map_or("", |(h, _)| h)
        .to_string();
    Ok((status, head, body))
}

fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    Ok(raw)
}

/// Splits a whole HTTP/1.1 response into status and body (de-chunking if needed).
pub fn parse_response(raw: &[u8]) -> Result<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").context("no end of headers")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status code")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let (s, b) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").unwrap();
        assert_eq!((s, b.as_str()), (200, "ok"));
        let raw =
            b"HTTP/1.1 503 X\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap(), (503, "abc".to_owned()));
        assert!(parse_response(b"garbage").is_err());
    }
}
