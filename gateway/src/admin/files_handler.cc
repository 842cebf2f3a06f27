// /v1/files: the files of FT over HTTP. GET /v1/files?owner=&state=&limit=&cursor= lists, GET /v1/files/usage
// reports storage, GET|DELETE /v1/files/{id} shows (with history) or removes one, POST /v1/files/{id}/accept and
// /reject record the recipient's answer (CPM-CONV-045) so the sender can see it.
#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include "admin/handlers.h"
#include "admin/json_response.h"
#include "cpmgw/text.h"
#include "fthttp/file_store.h"

namespace cpmgw::admin {

using Poco::Net::HTTPResponse;

namespace {

bool isFileId(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A handler of /v1/files resources; 404 when FT over HTTP is not running.
class FilesResource : public CoreHandler {
 public:
  using CoreHandler::CoreHandler;

 protected:
  fthttp::FileStore& files() const {
    if (!ctx().files) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "file transfer over HTTP is not enabled"};
    return *ctx().files;
  }

  Poco::JSON::Object::Ptr fileJson(const fthttp::FileRecord& r) const {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("id", r.id);
    o->set("owner", r.owner);
    o->set("tid", r.tid);
    o->set("state", std::string(fthttp::toString(r.state)));
    o->set("file_name", r.fileName);
    o->set("content_type", r.contentType);
    o->set("size", static_cast<Poco::UInt64>(r.size));
    o->set("expected_size",
           r.expectedSize ? Poco::Dynamic::Var(static_cast<Poco::UInt64>(*r.expectedSize)) : Poco::Dynamic::Var());
    if (!r.expectedHash.empty()) o->set("expected_hash", r.expectedHash);
    if (r.hasThumbnail) {
      Poco::JSON::Object::Ptr t = new Poco::JSON::Object;
      t->set("content_type", r.thumbType);
      t->set("size", static_cast<Poco::UInt64>(r.thumbSize));
      o->set("thumbnail", t);
    } else {
      o->set("thumbnail", Poco::Dynamic::Var());
    }
    o->set("uploaded_from", r.peer);
    o->set("created_at", isoTime(r.createdAt));
    o->set("completed_at", isoTime(r.completedAt));
    o->set("downloaded_at", isoTime(r.downloadedAt));
    o->set("until", isoTime(r.until));
    o->set("delete_after", isoTime(r.deleteAfter));
    o->set("expired", nowMs() > r.until);
    o->set("response", r.response.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(r.response));
    if (!r.responseBy.empty()) o->set("response_by", r.responseBy);
    // Links are capabilities: only admins see them here, as the uploader saw them.
    std::string base = files().linkBase();
    if (!base.empty() && r.state == fthttp::FileState::Complete) {
      o->set("data_url", base + "/d/" + files().token(r.id, fthttp::TokenPart::File));
      o->set("link_page", base + "/l/" + files().token(r.id, fthttp::TokenPart::File));
    }
    return o;
  }

  fthttp::FileRecord load(const std::string& id) const {
    auto r = files().get(id);
    if (!r) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no file " + id};
    return *r;
  }
};

class FilesListHandler final : public FilesResource {
 public:
  using FilesResource::FilesResource;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    fthttp::FileFilter filter;
    for (const auto& [key, value] : queryParameters(request.getURI())) {
      if (key == "owner") {
        filter.owner = value;
      } else if (key == "state") {
        fthttp::FileState s{};
        if (!fthttp::parseFileState(value, s))
          throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "state must be uploading or complete"};
        filter.state = s;
      } else if (key == "limit") {
        filter.limit = pageLimit(value);
      } else if (key == "cursor") {
        filter.afterSeq = pageCursor(value);
      } else {
        throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown query parameter " + key};
      }
    }
    auto records = files().list(filter);
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
    for (const auto& r : records) list->add(fileJson(r));
    o->set("files", list);
    if (records.size() == filter.limit) o->set("next_cursor", std::to_string(records.back().seq));
    sendJson(response, HTTPResponse::HTTP_OK, o);
  }
};

