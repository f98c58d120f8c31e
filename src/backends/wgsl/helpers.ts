// WGSL helper functions the printer adds when a kernel needs them: math WGSL lacks (erf, sigmoid),
// builtins whose WGSL definition differs from the Loop IR's (pow, tanh, floor division), and the
// non-finite constants WGSL cannot spell as literals.

/** Helpers that call other helpers. */
export const WGSL_HELPER_DEPENDENCIES: Readonly<Record<string, readonly string[]>> = {
  ein_pow: ['ein_inf', 'ein_nan'],
};

export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  // A constant expression may not evaluate to infinity or NaN (shader-creation error), and WGSL has
  // no literal for them; the bits behind a `let` are a run-time value, so the bitcast is allowed.
  ein_inf: `
fn ein_inf() -> f32 {
  let bits = 0x7f800000u;
  return bitcast<f32>(bits);
}`,
  ein_nan: `
fn ein_nan() -> f32 {
  let bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}`,
  // Abramowitz & Stegun 7.1.26: |erf(x) - ein_erf(x)| <= 1.5e-7 in exact arithmetic; f32 rounding
  // adds a few units of 1e-7, so the absolute error stays below 5e-7 for every x.
  ein_erf: `
fn ein_erf(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return sign(x) * (1.0f - poly * exp(-a * a));
}`,
  ein_sigmoid: `
fn ein_sigmoid(x: f32) -> f32 {
  return 1.0f / (1.0f + exp(-x));
}`,
  // Some drivers compute tanh as (e^2x - 1) / (e^2x + 1), which is NaN once e^2x overflows; tanh(15)
  // already rounds to 1 in f32, so clamping changes no result.
  ein_tanh: `
fn ein_tanh(x: f32) -> f32 {
  return tanh(clamp(x, -15.0f, 15.0f));
}`,
  // WGSL's pow is exp2(y * log2(x)): undefined for x <= 0. The Loop IR's is C's: integral powers of
  // negative numbers are defined, and anything to the power 0 is 1.
  ein_pow: `
fn ein_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (x == 0.0f) { return select(0.0f, ein_inf(), y < 0.0f); }
  if (x > 0.0f) { return pow(x, y); }
  if (x < 0.0f) {
    if (fract(y) != 0.0f) { return ein_nan(); }
    let magnitude = pow(-x, y);
    return select(magnitude, -magnitude, fract(y * 0.5f) != 0.0f);
  }
  return x + y;
}`,
  // WGSL's / and % truncate towards zero; the Loop IR's floor.
  ein_floor_div: `
fn ein_floor_div(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, a % b != 0 && (a < 0) != (b < 0));
}`,
  ein_floor_mod: `
fn ein_floor_mod(a: i32, b: i32) -> i32 {
  let r = a % b;
  return select(r, r + b, r != 0 && (r < 0) != (b < 0));
}`,
};
