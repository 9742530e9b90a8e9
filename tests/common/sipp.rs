//! SIPp runs: a builder for the command line, blocking runs and background peers.
//!
//! Each run gets its own sub-directory `<test dir>/<name>/` holding a copy of the scenario
//! (and of the `-oocsf` one), the generated media ([`PeerMedia`]) and every output file
//! (stat CSV, error, log and message traces, stdout/stderr); SIPp runs with that cwd because
//! it resolves pcap names when the scenario loads. Always passed: `-i 127.0.0.1 -mi
//! 127.0.0.1 -nostdin`, the traces, and a `-timeout` (default 60 s). SIPp's `-timeout` is
//! soft (it stops starting calls but waits for the open ones, e.g. a REGISTER still
//! retransmitting), so [`SippHandle::wait`] kills the run 5 s after it: no SIPp outlives its test.
//! A run that exits at once with "Address already in use" is started again (up to 3 times).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use super::process::{Proc, SIGUSR1, exit_code};
use super::rtp_pcap::PeerMedia;
use super::sipp_dir;
use super::sipp_result::{SippResult, parse_stat_csv};

/// Starts tried when SIPp exits at once with "Address already in use".
const BIND_ATTEMPTS: u32 = 3;

/// SIP transport of a run (`-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SippTransport {
    /// `-t u1`: one UDP socket.
    Udp,
    /// `-t t1`: one TCP connection.
    Tcp,
}

/// A SIPp command line under construction.
#[derive(Debug, Clone)]
pub struct Sipp {
    name: String,
    dir: PathBuf,
    scenario: String,
    oocsf: Option<String>,
    remote: Option<String>,
    args: Vec<String>,
    timeout: Duration,
    media: PeerMedia,
    trace_msg: bool,
    local_ip: String,
    /// `<ereg>` actions put in place of the scenario's `<!-- invite checks -->` marker.
    invite_checks: Vec<String>,
}

/// Where [`Sipp::invite_header`] and [`Sipp::no_invite_header`] put their checks: a comment
/// inside the `<action>` of the scenario's INVITE `<recv>`.
const INVITE_CHECKS: &str = "<!-- invite checks -->";

/// A SIPp running in the background (callee, agent).
#[derive(Debug)]
pub struct SippHandle {
    proc: Proc,
    sipp: Sipp,
}

impl Sipp {
    /// A run named `name` (its sub-directory and file prefix) of `scenario`, a file name in
    /// `tests/sipp/` (e.g. "uac_call.xml").
    pub fn new(test_dir: &Path, name: &str, scenario: &str) -> Sipp {
        Sipp {
            name: name.to_owned(),
            dir: test_dir.join(name),
            scenario: scenario.to_owned(),
            oocsf: None,
            remote: None,
            args: Vec::new(),
            timeout: Duration::from_secs(60),
            media: PeerMedia { tone_secs: 4 },
            trace_msg: true,
            local_ip: "127.0.0.1".to_owned(),
            invite_checks: Vec::new(),
        }
    }

