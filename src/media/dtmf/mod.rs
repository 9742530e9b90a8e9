//! DTMF: the digit type shared by the three ways a digit reaches Centrala.
//!
//! Owns [`DtmfDigit`] (the sixteen keys, their RFC 4733 event codes and their ITU-T Q.23
//! frequency pairs) and the per-path submodules: [`rfc4733`] (RTP telephone-events),
//! [`inband`] (Goertzel detection in decoded 8 kHz audio) and [`info`] (SIP INFO bodies).
//! Pure code: no sockets, clocks or tasks; the per-call media task feeds it.

pub mod inband;
pub mod info;
pub mod rfc4733;

use thiserror::Error;

/// One DTMF key (RFC 4733 section 3.2 events 0-15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfDigit {
    /// Key `0`.
    D0,
    /// Key `1`.
    D1,
    /// Key `2`.
    D2,
    /// Key `3`.
    D3,
    /// Key `4`.
    D4,
    /// Key `5`.
    D5,
    /// Key `6`.
    D6,
    /// Key `7`.
    D7,
    /// Key `8`.
    D8,
    /// Key `9`.
    D9,
    /// Key `*` (event 10).
    Star,
    /// Key `#` (event 11).
    Pound,
    /// Key `A` (event 12).
    A,
    /// Key `B` (event 13).
    B,
    /// Key `C` (event 14).
    C,
    /// Key `D` (event 15).
    D,
}

/// Q.23 low-group (row) frequencies in Hz.
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Q.23 high-group (column) frequencies in Hz.
pub const COL_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// Keypad layout: `KEYPAD[row][col]`.
const KEYPAD: [[DtmfDigit; 4]; 4] = [
    [DtmfDigit::D1, DtmfDigit::D2, DtmfDigit::D3, DtmfDigit::A],
    [DtmfDigit::D4, DtmfDigit::D5, DtmfDigit::D6, DtmfDigit::B],
    [DtmfDigit::D7, DtmfDigit::D8, DtmfDigit::D9, DtmfDigit::C],
    [
        DtmfDigit::Star,
        DtmfDigit::D0,
        DtmfDigit::Pound,
        DtmfDigit::D,
    ],
];

impl DtmfDigit {
    /// All sixteen digits in event-code order.
    pub const ALL: [DtmfDigit; 16] = [
        DtmfDigit::D0,
        DtmfDigit::D1,
        DtmfDigit::D2,
        DtmfDigit::D3,
        DtmfDigit::D4,
        DtmfDigit::D5,
        DtmfDigit::D6,
        DtmfDigit::D7,
        DtmfDigit::D8,
        DtmfDigit::D9,
        DtmfDigit::Star,
        DtmfDigit::Pound,
        DtmfDigit::A,
        DtmfDigit::B,
        DtmfDigit::C,
        DtmfDigit::D,
    ];

    /// The RFC 4733 event code (0-15).
    pub fn event_code(self) -> u8 {
        self as u8
    }

    /// The digit for an RFC 4733 event code; `None` for non-DTMF events (16 and up).
    pub fn from_event_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The key's character: `0`-`9`, `*`, `#`, `A`-`D`.
    pub fn as_char(self) -> char {
        b"0123456789*#ABCD"[self as usize] as char
    }

    /// The digit for a key character (case-insensitive for `A`-`D`).
    pub fn from_char(c: char) -> Option<Self> {
        let code = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            _ => return None,
        };
        Self::from_event_code(code)
    }

    /// The (row, column) frequencies in Hz (ITU-T Q.23).
    pub fn frequencies(self) -> (f32, f32) {
        let (row, col) = self.position();
        (ROW_HZ[row], COL_HZ[col])
    }

    /// The digit at keypad row `row` and column `col` (both 0-3).
    pub fn from_position(row: usize, col: usize) -> Option<Self> {
        KEYPAD.get(row).and_then(|r| r.get(col)).copied()
    }

    fn position(self) -> (usize, usize) {
        for (r, row) in KEYPAD.iter().enumerate() {
            for (c, d) in row.iter().enumerate() {
                if *d == self {
                    return (r, c);
                }
            }
        }
        // Every digit appears in KEYPAD exactly once (checked by a unit test).
        (3, 3)
    }
}

/// Errors from parsing DTMF carried in RTP or SIP INFO.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtmfError {
    /// The telephone-event payload is shorter than 4 bytes.
    #[error("telephone-event payload too short: {0} bytes")]
    ShortPayload(usize),
    /// The INFO body does not name a DTMF key.
    #[error("INFO body carries no DTMF signal")]
    NoSignal,
    /// The INFO body names something that is not a DTMF key.
    #[error("invalid DTMF signal {0:?}")]
    InvalidSignal(String),
    /// The INFO body has a malformed `Duration`.
    #[error("invalid DTMF duration {0:?}")]
    InvalidDuration(String),
    /// The INFO Content-Type is not a DTMF type.
    #[error("unsupported DTMF content type {0:?}")]
    UnsupportedContentType(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_chars_and_positions_round_trip() {
        for (i, d) in DtmfDigit::ALL.iter().enumerate() {
            assert_eq!(usize::from(d.event_code()), i);
            assert_eq!(DtmfDigit::from_event_code(d.event_code()), Some(*d));
            assert_eq!(DtmfDigit::from_char(d.as_char()), Some(*d));
            let (r, c) = d.position();
            assert_eq!(DtmfDigit::from_position(r, c), Some(*d));
        }
        assert_eq!(DtmfDigit::from_event_code(16), None);
        assert_eq!(DtmfDigit::from_char('e'), None);
        assert_eq!(DtmfDigit::from_char('b'), Some(DtmfDigit::B));
    }

    #[test]
    fn q23_frequencies() {
        assert_eq!(DtmfDigit::D1.frequencies(), (697.0, 1209.0));
        assert_eq!(DtmfDigit::D0.frequencies(), (941.0, 1336.0));
        assert_eq!(DtmfDigit::Pound.frequencies(), (941.0, 1477.0));
        assert_eq!(DtmfDigit::A.frequencies(), (697.0, 1633.0));
    }
}
