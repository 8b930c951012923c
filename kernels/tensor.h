// Tensor: a shape, a dtype, a device and reference-counted storage. Tensors are
// always contiguous; reshape and batch slicing are cheap views that share the
// storage. Misuse throws gcnn::Error naming the shapes and devices involved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/device.h"

namespace gcnn {

enum class DType : std::uint8_t { F32, F16, BF16 };
std::size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);

using Shape = std::vector<std::int64_t>;
std::string shape_str(const Shape& shape);  // "[32, 3, 128, 128]"
std::int64_t shape_numel(const Shape& shape);

// A block of memory on one device, freed (or returned to the device's caching
// allocator) when the last tensor using it goes away.
class Storage {
 public:
  // Uninitialised memory, or zeros when zeroed (a large host block is then
  // freshly mapped where it can be, and takes no memory until written).
  Storage(std::size_t bytes, Device device, bool zeroed = false);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  static constexpr int kMaxDims = 8;

  Tensor() = default;  // undefined tensor: defined() is false
  // Uninitialised memory.
  static Tensor empty(const Shape& shape, Device device = Device::cpu(), DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  // Copies values (numel must match) onto the device.
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values,
                            Device device = Device::cpu());

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  // Size of dimension i; negative i counts from the end.
  std::int64_t dim(int i) const;
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const;
  std::string describe() const;  // "f32[32, 3, 128, 128] on cpu"

  // Raw element pointer (device memory for CUDA tensors). T must match dtype.
  template <class T = float>
  T* data() const {
    check_element_type(sizeof(T), std::is_floating_point_v<T>);
    return reinterpret_cast<T*>(raw_data());
  }
  void* raw_data() const;

  // Views sharing storage. reshape accepts one -1 dimension to infer.
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of dimension 0.
  Tensor slice(std::int64_t begin, std::int64_t end) const;
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }

  // New tensors holding copies.
  Tensor to(Device device) const;
  Tensor clone() const;
  // Copies src (same numel and dtype, any device) into this tensor's memory.
  void copy_from(const Tensor& src);
  // Values as float on the host, whatever the device.
  std::vector<float> to_vector() const;

  void fill(float value);
  void zero() { fill(0.0f); }

 private:
  void check_element_type(std::size_t size, bool floating) const;

  std::shared_ptr<Storage> storage_;
  std::size_t offset_ = 0;  // bytes into storage_
  Shape shape_;
  std::int64_t numel_ = 0;
  DType dtype_ = DType::F32;
};

// Throws unless a and b have the same shape; op names the operation.
void check_same_shape(const char* op, const Tensor& a, const Tensor& b);
// Throws unless t has exactly the given shape.
void check_shape(const char* op, const char* name, const Tensor& t, const Shape& expected);

}  // namespace gcnn
