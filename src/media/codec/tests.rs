use super::*;
use crate::media::dtmf::inband::goertzel_power;
use crate::media::tone::{ToneGenerator, ToneSpec};

fn tone(rate: SampleRate, freq: f32) -> ToneGenerator {
    ToneGenerator::new(
        ToneSpec {
            freq1: freq,
            freq2: None,
            amplitude: 8000,
            on_ms: 60_000,
            off_ms: 0,
            repeat: true,
        },
        rate.hz(),
    )
}

#[test]
fn codec_metadata() {
    assert_eq!(Codec::Pcmu.static_payload_type(), Some(0));
    assert_eq!(Codec::Pcma.static_payload_type(), Some(8));
    let opus = Codec::Opus {
        rate: SampleRate::Hz16000,
    };
    assert_eq!(opus.static_payload_type(), None);
    assert_eq!(opus.rtp_clock_rate(), 48000);
    assert_eq!(opus.samples_per_frame(), 320);
    assert_eq!(Codec::Pcma.samples_per_frame(), 160);
    assert_eq!(Codec::from_rtpmap("PCMU", 8000), Some(Codec::Pcmu));
    assert_eq!(Codec::from_rtpmap("pcma", 8000), Some(Codec::Pcma));
    assert_eq!(
        Codec::from_rtpmap("OPUS", 48000),
        Some(Codec::Opus {
            rate: SampleRate::Hz48000
        })
    );
    assert_eq!(Codec::from_rtpmap("G729", 8000), None);
    assert_eq!(Codec::from_rtpmap("PCMU", 16000), None);
    for c in [Codec::Pcmu, Codec::Pcma, opus] {
        assert_eq!(Encoder::new(c).unwrap().codec(), c);
        assert_eq!(Decoder::new(c).unwrap().codec(), c);
        assert!(Codec::from_rtpmap(c.encoding_name(), c.rtp_clock_rate()).is_some());
    }
}

#[test]
fn g711_encoder_decoder_round_trip_and_errors() {
    for codec in [Codec::Pcmu, Codec::Pcma] {
        let mut enc = Encoder::new(codec).unwrap();
        let mut dec = Decoder::new(codec).unwrap();
        let mut pcm = [0i16; 160];
        tone(SampleRate::Hz8000, 1000.0).fill(&mut pcm);
        let mut payload = [0u8; 160];
        assert_eq!(enc.encode(&pcm, &mut payload).unwrap(), 160);
        let mut back = [0i16; 160];
        assert_eq!(dec.decode(&payload, &mut back).unwrap(), 160);
        for (a, b) in pcm.iter().zip(&back) {
            assert!((i32::from(*a) - i32::from(*b)).abs() <= 256);
        }
        assert!(matches!(
            enc.encode(&pcm, &mut [0u8; 10]),
            Err(CodecError::BufferTooSmall { need: 160, .. })
        ));
        assert!(matches!(
            dec.decode(&payload, &mut [0i16; 10]),
            Err(CodecError::BufferTooSmall { need: 160, .. })
        ));
        assert!(matches!(
            dec.decode(&[], &mut back),
            Err(CodecError::EmptyPayload)
        ));
        back.fill(1);
        assert_eq!(dec.conceal(&mut back).unwrap(), 160);
        assert!(back.iter().all(|s| *s == 0));
        assert!(dec.conceal(&mut [0i16; 100]).is_err());
    }
}

/// Run `frames` 20 ms frames of a 1 kHz tone through `from` -> `to`, decode the result and
/// check the tone is there at `to`'s rate.
fn transcode_tone(from: Codec, to: Codec, lose_every: Option<usize>) {
    let mut source_enc = Encoder::new(from).unwrap();
    let mut t = Transcoder::new(from, to).unwrap();
    let mut sink_dec = Decoder::new(to).unwrap();
    let mut source = tone(from.sample_rate(), 1000.0);
    let mut pcm = vec![0i16; from.samples_per_frame()];
    let mut a = [0u8; 1500];
    let mut b = [0u8; 1500];
    let mut out = vec![0i16; to.samples_per_frame()];
    let mut received = Vec::new();
    for i in 0..50 {
        source.fill(&mut pcm);
        let n = source_enc.encode(&pcm, &mut a).unwrap();
        let lost = lose_every.is_some_and(|k| i % k == k - 1);
        let payload = if lost { None } else { Some(&a[..n]) };
        let m = t.transcode(payload, &mut b).unwrap();
        assert!(m > 0);
        if !lost {
            assert_eq!(t.last_decoded().len(), from.samples_per_frame());
        }
        let k = sink_dec.decode(&b[..m], &mut out).unwrap();
        assert_eq!(k, to.samples_per_frame());
        received.extend_from_slice(&out);
    }
    let rate = to.sample_rate().hz();
    let settled = &received[received.len() / 2..];
    let at_1k = goertzel_power(settled, 1000.0, rate);
    let expected = (8000.0 * settled.len() as f64 / 2.0).powi(2);
    let floor = if lose_every.is_some() { 0.25 } else { 0.5 };
    assert!(at_1k > expected * floor, "{from:?}->{to:?}: tone weak");
    assert!(at_1k > 20.0 * goertzel_power(settled, 1700.0, rate));
}

#[test]
fn transcode_opus48_to_pcmu_and_back() {
    let opus48 = Codec::Opus {
        rate: SampleRate::Hz48000,
    };
    transcode_tone(opus48, Codec::Pcmu, None);
    transcode_tone(Codec::Pcmu, opus48, None);
    transcode_tone(Codec::Pcma, Codec::Pcmu, None);
    transcode_tone(
        Codec::Opus {
            rate: SampleRate::Hz16000,
        },
        Codec::Pcma,
        None,
    );
}

#[test]
fn transcode_conceals_lost_opus_frames() {
    let opus48 = Codec::Opus {
        rate: SampleRate::Hz48000,
    };
    transcode_tone(opus48, Codec::Pcmu, Some(10));
}
