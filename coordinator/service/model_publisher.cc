#include "coordinator/service/model_publisher.h"

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "coordinator/service/refusal.h"
#include "models/model_file.h"

namespace tacit::coordinator {

absl::Status ModelPublisher::Publish(int64_t version, const std::vector<float>& parameters) {
  ModelFile file{version, config_, layout_hash_, parameters};
  TACIT_ASSIGN_OR_RETURN(std::string bytes, EncodeModelFile(file));
  ModelDownload download;
  TACIT_ASSIGN_OR_RETURN(download.sha256_hex, ::tacit::Sha256Hex(bytes));
  download.bytes = std::make_shared<const std::string>(std::move(bytes));
  download.version = version;
  download_ = std::move(download);
  return absl::OkStatus();
}

absl::StatusOr<ModelDownload> ModelPublisher::Serve(int64_t version, int64_t offset) const {
  if (!published()) {
    return Refusal("no_model", absl::UnavailableError(
                                   "no model is published yet; check in again in a few seconds"));
  }
  if (version != download_.version) {
    return Refusal("stale_download",
                   absl::FailedPreconditionError(absl::StrCat(
                       "model version ", version, " is not served; the current version is ",
                       download_.version, ": check in again")));
  }
  const int64_t size = static_cast<int64_t>(download_.bytes->size());
  if (offset < 0 || offset > size) {
    return Refusal("bad_offset",
                   absl::OutOfRangeError(absl::StrCat(
                       "download offset ", offset, " is outside the ", size, "-byte model file")));
  }
  return download_;
}

}  // namespace tacit::coordinator
