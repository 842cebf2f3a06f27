// Shared by the SMPP peers the integration tests drive: a line protocol (one JSON command per stdin line, one JSON
// event per stdout line) and raw access to short_message / message_payload octets.
'use strict';
const readline = require('readline');
const smpp = require('smpp');

// The tests compare octets (UDH, septets, UCS-2): switch off the package's text filters so short_message and
// message_payload stay Buffers both ways.
for (const command of ['submit_sm', 'deliver_sm', 'data_sm']) {
  const params = smpp.commands[command] && smpp.commands[command].params;
  if (params && params.short_message) delete params.short_message.filter;
}
if (smpp.tlvs.message_payload) delete smpp.tlvs.message_payload.filter;

function emit(event) {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function hex(v) {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (v === undefined || v === null) return undefined;
  return Buffer.from(String(v), 'latin1').toString('hex');
}

// The fields the tests look at, with octets in hex.
function describe(pdu) {
  const out = {command: pdu.command, status: pdu.command_status, seq: pdu.sequence_number};
  for (const k of ['system_id', 'password', 'message_id', 'source_addr', 'destination_addr', 'source_addr_ton',
                   'source_addr_npi', 'dest_addr_ton', 'dest_addr_npi', 'esm_class', 'data_coding',
                   'registered_delivery', 'receipted_message_id', 'message_state', 'sar_msg_ref_num',
                   'sar_total_segments', 'sar_segment_seqnum', 'interface_version']) {
    if (pdu[k] !== undefined && pdu[k] !== null) out[k] = pdu[k];
  }
  if (pdu.short_message !== undefined) out.short_message = hex(pdu.short_message);
  if (pdu.message_payload !== undefined) out.message_payload = hex(pdu.message_payload);
  return out;
}

// Turns *_hex parameters of a command into Buffers.
function params(p) {
  const out = {};
  for (const [k, v] of Object.entries(p || {})) {
    if (k.endsWith('_hex')) out[k.slice(0, -4)] = Buffer.from(v, 'hex');
    else out[k] = v;
  }
  return out;
}

function commands(handler) {
  const rl = readline.createInterface({input: process.stdin});
  rl.on('line', (line) => {
    if (!line.trim()) return;
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      emit({ev: 'bad_command', line});
      return;
    }
    try {
      handler(c);
    } catch (e) {
      emit({ev: 'command_failed', cmd: c.cmd, message: String(e && e.message || e)});
    }
  });
  rl.on('close', () => process.exit(0));
}

module.exports = {smpp, emit, hex, describe, params, commands};
