//! RFC 4733 digits passed between legs of different clock rates (G.711 at 8 kHz, Opus at
//! 48 kHz): the digit reaches the other leg on its own telephone-event payload type, with the
//! event's durations counted in that leg's clock and the key press's length kept.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::media::codec::Codec;
use crate::media::dtmf::rfc4733::TelephoneEvent;
use crate::media::resample::SampleRate;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([198, 51, 100, 1], port))
}

const OPUS: LegCodec = LegCodec {
    codec: Codec::Opus {
        rate: SampleRate::Hz8000,
    },
    payload_type: 96,
    telephone_event: Some(110),
};

/// A transcoding core: A is PCMU with events on 101 (8 kHz), B Opus with events on 110 (48 kHz).
fn transcoding() -> RelayCore {
    let mut core = RelayCore::new();
    core.set_remote(Side::A, addr(4000));
    core.set_remote(Side::B, addr(6000));
    core.set_codec(Side::A, LegCodec::pcmu()).expect("pcmu");
    core.set_codec(Side::B, OPUS).expect("opus");
    core
}

/// The packets of one key press of `ms` milliseconds at `clock` Hz, an update every 20 ms
/// and the end three times (RFC 4733 section 2.5.1.4).
fn key_press(pt: u8, event: u8, ms: u32, clock: u32) -> Vec<Vec<u8>> {
    let units = |ms: u32| u16::try_from(ms * clock / 1000).expect("fits");
    let mut packets = Vec::new();
    let mut payloads: Vec<TelephoneEvent> = (1..=ms / 20)
        .map(|i| TelephoneEvent {
            event,
            end: false,
            volume: 10,
            duration: units(i * 20),
        })
        .collect();
    let end = TelephoneEvent {
        end: true,
        duration: units(ms),
        ..payloads[0]
    };
    payloads.extend([end; 3]);
    for (i, payload) in payloads.iter().enumerate() {
        let seq = 500 + i as u16;
        let mut p = vec![0x80, (u8::from(i == 0) << 7) | pt];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&48_000u32.to_be_bytes());
        p.extend_from_slice(&0xabcd_0001u32.to_be_bytes());
        p.extend_from_slice(&payload.to_bytes());
        packets.push(p);
    }
    packets
}

/// Feeds `packets` from `side` every 20 ms and ticks the engine for `ticks` frames; returns the
/// telephone-events sent toward the other side with payload type `pt`, with their RTP
/// timestamps.
fn pass_on(
    core: &mut RelayCore,
    side: Side,
    from: SocketAddr,
    packets: &[Vec<u8>],
    pt: u8,
) -> Vec<(u32, TelephoneEvent)> {
    let start = Instant::now();
    let mut events = Vec::new();
    let mut buf = [0u8; 2048];
    for frame in 0..80u32 {
        let now = start + Duration::from_millis(20 * u64::from(frame));
        if let Some(packet) = packets.get(frame as usize) {
            let mut packet = packet.clone();
            core.handle_packet(now, side, Channel::Rtp, from, &mut packet);
        }
        core.handle_tick(now);
        while let Some((to_side, channel, _, len)) = core.poll_transmit(&mut buf) {
            if to_side == side.other() && channel == Channel::Rtp && buf[1] & 0x7f == pt {
                let ts = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
                events.push((ts, TelephoneEvent::parse(&buf[12..len]).expect("event")));
            }
        }
    }
    events
}

/// The checks common to both directions: one event, one timestamp, the end three times with
/// the press's length in the egress clock, and every duration on that clock's 10 ms grid.
fn assert_one_press(events: &[(u32, TelephoneEvent)], event: u8, ms: u32, clock: u32) {
    assert!(!events.is_empty(), "the digit reached the other leg");
    assert!(events.iter().all(|(_, e)| e.event == event));
    assert!(
        events.windows(2).all(|w| w[0].0 == w[1].0),
        "one RTP timestamp for the whole event"
    );
    let ends: Vec<u16> = events
        .iter()
        .filter(|(_, e)| e.end)
        .map(|(_, e)| e.duration)
        .collect();
    assert_eq!(ends, vec![(ms * clock / 1000) as u16; 3]);
    let grid = (clock / 100) as u16;
    assert!(events.iter().all(|(_, e)| e.duration % grid == 0));
}

#[test]
fn a_g711_digit_reaches_the_opus_leg_in_its_48khz_clock() {
    let mut core = transcoding();
    // '5' held 160 ms: 1280 units at 8 kHz, which must become 7680 at 48 kHz.
    let press = key_press(101, 5, 160, 8000);
    let events = pass_on(&mut core, Side::A, addr(4000), &press, 110);
    assert_one_press(&events, 5, 160, 48_000);
}

#[test]
fn an_opus_digit_reaches_the_g711_leg_in_its_8khz_clock() {
    let mut core = transcoding();
    // '#' held 200 ms: 9600 units at 48 kHz, 1600 at 8 kHz.
    let press = key_press(110, 11, 200, 48_000);
    let events = pass_on(&mut core, Side::B, addr(6000), &press, 101);
    assert_one_press(&events, 11, 200, 8000);
}
