#include <httplib.h>

#include <sstream>
#include <thread>

#include "coordinator/metrics.h"
#include "coordinator/operator_http.h"
#include "coordinator/structured_log.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"

namespace tacit::coordinator {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry registry;
  auto rounds = registry.AddCounter("tacit_rounds_total", "Rounds by outcome", {"status"});
  auto clients = registry.AddGauge("tacit_connected_clients", "Clients connected now");
  auto latency =
      registry.AddHistogram("tacit_phase_seconds", "Phase latency", {0.1, 1, 10}, {"phase"});
  auto rejected = registry.AddCounter("tacit_rejected_total", "Rejected messages");
  ASSERT_TRUE(rounds.ok() && clients.ok() && latency.ok() && rejected.ok());
  (*rounds)->With({"committed"}).Increment();
  (*rounds)->With({"committed"}).Increment(2);
  (*rounds)->With({"abandoned"}).Increment();
  (*rounds)->With({"abandoned"}).Increment(-5);  // counters never go down
  (*rounds)->With({"refused"});                  // created, never incremented: exported as 0
  (*clients)->With({}).Set(17);
  (*clients)->With({}).Add(-2.5);
  for (double v : {0.05, 0.1, 0.5, 3.0, 50.0}) (*latency)->With({"share_keys"}).Observe(v);

  // Families in registration order, children sorted by label values; an
  // unlabelled counter is exported (as 0) from its registration on.
  std::string text = registry.Render();
  EXPECT_EQ(text,
            "# HELP tacit_rounds_total Rounds by outcome\n"
            "# TYPE tacit_rounds_total counter\n"
            "tacit_rounds_total{status=\"abandoned\"} 1\n"
            "tacit_rounds_total{status=\"committed\"} 3\n"
            "tacit_rounds_total{status=\"refused\"} 0\n"
            "# HELP tacit_connected_clients Clients connected now\n"
            "# TYPE tacit_connected_clients gauge\n"
            "tacit_connected_clients 14.5\n"
            "# HELP tacit_phase_seconds Phase latency\n"
            "# TYPE tacit_phase_seconds histogram\n"
            "tacit_phase_seconds_count{phase=\"share_keys\"} 5\n"
            "tacit_phase_seconds_sum{phase=\"share_keys\"} 53.65\n"
            "tacit_phase_seconds_bucket{phase=\"share_keys\",le=\"0.1\"} 2\n"
            "tacit_phase_seconds_bucket{phase=\"share_keys\",le=\"1\"} 3\n"
            "tacit_phase_seconds_bucket{phase=\"share_keys\",le=\"10\"} 4\n"
            "tacit_phase_seconds_bucket{phase=\"share_keys\",le=\"+Inf\"} 5\n"
            "# HELP tacit_rejected_total Rejected messages\n"
            "# TYPE tacit_rejected_total counter\n"
            "tacit_rejected_total 0\n");

  Histogram::Snapshot snapshot = (*latency)->With({"share_keys"}).Read();
  EXPECT_EQ(snapshot.upper_bounds, (std::vector<double>{0.1, 1, 10}));
  EXPECT_EQ(snapshot.cumulative, (std::vector<uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 53.65);
}

TEST(MetricsTest, OutputIsStableAcrossManyLabelValues) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("tacit_check_ins_total", "Check-ins", {"result", "region"});
  ASSERT_TRUE(c.ok());
  for (int i = 30; i >= 0; --i) (*c)->With({std::to_string(i % 7), std::to_string(i)}).Increment();
  std::string first = registry.Render();
  EXPECT_EQ(first, registry.Render());
  // Children sorted by their labels (names alphabetical, then values).
  EXPECT_LT(first.find("{region=\"0\",result=\"0\"}"), first.find("{region=\"1\",result=\"1\"}"));
}

TEST(MetricsTest, EscapesAndValidates) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("x_total", "line\none \\ two", {"device"});
  ASSERT_TRUE(c.ok());
  (*c)->With({"a\"b\\c\nd"}).Increment();
  (*c)->With({"too", "many"}).Increment();  // wrong arity: ignored, not rendered
  std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("# HELP x_total line\\none \\\\ two\n"));
  EXPECT_THAT(text, HasSubstr("x_total{device=\"a\\\"b\\\\c\\nd\"} 1\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("too")));

  EXPECT_FALSE(registry.AddCounter("x_total", "again").ok());
  EXPECT_FALSE(registry.AddGauge("1bad", "").ok());
  EXPECT_FALSE(registry.AddGauge("ok_name", "", {"le"}).ok());
  EXPECT_FALSE(registry.AddGauge("ok_name", "", {"__reserved"}).ok());
  EXPECT_FALSE(registry.AddHistogram("h", "", {1, 1}).ok());
  EXPECT_FALSE(registry.AddCounter("twice_total", "", {"a", "a"}).ok());
  auto help_ok = registry.AddGauge("quoted", "a \"quoted\" help");
  ASSERT_TRUE(help_ok.ok());
  EXPECT_THAT(registry.Render(), HasSubstr("# HELP quoted a \"quoted\" help\n"));
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  MetricsRegistry registry;
  auto c = registry.AddCounter("hits_total", "", {"worker"});
  auto h = registry.AddHistogram("sizes", "", {10, 100});
  ASSERT_TRUE(c.ok() && h.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        (*c)->With({"all"}).Increment();
        (*c)->With({std::to_string(t)}).Increment();
        (*h)->With({}).Observe(i % 200);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*c)->With({"all"}).value(), 40000);
  EXPECT_EQ((*h)->With({}).Read().count, 40000u);
}

TEST(OperatorHttpTest, ServesMetricsAndStatus) {
  MetricsRegistry registry;
  auto g = registry.AddGauge("tacit_round", "Current round");
  ASSERT_TRUE(g.ok());
  (*g)->With({}).Set(4);
  OperatorHttpServer server(&registry, [] {
    return nlohmann::json{{"task", "next-event"}, {"round", 4}, {"phase", "share_keys"}};
  });
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status();

  httplib::Client client("127.0.0.1", *port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("version=0.0.4"));
  EXPECT_THAT(metrics->body, HasSubstr("tacit_round 4\n"));
  auto status = client.Get("/status");
  ASSERT_TRUE(status);
  nlohmann::json body = nlohmann::json::parse(status->body);
  EXPECT_EQ(body["phase"], "share_keys");
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // A second server cannot take the same port.
  OperatorHttpServer other(&registry, nullptr);
  EXPECT_FALSE(other.Start("127.0.0.1", *port).ok());
  server.Stop();
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(StructuredLogTest, EveryLineIsOneJsonObject) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = MakeJsonLogger("test", {sink});
  LogEvent(*logger, spdlog::level::info, "round_committed",
           {{"round", 3}, {"survivors", 97}, {"note", "quote \" and\nnewline"}});
  LogEvent(*logger, spdlog::level::warn, "client_rejected",
           {{"device", "laptop-1"}, {"event", "spoofed"}, {"bytes", std::string("\xff\xfe")}});
  logger->flush();
  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["event"], "round_committed");
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["round"], 3);
  EXPECT_EQ(parsed[0]["note"], "quote \" and\nnewline");
  EXPECT_TRUE(parsed[0]["time"].is_string());
  EXPECT_EQ(parsed[1]["event"], "client_rejected");  // reserved keys are not overwritten
  EXPECT_EQ(parsed[1]["level"], "warning");
}

}  // namespace
}  // namespace tacit::coordinator
