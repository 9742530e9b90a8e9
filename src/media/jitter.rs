//! Adaptive, bounded jitter buffer for one incoming RTP stream.
//!
//! Owns the packets of one source between arrival and playout, keyed by RTP sequence number
//! (16-bit, wrapping) in a fixed ring of slots whose payload buffers are reused. It
//! reorders, drops duplicates and packets whose turn has passed, reports a lost packet as
//! [`Playout::Missing`] so the decoder can conceal it, and adapts its target depth between
//! `min_depth` and `max_depth` frames from the RFC 3550 interarrival-jitter estimate.
//! Sans-IO: the media task calls [`JitterBuffer::push`] with the arrival time for each
//! packet and [`JitterBuffer::pop`] once per frame period (every 20 ms).

use std::time::Instant;

/// A transit-time change larger than this is a new timestamp base, not jitter.
const SOURCE_JUMP_SECS: f64 = 2.0;

/// Largest payload kept (larger packets are refused; no RTP audio frame comes close).
pub const MAX_PAYLOAD: usize = 1500;

/// Sizing and timing of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate of the stream in Hz (8000 for G.711, 48000 for Opus).
    pub clock_rate: u32,
    /// RTP timestamp units per frame (160 for 20 ms at 8 kHz).
    pub frame_ts: u32,
    /// Smallest target depth in frames.
    pub min_depth: u16,
    /// Largest target depth in frames.
    pub max_depth: u16,
    /// Ring slots (rounded up to a power of two, at least `2 * max_depth`): bounds memory
    /// to `capacity * MAX_PAYLOAD` bytes.
    pub capacity: u16,
}

impl JitterConfig {
    /// 20 ms frames at `clock_rate`, depth 2-10 frames (40-200 ms), 64 slots.
    pub fn voice(clock_rate: u32) -> Self {
        JitterConfig {
            clock_rate,
            frame_ts: clock_rate / 50,
            min_depth: 2,
            max_depth: 10,
            capacity: 64,
        }
    }
}

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Accepted,
    /// Already stored (or already played) under this sequence number; dropped.
    Duplicate,
    /// Its playout time has passed; dropped.
    TooLate,
    /// Larger than [`MAX_PAYLOAD`]; dropped.
    TooLarge,
}

/// What to play for the next frame period.
#[derive(Debug, PartialEq, Eq)]
pub enum Playout<'a> {
    /// Still filling up to the target depth (play silence or comfort noise).
    Buffering,
    /// The next packet.
    Frame {
        /// Its RTP sequence number.
        seq: u16,
        /// Its RTP timestamp.
        timestamp: u32,
        /// Its payload.
        payload: &'a [u8],
    },
    /// The next packet is missing: conceal one frame.
    Missing {
        /// The sequence number that was expected.
        seq: u16,
    },
}

/// Counters for RTCP reports and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted.
    pub accepted: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Frames reported missing with later packets present (loss).
    pub lost: u64,
    /// Frames reported missing because the buffer ran dry (underrun).
    pub underruns: u64,
    /// Frames dropped to shrink the buffer or to make room.
    pub dropped: u64,
    /// Restarts on a sequence number far outside the window.
    pub resyncs: u64,
}

/// One ring slot; its payload buffer is reused.
#[derive(Debug, Clone, Default)]
struct Slot {
    present: bool,
    seq: u16,
    timestamp: u32,
    payload: Vec<u8>,
}

