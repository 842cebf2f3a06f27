// An ESME on the npm smpp package, binding to cpmgw's SMPP server. Commands (stdin, one JSON per line):
//   {"cmd":"connect","id":"a","port":2775,"tls":false}      -> connected | error | close
//   {"cmd":"bind","id":"a","type":"transceiver","system_id":"x","password":"y"}   -> bind_resp
//   {"cmd":"submit","id":"a","tag":"t","params":{...,"short_message_hex":"..."}}  -> submit_sm_resp
//   {"cmd":"flood","id":"a","tag":"t","count":N,"window":W,"params":{...}}         -> flood_done {statuses}
//   {"cmd":"enquire","id":"a","tag":"t"}  {"cmd":"unbind","id":"a"}  {"cmd":"raw","id":"a","hex":"..."}
//   {"cmd":"hold","id":"a","on":true} (stop answering deliver_sm)   {"cmd":"close","id":"a"}
// Events: every PDU received as {"ev":"pdu",...}, deliver_sm as {"ev":"deliver_sm",...} (answered unless held).
'use strict';
const {smpp, emit, describe, params, commands} = require('./common');

const sessions = {};
const held = {};

function session(id) {
  const s = sessions[id];
  if (!s) throw new Error('no session ' + id);
  return s;
}

commands((c) => {
  switch (c.cmd) {
    case 'connect': {
      const s = smpp.connect({host: c.host || '127.0.0.1', port: c.port, tls: !!c.tls, rejectUnauthorized: false});
      sessions[c.id] = s;
      s.on(c.tls ? 'secureConnect' : 'connect', () => emit({ev: 'connected', id: c.id}));
      s.on('error', (e) => emit({ev: 'error', id: c.id, message: String(e && e.message || e)}));
      s.on('close', () => emit({ev: 'close', id: c.id}));
      s.on('pdu', (pdu) => {
        emit(Object.assign({ev: 'pdu', id: c.id}, describe(pdu)));
        if (pdu.command === 'deliver_sm') {
          emit(Object.assign({ev: 'deliver_sm', id: c.id}, describe(pdu)));
          if (!held[c.id]) s.send(pdu.response());
        } else if (pdu.command === 'enquire_link' || pdu.command === 'unbind') {
          s.send(pdu.response());
        }
      });
      break;
    }
    case 'bind': {
      const s = session(c.id);
      s['bind_' + c.type]({system_id: c.system_id, password: c.password}, (pdu) =>
        emit({ev: 'bind_resp', id: c.id, tag: c.tag, status: pdu.command_status, system_id: pdu.system_id}));
      break;
    }
    case 'submit': {
      session(c.id).submit_sm(params(c.params), (pdu) =>
        emit({ev: 'submit_sm_resp', id: c.id, tag: c.tag, status: pdu.command_status, message_id: pdu.message_id}));
      break;
    }
    case 'flood': {
      const s = session(c.id);
      const statuses = {};
      let sent = 0, done = 0;
      const next = () => {
        while (sent < c.count && sent - done < (c.window || 1)) {
          sent++;
          s.submit_sm(params(c.params), (pdu) => {
            statuses[pdu.command_status] = (statuses[pdu.command_status] || 0) + 1;
            done++;
            if (done === c.count) emit({ev: 'flood_done', id: c.id, tag: c.tag, statuses});
            else next();
          });
        }
      };
      next();
      break;
    }
    case 'enquire':
      session(c.id).enquire_link({}, (pdu) => emit({ev: 'enquire_link_resp', id: c.id, tag: c.tag, status: pdu.command_status}));
      break;
    case 'unbind':
      session(c.id).unbind({}, (pdu) => emit({ev: 'unbind_resp', id: c.id, status: pdu.command_status}));
      break;
    case 'raw':
      session(c.id).socket.write(Buffer.from(c.hex, 'hex'));
      break;
    case 'hold':
      held[c.id] = !!c.on;
      break;
    case 'close':
      session(c.id).destroy();
      break;
    default:
      emit({ev: 'unknown_command', cmd: c.cmd});
  }
});
emit({ev: 'ready'});
