// safetensors files that are hostile rather than merely malformed: deep JSON
// nesting, oversized or lying header lengths, shapes whose element count
// overflows, and non-finite weights. Each must be a clear input error naming
// the file (and the tensor), never a crash or an engine source location.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "kernels/error.h"
#include "layers/layer.h"
#include "layers/models.h"
#include "layers/safetensors.h"

namespace gcnn {
namespace {

std::string with_header(const std::string& json, const std::string& data = "") {
  std::string out(8, '\0');
  const std::uint64_t len = json.size();
  std::memcpy(out.data(), &len, 8);
  return out + json + data;
}

// The message of the InputError that parse_safetensors throws for bytes.
std::string parse_error(const std::string& bytes) {
  try {
    parse_safetensors(bytes, "hostile.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

TEST(SafetensorsLimits, DeepNestingIsAnErrorNamingTheFile) {
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  const std::string message = parse_error(with_header(deep));
  EXPECT_NE(message.find("hostile.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("nested deeper than"), std::string::npos) << message;
}

TEST(SafetensorsLimits, HeaderLengthIsCheckedAgainstFileSizeAndLimit) {
  std::string lying(8, '\0');
  const std::uint64_t huge = std::uint64_t{1} << 40;
  std::memcpy(lying.data(), &huge, 8);
  EXPECT_NE(parse_error(lying + "{}").find("exceeds the file size"), std::string::npos);

  const std::string big = "{\"__metadata__\":{\"pad\":\"" + std::string(std::size_t{100} << 20, ' ') + "\"}}";
  EXPECT_NE(parse_error(with_header(big)).find("exceeds the limit of"), std::string::npos);
}

TEST(SafetensorsLimits, ShapeOverflowNamesTheTensor) {
  for (const char* shape : {"[4294967296,4294967296,1]", "[4611686018427387904,4]", "[9223372036854775808]"}) {
    const std::string json =
        std::string("{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":") + shape + ",\"data_offsets\":[0,0]}}";
    const std::string message = parse_error(with_header(json));
    EXPECT_NE(message.find("tensor 'conv1.weight'"), std::string::npos) << shape << ": " << message;
  }
}

TEST(SafetensorsLimits, BadSyntaxIsAnInputErrorWithoutEngineSourceLocation) {
  const std::string message = parse_error(with_header("{\"a\": [1, 2"));
  EXPECT_NE(message.find("hostile.safetensors: bad safetensors header"), std::string::npos) << message;
  EXPECT_EQ(message.find(".cpp:"), std::string::npos) << message;
}

TEST(SafetensorsLimits, NonFiniteWeightsAreRefusedNamingTheTensor) {
  ResNetOptions options;
  options.width = 8;
  auto model = make_resnet(options, 1);
  std::map<std::string, Tensor> state = state_dict(*model);
  const std::vector<float> before = state["layer2.0.bn1.weight"].to_vector();
  std::vector<float> values = state["layer2.0.bn1.weight"].to_vector();
  values[3] = std::numeric_limits<float>::quiet_NaN();
  std::map<std::string, Tensor> bad = state;
  bad["layer2.0.bn1.weight"] = Tensor::from_vector({static_cast<std::int64_t>(values.size())}, values);
  bad["conv1.weight"] = Tensor::from_vector(state["conv1.weight"].shape(),
                                            std::vector<float>(state["conv1.weight"].numel(), 0.25f));
  try {
    load_state_dict(*model, bad, "weights.safetensors");
    FAIL() << "expected the NaN to be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weights.safetensors: tensor 'layer2.0.bn1.weight' holds a non-finite"),
              std::string::npos)
        << e.what();
  }
  // Nothing was copied: the model keeps its own weights.
  EXPECT_NE(state_dict(*model)["conv1.weight"].to_vector()[0], 0.25f);
  EXPECT_EQ(state_dict(*model)["layer2.0.bn1.weight"].to_vector(), before);
}

TEST(SafetensorsLimits, AFolderIsNotASafetensorsFile) {
  try {
    read_safetensors(std::filesystem::temp_directory_path());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gcnn
