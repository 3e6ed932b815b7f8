#include "client/collector/x11_collector.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_context.h"
#include "client/collector/collection_pipeline.h"
#include "client/collector/control_watcher.h"
#include "client/collector/display_session.h"
#include "client/collector/heartbeat.h"
#include "client/collector/key_label.h"
#include "client/collector/server_clock.h"
#include "client/collector/shell_event.h"
#include "client/collector/shell_only_collector.h"
#include "client/collector/shell_socket.h"
#include "client/control_state.h"
#include "common/file_io.h"
#include "common/status_macros.h"
// Last: Xlib's macros.
#include "client/collector/x11_properties.h"
#include "client/collector/xlib.h"

namespace tacit::collector {
namespace {

constexpr int64_t kRetentionCheckMs = 3600 * 1000;

// A window can vanish between an event and the property read that follows
// it (BadWindow); Xlib's default handler would end the process for that.
int IgnoreProtocolError(Display*, XErrorEvent*) { return 0; }

// Set while the collector runs: Xlib calls its I/O error handler when the
// display goes away (logout) and ends the process when it returns, so the
// last batch and heartbeat are written from inside it.
std::function<void()>* g_on_display_lost = nullptr;
int OnDisplayLost(Display*) {
  if (g_on_display_lost != nullptr) (*g_on_display_lost)();
  std::cerr << "tacit-collector: the X display closed (session ended); stopped\n";
  std::_Exit(1);
}

class X11Collector {
 public:
  X11Collector(const CollectorOptions& options, Display* display, std::string note,
               std::unique_ptr<EventStore> store, ShellSocket* shell)
      : options_(options),
        display_(display),
        root_(DefaultRootWindow(display)),
        screen_width_(DisplayWidth(display, DefaultScreen(display))),
        screen_height_(DisplayHeight(display, DefaultScreen(display))),
        note_(std::move(note)),
        store_(std::move(store)),
        shell_(shell),
        pipeline_(PrivacyPolicy()),
        control_(options.dir) {}

  absl::Status Run(const volatile std::sig_atomic_t* stop);

 private:
  struct GrabCheck {
    unsigned long serial;  // events from this request on came after the check
    bool foreign_grab;
  };

  absl::Status SelectEvents();
  void Handle(XEvent& event);
  void HandleRaw(int type, const XIRawEvent& raw);
  void Offer(RawEvent raw);
  void UpdateApp();
  void CheckGrab();
  void ApplyGrabCheck();
  void CheckControl();
  void ReceiveShellCommands();
  absl::Status Flush(int64_t now);
  void WriteBeat(int64_t now, bool running);
  std::string Collecting() const;
  void PointerPosition(RawEvent* e);

