// Identifiers generated CUDA must not declare: C++ keywords, CUDA builtins, and the math functions
// and macros the printer calls (a tensor named `expf` would hide the function).
const CPP =
  'alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t char32_t class compl concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected public register reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while xor xor_eq main';
const CUDA =
  'threadIdx blockIdx blockDim gridDim warpSize dim3 uint3 min max expf logf sqrtf rsqrtf tanhf erff fabsf powf fmaxf fminf INFINITY NAN std';

export const CUDA_RESERVED: ReadonlySet<string> = new Set(`${CPP} ${CUDA}`.split(/\s+/));
