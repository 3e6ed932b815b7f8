#include "models/model_file.h"

#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "models/parameter_layout.h"

namespace tacit {
namespace {

constexpr char kMagic[8] = {'T', 'A', 'C', 'I', 'T', 'M', 'D', 'L'};
constexpr size_t kPreamble = sizeof(kMagic) + 4 + 8;
// A header is a few hundred bytes; anything huge is corruption, not a model.
constexpr uint64_t kMaxHeader = 1 << 20;

bool HostIsLittleEndian() {
  const uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

template <typename T>
void AppendLittleEndian(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

template <typename T>
T ReadLittleEndian(const char* p) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return value;
}

// SHA-256 over the header's canonical JSON (without the checksum field; keys
// sorted) followed by the payload, so a flipped byte anywhere is caught.
// Internal (naming the model file) when OpenSSL's digest fails.
absl::StatusOr<std::string> Checksum(const nlohmann::json& header_without_checksum,
                                     const char* payload, size_t size) {
  const std::string header = header_without_checksum.dump();
  absl::StatusOr<Sha256Digest> digest =
      Sha256Hasher().Update(header).Update(std::string_view(payload, size)).Finish();
  if (!digest.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot checksum the model file: ", digest.status().message()));
  }
  return DigestHex(*digest);
}

absl::Status CheckParameters(const ModelFile& model, const ParameterLayout& layout) {
  if (static_cast<int64_t>(model.parameters.size()) != layout.total_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("model has ", model.parameters.size(), " parameters but the layout of its ",
                     model.config.name, " config needs ", layout.total_size));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> EncodeModelFile(const ModelFile& model) {
  if (!HostIsLittleEndian()) {
    return absl::UnimplementedError("model files are little-endian; this host is big-endian");
  }
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(model.config));
  TACIT_RETURN_IF_ERROR(CheckParameters(model, layout));
  if (!model.layout_hash.empty() && model.layout_hash != layout.hash) {
    return absl::InvalidArgumentError(absl::StrCat("model layout hash ", model.layout_hash,
                                                   " does not match its config (", layout.hash,
                                                   "); leave it empty to take the config's"));
  }
  const size_t payload_bytes = model.parameters.size() * sizeof(float);
  const char* payload = reinterpret_cast<const char*>(model.parameters.data());
  nlohmann::json header_json = {{"model_version", model.model_version},
                                {"config", model.config.ToJson()},
                                {"layout_hash", layout.hash},
                                {"parameter_count", layout.total_size}};
  TACIT_ASSIGN_OR_RETURN(std::string checksum, Checksum(header_json, payload, payload_bytes));
  header_json["sha256"] = checksum;
  const std::string header = header_json.dump();
  std::string out;
  out.reserve(kPreamble + header.size() + payload_bytes);
  out.append(kMagic, sizeof(kMagic));
  AppendLittleEndian<uint32_t>(out, kModelFileFormatVersion);
  AppendLittleEndian<uint64_t>(out, header.size());
  out += header;
  out.append(payload, payload_bytes);
  return out;
}

absl::StatusOr<ModelFile> DecodeModelFile(const std::string& bytes) {
  if (!HostIsLittleEndian()) {
    return absl::UnimplementedError("model files are little-endian; this host is big-endian");
  }
  if (bytes.size() < kPreamble || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("not a tacit model file (missing the TACITMDL magic)");
  }
  const uint32_t format = ReadLittleEndian<uint32_t>(bytes.data() + 8);
  if (format != kModelFileFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("model file format version ", format, " is not supported (this build reads ",
                     kModelFileFormatVersion, "); use a matching tacit release"));
  }
  const uint64_t header_size = ReadLittleEndian<uint64_t>(bytes.data() + 12);
  if (header_size > kMaxHeader || header_size > bytes.size() - kPreamble) {
    return absl::DataLossError(
        absl::StrCat("model file header length ", header_size, " exceeds the file; truncated?"));
  }
  absl::StatusOr<nlohmann::json> parsed = ParseJson(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()) + kPreamble, header_size),
      "model file header");
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::DataLossError(
        absl::StrCat("model file header is not a JSON object; the file is corrupt (",
                     parsed.ok() ? "not an object" : parsed.status().message(), ")"));
  }
  nlohmann::json& header = *parsed;
  ModelFile model;
  std::string payload_sha;
  int64_t count = 0;
  try {
    model.model_version = header.at("model_version").get<int64_t>();
    model.layout_hash = header.at("layout_hash").get<std::string>();
    count = header.at("parameter_count").get<int64_t>();
    payload_sha = header.at("sha256").get<std::string>();
    TACIT_ASSIGN_OR_RETURN(model.config, ModelConfig::FromJson(header.at("config")));
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(
        absl::StrCat("model file header lacks a field or has a wrong type: ", e.what()));
  }
  TACIT_ASSIGN_OR_RETURN(ParameterLayout layout, LayoutOf(model.config));
  if (model.layout_hash != layout.hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("model file layout hash ", model.layout_hash, " does not match its config's ",
                     layout.hash, "; it was written by an incompatible version"));
  }
  if (count != layout.total_size) {
    return absl::DataLossError(absl::StrCat(
        "model file declares ", count, " parameters but its config needs ", layout.total_size));
  }
  const size_t payload_offset = kPreamble + header_size;
  const size_t payload_bytes = static_cast<size_t>(count) * sizeof(float);
  if (bytes.size() - payload_offset != payload_bytes) {
    return absl::DataLossError(absl::StrCat("model file payload is ", bytes.size() - payload_offset,
                                            " bytes, expected ", payload_bytes,
                                            "; truncated or padded"));
  }
  header.erase("sha256");
  TACIT_ASSIGN_OR_RETURN(std::string checksum,
                         Checksum(header, bytes.data() + payload_offset, payload_bytes));
  if (checksum != payload_sha) {
    return absl::DataLossError("model file fails its SHA-256 check; the file is corrupt");
  }
  model.parameters.resize(static_cast<size_t>(count));
  std::memcpy(model.parameters.data(), bytes.data() + payload_offset, payload_bytes);
  return model;
}

absl::Status SaveModelFile(const std::string& path, const ModelFile& model) {
  TACIT_ASSIGN_OR_RETURN(std::string bytes, EncodeModelFile(model));
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<ModelFile> LoadModelFile(const std::string& path) {
  TACIT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto model = DecodeModelFile(bytes);
  if (!model.ok()) {
    return absl::Status(model.status().code(), absl::StrCat(path, ": ", model.status().message()));
  }
  return model;
}

absl::StatusOr<ModelFile> LoadModelFile(const std::string& path,
                                        const std::string& expected_layout_hash) {
  TACIT_ASSIGN_OR_RETURN(ModelFile model, LoadModelFile(path));
  if (model.layout_hash != expected_layout_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": model layout hash ", model.layout_hash, " is not the task's ",
                     expected_layout_hash, "; fetch the task's model again"));
  }
  return model;
}

}  // namespace tacit
