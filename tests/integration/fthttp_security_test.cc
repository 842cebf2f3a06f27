// FT over HTTP against hostile clients: guessed tokens, file names that try to escape or inject, slow
// clients, HTTPS with a test CA, and digest authentication with SIP credentials.
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "fthttp/ft_support.h"

namespace cpmgw::test {
namespace {

using namespace ft;

TEST(FtSecurity, UnknownAndMisusedTokensAre404) {
  Gateway gw(ftSettings());
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("a.bin");
  makeFile(file, 5000, 1);
  auto up = request(dir, {"-F", "tid=t-1", "-F", "File=@" + file, url + "/"});
  ASSERT_EQ(up.status, 200);
  std::string link = fileUrlIn(up.body);
  std::string token = link.substr(link.rfind('/') + 1);
  std::string almost = token;
  almost[5] = almost[5] == 'A' ? 'B' : 'A';
  for (const std::string& path :
       std::vector<std::string>{"/d/" + almost, "/d/" + token.substr(0, token.size() - 1), "/d/" + token + "x",
                                "/d/AAAAAAAAAAAAAAAAAAAAAAAA", "/d/" + std::string(400, 'a'), "/d/%2e%2e%2ffiles.db",
                                "/d/..%2f..%2ffiles.db", "/l/" + almost, "/d/" + token + "/extra", "/files/",
                                "/files.db", "/../files.db", "/fthttp.key"}) {
    EXPECT_EQ(curlStatus(dir, {"--path-as-is", url + path}), 404) << path;
  }
  // Tokens never appear in the log; other methods on a link are refused.
  EXPECT_EQ(curlStatus(dir, {url + "/d/" + token + "?x=1"}), 200);
  EXPECT_EQ(curlStatus(dir, {"-X", "DELETE", link}), 405);
  EXPECT_EQ(curlStatus(dir, {"-X", "PUT", "--data", "x", link}), 405);
  EXPECT_EQ(gw.log().find(token), std::string::npos);
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtSecurity, FileNamesNeitherTraverseNorInject) {
  Gateway gw(ftSettings());
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("a.bin");
  makeFile(file, 100, 1);
  auto send = [&](const std::string& name) {
    return request(dir, {"-F", "tid=n-" + std::to_string(std::hash<std::string>{}(name)), "-F",
                         "File=@" + file + ";filename=\"" + name + "\"", url + "/"});
  };
  auto traversal = send("../../../../tmp/passwd");
  ASSERT_EQ(traversal.status, 200) << traversal.body;
  EXPECT_NE(traversal.body.find("<file-name>passwd</file-name>"), std::string::npos) << traversal.body;
  auto windows = send("..\\..\\boot.ini");
  EXPECT_NE(windows.body.find("<file-name>boot.ini</file-name>"), std::string::npos) << windows.body;
  // Files are stored under random ids only.
  for (const auto& name : storedFiles(gw)) EXPECT_TRUE(std::regex_match(name, std::regex("[0-9a-f]{32}"))) << name;
  EXPECT_FALSE(std::filesystem::exists(gw.dataDir() + "/passwd"));

  auto injected = send("a\r\nX-Injected: yes\r\n.txt");
  ASSERT_EQ(injected.status, 200) << injected.body;
  auto down = request(dir, {fileUrlIn(injected.body)});
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(down.header("X-Injected"), "");
  EXPECT_EQ(down.head.find("\r\nX-Injected"), std::string::npos) << down.head;
  EXPECT_NE(down.header("Content-Disposition").find("filename*=UTF-8''a__X-Injected%3A%20yes__.txt"), std::string::npos)
      << down.header("Content-Disposition");

  auto script = send("<img src=x onerror=alert(1)>.html");
  ASSERT_EQ(script.status, 200);
  std::string link = fileUrlIn(script.body);
  auto served = request(dir, {link});
  EXPECT_EQ(served.header("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(served.header("Content-Security-Policy").find("sandbox"), std::string::npos);
  EXPECT_EQ(served.header("Content-Disposition").rfind("attachment;", 0), 0u);
  link.replace(link.rfind("/d/"), 3, "/l/");
  auto page = request(dir, {link});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(page.body.find("<img src=x"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;img src=x onerror=alert(1)&gt;.html"), std::string::npos) << page.body;
  EXPECT_EQ(page.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtSecurity, MalformedUploadsAreRefusedWithoutLeftovers) {
  Gateway gw(ftSettings());
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("a.bin");
  makeFile(file, 1000, 1);
  EXPECT_EQ(curlStatus(dir, {"--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream", url + "/"}),
            415);
  EXPECT_EQ(curlStatus(dir, {"-F", "File=@" + file, url + "/"}), 400);  // no tid
  EXPECT_EQ(curlStatus(dir, {"-F", "tid=a b", "-F", "File=@" + file, url + "/"}), 400);
  EXPECT_EQ(curlStatus(dir, {"-F", "tid=x", url + "/"}), 400);  // no File
  std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"tid\"\r\n\r\nx\r\n--B\r\n"
      "Content-Disposition: form-data; name=\"File\"; filename=\"f\"\r\n\r\nDATA";  // no closing boundary
  writeFile(dir.file("broken"), body);
  auto broken = request(dir, {"--data-binary", "@" + dir.file("broken"), "-H",
                              "Content-Type: multipart/form-data; boundary=B", url + "/"});
  EXPECT_EQ(broken.status, 400);
  EXPECT_NE(broken.body.find("incomplete multipart body"), std::string::npos) << broken.body;
  writeFile(dir.file("garbage"), "--B\r\nno headers at all\r\n\r\nx\r\n--B--\r\n");
  EXPECT_EQ(curlStatus(dir, {"--data-binary", "@" + dir.file("garbage"), "-H",
                             "Content-Type: multipart/form-data; boundary=B", url + "/"}),
            400);
  // The broken body kept 4 bytes for a resume; nothing else is stored.
  EXPECT_LE(storedFiles(gw).size(), 1u);
  EXPECT_EQ(curlStatus(dir, {"-X", "PUT", "--data", "x", url + "/u/unknown"}), 404);
  EXPECT_EQ(curlStatus(dir, {url + "/"}), 400);
  EXPECT_EQ(curlStatus(dir, {url + "/nothing/here"}), 404);
  EXPECT_EQ(curlStatus(dir, {"-X", "DELETE", url + "/"}), 405);
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtSecurity, SlowRequestHeadsAreCut) {
  Gateway gw(ftSettings({{"fthttp.header_timeout", "500ms"}, {"fthttp.idle_timeout", "500ms"}}));
  ASSERT_TRUE(gw.start()) << gw.log();
  std::string url = ftUrl(gw);
  auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.sendBytes("GET /d/abc HTTP/1.1\r\nHost: x\r\n", 31);  // and never the end of the head
  socket.setReceiveTimeout(Poco::Timespan(5, 0));
  char buf[256];
  auto started = std::chrono::steady_clock::now();
  int n = 0;
  try {
    n = socket.receiveBytes(buf, sizeof buf);
  } catch (const Poco::Exception&) {
    n = -1;
  }
  EXPECT_LE(n, 0) << std::string(buf, static_cast<std::size_t>(std::max(n, 0)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

// A CA and a server certificate for 127.0.0.1 made with the openssl command line.
bool makeTestCa(const TempDir& dir) {
  writeFile(dir.file("make-ca.sh"),
            "set -e\n"
            "cd \"$1\"\n"
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=cpmgw test CA'\n"
            "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'\n"
            "printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext.cnf\n"
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
            "-extfile ext.cnf\n");
  std::string command = "bash '" + dir.file("make-ca.sh") + "' '" + dir.path() + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

TEST(FtSecurity, HttpsWithATestCa) {
  TempDir certs;
  ASSERT_TRUE(makeTestCa(certs));
  Gateway gw(ftSettings({{"fthttp.tls_cert_file", certs.file("server.pem")},
                         {"fthttp.tls_key_file", certs.file("server.key")},
                         {"fthttp.plain_http", "false"}}));
  ASSERT_TRUE(gw.start()) << gw.log();
  std::string url = ftUrl(gw, "https");
  ASSERT_FALSE(url.empty()) << gw.log();
  EXPECT_TRUE(ftUrl(gw, "http").empty());
  TempDir dir;
  std::string file = dir.file("s.bin");
  makeFile(file, 3 << 20, 4);
  // Without the CA the certificate is not trusted.
  EXPECT_NE(curl(dir, {"-o", "/dev/null", "-X", "POST", url + "/"}).exitCode, 0);
  auto up = request(dir, {"--cacert", certs.file("ca.pem"), "-F", "tid=s-1", "-F", "File=@" + file, url + "/"});
  ASSERT_EQ(up.status, 200) << up.body << gw.log();
  std::string link = fileUrlIn(up.body);
  EXPECT_EQ(link.rfind("https://127.0.0.1:", 0), 0u) << link;
  std::string got = dir.file("s.got");
  EXPECT_EQ(request(dir, {"--cacert", certs.file("ca.pem"), "-o", got, link}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
  auto part = request(dir, {"--cacert", certs.file("ca.pem"), "-H", "Range: bytes=100-199", link});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, readFile(file).substr(100, 100));
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

TEST(FtSecurity, DigestAuthenticationWithSipCredentials) {
  Gateway gw(ftSettings({{"fthttp.auth", "digest"}, {"sip.realm", "cpmgw.test"}}));
  ASSERT_TRUE(gw.start()) << gw.log();
  auto put = gw.http("PUT", "/v1/users/sip:alice@localhost", R"({"password":"alice-secret"})",
                     {{"Content-Type", "application/json"}});
  ASSERT_TRUE(put.status == 200 || put.status == 201) << put.status << put.body;
  put = gw.http("PUT", "/v1/users/sip:bob@localhost", R"({"password":"bob-secret!"})",
                {{"Content-Type", "application/json"}});
  ASSERT_TRUE(put.status == 200 || put.status == 201) << put.body;
  TempDir dir;
  std::string url = ftUrl(gw);
  std::string file = dir.file("a.bin");
  makeFile(file, 200000, 1);
  // The empty POST starts the authentication.
  auto challenge = request(dir, {"-X", "POST", url + "/"});
  EXPECT_EQ(challenge.status, 401);
  EXPECT_NE(challenge.header("WWW-Authenticate").find("Digest realm=\"cpmgw.test\""), std::string::npos)
      << challenge.head;
  EXPECT_EQ(curlStatus(dir, {"-F", "tid=x", "-F", "File=@" + file, url + "/"}), 401);
  EXPECT_EQ(curlStatus(dir, {"--digest", "-u", "alice:wrong-one", "-F", "tid=a-1", "-F", "File=@" + file, url + "/"}),
            401);
  EXPECT_EQ(curlStatus(dir, {"--digest", "-u", "alice:alice-secret", "-X", "POST", url + "/"}), 204);
  auto up = request(dir, {"--digest", "-u", "alice:alice-secret", "-F", "tid=a-1", "-F", "File=@" + file, url + "/"});
  ASSERT_EQ(up.status, 200) << up.body << gw.log();
  // Downloads need only the link; the transfer belongs to alice, not to bob.
  EXPECT_EQ(curlStatus(dir, {fileUrlIn(up.body)}), 200);
  EXPECT_EQ(curlStatus(dir, {"--digest", "-u", "alice:alice-secret", url + "/?tid=a-1&get_download_info"}), 200);
  EXPECT_EQ(curlStatus(dir, {"--digest", "-u", "bob:bob-secret!", url + "/?tid=a-1&get_download_info"}), 404);
  auto files = gw.get("/v1/files?owner=sip:alice@localhost");
  EXPECT_NE(files.body.find("\"tid\":\"a-1\""), std::string::npos) << files.body;
  EXPECT_EQ(gw.stop(), 0) << gw.log();
}

}  // namespace
}  // namespace cpmgw::test
