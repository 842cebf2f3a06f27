// The [smpp] configuration: key declarations (beside the code that reads them), the options they make, and the
// compact per-SMSC bind specification.
//
// A key can appear only once, so the SMSC binds are one list key whose entries are specs:
//   smsc_binds = opA host=10.0.0.1 port=2775 system_id=cpmgw password_file=/etc/cpmgw/opA.pw bind=transceiver
//                window=10 tps=100 tls=off, opB host=...
// (one line; entries separated by commas). See SmscBindSpec for every parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cpmgw::config {
class Schema;
class Config;
}  // namespace cpmgw::config

namespace cpmgw::smpp {

enum class BindType { Transmitter, Receiver, Transceiver };
std::string toString(BindType t);
std::optional<BindType> parseBindType(const std::string& s);  // transmitter|tx, receiver|rx, transceiver|trx

struct SmscBindSpec {
  std::string name;                           // first word: names the bind in logs and REST
  std::string host;                           // host=
  std::uint16_t port = 2775;                  // port=
  std::string systemId;                       // system_id= (at most 15 characters)
  std::string password;                       // password= or the first line of password_file= (at most 8 characters)
  std::string systemType;                     // system_type=
  BindType bindType = BindType::Transceiver;  // bind=
  std::size_t window = 10;                    // window= outstanding submits
  std::uint32_t tps = 0;                      // tps= submits per second, 0 unlimited
  bool tls = false;                           // tls=on|off
  bool tlsVerify = true;                      // tls_verify=on|off
  std::string caFile;                         // ca_file= (empty: the system store)
  std::string smsc;  // smsc= the correlation group of receipts: binds to one SMSC share it (default: name)
};

// Parses one spec. Throws config::ConfigError naming the spec and what is wrong; reads password_file.
SmscBindSpec parseSmscBindSpec(const std::string& spec);

struct SmppOptions {
  // Server role.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint16_t tlsPort = 0;
  std::string tlsCertFile;
  std::string tlsKeyFile;
  std::string systemId = "cpmgw";  // what we call ourselves in bind_resp / bind
  std::size_t window = 10;         // per ESME bind: our deliver_sm in flight, and its requests unanswered
  std::int64_t responseTimeoutMs = 10'000;
  std::int64_t enquireLinkMs = 30'000;
  std::int64_t bindTimeoutMs = 10'000;
  int lockoutThreshold = 5;
  std::int64_t lockoutMs = 300'000;
  std::size_t maxPdu = 4096;
  std::size_t maxPendingInbound = 5000;
  // Text.
  bool udh16 = false;
  std::size_t maxSegments = 32;
  bool defaultAlphabetLatin1 = false;  // data_coding 0 read as Latin-1 instead of GSM 7
  std::int64_t reassemblyTimeoutMs = 300'000;
  bool reassemblyDeliverPartial = true;  // on timeout: deliver what arrived (marked) or drop it
  // Addressing.
  std::string moRecipient = "sip:+{number}@localhost";
  std::string alnumDomain = "sms.invalid";
  // Client role.
  std::vector<SmscBindSpec> smscBinds;
  std::int64_t reconnectMinMs = 1'000;
  std::int64_t reconnectMaxMs = 60'000;
  std::int64_t holdMs = 10'000;  // how long a message waits for a bind before it goes back to the queue
  // Storage.
  std::string database;  // smpp.db path; ":memory:" when the adapter runs without a data directory
  std::int64_t reportWaitMs = 2LL * 86'400'000;  // how long receipts are awaited before correlation data is dropped
  int passwordIterations = 20'000;

  static void declareConfig(config::Schema& schema);
  // Throws config::ConfigError for a value the schema cannot check (bind specs, choices).
  static SmppOptions from(const config::Config& config);
};

}  // namespace cpmgw::smpp
