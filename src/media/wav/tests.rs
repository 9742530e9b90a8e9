use std::io::Cursor;

use super::*;

fn ramp(n: usize) -> Vec<i16> {
    (0..n).map(|i| (i as i32 * 37 - 20000) as i16).collect()
}

/// Hand-built WAV with extra chunks around fmt, to test the chunk walk.
fn build(rate: u32, channels: u16, bits: u16, samples: &[i16], extra: bool) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    if extra {
        v.extend_from_slice(b"LIST");
        v.extend_from_slice(&5u32.to_le_bytes());
        v.extend_from_slice(b"INFOx\0"); // odd size plus pad byte
    }
    v.extend_from_slice(b"fmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    v.extend_from_slice(&(channels * 2).to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    if extra {
        v.extend_from_slice(b"fact");
        v.extend_from_slice(&4u32.to_le_bytes());
        v.extend_from_slice(&[1, 2, 3, 4]);
    }
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(samples.len() as u32 * 2).to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

#[test]
fn reads_8_16_48_khz_mono_and_stereo_skipping_unknown_chunks() {
    for rate in [8000, 16000, 48000] {
        for channels in [1u16, 2] {
            let samples = ramp(rate as usize / 50 * usize::from(channels));
            let wav = read(&build(rate, channels, 16, &samples, true)).unwrap();
            assert_eq!(wav.sample_rate, rate);
            assert_eq!(wav.channels, channels);
            assert_eq!(wav.samples, samples);
            assert_eq!(wav.rate().map(|r| r.hz()), Some(rate));
        }
    }
    let stereo = read(&build(8000, 2, 16, &[100, 300, -100, -300], false)).unwrap();
    assert_eq!(stereo.to_mono(), vec![200, -200]);
}

#[test]
fn rejects_non_wave_and_unsupported_formats() {
    assert!(matches!(read(b"RIFX0000WAVE"), Err(WavError::NotWave)));
    assert!(matches!(read(b"RIFF"), Err(WavError::NotWave)));
    assert!(matches!(
        read(&build(8000, 1, 8, &[0, 0], false)),
        Err(WavError::Unsupported { bits: 8, .. })
    ));
    let mut no_data = build(8000, 1, 16, &[], false);
    no_data.truncate(no_data.len() - 8);
    assert!(matches!(read(&no_data), Err(WavError::Malformed(_))));
    let mut bad_chunk = build(8000, 1, 16, &[1], true);
    bad_chunk[16..20].copy_from_slice(&1000u32.to_le_bytes());
    assert!(matches!(read(&bad_chunk), Err(WavError::Malformed(_))));
}

#[test]
fn writer_finish_produces_exact_file() {
    let samples = ramp(16000);
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 16000, 1).unwrap();
    for frame in samples.chunks(320) {
        w.write_samples(frame).unwrap();
    }
    assert_eq!(w.data_bytes(), 32000);
    let bytes = w.finish().unwrap().into_inner();
    assert_eq!(bytes.len() as u64, HEADER_LEN + 32000);
    assert_eq!(le_u32(&bytes[4..8]), 36 + 32000);
    assert_eq!(le_u32(&bytes[40..44]), 32000);
    let wav = read(&bytes).unwrap();
    assert_eq!((wav.sample_rate, wav.channels), (16000, 1));
    assert_eq!(wav.samples, samples);
    // Our own output matches a hand-built canonical file byte for byte.
    assert_eq!(bytes, build(16000, 1, 16, &samples, false));
}

#[test]
fn flush_makes_the_file_readable_while_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.wav");
    let mut w = WavWriter::create(&path, 8000, 1).unwrap();
    let first = ramp(8000);
    w.write_samples(&first).unwrap();
    w.flush().unwrap();
    let on_disk = read_file(&path).unwrap();
    assert_eq!(on_disk.samples, first);
    // Writes after the flush may still be buffered; the header still says 1 s.
    w.write_samples(&[1, 2, 3]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(le_u32(&bytes[40..44]), 16000);
    w.flush().unwrap();
    let mut expected = first.clone();
    expected.extend_from_slice(&[1, 2, 3]);
    assert_eq!(read_file(&path).unwrap().samples, expected);
    w.finish().unwrap();
    assert_eq!(
        repair(&path).unwrap(),
        RepairReport {
            data_bytes: 16006,
            changed: false
        }
    );
}

#[test]
fn writer_rejects_bad_input() {
    let mut w = WavWriter::new(Cursor::new(Vec::new()), 8000, 2).unwrap();
    assert!(matches!(
        w.write_samples(&[1, 2, 3]),
        Err(WavError::PartialFrame(3))
    ));
    assert!(matches!(
        WavWriter::new(Cursor::new(Vec::new()), 8000, 3),
        Err(WavError::Unsupported { channels: 3, .. })
    ));
}

#[test]
fn repair_fixes_a_crashed_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.wav");
    // A recorder that flushed its header, then died after raw appends (plus half a sample).
    let mut w = WavWriter::create(&path, 48000, 1).unwrap();
    w.write_samples(&[0; 0]).unwrap();
    let file = w.finish().unwrap();
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    let mut crashed = bytes[..HEADER_LEN as usize].to_vec();
    crashed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    crashed[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    let samples = ramp(960 * 3);
    for s in &samples {
        crashed.extend_from_slice(&s.to_le_bytes());
    }
    crashed.push(0x7F);
    std::fs::write(&path, &crashed).unwrap();

    let report = repair(&path).unwrap();
    assert_eq!(
        report,
        RepairReport {
            data_bytes: 960 * 3 * 2,
            changed: true
        }
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes.len() as u64, HEADER_LEN + 960 * 6);
    assert_eq!(le_u32(&bytes[4..8]), 36 + 960 * 6);
    assert_eq!(read(&bytes).unwrap().samples, samples);
    assert!(!repair(&path).unwrap().changed);
}

#[test]
fn repair_fixes_a_truncated_file_with_extra_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    let samples = ramp(1000);
    let mut bytes = build(8000, 1, 16, &samples, true);
    bytes.truncate(bytes.len() - 501); // lose 250.5 samples
    std::fs::write(&path, &bytes).unwrap();
    let report = repair(&path).unwrap();
    assert_eq!(report.data_bytes, 749 * 2);
    assert!(report.changed);
    let wav = read_file(&path).unwrap();
    assert_eq!(wav.samples, samples[..749]);
}

#[test]
fn repair_rejects_non_wave_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.wav");
    std::fs::write(&path, b"hello, this is not a wave file at all").unwrap();
    assert!(matches!(repair(&path), Err(WavError::NotWave)));
    std::fs::write(&path, b"RIFF\0\0\0\0WAVEfmt ").unwrap();
    assert!(matches!(repair(&path), Err(WavError::Malformed(_))));
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The reader never panics, whatever the bytes (recordings may come from anywhere).
        #[test]
        fn reader_survives_arbitrary_bytes(mut bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read(&bytes);
            if bytes.len() >= 12 {
                bytes[..4].copy_from_slice(b"RIFF");
                bytes[8..12].copy_from_slice(b"WAVE");
                let _ = read(&bytes);
            }
        }

        /// Writer then reader is the identity for any samples.
        #[test]
        fn write_read_round_trip(samples in proptest::collection::vec(any::<i16>(), 0..500)) {
            let mut w = WavWriter::new(Cursor::new(Vec::new()), 8000, 1).unwrap();
            w.write_samples(&samples).unwrap();
            let bytes = w.finish().unwrap().into_inner();
            prop_assert_eq!(read(&bytes).unwrap().samples, samples);
        }
    }
}
