#pragma once

// The personas' habits as data: apps, what is done in each, shortcuts,
// commands and where on screen the clicks land. fleet_generator.cc turns a
// persona plus a person's seed into that person's varied copy.

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "client/generator/fleet_generator.h"

namespace tacit::generator {

enum Action { kType = 0, kShortcut, kClick, kScroll, kCommand, kDrag, kActionCount };

using Weighted = std::vector<std::pair<std::string, double>>;

struct AppProfile {
  std::string app;    // as an OS reports it ("Code.app", "Terminal"): the filter normalizes
  double weight = 1;  // how often this app is switched to
  std::array<double, kActionCount> actions{};  // action mix inside the app
  Weighted shortcuts;                          // "ctrl+s", "ctrl+shift+p"
  Weighted commands;                           // full command lines, for terminals
  std::array<double, 16> regions{};            // click weights on the 4x4 screen grid
  std::vector<std::string> titles;             // window titles (never stored)
};

struct PersonaProfile {
  Persona persona = Persona::kDeveloper;
  std::vector<AppProfile> apps;
  double dwell_actions = 8;         // mean actions per app visit
  double typing_ms = 180;           // mean time between typed keys
  double burst_chars = 12;          // mean characters per typing burst
  double think_ms = 2500;           // mean pause between actions
  double moves_per_click = 6;       // pointer samples on the way to a click
  double secure_input_rate = 0.01;  // chance a typing burst is a password
};

const PersonaProfile& PersonaProfileOf(Persona persona);

}  // namespace tacit::generator
