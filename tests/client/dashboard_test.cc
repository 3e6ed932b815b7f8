// The local privacy page (`tacit-client dashboard`): 127.0.0.1 only, every
// request needs the session's token (compared whole), the page holds no
// external reference and escapes what it shows, and, in headless Chromium
// driven over WebDriver, pressing Pause pauses the client.

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/control_state.h"
#include "client/dashboard/dashboard_page.h"
#include "client/dashboard/dashboard_server.h"
#include "client/dashboard/dashboard_token.h"
#include "client/runtime/audit_log.h"
#include "client/store/event_store.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/client/temp_dir.h"
#include "tests/support/shared_data.h"
#include "tests/support/shell.h"
#include "tests/support/test_seed.h"

namespace tacit {
namespace {

using dashboard::DashboardOptions;
using dashboard::DashboardServer;

std::unique_ptr<DashboardServer> StartOn(const std::string& dir) {
  DashboardOptions options;
  options.dir = dir;
  auto server = DashboardServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(Dashboard, ServesOn127001Only) {
  testing::TempDir tmp;
  for (const std::string bind : {"0.0.0.0", "::", "localhost", "192.168.1.10", "127.0.0.2", ""}) {
    DashboardOptions options;
    options.dir = tmp.path();
    options.bind = bind;
    auto server = DashboardServer::Start(options);
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << "'" << bind << "'";
  }
  auto refused = testing::Shell(absl::StrCat(testing::BinaryDir(), "/bin/tacit-client --dir '",
                                             tmp.path(), "' dashboard --bind 0.0.0.0 2>&1"));
  EXPECT_EQ(refused.second, 1) << refused.first;
  EXPECT_NE(refused.first.find("127.0.0.1 only"), std::string::npos) << refused.first;
}

TEST(Dashboard, TokensAreRandomAndComparedWhole) {
  auto a = dashboard::NewSessionToken();
  auto b = dashboard::NewSessionToken();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 2 * dashboard::kTokenBytes);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(dashboard::TokenMatches(*a, *a));
  EXPECT_FALSE(dashboard::TokenMatches(*a, ""));
  EXPECT_FALSE(dashboard::TokenMatches(*a, a->substr(0, a->size() - 1)));
  EXPECT_FALSE(dashboard::TokenMatches(*a, *a + "0"));
  EXPECT_FALSE(dashboard::TokenMatches("", ""));
  // Every single changed character, anywhere: refused.
  const auto seed = static_cast<uint32_t>(::tacit::testing::TestSeed());
  SCOPED_TRACE(::testing::Message() << "seed " << seed << " (TACIT_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  for (int i = 0; i < 64; ++i) {
    std::string other = *a;
    const size_t at = rng() % other.size();
    other[at] = other[at] == '0' ? '1' : '0';
    EXPECT_FALSE(dashboard::TokenMatches(*a, other)) << at;
  }
}

TEST(Dashboard, EveryRequestNeedsTheTokenAndTheOwnHost) {
  testing::TempDir tmp;
  auto server = StartOn(tmp.path());
  ASSERT_NE(server, nullptr);
  httplib::Client client("127.0.0.1", server->port());
  const std::string token = server->token();
  std::string wrong = token;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';

  for (const std::string& path : std::vector<std::string>{"/", "/?token=", "/?token=" + wrong,
                                                          "/?token=" + token.substr(1)}) {
    auto res = client.Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 403) << path;
    EXPECT_EQ(res->body.find("What is kept"), std::string::npos) << path;
  }
  for (const char* action : {"/pause", "/resume", "/erase"}) {
    auto res = client.Post(action, httplib::Headers{{"X-Tacit-Token", wrong}}, "", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << action;
    auto bare = client.Post(action, "", "text/plain");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->status, 403) << action;
  }
  EXPECT_FALSE(LoadControlState(tmp.path())->training_paused);
  // A name rebound to 127.0.0.1 (DNS rebinding) carries its own Host: refused.
  auto rebound =
      client.Get(("/?token=" + token).c_str(), httplib::Headers{{"Host", "attacker.example"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);

  auto page = client.Get(("/?token=" + token).c_str());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("What is kept"), std::string::npos);
  auto pause = client.Post("/pause", httplib::Headers{{"X-Tacit-Token", token}}, "", "text/plain");
  ASSERT_TRUE(pause);
  EXPECT_EQ(pause->status, 200);
  EXPECT_TRUE(LoadControlState(tmp.path())->training_paused);
  EXPECT_TRUE(LoadControlState(tmp.path())->collection_paused);
  auto resume =
      client.Post("/resume", httplib::Headers{{"X-Tacit-Token", token}}, "", "text/plain");
  ASSERT_TRUE(resume);
  EXPECT_FALSE(LoadControlState(tmp.path())->training_paused);
  // Erase takes the synthetic-events marker with the events.
  tmp.Write(kSyntheticMarkerFile, R"({"generated":1,"stored":1})");
  auto erase = client.Post("/erase", httplib::Headers{{"X-Tacit-Token", token}}, "", "text/plain");
  ASSERT_TRUE(erase);
  EXPECT_EQ(erase->status, 200);
  EXPECT_FALSE(std::filesystem::exists(tmp.File(kSyntheticMarkerFile)));
}

// What is kept, what left and the budget, from the real files; names from
// the audit log are escaped; nothing is fetched from anywhere else.
TEST(Dashboard, ThePageShowsKeptLeftAndBudgetAndHoldsNoExternalReference) {
  testing::TempDir tmp;
  {
    auto store = EventStore::OpenInDirectory(tmp.path());
    ASSERT_TRUE(store.ok());
    Event event;
    event.time_ms = 1'795'000'000'000;
    event.kind = EventKind::kShellCommand;
    event.command = "ls";
    ASSERT_TRUE((*store)->Append({event, event}).ok());
  }
  runtime::AuditEntry entry;
  entry.task = "<script>alert(1)</script>";
  entry.sent = {{"advertise_keys", 70}};
  entry.outcome = "committed";
  entry.rpc.Count(runtime::kRpcSubmit, 1234, 5);
  ASSERT_TRUE(runtime::AppendAudit(tmp.path(), entry).ok());
  auto facts = dashboard::GatherPage(tmp.path());
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->events, 2);
  const std::string page = dashboard::RenderPage(*facts, std::string(64, 'f'));
  EXPECT_NE(page.find("shell_command"), std::string::npos);
  EXPECT_NE(page.find("1.2 KiB"), std::string::npos) << page;
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("Privacy budget"), std::string::npos);
  EXPECT_EQ(page.find("http"), std::string::npos) << "an external reference";
  EXPECT_EQ(page.find("src="), std::string::npos) << "an external script or image";
}

