// Drives two real, unmodified @openim/client-sdk 0.0.14 instances (and one native imserver
// websocket client) against a running imserver. Prints "STEP <name> ok" per step and exits
// 0 when every step passed; any failure prints "FAIL ..." and exits 1.
//
// env: OPENIM_API (http://host:port/openim), OPENIM_WS (ws://host:port/openim/ws),
//      IM_BASE (http://host:port), IM_SECRET, IM_ADMIN (admin user id), DEBUG=1 for SDK logs.
import assert from 'node:assert/strict';
import { WebSocket as NodeWs } from 'ws';

const API = process.env.OPENIM_API;
const WS_ADDR = process.env.OPENIM_WS;
const BASE = process.env.IM_BASE;
const SECRET = process.env.IM_SECRET;
const ADMIN = process.env.IM_ADMIN || 'imAdmin';
const LOG_LEVEL = process.env.DEBUG ? 1 : 5;
const RUN = process.env.RUN_ID || Date.now().toString(36);
const A = `alice${RUN}`;
const B = `bob${RUN}`;
const C = `carol${RUN}`;

// The SDK needs a global WebSocket delivering binary frames as ArrayBuffer (Node 20 has none).
const sockets = [];
class SdkWebSocket extends NodeWs {
  constructor(url, protocols) {
    super(url, protocols);
    this.binaryType = 'arraybuffer';
    this.userID = new URL(url).searchParams.get('sendID');
    this.pongs = 0;
    this.on('message', (data, isBinary) => {
      if (!isBinary && String(data).includes('"pong"')) this.pongs += 1;
    });
    sockets.push(this);
  }
}
globalThis.WebSocket = SdkWebSocket;

const unhandled = [];
process.on('unhandledRejection', (reason) => { unhandled.push(String(reason?.stack || reason)); });

// lib/index.modern.mjs: the untranspiled bundle (the transpiled ones break the reconnect gap sync)
const { getSDK, CbEvents } = await import('./node_modules/@openim/client-sdk/lib/index.modern.mjs');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let opSeq = 0;

async function post(path, body, token) {
  const headers = { 'Content-Type': 'application/json', operationID: `drv${++opSeq}` };
  if (token) headers.token = token;
  const resp = await fetch(API + path, { method: 'POST', headers, body: JSON.stringify(body) });
  assert.equal(resp.status, 200, `${path}: HTTP ${resp.status}`);
  const env = await resp.json();
  assert.equal(env.errCode, 0, `${path}: ${JSON.stringify(env)}`);
  return env.data;
}

function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

class Client {
  constructor(userID) {
    this.userID = userID;
    this.sdk = getSDK();
    this.events = [];
    this.waiters = [];
    this.messages = [];
    for (const name of Object.values(CbEvents)) {
      this.sdk.on(name, (ev) => this.record(name, ev));
    }
  }

  record(name, ev) {
    this.events.push({ name, data: ev?.data });
    if (name === CbEvents.OnRecvNewMessages) this.messages.push(...(ev.data || []));
    for (const w of [...this.waiters]) {
      if (w.test()) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(); }
    }
  }

  waitUntil(test, what, ms = 15000) {
    if (test()) return Promise.resolve();
    return within(new Promise((resolve) => this.waiters.push({ test, resolve })), ms, `${this.userID}: ${what}`);
  }

  async waitEvent(name, ms = 15000, since = 0) {
    await this.waitUntil(() => this.events.slice(since).some((e) => e.name === name), name, ms);
    return this.events.slice(since).find((e) => e.name === name);
  }

  async waitMessage(pred, what, ms = 15000) {
    await this.waitUntil(() => this.messages.some(pred), what, ms);
    return this.messages.find(pred);
  }

  async login(token) {
    const since = this.events.length;
    await within(this.sdk.login({ userID: this.userID, token, platformID: 5, apiAddr: API, wsAddr: WS_ADDR,
      logLevel: LOG_LEVEL }), 10000, `${this.userID} login`);
    await this.waitEvent(CbEvents.OnConnectSuccess, 10000, since);
    await this.waitUntil(() => this.events.slice(since).some((e) => e.name === CbEvents.OnSyncServerFinish
      || e.name === CbEvents.OnSyncServerFailed), 'sync', 15000);
    assert.ok(!this.events.slice(since).some((e) => e.name === CbEvents.OnSyncServerFailed),
      `${this.userID}: initial sync failed`);
  }

  async sendText(text, { recvID = '', groupID = '' }) {
    const { data: message } = await this.sdk.createTextMessage(text);
    const { data: sent } = await within(this.sdk.sendMessage({ recvID, groupID, message }), 10000, `send ${text}`);
    assert.ok(sent.serverMsgID, 'the sent message has a serverMsgID');
    assert.ok(sent.sendTime > 0, 'the sent message has a sendTime');
    return sent;
  }

  socket() {
    return sockets.filter((s) => s.userID === this.userID && s.readyState === NodeWs.OPEN).at(-1);
  }
}

const text = (m) => m.textElem?.content;

function step(name) {
  console.log(`STEP ${name} ok`);
}

