#pragma once

// What a collector stored in `dir`, read back (decrypted) through the
// product's own EventStore; a test failure when the store cannot be read.

#include <string>
#include <vector>

#include "client/store/event_store.h"
#include "gtest/gtest.h"

namespace tacit::testing {

inline std::vector<Event> StoredEvents(const std::string& dir) {
  auto store = EventStore::OpenInDirectory(dir);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return {};
  auto events = (*store)->Read(TimeRange{});
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<Event>{};
}

}  // namespace tacit::testing
