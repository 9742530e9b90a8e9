use std::time::Duration;

use super::*;

/// Outcome of one pop, owned, for easy comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Buf,
    Frame(u16),
    Miss(u16),
}

fn pop(jb: &mut JitterBuffer) -> Out {
    match jb.pop() {
        Playout::Buffering => Out::Buf,
        Playout::Frame { seq, payload, .. } => {
            assert_eq!(payload, &seq.to_be_bytes(), "payload follows its seq");
            Out::Frame(seq)
        }
        Playout::Missing { seq } => Out::Miss(seq),
    }
}

fn cfg() -> JitterConfig {
    JitterConfig::voice(8000)
}

/// Packets arrive in `seqs` order, one every 20 ms, with timestamps matching their seq;
/// one pop per arrival, then `drain` more. Returns the outputs after priming.
fn run(seqs: &[u16], drain: usize) -> Vec<Out> {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    let mut out = Vec::new();
    for (k, s) in seqs.iter().enumerate() {
        let ts = u32::from(s.wrapping_sub(seqs[0])) * 160;
        let now = t0 + Duration::from_millis(20 * k as u64);
        assert_eq!(
            jb.push(now, *s, ts, &s.to_be_bytes()),
            PushOutcome::Accepted
        );
        out.push(pop(&mut jb));
    }
    out.extend((0..drain).map(|_| pop(&mut jb)));
    out.into_iter().skip_while(|o| *o == Out::Buf).collect()
}

#[test]
fn in_order_stream_plays_in_order_after_priming() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    let mut out = Vec::new();
    for i in 0..20u16 {
        let now = t0 + Duration::from_millis(20 * u64::from(i));
        assert_eq!(
            jb.push(now, 100 + i, 160 * u32::from(i), &(100 + i).to_be_bytes()),
            PushOutcome::Accepted
        );
        out.push(pop(&mut jb));
    }
    assert_eq!(out[0], Out::Buf);
    let frames: Vec<Out> = out.into_iter().filter(|o| *o != Out::Buf).collect();
    let expected: Vec<Out> = (100..100 + frames.len() as u16).map(Out::Frame).collect();
    assert_eq!(frames, expected);
    assert_eq!(jb.target_depth(), 2);
    assert!(jb.jitter() < 1.0);
}

#[test]
fn reordered_packets_come_out_in_order() {
    let out = run(&[1, 3, 2, 5, 4, 6], 1);
    assert_eq!(out, (1..=6).map(Out::Frame).collect::<Vec<_>>());
}

