import { open, type FileHandle } from 'node:fs/promises';
import { assertRangeInside, type ByteSink, type ByteSource } from './byte-source.js';
import { EinRuntimeError } from './errors.js';

// Node caps a single read/write at 2 GiB; larger tensors are moved in pieces.
const maxIoChunk = 1 << 30;

/** Opens a file as a ByteSource; reads go straight into the caller's buffer (no staging copy). */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await openOrExplain(path, 'r');
  const { size } = await handle.stat();
  return {
    name: path,
    size,
    async readInto(offset, target) {
      assertRangeInside(path, size, offset, target.length);
      let done = 0;
      while (done < target.length) {
        const length = Math.min(maxIoChunk, target.length - done);
        const { bytesRead } = await handle.read(target, done, length, offset + done);
        if (bytesRead === 0) {
          throw new EinRuntimeError(`${path}: file ended at byte ${offset + done} while reading`);
        }
        done += bytesRead;
      }
    },
    close: () => handle.close(),
  };
}

/** Creates (or truncates) a file and returns a sink that appends to it. */
export async function createFileSink(path: string): Promise<ByteSink> {
  const handle = await openOrExplain(path, 'w');
  return {
    async write(bytes) {
      let done = 0;
      while (done < bytes.length) {
        const length = Math.min(maxIoChunk, bytes.length - done);
        const { bytesWritten } = await handle.write(bytes, done, length);
        done += bytesWritten;
      }
    },
    close: () => handle.close(),
  };
}

async function openOrExplain(path: string, flags: 'r' | 'w'): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new EinRuntimeError(
      `${path}: cannot open for ${flags === 'r' ? 'reading' : 'writing'} (${reason})`,
    );
  }
}
