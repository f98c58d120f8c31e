// Limits checked before anything is allocated; each names the flag that raises it.
export interface Limits {
  /** Largest tensor, in bytes. */
  readonly maxTensorBytes: number;
}

export const DEFAULT_LIMITS: Limits = { maxTensorBytes: 1024 ** 3 };

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}