#[test]
fn duplicates_are_dropped() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    assert_eq!(
        jb.push(t0, 1, 0, &1u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(
        jb.push(t0, 1, 0, &1u16.to_be_bytes()),
        PushOutcome::Duplicate
    );
    assert_eq!(
        jb.push(t0, 2, 160, &2u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(
        jb.push(t0, 2, 160, &2u16.to_be_bytes()),
        PushOutcome::Duplicate
    );
    assert_eq!(pop(&mut jb), Out::Frame(1));
    // A copy of an already played packet is too late.
    assert_eq!(jb.push(t0, 1, 0, &1u16.to_be_bytes()), PushOutcome::TooLate);
    assert_eq!(pop(&mut jb), Out::Frame(2));
    assert_eq!(jb.stats().duplicates, 2);
    assert_eq!(jb.stats().late, 1);
    assert_eq!(jb.stats().accepted, 2);
}

#[test]
fn lost_packet_is_reported_missing_once() {
    let out = run(&[1, 2, 4, 5], 2);
    assert_eq!(
        out,
        vec![
            Out::Frame(1),
            Out::Frame(2),
            Out::Miss(3),
            Out::Frame(4),
            Out::Frame(5)
        ]
    );
}

#[test]
fn late_packet_after_its_turn_is_refused() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    for s in [1u16, 2, 4] {
        jb.push(t0, s, 0, &s.to_be_bytes());
    }
    assert_eq!(pop(&mut jb), Out::Frame(1));
    assert_eq!(pop(&mut jb), Out::Frame(2));
    assert_eq!(pop(&mut jb), Out::Miss(3));
    assert_eq!(jb.push(t0, 3, 0, &3u16.to_be_bytes()), PushOutcome::TooLate);
    assert_eq!(pop(&mut jb), Out::Frame(4));
}

#[test]
fn sequence_wrap_at_65535() {
    let out = run(&[65533, 65535, 65534, 1, 0, 2], 1);
    assert_eq!(out, [65533, 65534, 65535, 0, 1, 2].map(Out::Frame).to_vec());
    // Loss across the wrap.
    let out = run(&[65534, 65535, 1, 2], 2);
    assert_eq!(
        out,
        vec![
            Out::Frame(65534),
            Out::Frame(65535),
            Out::Miss(0),
            Out::Frame(1),
            Out::Frame(2)
        ]
    );
}

#[test]
fn underrun_conceals_then_rebuffers() {
    let out = run(&[10, 11], 1 + 10 + 1);
    assert_eq!(&out[..2], &[Out::Frame(10), Out::Frame(11)]);
    // Buffer empty: conceal (without skipping the next sequence number) up to max_depth...
    assert!(out[2..12].iter().all(|o| *o == Out::Miss(12)));
    // ...then stop and buffer again.
    assert_eq!(out[12], Out::Buf);
}

#[test]
fn a_packet_delayed_by_an_underrun_is_still_played() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    for s in [1u16, 2] {
        jb.push(t0, s, 0, &s.to_be_bytes());
    }
    assert_eq!(pop(&mut jb), Out::Frame(1));
    assert_eq!(pop(&mut jb), Out::Frame(2));
    assert_eq!(pop(&mut jb), Out::Miss(3)); // 3 is late, not lost
    assert_eq!(
        jb.push(t0, 3, 0, &3u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(pop(&mut jb), Out::Frame(3));
}

#[test]
fn target_depth_grows_with_jitter_and_stays_bounded() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    // Arrivals jittered by up to +-50 ms around the 20 ms grid (deterministic pattern).
    let offsets = [0i64, 45, -30, 10, 50, -40, 20, -10, 35, -50];
    for i in 0..400u16 {
        let ideal = 20 * i64::from(i) + 100;
        let at = (ideal + offsets[usize::from(i) % offsets.len()]) as u64;
        jb.push(
            t0 + Duration::from_millis(at),
            i,
            160 * u32::from(i),
            &i.to_be_bytes(),
        );
        let _ = jb.pop();
    }
    let target = jb.target_depth();
    assert!(target > 3, "target stayed at {target}");
    assert!(target <= 10);
    assert!(jb.jitter() > 100.0);
    // Steady arrivals bring it back down.
    for i in 400..1400u16 {
        let at = 20 * u64::from(i) + 100;
        jb.push(
            t0 + Duration::from_millis(at),
            i,
            160 * u32::from(i),
            &i.to_be_bytes(),
        );
        let _ = jb.pop();
    }
    assert_eq!(jb.target_depth(), 2);
}

#[test]
fn excess_depth_is_shed() {
    let t0 = Instant::now();
    // A burst of 20 packets at once; min = max = 2 isolates shrinking from adaptation.
    let mut jb = JitterBuffer::new(JitterConfig {
        min_depth: 2,
        max_depth: 2,
        ..cfg()
    });
    for s in 0..20u16 {
        jb.push(t0, s, u32::from(s) * 160, &s.to_be_bytes());
    }
    let mut frames = 0;
    for _ in 0..20 {
        if let Out::Frame(_) = pop(&mut jb) {
            frames += 1;
        }
    }
    assert!(jb.stats().dropped > 0);
    assert_eq!(frames as u64 + jb.stats().dropped, 20);
}

#[test]
fn memory_is_bounded_and_big_jumps_resync() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    // 1000 packets with nobody popping: the ring keeps only the newest `capacity`.
    for s in 0..1000u16 {
        assert_eq!(jb.push(t0, s, 0, &s.to_be_bytes()), PushOutcome::Accepted);
    }
    assert_eq!(jb.depth(), 64);
    assert_eq!(jb.slots.len(), 64);
    // 936..=999 are held; the first pop sheds the oldest (depth 64 is far over target).
    assert_eq!(pop(&mut jb), Out::Frame(937));
    // A jump far ahead of the window restarts the buffer...
    assert_eq!(
        jb.push(t0, 20000, 0, &20000u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(
        jb.push(t0, 20001, 0, &20001u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(pop(&mut jb), Out::Frame(20000));
    // ...and so does one far behind it.
    assert_eq!(
        jb.push(t0, 5, 0, &5u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(jb.stats().resyncs, 2);
    assert_eq!(
        jb.push(t0, 6, 0, &6u16.to_be_bytes()),
        PushOutcome::Accepted
    );
    assert_eq!(pop(&mut jb), Out::Frame(5));
    assert_eq!(
        jb.push(t0, 1, 0, &[0u8; MAX_PAYLOAD + 1]),
        PushOutcome::TooLarge
    );
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any local reordering, duplication and loss around any start (including the wrap)
        /// plays every sequence number at most once, in increasing order.
        #[test]
        fn playout_is_ordered_and_unique(
            start in any::<u16>(),
            swaps in proptest::collection::vec((0usize..200, 1usize..4), 0..60),
            drops in proptest::collection::vec(0usize..200, 0..20),
            dups in proptest::collection::vec(0usize..200, 0..20),
        ) {
            let mut order: Vec<u16> = (0..200u16).map(|i| start.wrapping_add(i)).collect();
            for (i, d) in swaps {
                let j = (i + d).min(order.len() - 1);
                order.swap(i, j);
            }
            for i in dups {
                let s = order[i];
                order.insert(i + 1, s);
            }
            for i in drops {
                if i < order.len() {
                    order.remove(i);
                }
            }
            let t0 = Instant::now();
            let mut jb = JitterBuffer::new(cfg());
            let mut played: Vec<(u16, bool)> = Vec::new();
            let record = |o: Playout<'_>| match o {
                Playout::Frame { seq, payload, .. } => {
                    assert_eq!(payload, &seq.to_be_bytes());
                    Some((seq, true))
                }
                Playout::Missing { seq } => Some((seq, false)),
                Playout::Buffering => None,
            };
            for (k, s) in order.iter().enumerate() {
                let ts = u32::from(s.wrapping_sub(start)) * 160;
                jb.push(t0 + Duration::from_millis(20 * k as u64), *s, ts, &s.to_be_bytes());
                if let Some(seq) = record(jb.pop()) {
                    played.push(seq);
                }
            }
            for _ in 0..30 {
                if let Some(seq) = record(jb.pop()) {
                    played.push(seq);
                }
            }
            // Offsets from `start` never go back (a Missing repeats during an underrun, since
            // it does not advance), and a played frame is never played or concealed again.
            let offsets: Vec<(u16, bool)> =
                played.iter().map(|(s, f)| (s.wrapping_sub(start), *f)).collect();
            for w in offsets.windows(2) {
                prop_assert!(w[1].0 >= w[0].0, "{offsets:?}");
                prop_assert!(!(w[0].1 && w[1].0 == w[0].0), "{offsets:?}");
            }
            prop_assert!(jb.stats().accepted <= 200);
        }
    }
}

#[test]
fn a_timestamp_jump_is_a_new_source_not_jitter() {
    let t0 = Instant::now();
    let mut jb = JitterBuffer::new(cfg());
    for k in 0..10u16 {
        let now = t0 + Duration::from_millis(20 * u64::from(k));
        jb.push(now, k, u32::from(k) * 160, &k.to_be_bytes());
    }
    let steady = jb.target_depth();
    // The sender switches to another recording: same SSRC, timestamps from elsewhere.
    for k in 10..20u16 {
        let now = t0 + Duration::from_millis(20 * u64::from(k));
        let ts = 0x9000_0000u32.wrapping_add(u32::from(k) * 160);
        jb.push(now, k, ts, &k.to_be_bytes());
    }
    assert_eq!(jb.target_depth(), steady);
}
