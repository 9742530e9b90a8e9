//! Per-frame costs of the media cores (20 ms frames).

use std::hint::black_box;

use centrala::media::codec::g711;
use centrala::media::dtmf::inband::InbandDetector;
use centrala::media::mixer::{MixMode, Mixer, ParticipantId};
use centrala::media::resample::{Resampler, SampleRate};
use criterion::{Criterion, criterion_group, criterion_main};

fn frame(n: usize, seed: i32) -> Vec<i16> {
    (0..n)
        .map(|i| ((i as i32 * 1103 + seed * 7919) % 20000 - 10000) as i16)
        .collect()
}

fn bench(c: &mut Criterion) {
    let pcm = frame(160, 1);
    let mut codes = [0u8; 160];
    let mut back = [0i16; 160];
    c.bench_function("g711 pcmu decode+encode 20ms", |b| {
        b.iter(|| {
            g711::encode_ulaw(black_box(&pcm), &mut codes);
            g711::decode_ulaw(black_box(&codes), &mut back);
        })
    });
    c.bench_function("g711 pcma decode+encode 20ms", |b| {
        b.iter(|| {
            g711::encode_alaw(black_box(&pcm), &mut codes);
            g711::decode_alaw(black_box(&codes), &mut back);
        })
    });

    let mut mixer = Mixer::new(160);
    let ids = [ParticipantId(1), ParticipantId(2), ParticipantId(3)];
    for id in ids {
        let _ = mixer.add(id, MixMode::SpeakAndHear);
    }
    let inputs: Vec<Vec<i16>> = (0..3).map(|s| frame(160, s)).collect();
    c.bench_function("mixer 3-party 20ms @8k", |b| {
        b.iter(|| {
            for (id, input) in ids.iter().zip(&inputs) {
                let _ = mixer.put_frame(*id, input);
            }
            mixer.mix();
            black_box(mixer.output(ids[0]));
        })
    });

    let mut up = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000);
    let mut out48 = vec![0i16; 960];
    c.bench_function("resample 8k->48k 20ms", |b| {
        b.iter(|| up.process(black_box(&pcm), &mut out48))
    });
    let pcm48 = frame(960, 2);
    let mut down = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
    let mut out8 = vec![0i16; 160];
    c.bench_function("resample 48k->8k 20ms", |b| {
        b.iter(|| down.process(black_box(&pcm48), &mut out8))
    });

    let mut det = InbandDetector::default();
    c.bench_function("inband dtmf detect 20ms", |b| {
        b.iter(|| {
            det.handle_samples(black_box(&pcm));
            black_box(det.poll_digit());
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
