#pragma once

// A real X server for tests: Xvfb on a display it picks itself
// (-displayfd), openbox as the EWMH window manager, and helpers to make
// windows with a chosen WM_CLASS and title, focus them, type with xdotool and
// grab the keyboard from another connection. Everything started is stopped,
// by pid, when the session goes away.

#include <sys/types.h>

#include <string>
#include <vector>

#include <X11/Xlib.h>
#undef Status

namespace tacit::testing {

// Starts `argv` with `env` added to the environment; its pid (or -1).
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env);
// SIGTERM, then SIGKILL after `grace_ms`; the exit status (or -1).
int Stop(pid_t pid, int grace_ms = 3000);
// Runs `argv` to the end with `env`; its exit code.
int RunToEnd(const std::vector<std::string>& argv, const std::vector<std::string>& env);

class XSession {
 public:
  XSession() = default;
  ~XSession();
  XSession(const XSession&) = delete;
  XSession& operator=(const XSession&) = delete;

  // Xvfb, a connection, openbox; "" or what went wrong.
  std::string Start();
  const std::string& display_name() const { return display_name_; }
  std::vector<std::string> Env() const { return {"DISPLAY=" + display_name_}; }
  Display* display() const { return display_; }

  // A mapped top-level window with WM_CLASS (instance, cls) and the title in
  // both WM_NAME and _NET_WM_NAME.
  Window MakeWindow(const std::string& cls, const std::string& title);
  // Focuses `window` through the window manager (xdotool windowactivate --sync).
  bool Activate(Window window);
  // Types `text` (lower-case letters) into the focused window.
  bool Type(const std::string& text);

 private:
  pid_t xvfb_ = -1, window_manager_ = -1;
  std::string display_name_;
  Display* display_ = nullptr;
};

// Another client that grabs the keyboard as a password prompt does: its own
// connection and window, XGrabKeyboard retried until granted.
class KeyboardGrabber {
 public:
  explicit KeyboardGrabber(const std::string& display_name);
  ~KeyboardGrabber();
  bool Grab(int timeout_ms = 3000);
  void Release();

 private:
  Display* display_ = nullptr;
  Window window_ = 0;
  bool held_ = false;
};

}  // namespace tacit::testing
