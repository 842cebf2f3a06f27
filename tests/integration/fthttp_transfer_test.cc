// FT over HTTP with the real binary and curl as the client: the GSMA upload flow, downloads with ranges,
// interrupted uploads and downloads resumed, limits refused before the body, expiry.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "fthttp/ft_support.h"

namespace cpmgw::test {
namespace {

using namespace ft;

class FtTransfer : public ::testing::Test {
 protected:
  void start(std::map<std::string, std::string> extra = {}) {
    gw_ = std::make_unique<Gateway>(ftSettings(std::move(extra)));
    ASSERT_TRUE(gw_->start()) << gw_->log();
    url_ = ftUrl(*gw_);
    ASSERT_FALSE(url_.empty()) << gw_->log();
  }
  void TearDown() override {
    if (gw_) {
      EXPECT_EQ(gw_->stop(), 0) << gw_->log();
    }
  }
  // Uploads `path` with the GSMA form; returns the answer.
  Answer upload(const std::string& path, const std::string& tid, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"-F", "tid=" + tid};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"-F", "File=@" + path, url_ + "/"});
    return request(dir_, args);
  }

  TempDir dir_;
  std::unique_ptr<Gateway> gw_;
  std::string url_;
};

TEST_F(FtTransfer, EmptyPostThenUploadAndDownloadOneMebibyte) {
  start();
  EXPECT_EQ(curlStatus(dir_, {"-X", "POST", url_ + "/"}), 204);
  std::string file = dir_.file("photo.jpg"), thumb = dir_.file("thumb.jpg");
  makeFile(file, 1 << 20, 7);
  makeFile(thumb, 3000, 8);
  auto up =
      request(dir_, {"-F", "tid=f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "-F", "Thumbnail=@" + thumb + ";type=image/jpeg",
                     "-F", "File=@" + file + ";type=image/jpeg", url_ + "/"});
  ASSERT_EQ(up.status, 200) << up.head << up.body << gw_->log();
  EXPECT_EQ(up.header("Content-Type"), "application/vnd.gsma.rcs-ft-http+xml");
  EXPECT_NE(up.body.find(R"(<file xmlns="urn:gsma:params:xml:ns:rcs:rcs:fthttp">)"), std::string::npos);
  EXPECT_NE(up.body.find(R"(<file-info type="thumbnail">)"), std::string::npos);
  EXPECT_NE(up.body.find("<file-size>1048576</file-size>"), std::string::npos);
  EXPECT_NE(up.body.find("<file-name>photo.jpg</file-name>"), std::string::npos);
  EXPECT_NE(up.body.find("<content-type>image/jpeg</content-type>"), std::string::npos);
  EXPECT_NE(up.body.find("until=\""), std::string::npos);
  auto urls = urlsIn(up.body);
  ASSERT_EQ(urls.size(), 2u);
  // >= 128 bits of randomness in the link: 24 base64url characters.
  std::string token = urls[1].substr(urls[1].rfind('/') + 1);
  EXPECT_GE(token.size(), 22u);

  std::string got = dir_.file("got");
  auto down = request(dir_, {"-o", got, urls[1]});
  EXPECT_EQ(down.status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
  EXPECT_EQ(down.header("Content-Length"), "1048576");
  EXPECT_EQ(down.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(down.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(down.header("Content-Disposition"), "attachment; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg");
  EXPECT_EQ(curl(dir_, {urls[0]}).out, readFile(thumb));

  auto head = request(dir_, {"-I", "-o", "/dev/null", urls[1]});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "1048576");
  EXPECT_TRUE(head.body.empty());

  auto part = request(dir_, {"-H", "Range: bytes=1000-1999", urls[1]});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 1000-1999/1048576");
  EXPECT_EQ(part.body, readFile(file).substr(1000, 1000));
  auto suffix = request(dir_, {"-H", "Range: bytes=-16", urls[1]});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, readFile(file).substr((1 << 20) - 16));
  EXPECT_EQ(request(dir_, {"-o", "/dev/null", "-H", "Range: bytes=0-1,10-11", urls[1]}).status, 200);
  auto unsat = request(dir_, {"-H", "Range: bytes=2000000-", urls[1]});
  EXPECT_EQ(unsat.status, 416);
  EXPECT_EQ(unsat.header("Content-Range"), "bytes */1048576");
  std::string etag = down.header("ETag");
  EXPECT_EQ(request(dir_, {"-H", "Range: bytes=0-9", "-H", "If-Range: " + etag, urls[1]}).status, 206);
  EXPECT_EQ(request(dir_, {"-o", "/dev/null", "-H", "Range: bytes=0-9", "-H", "If-Range: \"other\"", urls[1]}).status,
            200);

  auto info = request(dir_, {url_ + "/?tid=f81d4fae-7dec-11d0-a765-00a0c91e6bf6&get_download_info"});
  EXPECT_EQ(info.status, 200);
  EXPECT_EQ(fileUrlIn(info.body), urls[1]);
  EXPECT_EQ(request(dir_, {urls[1] + "?get_download_info"}).body, info.body);
  EXPECT_TRUE(gw_->waitForLog("complete: photo.jpg, 1048576 bytes, image/jpeg, with thumbnail"));
}

TEST_F(FtTransfer, TwoHundredMebibytesStreamToDiskAndBack) {
  start();
  std::string file = dir_.file("big.bin");
  makeFile(file, 200ull << 20, 3);
  auto up = upload(file, "big-1");
  ASSERT_EQ(up.status, 200) << up.body << gw_->log();
  std::string got = dir_.file("big.got");
  EXPECT_EQ(request(dir_, {"-o", got, fileUrlIn(up.body)}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
  std::filesystem::remove(file);
  std::filesystem::remove(got);
}

TEST_F(FtTransfer, AnUploadCutAtARandomByteResumesToAnIdenticalFile) {
  start();
  std::string file = dir_.file("cut.bin");
  const std::uint64_t size = 48ull << 20;
  makeFile(file, size, 11);
  std::mt19937 rng(std::random_device{}());
  {
    // Rate-limited, so the kill lands somewhere in the middle of the file part.
    CurlProcess cut({"--limit-rate", "16M", "-F", "tid=cut-1", "-F", "File=@" + file, url_ + "/"}, dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 1400));
    cut.kill9();
  }
  ASSERT_TRUE(gw_->waitForLog("kept for resume")) << gw_->log();
  auto info = request(dir_, {url_ + "/?tid=cut-1&get_upload_info"});
  ASSERT_EQ(info.status, 200) << info.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info.body, m, std::regex(R"re(<file-range start="0" end="(\d+)"/>)re"))) << info.body;
  std::uint64_t stored = std::stoull(m[1]) + 1;
  EXPECT_GT(stored, 0u);
  EXPECT_LT(stored, size);
  std::string putUrl = urlsIn(info.body).at(0);
  // A range that does not continue where the upload stands is refused.
  EXPECT_EQ(curlStatus(dir_, {"-T", file, "-C", "0", putUrl}), 416);
  EXPECT_EQ(curlStatus(dir_, {"-T", file, "-C", std::to_string(stored + 1), putUrl}), 416);
  auto done = request(dir_, {"-T", file, "-C", std::to_string(stored), putUrl});
  ASSERT_EQ(done.status, 200) << done.body << gw_->log();
  EXPECT_NE(done.body.find("<file-size>" + std::to_string(size) + "</file-size>"), std::string::npos);
  std::string got = dir_.file("cut.got");
  ASSERT_EQ(request(dir_, {"-o", got, fileUrlIn(done.body)}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
  // Done is done: the upload url now answers with the file again, and there is nothing left to resume.
  EXPECT_EQ(curlStatus(dir_, {"-T", file, "-C", std::to_string(stored), putUrl}), 200);
  auto after = request(dir_, {url_ + "/?tid=cut-1&get_upload_info"});
  EXPECT_EQ(fileUrlIn(after.body), fileUrlIn(done.body));
}

TEST_F(FtTransfer, ResumeChecksTheDeclaredHash) {
  start();
  std::string file = dir_.file("h.bin");
  makeFile(file, 4 << 20, 5);
  std::string wrong(64, '0');
  auto up = upload(file, "h-1", {"-F", "hash=sha-256:" + wrong});
  EXPECT_EQ(up.status, 400) << up.body;
  EXPECT_NE(up.body.find("hash"), std::string::npos);
  EXPECT_TRUE(storedFiles(*gw_).empty());
  auto good = upload(file, "h-2", {"-F", "hash=sha-256:" + sha256File(file)});
  EXPECT_EQ(good.status, 200) << good.body;
}

TEST_F(FtTransfer, ADownloadCutShortContinuesWithContinueAt) {
  start();
  std::string file = dir_.file("d.bin");
  makeFile(file, 24 << 20, 9);
  auto up = upload(file, "d-1");
  ASSERT_EQ(up.status, 200);
  std::string got = dir_.file("d.got");
  {
    CurlProcess slow({"--limit-rate", "8M", "-o", got, fileUrlIn(up.body)}, dir_);
    ASSERT_TRUE(
        eventually([&] { return std::filesystem::exists(got) && std::filesystem::file_size(got) > (1 << 20); }));
    slow.kill9();
  }
  auto partial = std::filesystem::file_size(got);
  EXPECT_LT(partial, 24u << 20);
  auto rest = curl(dir_, {"-C", "-", "-o", got, "-w", "%{http_code}", fileUrlIn(up.body)});
  EXPECT_EQ(rest.exitCode, 0) << rest.err;
  EXPECT_EQ(rest.out, "206");
  EXPECT_EQ(sha256File(got), sha256File(file));
}

TEST_F(FtTransfer, OversizeIsRefusedBeforeTheBody) {
  start({{"fthttp.max_file_size", "1M"}, {"fthttp.max_thumbnail_size", "4k"}});
  std::string file = dir_.file("big.bin");
  makeFile(file, 16 << 20, 2);
  // With "Expect: 100-continue" the refusal comes before a byte of the body is sent.
  auto r = curl(dir_, {"-o", "/dev/null", "-w", "%{http_code} %{size_upload}", "-H", "Expect: 100-continue", "-F",
                       "tid=o-1", "-F", "File=@" + file, url_ + "/"});
  std::istringstream in(r.out);
  int status = 0;
  std::uint64_t sent = 0;
  in >> status >> sent;
  EXPECT_EQ(status, 413) << r.out << r.err;
  EXPECT_LT(sent, 1u << 20) << "bytes of the body sent before the answer";
  // Without a declared length (chunked), the limit holds while streaming; nothing stays behind.
  EXPECT_EQ(curlStatus(dir_, {"-H", "Transfer-Encoding: chunked", "-F", "tid=o-2", "-F", "File=@" + file, url_ + "/"}),
            413);
  std::string thumb = dir_.file("t.jpg");
  makeFile(thumb, 8192, 3);
  std::string small = dir_.file("small.bin");
  makeFile(small, 1000, 4);
  EXPECT_EQ(curlStatus(dir_, {"-H", "Transfer-Encoding: chunked", "-F", "tid=o-3", "-F", "Thumbnail=@" + thumb, "-F",
                              "File=@" + small, url_ + "/"}),
            413);
  EXPECT_TRUE(eventually([&] { return storedFiles(*gw_).empty(); })) << storedFiles(*gw_).size();
  EXPECT_TRUE(gw_->waitForLog("exceeds the maximum file size"));
}

TEST_F(FtTransfer, LowDiskAnswers507AndLeavesNothingBehind) {
  start({{"fthttp.low_water_mark", "1000T"}});
  std::string file = dir_.file("f.bin");
  makeFile(file, 100000, 1);
  EXPECT_EQ(upload(file, "l-1").status, 507);
  EXPECT_EQ(curlStatus(dir_, {"-H", "Transfer-Encoding: chunked", "-F", "tid=l-2", "-F", "File=@" + file, url_ + "/"}),
            507);
  EXPECT_TRUE(storedFiles(*gw_).empty());
}

TEST_F(FtTransfer, QuotaPerUploaderIsEnforced) {
  start({{"fthttp.user_quota", "3M"}});
  std::string file = dir_.file("q.bin");
  makeFile(file, 2 << 20, 1);
  EXPECT_EQ(upload(file, "q-1").status, 200);
  auto second = upload(file, "q-2");
  EXPECT_EQ(second.status, 413);
  EXPECT_NE(second.body.find("quota"), std::string::npos);
  EXPECT_EQ(curlStatus(dir_, {"-H", "Transfer-Encoding: chunked", "-F", "tid=q-3", "-F", "File=@" + file, url_ + "/"}),
            413);
  EXPECT_EQ(storedFiles(*gw_).size(), 1u);
}

TEST_F(FtTransfer, ExpiredLinksAnswer410UntilTheSweeperRemovesThem) {
  start({{"fthttp.link_validity", "1s"}, {"fthttp.grace", "2s"}, {"fthttp.sweep_interval", "200ms"}});
  std::string file = dir_.file("e.bin");
  makeFile(file, 1000, 1);
  auto up = upload(file, "e-1");
  ASSERT_EQ(up.status, 200);
  std::string link = fileUrlIn(up.body);
  std::string page = link;
  page.replace(page.rfind("/d/"), 3, "/l/");
  EXPECT_EQ(curlStatus(dir_, {link}), 200);
  ASSERT_TRUE(eventually([&] { return curlStatus(dir_, {link}) == 410; }, std::chrono::seconds(5)));
  EXPECT_EQ(curlStatus(dir_, {page}), 410);
  EXPECT_EQ(curlStatus(dir_, {url_ + "/?tid=e-1&get_download_info"}), 410);
  ASSERT_TRUE(eventually([&] { return curlStatus(dir_, {link}) == 404; }, std::chrono::seconds(10)));
  EXPECT_TRUE(storedFiles(*gw_).empty());
  EXPECT_TRUE(gw_->waitForLog("expired files removed"));
}

TEST_F(FtTransfer, InterruptedUploadsSurviveARestart) {
  start();
  std::string file = dir_.file("r.bin");
  makeFile(file, 32 << 20, 13);
  {
    CurlProcess cut({"--limit-rate", "16M", "-F", "tid=r-1", "-F", "File=@" + file, url_ + "/"}, dir_);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cut.kill9();
  }
  ASSERT_TRUE(gw_->waitForLog("kept for resume"));
  ASSERT_EQ(gw_->stop(), 0) << gw_->log();
  ASSERT_TRUE(gw_->start()) << gw_->log();
  // The restarted gateway listens on a new port: the last such line of the log says which.
  std::string log = gw_->log();
  auto at = log.rfind("FT-HTTP listening on ");
  url_ = log.substr(at + 21, log.find('\n', at) - at - 21);
  auto info = request(dir_, {url_ + "/?tid=r-1&get_upload_info"});
  ASSERT_EQ(info.status, 200) << info.body << gw_->log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info.body, m, std::regex(R"re(end="(\d+)")re")));
  std::string putUrl = urlsIn(info.body).at(0);
  auto done = request(dir_, {"-T", file, "-C", std::to_string(std::stoull(m[1]) + 1), putUrl});
  ASSERT_EQ(done.status, 200) << done.body;
  std::string got = dir_.file("r.got");
  ASSERT_EQ(request(dir_, {"-o", got, fileUrlIn(done.body)}).status, 200);
  EXPECT_EQ(sha256File(got), sha256File(file));
}

}  // namespace
}  // namespace cpmgw::test
