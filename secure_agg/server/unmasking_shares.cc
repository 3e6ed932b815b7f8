#include "secure_agg/server/unmasking_shares.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/secure_random.h"
#include "common/status_macros.h"

namespace tacit::secagg {
namespace {

// A seal's number is its nonce: unique under the round's own key.
std::array<uint8_t, kGcmNonceBytes> NonceFor(uint64_t seal) {
  std::array<uint8_t, kGcmNonceBytes> nonce{};
  std::memcpy(nonce.data(), &seal, sizeof(seal));
  return nonce;
}

// Owner, holder and kind: what the record says in the clear, bound to it.
std::array<uint8_t, 9> AssociatedData(SharedSecret kind, uint32_t owner, uint32_t holder) {
  std::array<uint8_t, 9> ad{};
  std::memcpy(ad.data(), &owner, 4);
  std::memcpy(ad.data() + 4, &holder, 4);
  ad[8] = static_cast<uint8_t>(kind);
  return ad;
}

void Wipe(std::vector<ShamirShare>& shares) {
  for (ShamirShare& s : shares) {
    Zeroize(absl::MakeSpan(reinterpret_cast<uint8_t*>(s.values.data()),
                           s.values.size() * sizeof(uint64_t)));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnmaskingShares>> UnmaskingShares::Create(
    absl::Span<const uint32_t> owners, size_t holders) {
  TACIT_ASSIGN_OR_RETURN(SecretKey key, RandomSecretKey());
  TACIT_ASSIGN_OR_RETURN(auto spool,
                         RecordSpool<SealedShare>::Create("", "round's sealed unmasking shares"));
  return std::unique_ptr<UnmaskingShares>(
      new UnmaskingShares(std::move(key), std::move(spool), owners, holders));
}

int64_t UnmaskingShares::RowOf(SharedSecret kind, uint32_t owner) const {
  auto it = std::lower_bound(owners_.begin(), owners_.end(), owner);
  if (it == owners_.end() || *it != owner) return -1;
  return static_cast<int64_t>(kind) * static_cast<int64_t>(owners_.size()) + (it - owners_.begin());
}

absl::Status UnmaskingShares::Add(SharedSecret kind, uint32_t holder,
                                  absl::Span<const uint32_t> owners,
                                  absl::Span<const uint64_t> values) {
  if (values.size() != owners.size() * kShamirChunks) {
    return absl::InternalError("share values do not match their owners (a bug)");
  }
  // Every share's row first: all checked before anything is written.
  std::vector<size_t> rows(owners.size());
  for (size_t i = 0; i < owners.size(); ++i) {
    const int64_t row = RowOf(kind, owners[i]);
    if (row < 0 || counts_[static_cast<size_t>(row)] >= holders_ ||
        std::find(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(i),
                  static_cast<size_t>(row)) != rows.begin() + static_cast<std::ptrdiff_t>(i)) {
      return absl::InternalError(absl::StrCat(
          "a share of ", owners[i], " outside the round, twice or beyond its holders (a bug)"));
    }
    rows[i] = static_cast<size_t>(row);
  }
  SealedShare record;
  for (size_t i = 0; i < owners.size(); ++i) {
    record.owner = owners[i];
    record.holder = holder;
    record.seal = seals_++;
    const auto plain = absl::MakeConstSpan(
        reinterpret_cast<const uint8_t*>(values.data() + i * kShamirChunks), kShamirChunks * 8);
    TACIT_ASSIGN_OR_RETURN(Bytes sealed, AesGcmSeal(key_, NonceFor(record.seal), plain,
                                                    AssociatedData(kind, record.owner, holder)));
    std::memcpy(record.sealed.data(), sealed.data(), record.sealed.size());
    TACIT_RETURN_IF_ERROR(
        spool_->WriteAt(rows[i] * holders_ + counts_[rows[i]], absl::MakeConstSpan(&record, 1)));
  }
  for (size_t row : rows) ++counts_[row];
  return absl::OkStatus();
}

size_t UnmaskingShares::Count(SharedSecret kind, uint32_t owner) const {
  const int64_t row = RowOf(kind, owner);
  return row < 0 ? 0 : counts_[static_cast<size_t>(row)];
}

absl::StatusOr<std::vector<ShamirShare>> UnmaskingShares::Open(SharedSecret kind,
                                                               uint32_t owner) const {
  const int64_t row = RowOf(kind, owner);
  if (row < 0 || counts_[static_cast<size_t>(row)] == 0) return std::vector<ShamirShare>();
  const size_t count = counts_[static_cast<size_t>(row)];
  const uint64_t first = static_cast<uint64_t>(row) * holders_;
  std::vector<SealedShare> records;
  TACIT_RETURN_IF_ERROR(spool_->ReadRun(first, count, &records));
  std::vector<ShamirShare> shares(count);
  // Shares opened before a record that fails are wiped with it.
  struct WipeUnlessReturned {
    std::vector<ShamirShare>& shares;
    bool returned = false;
    ~WipeUnlessReturned() {
      if (!returned) Wipe(shares);
    }
  } wipe{shares};
  for (size_t i = 0; i < count; ++i) {
    const SealedShare& r = records[i];
    absl::StatusOr<Bytes> plain =
        AesGcmOpen(key_, NonceFor(r.seal), r.sealed, AssociatedData(kind, owner, r.holder));
    if (r.owner != owner || !plain.ok() || plain->size() != kShamirChunks * 8) {
      return absl::DataLossError(absl::StrCat("a held unmasking share of client ", owner,
                                              " does not open: its file under $TMPDIR was "
                                              "changed; the round is abandoned"));
    }
    shares[i].holder_id = r.holder;
    shares[i].values.resize(kShamirChunks);
    std::memcpy(shares[i].values.data(), plain->data(), plain->size());
    Zeroize(absl::MakeSpan(*plain));
  }
  wipe.returned = true;
  return shares;
}

void UnmaskingShares::Clear() { std::fill(counts_.begin(), counts_.end(), 0); }

}  // namespace tacit::secagg
