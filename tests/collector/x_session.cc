// Xutil.h needs Xlib's Status macro, which x_session.h undefines: first.
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
// clang-format off
#include "tests/collector/x_session.h"
// clang-format on
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace tacit::testing {
namespace {

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  std::_Exit(127);
}

int Stop(pid_t pid, int grace_ms) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int status = 0;
  for (int waited = 0; waited < grace_ms; waited += 20) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    SleepMs(20);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

int RunToEnd(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const pid_t pid = Spawn(argv, env);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

XSession::~XSession() {
  if (display_ != nullptr) XCloseDisplay(display_);
  Stop(window_manager_);
  Stop(xvfb_);
}

std::string XSession::Start() {
  // -displayfd: Xvfb picks a free display and writes its number when ready.
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  xvfb_ = ::fork();
  if (xvfb_ == 0) {
    ::close(fds[0]);
    const std::string fd = std::to_string(fds[1]);
    ::execlp("Xvfb", "Xvfb", "-displayfd", fd.c_str(), "-nolisten", "tcp", "-screen", "0",
             "1280x800x24", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::string number;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') number.push_back(c);
  ::close(fds[0]);
  if (number.empty()) return "Xvfb did not start (no display number on -displayfd)";
  display_name_ = ":" + number;
  display_ = XOpenDisplay(display_name_.c_str());
  if (display_ == nullptr) return "cannot open " + display_name_;
  window_manager_ = Spawn({"openbox", "--sm-disable"}, Env());
  // Ready when openbox advertises itself (EWMH _NET_SUPPORTING_WM_CHECK).
  const Atom check = XInternAtom(display_, "_NET_SUPPORTING_WM_CHECK", False);
  for (int waited = 0; waited < 10000; waited += 50) {
    Atom type = None;
    int format = 0;
    unsigned long items = 0, after = 0;
    unsigned char* data = nullptr;
    XGetWindowProperty(display_, DefaultRootWindow(display_), check, 0, 1, False, XA_WINDOW, &type,
                       &format, &items, &after, &data);
    if (data != nullptr) XFree(data);
    if (items > 0) return "";
    SleepMs(50);
  }
  return "openbox did not start within 10 s";
}

Window XSession::MakeWindow(const std::string& cls, const std::string& title) {
  const Window window =
      XCreateSimpleWindow(display_, DefaultRootWindow(display_), 10, 10, 400, 300, 0, 0, 0xffffff);
  std::string instance = cls + "-instance", klass = cls;
  XClassHint hint{instance.data(), klass.data()};
  XSetClassHint(display_, window, &hint);
  XStoreName(display_, window, title.c_str());
  XChangeProperty(display_, window, XInternAtom(display_, "_NET_WM_NAME", False),
                  XInternAtom(display_, "UTF8_STRING", False), 8, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(title.data()),
                  static_cast<int>(title.size()));
  XMapWindow(display_, window);
  XSync(display_, False);
  return window;
}

bool XSession::Activate(Window window) {
  return RunToEnd({"xdotool", "windowactivate", "--sync", std::to_string(window)}, Env()) == 0;
}

bool XSession::Type(const std::string& text) {
  return RunToEnd({"xdotool", "type", "--delay", "15", text}, Env()) == 0;
}

KeyboardGrabber::KeyboardGrabber(const std::string& display_name)
    : display_(XOpenDisplay(display_name.c_str())) {
  if (display_ == nullptr) return;
  window_ = XCreateSimpleWindow(display_, DefaultRootWindow(display_), 0, 0, 200, 100, 0, 0, 0);
  std::string name = "prompt", cls = "TacitPrompt";
  XClassHint hint{name.data(), cls.data()};
  XSetClassHint(display_, window_, &hint);
  XMapWindow(display_, window_);
  XSync(display_, False);
}

KeyboardGrabber::~KeyboardGrabber() {
  Release();
  if (display_ != nullptr) XCloseDisplay(display_);
}

bool KeyboardGrabber::Grab(int timeout_ms) {
  if (display_ == nullptr) return false;
  // The collector's own check holds the grab for an instant now and then: a
  // prompt retries, and so does this one.
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (XGrabKeyboard(display_, DefaultRootWindow(display_), False, GrabModeAsync, GrabModeAsync,
                      CurrentTime) == GrabSuccess) {
      XSync(display_, False);
      held_ = true;
      return true;
    }
    SleepMs(10);
  }
  return false;
}

void KeyboardGrabber::Release() {
  if (!held_) return;
  XUngrabKeyboard(display_, CurrentTime);
  XSync(display_, False);
  held_ = false;
}

}  // namespace tacit::testing
