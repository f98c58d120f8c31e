// Plugs the GPU backends that exist into the library's registry (backends.ts). WGSL: printed by
// src/backends/wgsl/program.ts for the WebGPU default limits (every device offers them) and run on
// `navigator.gpu` (browsers) or Dawn (Node). A CUDA printer registers here the same way when it lands.
import { acquireGpu, type EinGpu } from '../backends/wgsl/device.js';
import { buildWgslProgram } from '../backends/wgsl/program.js';
import { runLoopsOnGpu } from '../backends/wgsl/run.js';
import { EinError } from '../frontend/diagnostics.js';
import { registerBackend } from './backends.js';
import { buildCudaProgram } from '../backends/cuda/program.js';

let device: Promise<EinGpu> | undefined;

/** One device per process, acquired on first use; no adapter is a user-facing error saying why. */
function gpu(): Promise<EinGpu> {
  device ??= acquireGpu().then((acquired) => {
    if (acquired.ok) return acquired.gpu;
    device = undefined;
    throw new EinError({ message: acquired.reason });
  });
  return device;
}

registerBackend('cuda', { print: (state) => buildCudaProgram(state.loops!).kernelSource });

registerBackend('wgsl', {
  print: (state) =>
    buildWgslProgram(state.loops!)
      .kernels.map(
        (k) =>
          `// ${k.name}: entry point ${k.entryPoint}, ${k.workgroups.join(' × ')} workgroups\n${k.source}`,
      )
      .join('\n\n'),
  run: async (state, inputs) => runLoopsOnGpu(await gpu(), state.loops!, inputs),
});
