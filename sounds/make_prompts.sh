#!/bin/sh
# Makes Centrala's small prompt set: 8 kHz, 16-bit, mono WAV in sounds/en/ and sounds/pl/.
#
# Needs espeak-ng and sox. Reproducible: fixed voices, speed, pitch and amplitude, no dither,
# and the RIFF header carries no timestamps, so the same tools give the same bytes.
# Usage: sounds/make_prompts.sh   (from anywhere; writes next to this script)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
speed=150
pitch=50
amplitude=120

say() { # voice dir name text
    mkdir -p "$here/$2"
    tmp="$here/$2/.$3.tmp.wav"
    espeak-ng -v "$1" -s "$speed" -p "$pitch" -a "$amplitude" -w "$tmp" "$4"
    # 8 kHz mono 16-bit; -D: no dither, so the output is deterministic; norm to -3 dBFS.
    sox -D "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$here/$2/$3.wav" norm -3
    rm -f "$tmp"
}

en() { say en-us en "$1" "$2"; }
pl() { say pl pl "$1" "$2"; }

en welcome "Welcome to Centrala."
en please-hold "Please hold. Your call is important to us."
en goodbye "Thank you for calling. Goodbye."
en invalid "Sorry, that is not a valid choice."
pl welcome "Witamy w Centrali."
pl please-hold "Prosimy czekać. Twoje połączenie jest dla nas ważne."
pl goodbye "Dziękujemy za telefon. Do widzenia."
pl invalid "Niestety, to nie jest prawidłowy wybór."

set -- zero one two three four five six seven eight nine
for digit in 0 1 2 3 4 5 6 7 8 9; do
    en "digit-$digit" "$1"
    shift
done
set -- zero jeden dwa trzy cztery pięć sześć siedem osiem dziewięć
for digit in 0 1 2 3 4 5 6 7 8 9; do
    pl "digit-$digit" "$1"
    shift
done
