//! The end-to-end test toolbox: real peers (SIPp, baresip, tcpdump) driven from Rust.
//!
//! A test binary uses it with `mod common;`. Every test claims its own [`ports::PortBlock`]
//! (cross-process lock), writes everything under its own [`process::TestDir`]
//! (`target/e2e/<test>-<pid>/`, kept after the run), and every process it starts is a
//! [`process::Proc`] whose whole process group dies on Drop (printing its log tail when the
//! test is failing). Media is generated at run time ([`rtp_pcap`], [`wav`]) and checked with
//! [`media`] on what [`capture`] saw on the wire or what baresip recorded.
//!
//! ```ignore
//! let ports = PortBlock::claim();                      // +0 PBX SIP, +2 HTTP, peers at +100..
//! let dir = TestDir::new("call_basic")?;
//! let pbx = Centrala::start(&dir, config_text, http_addr)?;
//! let capture = Capture::start(dir.path(), "lo", "lo", &ports.capture_filter())?;
//! let callee = Sipp::new(dir.path(), "uas", "uas_answer.xml").peer_ports(ports.peer(1))
//!     .set("pt", 0).set("codec", "PCMU").spawn()?;
//! let uac = Sipp::new(dir.path(), "uac", "uac_call.xml").remote(pbx_sip).peer_ports(ports.peer(0))
//!     .service("1000").key("caller", "alice").auth("alice", "secret").tone_secs(4).run()?;
//! uac.check()?;
//! let rtp = capture.stop()?.rtp_to(ports.peer(1).media);  // what reached the callee
//! assert!(rtp.tone_seconds(1000.0) >= 3.0 && rtp.digits == "159#");
//! ```
//!
//! Tests should fail by panicking (`unwrap`, `assert!`) while their processes are in scope if
//! they want the log tails printed: a returned `Err` drops the processes without a panic.
//!
//! Owns: only test support code. Must not touch: /work/shared or anything outside the test's
//! dir and port block.
#![allow(dead_code)]

pub mod baresip;
pub mod baresip_ctrl;
pub mod capture;
pub mod centrala;
pub mod media;
pub mod pcap;
pub mod ports;
pub mod process;
pub mod rtp_pcap;
pub mod sipp;
pub mod sipp_result;
pub mod wav;

/// Loopback: every peer and the PBX bind here.
pub const LOCALHOST: std::net::Ipv4Addr = std::net::Ipv4Addr::LOCALHOST;

/// The directory holding the project's SIPp scenarios (`tests/sipp/`).
pub fn sipp_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sipp")
}
