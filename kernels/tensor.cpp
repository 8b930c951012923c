// Tensor and Storage: allocation on either device, views, copies.
#include "kernels/tensor.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>

#include "kernels/cuda/backend.h"
#include "kernels/error.h"
#include "kernels/host_allocator.h"

namespace gcnn {

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
  }
  return "?";
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

Storage::Storage(std::size_t bytes, Device device, bool zeroed) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    data_ = zeroed ? host::allocate_zeroed(bytes) : host::allocate(bytes);
  } else {
    data_ = cuda::allocate(device.index, bytes);
    if (zeroed) cuda::fill_float(device.index, static_cast<float*>(data_), bytes / sizeof(float), 0.0f);
  }
}

Storage::~Storage() {
  if (!data_) return;
  if (device_.is_cpu()) {
    host::release(data_, bytes_);
  } else {
    cuda::release(device_.index, data_, bytes_);
  }
}

namespace {
void check_shape_valid(const Shape& shape) {
  GCNN_CHECK(shape.size() <= static_cast<std::size_t>(Tensor::kMaxDims),
             "tensor shape {} has {} dims; at most {} are supported", shape_str(shape), shape.size(),
             Tensor::kMaxDims);
  for (auto d : shape) GCNN_CHECK(d >= 0, "tensor shape {} has a negative dimension", shape_str(shape));
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, Device device, DType dtype) {
  check_shape_valid(shape);
  Tensor t;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.dtype_ = dtype;
  t.storage_ = std::make_shared<Storage>(t.nbytes(), device);
  return t;
}

Tensor Tensor::zeros(const Shape& shape, Device device) {
  check_shape_valid(shape);
  Tensor t;
  t.shape_ = shape;
  t.numel_ = shape_numel(shape);
  t.storage_ = std::make_shared<Storage>(t.nbytes(), device, true);
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values, Device device) {
  GCNN_CHECK(shape_numel(shape) == static_cast<std::int64_t>(values.size()),
             "from_vector: shape {} holds {} elements but {} values were given", shape_str(shape),
             shape_numel(shape), values.size());
  Tensor t = empty(shape, device);
  if (device.is_cpu()) {
    std::copy(values.begin(), values.end(), t.data<float>());
  } else if (!values.empty()) {
    cuda::copy(device.index, t.raw_data(), values.data(), t.nbytes(), cuda::CopyKind::HostToDevice);
  }
  return t;
}

std::int64_t Tensor::dim(int i) const {
  int n = ndim();
  int j = i < 0 ? i + n : i;
  GCNN_CHECK(j >= 0 && j < n, "dimension {} out of range for tensor of shape {}", i, shape_str(shape_));
  return shape_[j];
}

Device Tensor::device() const { return storage_ ? storage_->device() : Device::cpu(); }

std::string Tensor::describe() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("{}{} on {}", dtype_name(dtype_), shape_str(shape_), device().str());
}

