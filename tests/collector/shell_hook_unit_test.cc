// The shell hook's collector end without a shell: what a datagram may hold,
// and who may send one (client/collector/shell_event.h, shell_socket.h).

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "client/collector/shell_event.h"
#include "client/collector/shell_event_sender.h"
#include "client/collector/shell_hook_snippet.h"
#include "client/collector/shell_socket.h"
#include "client/command_name.h"
#include "client/known_commands.h"
#include "gtest/gtest.h"
#include "tests/client/temp_dir.h"

namespace tacit::collector {
namespace {

// Random words over an alphabet of name characters and everything a name
// must never hold; what is accepted is exactly a plain name of a known kind.
TEST(ShellEvent, AcceptsOnlyAPlainNameOfAKnownKind) {
  const std::string alphabet = "abcXYZ019._+-=/ \t'\"$`\\:@;|&()";
  const std::vector<std::string> kinds = {"alias", "function", "builtin", "keyword", "file",
                                          "",      "command",  "none",    "FILE"};
  for (uint32_t seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < 500; ++i) {
      std::string word;
      const size_t length = rng() % 40;
      for (size_t j = 0; j < length; ++j) word += alphabet[rng() % alphabet.size()];
      const std::string& kind = kinds[rng() % kinds.size()];
      const std::optional<std::string> accepted = AcceptedShellCommand(kind + " " + word);
      const bool known_kind =
          kind == "alias" || kind == "function" || kind == "file" ||
          ((kind == "builtin" || kind == "keyword") && KnownCommands::IsShellBuiltin(word));
      const bool expected = known_kind && LooksLikeCommandName(word);
      ASSERT_EQ(accepted.has_value(), expected)
          << "seed " << seed << ": '" << kind << " " << word << "'";
      if (accepted) {
        EXPECT_EQ(*accepted, word);
        EXPECT_EQ(accepted->find_first_of("=/ \t'\"$`\\:@"), std::string::npos) << *accepted;
      }
    }
  }
  EXPECT_EQ(AcceptedShellCommand("file git"), "git");
  EXPECT_EQ(AcceptedShellCommand("builtin cd"), "cd");
  EXPECT_FALSE(AcceptedShellCommand("builtin git"));  // claims to be a builtin, is none
  EXPECT_FALSE(AcceptedShellCommand("file git commit"));
  EXPECT_FALSE(AcceptedShellCommand("file FOO=bar"));
  EXPECT_FALSE(AcceptedShellCommand("file ./deploy"));
  EXPECT_FALSE(AcceptedShellCommand("file Hunter2Secret"));  // password-shaped
  EXPECT_FALSE(AcceptedShellCommand("file " + std::string(kMaxShellDatagramBytes, 'a')));
}

void SendShellEvent(const std::string& path, const std::string& datagram) {
  collector::SendShellEvent(path.c_str(), datagram.data(), datagram.size());
}

class ShellSocketTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File(kShellSocketFile); }
  testing::TempDir dir_;
};

TEST_F(ShellSocketTest, KeepsNamesFromItsOwnUserOnlyAndIsPrivate) {
  auto socket = ShellSocket::Listen(Path(), ::getuid());
  ASSERT_TRUE(socket.ok()) << socket.status();
  struct stat st {};
  ASSERT_EQ(::lstat(Path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  SendShellEvent(Path(), "file git");
  SendShellEvent(Path(), "file git push");
  SendShellEvent(Path(), "alias ll");
  EXPECT_EQ((*socket)->Receive(), (std::vector<std::string>{"git", "ll"}));
  EXPECT_EQ((*socket)->counts().received, 2);
  EXPECT_EQ((*socket)->counts().refused_words, 1);
  EXPECT_EQ((*socket)->counts().refused_peer, 0);
  EXPECT_TRUE((*socket)->Receive().empty());  // drained, and it does not block
}

// The kernel stamps each datagram with the sender's uid: a collector that
// expects another uid than the sender's refuses everything and counts it.
// (Sending as another user would need root; the check is the same compare.)
TEST_F(ShellSocketTest, RefusesDatagramsFromAnotherUser) {
  auto socket = ShellSocket::Listen(Path(), ::getuid() + 1);
  ASSERT_TRUE(socket.ok()) << socket.status();
  for (int i = 0; i < 5; ++i) SendShellEvent(Path(), "file git");
  EXPECT_TRUE((*socket)->Receive().empty());
  EXPECT_EQ((*socket)->counts().refused_peer, 5);
  EXPECT_EQ((*socket)->counts().received, 0);
}

// A real other user: when the test runs as root, a child that became
// nobody sends through the socket (opened to everyone for the test: the 0600
// mode alone would stop it at connect). The kernel's stamp says nobody.
TEST_F(ShellSocketTest, RefusesARealOtherUser) {
  if (::getuid() != 0) GTEST_SKIP() << "SKIPPED: needs root to send as another user";
  auto socket = ShellSocket::Listen(Path(), ::getuid());
  ASSERT_TRUE(socket.ok()) << socket.status();
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(Path().c_str(), 0666), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) std::_Exit(2);
    SendShellEvent(Path(), "file git");
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not become nobody";
  SendShellEvent(Path(), "file make");  // the collector's own user
  EXPECT_EQ((*socket)->Receive(), (std::vector<std::string>{"make"}));
  EXPECT_EQ((*socket)->counts().refused_peer, 1);
}

TEST_F(ShellSocketTest, OneCollectorPerFolderAndStaleSocketsReplaced) {
  {
    auto first = ShellSocket::Listen(Path(), ::getuid());
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = ShellSocket::Listen(Path(), ::getuid());
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.status().message().find("another collector"), std::string::npos);
  }
  EXPECT_NE(::access(Path().c_str(), F_OK), 0) << "removed when the collector stops";
  // A socket file nobody listens on (a collector that was killed).
  {
    auto killed = ShellSocket::Listen(Path(), ::getuid());
    ASSERT_TRUE(killed.ok());
    const std::string kept = Path() + ".kept";
    ASSERT_EQ(::link(Path().c_str(), kept.c_str()), 0);
    killed->reset();
    ASSERT_EQ(::rename(kept.c_str(), Path().c_str()), 0);
  }
  auto again = ShellSocket::Listen(Path(), ::getuid());
  ASSERT_TRUE(again.ok()) << again.status();
  // Something that is not a socket is never deleted.
  again->reset();
  dir_.Write(kShellSocketFile, "the owner's file");
  auto refused = ShellSocket::Listen(Path(), ::getuid());
  EXPECT_FALSE(refused.ok());
}

TEST(ShellHookSnippet, NamesTheSenderAndSocketQuotedAndOnlyForKnownShells) {
  for (const char* shell : {"bash", "zsh"}) {
    auto snippet = ShellHookSnippet(shell, "/opt/it's/tacit-shell-event", "/home/a b/shell.sock");
    ASSERT_TRUE(snippet.ok()) << snippet.status();
    EXPECT_NE(snippet->find("'/opt/it'\\''s/tacit-shell-event' '/home/a b/shell.sock'"),
              std::string::npos)
        << *snippet;
  }
  EXPECT_FALSE(ShellHookSnippet("fish", "/x", "/y").ok());
}

}  // namespace
}  // namespace tacit::collector
