#include "coordinator/metrics.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tacit::coordinator {
namespace {

void AtomicAdd(std::atomic<double>& target, double delta) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + delta, std::memory_order_relaxed)) {
  }
}

// Prometheus float formatting: shortest round-trip text, +Inf/-Inf/NaN.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.17g", v);
}

// Backslash and newline are escaped everywhere; double quotes only inside
// label values (HELP text keeps them literal).
std::string Escape(const std::string& s, bool quotes) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="1",b="2"} plus an optional extra label (histogram "le"); "" if none.
std::string LabelText(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"",
                    Escape(values[i], /*quotes=*/true), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", extra);
  return out.empty() ? "" : "{" + out + "}";
}

void RenderHeader(std::string& out, const std::string& name, const std::string& help,
                  const char* type) {
  absl::StrAppend(&out, "# HELP ", name, " ", Escape(help, /*quotes=*/false), "\n# TYPE ", name,
                  " ", type, "\n");
}

// Counters and gauges: one "name{labels} value" line per child.
template <typename M>
void RenderValues(std::string& out, const std::string& name, const Family<M>& f, const char* type) {
  RenderHeader(out, name, f.help(), type);
  f.ForEach([&](const std::vector<std::string>& values, const M& child) {
    absl::StrAppend(&out, name, LabelText(f.label_names(), values), " ", FormatValue(child.value()),
                    "\n");
  });
}

}  // namespace

void Counter::Increment(double by) {
  if (by >= 0) AtomicAdd(value_, by);
}

void Gauge::Add(double delta) { AtomicAdd(value_, delta); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

template <typename M>
std::unique_ptr<M> Family<M>::NewChild() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::make_unique<Histogram>(buckets_);
  } else {
    return std::make_unique<M>();
  }
}

template <typename M>
M& Family<M>::With(const std::vector<std::string>& label_values) {
  std::lock_guard<std::mutex> lock(mu_);
  if (label_values.size() != label_names_.size()) {
    if (!invalid_) invalid_ = NewChild();
    return *invalid_;
  }
  std::unique_ptr<M>& child = children_[label_values];
  if (!child) child = NewChild();
  return *child;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

absl::Status MetricsRegistry::CheckNew(const std::string& name,
                                       const std::vector<std::string>& labels) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
  if (!std::regex_match(name, kName)) {
    return absl::InvalidArgumentError(absl::StrCat("metric name '", name, "' is not valid"));
  }
  for (const std::string& l : labels) {
    if (!std::regex_match(l, kLabel) || l == "le" || l.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("label name '", l, "' of metric '", name, "' is not valid"));
    }
  }
  if (counters_.count(name) || gauges_.count(name) || histograms_.count(name)) {
    return absl::AlreadyExistsError(absl::StrCat("metric '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Family<Counter>*> MetricsRegistry::AddCounter(const std::string& name,
                                                             const std::string& help,
                                                             std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckNew(name, labels); !s.ok()) return s;
  auto& slot = counters_[name];
  slot.reset(new Family<Counter>(name, help, std::move(labels), {}));
  order_.push_back(name);
  return slot.get();
}

absl::StatusOr<Family<Gauge>*> MetricsRegistry::AddGauge(const std::string& name,
                                                         const std::string& help,
                                                         std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckNew(name, labels); !s.ok()) return s;
  auto& slot = gauges_[name];
  slot.reset(new Family<Gauge>(name, help, std::move(labels), {}));
  order_.push_back(name);
  return slot.get();
}

absl::StatusOr<Family<Histogram>*> MetricsRegistry::AddHistogram(const std::string& name,
                                                                 const std::string& help,
                                                                 std::vector<double> buckets,
                                                                 std::vector<std::string> labels) {
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!std::isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram '", name, "' buckets must be finite and strictly increasing"));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckNew(name, labels); !s.ok()) return s;
  auto& slot = histograms_[name];
  slot.reset(new Family<Histogram>(name, help, std::move(labels), std::move(buckets)));
  order_.push_back(name);
  return slot.get();
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const std::string& name : order_) {
    if (auto c = counters_.find(name); c != counters_.end()) {
      RenderValues(out, name, *c->second, "counter");
    } else if (auto g = gauges_.find(name); g != gauges_.end()) {
      RenderValues(out, name, *g->second, "gauge");
    } else if (auto h = histograms_.find(name); h != histograms_.end()) {
      const Family<Histogram>& f = *h->second;
      RenderHeader(out, name, f.help(), "histogram");
      f.ForEach([&](const std::vector<std::string>& values, const Histogram& child) {
        Histogram::Snapshot snap = child.Read();
        for (size_t i = 0; i <= snap.upper_bounds.size(); ++i) {
          std::string le =
              i < snap.upper_bounds.size() ? FormatValue(snap.upper_bounds[i]) : "+Inf";
          absl::StrAppend(&out, name, "_bucket",
                          LabelText(f.label_names(), values, "le=\"" + le + "\""), " ",
                          snap.cumulative[i], "\n");
        }
        absl::StrAppend(&out, name, "_sum", LabelText(f.label_names(), values), " ",
                        FormatValue(snap.sum), "\n");
        absl::StrAppend(&out, name, "_count", LabelText(f.label_names(), values), " ", snap.count,
                        "\n");
      });
    }
  }
  return out;
}

}  // namespace tacit::coordinator