void* Tensor::raw_data() const {
  GCNN_CHECK(defined(), "access to the data of an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_;
}

void Tensor::check_element_type(std::size_t size, bool floating) const {
  GCNN_CHECK(defined(), "access to the data of an undefined tensor");
  GCNN_CHECK(dtype_size(dtype_) == size && (floating == (dtype_ == DType::F32)),
             "tensor {} accessed with an element type of {} bytes", describe(), size);
}

Tensor Tensor::reshape(const Shape& shape) const {
  GCNN_CHECK(defined(), "reshape of an undefined tensor");
  Shape resolved = shape;
  int infer = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < resolved.size(); ++i) {
    if (resolved[i] == -1) {
      GCNN_CHECK(infer < 0, "reshape {} -> {}: only one dimension may be -1", shape_str(shape_),
                 shape_str(shape));
      infer = static_cast<int>(i);
    } else {
      GCNN_CHECK(resolved[i] >= 0, "reshape {} -> {}: negative dimension", shape_str(shape_), shape_str(shape));
      known *= resolved[i];
    }
  }
  if (infer >= 0) {
    GCNN_CHECK(known > 0 && numel_ % known == 0, "reshape {} -> {}: cannot infer the -1 dimension",
               shape_str(shape_), shape_str(shape));
    resolved[infer] = numel_ / known;
  }
  check_shape_valid(resolved);
  GCNN_CHECK(shape_numel(resolved) == numel_, "reshape {} -> {}: {} elements cannot become {}",
             shape_str(shape_), shape_str(shape), numel_, shape_numel(resolved));
  Tensor view = *this;
  view.shape_ = resolved;
  return view;
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  GCNN_CHECK(defined() && ndim() >= 1, "slice of {}: needs at least one dimension", describe());
  GCNN_CHECK(0 <= begin && begin <= end && end <= shape_[0],
             "slice [{}, {}) out of range for dimension 0 of shape {}", begin, end, shape_str(shape_));
  Tensor view = *this;
  std::int64_t row = numel_ / std::max<std::int64_t>(shape_[0], 1);
  view.shape_[0] = end - begin;
  view.numel_ = row * (end - begin);
  view.offset_ = offset_ + static_cast<std::size_t>(begin * row) * dtype_size(dtype_);
  return view;
}

Tensor Tensor::to(Device device) const {
  Tensor out = empty(shape_, device, dtype_);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::clone() const { return to(device()); }

void Tensor::copy_from(const Tensor& src) {
  GCNN_CHECK(defined() && src.defined(), "copy between undefined tensors");
  GCNN_CHECK(numel_ == src.numel_ && dtype_ == src.dtype_, "copy_from: destination {} and source {} differ",
             describe(), src.describe());
  if (nbytes() == 0) return;
  Device d = device(), s = src.device();
  if (d.is_cpu() && s.is_cpu()) {
    std::memmove(raw_data(), src.raw_data(), nbytes());
  } else if (d.is_cuda() && s.is_cpu()) {
    cuda::copy(d.index, raw_data(), src.raw_data(), nbytes(), cuda::CopyKind::HostToDevice);
  } else if (d.is_cpu() && s.is_cuda()) {
    cuda::copy(s.index, raw_data(), src.raw_data(), nbytes(), cuda::CopyKind::DeviceToHost);
  } else {
    GCNN_CHECK(d == s, "copy_from: copies between different CUDA devices ({} <- {}) are not supported",
               d.str(), s.str());
    cuda::copy(d.index, raw_data(), src.raw_data(), nbytes(), cuda::CopyKind::DeviceToDevice);
  }
}

std::vector<float> Tensor::to_vector() const {
  GCNN_CHECK(dtype_ == DType::F32, "to_vector needs an f32 tensor, got {}", describe());
  std::vector<float> out(static_cast<std::size_t>(numel_));
  if (numel_ == 0) return out;
  if (device().is_cpu()) {
    std::memcpy(out.data(), raw_data(), nbytes());
  } else {
    cuda::copy(device().index, out.data(), raw_data(), nbytes(), cuda::CopyKind::DeviceToHost);
  }
  return out;
}

void Tensor::fill(float value) {
  GCNN_CHECK(dtype_ == DType::F32, "fill needs an f32 tensor, got {}", describe());
  if (numel_ == 0) return;
  if (device().is_cpu()) {
    std::fill_n(data<float>(), numel_, value);
  } else {
    cuda::fill_float(device().index, data<float>(), static_cast<std::size_t>(numel_), value);
  }
}

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  GCNN_CHECK(a.shape() == b.shape(), "{}: shapes differ: {} vs {}", op, shape_str(a.shape()),
             shape_str(b.shape()));
}

void check_shape(const char* op, const char* name, const Tensor& t, const Shape& expected) {
  GCNN_CHECK(t.shape() == expected, "{}: {} has shape {}, expected {}", op, name, shape_str(t.shape()),
             shape_str(expected));
}

}  // namespace gcnn
