//! baresip as a scripted softphone: a headless config dir, the process, its recordings.
//!
//! The config plays a WAV (aufile source; baresip 1.0 hangs up when the file ends, so make
//! it longer than the call), plays nothing, records what it receives with the sndfile filter
//! into `<dir>/rec/dump-<time>-dec.wav` (sent audio: `-enc.wav`), listens for SIP on
//! 127.0.0.1:`sip_port` (UDP and TCP; it also binds `sip_port + 1` for TLS) and for
//! ctrl_tcp on `ctrl_port`. The transport of a call is chosen by the URIs: add
//! [`Transport::uri_param`] to the account's and the dialled URI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::baresip_ctrl::Ctrl;
use super::process::{Proc, wait_until};

/// Starts tried when baresip exits during start-up.
const START_ATTEMPTS: u32 = 3;

/// SIP transport for baresip URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP (baresip's default).
    Udp,
    /// TCP.
    Tcp,
}

impl Transport {
    /// The URI parameter selecting this transport ("" or ";transport=tcp").
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        }
    }
}

/// What goes into a baresip config dir.
#[derive(Debug, Clone)]
pub struct BaresipConfig {
    /// SIP listen port (also binds +1).
    pub sip_port: u16,
    /// ctrl_tcp port.
    pub ctrl_port: u16,
    /// RTP port range (inclusive).
    pub rtp_ports: (u16, u16),
    /// The audio it sends (8 kHz mono 16-bit WAV is simplest).
    pub source_wav: PathBuf,
    /// Account lines, e.g. `<sip:alice@127.0.0.1:5060>;auth_pass=secret;answermode=auto`.
    pub accounts: Vec<String>,
}

/// A running baresip.
#[derive(Debug)]
pub struct Baresip {
    dir: PathBuf,
    ctrl_port: u16,
    proc: Option<Proc>,
}

impl BaresipConfig {
    /// Writes `config`, `accounts` and `contacts` into `dir` (and creates `dir/rec`).
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir.join("rec")).with_context(|| format!("creating {dir:?}"))?;
        let (rtp_lo, rtp_hi) = self.rtp_ports;
        let rec = dir.join("rec");
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{sip}\n\
             call_local_timeout 60\n\
             call_max_calls 4\n\
             audio_source aufile,{src}\n\
             audio_player none,none\n\
             audio_alert none,none\n\
             audio_buffer 20-160\n\
             ausrc_srate 8000\nauplay_srate 8000\n\
             ausrc_channels 1\nauplay_channels 1\n\
             ausrc_format s16\nauplay_format s16\nauenc_format s16\naudec_format s16\n\
             rtp_ports {rtp_lo}-{rtp_hi}\n\
             rtcp_mux no\n\
             jitter_buffer_delay 1-10\n\
             rtp_stats yes\n\
             net_interface 127.0.0.1\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule opus.so\nmodule aufile.so\nmodule sndfile.so\n\
             module_tmp uuid.so\nmodule_tmp account.so\n\
             module_app menu.so\nmodule_app ctrl_tcp.so\n\
             ctrl_tcp_listen 127.0.0.1:{ctrl}\n\
             snd_path {rec}\n",
            sip = self.sip_port,
            src = self.source_wav.display(),
            ctrl = self.ctrl_port,
            rec = rec.display(),
        );
        std::fs::write(dir.join("config"), config)?;
        std::fs::write(
            dir.join("accounts"),
            self.accounts
                .iter()
                .map(|a| format!("{a}\n"))
                .collect::<String>(),
        )?;
        std::fs::write(dir.join("contacts"), "")?;
        Ok(())
    }
}

impl Baresip {
    /// Writes the config into `<test_dir>/<name>/`, starts `baresip -f` there and waits until
    /// ctrl_tcp accepts connections (10 s).
    pub fn start(test_dir: &Path, name: &str, config: &BaresipConfig) -> Result<Baresip> {
        let dir = test_dir.join(name);
        config.write(&dir)?;
        let port = config.ctrl_port;
        // baresip exits at start when a port is taken (the block overlaps the kernel's
        // ephemeral range, so another socket may briefly hold one): try again
        for attempt in 1..=START_ATTEMPTS {
            let mut cmd = Command::new("baresip");
            cmd.arg("-f").arg(&dir).current_dir(&dir);
            let mut proc = Proc::spawn(&dir, name, cmd)?;
            let port_taken = |proc: &Proc| {
                let out = std::fs::read_to_string(proc.stdout_path()).unwrap_or_default();
                let err = std::fs::read_to_string(proc.stderr_path()).unwrap_or_default();
                out.contains("Address already in use") || err.contains("Address already in use")
            };
            let up = wait_until(Duration::from_secs(10), || {
                if port_taken(&proc) || matches!(proc.try_wait(), Ok(Some(_))) {
                    return Some(false);
                }
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .is_ok()
                    .then_some(true)
            });
            // a SIP bind failure is reported around the time ctrl_tcp comes up
            std::thread::sleep(Duration::from_millis(100));
            if up == Some(true) && !port_taken(&proc) {
                return Ok(Baresip {
                    dir,
                    ctrl_port: port,
                    proc: Some(proc),
                });
            }
            let tail = proc.log_tail(20);
            proc.stop(Duration::from_secs(1));
            if up.is_none() || attempt == START_ATTEMPTS {
                bail!("baresip {name}: ctrl_tcp {port} not up:\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        bail!("baresip {name}: not started")
    }

    /// A new ctrl_tcp connection (events are not replayed: connect before they happen).
    pub fn ctrl(&self) -> Result<Ctrl> {
        Ctrl::connect(self.ctrl_port)
    }

    /// The config dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SIGTERM (it un-REGISTERs and closes its recordings), SIGKILL after 5 s.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.stop(Duration::from_secs(5));
        }
    }

    /// The WAV of received audio (`rec/*-dec.wav`; the newest if several). Stop first so
    /// that the file is complete.
    pub fn recorded_wav(&self) -> Result<PathBuf> {
        self.recording("-dec.wav")
    }

    /// The WAV of sent audio (`rec/*-enc.wav`).
    pub fn sent_wav(&self) -> Result<PathBuf> {
        self.recording("-enc.wav")
    }

    fn recording(&self, suffix: &str) -> Result<PathBuf> {
        let rec = self.dir.join("rec");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&rec)
            .with_context(|| format!("listing {rec:?}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect();
        found.sort();
        found
            .pop()
            .with_context(|| format!("no *{suffix} in {rec:?}"))
    }
}