    /// Fails the call unless the received INVITE's `header` (e.g. "From") matches `regexp`
    /// (POSIX extended, on the value after the colon, which starts with a space): SIPp's
    /// `<ereg check_it="true">`. The scenario must hold the `<!-- invite checks -->` marker.
    pub fn invite_header(self, header: &str, regexp: &str) -> Self {
        let attrs = format!(r#"search_in="hdr" header="{header}:" check_it="true""#);
        self.invite_check(regexp, &attrs)
    }

    /// Fails the call if the received INVITE carries `header` (`check_it_inverse`).
    pub fn no_invite_header(self, header: &str) -> Self {
        let regexp = format!("\\n{header}:");
        self.invite_check(&regexp, r#"search_in="msg" check_it_inverse="true""#)
    }

    fn invite_check(mut self, regexp: &str, attrs: &str) -> Self {
        let escaped = regexp
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let var = format!("invite_check{}", self.invite_checks.len());
        // SIPp refuses a variable referenced only once: the log line is its second use.
        self.invite_checks.push(format!(
            "<ereg regexp=\"{escaped}\" {attrs} assign_to=\"{var}\"/>\n\
             <log message=\"INVITE-CHECK {var} [${var}]\"/>"
        ));
        self
    }

    /// The local address for SIP and media (`-i`/`-mi`), 127.0.0.1 by default; another
    /// loopback address (127.0.0.2) plays a second host, e.g. a carrier.
    pub fn local_ip(mut self, ip: &str) -> Self {
        self.local_ip = ip.to_owned();
        self
    }

    /// The remote host:port (a UAC's target; none for a UAS).
    pub fn remote(mut self, addr: impl ToString) -> Self {
        self.remote = Some(addr.to_string());
        self
    }

    /// Local SIP port (`-p`).
    pub fn local_port(self, port: u16) -> Self {
        self.arg("-p").arg(port)
    }

    /// Local media port (`-mp`).
    pub fn media_port(self, port: u16) -> Self {
        self.arg("-mp").arg(port)
    }

    /// Control port (`-cp`): every parallel SIPp needs its own.
    pub fn control_port(self, port: u16) -> Self {
        self.arg("-cp").arg(port)
    }

    /// Ports of a peer slot: SIP, control and media.
    pub fn peer_ports(self, p: super::ports::PeerPorts) -> Self {
        self.local_port(p.sip)
            .control_port(p.ctrl)
            .media_port(p.media)
    }

    /// The service (`-s`): the Request-URI user of a UAC, the user of a REGISTER.
    pub fn service(self, s: &str) -> Self {
        self.arg("-s").arg(s)
    }

    /// Digest credentials (`-au`, `-ap`).
    pub fn auth(self, user: &str, password: &str) -> Self {
        self.arg("-au").arg(user).arg("-ap").arg(password)
    }

    /// A global variable (`-set k v`; the scenario must declare it and use it).
    pub fn set(self, k: &str, v: impl ToString) -> Self {
        self.arg("-set").arg(k).arg(v)
    }

    /// A keyword (`-key k v`, used as `[k]`).
    pub fn key(self, k: &str, v: impl ToString) -> Self {
        self.arg("-key").arg(k).arg(v)
    }

    /// Number of calls (`-m`).
    pub fn calls(self, m: u32) -> Self {
        self.arg("-m").arg(m)
    }

    /// Call rate: `r` calls per `period_ms` (`-r`, `-rp`).
    pub fn rate(self, r: u32, period_ms: u32) -> Self {
        self.arg("-r").arg(r).arg("-rp").arg(period_ms)
    }

    /// Maximum simultaneous calls (`-l`).
    pub fn limit(self, l: u32) -> Self {
        self.arg("-l").arg(l)
    }

    /// Duration of `<pause/>` without attributes, in ms (`-d`).
    pub fn pause_ms(self, d: u64) -> Self {
        self.arg("-d").arg(d)
    }

    /// Transport (`-t u1` or `-t t1`).
    pub fn transport(self, t: SippTransport) -> Self {
        self.arg("-t").arg(match t {
            SippTransport::Udp => "u1",
            SippTransport::Tcp => "t1",
        })
    }

    /// Global timeout (`-timeout`, default 60 s); the run is killed 5 s after it.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Out-of-call scenario (`-oocsf`, a file in `tests/sipp/`, e.g. "uas_answer.xml").
    pub fn oocsf(mut self, scenario: &str) -> Self {
        self.oocsf = Some(scenario.to_owned());
        self
    }

    /// `-default_behaviors` (e.g. "all,-bye").
    pub fn default_behaviors(self, b: &str) -> Self {
        self.arg("-default_behaviors").arg(b)
    }

    /// Length of the caller's 1 kHz tone and `-set secs` (for uac_call.xml, which pauses
    /// that long; scenarios that do not declare `secs` must use [`Self::media_secs`]).
    pub fn tone_secs(self, secs: u32) -> Self {
        self.media_secs(secs).set("secs", secs)
    }

    /// Length of the caller's 1 kHz tone pcaps only (default 4 s; e.g. uac_wait_bye.xml).
    pub fn media_secs(mut self, secs: u32) -> Self {
        self.media = PeerMedia { tone_secs: secs };
        self
    }

    /// Turns off `-trace_msg` (on by default; turn off for load runs).
    pub fn no_trace_msg(mut self) -> Self {
        self.trace_msg = false;
        self
    }

    /// Any other argument.
    pub fn arg(mut self, a: impl ToString) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// The run's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs to the end and collects the result.
    pub fn run(self) -> Result<SippResult> {
        self.spawn()?.wait()
    }

    /// Starts in the background.
    pub fn spawn(self) -> Result<SippHandle> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {:?}", self.dir))?;
        for scenario in std::iter::once(&self.scenario).chain(&self.oocsf) {
            let from = sipp_dir().join(scenario);
            std::fs::copy(&from, self.dir.join(scenario))
                .with_context(|| format!("copying {from:?}"))?;
        }
        if !self.invite_checks.is_empty() {
            let path = self.dir.join(&self.scenario);
            let text = std::fs::read_to_string(&path)?;
            anyhow::ensure!(
                text.contains(INVITE_CHECKS),
                "{} has no {INVITE_CHECKS} marker",
                self.scenario
            );
            std::fs::write(
                &path,
                text.replace(INVITE_CHECKS, &self.invite_checks.join("\n")),
            )?;
        }
        self.media.write(&self.dir)?;
        // a port of the block may be briefly held by someone's ephemeral socket (the pool
        // overlaps the kernel's ephemeral range): SIPp then exits at once, so try again
        let mut attempt = 0;
        let mut proc = loop {
            attempt += 1;
            let mut cmd = Command::new("sipp");
            cmd.current_dir(&self.dir).args(self.command_args());
            let mut proc = Proc::spawn(&self.dir, &self.name, cmd)?;
            if attempt >= BIND_ATTEMPTS || proc.wait_timeout(Duration::from_millis(300))?.is_none()
            {
                break proc;
            }
            let out = std::fs::read_to_string(proc.stdout_path()).unwrap_or_default()
                + &std::fs::read_to_string(proc.stderr_path()).unwrap_or_default();
            if !out.contains("Address already in use") {
                break proc;
            }
            std::thread::sleep(Duration::from_millis(300));
        };
        proc.add_log(self.file("errors.log"));
        proc.add_log(self.file("log.log"));
        Ok(SippHandle { proc, sipp: self })
    }

    /// The full argument list (after `sipp`).
    pub fn command_args(&self) -> Vec<String> {
        let mut a: Vec<String> = self.remote.iter().cloned().collect();
        a.extend(["-sf".into(), self.scenario.clone()]);
        if let Some(o) = &self.oocsf {
            a.extend(["-oocsf".into(), o.clone()]);
        }
        let ip = self.local_ip.clone();
        a.extend(["-i".into(), ip.clone(), "-mi".into(), ip, "-nostdin".into()]);
        a.extend([
            "-timeout".into(),
            format!("{}s", self.timeout.as_secs().max(1)),
        ]);
        let files = [
            ("-stf", "stat.csv"),
            ("-error_file", "errors.log"),
            ("-log_file", "log.log"),
        ];
        a.extend(["-trace_stat", "-trace_err", "-trace_logs"].map(String::from));
        if self.trace_msg {
            a.extend([
                "-trace_msg".into(),
                "-message_file".into(),
                self.file_name("messages.log"),
            ]);
        }
        for (flag, file) in files {
            a.extend([flag.to_owned(), self.file_name(file)]);
        }
        a.extend(self.args.iter().cloned());
        a
    }

    fn file_name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.name)
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(self.file_name(suffix))
    }
}

