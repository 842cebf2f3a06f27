// The reference of bench/smpp_bench: a plain SMSC on the npm smpp package that accepts any bind and answers every
// submit_sm at once, storing nothing. Prints "listening PORT". Run with NODE_PATH=tests/integration/smpp/node_modules.
'use strict';
const smpp = require('smpp');

let nextId = 1;
const server = smpp.createServer((session) => {
  session.on('error', () => {});
  for (const type of ['transmitter', 'receiver', 'transceiver']) {
    session.on('bind_' + type, (pdu) => session.send(pdu.response({system_id: 'npm-smsc'})));
  }
  session.on('submit_sm', (pdu) => session.send(pdu.response({message_id: String(nextId++)})));
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
