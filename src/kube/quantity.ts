// CPU quantities as the API server writes them ("125m", "0.5", "2", "250000u") in millicores.
// Kept here, beside the cluster client, so kube/ depends on no pure layer above it.

const CPU = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(n|u|m|k|M|G)?$/;
const SCALE: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9 };

/** `125m` → 125, `0.5` → 500, `2` → 2000; undefined when it is not a CPU quantity. */
export function cpuMilli(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const m = CPU.exec(value.trim());
  if (!m) return undefined;
  const [, mantissa, exponent, suffix] = m;
  if (exponent !== undefined && suffix !== undefined) return undefined;
  const cores = Number(mantissa) * 10 ** Number(exponent ?? 0) * (SCALE[suffix ?? ''] ?? 1);
  return Math.round(cores * 1000);
}
