#include "runtime/application.h"

#include <Poco/File.h>
#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Path.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>

#include "admin/admin_server.h"
#include "core/user_directory.h"
#include "cpmgw/adapter.h"
#include "cpmgw/message_core.h"
#include "cpmgw/router.h"
#include "cpmgw/store.h"
#include "fthttp/ft_server.h"
#include "runtime/dispatcher.h"
#include "runtime/logging.h"
#include "runtime/systemd_notify.h"
#include "sip/sip_endpoint.h"

namespace cpmgw {

namespace {

constexpr int kExitConfig = 78;   // EX_CONFIG: systemd must not restart into the same error
constexpr int kExitDataErr = 65;  // EX_DATAERR: the store refused to open

Poco::Logger& gatewayLog() {
  return Poco::Logger::get("cpmgw");
}

void declareGeneralConfig(config::Schema& schema) {
  using config::Type;
  schema.add({"general", "data_dir", Type::Path, "/var/lib/cpmgw",
              "Directory for the store, files in transfer and generated secrets. Relative paths are taken from the "
              "working directory."});
  schema.add({"general", "log_level", Type::LogLevel, "information",
              "fatal, critical, error, warning, notice, information, debug or trace. SIGHUP re-reads it."});
  schema.add({"general", "log_rate", Type::Int, "100",
              "Lines a second each logger may write on average (a burst of as many) at levels warning, notice and "
              "information; beyond it lines are dropped and their count logged every second. 0: no limit. SIGHUP "
              "re-reads it.",
              0, 1000000});
  schema.add({"general", "drain_timeout", Type::Duration, "30s",
              "On SIGTERM: how long to wait for in-flight deliveries before exiting.", 0});
  schema.add({"general", "sip", Type::Bool, "true", "Run the SIP endpoint (registrar, MESSAGE in and out)."});
  schema.add({"general", "max_pending_writes", Type::Int, "20000",
              "Messages accepted but not yet committed; beyond it senders are told to retry later.", 1, 10000000});
}

bool isLoopback(const std::string& host) {
  if (host == "localhost") return true;
  Poco::Net::IPAddress ip;
  return Poco::Net::IPAddress::tryParse(host, ip) && ip.isLoopback();
}

std::string readTokenFile(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
  auto first = token.find_first_not_of(" \t");
  token.erase(0, first == std::string::npos ? token.size() : first);
  if (token.size() < 16) throw config::ConfigError(path + ": the admin token must be at least 16 characters");
  return token;
}

// Semantic checks across keys, after every key is valid on its own. Throws config::ConfigError.
void checkConsistency(const config::Config& config) {
  const std::string& file = config.sourcePath();
  auto fail = [&](const std::string& where, const std::string& what) {
    throw config::ConfigError(file + ": " + where + ": " + what);
  };
  auto enabled = config.getList("adapters.enabled");
  for (std::size_t i = 0; i < enabled.size(); ++i) {
    if (std::find(enabled.begin(), enabled.begin() + static_cast<std::ptrdiff_t>(i), enabled[i]) !=
        enabled.begin() + static_cast<std::ptrdiff_t>(i))
      fail("[adapters] enabled", "'" + enabled[i] + "' listed twice");
  }
  for (const auto& name : enabled) {
    bool known = false;
    for (const auto& f : adapterFactories()) known = known || f.type == name;
    if (!known) fail("[adapters] enabled", "unknown adapter '" + name + "'");
  }
  auto egressKnown = [&](const std::string& e) {
    return e == kSipEgress || std::find(enabled.begin(), enabled.end(), e) != enabled.end();
  };
  if (!config.getList("routing.interwork_prefixes").empty() &&
      !egressKnown(config.getString("routing.interwork_egress")))
    fail("[routing] interwork_egress",
         "'" + config.getString("routing.interwork_egress") + "' is not an enabled adapter");
  auto def = config.getString("routing.default_egress");
  if (!def.empty() && !egressKnown(def)) fail("[routing] default_egress", "'" + def + "' is not an enabled adapter");
  for (const char* section : {"admin", "sip"}) {
    bool hasCert = !config.getString(std::string(section) + ".tls_cert_file").empty();
    bool hasKey = !config.getString(std::string(section) + ".tls_key_file").empty();
    if (hasCert != hasKey)
      fail("[" + std::string(section) + "] " + (hasCert ? "tls_key_file" : "tls_cert_file"),
           "required with the other TLS file");
  }
  bool cert = !config.getString("admin.tls_cert_file").empty();
  if (!config.getString("admin.tls_client_ca_file").empty() && !cert)
    fail("[admin] tls_client_ca_file", "needs tls_cert_file and tls_key_file");
  if (config.getString("admin.token_file").empty() && !isLoopback(config.getString("admin.host")))
    fail("[admin] token_file", "required when the admin API listens on a non-loopback address");
  if (auto tokenFile = config.getString("admin.token_file"); !tokenFile.empty()) readTokenFile(tokenFile);
  if (config.getDuration("dispatcher.retry_cap") < config.getDuration("dispatcher.retry_base"))
    fail("[dispatcher] retry_cap", "shorter than retry_base");
  fthttp::FtHttpServer::checkConfig(config);
}

// A fresh random token for a loopback-only admin API without a configured one, written 0600 for the admin.
std::string generateToken(const std::string& path) {
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token;
  for (unsigned char c : raw) token += kAlphabet[c & 63];
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path);
  return token;
}

}  // namespace

