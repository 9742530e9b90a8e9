//! The inbound SMTP listener (RFC 5321, the subset a submitting MTA or `smtplib` uses:
//! EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, with SIZE and 8BITMIME advertised).
//! Hand-written because the Rust SMTP server crates are unmaintained or pull in a framework;
//! the protocol subset is small and its core here is sans-IO.
//!
//! `Session` is the core: feed it each line (`handle_line`), send what it answers. After the
//! end of DATA it hands back the message (`Step::Message`); the shell stores it and only then
//! answers 250 (or the refusal the channel gives). Messages over the size limit are read to
//! their end and refused with 552.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::EmailChannel;

/// The longest line the shell reads (bytes, line end included).
const MAX_LINE: usize = 64 * 1024;

/// What the shell must do after a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this reply line (without CRLF).
    Reply(String),
    /// Nothing (a line of message data).
    Nothing,
    /// A whole message: store it, then answer.
    Message {
        /// The envelope sender.
        from: String,
        /// The envelope recipients.
        to: Vec<String>,
        /// The message, dot-unstuffed, CRLF line ends.
        data: Vec<u8>,
    },
    /// Send this reply and close.
    Close(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Greeted,
    Mail,
    Data,
}

/// One SMTP session (see the module docs).
#[derive(Debug)]
pub struct Session {
    domain: String,
    max: usize,
    helo: bool,
    phase: Phase,
    from: Option<String>,
    to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
}

impl Session {
    /// A session of server `domain` accepting messages up to `max` bytes.
    pub fn new(domain: &str, max: usize) -> Session {
        Session {
            domain: domain.to_string(),
            max,
            helo: false,
            phase: Phase::Greeted,
            from: None,
            to: Vec::new(),
            data: Vec::new(),
            too_big: false,
        }
    }

    /// The greeting.
    pub fn greeting(&self) -> String {
        format!("220 {} Centrala ESMTP", self.domain)
    }

    /// One line from the client (without its line end). `accepts` says whether a recipient
    /// is one of our mailboxes.
    pub fn handle_line(&mut self, line: &[u8], accepts: impl Fn(&str) -> bool) -> Step {
        if self.phase == Phase::Data {
            return self.data_line(line);
        }
        let text = String::from_utf8_lossy(line);
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.trim().to_ascii_uppercase(), String::new()),
        };
        match verb.as_str() {
            "EHLO" => {
                self.helo = true;
                self.reset();
                Step::Reply(format!(
                    "250-{} greets {arg}\r\n250-SIZE {}\r\n250-8BITMIME\r\n250 PIPELINING",
                    self.domain, self.max
                ))
            }
            "HELO" => {
                self.helo = true;
                self.reset();
                Step::Reply(format!("250 {}", self.domain))
            }
            "MAIL" if !self.helo => Step::Reply("503 5.5.1 say EHLO first".into()),
            "MAIL" => match path_of(&arg, "FROM:") {
                Some((path, size)) if size.is_some_and(|s| s > self.max) => {
                    let _ = path;
                    Step::Reply(format!(
                        "552 5.3.4 message size exceeds the limit of {} bytes",
                        self.max
                    ))
                }
                Some((path, _)) => {
                    self.reset();
                    self.from = Some(path);
                    self.phase = Phase::Mail;
                    Step::Reply("250 2.1.0 sender ok".into())
                }
                None => Step::Reply("501 5.5.4 syntax: MAIL FROM:<address>".into()),
            },
            "RCPT" if self.phase != Phase::Mail => Step::Reply("503 5.5.1 need MAIL first".into()),
            "RCPT" => match path_of(&arg, "TO:") {
                Some((path, _)) if accepts(&path) => {
                    if self.to.len() >= 100 {
                        return Step::Reply("452 4.5.3 too many recipients".into());
                    }
                    self.to.push(path);
                    Step::Reply("250 2.1.5 recipient ok".into())
                }
                Some((path, _)) => Step::Reply(format!("550 5.1.1 no mailbox {path} here")),
                None => Step::Reply("501 5.5.4 syntax: RCPT TO:<address>".into()),
            },
            "DATA" if self.to.is_empty() => Step::Reply("503 5.5.1 need RCPT first".into()),
            "DATA" => {
                self.phase = Phase::Data;
                Step::Reply("354 end data with <CR><LF>.<CR><LF>".into())
            }
            "RSET" => {
                self.reset();
                Step::Reply("250 2.0.0 ok".into())
            }
            "NOOP" => Step::Reply("250 2.0.0 ok".into()),
            "QUIT" => Step::Close(format!("221 2.0.0 {} closing", self.domain)),
            "VRFY" => Step::Reply("252 2.1.5 cannot verify".into()),
            _ => Step::Reply("502 5.5.2 command not recognised".into()),
        }
    }

    fn data_line(&mut self, line: &[u8]) -> Step {
        if line == b"." {
            let from = self.from.take().unwrap_or_default();
            let to = std::mem::take(&mut self.to);
            let data = std::mem::take(&mut self.data);
            let too_big = std::mem::replace(&mut self.too_big, false);
            self.phase = Phase::Greeted;
            if too_big {
                return Step::Reply(format!(
                    "552 5.3.4 message size exceeds the limit of {} bytes",
                    self.max
                ));
            }
            return Step::Message { from, to, data };
        }
        let line = line.strip_prefix(b".").unwrap_or(line);
        if self.too_big || self.data.len() + line.len() + 2 > self.max {
            self.too_big = true;
            self.data.clear();
            return Step::Nothing;
        }
        self.data.extend_from_slice(line);
        self.data.extend_from_slice(b"\r\n");
        Step::Nothing
    }

    fn reset(&mut self) {
        self.phase = Phase::Greeted;
        self.from = None;
        self.to.clear();
        self.data.clear();
        self.too_big = false;
    }
}

