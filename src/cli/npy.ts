// NumPy .npy files (format versions 1–3): f32 and i32, little-endian, C order. Anything else is refused
// with a message that says how to convert it.
import { EinError } from '../frontend/diagnostics.js';
import { sizeOf, type Tensor } from '../ir/tensor.js';

const MAGIC = '\x93NUMPY';

function bad(file: string, message: string, hint?: string): never {
  throw new EinError({ message: `${file}: ${message}`, hint });
}

export function decodeNpy(bytes: Uint8Array, file = '<npy>'): Tensor {
  const text = (a: number, b: number) => String.fromCharCode(...bytes.subarray(a, b));
  if (bytes.length < 10 || text(0, 6) !== MAGIC)
    bad(file, 'not a .npy file (bad magic)', 'save arrays with numpy.save');
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (major < 1 || major > 3) bad(file, `unsupported .npy version ${major}`);
  if (start + headerLength > bytes.length) bad(file, 'truncated header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) bad(file, 'malformed header');
  if (fortran === 'True')
    bad(file, 'Fortran-order arrays are not supported', 'save numpy.ascontiguousarray(a)');
  const dtype = descr === '<f4' ? 'f32' : descr === '<i4' ? 'i32' : undefined;
  if (!dtype)
    bad(
      file,
      `dtype ${descr} is not supported: Ein reads float32 (<f4) and int32 (<i4)`,
      'convert with a.astype(numpy.float32) or a.astype(numpy.int32)',
    );
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(file, `bad shape (${shapeText})`);
  const count = sizeOf(shape);
  const dataStart = start + headerLength;
  if (bytes.length - dataStart !== count * 4)
    bad(
      file,
      `holds ${bytes.length - dataStart} data bytes, but shape (${shape.join(', ')}) needs ${count * 4}`,
    );
  // A fresh, aligned copy: a Node Buffer's slice() shares (pooled) memory, so copy through the constructor.
  const copy = new Uint8Array(bytes.subarray(dataStart, dataStart + count * 4));
  return {
    dtype,
    shape,
    data: dtype === 'f32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer),
  };
}

export function encodeNpy(t: Tensor): Uint8Array {
  const descr = t.dtype === 'f32' ? '<f4' : '<i4';
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The whole preamble is padded with spaces to a multiple of 64 bytes and ends in a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + t.data.byteLength);
  for (let i = 0; i < 6; i++) out[i] = MAGIC.charCodeAt(i);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), total);
  return out;
}
