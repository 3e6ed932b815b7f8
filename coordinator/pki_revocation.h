#pragma once

// Revocation for the fleet PKI (coordinator/pki.h): a serial denylist and the
// issued-certificate log, both plain text in the PKI folder so an operator
// (or an auditor) can read them without tacit:
//   DIR/issued.log   one line per device certificate ever issued:
//                    <issued unix s> <device id> <serial hex> <not-after unix s>
//   DIR/revoked.txt  one line per revoked serial:
//                    <serial hex> <device id> <revoked unix s>
// `pki revoke DEVICE` revokes every serial issued to a device; `pki issue
// --replace` revokes the old ones before issuing; `pki list` prints both. The
// coordinator refuses every call whose TLS client certificate serial is on
// the denylist (RevocationList, checked by PeerIdentity on each RPC).
//
// Why a denylist and not a CRL in the TLS handshake: gRPC's TLS options take
// a CRL directory only on newer releases, and the coordinator must refuse a
// revoked device on connections opened before the revocation too; checking
// the serial per call does both, and the file reloads without a restart.

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tacit::coordinator {

inline constexpr char kIssuedLogFile[] = "issued.log";
inline constexpr char kRevokedFile[] = "revoked.txt";

// The certificate's serial number as lowercase hex (no leading zeros).
absl::StatusOr<std::string> CertificateSerialHex(const std::string& cert_pem);
// Its notAfter as Unix seconds.
absl::StatusOr<int64_t> CertificateNotAfter(const std::string& cert_pem);

struct IssuedCertificate {
  int64_t issued_at = 0;  // Unix seconds
  std::string device_id;
  std::string serial_hex;
  int64_t not_after = 0;  // Unix seconds
};
struct RevokedSerial {
  std::string serial_hex;
  std::string device_id;
  int64_t revoked_at = 0;  // Unix seconds
};

// Missing files read as empty; a malformed line is DataLoss naming the file and line.
absl::StatusOr<std::vector<IssuedCertificate>> ReadIssuedLog(const std::string& pki_dir);
absl::StatusOr<std::vector<RevokedSerial>> ReadRevocations(const std::string& pki_dir);

// Appends `cert_pem` (issued to `device_id`) to DIR/issued.log.
absl::Status RecordIssued(const std::string& pki_dir, const std::string& device_id,
                          const std::string& cert_pem);

// Revokes every certificate of `device_id`: the serials in issued.log and the
// one in devices/<id>.crt (certificates issued before the log existed).
// Returns the serials newly revoked (empty when all already were). NotFound
// when the folder never issued a certificate to the device.
absl::StatusOr<std::vector<std::string>> RevokeDeviceInFolder(const std::string& pki_dir,
                                                              const std::string& device_id);

// One row of `pki list`.
struct ListedCertificate {
  IssuedCertificate certificate;
  bool revoked = false;
  bool expired = false;
};
// Every certificate in issued.log plus unlogged devices/*.crt, oldest first.
absl::StatusOr<std::vector<ListedCertificate>> ListCertificatesInFolder(const std::string& pki_dir);

// The denylist as the server checks it: re-read whenever DIR/revoked.txt
// changes (inode, size or modification time), so a `pki revoke` takes effect
// on the next call without a restart. Thread-safe.
class RevocationList {
 public:
  explicit RevocationList(std::string pki_dir) : pki_dir_(std::move(pki_dir)) {}

  // OK when `serial_hex` is not revoked; PermissionDenied when it is.
  // Fails closed: Unavailable when the list cannot be read (every call is
  // refused until the operator mends the file).
  absl::Status Check(const std::string& serial_hex, const std::string& device_id);

 private:
  struct FileStamp {
    bool exists = false;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp& o) const {
      return exists == o.exists && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
    }
  };
  absl::Status ReloadIfChanged();  // mu_ held

  const std::string pki_dir_;
  std::mutex mu_;
  bool loaded_ = false;
  FileStamp stamp_;
  std::set<std::string> revoked_;
};

}  // namespace tacit::coordinator