  CollectorOptions options_;
  Display* display_;
  Window root_;
  int xi_opcode_ = 0;
  int screen_width_, screen_height_;
  std::string note_;
  std::unique_ptr<EventStore> store_;
  ShellSocket* shell_;
  CollectionPipeline pipeline_;
  ControlWatcher control_;
  LiveKeyboard keyboard_;
  ServerClock clock_;
  std::string app_;
  Atom net_active_window_ = None;
  std::optional<GrabCheck> grab_check_;
  // The window manager keeps _NET_ACTIVE_WINDOW: app switches arrive as
  // PropertyNotify and the input focus need not be polled.
  bool ewmh_ = false;
  MouseButton held_button_ = MouseButton::kNone;
  int64_t last_move_ms_ = 0;
  std::string last_collecting_;
};

absl::Status X11Collector::SelectEvents() {
  int event = 0, error = 0;
  if (!XQueryExtension(display_, "XInputExtension", &xi_opcode_, &event, &error)) {
    return absl::FailedPreconditionError(
        "the X server has no XInput extension; the collector needs XInput 2.1 or newer");
  }
  // 2.1 or newer: raw events reach every client that selected them on the
  // root window, whoever has the focus (2.0 sent them to the grabbing client only).
  int major = 2, minor = 2;
  if (XIQueryVersion(display_, &major, &minor) != Success || (major == 2 && minor < 1)) {
    return absl::FailedPreconditionError(absl::StrCat("the X server has XInput ", major, ".", minor,
                                                      "; the collector needs 2.1 or newer"));
  }
  unsigned char bits[XIMaskLen(XI_LASTEVENT)] = {};
  for (int type :
       {XI_RawKeyPress, XI_RawKeyRelease, XI_RawButtonPress, XI_RawButtonRelease, XI_RawMotion}) {
    XISetMask(bits, type);
  }
  XIEventMask mask;
  mask.deviceid = XIAllMasterDevices;
  mask.mask_len = sizeof bits;
  mask.mask = bits;
  XISelectEvents(display_, root_, &mask, 1);
  // _NET_ACTIVE_WINDOW changes arrive as PropertyNotify on the root.
  XSelectInput(display_, root_, PropertyChangeMask);
  net_active_window_ =
      XInternAtom(display_, ReadablePropertyName(ReadableProperty::kNetActiveWindow), False);
  XSync(display_, False);
  return absl::OkStatus();
}

void X11Collector::Offer(RawEvent raw) {
  raw.app = app_;  // every event carries its app, so the deny list applies to it
  pipeline_.Offer(raw);
}

void X11Collector::PointerPosition(RawEvent* e) {
  Window root_return = None, child = None;
  int root_x = 0, root_y = 0, win_x = 0, win_y = 0;
  unsigned int mask = 0;
  XQueryPointer(display_, root_, &root_return, &child, &root_x, &root_y, &win_x, &win_y, &mask);
  e->x = root_x;
  e->y = root_y;
  e->screen_width = screen_width_;
  e->screen_height = screen_height_;
}

void X11Collector::HandleRaw(int type, const XIRawEvent& raw) {
  const int64_t now = clock_.ToWallMs(static_cast<uint32_t>(raw.time), cli::NowMs());
  switch (type) {
    case XI_RawKeyPress:
    case XI_RawKeyRelease: {
      // Auto-repeat is the key held down, not typed again (the importers'
      // logs hold one press per stroke too).
      if ((raw.flags & XIKeyRepeat) != 0) return;
      const KeySym keysym =
          XkbKeycodeToKeysym(display_, static_cast<KeyCode>(raw.detail), /*group=*/0, /*level=*/0);
      Offer(keyboard_.Key(static_cast<uint32_t>(keysym), type == XI_RawKeyPress, now));
      return;
    }
    case XI_RawButtonPress:
    case XI_RawButtonRelease: {
      RawEvent e;
      e.time_ms = now;
      const int button = raw.detail;
      if (button >= 4 && button <= 7) {  // wheel: one "click" per notch, presses only
        if (type != XI_RawButtonPress) return;
        e.kind = EventKind::kScroll;
        e.scroll = button == 4   ? ScrollDirection::kUp
                   : button == 5 ? ScrollDirection::kDown
                   : button == 6 ? ScrollDirection::kLeft
                                 : ScrollDirection::kRight;
      } else if (button >= 1 && button <= 3) {
        e.kind = type == XI_RawButtonPress ? EventKind::kMouseDown : EventKind::kMouseUp;
        e.button = button == 1   ? MouseButton::kLeft
                   : button == 2 ? MouseButton::kMiddle
                                 : MouseButton::kRight;
        held_button_ = type == XI_RawButtonPress ? e.button : MouseButton::kNone;
      } else {
        return;  // extra buttons (back/forward) have no place in the schema
      }
      PointerPosition(&e);
      Offer(std::move(e));
      return;
    }
    case XI_RawMotion: {
      if (now - last_move_ms_ < options_.mouse_move_ms) return;
      last_move_ms_ = now;
      RawEvent e;
      e.time_ms = now;
      e.kind = held_button_ != MouseButton::kNone ? EventKind::kDrag : EventKind::kMouseMove;
      e.button = held_button_;
      PointerPosition(&e);
      Offer(std::move(e));
      return;
    }
    default:
      return;
  }
}

void X11Collector::Handle(XEvent& event) {
  // An event from after the last grab check's request: the check's verdict
  // covers everything before it, so it is applied first.
  if (grab_check_ && event.xany.serial >= grab_check_->serial) ApplyGrabCheck();
  if (event.type == GenericEvent && event.xcookie.extension == xi_opcode_) {
    // A mouse sends raw motion at 125-1000 Hz and at most one move per
    // interval is kept: the others are not even decoded.
    if (event.xcookie.evtype == XI_RawMotion &&
        cli::NowMs() - last_move_ms_ < options_.mouse_move_ms) {
      return;
    }
    if (XGetEventData(display_, &event.xcookie)) {
      HandleRaw(event.xcookie.evtype, *static_cast<const XIRawEvent*>(event.xcookie.data));
      XFreeEventData(display_, &event.xcookie);
    }
    return;
  }
  if (event.type == PropertyNotify && event.xproperty.window == root_ &&
      event.xproperty.atom == net_active_window_) {
    ewmh_ = true;
    UpdateApp();
  }
}

void X11Collector::UpdateApp() {
  std::optional<std::string> cls;
  if (std::optional<Window> active = ActiveWindow(display_, root_)) {
    ewmh_ = true;
    cls = WindowClass(display_, *active);
  } else {
    // No EWMH window manager (or no window active): the input focus.
    Window focus = None;
    int revert = 0;
    XGetInputFocus(display_, &focus, &revert);
    if (focus != None && focus != PointerRoot) cls = ClassOfTopLevel(display_, focus);
  }
  std::string app = cls.value_or("");
  if (app == app_) return;
  app_ = std::move(app);
  if (!pipeline_.AllowsApp(app_)) pipeline_.DeniedAppFocused();
  if (app_.empty()) return;
  RawEvent e;
  e.time_ms = cli::NowMs();
  e.kind = EventKind::kAppFocus;
  Offer(std::move(e));
}

// Is another client grabbing the keyboard (a password prompt, a lock screen,
// pinentry)? XInput 2.1 raw events keep arriving during such a grab, so the
// collector must find out itself. It asks the server for the same grab:
// AlreadyGrabbed (or GrabFrozen) means another client holds it. When the
// grab is granted the collector releases it at once. The keyboard is grabbed
// in synchronous mode, which freezes key processing instead of delivering
// keys to the collector: a key pressed in that instant is queued by the
// server and, after the release, goes to the focused window as usual, so no
// keystroke is ever taken from the owner. (A program that tries its own grab
// in that same instant is refused once; lock screens and prompts retry.)
void X11Collector::CheckGrab() {
  if (grab_check_) ApplyGrabCheck();
  const unsigned long serial = NextRequest(display_);
  const int result =
      XGrabKeyboard(display_, root_, False, GrabModeAsync, GrabModeSync, CurrentTime);
  if (result == GrabSuccess) {
    XUngrabKeyboard(display_, CurrentTime);
    XFlush(display_);
  }
  grab_check_ = GrabCheck{serial, result == AlreadyGrabbed || result == GrabFrozen};
  // Events read while waiting for the reply: those before the check go
  // before its verdict, the rest after (Handle compares serials).
  for (int queued = XEventsQueued(display_, QueuedAlready); queued > 0; --queued) {
    XEvent event;
    XNextEvent(display_, &event);
    Handle(event);
  }
  if (grab_check_) ApplyGrabCheck();
}

void X11Collector::ApplyGrabCheck() {
  pipeline_.GrabChecked(grab_check_->foreign_grab);
  grab_check_.reset();
}

void X11Collector::CheckControl() { control_.Check(pipeline_); }

// Command names from the shell hook carry the app in focus (the terminal, as
// a rule), so the deny list and the grab rule apply to them as to keys.
void X11Collector::ReceiveShellCommands() {
  for (std::string& name : shell_->Receive())
    Offer(ShellCommandEvent(std::move(name), cli::NowMs()));
}

std::string X11Collector::Collecting() const {
  if (std::string stopped = control_.Stopped(); !stopped.empty()) return stopped;
  if (pipeline_.grabbed()) {
    return "nothing: another program holds the keyboard (a password prompt or lock screen)";
  }
  if (!pipeline_.AllowsApp(app_)) return "nothing: an app on your deny list is in focus";
  return "key classes, shortcuts, clicks, mouse moves, app switches and shell command names";
}

void X11Collector::WriteBeat(int64_t now, bool running) {
  Heartbeat h;
  h.pid = ::getpid();
  h.display = DisplayString(display_);
  h.collecting = running ? Collecting() : "nothing: stopped";
  h.note = note_;
  h.running = running;
  SetCounts(pipeline_, shell_, &h);
  h.updated_ms = now;
  absl::Status written = WriteHeartbeat(options_.dir, h);
  if (!written.ok()) std::cerr << "tacit-collector: " << written.message() << "\n";
  last_collecting_ = h.collecting;
}

absl::Status X11Collector::Flush(int64_t now) { return pipeline_.Flush(*store_, now); }

absl::Status X11Collector::Run(const volatile std::sig_atomic_t* stop) {
  TACIT_RETURN_IF_ERROR(SelectEvents());
  // No X call may be made in here (the connection is gone; it would recurse):
  // the batch, judged by earlier checks, is written; what waits for a check
  // is dropped.
  std::function<void()> on_lost = [this] {
    absl::Status flushed = Flush(cli::NowMs());
    if (!flushed.ok()) std::cerr << "tacit-collector: " << flushed.message() << "\n";
    note_ = "the X display closed";
    WriteBeat(cli::NowMs(), /*running=*/false);
  };
  g_on_display_lost = &on_lost;
  XSetIOErrorHandler(OnDisplayLost);

  int64_t now = cli::NowMs();
  CheckControl();
  UpdateApp();
  CheckGrab();
  TACIT_RETURN_IF_ERROR(store_->EnforceRetention(now).status());
  int64_t next_control = now, next_grab = now + options_.grab_check_ms,
          next_flush = now + options_.batch_ms, next_beat = now,
          next_retention = now + kRetentionCheckMs;
  const int fd = ConnectionNumber(display_);
  while (*stop == 0) {
    if (XPending(display_) == 0) {
      const int64_t wait = std::clamp<int64_t>(
          std::min({next_control, next_grab, next_flush, next_beat}) - cli::NowMs(), 0, 1000);
      pollfd p[2] = {{fd, POLLIN, 0}, {shell_->fd(), POLLIN, 0}};
      ::poll(p, 2, static_cast<int>(wait));  // EINTR (a signal) just ends the wait
    }
    ReceiveShellCommands();
    const int64_t woke_ms = cli::NowMs();
    bool handled = false;
    // One read of the socket, then what it brought (XPending per event would
    // read the socket again each time).
    for (int queued = XEventsQueued(display_, QueuedAfterReading); queued > 0 && *stop == 0;
         --queued) {
      XEvent event;
      XNextEvent(display_, &event);
      Handle(event);
      handled = true;
    }
    now = cli::NowMs();
    bool state_checked = false;  // what is collected can change only at a check
    if (now >= next_control) {
      CheckControl();
      if (!ewmh_) UpdateApp();  // the fallback without EWMH: the input focus, polled
      next_control = now + options_.control_check_ms;
      state_checked = true;
    }
    if (now >= next_grab) {
      CheckGrab();
      next_grab = now + options_.grab_check_ms;
      state_checked = true;
    }
    if (now >= next_flush || pipeline_.batch_size() >= options_.batch_events) {
      const bool wrote = pipeline_.batch_size() > 0;
      TACIT_RETURN_IF_ERROR(Flush(now));
      next_flush = now + options_.batch_ms;
      if (wrote) next_beat = now;  // the heartbeat shows the batch at once
    }
    if (now >= next_retention) {
      TACIT_RETURN_IF_ERROR(store_->EnforceRetention(now).status());
      next_retention = now + kRetentionCheckMs;
    }
    if (now >= next_beat || (state_checked && Collecting() != last_collecting_)) {
      WriteBeat(now, /*running=*/true);
      next_beat = now + kHeartbeatIntervalMs;
    }
    // A mouse sends raw motion up to 1000 times a second: reading the socket
    // at most every min_wake_ms keeps the wake-ups per second bounded (the
    // events keep their server times). A signal ends the pause early.
    const int64_t pause_ms = options_.min_wake_ms - (cli::NowMs() - woke_ms);
    if (handled && pause_ms > 0) ::poll(nullptr, 0, static_cast<int>(pause_ms));
  }
  // Stopping: a last check decides what is pending, then everything is written.
  ReceiveShellCommands();
  CheckGrab();
  absl::Status flushed = Flush(cli::NowMs());
  WriteBeat(cli::NowMs(), /*running=*/false);
  g_on_display_lost = nullptr;
  return flushed;
}

}  // namespace

absl::Status RunCollector(const CollectorOptions& options, const volatile std::sig_atomic_t* stop) {
  const std::string display_name =
      !options.display.empty() ? options.display
                               : (std::getenv("DISPLAY") != nullptr ? std::getenv("DISPLAY") : "");
  const char* wayland = std::getenv("WAYLAND_DISPLAY");
  Session session = ClassifySession(display_name.c_str(), wayland, false);
  Display* display = nullptr;
  if (session != Session::kWaylandOnly && session != Session::kNoDisplay) {
    display = XOpenDisplay(display_name.c_str());
    if (display == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot open the X display '", display_name,
          "': no X server answers there (or it refuses this user). Run `tacit-client collect` "
          "inside your desktop session, or pass the right --display"));
    }
    XSetErrorHandler(IgnoreProtocolError);
    int opcode = 0, event = 0, error = 0;
    session = ClassifySession(display_name.c_str(), wayland,
                              XQueryExtension(display, "XWAYLAND", &opcode, &event, &error));
  }
  const std::string note = SessionNote(session);
  if (!note.empty()) std::cerr << "tacit-collector: " << note << "\n";
  // The owner's folder (0700) may not exist before the first collection.
  absl::Status made = MakeDirectories(options.dir, 0700);
  absl::StatusOr<std::unique_ptr<ShellSocket>> shell =
      made.ok() ? ShellSocket::Listen(options.dir + "/" + kShellSocketFile, ::getuid()) : made;
  absl::StatusOr<std::unique_ptr<EventStore>> store =
      shell.ok() ? EventStore::OpenInDirectory(options.dir) : shell.status();
  absl::Status ran = store.status();
  if (store.ok() && display == nullptr) {
    ran = RunShellOnlyCollector(options, note, *std::move(store), **shell, stop);
  } else if (store.ok()) {
    X11Collector collector(options, display, note, *std::move(store), shell->get());
    ran = collector.Run(stop);
  }
  if (display != nullptr) XCloseDisplay(display);
  return ran;
}

}  // namespace tacit::collector