/// The jitter buffer. See the module docs for the calling pattern.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    slots: Vec<Slot>,
    /// Oldest sequence number still wanted (next to play once playing).
    head: Option<u16>,
    /// Highest sequence number stored since the head was set.
    highest: u16,
    playing: bool,
    consecutive_underruns: u16,
    /// RFC 3550 interarrival jitter, in timestamp units.
    jitter: f64,
    /// Arrival (timestamp units since `epoch`) and RTP timestamp of the previous packet.
    last_transit: Option<(f64, u32)>,
    epoch: Option<Instant>,
    target: u16,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(cfg: JitterConfig) -> Self {
        let min_depth = cfg.min_depth.max(1);
        let max_depth = cfg.max_depth.max(min_depth);
        let capacity = cfg
            .capacity
            .max(max_depth.saturating_mul(2))
            .next_power_of_two();
        let cfg = JitterConfig {
            min_depth,
            max_depth,
            capacity: capacity.min(1 << 14),
            frame_ts: cfg.frame_ts.max(1),
            ..cfg
        };
        JitterBuffer {
            slots: vec![Slot::default(); usize::from(cfg.capacity)],
            head: None,
            highest: 0,
            playing: false,
            consecutive_underruns: 0,
            jitter: 0.0,
            last_transit: None,
            epoch: None,
            target: cfg.min_depth,
            stats: JitterStats::default(),
            cfg,
        }
    }

    /// Store a packet that arrived at `now`.
    pub fn push(&mut self, now: Instant, seq: u16, timestamp: u32, payload: &[u8]) -> PushOutcome {
        if payload.len() > MAX_PAYLOAD {
            return PushOutcome::TooLarge;
        }
        let Some(head) = self.head else {
            self.head = Some(seq);
            self.highest = seq;
            self.store(seq, timestamp, payload);
            self.update_jitter(now, timestamp);
            return PushOutcome::Accepted;
        };
        let offset = seq.wrapping_sub(head) as i16;
        if -i32::from(offset) >= i32::from(self.cfg.capacity) {
            // Far behind everything we hold: a new stream (or a restarted sender).
            self.resync(seq);
        } else if offset < 0 {
            if self.playing {
                self.stats.late += 1;
                return PushOutcome::TooLate;
            }
            // Still buffering: an earlier packet extends the window backwards if it fits.
            if i32::from(self.highest.wrapping_sub(seq)) >= i32::from(self.cfg.capacity) {
                self.stats.late += 1;
                return PushOutcome::TooLate;
            }
            self.head = Some(seq);
        } else if offset as u16 >= self.cfg.capacity {
            if seq.wrapping_sub(self.highest) >= self.cfg.capacity {
                // A gap wider than the whole window: nothing worth concealing, start over.
                self.resync(seq);
            } else {
                self.make_room(seq);
            }
        }
        let slot = &self.slots[self.index(seq)];
        if slot.present && slot.seq == seq {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        if (seq.wrapping_sub(self.highest) as i16) > 0 {
            self.highest = seq;
        }
        self.store(seq, timestamp, payload);
        self.update_jitter(now, timestamp);
        PushOutcome::Accepted
    }

    /// What to play for the next 20 ms; call once per frame period.
    pub fn pop(&mut self) -> Playout<'_> {
        let Some(head) = self.head else {
            return Playout::Buffering;
        };
        if !self.playing {
            if self.span() < self.target {
                return Playout::Buffering;
            }
            self.playing = true;
        }
        // Shrink: more than two frames over target costs latency; skip the oldest frame.
        if self.span() > self.target + 2 && self.present(head) {
            let idx = self.index(head);
            self.slots[idx].present = false;
            self.stats.dropped += 1;
            self.head = Some(head.wrapping_add(1));
        }
        let head = self.head.unwrap_or(head);
        if self.present(head) {
            self.consecutive_underruns = 0;
            self.head = Some(head.wrapping_add(1));
            let idx = self.index(head);
            let slot = &mut self.slots[idx];
            slot.present = false;
            return Playout::Frame {
                seq: slot.seq,
                timestamp: slot.timestamp,
                payload: &slot.payload,
            };
        }
        if self.span() > 1 {
            // A later packet exists: this one is lost (or later than we can wait).
            self.consecutive_underruns = 0;
            self.stats.lost += 1;
            self.head = Some(head.wrapping_add(1));
            return Playout::Missing { seq: head };
        }
        // Empty: conceal without advancing (the stream stretches by a frame, which is how
        // latency grows to absorb a late packet); after max_depth of these, re-buffer.
        self.stats.underruns += 1;
        self.consecutive_underruns += 1;
        if self.consecutive_underruns > self.cfg.max_depth {
            self.playing = false;
            self.consecutive_underruns = 0;
            return Playout::Buffering;
        }
        Playout::Missing { seq: head }
    }

    /// Current target depth in frames.
    pub fn target_depth(&self) -> u16 {
        self.target
    }

    /// Frames between the next to play and the newest stored, inclusive (0 when empty).
    pub fn depth(&self) -> u16 {
        self.span()
    }

    /// RFC 3550 interarrival jitter estimate, in RTP timestamp units.
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    fn index(&self, seq: u16) -> usize {
        usize::from(seq & (self.cfg.capacity - 1))
    }

    fn present(&self, seq: u16) -> bool {
        let slot = &self.slots[self.index(seq)];
        slot.present && slot.seq == seq
    }

    fn span(&self) -> u16 {
        match self.head {
            Some(head) => {
                let d = self.highest.wrapping_sub(head) as i16;
                if d < 0 { 0 } else { d as u16 + 1 }
            }
            None => 0,
        }
    }

    fn store(&mut self, seq: u16, timestamp: u32, payload: &[u8]) {
        let idx = self.index(seq);
        let slot = &mut self.slots[idx];
        slot.present = true;
        slot.seq = seq;
        slot.timestamp = timestamp;
        slot.payload.clear();
        slot.payload.extend_from_slice(payload);
        self.stats.accepted += 1;
    }

    /// Drop everything and restart the window at `seq`, buffering again.
    fn resync(&mut self, seq: u16) {
        for slot in &mut self.slots {
            if slot.present {
                slot.present = false;
                self.stats.dropped += 1;
            }
        }
        self.head = Some(seq);
        self.highest = seq;
        self.playing = false;
        self.consecutive_underruns = 0;
        self.stats.resyncs += 1;
    }

    /// Slide the window so that `seq` fits, dropping what falls out of it.
    fn make_room(&mut self, seq: u16) {
        let new_head = seq.wrapping_sub(self.cfg.capacity - 1);
        let Some(head) = self.head else { return };
        let shift = new_head.wrapping_sub(head);
        for k in 0..shift.min(self.cfg.capacity) {
            let s = head.wrapping_add(k);
            if self.present(s) {
                let idx = self.index(s);
                self.slots[idx].present = false;
                self.stats.dropped += 1;
            }
        }
        self.head = Some(new_head);
        if (self.highest.wrapping_sub(new_head) as i16) < 0 {
            self.highest = new_head;
        }
    }

    fn update_jitter(&mut self, now: Instant, timestamp: u32) {
        let epoch = *self.epoch.get_or_insert(now);
        let arrival =
            now.saturating_duration_since(epoch).as_secs_f64() * f64::from(self.cfg.clock_rate);
        if let Some((prev_arrival, prev_ts)) = self.last_transit {
            let ts_delta = f64::from(timestamp.wrapping_sub(prev_ts) as i32);
            let d = (arrival - prev_arrival) - ts_delta;
            // A jump of seconds is a new timestamp base (another source, a transfer), not
            // network jitter: it restarts the transit reference instead of poisoning the mean.
            if d.abs() <= f64::from(self.cfg.clock_rate) * SOURCE_JUMP_SECS {
                self.jitter += (d.abs() - self.jitter) / 16.0;
            }
        }
        self.last_transit = Some((arrival, timestamp));
        // Cover about three jitter deviations plus the frame being decoded.
        let frames = (3.0 * self.jitter / f64::from(self.cfg.frame_ts)).ceil() + 1.0;
        let frames = frames.min(f64::from(self.cfg.max_depth)) as u16;
        self.target = frames.clamp(self.cfg.min_depth, self.cfg.max_depth);
    }
}

#[cfg(test)]
mod tests;
