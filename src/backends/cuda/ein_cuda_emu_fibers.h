// ein_cuda_emu_fibers.h — the block scheduler of ein_cuda_emu.h (which explains the approach): fibers
// for the threads of a block, __syncthreads(), and launches over worker threads. Included by
// ein_cuda_emu.h only.
#ifndef EIN_CUDA_EMU_FIBERS_H
#define EIN_CUDA_EMU_FIBERS_H
#ifndef EIN_CUDA_EMU_H
#error "include ein_cuda_emu.h, not ein_cuda_emu_fibers.h"
#endif

namespace ein_emu {

[[noreturn]] inline void fatal(const char* message) {
  std::fprintf(stderr, "ein_cuda_emu: %s\n", message);
  std::fflush(stderr);
  std::abort();
}

#ifdef EIN_EMU_ASM_SWITCH
// Saves the callee-saved registers of the System V ABI on the current stack, stores the stack
// pointer in *save, loads `load` and pops the registers saved there. ucontext's swapcontext does
// the same plus a signal-mask system call, which made it ~40x slower here.
extern "C" void ein_emu_switch(void** save, void* load);
asm(R"(
  .text
  .weak ein_emu_switch
  .hidden ein_emu_switch
  .type ein_emu_switch, @function
ein_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size ein_emu_switch, .-ein_emu_switch
)");

struct Context {
  void* sp = nullptr;
};
inline void switch_context(Context& save, Context& load) { ein_emu_switch(&save.sp, load.sp); }
// A frame that ein_emu_switch pops into `entry`: six zeroed registers, then the return address,
// then a fake caller's return address so that `entry` starts with the stack aligned as after a call.
inline void make_context(Context& c, char* stack_top, size_t /*stack_bytes*/, void (*entry)()) {
  void** sp = reinterpret_cast<void**>(stack_top);
  *--sp = nullptr;
  *--sp = reinterpret_cast<void*>(entry);
  for (int i = 0; i < 6; ++i) *--sp = nullptr;
  c.sp = sp;
}
#else
struct Context {
  ucontext_t uc;
};
inline void switch_context(Context& save, Context& load) { swapcontext(&save.uc, &load.uc); }
inline void make_context(Context& c, char* stack_top, size_t stack_bytes, void (*entry)()) {
  getcontext(&c.uc);
  c.uc.uc_stack.ss_sp = stack_top - stack_bytes;
  c.uc.uc_stack.ss_size = stack_bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
}
#endif

enum class FiberState { Ready, AtBarrier, Done };

struct Fiber {
  Context context;
  uint3 thread;
  FiberState state;
  const char* barrier_file;
  int barrier_line;
};

// What a launch runs for each thread: the kernel applied to its bound arguments.
struct KernelCall {
  void (*invoke)(const void* bound);
  const void* bound;
};

// One per worker OS thread: the fibers of the block it is running and their stacks.
class BlockRunner {
 public:
  BlockRunner(const KernelCall& call, unsigned threads_per_block) : call_(call), fibers_(threads_per_block) {
    const char* kb = std::getenv("EIN_EMU_STACK_KB");
    stack_bytes_ = (static_cast<size_t>(kb ? std::atol(kb) : 64) * 1024 + page_ - 1) / page_ * page_ + page_;
    mapping_bytes_ = stack_bytes_ * threads_per_block;
    void* mapped = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED) fatal("cannot map fiber stacks (lower EIN_EMU_STACK_KB)");
    stacks_ = static_cast<char*>(mapped);
    // A guard page below each stack turns an overflow into a crash instead of silent corruption.
    for (unsigned i = 0; i < threads_per_block; ++i) mprotect(stacks_ + i * stack_bytes_, page_, PROT_NONE);
  }
  ~BlockRunner() { munmap(stacks_, mapping_bytes_); }
  BlockRunner(const BlockRunner&) = delete;
  BlockRunner& operator=(const BlockRunner&) = delete;

  void run_block(uint3 block) {
    blockIdx = block;
    size_t i = 0;
    for (unsigned z = 0; z < blockDim.z; ++z)
      for (unsigned y = 0; y < blockDim.y; ++y)
        for (unsigned x = 0; x < blockDim.x; ++x, ++i) {
          Fiber& f = fibers_[i];
          f.thread = {x, y, z};
          f.state = FiberState::Ready;
          // Staggering the stack tops by cache lines keeps the fibers' frames out of each other's
          // cache sets; with page-aligned tops, a barrier cost 3x more.
          const size_t stagger = (i % 32) * 64;
          make_context(f.context, stacks_ + (i + 1) * stack_bytes_ - stagger, stack_bytes_ - page_ - stagger, &fiber_entry);
        }
    current_runner() = this;
    for (;;) {
      for (Fiber& f : fibers_) {
        if (f.state != FiberState::Ready) continue;
        current_ = &f;
        threadIdx = f.thread;
        switch_context(scheduler_, f.context);
      }
      if (!release_barrier()) break;
    }
    current_runner() = nullptr;
  }

  // Called on a fiber's stack by __syncthreads().
  void wait_at_barrier(const char* file, int line) {
    Fiber& f = *current_;
    f.state = FiberState::AtBarrier;
    f.barrier_file = file;
    f.barrier_line = line;
    switch_context(f.context, scheduler_);
  }

