//! Graceful shutdown: on SIGTERM Centrala refuses new calls and OPTIONS with 503, lets live
//! calls go on for `[calls] drain_secs`, then ends each with BYE to both legs, writes its CDR
//! and exits 0.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use crate::support::{Pbx, TOKEN, enabled};

/// An OPTIONS from `socket` to the PBX: the status of its answer.
fn options_status(pbx: &Pbx, socket: &UdpSocket) -> u16 {
    let local = socket.local_addr().unwrap();
    let request = format!(
        "OPTIONS sip:{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-drain-{n}\r\n\
         From: <sip:probe@{local}>;tag=probe\r\nTo: <sip:{sip}>\r\nCall-ID: drain-{n}@probe\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        sip = pbx.sip,
        n = rand_suffix(),
    );
    socket.send_to(request.as_bytes(), pbx.sip).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let (len, _) = socket.recv_from(&mut buf).expect("an answer to OPTIONS");
        let text = String::from_utf8_lossy(&buf[..len]);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status >= 200 {
            return status;
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn sigterm_refuses_new_calls_then_ends_live_ones_with_bye_and_a_cdr() {
    if !enabled("shutdown_drains_calls") {
        return;
    }
    let mut pbx = Pbx::start_full("shutdown_drains_calls", "", "[calls]\ndrain_secs = 4\n");
    let probe = UdpSocket::bind(("127.0.0.1", pbx.peer(3).sip)).unwrap();
    probe
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(options_status(&pbx, &probe), 200);
    pbx.register(1, "1002");
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(40)
        .timeout(Duration::from_secs(60))
        .spawn()
        .unwrap();
    let uac = pbx
        .sipp(0, "uac", "uac_wait_bye.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .media_secs(40)
        .timeout(Duration::from_secs(60))
        .spawn()
        .unwrap();
    pbx.listed_call(TOKEN);
    std::thread::sleep(Duration::from_secs(2));
    let signalled = Instant::now();
    pbx.centrala.sigterm();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(options_status(&pbx, &probe), 503, "OPTIONS while draining");
    let refused = pbx
        .sipp(2, "late-caller", "uac_expect.xml")
        .service("1002")
        .key("caller", "1001")
        .auth("1001", "pw1001")
        .set("expect", 503)
        .timeout(Duration::from_secs(10))
        .run()
        .unwrap();
    assert!(refused.check().is_ok(), "{}", refused.describe());
    let status = pbx
        .centrala
        .wait_exit(Duration::from_secs(30))
        .expect("Centrala exits after the drain");
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(15),
        "exited {took:?} after SIGTERM (drain 4 s)"
    );
    let uac = uac.wait().unwrap();
    assert_eq!(
        uac.log_lines("HUNGUP_BY_REMOTE ").count(),
        1,
        "the caller got no BYE: {}",
        uac.describe()
    );
    let uas = uas.wait().unwrap();
    assert_eq!(
        uas.log_lines("ENDED ").count(),
        1,
        "the callee got no BYE: {}",
        uas.describe()
    );
    let cdrs = pbx.query("SELECT result, hangup_cause, hangup_side FROM cdrs");
    assert_eq!(cdrs, ["answered|shutdown|system"]);
}
