#include "client/generator/fleet_generator.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/generator/personas.h"
#include "common/status_macros.h"

namespace tacit {
namespace {

using generator::AppProfile;
using generator::PersonaProfile;

constexpr int64_t kFirstDayStartMs = 1767603600000;  // Mon 2026-01-05 09:00 UTC
constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t kWorkdayMs = 8 * 3600 * 1000;

// Samplers of our own: std:: distributions differ between standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Exp(double mean) { return -std::log(1.0 - Uniform()) * mean; }
  double Normal() {
    double u = Uniform(), v = Uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u)) * std::cos(2.0 * M_PI * v);
  }
  int Geometric(double mean) { return static_cast<int>(std::floor(Exp(mean))); }
  bool Chance(double p) { return Uniform() < p; }
  size_t Pick(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    double r = Uniform() * total;
    for (size_t i = 0; i < n; ++i) {
      r -= weights[i];
      if (r < 0) return i;
    }
    return n - 1;
  }
  template <typename Container>
  size_t PickWeighted(const Container& items) {  // vector<pair<string,double>>
    std::vector<double> w;
    for (const auto& item : items) w.push_back(item.second);
    return Pick(w.data(), w.size());
  }

 private:
  std::mt19937_64 engine_;
};

uint64_t Mix(uint64_t x) {  // SplitMix64 finalizer: independent streams per person
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The person's own copy of the persona: every habit scaled by a lognormal
// factor, so two developers share a style but not the same frequencies.
PersonaProfile Vary(const PersonaProfile& base, Rng& rng) {
  PersonaProfile p = base;
  auto jitter = [&](double sigma) { return std::exp(sigma * rng.Normal()); };
  for (AppProfile& app : p.apps) {
    app.weight *= jitter(0.6);
    for (double& a : app.actions) a *= jitter(0.4);
    for (auto& s : app.shortcuts) s.second *= jitter(0.8);
    for (auto& c : app.commands) c.second *= jitter(0.8);
    for (double& r : app.regions) r *= jitter(0.5);
  }
  p.dwell_actions *= jitter(0.3);
  p.typing_ms *= jitter(0.2);
  p.burst_chars *= jitter(0.3);
  p.think_ms *= jitter(0.3);
  p.moves_per_click *= jitter(0.2);
  return p;
}

// Emits one person's events; `done()` once the budget is spent.
class PersonStream {
 public:
  PersonStream(const PersonaProfile& profile, Rng& rng, int64_t budget, const RawEventSink& sink)
      : p_(profile), rng_(rng), budget_(budget), sink_(sink) {
    static constexpr int kScreens[3][2] = {{1920, 1080}, {2560, 1440}, {1440, 900}};
    const auto& s = kScreens[rng_.Pick(std::vector<double>{5, 3, 2}.data(), 3)];
    width_ = s[0];
    height_ = s[1];
    x_ = width_ / 2.0;
    y_ = height_ / 2.0;
  }

  absl::Status Run() {
    size_t app = p_.apps.size();
    while (!done()) {
      app = NextApp(app);
      const AppProfile& a = p_.apps[app];
      app_name_ = a.app;
      RawEvent focus = Base(EventKind::kAppFocus);
      if (!a.titles.empty()) {
        focus.window_title =
            a.titles[rng_.Pick(std::vector<double>(a.titles.size(), 1.0).data(), a.titles.size())];
      }
      TACIT_RETURN_IF_ERROR(Emit(focus));
      const int actions = 1 + rng_.Geometric(std::max(0.5, p_.dwell_actions - 1));
      for (int i = 0; i < actions && !done(); ++i) {
        Advance(rng_.Exp(p_.think_ms));
        switch (rng_.Pick(a.actions.data(), a.actions.size())) {
          case generator::kType:
            TACIT_RETURN_IF_ERROR(TypeBurst(rng_.Chance(p_.secure_input_rate)));
            break;
          case generator::kShortcut:
            if (!a.shortcuts.empty()) {
              TACIT_RETURN_IF_ERROR(Chord(a.shortcuts[rng_.PickWeighted(a.shortcuts)].first));
            }
            break;
          case generator::kClick:
            TACIT_RETURN_IF_ERROR(Click(a, /*drag=*/false));
            break;
          case generator::kDrag:
            TACIT_RETURN_IF_ERROR(Click(a, /*drag=*/true));
            break;
          case generator::kScroll:
            TACIT_RETURN_IF_ERROR(Scroll());
            break;
          case generator::kCommand:
            if (!a.commands.empty()) {
              TACIT_RETURN_IF_ERROR(Command(a.commands[rng_.PickWeighted(a.commands)].first));
            }
            break;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  bool done() const { return emitted_ >= budget_; }

  size_t NextApp(size_t current) {
    std::vector<double> w;
    for (size_t i = 0; i < p_.apps.size(); ++i) w.push_back(i == current ? 0.0 : p_.apps[i].weight);
    return rng_.Pick(w.data(), w.size());
  }

  // Time moves on; outside working hours it jumps to the next day's 09:00.
  void Advance(double ms) {
    now_ += std::max<int64_t>(1, std::llround(ms));
    if (now_ - day_start_ > kWorkdayMs) {
      day_start_ += kDayMs;
      now_ = day_start_ + std::llround(rng_.Exp(600000));
    }
  }

  RawEvent Base(EventKind kind) {
    RawEvent e;
    e.kind = kind;
    e.time_ms = now_;
    e.app = app_name_;
    return e;
  }

  absl::Status Emit(const RawEvent& e) {
    if (done()) return absl::OkStatus();
    ++emitted_;
    return sink_(e);
  }

  absl::Status Key(const std::string& label, uint8_t modifiers, bool secure) {
    RawEvent e = Base(EventKind::kKeyPress);
    e.key = label;
    e.modifiers = modifiers;
    e.secure_input = secure;
    TACIT_RETURN_IF_ERROR(Emit(e));
    Advance(35 + rng_.Exp(55));
    e = Base(EventKind::kKeyRelease);
    e.key = label;
    e.modifiers = modifiers;
    e.secure_input = secure;
    return Emit(e);
  }

  absl::Status TypeText(const std::string& text, bool secure) {
    for (char c : text) {
      const bool upper = c >= 'A' && c <= 'Z';
      if (upper) TACIT_RETURN_IF_ERROR(Key("SHIFT", 0, secure));
      TACIT_RETURN_IF_ERROR(Key(std::string(1, c), upper ? kModShift : 0, secure));
      Advance(rng_.Exp(p_.typing_ms));
    }
    return absl::OkStatus();
  }

  absl::Status TypeBurst(bool secure) {
    static constexpr char kCommon[] = "etaoinshrdlucmfwypvbgk";
    std::string text;
    const int n = 1 + rng_.Geometric(p_.burst_chars);
    for (int i = 0; i < n; ++i) {
      double r = rng_.Uniform();
      if (r < 0.15) {
        text.push_back(' ');
      } else if (r < 0.18) {
        text.push_back(static_cast<char>('0' + rng_.Geometric(3) % 10));
      } else if (r < 0.21) {
        text.push_back(",.;:?!-"[rng_.Geometric(1.5) % 7]);
      } else if (r < 0.23) {
        text.push_back(static_cast<char>('A' + rng_.Geometric(6) % 26));
      } else {
        text.push_back(kCommon[rng_.Geometric(6) % (sizeof(kCommon) - 1)]);
      }
    }
    for (size_t i = 0; i < text.size(); ++i) {
      TACIT_RETURN_IF_ERROR(TypeText(text.substr(i, 1), secure));
      if (rng_.Chance(0.04)) TACIT_RETURN_IF_ERROR(Key("BKSP", 0, secure));
    }
    if (secure || rng_.Chance(0.3)) TACIT_RETURN_IF_ERROR(Key("ENTER", 0, secure));
    return absl::OkStatus();
  }

  absl::Status Chord(const std::string& chord) {
    std::vector<std::string> parts = absl::StrSplit(chord, '+');
    // "ctrl+=" and "ctrl+-" split fine; "ctrl++" is not used by any persona.
    std::string key = parts.back();
    parts.pop_back();
    uint8_t mods = 0;
    for (const std::string& m : parts) {
      std::string label = m == "ctrl"    ? "CTRL"
                          : m == "alt"   ? "ALT"
                          : m == "shift" ? "SHIFT"
                                         : "META";
      mods |= m == "ctrl" ? kModCtrl : m == "alt" ? kModAlt : m == "shift" ? kModShift : kModMeta;
      RawEvent down = Base(EventKind::kKeyPress);
      down.key = label;
      TACIT_RETURN_IF_ERROR(Emit(down));
      Advance(40 + rng_.Exp(40));
    }
    TACIT_RETURN_IF_ERROR(Key(key, mods, false));
    for (const std::string& m : parts) {
      Advance(20 + rng_.Exp(30));
      RawEvent up = Base(EventKind::kKeyRelease);
      up.key = m == "ctrl" ? "CTRL" : m == "alt" ? "ALT" : m == "shift" ? "SHIFT" : "META";
      TACIT_RETURN_IF_ERROR(Emit(up));
    }
    return absl::OkStatus();
  }

  RawEvent Pointer(EventKind kind) {
    RawEvent e = Base(kind);
    e.x = x_;
    e.y = y_;
    e.screen_width = width_;
    e.screen_height = height_;
    return e;
  }

  // Pointer samples along a line to a random spot of a weighted screen cell.
  absl::Status MoveTo(const AppProfile& a, EventKind kind, MouseButton button) {
    size_t cell = rng_.Pick(a.regions.data(), a.regions.size());
    const double tx = (static_cast<double>(cell % 4) + rng_.Uniform()) * width_ / 4.0;
    const double ty = (static_cast<double>(cell / 4) + rng_.Uniform()) * height_ / 4.0;
    const int steps = 1 + rng_.Geometric(p_.moves_per_click);
    const double x0 = x_, y0 = y_;
    for (int s = 1; s <= steps; ++s) {
      const double f = static_cast<double>(s) / steps;
      x_ = std::clamp(x0 + (tx - x0) * f + rng_.Normal() * 4, 0.0, width_ - 1.0);
      y_ = std::clamp(y0 + (ty - y0) * f + rng_.Normal() * 4, 0.0, height_ - 1.0);
      Advance(8 + rng_.Exp(14));
      RawEvent e = Pointer(kind);
      e.button = button;
      TACIT_RETURN_IF_ERROR(Emit(e));
    }
    return absl::OkStatus();
  }

  absl::Status Click(const AppProfile& a, bool drag) {
    TACIT_RETURN_IF_ERROR(MoveTo(a, EventKind::kMouseMove, MouseButton::kNone));
    const MouseButton button =
        !drag && rng_.Chance(0.05) ? MouseButton::kRight : MouseButton::kLeft;
    RawEvent down = Pointer(EventKind::kMouseDown);
    down.button = button;
    TACIT_RETURN_IF_ERROR(Emit(down));
    if (drag) TACIT_RETURN_IF_ERROR(MoveTo(a, EventKind::kDrag, button));
    Advance(60 + rng_.Exp(60));
    RawEvent up = Pointer(EventKind::kMouseUp);
    up.button = button;
    return Emit(up);
  }

  absl::Status Scroll() {
    const ScrollDirection dir = rng_.Chance(0.7) ? ScrollDirection::kDown : ScrollDirection::kUp;
    const int n = 1 + rng_.Geometric(4);
    for (int i = 0; i < n; ++i) {
      RawEvent e = Pointer(EventKind::kScroll);
      e.scroll = dir;
      TACIT_RETURN_IF_ERROR(Emit(e));
      Advance(30 + rng_.Exp(60));
    }
    return absl::OkStatus();
  }

  absl::Status Command(const std::string& line) {
    TACIT_RETURN_IF_ERROR(TypeText(line, false));
    TACIT_RETURN_IF_ERROR(Key("ENTER", 0, false));
    RawEvent e = Base(EventKind::kShellCommand);
    e.command_line = line;
    return Emit(e);
  }

  const PersonaProfile& p_;
  Rng& rng_;
  int64_t budget_;
  const RawEventSink& sink_;
  int64_t emitted_ = 0;
  int64_t day_start_ = kFirstDayStartMs;
  int64_t now_ = kFirstDayStartMs;
  int width_ = 1920, height_ = 1080;
  double x_ = 0, y_ = 0;
  std::string app_name_;
};

}  // namespace

absl::string_view PersonaName(Persona persona) {
  switch (persona) {
    case Persona::kDeveloper:
      return "developer";
    case Persona::kAnalyst:
      return "analyst";
    case Persona::kSupportAgent:
      return "support-agent";
    case Persona::kDesigner:
      return "designer";
    case Persona::kManager:
      return "manager";
  }
  return "unknown";
}

std::string FleetGenerator::PersonId(int index) {
  return absl::StrFormat("p%04d-%s", index, PersonaName(PersonaOf(index)));
}

absl::Status FleetGenerator::Generate(int index, int64_t max_events,
                                      const RawEventSink& sink) const {
  if (index < 0 || max_events < 1) {
    return absl::InvalidArgumentError(absl::StrCat("generator: person index ", index,
                                                   " and max_events ", max_events,
                                                   " must be >= 0 and >= 1"));
  }
  Rng rng(Mix(seed_ ^ Mix(static_cast<uint64_t>(index) + 1)));
  const PersonaProfile profile = Vary(generator::PersonaProfileOf(PersonaOf(index)), rng);
  PersonStream stream(profile, rng, max_events, sink);
  return stream.Run();
}

}  // namespace tacit
