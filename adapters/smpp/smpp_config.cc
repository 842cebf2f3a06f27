#include "smpp/smpp_config.h"

#include <Poco/Path.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "cpmgw/config.h"

namespace cpmgw::smpp {
namespace {

std::string specError(const std::string& spec, const std::string& what) {
  return "[smpp] smsc_binds: '" + spec + "': " + what;
}

bool parseOnOff(const std::string& v, bool& out) {
  if (v == "on" || v == "true" || v == "yes" || v == "1") {
    out = true;
    return true;
  }
  if (v == "off" || v == "false" || v == "no" || v == "0") {
    out = false;
    return true;
  }
  return false;
}

bool parseUnsigned(const std::string& v, std::uint64_t max, std::uint64_t& out) {
  if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(v);
  return out <= max;
}

}  // namespace

std::string toString(BindType t) {
  switch (t) {
    case BindType::Transmitter:
      return "transmitter";
    case BindType::Receiver:
      return "receiver";
    case BindType::Transceiver:
      return "transceiver";
  }
  return "transceiver";
}

std::optional<BindType> parseBindType(const std::string& s) {
  if (s == "transmitter" || s == "tx") return BindType::Transmitter;
  if (s == "receiver" || s == "rx") return BindType::Receiver;
  if (s == "transceiver" || s == "trx") return BindType::Transceiver;
  return std::nullopt;
}

SmscBindSpec parseSmscBindSpec(const std::string& spec) {
  std::istringstream words(spec);
  SmscBindSpec s;
  if (!(words >> s.name) || s.name.find('=') != std::string::npos)
    throw config::ConfigError(specError(spec, "must start with the bind's name"));
  std::string word, passwordFile;
  bool havePassword = false;
  while (words >> word) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      throw config::ConfigError(specError(spec, "'" + word + "' is not key=value"));
    std::string k = word.substr(0, eq), v = word.substr(eq + 1);
    std::uint64_t n = 0;
    if (k == "host") {
      s.host = v;
    } else if (k == "port") {
      if (!parseUnsigned(v, 65535, n) || n == 0) throw config::ConfigError(specError(spec, "port must be 1..65535"));
      s.port = static_cast<std::uint16_t>(n);
    } else if (k == "system_id") {
      s.systemId = v;
    } else if (k == "password") {
      s.password = v;
      havePassword = true;
    } else if (k == "password_file") {
      passwordFile = v;
    } else if (k == "system_type") {
      s.systemType = v;
    } else if (k == "bind") {
      auto t = parseBindType(v);
      if (!t) throw config::ConfigError(specError(spec, "bind must be transmitter, receiver or transceiver"));
      s.bindType = *t;
    } else if (k == "window") {
      if (!parseUnsigned(v, 1000, n) || n == 0) throw config::ConfigError(specError(spec, "window must be 1..1000"));
      s.window = n;
    } else if (k == "tps") {
      if (!parseUnsigned(v, 1'000'000, n)) throw config::ConfigError(specError(spec, "tps must be 0..1000000"));
      s.tps = static_cast<std::uint32_t>(n);
    } else if (k == "tls") {
      if (!parseOnOff(v, s.tls)) throw config::ConfigError(specError(spec, "tls must be on or off"));
    } else if (k == "tls_verify") {
      if (!parseOnOff(v, s.tlsVerify)) throw config::ConfigError(specError(spec, "tls_verify must be on or off"));
    } else if (k == "ca_file") {
      s.caFile = v;
    } else if (k == "smsc") {
      s.smsc = v;
    } else {
      throw config::ConfigError(specError(spec, "unknown parameter '" + k + "'"));
    }
  }
  if (s.host.empty()) throw config::ConfigError(specError(spec, "host= is required"));
  if (s.systemId.empty() || s.systemId.size() > 15)
    throw config::ConfigError(specError(spec, "system_id= is required (at most 15 characters)"));
  if (!passwordFile.empty()) {
    if (havePassword) throw config::ConfigError(specError(spec, "password and password_file both given"));
    std::ifstream in(passwordFile);
    if (!in) throw config::ConfigError(specError(spec, "cannot read password_file " + passwordFile));
    std::getline(in, s.password);
    while (!s.password.empty() && (s.password.back() == '\r' || s.password.back() == ' ')) s.password.pop_back();
  }
  if (s.password.size() > 8)
    throw config::ConfigError(specError(spec, "the password is longer than SMPP's 8 characters"));
  if (s.systemType.size() > 12) throw config::ConfigError(specError(spec, "system_type longer than 12 characters"));
  if (s.smsc.empty()) s.smsc = s.name;
  return s;
}

