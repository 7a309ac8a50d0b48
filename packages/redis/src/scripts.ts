/**
 * The Lua scripts of a fleet. Each touches keys of one hash tag only (cluster-safe), and numbers are
 * passed and stored as the decimal strings the caller sent (Lua's own number formatting would round
 * epoch milliseconds); `tonumber` is used for comparisons only.
 *
 * @internal
 * @module
 */

/**
 * Publishes a notice with the next sequence number. KEYS[1]: the sequence key. ARGV[1]: channel,
 * ARGV[2]: the notice JSON up to (and including) the comma before `"n":`. Returns the number.
 */
export const PUBLISH_SCRIPT = `local n = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '"n":' .. n .. '}')
return n`;

/** Sets a fence key. KEYS[1]: fence key. ARGV[1]: TTL in ms. */
export const FENCE_SET_SCRIPT = `return redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[1])`;

/** Removes a fence key. KEYS[1]: fence key. */
export const FENCE_DEL_SCRIPT = `return redis.call('DEL', KEYS[1])`;

/** Remaining TTL of a fence key in ms (negative when there is none). KEYS[1]: fence key. */
export const FENCE_TTL_SCRIPT = `return redis.call('PTTL', KEYS[1])`;

/**
 * Adds one instance's usage of one secret to the ledger, and returns the remaining TTL of the secret's
 * fence key (negative without one): an instance that started during a fence, or missed its notice,
 * learns it with its next flush.
 *
 * KEYS[1]: the ledger hash of the secret; KEYS[2]: its fence key; KEYS[3..]: its minute hashes (one per
 * key and hour touched).
 * ARGV: now, ledger TTL (s), minute TTL (s), number of keys D, then 7 per key (key id, role, matches,
 * last match or '', window start or '', window end or '', last seen), then the number of minute
 * counts M and 3 per count (index into KEYS, minute of the hour 0–59, count).
 *
 * Per key id `K` the hash holds `m:K` (matches, summed), `l:K` (last match, the largest), `b:K` (when
 * counting began, the first report), `s:K`/`r:K`/`nb:K`/`na:K` (last seen, and the role and window
 * reported with the latest last-seen time); `since` is when counting of the secret began.
 */
export const FLUSH_SCRIPT = `local h = KEYS[1]
local now = ARGV[1]
redis.call('HSETNX', h, 'since', now)
local d = tonumber(ARGV[4])
local i = 5
for _ = 1, d do
  local id, role, m, lm, nb, na, seen = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  i = i + 7
  redis.call('HSETNX', h, 'b:' .. id, now)
  if m > 0 then redis.call('HINCRBY', h, 'm:' .. id, m) end
  if lm ~= '' then
    local cur = redis.call('HGET', h, 'l:' .. id)
    if (not cur) or tonumber(lm) > tonumber(cur) then redis.call('HSET', h, 'l:' .. id, lm) end
  end
  local cs = redis.call('HGET', h, 's:' .. id)
  if (not cs) or tonumber(seen) >= tonumber(cs) then
    redis.call('HSET', h, 's:' .. id, seen, 'r:' .. id, role, 'nb:' .. id, nb, 'na:' .. id, na)
  end
end
redis.call('EXPIRE', h, ARGV[2])
local c = tonumber(ARGV[i])
i = i + 1
for _ = 1, c do
  local k = KEYS[tonumber(ARGV[i])]
  redis.call('HINCRBY', k, ARGV[i + 1], ARGV[i + 2])
  redis.call('EXPIRE', k, ARGV[3])
  i = i + 3
end
return redis.call('PTTL', KEYS[2])`;

/**
 * Records an instance's report in the registry and returns the notice sequence number.
 * KEYS[1]: registry hash, KEYS[2]: sequence key. ARGV[1]: instance id, ARGV[2]:
 * `<time>|<mode>|<staleAfterMs>|<instanceTimeoutMs>` (each instance says when it counts as missing, and gone),
 * ARGV[3]: end of an evidence gap this instance caused (counts it had to drop), or ''.
 */
export const REPORT_SCRIPT = `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  local g = redis.call('HGET', KEYS[1], '~gap')
  if (not g) or tonumber(ARGV[3]) > tonumber(g) then redis.call('HSET', KEYS[1], '~gap', ARGV[3]) end
end
return redis.call('GET', KEYS[2]) or '0'`;

/** An instance leaves cleanly. KEYS[1]: registry hash. ARGV[1]: instance id. */
export const LEAVE_SCRIPT = `return redis.call('HDEL', KEYS[1], ARGV[1])`;

/**
 * Reads the registry, presuming gone the live instances silent for longer than their own timeout (the
 * 4th field of their entry, else ARGV[2]): each is removed and the evidence gap extended to its last
 * report + that timeout (the counts it may have lost lie before that). Drained entries older than
 * ARGV[3] are dropped. KEYS[1]: registry hash. ARGV[1]: now, ARGV[2]: default instance timeout (ms),
 * ARGV[3]: drained-entry lifetime (ms). Returns the remaining fields and values (HGETALL).
 */
export const REGISTRY_SCRIPT = `local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
for j = 1, #all, 2 do
  local f, v = all[j], all[j + 1]
  if string.sub(f, 1, 1) ~= '~' then
    local parts = {}
    for p in string.gmatch(v, '[^|]+') do parts[#parts + 1] = p end
    local t = tonumber(parts[1]) or 0
    local mode = parts[2] or 'l'
    local timeout = tonumber(parts[4] or '') or tonumber(ARGV[2])
    if mode == 'd' then
      if now - t > keep then redis.call('HDEL', KEYS[1], f) end
    elseif now - t > timeout then
      redis.call('HDEL', KEYS[1], f)
      local g = redis.call('HGET', KEYS[1], '~gap')
      local e = t + timeout
      if (not g) or e > tonumber(g) then redis.call('HSET', KEYS[1], '~gap', string.format('%d', e)) end
    end
  end
end
return redis.call('HGETALL', KEYS[1])`;

/** HGETALL of every key (one reply per key). KEYS: the hashes. */
export const READ_HASHES_SCRIPT = `local out = {}
for j = 1, #KEYS do out[j] = redis.call('HGETALL', KEYS[j]) end
return out`;
