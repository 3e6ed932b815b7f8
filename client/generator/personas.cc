#include "client/generator/personas.h"

namespace tacit::generator {
namespace {

// Grid helpers: rows 0..3 from the top, columns 0..3 from the left.
std::array<double, 16> Regions(std::initializer_list<std::pair<int, double>> hot) {
  std::array<double, 16> r;
  r.fill(0.2);
  for (auto [cell, w] : hot) r[static_cast<size_t>(cell)] += w;
  return r;
}
constexpr int Cell(int row, int col) { return row * 4 + col; }

// Actions: type, shortcut, click, scroll, command, drag.
PersonaProfile Developer() {
  PersonaProfile p;
  p.persona = Persona::kDeveloper;
  p.dwell_actions = 12;
  p.typing_ms = 150;
  p.burst_chars = 18;
  p.think_ms = 2200;
  p.moves_per_click = 5;
  p.apps = {
      {"Code.app",
       5,
       {6, 3, 2, 1, 0, 0.1},
       {{"ctrl+s", 5},
        {"ctrl+shift+p", 2},
        {"ctrl+p", 3},
        {"ctrl+c", 2},
        {"ctrl+v", 2},
        {"ctrl+z", 1},
        {"ctrl+/", 1},
        {"f12", 1}},
       {},
       Regions({{Cell(1, 1), 3}, {Cell(2, 1), 3}, {Cell(1, 0), 1}}),
       {"main.cc - payroll-service", "secrets.env - infra"}},
      {"Terminal",
       4,
       {1, 1, 0.3, 0.5, 6, 0},
       {{"ctrl+c", 3}, {"ctrl+r", 2}, {"ctrl+l", 1}},
       // Zipf-like: a few commands dominate, a long tail follows (as in SEA).
       {{"ls -la", 12},
        {"git status", 9},
        {"cd ~/src/payroll", 8},
        {"make -j8", 6},
        {"git diff --stat", 5},
        {"vim src/main.cc", 4},
        {"git commit -m 'fix login bug'", 4},
        {"grep -rn password src/", 3},
        {"ctest -R auth", 3},
        {"cat build.log", 3},
        {"git log --oneline", 2},
        {"git push origin main", 2},
        {"git pull --rebase", 2},
        {"less README.md", 2},
        {"python3 tools/gen.py", 2},
        {"ssh build01", 1.5},
        {"docker ps", 1.5},
        {"kubectl get pods", 1.5},
        {"cp a.cfg b.cfg", 1},
        {"rm -f core", 1},
        {"mkdir -p out", 1},
        {"find . -name '*.h'", 1},
        {"tail -f app.log", 1},
        {"top", 1},
        {"man 3 printf", 0.7},
        {"gdb ./server", 0.7},
        {"curl -s localhost:8080/health", 0.7},
        {"tar xzf deps.tgz", 0.5},
        {"chmod +x run.sh", 0.5},
        {"./run.sh", 0.5},
        {"history", 0.4},
        {"which clang", 0.4},
        {"export PATH=$PATH:~/bin", 0.3},
        {"du -sh .", 0.3},
        {"ps aux", 0.3},
        {"kill 4242", 0.2}},
       Regions({{Cell(2, 2), 2}}),
       {"alice@laptop: ~/src"}},
      {"Google Chrome",
       2,
       {1, 1, 4, 4, 0, 0},
       {{"ctrl+t", 2}, {"ctrl+w", 2}, {"ctrl+l", 1}, {"ctrl+tab", 2}},
       {},
       Regions({{Cell(0, 1), 2}, {Cell(1, 1), 2}, {Cell(2, 2), 1}}),
       {"Stack Overflow - segfault in destructor", "Pull request #4411"}},
      {"Slack",
       1.5,
       {4, 0.5, 2, 1, 0, 0},
       {{"ctrl+k", 2}, {"alt+up", 1}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(3, 2), 2}}),
       {"#backend - Slack"}},
  };
  return p;
}

PersonaProfile Analyst() {
  PersonaProfile p;
  p.persona = Persona::kAnalyst;
  p.dwell_actions = 15;
  p.typing_ms = 200;
  p.burst_chars = 7;
  p.think_ms = 3000;
  p.moves_per_click = 7;
  p.apps = {
      {"Microsoft Excel",
       6,
       {4, 3, 5, 2, 0, 0.5},
       {{"ctrl+c", 4},
        {"ctrl+v", 4},
        {"ctrl+z", 1},
        {"ctrl+s", 2},
        {"ctrl+shift+l", 1},
        {"ctrl+down", 2},
        {"f2", 2},
        {"alt+=", 1}},
       {},
       Regions({{Cell(1, 1), 3}, {Cell(1, 2), 3}, {Cell(2, 1), 2}, {Cell(0, 0), 1}}),
       {"Q3 revenue by region.xlsx - Excel"}},
      {"Tableau",
       2,
       {1, 1, 5, 2, 0, 2},
       {{"ctrl+z", 1}, {"ctrl+s", 1}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(2, 2), 2}}),
       {"Churn dashboard - Tableau"}},
      {"Google Chrome",
       2,
       {1, 1, 4, 4, 0, 0},
       {{"ctrl+t", 1}, {"ctrl+w", 1}, {"ctrl+f", 2}},
       {},
       Regions({{Cell(0, 1), 2}, {Cell(1, 1), 2}}),
       {"Finance wiki"}},
      {"Outlook",
       1.5,
       {5, 1, 3, 2, 0, 0},
       {{"ctrl+n", 2}, {"ctrl+r", 2}, {"ctrl+enter", 1}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(1, 1), 2}}),
       {"Inbox - Outlook"}},
  };
  return p;
}

