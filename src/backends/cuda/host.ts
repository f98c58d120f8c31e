// The host side of a CUDA program: a function that reads the inputs (ein_tensor_io.h), allocates
// and zeroes every global buffer (the Loop IR's buffers start zeroed), launches each kernel with its
// grid and block, checks every CUDA call, and writes the outputs. The same text builds with nvcc
// (`<<<grid, block>>>`) and with g++ through ein_cuda_emu.h (EIN_LAUNCH).
import type { LoopProgram } from '../../ir/loops.js';
import type { CudaKernel } from './printer.js';

export const HOST_PRELUDE = `#ifndef EIN_HOST_PRELUDE
#define EIN_HOST_PRELUDE
#include <cstdio>
#include <vector>
// Every CUDA call is checked; a failure names the call and its line, and the run function returns 1.
#define EIN_CHECK(call)                                                                          \\
  do {                                                                                           \\
    const cudaError_t ein_status = (call);                                                       \\
    if (ein_status != cudaSuccess) {                                                             \\
      std::fprintf(stderr, "%s:%d: %s failed: %s\\n", __FILE__, __LINE__, #call,                 \\
                   cudaGetErrorString(ein_status));                                              \\
      return 1;                                                                                  \\
    }                                                                                            \\
  } while (0)
#ifdef EIN_CUDA_EMU
#define EIN_LAUNCH_KERNEL(kernel, grid, block, ...) EIN_LAUNCH(kernel, grid, block, __VA_ARGS__)
#define EIN_LAUNCH_KERNEL0(kernel, grid, block) EIN_LAUNCH(kernel, grid, block)
#else
#define EIN_LAUNCH_KERNEL(kernel, grid, block, ...) kernel<<<grid, block>>>(__VA_ARGS__)
#define EIN_LAUNCH_KERNEL0(kernel, grid, block) kernel<<<grid, block>>>()
#endif
#endif`;

export interface HostOptions {
  /** The run function's name, such as ein_run_attention. */
  readonly function: string;
  /** Prepended to tensor file names (NAME.f32), so that one binary can run several programs. */
  readonly tensorPrefix?: string;
}

/** `static int FUNCTION()`: returns 0 when every call succeeded. */
export function hostFunction(
  loops: LoopProgram,
  kernels: readonly CudaKernel[],
  options: HostOptions,
): string {
  const prefix = options.tensorPrefix ?? '';
  const out: string[] = [`static int ${options.function}() {`];
  const emit = (line: string) => out.push(`  ${line}`);
  const globals = loops.buffers.filter((b) => b.level === 'global');
  for (const b of globals) {
    const type = b.dtype === 'i32' ? 'int' : 'float';
    const bytes = `${b.size} * sizeof(${type})`;
    emit(`${type}* d_${b.name} = nullptr;  // ${b.role} ${b.name}[${b.shape.join(', ')}]`);
    emit(`EIN_CHECK(cudaMalloc(&d_${b.name}, ${bytes}));`);
    if (loops.inputs.includes(b.name)) {
      emit(
        `const std::vector<${b.dtype === 'i32' ? 'int32_t' : 'float'}> h_${b.name} = ein_read_${b.dtype}("${prefix}${b.name}");`,
      );
      emit(`if (h_${b.name}.size() != ${b.size}) {`);
      emit(
        `  std::fprintf(stderr, "${b.name}: expected ${b.size} elements, the file has %zu\\n", h_${b.name}.size());`,
      );
      emit(`  return 1;`);
      emit(`}`);
      emit(`EIN_CHECK(cudaMemcpy(d_${b.name}, h_${b.name}.data(), ${bytes}, cudaMemcpyHostToDevice));`);
    } else emit(`EIN_CHECK(cudaMemset(d_${b.name}, 0, ${bytes}));`);
  }
  for (const k of kernels) {
    const [x, y, z] = k.grid;
    emit(
      `// ${k.name}: ${k.plan.workgroups} block${k.plan.workgroups === 1 ? '' : 's'} of ${k.plan.threads} threads`,
    );
    // A kernel whose code is all dead takes no parameters; an empty macro argument is not portable.
    const args = k.params.map((p) => `d_${p}`).join(', ');
    const grid = `dim3(${x}, ${y}, ${z}), dim3(${k.plan.threads})`;
    emit(
      args ? `EIN_LAUNCH_KERNEL(${k.name}, ${grid}, ${args});` : `EIN_LAUNCH_KERNEL0(${k.name}, ${grid});`,
    );
    emit(`EIN_CHECK(cudaGetLastError());`);
  }
  emit(`EIN_CHECK(cudaDeviceSynchronize());`);
  for (const name of loops.outputs) {
    const b = globals.find((g) => g.name === name)!;
    const type = b.dtype === 'i32' ? 'int32_t' : 'float';
    emit(`std::vector<${type}> h_${name}(${b.size});`);
    emit(
      `EIN_CHECK(cudaMemcpy(h_${name}.data(), d_${name}, ${b.size} * sizeof(${type}), cudaMemcpyDeviceToHost));`,
    );
    emit(`ein_write_${b.dtype}("${prefix}${name}", h_${name}.data(), h_${name}.size());`);
  }
  for (const b of globals) emit(`EIN_CHECK(cudaFree(d_${b.name}));`);
  emit('return 0;');
  out.push('}');
  return out.join('\n');
}

/** `int main()` running each function in turn, stopping at the first failure. */
export function hostMain(functions: readonly string[]): string {
  return [
    'int main() {',
    ...functions.map((f) => `  if (${f}() != 0) return 1;`),
    '  return 0;',
    '}',
    '',
  ].join('\n');
}