  static BlockRunner*& current_runner() {
    static thread_local BlockRunner* runner = nullptr;
    return runner;
  }

 private:
  [[noreturn]] static void fiber_entry() {
    BlockRunner& self = *current_runner();
    self.call_.invoke(self.call_.bound);
    self.current_->state = FiberState::Done;
    switch_context(self.current_->context, self.scheduler_);
    fatal("a finished fiber was resumed");
  }

  // All fibers are at a barrier or done. Returns false when all are done; aborts on divergence.
  bool release_barrier() {
    const Fiber* waiting = nullptr;
    const Fiber* exited = nullptr;
    for (const Fiber& f : fibers_) {
      if (f.state == FiberState::Done) {
        if (!exited) exited = &f;
        continue;
      }
      if (!waiting) {
        waiting = &f;
      } else if (f.barrier_line != waiting->barrier_line ||
                 (f.barrier_file != waiting->barrier_file && std::strcmp(f.barrier_file, waiting->barrier_file) != 0)) {
        report_divergence(*waiting, f, "waits at a different __syncthreads()");
      }
    }
    if (!waiting) return false;
    if (exited) report_divergence(*waiting, *exited, "has already returned");
    for (Fiber& f : fibers_) f.state = FiberState::Ready;
    return true;
  }

  [[noreturn]] void report_divergence(const Fiber& waiting, const Fiber& other, const char* what) const {
    char message[512];
    std::snprintf(message, sizeof message,
                  "divergent __syncthreads() in block (%u,%u,%u): thread (%u,%u,%u) waits at %s:%d but thread "
                  "(%u,%u,%u) %s",
                  blockIdx.x, blockIdx.y, blockIdx.z, waiting.thread.x, waiting.thread.y, waiting.thread.z,
                  waiting.barrier_file, waiting.barrier_line, other.thread.x, other.thread.y, other.thread.z, what);
    if (other.state == FiberState::AtBarrier) {
      const size_t used = std::strlen(message);
      std::snprintf(message + used, sizeof message - used, " (%s:%d)", other.barrier_file, other.barrier_line);
    }
    fatal(message);
  }

  const size_t page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  KernelCall call_;
  std::vector<Fiber> fibers_;
  Fiber* current_ = nullptr;
  Context scheduler_;
  char* stacks_ = nullptr;
  size_t stack_bytes_ = 0;
  size_t mapping_bytes_ = 0;
};

inline void sync_threads(const char* file, int line) {
  BlockRunner* runner = BlockRunner::current_runner();
  if (!runner) fatal("__syncthreads() called outside a kernel launch");
  runner->wait_at_barrier(file, line);
}

// ---- Launches ---------------------------------------------------------------------------------------
inline unsigned worker_count(size_t blocks) {
  const char* env = std::getenv("EIN_EMU_THREADS");
  unsigned n = env ? static_cast<unsigned>(std::atoi(env)) : std::thread::hardware_concurrency();
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(n ? n : 1, blocks)));
}

// Refuses the shapes CUDA refuses with cudaErrorInvalidConfiguration.
inline cudaError_t run_grid(dim3 grid, dim3 block, const KernelCall& call) {
  const size_t threads = size_t(block.x) * block.y * block.z;
  const size_t blocks = size_t(grid.x) * grid.y * grid.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || blocks == 0 || grid.y > 65535 || grid.z > 65535) {
    return cudaErrorInvalidConfiguration;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    gridDim = grid;
    blockDim = block;
    BlockRunner runner(call, static_cast<unsigned>(threads));
    for (size_t b = next++; b < blocks; b = next++) {
      const unsigned bx = static_cast<unsigned>(b % grid.x);
      const unsigned by = static_cast<unsigned>(b / grid.x % grid.y);
      const unsigned bz = static_cast<unsigned>(b / (size_t(grid.x) * grid.y));
      runner.run_block({bx, by, bz});
    }
  };
  std::vector<std::thread> workers;
  const unsigned count = worker_count(blocks);
  for (unsigned i = 0; i < count; ++i) workers.emplace_back(work);
  for (std::thread& w : workers) w.join();
  return cudaSuccess;
}

template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "EIN_LAUNCH: wrong number of kernel arguments");
  struct Bound {
    void (*kernel)(Params...);
    std::tuple<Params...> args;
  } bound{kernel, std::tuple<Params...>(static_cast<Params>(args)...)};
  const KernelCall call{[](const void* b) {
                          const Bound& self = *static_cast<const Bound*>(b);
                          std::apply(self.kernel, self.args);
                        },
                        &bound};
  const cudaError_t error = run_grid(grid, block, call);
  if (error != cudaSuccess) last_error() = error;
}

}  // namespace ein_emu

#define __syncthreads() ::ein_emu::sync_threads(__FILE__, __LINE__)
// The emulated `kernel<<<grid, block>>>(args...)`; synchronous.
#define EIN_LAUNCH(kernel, grid, block, ...) ::ein_emu::launch(kernel, dim3(grid), dim3(block), ##__VA_ARGS__)

#endif  // EIN_CUDA_EMU_FIBERS_H