config::Schema fullSchema() {
  config::Schema schema;
  declareGeneralConfig(schema);
  Store::declareConfig(schema);
  RoutingPolicy::declareConfig(schema);
  Dispatcher::declareConfig(schema);
  AdminServer::declareConfig(schema);
  fthttp::FtHttpServer::declareConfig(schema);
  sip::SipEndpoint::declareConfig(schema);
  declareAdapterConfig(schema);
  return schema;
}

void GatewayApplication::defineOptions(Poco::Util::OptionSet& options) {
  // Application's options only: ServerApplication's --daemon/--pidfile have no place under systemd.
  Poco::Util::Application::defineOptions(options);
  options.addOption(Poco::Util::Option("config", "c", "Configuration file (INI).")
                        .required(false)
                        .repeatable(false)
                        .argument("FILE"));
  options.addOption(Poco::Util::Option("check-config", "", "Validate the configuration and exit 0 (valid) or 1."));
  options.addOption(Poco::Util::Option("dump-default", "", "Print a commented default configuration and exit."));
  options.addOption(Poco::Util::Option("version", "v", "Print the version and exit."));
  options.addOption(Poco::Util::Option("help", "h", "Print this help and exit."));
}

void GatewayApplication::handleOption(const std::string& name, const std::string& value) {
  Poco::Util::Application::handleOption(name, value);
  if (name == "config") configPath_ = value;
  if (name == "check-config") mode_ = Mode::CheckConfig;
  if (name == "dump-default") mode_ = Mode::DumpDefault;
  if (name == "version") mode_ = Mode::Version;
  if (name == "help") {
    mode_ = Mode::Help;
    stopOptionsProcessing();
  }
}

int GatewayApplication::main(const std::vector<std::string>& args) {
  if (!args.empty() && mode_ != Mode::Help) {
    std::cerr << "cpmgw: unexpected argument '" << args.front() << "' (see --help)\n";
    return kExitConfig;
  }
  switch (mode_) {
    case Mode::Help: {
      Poco::Util::HelpFormatter help(options());
      help.setCommand("cpmgw");
      help.setUsage("[--config FILE] [--check-config] [--dump-default] [--version]");
      help.setHeader("CPM interworking gateway.");
      help.format(std::cout);
      return EXIT_OK;
    }
    case Mode::Version:
      std::cout << "cpmgw " << CPMGW_VERSION << "\n";
      return EXIT_OK;
    case Mode::DumpDefault:
      std::cout << fullSchema().dumpDefault();
      return EXIT_OK;
    default:
      break;
  }
  if (configPath_.empty()) {
    std::cerr << "cpmgw: --config FILE is required (cpmgw --dump-default prints a starting point)\n";
    return mode_ == Mode::CheckConfig ? 1 : kExitConfig;
  }
  auto schema = fullSchema();
  config::Config config;
  try {
    config = config::Config::load(schema, configPath_);
    checkConsistency(config);
  } catch (const config::ConfigError& e) {
    std::cerr << "cpmgw: " << e.what() << "\n";
    return mode_ == Mode::CheckConfig ? 1 : kExitConfig;
  }
  if (mode_ == Mode::CheckConfig) {
    std::cout << configPath_ << ": ok\n";
    return EXIT_OK;
  }
  return serve(config);
}

