// A WGSL program held on a WebGPU device between calls: one GPUBuffer per storage unit (bindings.ts),
// one uniform buffer for the scalar inputs, and every kernel's pipeline and bind group, all created
// once. A host then writes inputs, submits kernels and buffer-to-buffer copies in any order, and reads
// buffers back; nothing else moves. runWgslProgram (run.ts) is one such round trip; a persistent model
// (src/runtime/wgsl-model.ts) keeps weights and caches resident across many.
import type { Tensor } from '../../ir/tensor.js';
import { UNIFORM_VAR, type Segment } from './bindings.js';
import type { EinGpu } from './device.js';
import type { WgslProgram } from './program.js';
import { compileWgsl } from './shader.js';
import { DEFAULT_GPU_TIMEOUT_MS, withTimeout } from './timeout.js';

/** A copy of `length` elements of one logical buffer into another (segments, packs and splits resolved). */
export interface WgslCopy {
  readonly from: string;
  readonly fromStart: number;
  readonly to: string;
  readonly toStart: number;
  readonly length: number;
}

/** One step of a submission: a kernel's dispatch, or a copy between buffers. */
export type WgslStep = { readonly kernel: string } | { readonly copy: WgslCopy };

interface PreparedKernel {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
}

type HostArray = Float32Array | Int32Array;

export class ResidentWgslProgram {
  private readonly staging = new Map<string, GPUBuffer>();
  /** For copies within one packed unit (WebGPU copies only between distinct buffers); grown, never shrunk. */
  private readonly bounces: GPUBuffer[] = [];
  private uniformDirty = true;

  private constructor(
    readonly gpu: EinGpu,
    readonly program: WgslProgram,
    private readonly units: ReadonlyMap<string, GPUBuffer>,
    private readonly uniform: { buffer: GPUBuffer; host: ArrayBuffer } | undefined,
    private readonly kernels: ReadonlyMap<string, PreparedKernel>,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Compiles every kernel (any WGSL warning throws), creates the buffers zeroed and the pipelines.
   * Call inside withErrorScopes: device errors surface there.
   */
  static async create(
    gpu: EinGpu,
    program: WgslProgram,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<ResidentWgslProgram> {
    const { device } = gpu;
    const { layout } = program;
    const modules = new Map<string, GPUShaderModule>();
    for (const k of program.kernels) modules.set(k.name, await compileWgsl(gpu, k.source, k.name));
    const units = new Map<string, GPUBuffer>();
    for (const unit of layout.units)
      units.set(
        unit.name,
        device.createBuffer({
          label: unit.name,
          size: Math.max(4, unit.elements * 4),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }),
      );
    const uniform =
      layout.uniformBytes > 0
        ? {
            buffer: device.createBuffer({
              label: UNIFORM_VAR,
              size: layout.uniformBytes,
              usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
            }),
            host: new ArrayBuffer(layout.uniformBytes),
          }
        : undefined;
    const kernels = new Map<string, PreparedKernel>();
    for (const k of program.kernels) {
      const bindGroupLayout = device.createBindGroupLayout({
        label: k.name,
        entries: k.bindings.map((b, i) => ({
          binding: i,
          visibility: GPUShaderStage.COMPUTE,
          buffer: {
            type:
              b.access === 'uniform'
                ? 'uniform'
                : b.access === 'read_write'
                  ? 'storage'
                  : 'read-only-storage',
          },
        })),
      });
      const pipeline = device.createComputePipeline({
        label: k.name,
        layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }),
        compute: { module: modules.get(k.name)!, entryPoint: k.entryPoint },
      });
      const bindGroup = device.createBindGroup({
        label: k.name,
        layout: bindGroupLayout,
        entries: k.bindings.map((b, i) => ({
          binding: i,
          resource: { buffer: b.access === 'uniform' ? uniform!.buffer : units.get(b.unit)! },
        })),
      });
      kernels.set(k.name, { pipeline, bindGroup, workgroups: k.workgroups });
    }
    return new ResidentWgslProgram(
      gpu,
      program,
      units,
      uniform,
      kernels,
      options.timeoutMs ?? DEFAULT_GPU_TIMEOUT_MS,
    );
  }

