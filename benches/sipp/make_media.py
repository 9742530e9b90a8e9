#!/usr/bin/env python3
"""Media files of the media benchmark (scripts/bench_media.sh), generated rather than committed.

usage: make_media.py OUT_DIR [--opus-seconds 45]

Writes into OUT_DIR:
  media_pcmu.ulaw   1 s of a 1 kHz tone as raw G.711 u-law (8000 bytes), for SIPp's
                    rtp_stream (looped: 50 packets of 160 bytes per second).
  media_opus.pcap   --opus-seconds of a 1 kHz tone encoded with the system libopus (the library
                    Centrala links; loaded with ctypes), 48 kHz mono, one 20 ms frame per RTP
                    packet, payload type 96, for SIPp's play_pcap_audio. Ethernet/IPv4/UDP
                    framing; SIPp replaces the addresses and ports with the call's.
  en/bench_prompt.wav  1 s of a 440 Hz tone, 8 kHz 16-bit mono PCM: the IVR mode's prompt.

Standard library only (plus libopus.so.0, which Centrala's build needs anyway).
"""
import argparse
import ctypes
import ctypes.util
import math
import os
import random
import struct
import wave

RATE_G711 = 8000
RATE_OPUS = 48000
FRAME_MS = 20
OPUS_PT = 96
OPUS_APPLICATION_VOIP = 2048


def tone(freq, rate, seconds, level=0.3):
    n = int(rate * seconds)
    return [int(level * 32767 * math.sin(2 * math.pi * freq * i / rate)) for i in range(n)]


def ulaw(sample):
    """G.711 u-law of one 16-bit linear sample (ITU-T G.711, bias 0x84, clip 32635)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = 7
    while exponent > 0 and not magnitude & (0x4000 >> (7 - exponent)):
        exponent -= 1
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def write_ulaw(path):
    with open(path, "wb") as out:
        out.write(bytes(ulaw(s) for s in tone(1000, RATE_G711, 1.0)))


def write_prompt(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE_G711)
        w.writeframes(struct.pack(f"<{RATE_G711}h", *tone(440, RATE_G711, 1.0)))


def opus_encoder():
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    lib = ctypes.CDLL(name)
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_int32]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    err = ctypes.c_int(0)
    enc = lib.opus_encoder_create(RATE_OPUS, 1, OPUS_APPLICATION_VOIP, ctypes.byref(err))
    if err.value != 0 or not enc:
        raise SystemExit(f"opus_encoder_create failed: {err.value}")
    return lib, enc


def frame(rtp):
    """An Ethernet/IPv4/UDP frame around one RTP packet (loopback addresses, fixed ports)."""
    udp = struct.pack("!HHHH", 40000, 20000, 8 + len(rtp), 0) + rtp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    total = sum(struct.unpack("!10H", ip))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    ip = ip[:10] + struct.pack("!H", ~total & 0xFFFF) + ip[12:]
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def write_opus_pcap(path, seconds):
    lib, enc = opus_encoder()
    per_frame = RATE_OPUS * FRAME_MS // 1000
    pcm = tone(1000, RATE_OPUS, seconds)
    out_buf = ctypes.create_string_buffer(1500)
    ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
    packets = 0
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
        for start in range(0, len(pcm) - per_frame + 1, per_frame):
            samples = (ctypes.c_int16 * per_frame)(*pcm[start:start + per_frame])
            n = lib.opus_encode(enc, samples, per_frame, out_buf, len(out_buf))
            if n < 0:
                raise SystemExit(f"opus_encode failed: {n}")
            marker = 0x80 if packets == 0 else 0
            rtp = struct.pack("!BBHII", 0x80, marker | OPUS_PT, seq & 0xFFFF, ts & 0xFFFFFFFF,
                              ssrc) + out_buf.raw[:n]
            data = frame(rtp)
            t_us = packets * FRAME_MS * 1000
            out.write(struct.pack("<IIII", t_us // 1_000_000, t_us % 1_000_000, len(data),
                                  len(data)))
            out.write(data)
            packets += 1
            seq += 1
            ts += per_frame
    lib.opus_encoder_destroy(enc)
    return packets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--opus-seconds", type=float, default=45.0)
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    write_ulaw(os.path.join(args.out_dir, "media_pcmu.ulaw"))
    write_prompt(os.path.join(args.out_dir, "en", "bench_prompt.wav"))
    packets = write_opus_pcap(os.path.join(args.out_dir, "media_opus.pcap"), args.opus_seconds)
    print(f"media files in {args.out_dir}: u-law tone, 1 s prompt, Opus pcap of {packets} packets")


if __name__ == "__main__":
    main()
