#!/usr/bin/env bash
# Renders every prompt listed in dialplans/PROMPTS.md into sounds/<lang>/<name>.wav with
# espeak-ng (fixed voice and speed, so the output is reproducible), resampled by sox to
# 8 kHz 16-bit mono, the format Centrala plays without resampling on G.711 calls.
# Also renders the media engine's own prompts (music on hold, position announcements).
# Usage: sounds/make_prompts.sh [name...]  (needs espeak-ng and sox: apt-get install espeak-ng sox)
# With names, only those prompts are rendered (and music on hold is left as it is).
set -euo pipefail
cd "$(dirname "$0")/.."

render() { # lang name text
  local lang=$1 name=$2 text=$3 voice out
  case $lang in en) voice=en-gb ;; pl) voice=pl ;; esac
  out=sounds/$lang/$name.wav
  mkdir -p "$(dirname "$out")"
  espeak-ng -v "$voice" -s 150 -p 50 -w /tmp/centrala-prompt.wav "$text"
  sox -V1 -D /tmp/centrala-prompt.wav -r 8000 -c 1 -b 16 "$out" norm -1
}

# Table rows look like: | `name` | English text | Polish text |
# Music on hold: a chime of three notes (C5 E5 G5) and a rest, looped by the player.
music_on_hold() {
  local notes=() n=0
  for freq in 523.25 659.25 783.99; do
    n=$((n + 1))
    sox -V1 -n -r 8000 -c 1 -b 16 "/tmp/centrala-note$n.wav" synth 0.6 sine "$freq" fade 0.02 0.6 0.1 vol 0.4
    notes+=("/tmp/centrala-note$n.wav")
  done
  sox -V1 -n -r 8000 -c 1 -b 16 /tmp/centrala-rest.wav trim 0 0.4
  mkdir -p sounds/moh
  sox -V1 "${notes[@]}" /tmp/centrala-rest.wav sounds/moh/default.wav
  rm -f "${notes[@]}" /tmp/centrala-rest.wav
}
[ $# -eq 0 ] && music_on_hold

grep -E '^\| `[^`]+` \|' dialplans/PROMPTS.md | while IFS='|' read -r _ name en pl _; do
  name=$(echo "$name" | tr -d '` ')
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qxF "$name"; then continue; fi
  en=$(echo "$en" | sed 's/^ *//; s/ *$//')
  pl=$(echo "$pl" | sed 's/^ *//; s/ *$//')
  [ "$en" != "—" ] && render en "$name" "$en"
  [ "$pl" != "—" ] && render pl "$name" "$pl"
done
rm -f /tmp/centrala-prompt.wav
echo "prompts in sounds/en: $(find sounds/en -name '*.wav' | wc -l), sounds/pl: $(find sounds/pl -name '*.wav' | wc -l)"
