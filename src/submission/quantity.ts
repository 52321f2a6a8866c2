// Kubernetes resource quantities ("125m", "0.5", "256Mi", "1e3") as plain numbers.

const SUFFIXES: Readonly<Record<string, number>> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1,
  k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/;

/** The quantity's value in base units (cores, bytes), or undefined when it is not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const [, mantissa, exponent, suffix] = m;
  if (exponent !== undefined && suffix !== undefined) return undefined;
  const scale = SUFFIXES[suffix ?? ''] ?? 1;
  return Number(mantissa) * 10 ** Number(exponent ?? 0) * scale;
}

export function formatQuantity(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
