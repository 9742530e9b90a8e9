//! RTP (RFC 3550 section 5.1) and RTCP (section 6.4) header validation for the relay.
//!
//! Owns: the checks that decide whether a datagram is forwarded or counted as bad. Pure
//! functions over a borrowed buffer; no allocation. RTCP multiplexed on the RTP port
//! (RFC 5761) is not negotiated by Centrala, so such packets are treated as RTP.
//! Driven by: `media::relay::core`.

/// Why a datagram is not a valid RTP or RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Shorter than its fixed header, CSRC list or header extension.
    #[error("packet too short")]
    TooShort,
    /// The version field is not 2.
    #[error("not RTP version 2")]
    Version,
    /// The padding count is zero or runs into the header.
    #[error("bad padding")]
    Padding,
    /// An RTCP packet type outside 192-223 or a length field beyond the datagram.
    #[error("bad RTCP header")]
    Rtcp,
}

/// The fixed RTP header length.
pub const RTP_HEADER_LEN: usize = 12;

/// Checks an RTP packet and returns the length of its header (fixed part, CSRCs and header
/// extension), i.e. the payload offset.
pub fn validate_rtp(packet: &[u8]) -> Result<usize, PacketError> {
    let first = *packet.first().ok_or(PacketError::TooShort)?;
    if first >> 6 != 2 {
        return Err(PacketError::Version);
    }
    let csrc_count = usize::from(first & 0x0f);
    let mut header = RTP_HEADER_LEN + 4 * csrc_count;
    if packet.len() < header {
        return Err(PacketError::TooShort);
    }
    if first & 0x10 != 0 {
        // Header extension: 16-bit profile, 16-bit length in 32-bit words, then the words.
        let words = packet
            .get(header + 2..header + 4)
            .ok_or(PacketError::TooShort)?;
        header += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
        if packet.len() < header {
            return Err(PacketError::TooShort);
        }
    }
    if first & 0x20 != 0 {
        let padding = usize::from(packet[packet.len() - 1]);
        if padding == 0 || header + padding > packet.len() {
            return Err(PacketError::Padding);
        }
    }
    Ok(header)
}

/// Checks the first packet of an RTCP compound packet: version 2, a packet type in 192-223
/// and a length field that fits the datagram.
pub fn validate_rtcp(packet: &[u8]) -> Result<(), PacketError> {
    let header = packet.get(..8).ok_or(PacketError::TooShort)?;
    if header[0] >> 6 != 2 {
        return Err(PacketError::Version);
    }
    if !(192..=223).contains(&header[1]) {
        return Err(PacketError::Rtcp);
    }
    let length = (usize::from(u16::from_be_bytes([header[2], header[3]])) + 1) * 4;
    if length > packet.len() {
        return Err(PacketError::Rtcp);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PCMU packet: V=2, PT 0, seq 1, ts 160, SSRC 0x01020304, with `payload` bytes.
    pub(crate) fn rtp(payload: usize) -> Vec<u8> {
        let mut p = vec![0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4];
        p.resize(RTP_HEADER_LEN + payload, 0xff);
        p
    }

    #[test]
    fn plain_rtp_is_valid() {
        assert_eq!(validate_rtp(&rtp(160)), Ok(12));
        assert_eq!(validate_rtp(&rtp(0)), Ok(12));
    }

    #[test]
    fn short_or_wrong_version_is_rejected() {
        assert_eq!(validate_rtp(&[]), Err(PacketError::TooShort));
        assert_eq!(validate_rtp(&rtp(0)[..11]), Err(PacketError::TooShort));
        let mut v1 = rtp(20);
        v1[0] = 0x40;
        assert_eq!(validate_rtp(&v1), Err(PacketError::Version));
    }

    #[test]
    fn csrcs_and_extension_are_counted() {
        let mut p = rtp(8);
        p[0] = 0x82; // two CSRCs: needs 20 bytes
        assert_eq!(validate_rtp(&p), Ok(20));
        p.truncate(19);
        assert_eq!(validate_rtp(&p), Err(PacketError::TooShort));

        let mut ext = rtp(0);
        ext[0] = 0x90;
        ext.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]);
        assert_eq!(validate_rtp(&ext), Ok(20));
        ext.truncate(18);
        assert_eq!(validate_rtp(&ext), Err(PacketError::TooShort));
    }

    #[test]
    fn padding_must_fit() {
        let mut p = rtp(4);
        p[0] = 0xa0;
        p[15] = 4;
        assert_eq!(validate_rtp(&p), Ok(12));
        p[15] = 5;
        assert_eq!(validate_rtp(&p), Err(PacketError::Padding));
        p[15] = 0;
        assert_eq!(validate_rtp(&p), Err(PacketError::Padding));
    }

    #[test]
    fn rtcp_receiver_report_is_valid_and_garbage_is_not() {
        let rr = [0x80, 201, 0x00, 0x01, 1, 2, 3, 4];
        assert_eq!(validate_rtcp(&rr), Ok(()));
        assert_eq!(validate_rtcp(&rr[..7]), Err(PacketError::TooShort));
        assert_eq!(
            validate_rtcp(&[0x80, 0, 0, 1, 1, 2, 3, 4]),
            Err(PacketError::Rtcp)
        );
        assert_eq!(
            validate_rtcp(&[0x80, 200, 0, 6, 1, 2, 3, 4]),
            Err(PacketError::Rtcp)
        );
        assert_eq!(
            validate_rtcp(&[0x00, 201, 0, 1, 1, 2, 3, 4]),
            Err(PacketError::Version)
        );
    }
}