async function main() {
  // --- app backend bootstrap: admin token, register, user tokens
  const { token: adminToken } = await post('/auth/get_admin_token', { secret: SECRET, userID: ADMIN });
  await post('/user/user_register', { users: [
    { userID: A, nickname: 'Alice', faceURL: '' },
    { userID: B, nickname: 'Bob', faceURL: '' },
    { userID: C, nickname: 'Carol', faceURL: '' },
  ] }, adminToken);
  const tok = {};
  for (const u of [A, B]) {
    tok[u] = (await post('/auth/get_user_token', { platformID: 5, userID: u }, adminToken)).token;
  }
  step('bootstrap');

  // --- login both, initial sync
  const alice = new Client(A);
  const bob = new Client(B);
  await alice.login(tok[A]);
  await bob.login(tok[B]);
  const self = await alice.sdk.getSelfUserInfo();
  assert.equal(self.data.nickname, 'Alice');
  step('login and initial sync');

  // --- heartbeat: pings are answered, and the SDK's 10 s check keeps the socket
  const aliceSock = alice.socket();
  const eventsBefore = alice.events.length;
  await alice.sdk.getLoginStatus();
  await alice.waitUntil(() => aliceSock.pongs > 0, 'first pong', 5000).catch(async () => {
    await sleep(500);
    assert.ok(aliceSock.pongs > 0, 'a pong arrived');
  });
  await sleep(12000);
  assert.ok(aliceSock.pongs >= 2, `pongs after 12 s: ${aliceSock.pongs}`);
  assert.equal(aliceSock.readyState, NodeWs.OPEN, 'the socket is still open');
  assert.ok(!alice.events.slice(eventsBefore).some((e) => e.name === CbEvents.OnConnecting),
    `no reconnect: ${alice.events.slice(eventsBefore).map((e) => e.name)}`);
  step('heartbeat');

  // --- 1:1 text both ways, in real time
  await alice.sendText('hello bob', { recvID: B });
  const got = await bob.waitMessage((m) => text(m) === 'hello bob', 'hello bob');
  assert.equal(got.sendID, A);
  assert.equal(got.sessionType, 1);
  assert.equal(got.senderNickname, 'Alice');
  await bob.sendText('hello alice', { recvID: A });
  const back = await alice.waitMessage((m) => text(m) === 'hello alice', 'hello alice');
  assert.equal(back.sendID, B);
  step('1:1 both ways');

  // --- mark as read (persisted on the server)
  const cid = `si_${A}_${B}`;
  await bob.sendText('one more', { recvID: A });
  await alice.waitMessage((m) => text(m) === 'one more', 'one more');
  await within(alice.sdk.markConversationMessageAsRead(cid), 10000, 'mark as read');
  const seqs = await post('/msg/get_conversations_has_read_and_max_seq', { userID: A, conversationIDs: [cid] },
    tok[A]);
  assert.equal(seqs.seqs[cid].hasReadSeq, seqs.seqs[cid].maxSeq, JSON.stringify(seqs));
  step('mark as read');

  // --- offline: messages sent while bob is logged out arrive at his next login, with the unread count
  await bob.sdk.logout();
  await alice.sendText('offline 1', { recvID: B });
  await alice.sendText('offline 2', { recvID: B });
  const bob2 = new Client(B);
  await bob2.login(tok[B]);
  const { data: list } = await bob2.sdk.getConversationListSplit({ offset: 0, count: 20 });
  const conv = list.find((c) => c.conversationID === cid);
  assert.ok(conv, 'the conversation is listed');
  // bob's own 'one more' (seq 3) marked everything before it read for him: 'offline 1' and 'offline 2' are unread
  assert.equal(conv.unreadCount, 2, `unread: ${JSON.stringify(conv)}`);
  assert.equal(text(JSON.parse(conv.latestMsg)), 'offline 2');
  const { data: total } = await bob2.sdk.getTotalUnreadMsgCount();
  assert.equal(total, 2);
  const { data: history } = await within(bob2.sdk.getAdvancedHistoryMessageList({ conversationID: cid, count: 20,
    startClientMsgID: '' }), 10000, 'history');
  const texts = history.messageList.map(text);
  for (const t of ['hello bob', 'hello alice', 'one more', 'offline 1', 'offline 2']) assert.ok(texts.includes(t), t);
  step('offline messages and unread count at next login');

  // --- a dropped connection catches up on reconnect
  const sock = bob2.socket();
  const bobBefore = bob2.events.length;
  const closed = new Promise((r) => sock.once('close', r));
  sock.terminate();
  await closed;
  await alice.sendText('while you were away', { recvID: B });
  const caught = await bob2.waitMessage((m) => text(m) === 'while you were away', 'gap sync', 30000);
  assert.equal(caught.sendID, A);
  assert.ok(bob2.events.slice(bobBefore).some((e) => e.name === CbEvents.OnConnecting), 'the SDK reconnected');
  assert.notEqual(bob2.socket(), sock, 'a new socket');
  step('dropped connection catches up on reconnect');

  // --- a group created by alice, a group message received by bob
  const { data: group } = await alice.sdk.createGroup({ memberUserIDs: [B],
    groupInfo: { groupName: 'team', groupType: 2 } });
  assert.ok(group.groupID, 'the group has an id');
  await bob2.waitUntil(() => bob2.events.some((e) => e.name === CbEvents.OnJoinedGroupAdded
    && e.data?.groupID === group.groupID), 'OnJoinedGroupAdded', 15000);
  await alice.sendText('hello team', { groupID: group.groupID });
  const gmsg = await bob2.waitMessage((m) => m.groupID === group.groupID && text(m) === 'hello team', 'group message');
  assert.equal(gmsg.sessionType, 3);
  assert.equal(gmsg.sendID, A);
  await alice.sdk.inviteUserToGroup({ groupID: group.groupID, reason: '', userIDList: [C] });
  await bob2.waitUntil(() => bob2.events.some((e) => e.name === CbEvents.OnGroupMemberAdded
    && e.data?.userID === C), 'OnGroupMemberAdded', 15000);
  step('group created (OnJoinedGroupAdded), group message received, member invited (OnGroupMemberAdded)');

  // --- friends: an application reaches bob as an event, his acceptance reaches alice as a new friend
  await alice.sdk.addFriend({ toUserID: B, reqMsg: 'be my friend' });
  const applied = await bob2.waitEvent(CbEvents.OnFriendApplicationAdded, 15000);
  assert.equal(applied.data.fromUserID, A);
  assert.equal(applied.data.reqMsg, 'be my friend');
  await bob2.sdk.acceptFriendApplication({ toUserID: A, handleMsg: 'ok' });
  // the acceptor's SDK re-syncs its friends and raises OnFriendAdded; the applicant's raises
  // OnFriendApplicationAccepted (0.0.14 never runs its own friend re-sync for that notification)
  const added = await bob2.waitEvent(CbEvents.OnFriendAdded, 15000);
  assert.equal(added.data.userID, A, JSON.stringify(added.data));
  const accepted = await alice.waitEvent(CbEvents.OnFriendApplicationAccepted, 15000);
  assert.equal(accepted.data.toUserID, B, JSON.stringify(accepted.data));
  const { data: friends } = await alice.sdk.getFriendListPage({ offset: 0, count: 20 });
  assert.deepEqual(friends.map((f) => f.userID), [B]);
  step('friend application and acceptance raise friend events');

  // --- a native-API user and an OpenIM-SDK user chat with each other
  const nativeAdmin = await (await fetch(`${BASE}/api/v1/auth/admin-token`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ secret: SECRET, user_id: ADMIN }) })).json();
  const carolTok = await (await fetch(`${BASE}/api/v1/auth/user-token`, { method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${nativeAdmin.token}` },
    body: JSON.stringify({ user_id: C, platform_id: 1 }) })).json();
  assert.ok(carolTok.token, JSON.stringify(carolTok));
  const carol = new NodeWs(`${BASE.replace('http', 'ws')}/ws/?token=${carolTok.token}&platform_id=1`);
  const carolFrames = [];
  carol.on('message', (d) => carolFrames.push(JSON.parse(String(d))));
  await within(new Promise((r) => carol.once('open', r)), 5000, 'native connect');
  const waitFrame = (pred, what) => within((async () => {
    for (;;) { const f = carolFrames.find(pred); if (f) return f; await sleep(50); }
  })(), 15000, what);
  await waitFrame((f) => f.op === 'connected', 'native connected');
  carol.send(JSON.stringify({ id: 'c1', op: 'msg.send', data: { client_msg_id: 'carol-1', session_type: 1,
    recv_id: A, content_type: 101, content: { content: 'hi from native' } } }));
  const ack = await waitFrame((f) => f.id === 'c1', 'native ack');
  assert.equal(ack.code, 0, JSON.stringify(ack));
  const fromNative = await alice.waitMessage((m) => text(m) === 'hi from native', 'native to sdk');
  assert.equal(fromNative.sendID, C);
  await alice.sendText('hi from openim', { recvID: C });
  const toNative = await waitFrame((f) => f.op === 'push.msg' && f.data?.content?.content === 'hi from openim',
    'sdk to native');
  assert.equal(toNative.data.send_id, A);
  assert.equal(toNative.data.conversation_id, `si_${A}_${C}`);
  carol.close();
  step('native user and OpenIM SDK user chat');

  // --- force logout is reported to the SDK as kicked
  await post('/auth/force_logout', { platformID: 5, userID: B }, adminToken);
  await bob2.waitEvent(CbEvents.OnKickedOffline, 10000);
  step('force logout reported as kicked');

  await alice.sdk.logout();
  if (unhandled.length) console.log(`NOTE unhandled rejections inside the SDK: ${unhandled.length}\n${unhandled.join('\n')}`);
  console.log('ALL OK');
}

const deadline = setTimeout(() => { console.log('FAIL overall timeout'); process.exit(1); }, 220000);
main().then(() => { clearTimeout(deadline); process.exit(0); }).catch((err) => {
  console.log(`FAIL ${err?.stack || JSON.stringify(err)}`);
  if (unhandled.length) console.log(`unhandled: ${unhandled.join('\n')}`);
  process.exit(1);
});