int GatewayApplication::serve(const config::Config& config) {
  setupLogging(config.getString("general.log_level"), static_cast<unsigned>(config.getInt("general.log_rate")));
  auto& log = gatewayLog();
  log.notice("cpmgw %s starting with %s", std::string(CPMGW_VERSION), config.sourcePath());

  Poco::Path dataDir(Poco::Path(config.getString("general.data_dir")).absolute());
  dataDir.makeDirectory();
  try {
    Poco::File(dataDir).createDirectories();
  } catch (const Poco::Exception& e) {
    log.fatal("cannot create data directory %s: %s", dataDir.toString(), e.displayText());
    return kExitConfig;
  }

  auto storeOptions = Store::optionsFrom(config);
  storeOptions.path = Poco::Path(dataDir, storeOptions.path).toString();
  std::unique_ptr<Store> store;
  try {
    store = Store::open(storeOptions);
  } catch (const StoreError& e) {
    log.fatal("%s", std::string(e.what()));
    return kExitDataErr;
  }
  if (auto n = store->recover(0)) log.notice("%z messages in flight at the last stop returned to the queue", n);

  Dispatcher dispatcher(*store, Dispatcher::optionsFrom(config));
  MessageCore core(*store, Router(RoutingPolicy::from(config)),
                   static_cast<std::size_t>(config.getInt("general.max_pending_writes")),
                   [&dispatcher] { dispatcher.wake(); });
  dispatcher.setFinalOutcomeHook(
      [&core](const StoredMessage& m, const DeliveryOutcome& o) { core.finalOutcome(m, o); });
  CachedUserDirectory users(*store);
  // FT over HTTP keeps its own metadata beside the store; uploaders authenticate with their SIP credentials.
  std::unique_ptr<fthttp::FtHttpServer> ftHttp;
  if (config.getBool("fthttp.enabled")) {
    auto options = fthttp::FtHttpServer::optionsFrom(config, dataDir.toString());
    options.realm = config.getString("sip.realm");
    try {
      ftHttp = std::make_unique<fthttp::FtHttpServer>(options, &users);
    } catch (const fthttp::FileStoreError& e) {
      log.fatal("%s", std::string(e.what()));
      return kExitDataErr;
    }
  }
  auto adapters = createAdapters(config);
  std::unique_ptr<sip::SipEndpoint> sipEndpoint;
  if (config.getBool("general.sip")) {
    auto options = sip::SipEndpoint::optionsFrom(config);
    options.certDir = Poco::Path(dataDir, "sip-tls").toString();
    core.setNetworkDeliveryReports(options.networkDeliveryImdn);
    sipEndpoint = std::make_unique<sip::SipEndpoint>(options, core, *store, users);
    sipEndpoint->setRescheduled([&dispatcher] { dispatcher.wake(); });
  }

  std::atomic<bool> ready{false};
  auto context = std::make_shared<AdminContext>();
  context->store = store.get();
  context->core = &core;
  context->dispatcher = &dispatcher;
  for (auto& a : adapters) context->adapters.push_back(a.get());
  context->maxBody = config.getSize("admin.max_body");
  context->startedAt = nowMs();
  context->ready = [&ready] { return ready.load(); };
  context->users = &users;
  context->realm = config.getString("sip.realm");
  if (ftHttp) context->files = &ftHttp->files();
  if (sipEndpoint) {
    context->registrar = &sipEndpoint->registrar();
    context->adapters.push_back(sipEndpoint.get());
  }
  std::string generatedTokenFile;
  try {
    if (auto file = config.getString("admin.token_file"); !file.empty()) {
      context->token = readTokenFile(file);
    } else {
      generatedTokenFile = Poco::Path(dataDir, "admin.token").toString();
      context->token = generateToken(generatedTokenFile);
    }
  } catch (const std::exception& e) {
    log.fatal("%s", std::string(e.what()));
    return kExitConfig;
  }

  AdminServer admin(AdminServer::optionsFrom(config), context);
  try {
    admin.start();
  } catch (const Poco::Exception& e) {
    log.fatal("admin API cannot listen on %s:%hu: %s", config.getString("admin.host"), config.getPort("admin.port"),
              e.displayText());
    return kExitConfig;
  }
  if (ftHttp) {
    try {
      ftHttp->start();
    } catch (const Poco::Exception& e) {
      log.fatal("FT-HTTP cannot listen on %s: %s", config.getString("fthttp.host"), e.displayText());
      return kExitConfig;
    }
  }
  if (sipEndpoint) {
    try {
      sipEndpoint->start(core);
    } catch (const std::exception& e) {
      log.fatal("SIP endpoint cannot start: %s", std::string(e.what()));
      return kExitConfig;
    }
    dispatcher.addEgress(*sipEndpoint);
  }
  for (auto& a : adapters) {
    a->start(core);
    dispatcher.addEgress(*a);
  }
  dispatcher.start();
  ready = true;

  log.notice("admin API listening on %s", admin.url());
  if (ftHttp) {
    for (const auto& url : ftHttp->urls()) log.notice("FT-HTTP listening on %s", url);
    log.notice("FT-HTTP links start with %s", ftHttp->publicBaseUrl());
  }
  if (!generatedTokenFile.empty())
    log.notice("admin token (generated for this run, also in %s): %s", generatedTokenFile, context->token);
  if (sipEndpoint)
    for (const auto& l : sipEndpoint->listeners()) log.notice("SIP listening on %s", l);
  for (auto& a : adapters) log.notice("adapter %s started", a->name());
  log.notice("data directory %s, store %s", dataDir.toString(), storeOptions.path);
  systemd::ready("admin API on " + admin.url());
  log.notice("ready");

  // The main loop: signals, the watchdog ping that proves this loop still turns, and the counts of log lines
  // dropped over [general] log_rate.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGQUIT, SIGHUP}) sigaddset(&signals, s);
  auto pingEvery = systemd::watchdogPingInterval();
  auto wait = pingEvery.count() > 0 ? std::min<std::int64_t>(pingEvery.count(), 1000) : 1000;
  for (;;) {
    timespec timeout{wait / 1000, (wait % 1000) * 1'000'000};
    int sig = sigtimedwait(&signals, nullptr, &timeout);
    reportDroppedLogLines();
    if (sig < 0) {
      if (pingEvery.count() > 0) systemd::watchdog();
      continue;
    }
    if (sig == SIGHUP) {
      try {
        auto fresh = config::Config::load(fullSchema(), config.sourcePath());
        setLogLevel(fresh.getString("general.log_level"));
        setLogRate(static_cast<unsigned>(fresh.getInt("general.log_rate")));
        log.notice("SIGHUP: log level now %s, log rate %?d (other changes take effect at restart)",
                   fresh.getString("general.log_level"), fresh.getInt("general.log_rate"));
      } catch (const std::exception& e) {
        log.error("SIGHUP: configuration not reloaded: %s", std::string(e.what()));
      }
      continue;
    }
    log.notice("signal %d: draining (at most %?d ms)", sig, config.getDuration("general.drain_timeout").count());
    break;
  }

  systemd::stopping();
  ready = false;
  auto deadline = std::chrono::steady_clock::now() + config.getDuration("general.drain_timeout");
  admin.stop();
  dispatcher.stop(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  if (ftHttp) {
    // Transfers in progress get what is left of the drain time; uploads cut then stay resumable.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    ftHttp->stop(std::max(left, std::chrono::milliseconds(0)));
    ftHttp.reset();
  }
  if (sipEndpoint) sipEndpoint->stop(true);
  for (auto& a : adapters) a->stop(true);
  store->flush();
  store.reset();
  reportDroppedLogLines();
  log.notice("stopped cleanly");
  return EXIT_OK;
}

}  // namespace cpmgw
