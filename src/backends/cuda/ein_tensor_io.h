// ein_tensor_io.h — host-side tensor exchange for programs run by toolchain.ts's runEmulated().
// A tensor NAME is the raw little-endian file NAME.f32 or NAME.i32 in the working directory, which
// runEmulated() sets to the run's temporary folder. Any I/O failure ends the program with status 2.
#ifndef EIN_TENSOR_IO_H
#define EIN_TENSOR_IO_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace ein_io {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "ein_tensor_io: %s\n", what.c_str());
  std::exit(2);
}

template <class T> std::vector<T> read(const char* name, const char* extension) {
  const std::string path = std::string(name) + extension;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) fail("cannot open " + path);
  std::fseek(file, 0, SEEK_END);
  const long bytes = std::ftell(file);
  std::fseek(file, 0, SEEK_SET);
  if (bytes < 0 || bytes % sizeof(T) != 0) fail(path + " is not a whole number of elements");
  std::vector<T> values(static_cast<size_t>(bytes) / sizeof(T));
  if (std::fread(values.data(), sizeof(T), values.size(), file) != values.size()) fail("cannot read " + path);
  std::fclose(file);
  return values;
}

template <class T> void write(const char* name, const char* extension, const T* values, size_t count) {
  const std::string path = std::string(name) + extension;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file || std::fwrite(values, sizeof(T), count, file) != count || std::fclose(file) != 0) {
    fail("cannot write " + path);
  }
}

}  // namespace ein_io

inline std::vector<float> ein_read_f32(const char* name) { return ein_io::read<float>(name, ".f32"); }
inline std::vector<int32_t> ein_read_i32(const char* name) { return ein_io::read<int32_t>(name, ".i32"); }
inline void ein_write_f32(const char* name, const float* values, size_t count) {
  ein_io::write(name, ".f32", values, count);
}
inline void ein_write_i32(const char* name, const int32_t* values, size_t count) {
  ein_io::write(name, ".i32", values, count);
}

#endif  // EIN_TENSOR_IO_H
