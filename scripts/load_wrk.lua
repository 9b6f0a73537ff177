-- wrk script for scripts/load.sh: rotates through a list of request paths, one user per
-- connection, counts every response by status, and writes a JSON summary.
--
-- Run wrk with as many threads as connections (-t N -c N): wrk gives its Lua no handle on a
-- connection, so a thread with one connection is how each connection gets a user of its own.
--
-- Environment:
--   LOAD_PATHS        file with one GET path per line (rotated; each thread starts elsewhere)
--   LOAD_AUTH         bearer | cookie | none
--   LOAD_CREDS        file with one API token (bearer) or rk_session value (cookie) per line
--   LOAD_CRED_OFFSET  the first credential line this wrk uses (0-based; default 0), so that
--                     several wrk processes at once act as distinct users
--   LOAD_CRED_COUNT   how many credentials to use from the offset (default: all); 1 = one user
--   LOAD_OUT          where to write the JSON summary
--   LOAD_SEED         seed for each thread's starting point (default 1)
--   LOAD_THINK_MS     a user's think time before each request, ± 50% at random (default 0:
--                     closed loop, each user sends its next request as soon as one is answered)

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end

function init(args)
  paths = lines(os.getenv("LOAD_PATHS"))
  local auth = os.getenv("LOAD_AUTH") or "none"
  headers = {}
  user = 0
  if auth ~= "none" then
    local creds = lines(os.getenv("LOAD_CREDS"))
    local offset = tonumber(os.getenv("LOAD_CRED_OFFSET") or "0")
    local n = tonumber(os.getenv("LOAD_CRED_COUNT") or "0")
    if n <= 0 then n = #creds - offset end
    user = offset + (id - 1) % n + 1
    local secret = creds[user]
    if auth == "bearer" then
      headers["Authorization"] = "Bearer " .. secret
    else
      headers["Cookie"] = "rk_session=" .. secret
    end
  end
  math.randomseed(tonumber(os.getenv("LOAD_SEED") or "1") * 7919 + id)
  idx = math.random(#paths)
  statuses = {}
end

think = tonumber(os.getenv("LOAD_THINK_MS") or "0")

function delay()
  if think <= 0 then return 0 end
  return math.floor(think * (0.5 + math.random()))
end

function request()
  idx = idx % #paths + 1
  return wrk.format("GET", paths[idx], headers)
end

function response(status, hdrs, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local agg, users = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do agg[k] = (agg[k] or 0) + v end
    users[t:get("user")] = true
  end
  local nusers = 0
  for _ in pairs(users) do nusers = nusers + 1 end
  local parts = {}
  for k, v in pairs(agg) do parts[#parts + 1] = string.format('"%s": %d', k, v) end
  local e = summary.errors
  local out = io.open(os.getenv("LOAD_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_s": %.3f, "bytes": %d, "connections": %d, "users": %d, ' ..
    '"think_ms": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, count, nusers, think,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", ")))
  out:close()
end