void SmppOptions::declareConfig(config::Schema& schema) {
  using config::Type;
  auto add = [&](const char* name, Type type, const char* def, const char* help, std::int64_t min = INT64_MIN,
                 std::int64_t max = INT64_MAX) {
    schema.add({"smpp", name, type, def, help, min, max});
  };
  add("host", Type::Host, "127.0.0.1", "Address the SMPP server (for ESMEs and SMSCs binding to us) listens on.");
  add("port", Type::Port, "0",
      "Plain TCP port of the SMPP server; 2775 is the usual one. 0 picks a free port (logged as 'SMPP server "
      "listening on').");
  add("tls_cert_file", Type::ReadableFile, "", "PEM certificate chain: also serve SMPP over TLS on tls_port.");
  add("tls_key_file", Type::ReadableFile, "", "PEM private key of tls_cert_file.");
  add("tls_port", Type::Port, "0", "TLS port of the SMPP server (3550 is common); 0 picks a free port.");
  add("system_id", Type::String, "cpmgw", "Our system_id in bind responses.");
  add("window", Type::Int, "10",
      "Per ESME bind: most deliver_sm of ours awaiting a response, and most of its requests awaiting ours (beyond "
      "it the ESME is answered ESME_RTHROTTLED).",
      1, 1000);
  add("response_timeout", Type::Duration, "10s", "How long a request waits for its response.", 100);
  add("enquire_link_interval", Type::Duration, "30s",
      "Idle time after which we send enquire_link (in both roles); 0 never.", 0);
  add("bind_timeout", Type::Duration, "10s", "A connection that has not bound within this is closed.", 100);
  add("lockout_threshold", Type::Int, "5", "Failed binds from one address before it is locked out.", 1, 1000);
  add("lockout_time", Type::Duration, "5m", "How long an address stays locked out (and how long failures count).",
      1000);
  add("max_pdu_size", Type::Size, "4k", "Largest PDU accepted; a larger command_length closes the link.", 64, 65536);
  add("max_pending_inbound", Type::Int, "5000",
      "Messages received and not yet stored; beyond it senders get ESME_RMSGQFUL.", 1, 1000000);
  add("concatenation", Type::String, "udh8",
      "How long messages are split: udh8 (6-octet UDH, 153 GSM / 67 UCS-2 characters a part) or udh16 (7-octet "
      "UDH, 152 / 66).");
  add("max_segments", Type::Int, "32", "A message needing more parts than this fails instead of being sent.", 1, 255);
  add("default_alphabet", Type::String, "gsm7", "How data_coding 0 is read: gsm7 (GSM 03.38) or latin1.");
  add("reassembly_timeout", Type::Duration, "5m", "How long the parts of an inbound concatenated message are awaited.",
      1000);
  add("reassembly_policy", Type::String, "deliver",
      "After reassembly_timeout: deliver (the parts received, marked incomplete) or drop.");
  add("mo_recipient", Type::String, "sip:+{number}@localhost",
      "The CPM address an inbound SMS is delivered to; {number} is the destination's digits.");
  add("alphanumeric_domain", Type::String, "sms.invalid",
      "Domain of the sip: address given to alphanumeric SMS senders (which have no number).");
  add("smsc_binds", Type::List, "",
      "Binds to operator SMSCs, comma-separated; each: NAME host=H port=P system_id=S password_file=F (or password=) "
      "bind=transmitter|receiver|transceiver window=10 tps=0 tls=off tls_verify=on ca_file= system_type= smsc=NAME.");
  add("reconnect_min", Type::Duration, "1s", "First delay before binding again after a lost or refused bind.", 10);
  add("reconnect_max", Type::Duration, "60s", "Longest delay between bind attempts (doubles from reconnect_min).", 10);
  add("hold_time", Type::Duration, "10s",
      "How long an outbound message waits for a usable bind before it goes back to the queue for a later retry.", 100);
  add("database", Type::Path, "smpp.db",
      "SQLite file for accounts, inbound reassembly and receipt correlation; relative to [general] data_dir.");
  add("report_wait", Type::Duration, "2d", "How long delivery receipts are awaited before their data is dropped.",
      1000);
  add("password_iterations", Type::Int, "20000", "PBKDF2-HMAC-SHA256 iterations for new account passwords.", 1000,
      10000000);
}

