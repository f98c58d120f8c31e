import type { ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';

const defaultChunkBytes = 1 << 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads little-endian fields one after another from a ByteSource, fetching it in chunks, for headers
 * whose length is only known while parsing them (GGUF metadata, safetensors' JSON). Every read names
 * what it is reading so a truncated file yields "truncated while reading <what>".
 */
export class SequentialReader {
  private chunk = new Uint8Array(0);
  private chunkStart = 0;
  private view = new DataView(this.chunk.buffer);
  position: number;

  constructor(
    readonly source: ByteSource,
    start = 0,
  ) {
    this.position = start;
  }

  get remaining(): number {
    return this.source.size - this.position;
  }

  async u8(what: string): Promise<number> {
    const at = await this.advance(1, what);
    return this.view.getUint8(at);
  }

  async i8(what: string): Promise<number> {
    const at = await this.advance(1, what);
    return this.view.getInt8(at);
  }

  async u16(what: string): Promise<number> {
    const at = await this.advance(2, what);
    return this.view.getUint16(at, true);
  }

  async i16(what: string): Promise<number> {
    const at = await this.advance(2, what);
    return this.view.getInt16(at, true);
  }

  async u32(what: string): Promise<number> {
    const at = await this.advance(4, what);
    return this.view.getUint32(at, true);
  }

  async i32(what: string): Promise<number> {
    const at = await this.advance(4, what);
    return this.view.getInt32(at, true);
  }

  async u64(what: string): Promise<bigint> {
    const at = await this.advance(8, what);
    return this.view.getBigUint64(at, true);
  }

  async i64(what: string): Promise<bigint> {
    const at = await this.advance(8, what);
    return this.view.getBigInt64(at, true);
  }

  async f32(what: string): Promise<number> {
    const at = await this.advance(4, what);
    return this.view.getFloat32(at, true);
  }

  async f64(what: string): Promise<number> {
    const at = await this.advance(8, what);
    return this.view.getFloat64(at, true);
  }

  /** A count or length stored as u64, checked to fit a JS number before anything is allocated. */
  async u64Count(what: string): Promise<number> {
    const value = await this.u64(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw this.corrupt(`${what} is ${value}, which cannot be right`);
    }
    return Number(value);
  }

  async bytes(length: number, what: string): Promise<Uint8Array> {
    this.requireRemaining(length, what);
    if (length > this.chunk.length) {
      const bytes = new Uint8Array(length);
      await this.source.readInto(this.position, bytes);
      this.position += length;
      return bytes;
    }
    const at = await this.advance(length, what);
    return this.chunk.slice(at, at + length);
  }

  async utf8(length: number, what: string): Promise<string> {
    const bytes = await this.bytes(length, what);
    try {
      return utf8.decode(bytes);
    } catch {
      throw this.corrupt(`${what} is not valid UTF-8`);
    }
  }

  corrupt(detail: string): EinRuntimeError {
    return new EinRuntimeError(`${this.source.name}: ${detail}`);
  }

  private requireRemaining(length: number, what: string): void {
    if (length > this.remaining) {
      throw this.corrupt(
        `truncated while reading ${what}: needs ${length} bytes at offset ${this.position}, ` +
          `only ${this.remaining} remain`,
      );
    }
  }

  /** Makes [position, position + length) available in the chunk; returns its index there. */
  private async advance(length: number, what: string): Promise<number> {
    this.requireRemaining(length, what);
    const chunkEnd = this.chunkStart + this.chunk.length;
    if (this.position < this.chunkStart || this.position + length > chunkEnd) {
      const chunkLength = Math.min(Math.max(length, defaultChunkBytes), this.remaining);
      this.chunk = new Uint8Array(chunkLength);
      await this.source.readInto(this.position, this.chunk);
      this.chunkStart = this.position;
      this.view = new DataView(this.chunk.buffer);
    }
    const at = this.position - this.chunkStart;
    this.position += length;
    return at;
  }
}
