//! RFC 4733 telephone-events (DTMF over RTP): payload codec, receiver and sender.
//!
//! Owns [`TelephoneEvent`] (the 4-byte payload of section 2.3), [`Rfc4733Receiver`], which
//! turns the packet stream of one RTP source into one [`ReceivedDigit`] per event, and
//! [`DigitSender`], which lists the packets to send for one digit. An event is identified
//! by its RTP timestamp (section 2.5.1.1: the same for every packet of the event), which is
//! how retransmitted end packets and repeated updates are absorbed. Pure; the RTP layer
//! strips headers and hands in `(timestamp, marker, payload)`; the shell sends and paces.

use std::collections::VecDeque;

use crate::media::dtmf::{DtmfDigit, DtmfError};

/// Update interval for a digit in progress (RFC 4733 section 2.5.1.2 suggests 50 ms).
pub const UPDATE_INTERVAL_MS: u32 = 50;
/// How many times the end packet is sent (section 2.5.1.4: three).
pub const END_REPEATS: u8 = 3;

/// The telephone-event payload (RFC 4733 section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-15 are DTMF digits).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parse the first event of a payload (later ones are redundant copies, section 2.5.1.5).
    pub fn parse(payload: &[u8]) -> Result<Self, DtmfError> {
        let b = payload
            .get(..4)
            .ok_or(DtmfError::ShortPayload(payload.len()))?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4-byte wire form (R bit zero).
    pub fn to_bytes(self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        let e = if self.end { 0x80 } else { 0 };
        [self.event, e | (self.volume & 0x3F), d[0], d[1]]
    }
}

/// A digit received over RTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedDigit {
    /// The key.
    pub digit: DtmfDigit,
    /// RTP timestamp of the event (its start).
    pub timestamp: u32,
    /// Duration in RTP timestamp units (the last duration seen).
    pub duration: u32,
    /// Whether an end packet was seen (false when cut off by a newer event or by
    /// [`Rfc4733Receiver::flush`]).
    pub ended: bool,
}

impl ReceivedDigit {
    /// Duration in milliseconds for an event clock of `clock_rate` Hz.
    pub fn duration_ms(&self, clock_rate: u32) -> u32 {
        (u64::from(self.duration) * 1000 / u64::from(clock_rate.max(1))) as u32
    }
}

/// Pending digits kept before the oldest is dropped (the shell drains after every packet).
const QUEUE_LIMIT: usize = 4;

/// Per-source receiver: one digit per event, whatever the retransmissions.
///
/// Feed every telephone-event packet to [`Self::handle_packet`], then drain
/// [`Self::poll_digit`]. A digit is reported when its end packet arrives, when a packet of a
/// newer event arrives first (the end was lost), or on [`Self::flush`].
#[derive(Debug, Clone)]
pub struct Rfc4733Receiver {
    /// Event in progress: (timestamp, digit, longest duration seen).
    current: Option<(u32, DtmfDigit, u32)>,
    /// The last reported event, to drop its late retransmissions and anything older.
    last_reported: Option<(u32, DtmfDigit)>,
    done: VecDeque<ReceivedDigit>,
}

impl Default for Rfc4733Receiver {
    fn default() -> Self {
        Self::new()
    }
}

impl Rfc4733Receiver {
    /// A receiver with no event in progress.
    pub fn new() -> Self {
        Rfc4733Receiver {
            current: None,
            last_reported: None,
            done: VecDeque::with_capacity(QUEUE_LIMIT),
        }
    }