SmppOptions SmppOptions::from(const config::Config& c) {
  SmppOptions o;
  o.host = c.getString("smpp.host");
  o.port = c.getPort("smpp.port");
  o.tlsPort = c.getPort("smpp.tls_port");
  o.tlsCertFile = c.getString("smpp.tls_cert_file");
  o.tlsKeyFile = c.getString("smpp.tls_key_file");
  if (o.tlsCertFile.empty() != o.tlsKeyFile.empty())
    throw config::ConfigError(c.sourcePath() + ": [smpp] tls_cert_file and tls_key_file go together");
  o.systemId = c.getString("smpp.system_id");
  if (o.systemId.empty() || o.systemId.size() > 15)
    throw config::ConfigError(c.sourcePath() + ": [smpp] system_id: 1 to 15 characters");
  o.window = static_cast<std::size_t>(c.getInt("smpp.window"));
  o.responseTimeoutMs = c.getDuration("smpp.response_timeout").count();
  o.enquireLinkMs = c.getDuration("smpp.enquire_link_interval").count();
  o.bindTimeoutMs = c.getDuration("smpp.bind_timeout").count();
  o.lockoutThreshold = static_cast<int>(c.getInt("smpp.lockout_threshold"));
  o.lockoutMs = c.getDuration("smpp.lockout_time").count();
  o.maxPdu = c.getSize("smpp.max_pdu_size");
  o.maxPendingInbound = static_cast<std::size_t>(c.getInt("smpp.max_pending_inbound"));
  auto concat = c.getString("smpp.concatenation");
  if (concat != "udh8" && concat != "udh16")
    throw config::ConfigError(c.sourcePath() + ": [smpp] concatenation: '" + concat + "' is not udh8 or udh16");
  o.udh16 = concat == "udh16";
  o.maxSegments = static_cast<std::size_t>(c.getInt("smpp.max_segments"));
  auto alphabet = c.getString("smpp.default_alphabet");
  if (alphabet != "gsm7" && alphabet != "latin1")
    throw config::ConfigError(c.sourcePath() + ": [smpp] default_alphabet: '" + alphabet + "' is not gsm7 or latin1");
  o.defaultAlphabetLatin1 = alphabet == "latin1";
  o.reassemblyTimeoutMs = c.getDuration("smpp.reassembly_timeout").count();
  auto policy = c.getString("smpp.reassembly_policy");
  if (policy != "deliver" && policy != "drop")
    throw config::ConfigError(c.sourcePath() + ": [smpp] reassembly_policy: '" + policy + "' is not deliver or drop");
  o.reassemblyDeliverPartial = policy == "deliver";
  o.moRecipient = c.getString("smpp.mo_recipient");
  if (o.moRecipient.find("{number}") == std::string::npos)
    throw config::ConfigError(c.sourcePath() + ": [smpp] mo_recipient must contain {number}");
  o.alnumDomain = c.getString("smpp.alphanumeric_domain");
  for (const auto& spec : c.getList("smpp.smsc_binds")) {
    try {
      o.smscBinds.push_back(parseSmscBindSpec(spec));
    } catch (const config::ConfigError& e) {
      throw config::ConfigError(c.sourcePath() + ": " + e.what());
    }
    for (std::size_t i = 0; i + 1 < o.smscBinds.size(); ++i)
      if (o.smscBinds[i].name == o.smscBinds.back().name)
        throw config::ConfigError(c.sourcePath() + ": [smpp] smsc_binds: the name '" + o.smscBinds.back().name +
                                  "' is used twice");
  }
  o.reconnectMinMs = c.getDuration("smpp.reconnect_min").count();
  o.reconnectMaxMs = std::max(o.reconnectMinMs, static_cast<std::int64_t>(c.getDuration("smpp.reconnect_max").count()));
  o.holdMs = c.getDuration("smpp.hold_time").count();
  o.reportWaitMs = c.getDuration("smpp.report_wait").count();
  o.passwordIterations = static_cast<int>(c.getInt("smpp.password_iterations"));
  // The data directory is declared by the application; an adapter built from the adapters' schema alone (the
  // conformance test) has none and keeps its tables in memory.
  std::string dataDir;
  try {
    dataDir = c.getString("general.data_dir");
  } catch (const std::logic_error&) {
    dataDir.clear();
  }
  auto db = c.getString("smpp.database");
  if (Poco::Path(db).isAbsolute()) {
    o.database = db;
  } else if (dataDir.empty()) {
    o.database = ":memory:";
  } else {
    Poco::Path base(dataDir);
    base.makeDirectory();
    base.makeAbsolute();
    o.database = Poco::Path(base, Poco::Path(db)).toString();
  }
  return o;
}

}  // namespace cpmgw::smpp
