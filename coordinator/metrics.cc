#include "coordinator/metrics.h"

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <regex>
#include <type_traits>

#include "absl/strings/str_cat.h"

namespace tacit::coordinator {
namespace {

// prometheus-cpp 1.0.1 writes HELP text verbatim; the format wants backslash
// and newline escaped there (a raw newline would end the comment line and
// break every scraper). metrics_test checks the exact output, so a
// prometheus-cpp that starts escaping itself is noticed.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool LabelsBefore(const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) {
  return std::lexicographical_compare(a.label.begin(), a.label.end(), b.label.begin(),
                                      b.label.end());
}

}  // namespace

void Counter::Increment(double by) {
  if (by >= 0) impl_->Increment(by);  // also drops NaN
}

double Counter::value() const { return impl_->Value(); }

void Gauge::Set(double value) { impl_->Set(value); }

void Gauge::Add(double delta) {
  if (delta >= 0) {
    impl_->Increment(delta);
  } else {
    impl_->Decrement(-delta);
  }
}

double Gauge::value() const { return impl_->Value(); }

void Histogram::Observe(double value) { impl_->Observe(value); }

Histogram::Snapshot Histogram::Read() const {
  const prometheus::ClientMetric metric = impl_->Collect();
  Snapshot s;
  for (const prometheus::ClientMetric::Bucket& bucket : metric.histogram.bucket) {
    if (!std::isinf(bucket.upper_bound)) s.upper_bounds.push_back(bucket.upper_bound);
    s.cumulative.push_back(bucket.cumulative_count);
  }
  s.sum = metric.histogram.sample_sum;
  s.count = metric.histogram.sample_count;
  return s;
}

template <typename M>
Family<M>::Family(std::string name, std::vector<std::string> label_names,
                  std::vector<double> buckets, prometheus::Family<typename M::Impl>* family)
    : name_(std::move(name)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)),
      family_(family) {}

template <typename M>
Family<M>::~Family() = default;

template <typename M>
std::unique_ptr<typename M::Impl> Family<M>::NewDetached() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::make_unique<prometheus::Histogram>(buckets_);
  } else {
    return std::make_unique<typename M::Impl>();
  }
}

template <typename M>
M& Family<M>::With(const std::vector<std::string>& label_values) {
  std::lock_guard<std::mutex> lock(mu_);
  auto invalid = [&]() -> M& {
    if (!invalid_) {
      invalid_impl_ = NewDetached();
      invalid_.reset(new M(invalid_impl_.get()));
    }
    return *invalid_;
  };
  if (label_values.size() != label_names_.size()) return invalid();
  std::unique_ptr<M>& child = children_[label_values];
  if (!child) {
    prometheus::Labels labels;
    for (size_t i = 0; i < label_names_.size(); ++i) labels[label_names_[i]] = label_values[i];
    try {
      if constexpr (std::is_same_v<M, Histogram>) {
        child.reset(new M(&family_->Add(labels, buckets_)));
      } else {
        child.reset(new M(&family_->Add(labels)));
      }
    } catch (const std::exception&) {
      // Names were validated at registration, so this is not expected; a
      // serving coordinator records into the unexported child instead.
      children_.erase(label_values);
      return invalid();
    }
  }
  return *child;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

MetricsRegistry::MetricsRegistry() : registry_(std::make_unique<prometheus::Registry>()) {}

MetricsRegistry::~MetricsRegistry() = default;

absl::Status MetricsRegistry::CheckNew(const std::string& name,
                                       const std::vector<std::string>& labels) const {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabel("[a-zA-Z_][a-zA-Z0-9_]*");
  if (!std::regex_match(name, kName)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric name '", name, "' is not valid: use letters, digits, '_' and ':' only"));
  }
  for (const std::string& l : labels) {
    if (!std::regex_match(l, kLabel) || l == "le" || l.rfind("__", 0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label name '", l, "' of metric '", name,
          "' is not valid: use letters, digits and '_', not 'le', not a leading '__'"));
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    for (size_t j = i + 1; j < labels.size(); ++j) {
      if (labels[i] == labels[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("metric '", name, "' names label '", labels[i], "' twice"));
      }
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
  prometheus::Family<prometheus::Counter>* family = nullptr;
  try {
    family = &prometheus::BuildCounter().Name(name).Help(EscapeHelp(help)).Register(*registry_);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("prometheus-cpp refused counter '", name, "': ", e.what()));
  }
  auto& slot = counters_[name];
  slot.reset(new Family<Counter>(name, std::move(labels), {}, family));
  order_.push_back(name);
  if (slot->label_names().empty()) slot->With({});  // exported as 0 from now on
  return slot.get();
}

absl::StatusOr<Family<Gauge>*> MetricsRegistry::AddGauge(const std::string& name,
                                                         const std::string& help,
                                                         std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = CheckNew(name, labels); !s.ok()) return s;
  prometheus::Family<prometheus::Gauge>* family = nullptr;
  try {
    family = &prometheus::BuildGauge().Name(name).Help(EscapeHelp(help)).Register(*registry_);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("prometheus-cpp refused gauge '", name, "': ", e.what()));
  }
  auto& slot = gauges_[name];
  slot.reset(new Family<Gauge>(name, std::move(labels), {}, family));
  order_.push_back(name);
  if (slot->label_names().empty()) slot->With({});
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
  prometheus::Family<prometheus::Histogram>* family = nullptr;
  try {
    family = &prometheus::BuildHistogram().Name(name).Help(EscapeHelp(help)).Register(*registry_);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("prometheus-cpp refused histogram '", name, "': ", e.what()));
  }
  auto& slot = histograms_[name];
  slot.reset(new Family<Histogram>(name, std::move(labels), std::move(buckets), family));
  order_.push_back(name);
  if (slot->label_names().empty()) slot->With({});
  return slot.get();
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

std::string MetricsRegistry::Render() const {
  std::vector<prometheus::MetricFamily> families;
  std::map<std::string, size_t> rank;
  {
    std::lock_guard<std::mutex> lock(mu_);
    families = registry_->Collect();
    for (size_t i = 0; i < order_.size(); ++i) rank[order_[i]] = i;
  }
  std::stable_sort(families.begin(), families.end(),
                   [&](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) {
                     return rank[a.name] < rank[b.name];
                   });
  for (prometheus::MetricFamily& family : families) {
    std::sort(family.metric.begin(), family.metric.end(), LabelsBefore);
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tacit::coordinator
