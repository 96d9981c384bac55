/**
 * sRGB <-> linear light. Shading multiplies light, so relighting works in linear values; photos are sRGB bytes.
 * Both directions are table lookups so a megapixel relight stays a few milliseconds.
 */

/** Linear value (0..1) of each sRGB byte. */
export const SRGB_TO_LINEAR: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) {
    const c = i / 255;
    t[i] = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }
  return t;
})();

/** Highest linear value the encoder table covers; brighter values saturate to white. */
export const LINEAR_MAX = 4;
const STEPS = 8192;
const KNEE = 0.8;

/**
 * Linear (0..LINEAR_MAX) to sRGB byte, with a soft shoulder above 0.8 so pixels a relight pushes past white roll
 * off instead of clipping into flat patches (a brightened forehead keeps its texture).
 */
const LINEAR_TO_SRGB: Uint8Array = (() => {
  const t = new Uint8Array(STEPS + 1);
  for (let i = 0; i <= STEPS; i++) {
    const v = (i / STEPS) * LINEAR_MAX;
    const s = v <= KNEE ? v : KNEE + (1 - KNEE) * (1 - Math.exp(-(v - KNEE) / (1 - KNEE)));
    const c = s <= 0.0031308 ? s * 12.92 : 1.055 * s ** (1 / 2.4) - 0.055;
    t[i] = Math.max(0, Math.min(255, Math.round(c * 255)));
  }
  return t;
})();

export function linearToSrgbByte(v: number): number {
  const i = (v * STEPS) / LINEAR_MAX;
  return LINEAR_TO_SRGB[i <= 0 ? 0 : i >= STEPS ? STEPS : Math.round(i)] ?? 255;
}

export function luminance(r: number, g: number, b: number): number {
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
