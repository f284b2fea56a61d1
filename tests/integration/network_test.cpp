// Built-in rootless networking: with run.urun.network=slirp4netns an
// unprivileged user's container with a new network namespace reaches the host's loopback
// through the gateway (10.0.2.2) and publishes ports on the host's 127.0.0.1; the helper goes
// with the container (delete, delete --force, a runtime killed during create) and a helper that
// cannot start is one error with nothing left. As root urun starts nothing. Every endpoint is
// on the host's loopback or inside the test's namespaces: no traffic leaves the machine.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "harness.hpp"

namespace urun_it {
namespace {

using namespace std::chrono_literals;

// A TCP and a UDP server on the host's 127.0.0.1 (ephemeral ports) answering "host:<msg>".
class HostServers {
 public:
  HostServers() {
    tcp_ = bound(SOCK_STREAM, 0);
    udp_ = bound(SOCK_DGRAM, 0);
    ::listen(tcp_, 8);
    thread_ = std::thread([this] { loop(); });
  }
  ~HostServers() {
    stop_ = true;
    thread_.join();
    ::close(tcp_);
    ::close(udp_);
  }
  int tcp_port() const { return port_of(tcp_); }
  int udp_port() const { return port_of(udp_); }

  // A socket bound to 127.0.0.1:port (0: any free one), or -1.
  static int bound(int type, int port) {
    int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static int port_of(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    return ntohs(sa.sin_port);
  }

 private:
  void loop() {
    char buf[512];
    while (!stop_) {
      pollfd p[2] = {{tcp_, POLLIN, 0}, {udp_, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      if (p[1].revents & POLLIN) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        std::string r = "host:" + std::string(buf, n > 0 ? n : 0);
        ::sendto(udp_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
      if (p[0].revents & POLLIN) {
        int c = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        std::string msg;
        pollfd cp{c, POLLIN, 0};
        while (::poll(&cp, 1, 3000) == 1) {
          ssize_t n = ::recv(c, buf, sizeof buf, 0);
          if (n <= 0) break;
          msg.append(buf, n);
        }
        std::string r = "host:" + msg;
        ::send(c, r.data(), r.size(), MSG_NOSIGNAL);
        ::close(c);
      }
    }
  }
  int tcp_ = -1, udp_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends msg to 127.0.0.1:port from the host and returns the reply ("" when none).
std::string host_send(bool udp, int port, const std::string& msg) {
  int fd = ::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL) >= 0) {
    if (!udp) ::shutdown(fd, SHUT_WR);
    char buf[512];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, udp ? 500 : 3000) == 1) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      reply.append(buf, n);
      if (udp) break;
    }
  }
  ::close(fd);
  return reply;
}

// Retries host_send until the reply comes (the server in the container starts asynchronously).
std::string host_send_retrying(bool udp, int port, const std::string& msg) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string reply;
  while (reply.empty() && std::chrono::steady_clock::now() < deadline) {
    reply = host_send(udp, port, msg);
    if (reply.empty()) std::this_thread::sleep_for(100ms);
  }
  return reply;
}

// A port free on 127.0.0.1 for both protocols right now.
int free_port() {
  for (int i = 0; i < 50; ++i) {
    int t = HostServers::bound(SOCK_STREAM, 0);
    int port = HostServers::port_of(t);
    int u = HostServers::bound(SOCK_DGRAM, port);
    ::close(t);
    if (u >= 0) {
      ::close(u);
      return port;
    }
  }
  return 0;
}

bool port_free(int port, bool udp) {
  int fd = HostServers::bound(udp ? SOCK_DGRAM : SOCK_STREAM, port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

class Network : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (is_runc()) GTEST_SKIP() << "runc has no built-in networking (run.urun.network)";
    // scripts/install-deps --test-user gives it the mode distributions ship (0666); a test
    // never changes the machine itself.
    struct stat tun {};
    if (::stat("/dev/net/tun", &tun) != 0)
      GTEST_SKIP() << "the kernel has no /dev/net/tun (CONFIG_TUN): no user-mode network";
    if ((tun.st_mode & 0006) != 0006)
      GTEST_SKIP()
          << "/dev/net/tun is not usable by other users (mode 0" << std::oct << (tun.st_mode & 0777)
          << "): run scripts/install-deps --test-user, which sets 0666 as distributions do";
    if (!path_exists("/usr/bin/slirp4netns"))
      FAIL() << "slirp4netns is not installed (scripts/install-deps installs it)";
  }

  // A bundle as `spec --rootless` writes it (network namespace, run.urun.network=slirp4netns)
  // with the probe at /bin/net-probe and the given ports published.
  Bundle net_bundle(const std::string& name, const std::string& ports = "") {
    Bundle b = make_bundle({.name = name, .writable_rootfs = true, .network = true});
    host_sh("cp '" URUN_IT_NET_PROBE "' '" + b.rootfs + "/bin/net-probe' && chmod 0755 '" +
            b.rootfs + "/bin/net-probe'");
    if (!b.has_namespace("network")) b.add_namespace("network");
    b.config["annotations"]["run.urun.network"] = "slirp4netns";
    if (!ports.empty()) b.config["annotations"]["run.urun.network.ports"] = ports;
    return b;
  }

  // Helper processes of this test: the keeper (a fork of the runtime named urun-network) and
  // slirp4netns or pasta, which run in (or name) the test's state directory.
  std::vector<pid_t> network_processes() const {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      std::string name = e.path().filename().string();
      if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
      pid_t pid = std::stoi(name);
      std::string comm = trim(read_file("/proc/" + name + "/comm"));
      if (comm != "slirp4netns" && comm != "urun-network" && comm.rfind("pasta", 0) != 0 &&
          comm.rfind("passt", 0) != 0)
        continue;
      std::error_code ec2;
      std::string cwd = std::filesystem::read_symlink("/proc/" + name + "/cwd", ec2).string();
      std::string cmdline = read_file("/proc/" + name + "/cmdline");
      if ((cwd.rfind(dir(), 0) == 0 || cmdline.find(dir()) != std::string::npos) && pid_alive(pid))
        out.push_back(pid);
    }
    return out;
  }
  std::vector<pid_t> wait_no_network_processes(std::chrono::milliseconds timeout = 5s) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = network_processes();
      if (left.empty() || std::chrono::steady_clock::now() > deadline) return left;
      std::this_thread::sleep_for(20ms);
    }
  }
  static std::string pids_text(const std::vector<pid_t>& pids) {
    std::string s;
    for (pid_t p : pids)
      s += " " + std::to_string(p) + " (" +
           trim(read_file("/proc/" + std::to_string(p) + "/cmdline")) + ")";
    return s;
  }

  // The helper's pid as `state` shows it, 0 when absent.
  pid_t state_helper_pid(const std::string& id) {
    Json st = rt().state(id);
    std::string pid = st["annotations"].value("run.urun.network.pid", "");
    return pid.empty() ? 0 : std::stoi(pid);
  }
};