class FilesUsageHandler final : public FilesResource {
 public:
  using FilesResource::FilesResource;

 protected:
  std::vector<std::string> allowed() const override { return {"GET"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    std::optional<std::string> owner;
    for (const auto& [key, value] : queryParameters(request.getURI())) {
      if (key != "owner") throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown query parameter " + key};
      owner = value;
    }
    auto u = files().usage(owner);
    const auto& opts = files().options();
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    if (owner) o->set("owner", *owner);
    o->set("bytes", static_cast<Poco::UInt64>(u.bytes));
    o->set("files", static_cast<Poco::UInt64>(u.files));
    o->set("user_quota", static_cast<Poco::UInt64>(opts.userQuota));
    o->set("disk_free", static_cast<Poco::UInt64>(files().diskFree()));
    o->set("low_water_mark", static_cast<Poco::UInt64>(opts.lowWaterMark));
    sendJson(response, HTTPResponse::HTTP_OK, o);
  }
};

class FileHandler final : public FilesResource {
 public:
  using FilesResource::FilesResource;

 protected:
  std::vector<std::string> allowed() const override { return {"GET", "DELETE"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    const std::string& id = param(0);
    if (request.getMethod() == "DELETE") {
      if (!files().remove(id, "deleted through the admin API from " + request.clientAddress().toString()))
        throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no file " + id};
      Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
      o->set("id", id);
      o->set("state", "deleted");
      sendJson(response, HTTPResponse::HTTP_OK, o);
      return;
    }
    auto o = fileJson(load(id));
    Poco::JSON::Array::Ptr history = new Poco::JSON::Array;
    for (const auto& e : files().history(id)) {
      Poco::JSON::Object::Ptr h = new Poco::JSON::Object;
      h->set("at", isoTime(e.at));
      h->set("event", e.event);
      h->set("detail", printable(e.detail));
      history->add(h);
    }
    o->set("history", history);
    sendJson(response, HTTPResponse::HTTP_OK, o);
  }
};

// POST /v1/files/{id}/accept | /reject, optionally {"by": "<recipient address>"}.
class FileResponseHandler final : public FilesResource {
 public:
  FileResponseHandler(std::shared_ptr<AdminContext> c, std::vector<std::string> params, bool accept)
      : FilesResource(std::move(c), std::move(params)), accept_(accept) {}

 protected:
  std::vector<std::string> allowed() const override { return {"POST"}; }
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    const std::string& id = param(0);
    std::string by;
    bool hasBody =
        request.getChunkedTransferEncoding() || (request.hasContentLength() && request.getContentLength64() > 0);
    if (hasBody) {
      auto body = readJsonObject(request);
      if (body->has("by")) {
        if (!body->get("by").isString()) throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"by\" must be a string"};
        by = body->getValue<std::string>("by");
        if (by.size() > 256 || !isUtf8(by))
          throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"by\" must be an address of at most 256 bytes"};
      }
    }
    if (!files().recordResponse(id, accept_, by)) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no file " + id};
    sendJson(response, HTTPResponse::HTTP_OK, fileJson(load(id)));
  }

 private:
  bool accept_;
};

}  // namespace

Poco::Net::HTTPRequestHandler* createFilesHandler(const std::vector<std::string>& seg,
                                                  const std::shared_ptr<AdminContext>& context) {
  if (seg.size() < 2 || seg[0] != "v1" || seg[1] != "files") return nullptr;
  if (seg.size() == 2) return new FilesListHandler(context, {});
  if (seg.size() == 3 && seg[2] == "usage") return new FilesUsageHandler(context, {});
  if (seg.size() == 3 && isFileId(seg[2])) return new FileHandler(context, {seg[2]});
  if (seg.size() == 4 && isFileId(seg[2]) && (seg[3] == "accept" || seg[3] == "reject"))
    return new FileResponseHandler(context, {seg[2]}, seg[3] == "accept");
  return nullptr;
}

}  // namespace cpmgw::admin
