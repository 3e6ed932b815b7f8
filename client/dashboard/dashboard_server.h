#pragma once

// `tacit-client dashboard`'s HTTP server: the local privacy page
// (dashboard_page.h) on 127.0.0.1 only, behind a per-session token
// (dashboard_token.h).
//   GET  /?token=T   the page
//   POST /pause      pause collection and training (as `tacit-client pause`)
//   POST /resume     resume both
//   POST /erase      erase every stored event (as `tacit-client erase --all`)
// The POSTs carry the token in the X-Tacit-Token header: a page elsewhere on
// the web cannot set that header on a request to 127.0.0.1 without a CORS
// preflight, which this server never grants. A request without the token, or
// with a Host other than this server's loopback address (DNS rebinding), is
// refused with 403 and shows nothing.

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace tacit::dashboard {

struct DashboardOptions {
  std::string dir;                 // the client's folder
  std::string bind = "127.0.0.1";  // anything else is refused
  int port = 0;                    // 0: a free port
  std::string token;               // empty: a new one from the CSPRNG
};

class DashboardServer {
 public:
  // InvalidArgument for any bind address but 127.0.0.1; Unavailable when the
  // port cannot be bound.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(DashboardOptions options);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  int port() const { return port_; }
  const std::string& token() const { return options_.token; }
  // http://127.0.0.1:PORT/?token=T
  std::string url() const;
  void Stop();

 private:
  explicit DashboardServer(DashboardOptions options);
  void Route();

  DashboardOptions options_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace tacit::dashboard