// From inside the container, TCP and UDP servers on the host's loopback answer at 10.0.2.2;
// the interface, route and resolver address are what slirp4netns configures.
TEST_P(Network, ContainerReachesHostLoopbackTcpAndUdp) {
  HostServers host;
  Bundle b = net_bundle("reach");
  b.sh(
      "ip -4 addr show tap0 | grep -o 'inet [0-9./]*'; ip route | grep default; "
      "net-probe send tcp 10.0.2.2 " +
      std::to_string(host.tcp_port()) +
      " tcp-ping; "
      "net-probe send udp 10.0.2.2 " +
      std::to_string(host.udp_port()) + " udp-ping");
  b.save();
  Result r = run_container(b, "net-reach");
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.out.find("inet 10.0.2.100/24"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("default via 10.0.2.2 dev tap0"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("host:tcp-ping"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("host:udp-ping"), std::string::npos) << r.describe();
  // `run` stops the helper before it returns.
  EXPECT_EQ(network_processes(), std::vector<pid_t>{}) << pids_text(network_processes());
}

// A server in the container answers on the published 127.0.0.1 ports; `state` shows the
// helper; `delete --force` of the running container leaves no helper and frees the ports.
TEST_P(Network, PublishedPortsAndDeleteForce) {
  const int port = free_port();
  ASSERT_NE(port, 0);
  const std::string p = std::to_string(port);
  Bundle b = net_bundle("publish", p + ":8080, 127.0.0.1:" + p + ":8081/udp");
  b.sh("net-probe serve tcp 8080 & net-probe serve udp 8081 & wait");
  b.save();
  ASSERT_RUN_OK(create(b, "net-publish"));
  ASSERT_RUN_OK(rt().run({"start", "net-publish"}));
  EXPECT_EQ(host_send_retrying(false, port, "hello"), "pong:hello");
  EXPECT_EQ(host_send_retrying(true, port, "datagram"), "pong:datagram");

  Json st = rt().state("net-publish");
  const Json& ann = st["annotations"];
  EXPECT_EQ(ann.value("run.urun.network", ""), "slirp4netns") << st.dump(2);
  EXPECT_EQ(ann.value("run.urun.network.gateway", ""), "10.0.2.2") << st.dump(2);
  EXPECT_EQ(ann.value("run.urun.network.dns", ""), "10.0.2.3") << st.dump(2);
  EXPECT_EQ(ann.value("run.urun.network.address", ""), "10.0.2.100/24") << st.dump(2);
  pid_t helper = state_helper_pid("net-publish");
  ASSERT_GT(helper, 0) << st.dump(2);
  EXPECT_EQ(trim(read_file("/proc/" + std::to_string(helper) + "/comm")), "slirp4netns");
  EXPECT_EQ(network_processes().size(), 2u)
      << "keeper and slirp4netns:" << pids_text(network_processes());

  ASSERT_RUN_OK(rt().run({"delete", "--force", "net-publish"}));
  // Synchronously: gone when delete returns.
  EXPECT_EQ(network_processes(), std::vector<pid_t>{}) << pids_text(network_processes());
  EXPECT_TRUE(port_free(port, false)) << "tcp port " << port << " still bound";
  EXPECT_TRUE(port_free(port, true)) << "udp port " << port << " still bound";
}

// The helper stops when the container's process ends, before any delete; `delete` of the
// stopped container then finds nothing to stop and leaves nothing.
TEST_P(Network, HelperStopsWithTheContainerAndDeleteLeavesNothing) {
  const int port = free_port();
  ASSERT_NE(port, 0);
  Bundle b = net_bundle("stops", std::to_string(port) + ":80");
  b.sh("true");
  b.save();
  ASSERT_RUN_OK(create(b, "net-stops"));
  EXPECT_EQ(network_processes().size(), 2u) << pids_text(network_processes());
  EXPECT_FALSE(port_free(port, false)) << "the published port should be bound while created";
  ASSERT_RUN_OK(rt().run({"start", "net-stops"}));
  EXPECT_EQ(rt().wait_status("net-stops", "stopped"), "stopped");
  EXPECT_EQ(wait_no_network_processes(), std::vector<pid_t>{});
  ASSERT_RUN_OK(rt().run({"delete", "net-stops"}));
  EXPECT_EQ(network_processes(), std::vector<pid_t>{}) << pids_text(network_processes());
  EXPECT_TRUE(port_free(port, false));
  EXPECT_TRUE(state_entries().empty());
}

// The runtime SIGKILLed during create, after the helper started (a prestart hook blocks): the
// init exits when its sync socket closes, and the keeper stops the helper on its own.
TEST_P(Network, KilledRuntimeDuringCreateLeavesNoHelper) {
  const int port = free_port();
  ASSERT_NE(port, 0);
  Bundle b = net_bundle("killed", std::to_string(port) + ":80");
  const std::string started = make_host_dir("hook") + "/started";
  Json hook = {{"path", "/bin/sh"},
               {"args", {"sh", "-c", "echo $$ > " + started + "; exec sleep 1000"}},
               {"env", {token(), "PATH=/usr/bin:/bin"}}};
  b.config["hooks"]["prestart"] = Json::array({hook});
  b.sh("sleep 1000");
  b.save();
  Proc p = rt().spawn({"create", "--bundle", b.dir, "net-killed"});
  wait_file_contains(started, "\n", 20s);
  EXPECT_EQ(network_processes().size(), 2u) << "the helper starts before the hooks run";
  EXPECT_FALSE(port_free(port, false));
  ASSERT_EQ(::kill(p.pid(), SIGKILL), 0);
  Result killed = p.wait(10s);
  ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.describe();
  EXPECT_EQ(wait_no_network_processes(), std::vector<pid_t>{});
  EXPECT_TRUE(port_free(port, false)) << "port " << port << " still bound";
  EXPECT_RUN_OK(rt().run({"delete", "--force", "net-killed"}));
}

// A helper that cannot start: one error line, no state, no process, no port.
TEST_P(Network, HelperFailureIsOneErrorAndNothingBehind) {
  // The port to publish is taken on the host.
  int taken = HostServers::bound(SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  ::listen(taken, 1);
  const int port = HostServers::port_of(taken);
  int first = free_port();
  while (first == port) first = free_port();
  // The first port is published, then the second fails.
  Bundle b = net_bundle("fails", std::to_string(first) + ":80, " + std::to_string(port) + ":81");
  b.sh("true");
  b.save();
  Result r = create(b, "net-fails");
  expect_clean_failure(r, "publish port 127.0.0.1:" + std::to_string(port) + ":81/tcp");
  EXPECT_EQ(wait_no_network_processes(1s), std::vector<pid_t>{});
  ::close(taken);
  EXPECT_TRUE(port_free(first, false)) << "port " << first << " published before the failure";

  // slirp4netns that fails at once: its own message is the error.
  const std::string bin = make_host_dir("fake-bin");
  write_file(bin + "/slirp4netns",
             "#!/bin/sh\necho 'fake slirp4netns: cannot open tun' >&2\nexit 1\n", 0755);
  Bundle b2 = net_bundle("fails2");
  b2.sh("true");
  b2.save();
  Result r2 = rt().run({"create", "--bundle", b2.dir, "net-fails2"},
                       RunOptions{.extra_env = {"PATH=" + bin + ":/usr/sbin:/usr/bin:/sbin:/bin"}});
  expect_clean_failure(r2, "fake slirp4netns: cannot open tun");

  // A bad port spec and an unknown helper are refused before anything is made.
  b2.config["annotations"]["run.urun.network.ports"] = "80:http";
  b2.save();
  expect_clean_failure(rt().run({"create", "--bundle", b2.dir, "net-fails3"}),
                       "run.urun.network.ports");
  b2.config["annotations"]["run.urun.network"] = "vde";
  b2.config["annotations"].erase("run.urun.network.ports");
  b2.save();
  expect_clean_failure(rt().run({"create", "--bundle", b2.dir, "net-fails4"}), "`vde`");
  EXPECT_EQ(network_processes(), std::vector<pid_t>{});
}

// A create that fails after the helper started (a prestart hook fails) stops it again.
TEST_P(Network, FailedCreateAfterTheHelperStartedLeavesNothing) {
  const int port = free_port();
  ASSERT_NE(port, 0);
  Bundle b = net_bundle("hookfails", std::to_string(port) + ":80");
  b.config["hooks"]["prestart"] =
      Json::array({{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}});
  b.sh("true");
  b.save();
  expect_clean_failure(create(b, "net-hookfails"), "prestart");
  EXPECT_EQ(network_processes(), std::vector<pid_t>{}) << pids_text(network_processes());
  EXPECT_TRUE(port_free(port, false)) << "port " << port << " still bound";
}

// pasta instead of slirp4netns: the published port reaches the container's server, `state`
// names pasta, and `delete --force` leaves neither pasta nor the port.
TEST_P(Network, PastaPublishesPortsAndGoesWithTheContainer) {
  if (!path_exists("/usr/bin/pasta"))
    GTEST_SKIP() << "pasta is not installed (Debian package passt; scripts/install-deps)";
  const int port = free_port();
  ASSERT_NE(port, 0);
  Bundle b = net_bundle("pasta", std::to_string(port) + ":8080");
  b.config["annotations"]["run.urun.network"] = "pasta";
  b.sh("net-probe serve tcp 8080");
  b.save();
  ASSERT_RUN_OK(create(b, "net-pasta"));
  ASSERT_RUN_OK(rt().run({"start", "net-pasta"}));
  EXPECT_EQ(host_send_retrying(false, port, "via-pasta"), "pong:via-pasta");
  pid_t helper = state_helper_pid("net-pasta");
  ASSERT_GT(helper, 0);
  EXPECT_EQ(trim(read_file("/proc/" + std::to_string(helper) + "/comm")).rfind("pas", 0), 0u)
      << read_file("/proc/" + std::to_string(helper) + "/comm");
  ASSERT_RUN_OK(rt().run({"delete", "--force", "net-pasta"}));
  EXPECT_FALSE(pid_alive(helper));
  EXPECT_EQ(network_processes(), std::vector<pid_t>{}) << pids_text(network_processes());
  EXPECT_TRUE(port_free(port, false)) << "port " << port << " still bound";
}

URUN_IT_INSTANTIATE_ONLY(Network, rootless);

// As root urun starts no helper: the config (network namespace, annotation, ports) still runs,
// the container has only its loopback interface, and `state` names no helper.
class NetworkAsRoot : public Network {};

TEST_P(NetworkAsRoot, DoesNothing) {
  Bundle b = net_bundle("root", "8000:80");
  b.sh("sleep 1000");
  b.save();
  ASSERT_RUN_OK(create(b, "net-root"));
  EXPECT_EQ(network_processes(), std::vector<pid_t>{});
  EXPECT_EQ(state_helper_pid("net-root"), 0);
  Result exec = rt().run({"exec", "net-root", "ip", "-o", "link"});
  ASSERT_EQ(exec.exit_code, 0) << exec.describe();
  EXPECT_NE(exec.out.find("lo:"), std::string::npos) << exec.describe();
  EXPECT_EQ(exec.out.find("tap0"), std::string::npos) << exec.describe();
  ASSERT_RUN_OK(rt().run({"delete", "--force", "net-root"}));
}

URUN_IT_INSTANTIATE_ONLY(NetworkAsRoot, root);

}  // namespace
}  // namespace urun_it