/// `FROM:<a@b> SIZE=123` -> (`a@b`, Some(123)).
fn path_of(arg: &str, prefix: &str) -> Option<(String, Option<usize>)> {
    let rest = arg
        .get(..prefix.len())?
        .eq_ignore_ascii_case(prefix)
        .then(|| &arg[prefix.len()..])?;
    let rest = rest.trim_start();
    let open = rest.find('<')?;
    let close = open + rest[open..].find('>')?;
    let path = rest[open + 1..close].trim().to_string();
    let size = rest[close + 1..].split_whitespace().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("SIZE").then(|| v.parse().ok())?
    });
    Some((path, size))
}

/// Accepts connections on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, channel: Arc<EmailChannel>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let channel = channel.clone();
        tokio::spawn(async move {
            if let Err(err) = session(stream, &channel).await {
                tracing::debug!(%peer, %err, "SMTP session ended");
            }
        });
    }
}

async fn session(stream: TcpStream, channel: &EmailChannel) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut core = Session::new(channel.domain(), channel.max_message_bytes());
    write
        .write_all(format!("{}\r\n", core.greeting()).as_bytes())
        .await?;
    let mut line = Vec::new();
    // RFC 5321 caps lines at 1000 octets; accept more, but never an unbounded line.
    let longest = MAX_LINE as u64;
    loop {
        line.clear();
        let mut limited = (&mut reader).take(longest);
        let read = limited.read_until(b'\n', &mut line);
        match tokio::time::timeout(Duration::from_secs(300), read).await {
            Ok(Ok(0)) | Err(_) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(err)) => return Err(err),
        }
        if line.last() != Some(&b'\n') && line.len() as u64 >= longest {
            write.write_all(b"500 5.5.6 line too long\r\n").await?;
            return Ok(());
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let reply = match core.handle_line(&line, |rcpt| channel.queue_of(rcpt).is_some()) {
            Step::Nothing => continue,
            Step::Reply(text) => text,
            Step::Close(text) => {
                write.write_all(format!("{text}\r\n").as_bytes()).await?;
                return Ok(());
            }
            Step::Message { from, to, data } => channel.accept(&from, &to, &data).await,
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(session: &mut Session, lines: &[&str]) -> Vec<Step> {
        lines
            .iter()
            .map(|l| session.handle_line(l.as_bytes(), |r| r.starts_with("support@")))
            .filter(|s| *s != Step::Nothing)
            .collect()
    }

    fn code(step: &Step) -> &str {
        match step {
            Step::Reply(t) | Step::Close(t) => &t[..3],
            Step::Message { .. } => "msg",
            Step::Nothing => "",
        }
    }

    #[test]
    fn a_transaction_hands_back_the_unstuffed_message() {
        let mut s = Session::new("c.test", 1000);
        let steps = run(
            &mut s,
            &[
                "EHLO client",
                "MAIL FROM:<a@x.test> SIZE=20",
                "RCPT TO:<nobody@c.test>",
                "RCPT TO:<support@c.test>",
                "DATA",
                "Subject: hi",
                "",
                "..dot",
                ".",
                "QUIT",
            ],
        );
        let codes: Vec<&str> = steps.iter().map(code).collect();
        assert_eq!(codes, ["250", "250", "550", "250", "354", "msg", "221"]);
        assert_eq!(
            steps[5],
            Step::Message {
                from: "a@x.test".into(),
                to: vec!["support@c.test".into()],
                data: b"Subject: hi\r\n\r\n.dot\r\n".to_vec(),
            }
        );
    }

    #[test]
    fn out_of_order_and_oversized_transactions_are_refused() {
        let mut s = Session::new("c.test", 30);
        let steps = run(
            &mut s,
            &[
                "MAIL FROM:<a@x.test>",
                "HELO x",
                "RCPT TO:<support@c.test>",
                "DATA",
                "MAIL FROM:<a@x.test> SIZE=999",
                "MAIL FROM:a",
                "MAIL FROM:<a@x.test>",
                "RCPT TO:<support@c.test>",
                "DATA",
                "0123456789012345678901234567890123456789",
                ".",
                "BOGUS",
            ],
        );
        let codes: Vec<&str> = steps.iter().map(code).collect();
        assert_eq!(
            codes,
            [
                "503", "250", "503", "503", "552", "501", "250", "250", "354", "552", "502"
            ]
        );
    }
}
