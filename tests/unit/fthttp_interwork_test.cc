// FT-over-HTTP to recipients without fthttp capability: the SMS text with a short link (ftsms), and the
// dispatcher applying it before a non-SIP egress only.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>

#include "cpmgw/router.h"
#include "fthttp/file_store.h"
#include "fthttp/ft_interwork.h"
#include "runtime/dispatcher.h"

namespace cpmgw::fthttp {
namespace {

std::string ftXml(const std::string& name = "holiday.jpg", std::uint64_t size = 1536,
                  const std::string& url = "http://ft.example:8090/d/AbCdEfGhIjKlMnOpQrStUvWx") {
  FtDocument doc;
  doc.file = {size, name, "image/jpeg", url, 1893456000000, ""};
  doc.thumbnail = FileInfo{100, "", "image/jpeg", "http://ft.example:8090/d/thumbTOKEN", 1893456000000, ""};
  return encodeFtDocument(doc);
}

StoredMessage ftMessage(const std::string& body) {
  StoredMessage m;
  m.id = "0123456789abcdef0123456789abcdef";
  m.from = "sip:alice@localhost";
  m.to = "tel:+15550100";
  m.contentType = kFtHttpContentType;
  m.body = body;
  m.attributes[attr::kReportRequest] = "positive-delivery";
  return m;
}

TEST(FtInterwork, BuildsTheSmsWithAShortLink) {
  auto sms = toSmsLink(ftMessage(ftXml()));
  ASSERT_TRUE(sms);
  EXPECT_EQ(sms->contentType, "text/plain");
  EXPECT_EQ(sms->body,
            "alice@localhost sent you a file: holiday.jpg (1.5 KB) http://ft.example:8090/l/AbCdEfGhIjKlMnOpQrStUvWx");
  EXPECT_EQ(sms->id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(sms->to, "tel:+15550100");
  EXPECT_EQ(sms->attributes.at(attr::kReportRequest), "positive-delivery");
  EXPECT_EQ(sms->attributes.at("ft.data_url"), "http://ft.example:8090/d/AbCdEfGhIjKlMnOpQrStUvWx");
  EXPECT_EQ(sms->attributes.at("ft.file_size"), "1536");
  EXPECT_EQ(sms->attributes.at("ft.until"), "2030-01-01T00:00:00.000Z");
}

TEST(FtInterwork, LeavesOtherMessagesAlone) {
  auto plain = ftMessage("hello");
  plain.contentType = "text/plain";
  EXPECT_FALSE(toSmsLink(plain));
  EXPECT_FALSE(toSmsLink(ftMessage("<file>not what it should be</file>")));
  EXPECT_FALSE(toSmsLink(ftMessage("<!DOCTYPE x><file/>")));
  auto withParams = ftMessage(ftXml());
  withParams.contentType = "Application/Vnd.GSMA.RCS-FT-HTTP+XML; charset=utf-8";
  EXPECT_TRUE(toSmsLink(withParams));
}

TEST(FtInterwork, ShortLinksAndTexts) {
  EXPECT_EQ(shortLinkFor("https://ft.example/d/abc-_9"), "https://ft.example/l/abc-_9");
  EXPECT_EQ(shortLinkFor("https://ft.example/prefix/d/abc"), "https://ft.example/prefix/l/abc");
  // Not ours: returned as given.
  EXPECT_EQ(shortLinkFor("https://other.example/download?id=abc"), "https://other.example/download?id=abc");
  EXPECT_EQ(shortLinkFor("https://other.example/d/abc?x=1"), "https://other.example/d/abc?x=1");
  EXPECT_EQ(shortLinkFor("https://other.example/d/"), "https://other.example/d/");
  EXPECT_EQ(shortLinkFor("/d/abc"), "/d/abc");
  FileInfo f{209715200, std::string(100, 'n') + ".bin", "a/b", "u", 0, ""};
  auto text = smsText("tel:+15550100", f, "L");
  EXPECT_EQ(text, "+15550100 sent you a file: " + std::string(37, 'n') + "... (200.0 MB) L");
  f.name = "a\r\nb.txt";
  EXPECT_EQ(smsText("sip:bob@x", f, "L"), "bob@x sent you a file: a__b.txt (200.0 MB) L");
}

TEST(FtInterwork, ResponsesAreRecordedThroughTheDataUrl) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cpmgw-ftiw-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  {
    auto files = FileStore::open({tmpl, 0, 0});
    FileRecord r;
    r.id = newMessageId();
    r.tid = "t";
    r.fileName = "a.txt";
    r.contentType = "text/plain";
    r.createdAt = nowMs();
    r.until = r.createdAt + 60'000;
    r.deleteAfter = r.until;
    files->create(r);
    std::string url = "http://127.0.0.1:1/d/" + files->token(r.id, TokenPart::File);
    EXPECT_TRUE(recordTransferResponse(*files, ftXml("a.txt", 1, url), true, "sip:bob@localhost"));
    EXPECT_EQ(files->get(r.id)->response, "accepted");
    std::string upload = "http://127.0.0.1:1/d/" + files->token(r.id, TokenPart::Upload);
    EXPECT_FALSE(recordTransferResponse(*files, ftXml("a.txt", 1, upload), false, ""));
    EXPECT_FALSE(recordTransferResponse(*files, ftXml("a.txt", 1, "http://127.0.0.1:1/d/unknown"), false, ""));
    EXPECT_FALSE(recordTransferResponse(*files, "not xml", false, ""));
  }
  std::filesystem::remove_all(tmpl);
}

// An egress that records what it is handed and delivers it.
class RecordingEgress : public Adapter {
 public:
  explicit RecordingEgress(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  void start(AdapterSink&) override {}
  void submit(const StoredMessage& m, DeliveryCallback done) override {
    {
      std::lock_guard lock(mutex_);
      got_.push_back(m);
    }
    cv_.notify_all();
    done(DeliveryOutcome::delivered());
  }
  void stop(bool) override {}
  std::size_t queued() const override { return 0; }
  AdapterHealth health() const override { return {AdapterHealth::State::Up, {}}; }
  StoredMessage waitOne() {
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [this] { return !got_.empty(); }));
    return got_.empty() ? StoredMessage{} : got_.front();
  }

