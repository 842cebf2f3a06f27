// An SMSC on the npm smpp package, for cpmgw's client binds. Commands (stdin, one JSON per line):
//   {"cmd":"listen","port":0,"system_id":"cpmgw","password":"secret","tls":false,"key":"key.pem","cert":"cert.pem"}
//        -> listening {port}
//   {"cmd":"mode","submit":"ok"|"throttle"|"hold"|"status","count":N,"status":S}   -> mode (once it applies)
//        ok answers every submit_sm; throttle answers the next N with ESME_RTHROTTLED; status answers the next N with
//        status S; hold answers nothing until "release" or "drop"
//   {"cmd":"release"}   answers the held submit_sm
//   {"cmd":"drop"}      closes every connection at once (held submits stay unanswered)
//   {"cmd":"deliver","tag":"t","params":{...}}                  -> deliver_sm_resp (MO towards cpmgw)
//   {"cmd":"dlr","tag":"t","message_id":"...","stat":"DELIVRD","tlvs":true,"text":true}   -> deliver_sm_resp
// Events: bind, submit_sm (with the message_id given), enquire_link, unbind, pdu, close.
'use strict';
const fs = require('fs');
const {smpp, emit, describe, params, commands} = require('./common');

let account = {system_id: 'cpmgw', password: 'secret'};
let mode = {submit: 'ok', count: 0, status: 0};
let nextId = 1000;
let sessionCount = 0;
const sessions = [];
const heldSubmits = [];

function answerSubmit(s, pdu) {
  let st = 0;
  if (mode.submit === 'hold') {
    heldSubmits.push({s, pdu});
    emit(Object.assign({ev: 'submit_sm', session: s.index, held: true}, describe(pdu)));
    return;
  }
  if ((mode.submit === 'throttle' || mode.submit === 'status') && mode.count > 0) {
    mode.count--;
    st = mode.submit === 'throttle' ? smpp.ESME_RTHROTTLED : mode.status;
    if (mode.count === 0) mode = {submit: 'ok', count: 0, status: 0};
  }
  const id = st === 0 ? String(nextId++) : undefined;
  emit(Object.assign({ev: 'submit_sm', session: s.index, answered: st, given_id: id}, describe(pdu)));
  s.send(pdu.response(st === 0 ? {message_id: id} : {command_status: st}));
}

function receiver() {
  return sessions.find((s) => s.bound && s.bound !== 'transmitter');
}

function dlrDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

commands((c) => {
  switch (c.cmd) {
    case 'listen': {
      account = {system_id: c.system_id || 'cpmgw', password: c.password || 'secret'};
      const options = c.tls ? {key: fs.readFileSync(c.key), cert: fs.readFileSync(c.cert)} : {};
      const server = smpp.createServer(options, (s) => {
        s.index = ++sessionCount;
        sessions.push(s);
        s.on('close', () => {
          sessions.splice(sessions.indexOf(s), 1);
          emit({ev: 'close', session: s.index});
        });
        s.on('error', () => {});
        s.on('pdu', (pdu) => emit(Object.assign({ev: 'pdu'}, describe(pdu))));
        for (const type of ['transmitter', 'receiver', 'transceiver']) {
          s.on('bind_' + type, (pdu) => {
            const ok = pdu.system_id === account.system_id && pdu.password === account.password;
            const st = ok ? 0 : smpp.ESME_RINVPASWD;
            emit({ev: 'bind', session: s.index, type, system_id: pdu.system_id, interface_version: pdu.interface_version,
                  status: st});
            s.send(pdu.response({command_status: st, system_id: 'npm-smsc'}));
            if (ok) s.bound = type;
          });
        }
        s.on('submit_sm', (pdu) => answerSubmit(s, pdu));
        s.on('enquire_link', (pdu) => {
          emit({ev: 'enquire_link', session: s.index});
          s.send(pdu.response());
        });
        s.on('unbind', (pdu) => {
          emit({ev: 'unbind', session: s.index});
          s.send(pdu.response());
          s.close();
        });
      });
      server.listen(c.port || 0, '127.0.0.1', () => emit({ev: 'listening', port: server.address().port}));
      break;
    }
    case 'mode':
      mode = {submit: c.submit, count: c.count || 0, status: c.status || 0};
      emit({ev: 'mode', submit: mode.submit});
      break;
    case 'release': {
      mode = {submit: 'ok', count: 0, status: 0};
      for (const {s, pdu} of heldSubmits.splice(0)) answerSubmit(s, pdu);
      break;
    }
    case 'drop':
      heldSubmits.splice(0);
      for (const s of sessions.slice()) s.destroy();
      break;
    case 'deliver': {
      const s = receiver();
      if (!s) {
        emit({ev: 'deliver_sm_resp', tag: c.tag, status: -1, message: 'no receiver bound'});
        break;
      }
      s.deliver_sm(params(c.params), (pdu) => emit({ev: 'deliver_sm_resp', tag: c.tag, status: pdu.command_status}));
      break;
    }
    case 'dlr': {
      const s = receiver();
      if (!s) {
        emit({ev: 'deliver_sm_resp', tag: c.tag, status: -1, message: 'no receiver bound'});
        break;
      }
      const now = new Date();
      const text = 'id:' + c.message_id + ' sub:001 dlvrd:' + (c.stat === 'DELIVRD' ? '001' : '000') +
          ' submit date:' + dlrDate(now) + ' done date:' + dlrDate(now) + ' stat:' + c.stat + ' err:000 text:hello';
      const states = {DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8, ENROUTE: 1};
      const p = {source_addr: c.source_addr || '15550100', destination_addr: c.destination_addr || '15550199',
                 esm_class: 0x04, data_coding: 0, short_message: Buffer.from(c.text === false ? '' : text, 'latin1')};
      if (c.tlvs !== false) {
        p.receipted_message_id = c.message_id;
        p.message_state = states[c.stat] || 7;
      }
      s.deliver_sm(p, (pdu) => emit({ev: 'deliver_sm_resp', tag: c.tag, status: pdu.command_status}));
      break;
    }
    default:
      emit({ev: 'unknown_command', cmd: c.cmd});
  }
});
emit({ev: 'ready'});
