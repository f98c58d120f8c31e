import { EinRuntimeError } from './errors.js';

/** Number of elements of a row-major shape (the empty shape is a scalar: 1 element). */
export function shapeElementCount(shape: readonly number[]): number {
  return shape.reduce((count, extent) => count * extent, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws unless a tensor read from `sourceName` has exactly the shape its consumer expects. */
export function assertShape(
  sourceName: string,
  tensorName: string,
  actual: readonly number[],
  expected: readonly number[],
): void {
  const same = actual.length === expected.length && actual.every((extent, i) => extent === expected[i]);
  if (!same) {
    throw new EinRuntimeError(
      `${sourceName}: tensor '${tensorName}' has shape ${formatShape(actual)}, expected ${formatShape(expected)}`,
    );
  }
}