PersonaProfile SupportAgent() {
  PersonaProfile p;
  p.persona = Persona::kSupportAgent;
  p.dwell_actions = 6;
  p.typing_ms = 130;
  p.burst_chars = 30;
  p.think_ms = 1800;
  p.moves_per_click = 4;
  p.secure_input_rate = 0.03;
  p.apps = {
      {"Zendesk",
       5,
       {6, 2, 4, 1, 0, 0},
       {{"ctrl+enter", 3}, {"ctrl+shift+o", 1}, {"ctrl+alt+m", 1}, {"ctrl+c", 2}, {"ctrl+v", 3}},
       {},
       Regions({{Cell(2, 1), 3}, {Cell(3, 1), 3}, {Cell(0, 3), 1}}),
       {"Ticket #88123: cannot log in"}},
      {"Slack",
       3,
       {5, 0.5, 2, 1, 0, 0},
       {{"ctrl+k", 2}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(3, 2), 3}}),
       {"#support-escalations"}},
      {"Google Chrome",
       2,
       {2, 1, 3, 3, 0, 0},
       {{"ctrl+f", 2}, {"ctrl+tab", 2}},
       {},
       Regions({{Cell(0, 1), 2}, {Cell(1, 1), 2}}),
       {"Customer admin - account 5512"}},
      {"Zoom",
       1,
       {0.5, 0.5, 3, 0, 0, 0},
       {{"alt+a", 2}, {"alt+v", 1}},
       {},
       Regions({{Cell(3, 1), 3}, {Cell(3, 2), 3}}),
       {"Zoom Meeting"}},
  };
  return p;
}

PersonaProfile Designer() {
  PersonaProfile p;
  p.persona = Persona::kDesigner;
  p.dwell_actions = 20;
  p.typing_ms = 220;
  p.burst_chars = 5;
  p.think_ms = 2000;
  p.moves_per_click = 10;
  p.apps = {
      {"Figma",
       6,
       {1, 3, 6, 2, 0, 5},
       {{"ctrl+d", 2},
        {"ctrl+g", 2},
        {"ctrl+z", 3},
        {"ctrl+shift+z", 1},
        {"ctrl+alt+k", 1},
        {"ctrl+=", 1},
        {"ctrl+-", 1}},
       {},
       Regions(
           {{Cell(1, 1), 3}, {Cell(1, 2), 3}, {Cell(2, 1), 2}, {Cell(2, 2), 2}, {Cell(1, 3), 2}}),
       {"Onboarding v3 - Figma"}},
      {"Adobe Photoshop",
       2,
       {0.5, 3, 4, 1, 0, 6},
       {{"ctrl+z", 3}, {"ctrl+t", 1}, {"ctrl+j", 1}},
       {},
       Regions({{Cell(1, 1), 3}, {Cell(2, 2), 3}, {Cell(1, 0), 1}}),
       {"hero.psd"}},
      {"Slack",
       1.5,
       {4, 0.5, 2, 1, 0, 0},
       {{"ctrl+k", 1}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(3, 2), 2}}),
       {"#design"}},
      {"Google Chrome",
       1,
       {1, 1, 4, 4, 0, 0},
       {{"ctrl+t", 1}, {"ctrl+w", 1}},
       {},
       Regions({{Cell(0, 1), 2}, {Cell(1, 1), 2}}),
       {"Dribbble"}},
  };
  return p;
}

PersonaProfile Manager() {
  PersonaProfile p;
  p.persona = Persona::kManager;
  p.dwell_actions = 5;
  p.typing_ms = 210;
  p.burst_chars = 14;
  p.think_ms = 3500;
  p.moves_per_click = 6;
  p.apps = {
      {"Outlook",
       4,
       {5, 1, 3, 2, 0, 0},
       {{"ctrl+n", 2}, {"ctrl+r", 3}, {"ctrl+shift+r", 1}, {"ctrl+enter", 2}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(1, 1), 3}}),
       {"Re: headcount plan - Outlook"}},
      {"Zoom",
       3,
       {0.3, 1, 3, 0, 0, 0},
       {{"alt+a", 3}, {"alt+v", 2}, {"alt+s", 1}},
       {},
       Regions({{Cell(3, 1), 3}, {Cell(3, 2), 3}}),
       {"1:1 with Dana"}},
      {"Slack",
       3,
       {4, 0.5, 2, 1, 0, 0},
       {{"ctrl+k", 3}, {"alt+shift+up", 1}},
       {},
       Regions({{Cell(1, 0), 3}, {Cell(3, 2), 2}}),
       {"#leads"}},
      {"Google Docs",
       2,
       {6, 2, 2, 2, 0, 0},
       {{"ctrl+b", 2}, {"ctrl+alt+m", 2}, {"ctrl+k", 1}},
       {},
       Regions({{Cell(1, 1), 3}, {Cell(2, 1), 2}}),
       {"Performance review - Sam"}},
      {"Microsoft Excel",
       1,
       {2, 2, 4, 2, 0, 0},
       {{"ctrl+c", 2}, {"ctrl+v", 2}},
       {},
       Regions({{Cell(1, 1), 3}}),
       {"Budget 2027.xlsx"}},
  };
  return p;
}

}  // namespace

const PersonaProfile& PersonaProfileOf(Persona persona) {
  static const std::array<PersonaProfile, kPersonaCount> kProfiles = {
      Developer(), Analyst(), SupportAgent(), Designer(), Manager()};
  return kProfiles[static_cast<size_t>(persona)];
}

}  // namespace tacit::generator
