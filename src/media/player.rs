//! Players: prompts loaded once and shared between calls, sequences of prompts, tones and
//! silences, optionally looped (music on hold), rendered frame by frame at a leg's rate.
//!
//! Owns: [`Prompt`] (one WAV decoded once, with its audio at 8, 16 and 48 kHz computed once
//! and shared), [`PromptCache`] (every WAV under a directory, loaded at start-up, looked up by
//! name such as `en/welcome`), [`Playback`] (what to play) and [`Player`] (where it is).
//! Must not touch: files after loading (no per-call reads on the hot path), sockets, clocks.
//! Driven by: the per-call media task, which asks its `Player` for one 20 ms frame per tick.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use thiserror::Error;

use crate::media::resample::{Resampler, SampleRate};
use crate::media::tone::{ToneGenerator, ToneSpec};
use crate::media::wav::{self, WavError};

/// A prompt that cannot be loaded (the operator's files: logged at start-up).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PromptError {
    /// The file is not a WAV Centrala reads.
    #[error("{path}: {source}")]
    Wav {
        /// The file.
        path: String,
        /// Why.
        source: WavError,
    },
    /// The WAV's rate is not 8, 16 or 48 kHz.
    #[error("{path}: sample rate {rate} Hz (use 8000, 16000 or 48000)")]
    Rate {
        /// The file.
        path: String,
        /// Its rate.
        rate: u32,
    },
    /// The directory cannot be read.
    #[error("{path}: {source}")]
    Directory {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// One prompt's audio, mono, at its own rate and (computed once, on demand) at the others.
#[derive(Debug)]
pub struct Prompt {
    name: String,
    /// Indexed 8 kHz, 16 kHz, 48 kHz.
    rates: [OnceLock<Arc<[i16]>>; 3],
}

impl Prompt {
    /// A prompt from mono samples at `rate`.
    pub fn new(name: impl Into<String>, rate: SampleRate, samples: Vec<i16>) -> Prompt {
        let prompt = Prompt {
            name: name.into(),
            rates: Default::default(),
        };
        let _ = prompt.rates[rate_index(rate)].set(samples.into());
        prompt
    }

    /// Reads a WAV file (16-bit PCM, mono or stereo, 8/16/48 kHz).
    pub fn load(name: impl Into<String>, path: &Path) -> Result<Prompt, PromptError> {
        let display = path.display().to_string();
        let audio = wav::read_file(path).map_err(|source| PromptError::Wav {
            path: display.clone(),
            source,
        })?;
        let rate = audio.rate().ok_or(PromptError::Rate {
            path: display,
            rate: audio.sample_rate,
        })?;
        Ok(Prompt::new(name, rate, audio.to_mono()))
    }

    /// The prompt's name (its path under the cache directory, without `.wav`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The audio at `rate`, resampled the first time it is asked for (`PromptCache` asks for
    /// every rate at load time, so calls never pay for it).
    pub fn samples(&self, rate: SampleRate) -> &[i16] {
        self.rates[rate_index(rate)].get_or_init(|| self.resampled(rate))
    }

    /// Length in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        let pcm = self.samples(SampleRate::Hz8000);
        pcm.len() as u64 / 8
    }

    fn resampled(&self, rate: SampleRate) -> Arc<[i16]> {
        let Some((from, source)) = ALL_RATES
            .iter()
            .find_map(|&r| self.rates[rate_index(r)].get().map(|s| (r, s)))
        else {
            return Arc::from(Vec::new());
        };
        let mut resampler = Resampler::new(from, rate);
        // Any multiple of 6 input samples converts whole between 8, 16 and 48 kHz.
        let mut input = source.to_vec();
        input.resize(input.len().div_ceil(6) * 6, 0);
        let mut out = vec![0i16; resampler.output_len(input.len())];
        let exact = source.len() * rate.hz() as usize / from.hz() as usize;
        match resampler.process(&input, &mut out) {
            Ok(n) => out.truncate(n.min(exact)),
            Err(_) => out.clear(),
        }
        out.into()
    }
}

const ALL_RATES: [SampleRate; 3] = [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000];

fn rate_index(rate: SampleRate) -> usize {
    match rate {
        SampleRate::Hz8000 => 0,
        SampleRate::Hz16000 => 1,
        SampleRate::Hz48000 => 2,
    }
}

/// Every prompt under a directory, loaded once and shared (`Arc`) by all calls.
#[derive(Debug, Default, Clone)]
pub struct PromptCache {
    prompts: BTreeMap<String, Arc<Prompt>>,
}

impl PromptCache {
    /// Loads every `*.wav` under `dir` (one level of subdirectories, e.g. `en/`, `pl/`), named
    /// by relative path without extension (`en/welcome`), with its audio at every rate.
    /// Fails on the first unreadable file.
    pub fn load_dir(dir: &Path) -> Result<PromptCache, PromptError> {
        let mut cache = PromptCache::default();
        cache.load_level(dir, "")?;
        // G.711 calls play at 8 kHz: ready now. Wideband forms are made on first use and
        // then shared (a one-off cost per prompt, not per call).
        for prompt in cache.prompts.values() {
            prompt.samples(SampleRate::Hz8000);
        }
        Ok(cache)
    }

