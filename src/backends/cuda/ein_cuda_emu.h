// ein_cuda_emu.h — compile Ein's CUDA kernels with g++ and run them on the CPU, as a test oracle.
//
// Usage: g++ -O2 -std=c++17 -pthread -DEIN_CUDA_EMU -include ein_cuda_emu.h kernels_and_host.cu
// The very same `extern "C" __global__` source that nvcc compiles then builds for the CPU. The host
// code launches with EIN_LAUNCH(kernel, grid, block, args...) under `#ifdef EIN_CUDA_EMU`, since g++
// cannot parse `kernel<<<grid, block>>>(args...)`.
//
// How a launch runs:
// - Blocks run in parallel on worker OS threads (EIN_EMU_THREADS, default: all cores); a worker runs
//   one block at a time.
// - The threads of a block run as cooperative fibers on their worker: each has its own stack (so
//   its locals are private) and runs until it reaches __syncthreads() or returns. When every thread
//   of the block waits at the barrier, all resume. This makes __syncthreads() a real barrier, and
//   a barrier costs ~35 ns per thread (hand-written x86-64 fiber switch; ucontext elsewhere or
//   with -DEIN_EMU_USE_UCONTEXT, which is much slower).
// - `__shared__` is `static thread_local`: a static in a function is one object per OS thread, and
//   all fibers of the block run on that thread, so each block in flight has its own copy, shared
//   by its threads.
// - Barrier misuse is reported, not hung on: if some threads of a block wait at __syncthreads()
//   while others have returned, or threads wait at different __syncthreads() lines, the emulator
//   prints the block, threads and lines and aborts.
//
// Limits: no warp-level behaviour (warp shuffles, votes, __syncwarp, warp-synchronous code without
// barriers), no dynamic `extern __shared__` arrays, no streams, events or textures, no half types;
// launches are synchronous. __shared__ memory starts zeroed in each worker and keeps its contents
// from the worker's previous block (CUDA leaves it undefined). cudaMalloc fills memory with 0xFF
// bytes (NaN as f32, -1 as i32) so that reading memory no one wrote shows up in results.
// Stacks are EIN_EMU_STACK_KB (default 64) KiB per thread, with a guard page.
#ifndef EIN_CUDA_EMU_H
#define EIN_CUDA_EMU_H

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include <math.h>
#include <sys/mman.h>
#include <unistd.h>
// Hand-written fiber switch on x86-64; ucontext elsewhere, or when EIN_EMU_USE_UCONTEXT is defined.
#if defined(__x86_64__) && !defined(EIN_EMU_USE_UCONTEXT)
#define EIN_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

// ---- CUDA keywords -------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static thread_local

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

// Set by the scheduler before it resumes a fiber; per OS thread, like the block it runs.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
constexpr int warpSize = 32;

// ---- Device math (float math of <math.h> — expf, tanhf, erff, fmaxf, fmaf, INFINITY... — as is) ---
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __saturatef(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, sizeof i); return i; }
inline unsigned __float_as_uint(float x) { unsigned u; std::memcpy(&u, &x, sizeof u); return u; }
inline float __int_as_float(int i) { float x; std::memcpy(&x, &i, sizeof x); return x; }
inline float __uint_as_float(unsigned u) { float x; std::memcpy(&x, &u, sizeof x); return x; }
template <class T> inline T __ldg(const T* p) { return *p; }

// CUDA's integer and float min/max overloads (std::min needs equal types and a namespace).
#define EIN_EMU_MIN_MAX(T)                               \
  inline T min(T a, T b) { return b < a ? b : a; }      \
  inline T max(T a, T b) { return a < b ? b : a; }
EIN_EMU_MIN_MAX(int)
EIN_EMU_MIN_MAX(unsigned)
EIN_EMU_MIN_MAX(long long)
EIN_EMU_MIN_MAX(unsigned long long)
EIN_EMU_MIN_MAX(float)
EIN_EMU_MIN_MAX(double)
#undef EIN_EMU_MIN_MAX

// ---- Atomics: real atomics, since blocks run in parallel -------------------------------------------
template <class T> inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline float atomicAdd(float* p, float v) {
  float old, sum;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  do {
    sum = old + v;
  } while (!__atomic_compare_exchange(p, &old, &sum, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
template <class T> inline T atomicMax(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T> inline T atomicMin(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T> inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
template <class T> inline T atomicCAS(T* p, T expected, T desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }

// The runtime first: launches record their errors for cudaGetLastError().
#include "ein_cuda_emu_runtime.h"
#include "ein_cuda_emu_fibers.h"

#endif  // EIN_CUDA_EMU_H
