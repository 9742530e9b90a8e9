//! A client for baresip's ctrl_tcp module: netstring-framed JSON.
//!
//! Commands go out as `LEN:{"command":..,"params":..,"token":..},`; baresip answers
//! `{"response":true,"ok":..,"data":..,"token":..}` and pushes events
//! `{"event":true,"type":"CALL_ESTABLISHED","param":..}`. Messages that do not match what a
//! call waits for are kept in order and every event is remembered ([`Ctrl::events`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::process::wait_until;

/// A ctrl_tcp connection.
#[derive(Debug)]
pub struct Ctrl {
    stream: TcpStream,
    buf: Vec<u8>,
    backlog: Vec<Value>,
    events: Vec<Value>,
    token: u32,
}

impl Ctrl {
    /// Connects to 127.0.0.1:`port` (retrying for 10 s).
    pub fn connect(port: u16) -> Result<Ctrl> {
        let stream = wait_until(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        })
        .with_context(|| format!("ctrl_tcp {port}: cannot connect"))?;
        Ok(Ctrl {
            stream,
            buf: Vec::new(),
            backlog: Vec::new(),
            events: Vec::new(),
            token: 0,
        })
    }

    /// Sends `command` (menu command name, e.g. "dial", "hangup", "sndcode", "reginfo") with
    /// `params` ("" for none) and waits up to 10 s for its response; returns `data`.
    pub fn command(&mut self, command: &str, params: &str) -> Result<Value> {
        self.token += 1;
        let token = format!("t{}", self.token);
        let mut msg = json!({"command": command, "token": token});
        if !params.is_empty() {
            msg["params"] = json!(params);
        }
        let body = msg.to_string();
        self.stream
            .write_all(format!("{}:{body},", body.len()).as_bytes())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        let r = self
            .wait_for(deadline, |m| {
                m["response"] == json!(true) && m["token"] == json!(token)
            })?
            .with_context(|| format!("no response to {command} {params}"))?;
        if r["ok"] != json!(true) {
            bail!("{command} {params} failed: {r}");
        }
        Ok(r["data"].clone())
    }

    /// Waits for an event of `kind` (e.g. "CALL_ESTABLISHED"); returns it.
    pub fn wait_event(&mut self, kind: &str, timeout: Duration) -> Result<Value> {
        self.wait_event_where(kind, None, timeout)
    }

    /// Waits for an event of `kind` whose `param` is `param` (e.g. CALL_DTMF_START "5").
    pub fn wait_event_param(
        &mut self,
        kind: &str,
        param: &str,
        timeout: Duration,
    ) -> Result<Value> {
        self.wait_event_where(kind, Some(param), timeout)
    }

    /// Repeats `command` every 0.5 s until its response data contains `contains`.
    pub fn poll(&mut self, command: &str, contains: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let data = self.command(command, "")?;
            if data.as_str().map_or_else(
                || data.to_string().contains(contains),
                |s| s.contains(contains),
            ) {
                return Ok(data);
            }
            if Instant::now() >= deadline {
                bail!("{command}: no {contains:?} within {timeout:?}; last: {data}");
            }
            let _ = self.read_message(Instant::now() + Duration::from_millis(500))?;
        }
    }

    /// Every event received so far (including ones already waited for).
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// Reads whatever arrives for `d` (so that events are recorded).
    pub fn drain_for(&mut self, d: Duration) -> Result<()> {
        let deadline = Instant::now() + d;
        while let Some(m) = self.read_message(deadline)? {
            self.backlog.push(m);
        }
        Ok(())
    }

    fn wait_event_where(
        &mut self,
        kind: &str,
        param: Option<&str>,
        timeout: Duration,
    ) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        let pred = |m: &Value| {
            m["event"] == json!(true)
                && m["type"] == json!(kind)
                && param.is_none_or(|p| m["param"] == json!(p))
        };
        self.wait_for(deadline, pred)?.with_context(|| {
            let seen: Vec<String> = self
                .events
                .iter()
                .map(|e| format!("{} {}", e["type"], e["param"]))
                .collect();
            format!("no event {kind} {param:?} within {timeout:?}; events seen: {seen:?}")
        })
    }

    fn wait_for(
        &mut self,
        deadline: Instant,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<Option<Value>> {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return Ok(Some(self.backlog.remove(i)));
        }
        while let Some(m) = self.read_message(deadline)? {
            if pred(&m) {
                return Ok(Some(m));
            }
            self.backlog.push(m);
        }
        Ok(None)
    }

    /// One netstring message, `None` at the deadline or when the connection closes.
    fn read_message(&mut self, deadline: Instant) -> Result<Option<Value>> {
        loop {
            if let Some((msg, used)) = parse_netstring(&self.buf)? {
                let v: Value = serde_json::from_slice(msg).context("ctrl_tcp: bad JSON")?;
                self.buf.drain(..used);
                if v["event"] == json!(true) {
                    self.events.push(v.clone());
                }
                return Ok(Some(v));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A complete netstring at the start of `buf`: (payload, bytes used), `None` if incomplete.
pub fn parse_netstring(buf: &[u8]) -> Result<Option<(&[u8], usize)>> {
    let Some(colon) = buf.iter().position(|&b| b == b':') else {
        if buf.len() > 10 {
            bail!("netstring: no length");
        }
        return Ok(None);
    };
    let len: usize = std::str::from_utf8(&buf[..colon])?
        .parse()
        .context("netstring: bad length")?;
    let end = colon + 1 + len;
    if buf.len() <= end {
        return Ok(None);
    }
    if buf[end] != b',' {
        bail!("netstring: no trailing comma");
    }
    Ok(Some((&buf[colon + 1..end], end + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netstrings_frame_and_wait_for_more() {
        let (m, used) = parse_netstring(b"3:abc,4:").unwrap().unwrap();
        assert_eq!((m, used), (&b"abc"[..], 6));
        assert!(parse_netstring(b"3:ab").unwrap().is_none());
        assert!(parse_netstring(b"3:abc").unwrap().is_none());
        assert!(parse_netstring(b"3:abcd").is_err());
        assert!(parse_netstring(b"x:abc,").is_err());
    }
}