impl SippHandle {
    /// Waits for the end (bounded by the run's `-timeout` + 5 s, then killed).
    pub fn wait(mut self) -> Result<SippResult> {
        let status = self
            .proc
            .wait_timeout(self.sipp.timeout + Duration::from_secs(5))?;
        self.finish(status)
    }

    /// Soft stop: SIGUSR1 to SIPp itself (no new calls, let the current ones end), then the
    /// group is killed after `grace`.
    pub fn stop(mut self, grace: Duration) -> Result<SippResult> {
        self.proc.signal(SIGUSR1);
        let status = self.proc.wait_timeout(grace)?;
        self.finish(status)
    }

    /// Has it exited?
    pub fn is_running(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(None))
    }

    /// The local SIP port given with `-p` (0 if none).
    pub fn sip_port(&self) -> u16 {
        let a = &self.sipp.args;
        a.iter()
            .position(|x| x == "-p")
            .and_then(|i| a.get(i + 1)?.parse().ok())
            .unwrap_or(0)
    }

    /// The `<log>` lines so far.
    pub fn log_so_far(&self) -> String {
        std::fs::read_to_string(self.sipp.file("log.log")).unwrap_or_default()
    }

    fn finish(mut self, status: Option<std::process::ExitStatus>) -> Result<SippResult> {
        let status = match status {
            Some(s) => s,
            None => self
                .proc
                .stop(Duration::from_secs(2))
                .context("sipp did not exit")?,
        };
        let read =
            |suffix: &str| std::fs::read_to_string(self.sipp.file(suffix)).unwrap_or_default();
        let stats = parse_stat_csv(&read("stat.csv"));
        let count = |col: &str| {
            stats
                .get(col)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        Ok(SippResult {
            exit_code: exit_code(status),
            successful: count("SuccessfulCall(C)"),
            failed: count("FailedCall(C)"),
            log: read("log.log"),
            errors: read("errors.log"),
            dir: self.sipp.dir.clone(),
            stats,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_has_the_basics() {
        let s = Sipp::new(Path::new("/tmp/x"), "uac", "uac_call.xml")
            .remote("127.0.0.1:5060")
            .service("bob")
            .transport(SippTransport::Tcp);
        let a = s.command_args().join(" ");
        assert!(a.starts_with("127.0.0.1:5060 -sf uac_call.xml"), "{a}");
        assert!(
            a.contains("-i 127.0.0.1 -mi 127.0.0.1 -nostdin -timeout 60s"),
            "{a}"
        );
        assert!(
            a.contains("-stf uac.stat.csv") && a.ends_with("-s bob -t t1"),
            "{a}"
        );
    }
}