 private:
  std::string name_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<StoredMessage> got_;
};

TEST(FtInterwork, TheDispatcherConvertsOnlyForNonSipEgresses) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cpmgw-ftdisp-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  {
    auto store = Store::open({tmpl + "/store.db"});
    RecordingEgress sms("smsc"), sip(kSipEgress);
    auto enqueue = [&](const std::string& to, const std::string& egress) {
      Message m = ftMessage(ftXml());
      m.id.clear();
      m.to = to;
      m.egress = egress;
      std::promise<EnqueueResult> p;
      store->enqueue(m, 0, [&p](EnqueueResult r) { p.set_value(r); });
      EXPECT_EQ(p.get_future().get().status, EnqueueResult::Status::Stored);
    };
    enqueue("tel:+15550100", "smsc");
    enqueue("sip:bob@localhost", kSipEgress);
    Dispatcher dispatcher(*store, {});
    dispatcher.addEgress(sms);
    dispatcher.addEgress(sip);
    dispatcher.start();
    auto toSms = sms.waitOne();
    auto toSip = sip.waitOne();
    dispatcher.stop(std::chrono::seconds(10));
    EXPECT_EQ(toSms.contentType, "text/plain");
    EXPECT_NE(toSms.body.find("sent you a file: holiday.jpg (1.5 KB) http://ft.example:8090/l/"), std::string::npos);
    EXPECT_EQ(toSip.contentType, kFtHttpContentType);
    EXPECT_EQ(toSip.body, ftXml());
    // The stored message keeps its XML: the conversion is what the egress is handed, not what is kept.
    store->flush();
    EXPECT_EQ(store->get(toSms.id)->contentType, kFtHttpContentType);
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace cpmgw::fthttp
