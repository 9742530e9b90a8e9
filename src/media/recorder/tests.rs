use std::io::Write;

use super::*;

#[tokio::test]
async fn a_recording_is_stereo_with_silence_while_paused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("calls/r1.wav");
    let (mut tap, done) = RecorderTap::start(path.clone(), SystemTime::now())
        .await
        .expect("start");
    let left = [100i16; FRAME];
    let right = [-200i16; FRAME];
    tap.push(Some(&left), Some(&right));
    tap.set_paused(true);
    tap.push(Some(&left), Some(&right));
    tap.set_paused(false);
    tap.push(Some(&left), None);
    drop(tap);
    let info = done.await.expect("writer answers").expect("file written");
    assert_eq!(info.duration, Duration::from_millis(60));
    assert_eq!(info.bytes, 44 + 3 * 160 * 4);
    assert_eq!(std::fs::metadata(&path).expect("file").len(), info.bytes);
    let audio = wav::read_file(&path).expect("valid WAV");
    assert_eq!((audio.channels, audio.sample_rate), (2, 8000));
    let frames: Vec<&[i16]> = audio.samples.chunks(2 * FRAME).collect();
    assert!(frames[0].chunks(2).all(|lr| lr == [100, -200]));
    assert!(frames[1].iter().all(|&s| s == 0));
    assert!(frames[2].chunks(2).all(|lr| lr == [100, 0]));
}

#[tokio::test]
async fn frames_reach_the_file_in_order_across_batches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("r2.wav");
    let (mut tap, done) = RecorderTap::start(path.clone(), SystemTime::now())
        .await
        .expect("start");
    // Two and a half batches: two full ones and the partial one sent when the tap goes.
    let frames = 2 * BATCH_FRAMES + BATCH_FRAMES / 2;
    for n in 0..frames {
        let left = [n as i16; FRAME];
        let right = [-(n as i16); FRAME];
        tap.push(Some(&left), Some(&right));
    }
    assert_eq!(tap.dropped(), 0);
    drop(tap);
    let info = done.await.expect("writer answers").expect("file written");
    assert_eq!(info.duration, Duration::from_millis(20 * frames as u64));
    let audio = wav::read_file(&path).expect("valid WAV");
    for (n, frame) in audio.samples.chunks(2 * FRAME).enumerate() {
        assert!(frame.chunks(2).all(|lr| lr == [n as i16, -(n as i16)]));
    }
    assert_eq!(audio.samples.len(), frames * 2 * FRAME);
}

#[test]
fn repair_fixes_a_recording_cut_short_by_a_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crashed.wav");
    let mut writer = WavWriter::create(&path, 8000, 2).expect("create");
    writer.write_samples(&[1i16; 2 * FRAME]).expect("write");
    writer.flush().expect("flush");
    // More audio reached the file after the last flush, then the process died: the header
    // still says one frame, and the tail ends in a partial sample frame.
    drop(writer);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    file.write_all(&[7u8; 4 * FRAME + 3]).expect("append");
    drop(file);
    std::fs::write(dir.path().join("notes.txt"), b"not audio").expect("write");

    let reports = repair_recordings(dir.path());
    assert_eq!(reports.len(), 1, "only WAV files are looked at");
    let report = reports[0].outcome.as_ref().expect("repaired");
    assert!(report.changed);
    assert_eq!(report.data_bytes, 2 * 4 * FRAME as u64);
    let audio = wav::read_file(&path).expect("valid again");
    assert_eq!(audio.samples.len(), 4 * FRAME);
    // A second pass finds nothing to do; a missing directory is no error.
    assert!(
        !repair_recordings(dir.path())[0]
            .outcome
            .as_ref()
            .expect("ok")
            .changed
    );
    assert!(repair_recordings(&dir.path().join("absent")).is_empty());
}
