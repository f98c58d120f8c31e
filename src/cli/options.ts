// Parsers for repeated NAME=VALUE options and byte sizes, shared by the commands.
import { InvalidArgumentError } from 'commander';
import { EinError } from '../frontend/diagnostics.js';

export function collectPair(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1)
    throw new InvalidArgumentError(`expected NAME=VALUE, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function parseRankValues(pairs: Record<string, string> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, text] of Object.entries(pairs)) {
    const v = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < 1)
      // Thrown from inside the command's action, where commander no longer prints its own errors.
      throw new EinError({ message: `--rank ${name}=${text}: a rank is a positive whole number` });
    out[name] = v;
  }
  return out;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1e3,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1e6,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1e9,
};

/** `65536`, `48KiB`, `1.5GiB`, `2GB`. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new InvalidArgumentError(`'${text}' is not a size in bytes (like 65536, 48KiB, 1GiB)`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError(`'${text}' must be at least one byte`);
  return bytes;
}

export function parseInteger(text: string): number {
  const v = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(v))
    throw new InvalidArgumentError(`'${text}' is not a whole number`);
  return v;
}