    /// The prompt called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Prompt>> {
        self.prompts.get(name).cloned()
    }

    /// Adds (or replaces) a prompt.
    pub fn insert(&mut self, prompt: Prompt) {
        self.prompts.insert(prompt.name.clone(), Arc::new(prompt));
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.prompts.keys().map(String::as_str)
    }

    fn load_level(&mut self, dir: &Path, prefix: &str) -> Result<(), PromptError> {
        let entries = std::fs::read_dir(dir).map_err(|source| PromptError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.is_dir() {
                self.load_level(&path, &format!("{prefix}{stem}/"))?;
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
            {
                let name = format!("{prefix}{stem}");
                self.insert(Prompt::load(name, &path)?);
            }
        }
        Ok(())
    }
}

/// One element of a [`Playback`].
#[derive(Debug, Clone)]
pub enum PlayItem {
    /// A shared prompt.
    Prompt(Arc<Prompt>),
    /// A generated tone (a repeating tone never ends: stop it with `stop_playback`).
    Tone(ToneSpec),
    /// Silence of this many milliseconds.
    Silence(u32),
}

/// What to play toward a side: items in order, the whole list again when `looped`.
#[derive(Debug, Clone, Default)]
pub struct Playback {
    /// The items, played in order.
    pub items: Vec<PlayItem>,
    /// Start over after the last item (music on hold).
    pub looped: bool,
}

impl Playback {
    /// One prompt.
    pub fn prompt(prompt: Arc<Prompt>) -> Playback {
        Playback::sequence([PlayItem::Prompt(prompt)])
    }

    /// A sequence of items.
    pub fn sequence(items: impl IntoIterator<Item = PlayItem>) -> Playback {
        Playback {
            items: items.into_iter().collect(),
            looped: false,
        }
    }

    /// A generated tone (ringback, busy, beep, a DTMF digit).
    pub fn tone(spec: ToneSpec) -> Playback {
        Playback::sequence([PlayItem::Tone(spec)])
    }

    /// The same playback, looped.
    pub fn looped(self) -> Playback {
        Playback {
            looped: true,
            ..self
        }
    }
}

/// Renders a [`Playback`] at one rate, one frame at a time. Allocation-free per frame.
#[derive(Debug)]
pub struct Player {
    playback: Playback,
    rate: SampleRate,
    index: usize,
    /// Samples of the current item already played.
    position: usize,
    tone: Option<ToneGenerator>,
    finished: bool,
}

impl Player {
    /// A player of `playback` at `rate`.
    pub fn new(playback: Playback, rate: SampleRate) -> Player {
        let mut player = Player {
            finished: playback.items.is_empty(),
            playback,
            rate,
            index: 0,
            position: 0,
            tone: None,
        };
        player.enter_item();
        player
    }

    /// Fills `out` with the next samples (silence past the end). Returns false once the
    /// playback has ended (never for a looped one).
    pub fn fill(&mut self, out: &mut [i16]) -> bool {
        let mut done = 0;
        // Bounded: each pass plays something or moves to the next item; an all-empty looped
        // playback stops after one round.
        let mut empty_items = 0;
        while done < out.len() && !self.finished {
            let wrote = self.fill_item(&mut out[done..]);
            done += wrote;
            if done < out.len() {
                empty_items = if wrote == 0 { empty_items + 1 } else { 0 };
                if empty_items > self.playback.items.len() {
                    self.finished = true;
                } else {
                    self.next_item();
                }
            }
        }
        out[done..].fill(0);
        if !self.finished && self.item_exhausted() {
            // Finish with the frame that holds the last samples, not one frame later.
            self.next_item();
        }
        !self.finished
    }

    /// Whether the playback has ended.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn fill_item(&mut self, out: &mut [i16]) -> usize {
        let per_ms = self.rate.hz() as usize / 1000;
        match self.playback.items.get(self.index) {
            Some(PlayItem::Prompt(prompt)) => {
                let pcm = prompt.samples(self.rate);
                let rest = pcm.get(self.position..).unwrap_or(&[]);
                let n = rest.len().min(out.len());
                out[..n].copy_from_slice(&rest[..n]);
                self.position += n;
                n
            }
            Some(PlayItem::Silence(ms)) => {
                let total = *ms as usize * per_ms;
                let n = total.saturating_sub(self.position).min(out.len());
                out[..n].fill(0);
                self.position += n;
                n
            }
            Some(PlayItem::Tone(_)) => match &mut self.tone {
                Some(tone) if !tone.is_finished() => {
                    let n = tone.fill(out);
                    self.position += n;
                    n
                }
                _ => 0,
            },
            None => 0,
        }
    }

    fn item_exhausted(&self) -> bool {
        let per_ms = self.rate.hz() as usize / 1000;
        match self.playback.items.get(self.index) {
            Some(PlayItem::Prompt(prompt)) => self.position >= prompt.samples(self.rate).len(),
            Some(PlayItem::Silence(ms)) => self.position >= *ms as usize * per_ms,
            Some(PlayItem::Tone(_)) => self.tone.as_ref().is_none_or(|t| t.is_finished()),
            None => true,
        }
    }

    fn next_item(&mut self) {
        self.index += 1;
        if self.index >= self.playback.items.len() {
            if !self.playback.looped {
                self.finished = true;
                return;
            }
            self.index = 0;
        }
        self.enter_item();
    }

    fn enter_item(&mut self) {
        self.position = 0;
        self.tone = match self.playback.items.get(self.index) {
            Some(PlayItem::Tone(spec)) => Some(ToneGenerator::new(*spec, self.rate.hz())),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests;
