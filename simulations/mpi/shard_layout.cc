#include "simulations/mpi/shard_layout.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace tacit::sim {
namespace {

std::string Bytes(const Sha256Digest& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string Short(const std::string& digest) {
  return absl::BytesToHexString(digest).substr(0, 12);
}

}  // namespace

int OwnerRank(size_t person, int ranks) {
  if (ranks <= 1) return 0;
  return 1 + static_cast<int>(person % static_cast<size_t>(ranks - 1));
}

std::vector<size_t> PeopleOfRank(int rank, int ranks, size_t people) {
  std::vector<size_t> owned;
  for (size_t i = 0; i < people; ++i) {
    if (OwnerRank(i, ranks) == rank) owned.push_back(i);
  }
  return owned;
}

PersonFilter OwnedBy(int rank, int ranks) {
  return [rank, ranks](size_t person) { return OwnerRank(person, ranks) == rank; };
}

absl::StatusOr<v1::Digests> DigestsOf(const ExperimentConfig& config, const Population& people) {
  v1::Digests digests;
  TACIT_ASSIGN_OR_RETURN(Sha256Digest config_digest, Sha256(ExperimentConfigToJson(config).dump()));
  TACIT_ASSIGN_OR_RETURN(Sha256Digest data_digest, Sha256(people.fingerprint()));
  digests.set_config_sha256(Bytes(config_digest));
  digests.set_data_sha256(Bytes(data_digest));
  digests.set_people(people.size());
  return digests;
}

absl::StatusOr<v1::Digests> DigestsOf(const ExperimentConfig& config,
                                      const std::vector<PersonTokens>& people) {
  return DigestsOf(config, *LoadedPopulation::View(people));
}

absl::Status CheckSameRun(int rank, const v1::Digests& ours, const v1::Digests& theirs) {
  if (ours.config_sha256() != theirs.config_sha256()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rank ", rank, " resolved a different experiment config than rank 0 (config sha256 ",
        Short(theirs.config_sha256()), "... vs ", Short(ours.config_sha256()),
        "...): start every rank with the same tacit-sim arguments and the same config file"));
  }
  if (ours.people() != theirs.people() || ours.data_sha256() != theirs.data_sha256()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rank ", rank, " loaded different data than rank 0 (", theirs.people(), " people, sha256 ",
        Short(theirs.data_sha256()), "... vs ", ours.people(), " people, ",
        Short(ours.data_sha256()),
        "...): every machine must see the same data folder (a shared file system or identical "
        "copies)"));
  }
  return absl::OkStatus();
}

}  // namespace tacit::sim
