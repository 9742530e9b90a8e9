//! Interop between the two Opus backends (built only with the `system-opus` feature, where
//! both exist): packets from each encoder decoded by the other library, checked against a
//! 1 kHz tone and against the reference decoder's output.

use super::pure::{PureDecoder, PureEncoder};
use super::system::{SystemDecoder, SystemEncoder};
use super::tests::tone_frames;
use super::{DecoderEngine, EncoderEngine, MAX_PACKET};
use crate::media::dtmf::inband::goertzel_power;
use crate::media::resample::SampleRate;

/// Encodes 50 frames of a 1 kHz tone with `E` and decodes them with `D`.
fn through<E: EncoderEngine, D: DecoderEngine>(rate: SampleRate) -> (Vec<Vec<u8>>, Vec<i16>) {
    let mut enc = E::new(rate).unwrap();
    let mut dec = D::new(rate).unwrap();
    let mut packets = Vec::new();
    let mut decoded = Vec::new();
    let mut out = vec![0i16; rate.samples_per_frame()];
    for pcm in tone_frames(rate, 50) {
        let mut packet = [0u8; MAX_PACKET];
        let n = enc.encode(&pcm, &mut packet).unwrap();
        let m = dec.decode(&packet[..n], &mut out).unwrap();
        assert_eq!(m, out.len(), "{rate:?}: one whole frame per packet");
        decoded.extend_from_slice(&out);
        packets.push(packet[..n].to_vec());
    }
    (packets, decoded)
}

fn assert_tone(pcm: &[i16], rate: SampleRate, what: &str) {
    let settled = &pcm[pcm.len() / 2..];
    let wanted = goertzel_power(settled, 1000.0, rate.hz());
    let expected = (10000.0 * settled.len() as f64 / 2.0).powi(2);
    assert!(wanted > expected * 0.5, "{what} at {rate:?}: tone lost");
    assert!(wanted > 100.0 * goertzel_power(settled, 1500.0, rate.hz()));
}

/// Signal-to-noise ratio of `got` against `reference`, in dB.
fn snr_db(reference: &[i16], got: &[i16]) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for (r, g) in reference.iter().zip(got) {
        signal += f64::from(*r).powi(2);
        noise += (f64::from(*r) - f64::from(*g)).powi(2);
    }
    10.0 * (signal / noise.max(1.0)).log10()
}

#[test]
fn our_encoder_is_decoded_by_libopus_and_libopus_by_ours() {
    for rate in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000] {
        let (_, pure_to_lib) = through::<PureEncoder, SystemDecoder>(rate);
        assert_tone(&pure_to_lib, rate, "opus-rs -> libopus");
        let (_, lib_to_pure) = through::<SystemEncoder, PureDecoder>(rate);
        assert_tone(&lib_to_pure, rate, "libopus -> opus-rs");
    }
}

#[test]
fn our_decoder_matches_libopus_on_the_same_packets() {
    for rate in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000] {
        let (packets, reference) = through::<SystemEncoder, SystemDecoder>(rate);
        let mut ours = PureDecoder::new(rate).unwrap();
        let mut out = vec![0i16; rate.samples_per_frame()];
        let mut got = Vec::new();
        for p in &packets {
            ours.decode(p, &mut out).unwrap();
            got.extend_from_slice(&out);
        }
        let snr = snr_db(&reference, &got);
        assert!(
            snr > 60.0,
            "{rate:?}: opus-rs decodes libopus packets at {snr:.1} dB SNR"
        );
    }
}