  /** Bytes of every GPUBuffer the program holds (storage units, the uniform, read-back and bounce buffers). */
  get deviceBytes(): number {
    let bytes = this.uniform?.buffer.size ?? 0;
    for (const b of this.units.values()) bytes += b.size;
    for (const b of [...this.staging.values(), ...this.bounces]) bytes += b.size;
    return bytes;
  }

  /** Elements of a logical buffer. */
  elements(buffer: string): number {
    const decl = this.program.loops.buffers.find((b) => b.name === buffer);
    if (!decl) throw new Error(`no buffer ${buffer} in ${this.program.loops.name}`);
    return decl.size;
  }

  /** Writes `data` into a buffer from element `start` (a scalar input: into the uniform). */
  write(buffer: string, data: HostArray, start = 0): void {
    const scalar = this.program.layout.scalars.get(buffer);
    if (scalar) {
      if (data.length !== 1 || start !== 0) throw new Error(`scalar ${buffer} takes one element`);
      const view = new DataView(this.uniform!.host);
      if (scalar.element === 'i32') view.setInt32(scalar.offset, data[0]!, true);
      else view.setFloat32(scalar.offset, data[0]!, true);
      this.uniformDirty = true;
      return;
    }
    if (start + data.length > this.elements(buffer))
      throw new Error(`${data.length} elements from ${start} do not fit ${buffer}`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (const s of this.overlap(buffer, start, data.length)) {
      const from = (s.startInBuffer - start) * 4;
      this.gpu.device.queue.writeBuffer(
        this.units.get(s.unit)!,
        s.at * 4,
        bytes.subarray(from, from + s.length * 4),
      );
    }
  }

  /** Sets a scalar input (held in the uniform struct). */
  setScalar(buffer: string, value: number): void {
    const scalar = this.program.layout.scalars.get(buffer);
    if (!scalar) throw new Error(`${buffer} is not a scalar input of ${this.program.loops.name}`);
    this.write(buffer, scalar.element === 'i32' ? Int32Array.of(value) : Float32Array.of(value));
  }

  /**
   * Encodes `steps` in order into one command buffer and submits it. WebGPU orders the passes and
   * copies of a command buffer and makes each one's writes visible to the next; the scalars set
   * before the call apply to all of its steps (queue writes precede the submit on the queue).
   */
  submit(steps: readonly WgslStep[]): void {
    const { device } = this.gpu;
    if (this.uniform && this.uniformDirty) {
      device.queue.writeBuffer(this.uniform.buffer, 0, this.uniform.host);
      this.uniformDirty = false;
    }
    const encoder = device.createCommandEncoder({ label: this.program.loops.name });
    for (const step of steps) {
      if ('copy' in step) {
        this.encodeCopy(encoder, step.copy);
        continue;
      }
      const k = this.kernels.get(step.kernel);
      if (!k) throw new Error(`no kernel ${step.kernel} in ${this.program.loops.name}`);
      const pass = encoder.beginComputePass({ label: step.kernel });
      pass.setPipeline(k.pipeline);
      pass.setBindGroup(0, k.bindGroup);
      pass.dispatchWorkgroups(...k.workgroups);
      pass.end();
    }
    device.queue.submit([encoder.finish()]);
  }

  /** Every kernel of the program, in order. */
  submitAll(): void {
    this.submit(this.program.kernels.map((k) => ({ kernel: k.name })));
  }

  /** A buffer's contents once the submitted work is done (its read-back buffer is kept for reuse). */
  async read(buffer: string): Promise<HostArray> {
    const decl = this.program.loops.buffers.find((b) => b.name === buffer);
    if (!decl) throw new Error(`no buffer ${buffer} in ${this.program.loops.name}`);
    if (this.program.layout.scalars.has(buffer)) {
      const offset = this.program.layout.scalars.get(buffer)!.offset;
      const bytes = this.uniform!.host.slice(offset, offset + 4);
      return decl.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
    }
    const { device } = this.gpu;
    let target = this.staging.get(buffer);
    if (!target) {
      target = device.createBuffer({
        label: `${buffer} (read-back)`,
        size: Math.max(4, decl.size * 4),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.staging.set(buffer, target);
    }
    const encoder = device.createCommandEncoder({ label: `read-back of ${buffer}` });
    for (const s of this.segments(buffer))
      encoder.copyBufferToBuffer(this.units.get(s.unit)!, s.offset * 4, target, s.start * 4, s.length * 4);
    device.queue.submit([encoder.finish()]);
    await withTimeout(target.mapAsync(GPUMapMode.READ), `mapAsync of ${buffer}`, this.timeoutMs);
    const bytes = target.getMappedRange().slice(0, decl.size * 4);
    target.unmap();
    return decl.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** Reads the program's outputs as tensors. */
  async readOutputs(): Promise<Record<string, Tensor>> {
    const outputs: Record<string, Tensor> = {};
    for (const name of this.program.loops.outputs) {
      const decl = this.program.loops.buffers.find((b) => b.name === name)!;
      outputs[name] = { dtype: decl.dtype, shape: decl.shape, data: await this.read(name) };
    }
    return outputs;
  }

  destroy(): void {
    for (const b of this.units.values()) b.destroy();
    for (const b of [...this.staging.values(), ...this.bounces]) b.destroy();
    this.uniform?.buffer.destroy();
  }

  private segments(buffer: string): readonly Segment[] {
    const segments = this.program.layout.segments.get(buffer);
    if (!segments) throw new Error(`no storage for buffer ${buffer} in ${this.program.loops.name}`);
    return segments;
  }

  /** The parts of elements [start, start + length) of `buffer`: unit, element offset in it, length. */
  private overlap(
    buffer: string,
    start: number,
    length: number,
  ): { unit: string; at: number; startInBuffer: number; length: number }[] {
    const parts = [];
    for (const s of this.segments(buffer)) {
      const lo = Math.max(start, s.start);
      const hi = Math.min(start + length, s.start + s.length);
      if (lo < hi)
        parts.push({ unit: s.unit, at: s.offset + lo - s.start, startInBuffer: lo, length: hi - lo });
    }
    return parts;
  }

  /** A buffer of at least `bytes` for bouncing copies; earlier ones stay alive for encoded commands. */
  private bounce(bytes: number): GPUBuffer {
    const last = this.bounces[this.bounces.length - 1];
    if (last && last.size >= bytes) return last;
    const buffer = this.gpu.device.createBuffer({
      label: 'ein_bounce',
      size: bytes,
      usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.bounces.push(buffer);
    return buffer;
  }

  private encodeCopy(encoder: GPUCommandEncoder, c: WgslCopy): void {
    for (const src of this.overlap(c.from, c.fromStart, c.length)) {
      const toStart = c.toStart + src.startInBuffer - c.fromStart;
      for (const dst of this.overlap(c.to, toStart, src.length)) {
        const skip = dst.startInBuffer - toStart;
        const source = this.units.get(src.unit)!;
        const target = this.units.get(dst.unit)!;
        const bytes = dst.length * 4;
        if (source !== target) {
          encoder.copyBufferToBuffer(source, (src.at + skip) * 4, target, dst.at * 4, bytes);
          continue;
        }
        // Both buffers packed into one unit, and WebGPU copies only between distinct buffers: bounce.
        const bounce = this.bounce(bytes);
        encoder.copyBufferToBuffer(source, (src.at + skip) * 4, bounce, 0, bytes);
        encoder.copyBufferToBuffer(bounce, 0, target, dst.at * 4, bytes);
      }
    }
  }
}
