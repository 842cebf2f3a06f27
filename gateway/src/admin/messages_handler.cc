#include <Poco/JSON/Array.h>
#include <Poco/URI.h>

#include <future>

#include "admin/handlers.h"
#include "admin/json_response.h"
#include "cpmgw/router.h"
#include "cpmgw/text.h"

namespace cpmgw::admin {

using Poco::Net::HTTPResponse;

namespace {

std::string requiredString(const Poco::JSON::Object::Ptr& o, const std::string& key) {
  if (!o->has(key) || !o->get(key).isString()) {
    throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"" + key + "\" is required and must be a string"};
  }
  return o->getValue<std::string>(key);
}

std::string optionalString(const Poco::JSON::Object::Ptr& o, const std::string& key, const std::string& fallback) {
  if (!o->has(key) || o->get(key).isEmpty()) return fallback;
  if (!o->get(key).isString()) throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "\"" + key + "\" must be a string"};
  return o->getValue<std::string>(key);
}

StoredMessage loadMessage(AdminContext& ctx, const std::string& id) {
  auto m = ctx.store->get(id);
  if (!m) throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no message " + id};
  return *m;
}

void answerWrite(AdminContext& ctx, Poco::Net::HTTPServerResponse& response, const std::string& id,
                 const WriteResult& r) {
  switch (r.status) {
    case WriteResult::Status::Ok:
      break;
    case WriteResult::Status::NotFound:
      throw HttpError{HTTPResponse::HTTP_NOT_FOUND, "no message " + id};
    case WriteResult::Status::Conflict:
      throw HttpError{HTTPResponse::HTTP_CONFLICT, r.error};
    case WriteResult::Status::Error:
      throw HttpError{HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, r.error};
  }
  sendJson(response, HTTPResponse::HTTP_OK, messageJson(loadMessage(ctx, id)));
}

}  // namespace

void MessagesHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  if (request.getMethod() == "POST") {
    auto body = readJsonObject(request);
    Message m;
    m.from = requiredString(body, "from");
    m.to = requiredString(body, "to");
    m.body = requiredString(body, "body");
    m.contentType = optionalString(body, "content_type", "text/plain");
    m.ingress = "rest";
    // A client reference makes a resubmission after a lost answer a duplicate instead of a second message.
    std::string ref = optionalString(body, "client_ref", "");
    if (!ref.empty()) m.externalIds.push_back({"rest.client_ref", ref});
    std::promise<SubmitResult> promise;
    auto future = promise.get_future();
    ctx().core->submit(std::move(m), [&promise](SubmitResult r) { promise.set_value(std::move(r)); });
    SubmitResult r = future.get();
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    switch (r.status) {
      case SubmitResult::Status::Accepted:
      case SubmitResult::Status::Duplicate:
        o->set("id", r.id);
        o->set("duplicate", r.status == SubmitResult::Status::Duplicate);
        response.set("Location", "/v1/messages/" + r.id);
        sendJson(response,
                 r.status == SubmitResult::Status::Accepted ? HTTPResponse::HTTP_ACCEPTED : HTTPResponse::HTTP_OK, o);
        return;
      case SubmitResult::Status::Invalid:
        throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, r.reason};
      case SubmitResult::Status::NoRoute:
        throw HttpError{HTTPResponse::HTTP_NOT_FOUND, r.reason};
      case SubmitResult::Status::Overloaded:
        response.set("Retry-After", "1");
        throw HttpError{HTTPResponse::HTTP_SERVICE_UNAVAILABLE, r.reason};
      case SubmitResult::Status::Error:
        throw HttpError{HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, r.reason};
    }
    return;
  }

  MessageFilter filter;
  for (const auto& [key, value] : queryParameters(request.getURI())) {
    if (key == "state") {
      MessageState s{};
      if (!parseMessageState(value, s)) throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown state " + value};
      filter.state = s;
    } else if (key == "to") {
      // Addresses are stored normalised; so is the filter (an unusable one simply matches nothing).
      filter.to = normaliseAddress(value).empty() ? value : normaliseAddress(value);
    } else if (key == "egress") {
      filter.egress = value;
    } else if (key == "limit") {
      filter.limit = pageLimit(value);
    } else if (key == "cursor") {
      filter.afterSeq = pageCursor(value);
    } else {
      throw HttpError{HTTPResponse::HTTP_BAD_REQUEST, "unknown query parameter " + key};
    }
  }
  auto messages = ctx().store->list(filter);
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const auto& m : messages) list->add(messageJson(m));
  o->set("messages", list);
  if (messages.size() == filter.limit) o->set("next_cursor", std::to_string(messages.back().seq));
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

void MessageHandler::serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
  const std::string& id = param(0);
  if (request.getMethod() == "DELETE") {
    answerWrite(ctx(), response, id, ctx().store->remove(id, "deleted through the admin API"));
    return;
  }
  auto m = loadMessage(ctx(), id);
  auto o = messageJson(m);
  Poco::JSON::Array::Ptr history = new Poco::JSON::Array;
  for (const auto& e : ctx().store->history(id)) {
    Poco::JSON::Object::Ptr h = new Poco::JSON::Object;
    h->set("at", isoTime(e.at));
    h->set("state", std::string(toString(e.state)));
    h->set("detail", printable(e.detail));  // may quote a peer's answer
    history->add(h);
  }
  o->set("history", history);
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

void MessageRetryHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  const std::string& id = param(0);
  auto r = ctx().store->retry(id, "retry requested through the admin API");
  if (r.status == WriteResult::Status::Ok) ctx().core->wakeDispatcher();
  answerWrite(ctx(), response, id, r);
}

}  // namespace cpmgw::admin
