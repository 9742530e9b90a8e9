use super::*;
use crate::media::dtmf::inband::goertzel_power;

fn sine(freq: f32, rate: u32, amp: f32, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f32 / rate as f32;
            (amp * (2.0 * std::f32::consts::PI * freq * t).sin()).round() as i16
        })
        .collect()
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn run_framed(r: &mut Resampler, input: &[i16], frame: usize) -> Vec<i16> {
    let mut out = Vec::new();
    let mut buf = vec![0i16; r.output_len(frame)];
    for chunk in input.chunks(frame) {
        let n = r.process(chunk, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    out
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

#[test]
fn tone_survives_8_to_48_to_8() {
    let input = sine(1000.0, 8000, 10000.0, 8000);
    let mut up = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000);
    let mut down = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
    let mid = run_framed(&mut up, &input, 160);
    assert_eq!(mid.len(), 48000);
    let out = run_framed(&mut down, &mid, 960);
    assert_eq!(out.len(), 8000);
    // Skip the filters' start-up; compare level and frequency on a settled stretch.
    let settled = &out[1000..7000];
    let level = db(rms(settled) / rms(&input[1000..7000]));
    assert!(level.abs() < 1.0, "level changed by {level:.2} dB");
    let at_1k = goertzel_power(settled, 1000.0, 8000);
    let at_1k2 = goertzel_power(settled, 1200.0, 8000);
    assert!(at_1k > 1000.0 * at_1k2, "frequency moved");
    let mid_settled = &mid[6000..42000];
    let level_mid = db(rms(mid_settled) / rms(&input[1000..7000]));
    assert!(
        level_mid.abs() < 1.0,
        "48 kHz level off by {level_mid:.2} dB"
    );
}

#[test]
fn all_pairs_keep_level() {
    let rates = [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000];
    for from in rates {
        for to in rates {
            let input = sine(1000.0, from.hz(), 8000.0, from.hz() as usize);
            let mut r = Resampler::new(from, to);
            let out = run_framed(&mut r, &input, from.samples_per_frame());
            assert_eq!(out.len(), to.hz() as usize);
            let skip = out.len() / 8;
            let level = db(rms(&out[skip..]) / rms(&input[input.len() / 8..]));
            assert!(level.abs() < 1.0, "{from:?}->{to:?}: {level:.2} dB");
        }
    }
}

#[test]
fn downsampling_removes_energy_above_new_nyquist() {
    // 6 kHz at 48 kHz would alias to 2 kHz at 8 kHz; the low-pass must remove it.
    let input = sine(6000.0, 48000, 10000.0, 48000);
    let mut r = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
    let out = run_framed(&mut r, &input, 960);
    let ratio = db(rms(&out[800..]) / rms(&input));
    assert!(ratio < -60.0, "alias only {ratio:.1} dB down");
    // 5 kHz at 16 kHz -> 8 kHz: above 4 kHz, must vanish too.
    let input = sine(5000.0, 16000, 10000.0, 16000);
    let mut r = Resampler::new(SampleRate::Hz16000, SampleRate::Hz8000);
    let out = run_framed(&mut r, &input, 320);
    let ratio = db(rms(&out[800..]) / rms(&input));
    assert!(ratio < -50.0, "alias only {ratio:.1} dB down");
}

#[test]
fn upsampling_leaves_no_images() {
    let input = sine(1000.0, 8000, 10000.0, 8000);
    let mut r = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000);
    let out = run_framed(&mut r, &input, 160);
    let settled = &out[4800..];
    let wanted = goertzel_power(settled, 1000.0, 48000);
    for image in [7000.0, 9000.0, 15000.0, 17000.0] {
        let p = goertzel_power(settled, image, 48000);
        assert!(p < wanted * 1e-6, "image at {image} Hz");
    }
}

#[test]
fn framing_does_not_change_output() {
    let input = sine(440.0, 8000, 12000.0, 4000);
    for (from, to) in [
        (SampleRate::Hz8000, SampleRate::Hz48000),
        (SampleRate::Hz48000, SampleRate::Hz8000),
    ] {
        let input: Vec<i16> = if from == SampleRate::Hz8000 {
            input.clone()
        } else {
            sine(440.0, 48000, 12000.0, 24000)
        };
        let whole = run_framed(&mut Resampler::new(from, to), &input, input.len());
        let framed = run_framed(&mut Resampler::new(from, to), &input, 6 * 20);
        assert_eq!(whole, framed, "{from:?}->{to:?}");
    }
}

#[test]
fn misuse_is_reported() {
    let mut r = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
    let mut out = [0i16; 10];
    assert_eq!(
        r.process(&[0; 7], &mut out),
        Err(ResampleError::UnalignedInput { len: 7, factor: 6 })
    );
    assert_eq!(
        r.process(&[0; 120], &mut out),
        Err(ResampleError::OutputTooSmall { have: 10, need: 20 })
    );
    let mut same = Resampler::new(SampleRate::Hz16000, SampleRate::Hz16000);
    let n = same.process(&[1, 2, 3], &mut out).unwrap();
    assert_eq!(&out[..n], &[1, 2, 3]);
    assert_eq!(SampleRate::from_hz(16000), Some(SampleRate::Hz16000));
    assert_eq!(SampleRate::from_hz(44100), None);
}
