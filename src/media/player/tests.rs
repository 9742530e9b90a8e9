use std::path::Path;

use super::*;

fn prompt(name: &str, samples: usize, value: i16) -> Arc<Prompt> {
    Arc::new(Prompt::new(name, SampleRate::Hz8000, vec![value; samples]))
}

#[test]
fn a_sequence_plays_in_order_and_ends() {
    let playback = Playback::sequence([
        PlayItem::Prompt(prompt("one", 200, 1)),
        PlayItem::Silence(10),
        PlayItem::Prompt(prompt("two", 100, 2)),
    ]);
    let mut player = Player::new(playback, SampleRate::Hz8000);
    let mut frame = [9i16; 160];
    assert!(player.fill(&mut frame));
    assert!(frame.iter().all(|&s| s == 1));
    assert!(player.fill(&mut frame));
    assert!(frame[..40].iter().all(|&s| s == 1));
    assert!(frame[40..120].iter().all(|&s| s == 0));
    assert!(frame[120..].iter().all(|&s| s == 2));
    // 60 samples of "two" remain, then the end.
    assert!(!player.fill(&mut frame));
    assert!(frame[..60].iter().all(|&s| s == 2) && frame[60..].iter().all(|&s| s == 0));
    assert!(player.is_finished());
}

#[test]
fn a_looped_playback_never_ends_and_an_empty_one_does() {
    let mut player = Player::new(
        Playback::prompt(prompt("moh", 50, 3)).looped(),
        SampleRate::Hz8000,
    );
    let mut frame = [0i16; 160];
    for _ in 0..100 {
        assert!(player.fill(&mut frame));
        assert!(frame.iter().all(|&s| s == 3));
    }
    let empty = Playback::prompt(prompt("empty", 0, 0)).looped();
    assert!(!Player::new(empty, SampleRate::Hz8000).fill(&mut frame));
}

#[test]
fn tones_play_at_the_legs_rate() {
    let mut player = Player::new(Playback::tone(ToneSpec::beep()), SampleRate::Hz48000);
    let mut frame = [0i16; 960];
    let mut frames = 0;
    while player.fill(&mut frame) {
        frames += 1;
        assert!(frames < 50);
    }
    assert_eq!(frames, 9, "a 200 ms beep is 10 frames");
}

#[test]
fn prompts_are_resampled_once_per_rate() {
    let p = Prompt::new("p", SampleRate::Hz8000, vec![1000; 8000]);
    assert_eq!(p.samples(SampleRate::Hz48000).len(), 48000);
    assert_eq!(p.samples(SampleRate::Hz16000).len(), 16000);
    let first = p.samples(SampleRate::Hz48000).as_ptr();
    assert_eq!(p.samples(SampleRate::Hz48000).as_ptr(), first);
    assert_eq!(p.duration_ms(), 1000);
}

#[test]
fn the_shipped_prompts_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sounds");
    let cache = PromptCache::load_dir(&dir).expect("sounds/ loads");
    let welcome = cache.get("en/welcome").expect("en/welcome");
    assert!(welcome.duration_ms() > 500);
    assert!(cache.get("pl/digits/7").is_some());
    assert!(cache.names().count() >= 200);
}
