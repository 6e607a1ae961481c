package redisbudget

import "github.com/redis/go-redis/v9"

// takeScript admits one attempt, atomically over the fleet. It is
// admission.Budget's rule with the in-flight count of every replica: with
// the reported window live, at most Remaining attempts are in flight
// (Remaining is the lowest report of the window, and an attempt counts
// until its answer is reported: conservative, never over); with pacing, an
// unknown or ended window is probed by one attempt at a time, and a live
// one is spread over the time to its reset by GCRA (the theoretical
// arrival time 'tat'), in bursts of at most burst.
//
// The classes (admission.Class) as admission.Budget orders them, with every
// replica's waiters: an interactive attempt that is not admitted, or is
// admitted after a paced wait, is a member of the waiting set until an
// expiry (its next look plus the waiter TTL, which it renews each time it
// looks: a replica that dies stops renewing; or the end of its paced wait).
// A batch attempt while that set is empty takes only a turn free now (it
// never reserves one ahead of interactive attempts yet to come); while it is
// not, only on credit: each interactive admission while batch attempts
// wait ('bwait', renewed as the waiting set) earns gain, up to ceiling, and
// each batch admission spends 1.
//
// KEYS: the state hash, the in-flight sorted set (member → expiry ms), the
// interactive waiting set (waiter → expiry ms).
// ARGV: now ms, member, lease ms, burst, deadline ms (0: none), key TTL ms,
// class (0 interactive, 1 batch), waiter, gain, ceiling, waiter TTL ms.
// Returns {code, ms, remaining (-1: unknown), reset ms, limit}: code 1
// admitted after ms of pacing; 0 not now (ms: when to look again at the
// latest, 0: look again soon); 2 spent until after the deadline (ms: retry
// after).
var takeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[4])
local deadline = tonumber(ARGV[5])
local batch = ARGV[7] == '1'
local waiter = ARGV[8]
local gain, ceiling, wttl = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local inflight = redis.call('ZCARD', KEYS[2])
local h = redis.call('HMGET', KEYS[1], 'rem', 'reset', 'limit', 'answered', 'tat', 'credit', 'bwait')
local rem, reset, limit = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]) or 0
local answered = h[4] == '1'
local tat = tonumber(h[5]) or 0
local credit = tonumber(h[6]) or 0
local bwait = tonumber(h[7]) or 0
local known = rem ~= nil and reset ~= nil
local live = known and reset > now
local function out(code, ms)
  return {code, math.floor(ms), rem or -1, reset or 0, limit}
end
local function keep()
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
local function wait(ms)
  if batch then
    redis.call('HSET', KEYS[1], 'bwait', now + wttl)
  else
    redis.call('ZADD', KEYS[3], now + wttl, waiter)
  end
  keep()
  return out(0, ms)
end
local function spent(ms)
  if not batch then redis.call('ZREM', KEYS[3], waiter) end
  return out(2, ms)
end
if live then
  if rem - inflight <= 0 then
    if rem <= 0 then
      if deadline > 0 and deadline < reset then return spent(reset - now) end
      return wait(reset - now)
    end
    return wait(0)
  end
elseif burst > 0 and not ((not known) and answered) then
  if inflight > 0 then return wait(0) end
end
local free = false
if batch then
  if redis.call('ZCARD', KEYS[3]) == 0 then
    free = true
  elseif credit < 1 - 1e-9 then
    return wait(0)
  end
end
local delay = 0
if burst > 0 and live then
  local T = (reset - now) / (rem - inflight)
  local t = math.max(tat, now)
  delay = math.min(math.max(t + T - burst * T - now, 0), reset - now)
  if delay > 0 and deadline > 0 and now + delay > deadline then return spent(delay) end
  if free and delay > 0 then return wait(delay) end
  redis.call('HSET', KEYS[1], 'tat', tostring(t + T))
end
if batch then
  redis.call('HSET', KEYS[1], 'credit', tostring(math.max(credit - 1, 0)))
else
  if gain > 0 and bwait > now then
    redis.call('HSET', KEYS[1], 'credit', tostring(math.min(credit + gain, ceiling)))
  end
  if delay > 0 then
    redis.call('ZADD', KEYS[3], now + delay, waiter)
  else
    redis.call('ZREM', KEYS[3], waiter)
  end
end
redis.call('ZADD', KEYS[2], now + delay + tonumber(ARGV[3]), ARGV[2])
keep()
return out(1, delay)
`)

// releaseScript ends an attempt with what its response reported. Reports
// of one window keep the lowest Remaining (responses arrive out of order);
// a later window replaces it and restarts pacing; a late report of an
// earlier window is ignored.
//
// KEYS: as takeScript. ARGV: member, reported (1/0), limit, remaining,
// reset ms, answered (1/0), key TTL ms, now ms.
var releaseScript = redis.NewScript(`
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'answered', '1') end
if ARGV[2] == '1' then
  local h = redis.call('HMGET', KEYS[1], 'rem', 'reset')
  local rem, reset = tonumber(ARGV[4]), tonumber(ARGV[5])
  local crem, creset = tonumber(h[1]), tonumber(h[2])
  local keep = true
  if creset ~= nil and reset == creset then
    rem = math.min(rem, crem)
  elseif creset ~= nil and reset < creset then
    keep = false
  else
    redis.call('HSET', KEYS[1], 'tat', ARGV[8])
  end
  if keep then redis.call('HSET', KEYS[1], 'rem', rem, 'reset', reset, 'limit', ARGV[3]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1
`)

// cancelScript gives back an admitted attempt that will not be sent (its
// caller gave up during its paced wait), or ends an interactive attempt's
// wait. KEYS: as takeScript. ARGV: member (empty: none), waiter.
var cancelScript = redis.NewScript(`
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[2], ARGV[1]) end
return redis.call('ZREM', KEYS[3], ARGV[2])
`)
