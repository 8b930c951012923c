// safetensors: round trip through a file, and files whose bytes the test
// builds by hand the way another program (PyTorch's safetensors) lays them out.
#include "layers/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "kernels/error.h"

namespace gcnn {
namespace {

std::string le_u64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

std::string le_f32(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((bits >> (8 * i)) & 0xFF);
  return s;
}

TEST(Safetensors, RoundTripThroughAFile) {
  std::map<std::string, Tensor> tensors;
  tensors["conv1.weight"] = Tensor::from_vector({2, 1, 1, 3}, {1, 2, 3, 4, 5, -6.25f});
  tensors["bn1.num_batches_tracked"] = Tensor::from_vector({}, {7});
  tensors["fc.bias"] = Tensor::from_vector({1}, {0.5f});
  const auto path = std::filesystem::temp_directory_path() / "gcnn_safetensors_roundtrip.safetensors";
  write_safetensors(path, tensors, {{"format", "pt"}, {"note", "quote \" and \\ backslash"}});
  Safetensors back = read_safetensors(path);
  std::filesystem::remove(path);
  ASSERT_EQ(back.tensors.size(), 3u);
  EXPECT_EQ(back.tensors["conv1.weight"].shape(), (Shape{2, 1, 1, 3}));
  EXPECT_EQ(back.tensors["conv1.weight"].to_vector(), (std::vector<float>{1, 2, 3, 4, 5, -6.25f}));
  EXPECT_EQ(back.tensors["bn1.num_batches_tracked"].shape(), Shape{});
  EXPECT_EQ(back.tensors["fc.bias"].to_vector(), std::vector<float>{0.5f});
  EXPECT_EQ(back.metadata["format"], "pt");
  EXPECT_EQ(back.metadata["note"], "quote \" and \\ backslash");
}

TEST(Safetensors, ReadsBytesWrittenByHand) {
  // Two tensors in the order another writer might choose, F32 and F16 and
  // BF16, unpadded header with spaces and a metadata map.
  const std::string header =
      R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]},)"
      R"( "h": {"dtype":"F16","shape":[2],"data_offsets":[8,12]}, "b": {"dtype":"BF16","shape":[],"data_offsets":[12,14]}})";
  std::string bytes = le_u64(header.size()) + header + le_f32(1.5f) + le_f32(-2.0f);
  bytes += std::string("\x00\x3C", 2);  // F16 1.0
  bytes += std::string("\x00\xC1", 2);  // F16 -2.5
  bytes += std::string("\x40\x40", 2);  // BF16 3.0 (0x4040)
  Safetensors st = parse_safetensors(bytes, "hand.safetensors");
  ASSERT_EQ(st.tensors.size(), 3u);
  EXPECT_EQ(st.tensors["w"].shape(), (Shape{2, 1}));
  EXPECT_EQ(st.tensors["w"].to_vector(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(st.tensors["h"].to_vector(), (std::vector<float>{1.0f, -2.5f}));
  EXPECT_EQ(st.tensors["b"].to_vector(), std::vector<float>{3.0f});
  EXPECT_EQ(st.metadata["format"], "pt");
}

TEST(Safetensors, ReadsTorchvisionInt64Counters) {
  const std::string header = R"({"bn1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})";
  Safetensors st = parse_safetensors(le_u64(header.size()) + header + le_u64(1234), "i64");
  EXPECT_EQ(st.tensors["bn1.num_batches_tracked"].to_vector(), std::vector<float>{1234});
}

TEST(Safetensors, OurBytesMatchTheFormatByteForByte) {
  std::map<std::string, Tensor> tensors;
  tensors["x"] = Tensor::from_vector({1}, {2.0f});
  const std::string bytes = encode_safetensors(tensors);
  std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  while (header.size() % 8) header += ' ';
  EXPECT_EQ(bytes, le_u64(header.size()) + header + le_f32(2.0f));
}

TEST(Safetensors, RejectsBrokenFilesNamingTheTensor) {
  const std::string bad_offsets = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  try {
    parse_safetensors(le_u64(bad_offsets.size()) + bad_offsets + le_f32(1), "short.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("short.safetensors"), std::string::npos) << e.what();
  }
  const std::string int_dtype = R"({"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})";
  EXPECT_THROW(parse_safetensors(le_u64(int_dtype.size()) + int_dtype + std::string(1, '\0'), "i8"), Error);
  EXPECT_THROW(parse_safetensors("abc", "tiny"), Error);
  EXPECT_THROW(parse_safetensors(le_u64(1000) + "{}", "long header"), Error);
  const std::string broken_json = R"({"w":{"dtype":"F32",)";
  EXPECT_THROW(parse_safetensors(le_u64(broken_json.size()) + broken_json, "json"), Error);
  EXPECT_THROW(read_safetensors("/nonexistent/x.safetensors"), Error);
}

}  // namespace
}  // namespace gcnn
