// The stores' implementations, for the arguments stores.mjs has checked; loaded with the
// handler's (delivery.mjs) on a store's first call. Each is the store interface of
// webhook.d.ts: claim(id, token, leaseMs) → 'claimed' | 'done' | 'busy', done(id, ttlMs,
// object?), release(id, token), newest(objectId).

const ms = (n) => String(Math.max(1, Math.ceil(n)));

/**
 * memoryStore's: at most `max` events at a time. At the bound a new event's claim throws (the
 * handler answers 503 and the sender retries later, when older events have expired): an id is
 * never forgotten before its time to make room, which would let a replay of it run again.
 */
export function memory(max) {
  const done = new Map(); // id → until (ms)
  const claims = new Map(); // id → { token, until }
  const objects = new Map(); // object id → { createdAt, until }
  let soonest = Infinity; // no entry expires before this

  /** Forget what has expired: only when something can have (a full pass, at most once per expiry). */
  function sweep(now) {
    if (now < soonest) return;
    soonest = Infinity;
    for (const map of [done, claims, objects]) {
      for (const [k, v] of map) {
        const until = typeof v === 'number' ? v : v.until;
        if (until <= now) map.delete(k);
        else soonest = Math.min(soonest, until);
      }
    }
  }
  const expiring = (until) => {
    soonest = Math.min(soonest, until);
    return until;
  };

  return {
    async claim(id, token, leaseMs) {
      const now = Date.now();
      if ((done.get(id) ?? 0) > now) return 'done';
      if ((claims.get(id)?.until ?? 0) > now) return 'busy';
      if (done.size + claims.size >= max) {
        sweep(now);
        if (done.size + claims.size >= max) {
          throw new Error(`memoryStore: ${max} events are remembered and none has expired yet; raise max, or use a shared store`);
        }
      }
      claims.set(id, { token, until: expiring(now + leaseMs) });
      return 'claimed';
    },
    async done(id, ttlMs, object) {
      const now = Date.now();
      claims.delete(id);
      // Recorded even beyond max: a processed id is never dropped.
      done.set(id, expiring(now + ttlMs));
      const known = object && objects.get(object.id);
      if (object && !(known && known.until > now && known.createdAt >= object.createdAt)) {
        objects.set(object.id, { createdAt: object.createdAt, until: expiring(now + ttlMs) });
      }
    },
    async release(id, token) {
      if (claims.get(id)?.token === token) claims.delete(id);
    },
    async newest(objectId) {
      const o = objects.get(objectId);
      return o && o.until > Date.now() ? o.createdAt : undefined;
    },
  };
}

// Redis: one key per event (a claim's token while it runs, then "done") and per object (the
// newest createdAt), each with its expiry; every script touches one key (Redis Cluster works).
const CLAIM = `local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'claimed' end
if v == 'done' then return 'done' end
return 'busy'`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;
const NEWER = `local v = tonumber(redis.call('GET', KEYS[1]))
if not v or v < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0`;

/** redisStore's, for a node-redis or ioredis `client`; keys start with `prefix`. */
export function redis(client, prefix) {
  // ioredis (and its Cluster): call(...args); node-redis: sendCommand(args); a node-redis
  // cluster: sendCommand(key, isReadonly, args), the key choosing the node.
  const send = typeof client.call === 'function' ? (key, args) => client.call(...args)
    : 'masters' in client && 'slots' in client ? (key, args) => client.sendCommand(key, false, args)
      : (key, args) => client.sendCommand(args);
  const event = (id) => `${prefix}event:${id}`;
  const object = (id) => `${prefix}object:${id}`;
  /** One command or script on one key. */
  const on = (key, command, ...args) => send(key, command === 'EVAL' ? ['EVAL', args[0], '1', key, ...args.slice(1)] : [command, key, ...args]);
  return {
    claim: (id, token, leaseMs) => on(event(id), 'EVAL', CLAIM, token, ms(leaseMs)),
    async done(id, ttlMs, o) {
      await on(event(id), 'SET', 'done', 'PX', ms(ttlMs));
      if (o) await on(object(o.id), 'EVAL', NEWER, String(o.createdAt), ms(ttlMs));
    },
    async release(id, token) {
      await on(event(id), 'EVAL', RELEASE, token);
    },
    async newest(objectId) {
      const v = await on(object(objectId), 'GET');
      return v == null ? undefined : Number(v);
    },
  };
}

/**
 * d1Store's: two tables named from `table`, created on first use. D1 runs each statement alone
 * and in order, so a claim is atomic.
 */
export function d1(db, table) {
  const events = `${table}_events`;
  const objects = `${table}_objects`;
  let ready;
  const sql = (text, ...args) => db.prepare(text).bind(...args);
  const init = () => (ready ??= db.batch([
    sql(`CREATE TABLE IF NOT EXISTS ${events} (id TEXT PRIMARY KEY, token TEXT, done INTEGER NOT NULL, until INTEGER NOT NULL)`),
    sql(`CREATE INDEX IF NOT EXISTS ${events}_until ON ${events} (until)`),
    sql(`CREATE TABLE IF NOT EXISTS ${objects} (id TEXT PRIMARY KEY, created_at REAL NOT NULL, until INTEGER NOT NULL)`),
  ]).catch((e) => {
    ready = undefined;
    throw e;
  }));
  return {
    async claim(id, token, leaseMs) {
      await init();
      const now = Date.now();
      const won = await sql(`INSERT INTO ${events} (id, token, done, until) VALUES (?1, ?2, 0, ?3)
        ON CONFLICT (id) DO UPDATE SET token = excluded.token, done = 0, until = excluded.until WHERE ${events}.until <= ?4
        RETURNING token`, id, token, now + Math.ceil(leaseMs), now).first();
      if (won?.token === token) return 'claimed';
      const held = await sql(`SELECT done FROM ${events} WHERE id = ?1 AND until > ?2`, id, now).first();
      return held?.done ? 'done' : 'busy';
    },
    async done(id, ttlMs, o) {
      await init();
      const now = Date.now();
      const until = now + Math.ceil(ttlMs);
      await db.batch([
        sql(`INSERT INTO ${events} (id, token, done, until) VALUES (?1, NULL, 1, ?2)
          ON CONFLICT (id) DO UPDATE SET token = NULL, done = 1, until = excluded.until`, id, until),
        ...(o ? [sql(`INSERT INTO ${objects} (id, created_at, until) VALUES (?1, ?2, ?3)
          ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, until = excluded.until
          WHERE ${objects}.created_at < excluded.created_at OR ${objects}.until <= ?4`, o.id, o.createdAt, until, now)] : []),
        // What has expired goes, a few rows at a time.
        sql(`DELETE FROM ${events} WHERE rowid IN (SELECT rowid FROM ${events} WHERE until <= ?1 LIMIT 100)`, now),
        sql(`DELETE FROM ${objects} WHERE rowid IN (SELECT rowid FROM ${objects} WHERE until <= ?1 LIMIT 100)`, now),
      ]);
    },
    async release(id, token) {
      await init();
      await sql(`DELETE FROM ${events} WHERE id = ?1 AND token = ?2 AND done = 0`, id, token).run();
    },
    async newest(objectId) {
      await init();
      const row = await sql(`SELECT created_at FROM ${objects} WHERE id = ?1 AND until > ?2`, objectId, Date.now()).first();
      return row ? row.created_at : undefined;
    },
  };
}
