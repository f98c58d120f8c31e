// Identifiers a generated WGSL module must not declare: keywords, reserved words, and the builtins
// and types the printer itself calls (a tensor named `max` would shadow the builtin at module scope).
const KEYWORDS =
  'alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let loop override requires return struct switch true var while';
const RESERVED =
  'NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become binding_array cast catch class co_await co_return co_yield coherent column_major common compile compile_fragment concept const_cast consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast enum explicit export extends extern external fallthrough filter final finally friend from fxgroup get goto groupshared highp impl implements import inline instanceof interface layout lowp macro macro_rules match mediump meta mod module move mut mutable namespace new nil noexcept noinline nointerpolation noperspective null nullptr of operator package packoffset partition pass patch pixelfragment precise precision premerge priv protected pub public readonly ref regardless register reinterpret_cast require resource restrict self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target template this thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using varying virtual volatile wgsl where with writeonly yield';
const PREDECLARED =
  'f32 f16 i32 u32 bool vec2 vec3 vec4 mat2x2 mat3x3 mat4x4 array atomic ptr sampler texture_2d read write read_write function private workgroup uniform storage select max min exp exp2 log log2 sqrt inverseSqrt abs pow tanh clamp fract sign bitcast workgroupBarrier workgroup_id local_index main';

export const WGSL_RESERVED: ReadonlySet<string> = new Set(
  `${KEYWORDS} ${RESERVED} ${PREDECLARED}`.split(/\s+/),
);