    /// Handle the payload of one telephone-event packet with RTP timestamp `timestamp`.
    ///
    /// Non-DTMF events (codes above 15) are ignored.
    pub fn handle_packet(&mut self, timestamp: u32, payload: &[u8]) -> Result<(), DtmfError> {
        let ev = TelephoneEvent::parse(payload)?;
        let Some(digit) = DtmfDigit::from_event_code(ev.event) else {
            return Ok(());
        };
        if let Some((last_ts, last_digit)) = self.last_reported {
            let age = last_ts.wrapping_sub(timestamp) as i32;
            if (age == 0 && last_digit == digit) || age > 0 {
                return Ok(()); // retransmitted end, late update, or an older event
            }
        }
        let duration = u32::from(ev.duration);
        match self.current {
            Some((ts, d, dur)) if ts == timestamp && d == digit => {
                self.current = Some((ts, d, dur.max(duration)));
            }
            Some(_) => {
                self.report(false);
                self.current = Some((timestamp, digit, duration));
            }
            None => self.current = Some((timestamp, digit, duration)),
        }
        if ev.end {
            self.report(true);
        }
        Ok(())
    }

    /// The next completed digit, oldest first.
    pub fn poll_digit(&mut self) -> Option<ReceivedDigit> {
        self.done.pop_front()
    }

    /// Report the open event, if any (call when the stream stops or after a timeout).
    pub fn flush(&mut self) {
        self.report(false);
    }

    fn report(&mut self, ended: bool) {
        let Some((timestamp, digit, duration)) = self.current.take() else {
            return;
        };
        self.last_reported = Some((timestamp, digit));
        if self.done.len() == QUEUE_LIMIT {
            self.done.pop_front();
        }
        self.done.push_back(ReceivedDigit {
            digit,
            timestamp,
            duration,
            ended,
        });
    }
}

/// One packet [`DigitSender`] wants sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPacket {
    /// When to send it, in ms after the event start.
    pub send_at_ms: u32,
    /// RTP marker bit (set on the first packet only).
    pub marker: bool,
    /// RTP timestamp: the event start, the same for every packet.
    pub timestamp: u32,
    /// The payload.
    pub event: TelephoneEvent,
}

/// Iterator over the packets for one digit: a start packet with the marker, an update
/// every 50 ms, then the end packet three times; all with the event's start timestamp.
#[derive(Debug, Clone)]
pub struct DigitSender {
    digit: DtmfDigit,
    timestamp: u32,
    volume: u8,
    duration_ms: u32,
    clock_rate: u32,
    /// Packets emitted so far.
    sent: u32,
}

impl DigitSender {
    /// Packets for `digit` lasting `duration_ms`, starting at RTP `timestamp`, for an event
    /// clock of `clock_rate` Hz (8000 for `telephone-event/8000`), at `volume` -dBm0.
    pub fn new(
        digit: DtmfDigit,
        timestamp: u32,
        duration_ms: u32,
        clock_rate: u32,
        volume: u8,
    ) -> Self {
        DigitSender {
            digit,
            timestamp,
            volume: volume.min(63),
            duration_ms: duration_ms.max(1),
            clock_rate,
            sent: 0,
        }
    }

    fn units(&self, ms: u32) -> u16 {
        let units = u64::from(ms) * u64::from(self.clock_rate) / 1000;
        units.min(u64::from(u16::MAX)) as u16
    }

    /// Number of in-progress packets (start and updates) before the ends.
    fn progress_packets(&self) -> u32 {
        self.duration_ms.div_ceil(UPDATE_INTERVAL_MS)
    }
}

impl Iterator for DigitSender {
    type Item = EventPacket;

    fn next(&mut self) -> Option<EventPacket> {
        let progress = self.progress_packets();
        let i = self.sent;
        if i >= progress + u32::from(END_REPEATS) {
            return None;
        }
        self.sent += 1;
        let (send_at_ms, duration, end) = if i < progress {
            let at = i * UPDATE_INTERVAL_MS;
            (at, self.units(at), false)
        } else {
            (self.duration_ms, self.units(self.duration_ms), true)
        };
        Some(EventPacket {
            send_at_ms,
            marker: i == 0,
            timestamp: self.timestamp,
            event: TelephoneEvent {
                event: self.digit.event_code(),
                end,
                volume: self.volume,
                duration,
            },
        })
    }
}

#[cfg(test)]
mod tests;
