#include <Poco/JSON/Array.h>

#include "admin/handlers.h"
#include "admin/json_response.h"
#include "cpmgw/text.h"
#include "runtime/dispatcher.h"

namespace cpmgw::admin {

using Poco::Net::HTTPResponse;

namespace {

Poco::JSON::Array::Ptr adaptersJson(const AdminContext& ctx) {
  Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
  for (const Adapter* a : ctx.adapters) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    auto health = a->health();
    o->set("name", a->name());
    o->set("state", toString(health.state));
    if (!health.detail.empty()) o->set("detail", printable(health.detail));
    o->set("queued", static_cast<Poco::UInt64>(a->queued()));
    if (const auto* c = ctx.dispatcher ? ctx.dispatcher->counters(a->name()) : nullptr) {
      o->set("in_flight", c->inFlight.load());
      o->set("delivered", c->delivered.load());
      o->set("retried", c->retried.load());
      o->set("failed", c->failed.load());
    }
    list->add(o);
  }
  return list;
}

}  // namespace

void HealthHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  bool ready = !ctx().ready || ctx().ready();
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("status", ready ? "ok" : "starting");
  if (!ready) response.set("Retry-After", "1");
  sendJson(response, ready ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE, o);
}

void StatusHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("version", CPMGW_VERSION);
  o->set("started_at", isoTime(ctx().startedAt));
  o->set("uptime_s", (nowMs() - ctx().startedAt) / 1000);
  Poco::JSON::Array::Ptr queues = new Poco::JSON::Array;
  for (const auto& q : ctx().store->queueDepths()) {
    Poco::JSON::Object::Ptr d = new Poco::JSON::Object;
    d->set("egress", q.egress);
    d->set("queued", q.queued);
    d->set("leased", q.leased);
    queues->add(d);
  }
  o->set("queues", queues);
  o->set("pending_writes", static_cast<Poco::UInt64>(ctx().core->pendingWrites()));
  DiskSyncStats syncs = ctx().store->diskSyncs();
  Poco::JSON::Object::Ptr store = new Poco::JSON::Object;
  store->set("syncs", static_cast<Poco::UInt64>(syncs.syncs));
  store->set("sync_avg_ms",
             syncs.syncs ? static_cast<double>(syncs.totalUs) / 1000.0 / static_cast<double>(syncs.syncs) : 0.0);
  store->set("sync_max_last_minute_ms", static_cast<double>(syncs.longestLastMinuteUs) / 1000.0);
  store->set("slow_syncs", static_cast<Poco::UInt64>(syncs.slow));
  o->set("store", store);
  o->set("adapters", adaptersJson(ctx()));
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

void AdaptersHandler::serve(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("adapters", adaptersJson(ctx()));
  sendJson(response, HTTPResponse::HTTP_OK, o);
}

}  // namespace cpmgw::admin
