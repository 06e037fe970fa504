// A deterministic speech-like test signal at 16 kHz (no recordings in the repo): a
// glottal pulse train with vibrato through three vowel-formant resonators, shaped into
// syllables, between stretches of faint noise. Used to drive the streaming VAD tests.
const RATE = 16000;

// Two-pole resonator (a formant) at f Hz with bandwidth bw Hz.
function resonator(f, bw) {
  const r = Math.exp((-Math.PI * bw) / RATE);
  const a1 = 2 * r * Math.cos((2 * Math.PI * f) / RATE), a2 = -r * r;
  let y1 = 0, y2 = 0;
  return (x) => {
    const y = (1 - r) * x + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    return y;
  };
}

// seconds of audio: [0, silence) faint noise, then speech until `silence + speech`, then noise.
export function speechLikeSignal({ seconds = 1.5, silence = 0.3, speech = 0.9, seed = 7 } = {}) {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const noise = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
  // Vowels alternate per syllable: (F1, F2, F3).
  const vowels = [[730, 1090, 2440], [270, 2290, 3010], [570, 840, 2410], [530, 1840, 2480]];
  let formants = null, vowel = -1, phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    let x = 0.002 * noise();
    const st = t - silence;
    if (st >= 0 && st < speech) {
      const syllable = Math.floor(st * 4);  // four syllables a second
      if (syllable !== vowel) {
        vowel = syllable;
        formants = vowels[syllable % vowels.length].map((f) => resonator(f, 80 + f / 20));
      }
      const f0 = 120 + 15 * Math.sin(2 * Math.PI * 5 * st) + 10 * Math.sin(2 * Math.PI * 0.7 * st);
      phase += f0 / RATE;
      const pulse = phase >= 1 ? 1 : 0;
      if (phase >= 1) phase -= 1;
      const excitation = pulse + 0.02 * noise();
      const env = Math.sin(Math.PI * ((st * 4) % 1)) ** 0.5;  // syllable envelope
      x += env * formants.reduce((acc, f) => acc + f(excitation), 0) * 3;
    }
    out[i] = x;
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  for (let i = 0; i < n; i++) out[i] *= 0.5 / peak;
  return out;
}
