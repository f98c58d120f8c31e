// ein_cuda_emu_runtime.h — the CUDA runtime API of ein_cuda_emu.h on host memory: cudaMalloc, cudaMemcpy,
// cudaFree, cudaDeviceSynchronize and the error calls. Included by ein_cuda_emu.h only.
#ifndef EIN_CUDA_EMU_RUNTIME_H
#define EIN_CUDA_EMU_RUNTIME_H
#ifndef EIN_CUDA_EMU_H
#error "include ein_cuda_emu.h, not ein_cuda_emu_runtime.h"
#endif

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

namespace ein_emu {
// The error cudaGetLastError() returns next; launches set it too.
inline cudaError_t& last_error() {
  static cudaError_t error = cudaSuccess;
  return error;
}
}  // namespace ein_emu

inline cudaError_t ein_emu_fail(cudaError_t error) {
  ein_emu::last_error() = error;
  return error;
}
inline cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  *pointer = std::malloc(bytes ? bytes : 1);
  if (!*pointer) return ein_emu_fail(cudaErrorMemoryAllocation);
  std::memset(*pointer, 0xFF, bytes);
  return cudaSuccess;
}
template <class T> inline cudaError_t cudaMalloc(T** pointer, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(pointer), bytes);
}
inline cudaError_t cudaFree(void* pointer) {
  std::free(pointer);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return ein_emu_fail(cudaErrorInvalidValue);
  if (bytes) std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* pointer, int value, size_t bytes) {
  std::memset(pointer, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaPeekAtLastError() { return ein_emu::last_error(); }
inline cudaError_t cudaGetLastError() {
  const cudaError_t error = cudaPeekAtLastError();
  ein_emu::last_error() = cudaSuccess;
  return error;
}
inline const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
  }
  return "unknown error";
}

#endif  // EIN_CUDA_EMU_RUNTIME_H
