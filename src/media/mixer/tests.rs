use super::*;

const A: ParticipantId = ParticipantId(1);
const B: ParticipantId = ParticipantId(2);
const C: ParticipantId = ParticipantId(3);
const S: ParticipantId = ParticipantId(9);

fn frame(v: i16) -> Vec<i16> {
    vec![v; 4]
}

fn mixer(parts: &[(ParticipantId, MixMode)]) -> Mixer {
    let mut m = Mixer::new(4);
    for (id, mode) in parts {
        m.add(*id, *mode).unwrap();
    }
    m
}

fn heard(m: &Mixer, id: ParticipantId) -> i16 {
    let out = m.output(id).unwrap();
    assert!(out.iter().all(|s| *s == out[0]));
    out[0]
}

#[test]
fn mix_minus_is_exact_for_three_parties() {
    let mut m = mixer(&[
        (A, MixMode::SpeakAndHear),
        (B, MixMode::SpeakAndHear),
        (C, MixMode::SpeakAndHear),
    ]);
    m.put_frame(A, &frame(100)).unwrap();
    m.put_frame(B, &frame(20)).unwrap();
    m.put_frame(C, &frame(-3)).unwrap();
    m.mix();
    assert_eq!(heard(&m, A), 17);
    assert_eq!(heard(&m, B), 97);
    assert_eq!(heard(&m, C), 120);
    // Inputs are consumed by a tick: the next tick without frames is silence.
    m.mix();
    assert_eq!(heard(&m, A), 0);
}

#[test]
fn varying_samples_are_mixed_per_sample() {
    let mut m = mixer(&[(A, MixMode::SpeakAndHear), (B, MixMode::SpeakAndHear)]);
    m.put_frame(A, &[1, 2, 3, 4]).unwrap();
    m.put_frame(B, &[10, -20, 30, -40]).unwrap();
    m.mix();
    assert_eq!(m.output(A).unwrap(), &[10, -20, 30, -40]);
    assert_eq!(m.output(B).unwrap(), &[1, 2, 3, 4]);
}

#[test]
fn missing_frames_count_as_silence() {
    let mut m = mixer(&[
        (A, MixMode::SpeakAndHear),
        (B, MixMode::SpeakAndHear),
        (C, MixMode::SpeakAndHear),
    ]);
    m.put_frame(A, &frame(5)).unwrap();
    m.mix();
    assert_eq!((heard(&m, A), heard(&m, B), heard(&m, C)), (0, 5, 5));
}

#[test]
fn hear_only_contributes_nothing() {
    let mut m = mixer(&[
        (A, MixMode::SpeakAndHear),
        (B, MixMode::SpeakAndHear),
        (S, MixMode::HearOnly),
    ]);
    m.put_frame(A, &frame(100)).unwrap();
    m.put_frame(B, &frame(7)).unwrap();
    m.put_frame(S, &frame(5000)).unwrap(); // the spy's microphone is ignored
    m.mix();
    assert_eq!(heard(&m, A), 7);
    assert_eq!(heard(&m, B), 100);
    assert_eq!(heard(&m, S), 107);
}

#[test]
fn whisper_reaches_only_its_target() {
    // A = caller, B = agent, S = supervisor whispering to the agent.
    let mut m = mixer(&[
        (A, MixMode::SpeakAndHear),
        (B, MixMode::SpeakAndHear),
        (S, MixMode::SpeakTo(B)),
    ]);
    m.put_frame(A, &frame(100)).unwrap();
    m.put_frame(B, &frame(20)).unwrap();
    m.put_frame(S, &frame(3)).unwrap();
    m.mix();
    assert_eq!(heard(&m, A), 20, "caller must not hear the whisper");
    assert_eq!(heard(&m, B), 103, "agent hears caller + whisper");
    assert_eq!(heard(&m, S), 120, "supervisor hears both, not itself");
    // Switch to barge: now everyone hears the supervisor.
    m.set_mode(S, MixMode::SpeakAndHear).unwrap();
    m.put_frame(A, &frame(100)).unwrap();
    m.put_frame(B, &frame(20)).unwrap();
    m.put_frame(S, &frame(3)).unwrap();
    m.mix();
    assert_eq!((heard(&m, A), heard(&m, B), heard(&m, S)), (23, 103, 120));
    // Whisper to self is ignored; whisper to a departed participant reaches nobody.
    m.set_mode(S, MixMode::SpeakTo(S)).unwrap();
    m.put_frame(S, &frame(3)).unwrap();
    m.mix();
    assert_eq!(heard(&m, S), 0);
    m.set_mode(S, MixMode::SpeakTo(C)).unwrap();
    m.put_frame(S, &frame(3)).unwrap();
    m.mix();
    assert_eq!((heard(&m, A), heard(&m, B)), (0, 0));
}

#[test]
fn saturation_clamps_instead_of_wrapping() {
    let mut m = mixer(&[
        (A, MixMode::SpeakAndHear),
        (B, MixMode::SpeakAndHear),
        (C, MixMode::SpeakAndHear),
    ]);
    m.put_frame(A, &frame(30000)).unwrap();
    m.put_frame(B, &frame(30000)).unwrap();
    m.put_frame(C, &frame(30000)).unwrap();
    m.mix();
    assert_eq!(heard(&m, A), i16::MAX);
    m.put_frame(A, &frame(-30000)).unwrap();
    m.put_frame(B, &frame(-30000)).unwrap();
    m.put_frame(C, &frame(i16::MIN)).unwrap();
    m.mix();
    assert_eq!(heard(&m, C), i16::MIN);
    // Mix-minus happens before clamping: C's own loud voice does not distort what A hears.
    m.put_frame(A, &frame(1)).unwrap();
    m.put_frame(B, &frame(2)).unwrap();
    m.put_frame(C, &frame(i16::MAX)).unwrap();
    m.mix();
    assert_eq!(heard(&m, C), 3);
}

#[test]
fn api_misuse_is_reported() {
    let mut m = mixer(&[(A, MixMode::SpeakAndHear)]);
    assert_eq!(
        m.add(A, MixMode::HearOnly),
        Err(MixerError::AlreadyPresent(A))
    );
    assert_eq!(
        m.put_frame(B, &frame(1)),
        Err(MixerError::UnknownParticipant(B))
    );
    assert_eq!(
        m.put_frame(A, &[1, 2]),
        Err(MixerError::FrameLength {
            got: 2,
            expected: 4
        })
    );
    assert_eq!(
        m.set_mode(B, MixMode::HearOnly),
        Err(MixerError::UnknownParticipant(B))
    );
    assert_eq!(m.mode(A), Some(MixMode::SpeakAndHear));
    assert_eq!(m.len(), 1);
    m.remove(A).unwrap();
    assert!(m.is_empty());
    assert_eq!(m.remove(A), Err(MixerError::UnknownParticipant(A)));
    assert_eq!(m.output(A), None);
    assert_eq!(m.frame_len(), 4);
}
