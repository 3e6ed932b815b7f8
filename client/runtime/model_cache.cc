#include "client/runtime/model_cache.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace tacit::runtime {
namespace {

std::string ModelDir(const std::string& dir) { return dir + "/model"; }
std::string ModelPath(const std::string& dir) { return ModelDir(dir) + "/global.model"; }
std::string PartPath(const std::string& dir) { return ModelDir(dir) + "/download.part"; }
std::string PartMetaPath(const std::string& dir) { return ModelDir(dir) + "/download.json"; }

// Bytes already held for `version` (0 when none or for another version).
int64_t ResumeOffset(const std::string& dir, int64_t version, std::string* sha256_hex) {
  auto meta_text = ReadFileToString(PartMetaPath(dir));
  if (!meta_text.ok()) return 0;
  absl::StatusOr<nlohmann::json> meta = ParseJson(*meta_text, "download.json");
  if (!meta.ok() || IntOr(*meta, "version", -1) != version) return 0;
  std::error_code error;
  auto size = std::filesystem::file_size(PartPath(dir), error);
  if (error) return 0;
  *sha256_hex = StringOr(*meta, "sha256", "");
  return static_cast<int64_t>(size);
}

void ForgetPartial(const std::string& dir) {
  std::error_code error;
  std::filesystem::remove(PartPath(dir), error);
  std::filesystem::remove(PartMetaPath(dir), error);
}

absl::Status Download(v1::Federation::Stub& stub, const std::string& dir,
                      const v1::Assignment& assignment, int64_t max_download_bytes,
                      RpcBytes* counted) {
  TACIT_RETURN_IF_ERROR(MakeDirectories(ModelDir(dir), 0700));
  std::string sha256_hex;
  int64_t offset = ResumeOffset(dir, assignment.model_version(), &sha256_hex);
  if (offset == 0) ForgetPartial(dir);
  v1::DownloadModelRequest request;
  request.set_session(assignment.session());
  request.set_round_id(assignment.round_id());
  request.set_model_version(assignment.model_version());
  request.set_offset(offset);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  ++counted->calls;
  counted->up += static_cast<int64_t>(request.ByteSizeLong());
  auto reader = stub.DownloadModel(&context, request);
  std::ofstream part(PartPath(dir), std::ios::binary | std::ios::app);
  v1::ModelChunk chunk;
  int64_t total = -1;
  const int64_t start = offset;
  bool budget_spent = false;
  while (!budget_spent && reader->Read(&chunk)) {
    // Counted as soon as received: every byte that came is in the audit
    // log, whatever is wrong with it.
    counted->down += static_cast<int64_t>(chunk.ByteSizeLong());
    if (chunk.offset() != offset || chunk.model_version() != assignment.model_version() ||
        (!sha256_hex.empty() && chunk.sha256_hex() != sha256_hex)) {
      ForgetPartial(dir);
      context.TryCancel();
      return absl::DataLossError(absl::StrCat("model chunk at offset ", chunk.offset(),
                                              " does not continue the download at ", offset,
                                              "; it restarts next time"));
    }
    if (sha256_hex.empty()) {
      sha256_hex = chunk.sha256_hex();
      nlohmann::json meta = {{"version", assignment.model_version()}, {"sha256", sha256_hex}};
      TACIT_RETURN_IF_ERROR(WriteFileAtomically(PartMetaPath(dir), meta.dump(), 0600));
    }
    part.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    part.flush();
    offset += static_cast<int64_t>(chunk.data().size());
    total = chunk.total_bytes();
    budget_spent = max_download_bytes > 0 && offset - start >= max_download_bytes && offset < total;
  }
  part.close();
  if (budget_spent) {
    context.TryCancel();
    (void)reader->Finish();
    return absl::ResourceExhaustedError(absl::StrCat(
        "model download paused at byte ", offset, " of ", total, ": the budget of ",
        max_download_bytes, " bytes per assignment is spent (--max-download-bytes); it ",
        "continues from there at the next assignment"));
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE) ForgetPartial(dir);  // not a prefix
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("model download stopped at byte ", offset, ": ",
                                               status.error_message(), " (resumes next time)"));
  }
  if (total >= 0 && offset != total) {
    return absl::DataLossError(
        absl::StrCat("model download ended at ", offset, " of ", total, " bytes"));
  }
  TACIT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(PartPath(dir)));
  TACIT_ASSIGN_OR_RETURN(std::string digest, Sha256Hex(bytes));
  if (digest != sha256_hex) {
    ForgetPartial(dir);
    return absl::DataLossError("the downloaded model does not match its SHA-256; it restarts");
  }
  TACIT_ASSIGN_OR_RETURN(ModelFile model, DecodeModelFile(bytes));
  if (model.layout_hash != assignment.layout_hash() ||
      model.model_version != assignment.model_version()) {
    ForgetPartial(dir);
    return absl::FailedPreconditionError(
        absl::StrCat("the downloaded model is version ", model.model_version, " layout ",
                     model.layout_hash, ", not the assigned version ", assignment.model_version(),
                     " layout ", assignment.layout_hash()));
  }
  TACIT_RETURN_IF_ERROR(SaveModelFile(ModelPath(dir), model));
  ForgetPartial(dir);
  return absl::OkStatus();
}

}  // namespace

std::optional<TaskConfig> LastAssignedTask(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadFileToString(ModelDir(dir) + "/task.json");
  if (!text.ok()) return std::nullopt;
  absl::StatusOr<nlohmann::json> json = ParseJson(*text, "model/task.json");
  absl::StatusOr<TaskConfig> task = json.ok() ? ParseTaskConfig(*json) : json.status();
  if (!task.ok()) return std::nullopt;
  return *std::move(task);
}

HeldModel HeldModelOf(const std::string& dir) {
  HeldModel held;
  auto model = LoadModelFile(ModelPath(dir));
  if (model.ok()) {
    held.version = model->model_version;
    held.layout_hash = model->layout_hash;
  }
  return held;
}

int64_t HeldDownloadBytes(const std::string& dir, int64_t version) {
  std::string ignored;
  return ResumeOffset(dir, version, &ignored);
}

absl::StatusOr<ModelFile> FetchModel(v1::Federation::Stub& stub, const std::string& dir,
                                     const v1::Assignment& assignment, int64_t max_download_bytes,
                                     RpcBytes* counted) {
  auto held = LoadModelFile(ModelPath(dir), assignment.layout_hash());
  if (held.ok() && held->model_version == assignment.model_version()) return held;
  TACIT_RETURN_IF_ERROR(Download(stub, dir, assignment, max_download_bytes, counted));
  return LoadModelFile(ModelPath(dir), assignment.layout_hash());
}

}  // namespace tacit::runtime
