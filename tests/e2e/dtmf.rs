//! Digits that do not come as RFC 4733 events: a caller keys the IVR menu with in-band DTMF
//! tones in its G.711 audio, or with a SIP INFO (application/dtmf-relay), and reaches the
//! extension the key dials, with audio bridged both ways.

use crate::common::media::dtmf_tones;
use crate::common::rtp_pcap::{RtpClock, audio_packets, write_pcap};
use crate::common::sipp::Sipp;
use crate::dialplan::pbx_with_menu;
use crate::support::{Pbx, enabled, with_keys};

/// How the caller keys the menu's "1".
enum Keying {
    InBand,
    Info,
}

/// 1001 calls the menu on 6000, keys "1" after 1.5 s, talks 1 kHz for 4 s and hangs up.
fn menu_caller(pbx: &Pbx, keying: Keying) -> Sipp {
    let sipp = pbx
        .sipp(0, "caller", "uac_ivr.xml")
        .set("talk_ms", 4000)
        .set("info", matches!(keying, Keying::Info) as u8)
        .set("info_digit", "1")
        .media_secs(5);
    let sipp = with_keys(sipp, "6000", "1", 1500);
    if let Keying::InBand = keying {
        let tones = dtmf_tones("1", 8000, 120);
        let packets = audio_packets(&mut RtpClock::random(), 0, &tones).unwrap();
        write_pcap(&sipp.dir().join("dtmf_keys.pcap"), &packets).unwrap();
    }
    sipp
}

fn keyed_menu_reaches_the_extension(test: &str, keying: Keying) {
    if !enabled(test) {
        return;
    }
    let (pbx, _dir) = pbx_with_menu(test);
    pbx.register(1, "1002");
    let callee = pbx.peer(1);
    let capture = crate::common::capture::Capture::start(
        pbx.dir.path(),
        "lo",
        "lo",
        &pbx.ports.capture_filter(),
    )
    .unwrap();
    let uas = pbx
        .sipp(1, "uas", "uas_answer.xml")
        .set("pt", 0)
        .set("codec", "PCMU")
        .media_secs(8)
        .spawn()
        .unwrap();
    let uac = menu_caller(&pbx, keying).run().unwrap();
    assert!(uac.check().is_ok(), "{}", uac.describe());
    let uas = uas.wait().unwrap();
    assert!(
        uas.check().is_ok(),
        "the extension was dialled: {}",
        uas.describe()
    );
    let heard = capture
        .stop()
        .unwrap()
        .rtp_to(callee.media)
        .tone_seconds(1000.0);
    assert!(heard >= 2.0, "the extension heard the caller for {heard} s");
}

#[test]
fn in_band_dtmf_walks_the_menu() {
    keyed_menu_reaches_the_extension("dtmf_in_band", Keying::InBand);
}

#[test]
fn sip_info_dtmf_walks_the_menu() {
    keyed_menu_reaches_the_extension("dtmf_sip_info", Keying::Info);
}