// A child process, killed when this goes out of scope.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

// A port nothing listens on now (bound to 0, read back, closed).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// One WebDriver command; the reply's "value".
nlohmann::json WebDriver(httplib::Client& driver, const std::string& method,
                         const std::string& path, const nlohmann::json& body = {}) {
  auto res = method == "DELETE" ? driver.Delete(path.c_str())
                                : driver.Post(path.c_str(), body.dump(), "application/json");
  if (!res) return nullptr;
  nlohmann::json reply = nlohmann::json::parse(res->body, nullptr, false);
  return reply.is_object() && reply.contains("value") ? reply["value"] : nlohmann::json();
}

// The page in headless Chromium (WebDriver through chromedriver): it loads
// with the token, shows what is kept, and pressing Pause pauses collection
// and training in the client's state file.
TEST(Dashboard, HeadlessChromiumPressesPauseAndTheClientIsPaused) {
  if (!testing::OnPath("chromium") || !testing::OnPath("chromedriver")) {
    GTEST_SKIP() << "SKIPPED: chromium and chromedriver are not installed (Debian chromium, "
                    "chromium-driver; scripts/setup installs them)";
  }
  testing::TempDir tmp;
  auto server = StartOn(tmp.path());
  ASSERT_NE(server, nullptr);
  const int port = FreePort();
  Child chromedriver({"chromedriver", absl::StrCat("--port=", port)});
  httplib::Client driver("127.0.0.1", port);
  driver.set_connection_timeout(2, 0);
  driver.set_read_timeout(60, 0);
  bool ready = false;
  for (int i = 0; i < 200 && !ready; ++i) {
    auto res = driver.Get("/status");
    ready = res && res->status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(ready) << "chromedriver did not start";
  const nlohmann::json capabilities = {
      {"capabilities",
       {{"alwaysMatch",
         {{"browserName", "chrome"},
          {"goog:chromeOptions",
           {{"binary", "/usr/bin/chromium"},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              absl::StrCat("--user-data-dir=", tmp.File("chromium-profile"))}}}}}}}}};
  const nlohmann::json session = WebDriver(driver, "POST", "/session", capabilities);
  ASSERT_TRUE(session.is_object() && session.contains("sessionId")) << session.dump();
  const std::string base = "/session/" + session["sessionId"].get<std::string>();
  WebDriver(driver, "POST", base + "/url", {{"url", server->url()}});
  const nlohmann::json heading = WebDriver(driver, "POST", base + "/element",
                                           {{"using", "css selector"}, {"value", "#kept h2"}});
  ASSERT_TRUE(heading.is_object()) << "the page did not load: " << heading.dump();
  const nlohmann::json button = WebDriver(driver, "POST", base + "/element",
                                          {{"using", "css selector"}, {"value", "#pause"}});
  ASSERT_TRUE(button.is_object() && !button.empty()) << button.dump();
  const std::string element = button.begin().value().get<std::string>();
  WebDriver(driver, "POST", base + "/element/" + element + "/click", nlohmann::json::object());
  bool paused = false;
  for (int i = 0; i < 200 && !paused; ++i) {
    auto state = LoadControlState(tmp.path());
    paused = state.ok() && state->training_paused && state->collection_paused;
    if (!paused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(paused) << "pressing Pause in the browser did not pause the client";
  WebDriver(driver, "DELETE", base);
}

}  // namespace
}  // namespace tacit
