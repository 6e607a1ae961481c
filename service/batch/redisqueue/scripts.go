package redisqueue

import "github.com/redis/go-redis/v9"

// The scripts that change an entry check first, atomically, that this
// queue's consumer still holds it: a holder whose lease ran out while it
// stalled must not mark, ack or release a chunk another replica now runs
// (its Done would delete the other's "sending" marker, and the next
// claimer would resend blind).
//
// KEYS[1] the stream, KEYS[2] the markers hash; ARGV[1] the group,
// ARGV[2] the consumer, ARGV[3...] entry ids.
const holdsLua = `
local function holds(id)
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  return #p == 1 and p[1][2] == ARGV[2]
end
`

// markScript records that the chunk may be sent, and renews its lease.
// It returns 1, or 0 when the lease was lost.
var markScript = redis.NewScript(holdsLua + `
if not holds(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
`)

// doneScript acks and deletes the entry and forgets its marker. It returns
// 1, or 0 when the lease was lost.
var doneScript = redis.NewScript(holdsLua + `
if not holds(ARGV[3]) then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
`)

// releaseScript backdates the entry's delivery (ARGV[4], ms) so that it
// counts as idle past any lease: the next XAUTOCLAIM, by any replica,
// takes it. Its marker is kept. It returns 1, or 0 when the lease was
// lost.
var releaseScript = redis.NewScript(holdsLua + `
if not holds(ARGV[3]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1
`)

// renewScript resets the idle time of every entry in ARGV[3...] this
// consumer still holds, and returns the ids it no longer holds.
var renewScript = redis.NewScript(holdsLua + `
local lost = {}
for i = 3, #ARGV do
  if holds(ARGV[i]) then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`)

// sweepScript deletes the group's consumers that hold nothing and were
// idle longer than ARGV[2] ms (replicas gone; a live one that is deleted
// is made again by its next read). A consumer holding entries is never
// deleted: XGROUP DELCONSUMER would drop its pending entries. Returns how
// many were deleted.
var sweepScript = redis.NewScript(`
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    n = n + 1
  end
end
return n
`)

// leaveScript deletes this queue's consumer (ARGV[2]) if it holds
// nothing, at Close.
var leaveScript = redis.NewScript(`
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return 0
`)
