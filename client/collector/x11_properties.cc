#include <algorithm>
#include <vector>

#include "client/collector/x11_properties.h"  // last: Xlib's macros

namespace tacit::collector {
namespace {

// Longest property value read: WM_CLASS is two short names; more is not a class.
constexpr long kMaxLongs = 64;  // 256 bytes

struct PropertyValue {
  Atom type = None;
  int format = 0;
  std::vector<unsigned char> bytes;
  unsigned long items = 0;
};

Atom AtomOf(Display* display, ReadableProperty property) {
  switch (property) {
    case ReadableProperty::kWmClass:
      return XA_WM_CLASS;
    case ReadableProperty::kNetActiveWindow:
      return XInternAtom(display, "_NET_ACTIVE_WINDOW", False);
  }
  return None;
}

std::optional<PropertyValue> ReadProperty(Display* display, Window window,
                                          ReadableProperty property) {
  Atom type = None;
  int format = 0;
  unsigned long items = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(display, window, AtomOf(display, property), 0, kMaxLongs, False,
                         AnyPropertyType, &type, &format, &items, &after, &data) != Success) {
    return std::nullopt;
  }
  PropertyValue value;
  value.type = type;
  value.format = format;
  value.items = items;
  if (data != nullptr) {
    // Xlib returns format-32 items as longs.
    const size_t item_bytes = format == 32 ? sizeof(long) : static_cast<size_t>(format) / 8;
    value.bytes.assign(data, data + items * item_bytes);
    XFree(data);
  }
  if (type == None) return std::nullopt;
  return value;
}

}  // namespace

const char* ReadablePropertyName(ReadableProperty property) {
  switch (property) {
    case ReadableProperty::kNetActiveWindow:
      return "_NET_ACTIVE_WINDOW";
    case ReadableProperty::kWmClass:
      return "WM_CLASS";
  }
  return "";
}

std::optional<Window> ActiveWindow(Display* display, Window root) {
  std::optional<PropertyValue> v = ReadProperty(display, root, ReadableProperty::kNetActiveWindow);
  if (!v || v->type != XA_WINDOW || v->format != 32 || v->items < 1) return std::nullopt;
  long window = 0;
  std::copy(v->bytes.begin(), v->bytes.begin() + sizeof(long),
            reinterpret_cast<unsigned char*>(&window));
  if (window == 0) return std::nullopt;
  return static_cast<Window>(window);
}

std::optional<std::string> WindowClass(Display* display, Window window) {
  std::optional<PropertyValue> v = ReadProperty(display, window, ReadableProperty::kWmClass);
  if (!v || v->format != 8 || v->bytes.empty()) return std::nullopt;
  // "instance\0class\0": the class is the second string.
  std::string text(v->bytes.begin(), v->bytes.end());
  const size_t end_of_instance = text.find('\0');
  if (end_of_instance == std::string::npos) return std::nullopt;
  std::string cls = text.substr(end_of_instance + 1);
  if (const size_t nul = cls.find('\0'); nul != std::string::npos) cls.resize(nul);
  if (cls.empty()) return std::nullopt;
  return cls;
}

std::optional<std::string> ClassOfTopLevel(Display* display, Window window) {
  const Window root = DefaultRootWindow(display);
  for (int depth = 0; window != None && window != root && depth < 32; ++depth) {
    if (std::optional<std::string> cls = WindowClass(display, window)) return cls;
    Window root_return = None, parent = None;
    Window* children = nullptr;
    unsigned int count = 0;
    if (!XQueryTree(display, window, &root_return, &parent, &children, &count)) break;
    if (children != nullptr) XFree(children);
    window = parent;
  }
  return std::nullopt;
}

}  // namespace tacit::collector
