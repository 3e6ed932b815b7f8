#include "coordinator/service/seat_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "coordinator/service/refusal.h"

namespace tacit::coordinator {
namespace {

SessionSource Counting() {
  return [n = 0]() mutable -> absl::StatusOr<std::string> { return "s" + std::to_string(++n); };
}

// A seat handed out stays valid while more devices are seated (the attempt
// keeps it across calls; ASan caught a vector that moved them).
TEST(SeatRegistry, SeatPointersSurviveLaterSeats) {
  SeatRegistry seats(Counting());
  std::vector<const Seat*> held;
  for (int i = 0; i < 200; ++i) {
    auto seat = seats.Add("device-" + std::to_string(i));
    ASSERT_TRUE(seat.ok()) << seat.status();
    held.push_back(*seat);
  }
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(held[i]->client_id, static_cast<uint32_t>(i + 1));
    EXPECT_EQ(held[i]->device, "device-" + std::to_string(i));
  }
}

TEST(SeatRegistry, SeatsInOrderWithFreshSessionsOnce) {
  SeatRegistry seats(Counting());
  auto a = seats.Add("a");
  auto b = seats.Add("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->client_id, 1u);
  EXPECT_EQ((*b)->client_id, 2u);
  EXPECT_EQ((*b)->session, "s2");
  EXPECT_EQ(seats.Add("a").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(seats.size(), 2u);
  EXPECT_EQ(seats.Find("b")->client_id, 2u);
  EXPECT_EQ(seats.Find("c"), nullptr);
  EXPECT_EQ(seats.client_ids(), (std::vector<uint32_t>{1, 2}));
}

TEST(SeatRegistry, ChecksTheDeviceAgainstItsOwnSession) {
  SeatRegistry seats(Counting());
  ASSERT_TRUE(seats.Add("a").ok());
  ASSERT_TRUE(seats.Add("b").ok());
  auto ok = seats.Check("a", "s1", 9);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->device, "a");
  absl::Status foreign = seats.Check("b", "s1", 9).status();  // a's session, b's TLS identity
  EXPECT_EQ(foreign.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(RefusalReason(foreign), "bad_session");
  EXPECT_EQ(RefusalReason(seats.Check("a", "s", 9).status()), "bad_session");  // a prefix
  absl::Status stranger = seats.Check("c", "s1", 9).status();
  EXPECT_EQ(RefusalReason(stranger), "not_seated");
  EXPECT_THAT(std::string(stranger.message()), ::testing::HasSubstr("round 9"));
}

TEST(SeatRegistry, DropKeepsWhereAndWhyTheSeatFirstLeft) {
  SeatRegistry seats(Counting());
  ASSERT_TRUE(seats.Add("a").ok());
  seats.Drop(1, "share_keys", "deadline");
  seats.Drop(1, "masked_input", "excluded by the protocol");
  seats.Drop(7, "share_keys", "deadline");  // no such seat: nothing happens
  EXPECT_TRUE(seats.ByClientId(1)->out);
  EXPECT_EQ(seats.ByClientId(1)->drop_phase, "share_keys");
  EXPECT_EQ(seats.ByClientId(1)->drop_reason, "deadline");
  EXPECT_EQ(seats.dropped(), 1);
  EXPECT_EQ(seats.ByClientId(0), nullptr);
}

TEST(SeatRegistry, AFailingSessionSourceSeatsNobody) {
  SeatRegistry seats(
      []() -> absl::StatusOr<std::string> { return absl::InternalError("no randomness"); });
  EXPECT_EQ(seats.Add("a").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(seats.size(), 0u);
  SeatRegistry empty([]() -> absl::StatusOr<std::string> { return std::string(); });
  EXPECT_FALSE(empty.Add("a").ok());
  auto real = RandomSessions()();
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->size(), 16u);
}

}  // namespace
}  // namespace tacit::coordinator
