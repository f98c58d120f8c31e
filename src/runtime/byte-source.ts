import { EinRuntimeError } from './errors.js';

/**
 * Random-access bytes the model loaders parse. Loaders only ever ask for the range they are about to
 * decode, so a file on disk (see node-file-io.ts), a browser `File`/`Blob` or an in-memory buffer can
 * all back it without the loaders knowing which.
 */
export interface ByteSource {
  /** Used in error messages: a file path or a descriptive label. */
  readonly name: string;
  readonly size: number;
  /** Fills `target` with the bytes at [offset, offset + target.length); rejects if out of range. */
  readInto(offset: number, target: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Sequential destination of bytes, used by the writers (safetensors, GGUF). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** A ByteSource over bytes already in memory (tests, or a browser that fetched the whole file). */
export function memoryByteSource(bytes: Uint8Array, name: string): ByteSource {
  return {
    name,
    size: bytes.length,
    async readInto(offset, target) {
      assertRangeInside(name, bytes.length, offset, target.length);
      target.set(bytes.subarray(offset, offset + target.length));
    },
    async close() {},
  };
}

/** A ByteSink that gathers everything written; `toBytes()` concatenates it. */
export class MemoryByteSink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];

  async write(bytes: Uint8Array): Promise<void> {
    // Copy: callers may reuse their buffer after the write resolves, as with a file.
    this.chunks.push(bytes.slice());
  }

  async close(): Promise<void> {}

  toBytes(): Uint8Array {
    const total = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }
}

export function assertRangeInside(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw new EinRuntimeError(
      `${name}: cannot read ${length} bytes at offset ${offset}, the source has ${size} bytes`,
    );
  }
}

const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * All formats here store little-endian numbers, and the loaders view file bytes directly as typed
 * arrays to avoid a second copy; that is only correct on a little-endian host (every browser and
 * Node platform Ein targets).
 */
export function assertLittleEndianHost(): void {
  if (!hostIsLittleEndian) {
    throw new EinRuntimeError('Ein model loading needs a little-endian host');
  }
}
